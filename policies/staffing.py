"""Staffing policies: who is on duty (a roster of individual agents), and reserve agents called in at run time.

Every policy returns :class:`~sim.interfaces.AgentShifts` from ``roster(scenario)``. :class:`FixedStaffing` uses the
scenario's own headcounts per shift template; :class:`ScheduleCsvStaffing` reads an explicit schedule;
:class:`ErlangStaffing` sizes the headcounts from Erlang A; :class:`ReactiveOvertime` adds reserve agents that the
engine calls in when a queue crosses a threshold.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator

from sim.arrivals import expected_rates
from sim.config import WEEKDAYS, GeneratedArrivals, Scenario
from sim.erlang import staff_for_service_level
from sim.interfaces import AgentShifts, StaffingPolicy, SystemView
from sim.roster import day_zero_offset_s, template_roster
from sim.units import MODEL_CONFIG, DateTime, Duration, PositiveDuration, format_time_of_day, parse_duration

__all__ = ["ErlangStaffing", "FixedStaffing", "ReactiveOvertime", "ScheduleCsvStaffing"]

_DAY_S = 86400.0
_WEEK_S = 7 * _DAY_S


def _unknown(param: str, what: str, value: str, known: Sequence[str]) -> ValueError:
    return ValueError(f"params.{param}: unknown {what} {value!r}; known: {list(known)}")


# ----------------------------------------------------------------------------------------------------- fixed


class FixedStaffing(StaffingPolicy):
    """The scenario's own headcounts: ``groups.<g>.staffing`` agents per shift template, every working day.

    Rest days are staggered across each group's agents and absenteeism is applied by the engine (see
    :func:`sim.roster.template_roster`). Nothing changes at run time.
    """

    class Params(BaseModel):
        """No parameters."""

        model_config = MODEL_CONFIG

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def roster(self, scenario: Scenario) -> list[AgentShifts]:
        """The template roster of the scenario's ``staffing`` headcounts."""
        return template_roster(scenario)


# ------------------------------------------------------------------------------------------------ schedule csv


class ScheduleCsvStaffing(StaffingPolicy):
    """An explicit per-agent schedule read from a CSV file (one row per agent and on-duty block).

    Columns: ``agent`` (an id), ``group`` (a group name), ``start`` and ``end`` (ISO date-times such as
    ``2026-11-09T08:00``) and, optionally, ``breaks`` (``"2h/15min;4h/30min"``: offset from the block start /
    length, units required). Each distinct agent (in order of first appearance) becomes one roster entry with one
    block per row; ``day`` is the calendar day of the block start counted from the scenario start's date. Rows
    entirely outside ``[0, horizon)`` are dropped, and so are agents left with no block. The file is read and
    checked by :meth:`bind`; an error names the file, the row (the line in the file: the header is row 1) and the
    column.
    """

    class Params(BaseModel):
        """Parameters.

        Attributes:
            path: The CSV file, absolute or relative to the current directory (the scenario loader makes it
                relative to the scenario file).
        """

        model_config = MODEL_CONFIG
        path: str = Field(min_length=1)

    _REQUIRED = ("agent", "group", "start", "end")

    def __init__(self, params: Params) -> None:
        self.params = params

    def bind(self, scenario: Scenario) -> None:
        """Read and check the schedule (once), and build the roster of ``scenario``.

        Raises:
            ValueError: Missing file or column, an unparseable time, ``end <= start``, an unknown group, a bad
                break, or an agent listed under two groups.
        """
        if getattr(self, "rows_", None) is None:
            self.rows_ = self._read()
        self.roster_ = self._build(scenario)
        self.scenario_ = scenario

    def roster(self, scenario: Scenario) -> list[AgentShifts]:
        """One entry per agent of the schedule with at least one block inside the horizon."""
        if getattr(self, "scenario_", None) is not scenario:
            self.bind(scenario)
        return list(self.roster_)

    # ------------------------------------------------------------------------------------------- internals

    def _where(self, row: int, column: str) -> str:
        return f"{self.params.path}: row {row}, column {column!r}"

    def _read(self) -> list[_Row]:
        path = Path(self.params.path)
        if not path.is_file():
            raise ValueError(f"params.path: schedule file {self.params.path!r} not found (cwd {Path.cwd()})")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in self._REQUIRED if c not in header]
            if missing:
                raise ValueError(f"{self.params.path}: row 1: missing column(s) {missing}; found {header}")
            reader.fieldnames = header
            # The row an error names is the record's line in the file (blank lines are skipped by the reader,
            # so counting records would name the wrong row).
            return [self._parse_row(reader.line_num, record) for record in reader]

    def _parse_row(self, row: int, record: dict[str, Any]) -> _Row:
        values = {k: (v or "").strip() for k, v in record.items() if isinstance(k, str)}
        if not values["agent"]:
            raise ValueError(f"{self._where(row, 'agent')}: empty agent id")
        times = {}
        for column in ("start", "end"):
            try:
                times[column] = dt.datetime.fromisoformat(values[column])
            except ValueError:
                raise ValueError(
                    f"{self._where(row, column)}: cannot read {values[column]!r} as an ISO date-time "
                    "(e.g. 2026-11-09T08:00)"
                ) from None
        start, end = times["start"], times["end"]
        try:
            length_s = (end - start).total_seconds()
        except TypeError:
            raise ValueError(
                f"{self._where(row, 'end')}: start and end must both have a time zone or neither"
            ) from None
        if length_s <= 0:
            raise ValueError(f"{self._where(row, 'end')}: end {end.isoformat()} is not after start {start.isoformat()}")
        breaks = []
        for part in filter(None, (p.strip() for p in values.get("breaks", "").split(";"))):
            try:
                offset, brk = part.split("/")
                at_s, brk_s = parse_duration(offset.strip()), parse_duration(brk.strip())
            except ValueError as exc:
                raise ValueError(
                    f"{self._where(row, 'breaks')}: bad break {part!r}; expected offset/length with units, e.g. "
                    f"'2h/15min;4h/30min' ({exc})"
                ) from None
            if brk_s <= 0 or at_s + brk_s > length_s:
                raise ValueError(
                    f"{self._where(row, 'breaks')}: break {part!r} must have a positive length and end within "
                    f"the block ({length_s / 3600:g}h)"
                )
            breaks.append((at_s, brk_s))
        return _Row(row, values["agent"], values["group"], start, end, tuple(breaks))

    def _build(self, scenario: Scenario) -> list[AgentShifts]:
        t0, horizon = scenario.start, scenario.horizon
        group_of: dict[str, str] = {}
        blocks: dict[str, list] = {}
        for r in self.rows_:
            if r.group not in scenario.groups:
                raise ValueError(
                    f"{self._where(r.row, 'group')}: unknown group {r.group!r}; known: {list(scenario.groups)}"
                )
            if group_of.setdefault(r.agent, r.group) != r.group:
                raise ValueError(
                    f"{self._where(r.row, 'group')}: agent {r.agent!r} is in group {group_of[r.agent]!r} on an "
                    "earlier row; an agent belongs to one group"
                )
            try:
                start_s, end_s = (r.start - t0).total_seconds(), (r.end - t0).total_seconds()
            except TypeError:
                raise ValueError(
                    f"{self._where(r.row, 'start')}: the time zone of {r.start.isoformat()} does not match the "
                    f"scenario start {t0.isoformat()} (both need one, or neither)"
                ) from None
            agent_blocks = blocks.setdefault(r.agent, [])
            if end_s <= 0.0 or start_s >= horizon:
                continue
            day = (r.start.date() - t0.date()).days
            agent_blocks.append((day, start_s, end_s, tuple((start_s + at, length) for at, length in r.breaks)))
        return [AgentShifts(group_of[a], "schedule", tuple(b)) for a, b in blocks.items() if b]


@dataclass(frozen=True, slots=True)
class _Row:
    """One parsed schedule row (``row`` counts the header as row 1)."""

    row: int
    agent: str
    group: str
    start: DateTime
    end: DateTime
    breaks: tuple[tuple[float, float], ...]


# ---------------------------------------------------------------------------------------------------- erlang


class ErlangStaffing(StaffingPolicy):
    """Erlang A requirements per time slice, with shrinkage, covered by the cheapest mix of each group's shifts.

    Method:

    1. *Demand.* The expected arrival rate of every (channel, intent, language) per slice comes from the
       generated-arrivals model without randomness (daily volume x day-of-week x intraday profile x promotions,
       outages in expectation, busyness at its mean 1; :func:`sim.arrivals.expected_rates`), split by the
       language shares and then equally among the groups eligible for it.
    2. *Agents.* Per group and slice, the live channels are pooled into one queue: arrival rate = the sum; mean
       handle = the arrival-weighted mean of ``intent handle mean x group proficiency`` (divided by the group's
       concurrency on a multi-contact channel such as chat); mean patience = the arrival-weighted mean of the
       patience means. The agents ``n`` are the fewest with ``SL(threshold) >= service_level`` under the
       scenario's SL convention (short abandons: the shortest of the pooled channels), from Erlang A, or Erlang C
       when some pooled contacts never abandon. Deferrable work adds its load (rate x handle) divided by
       ``deferrable_occupancy``. Heads = ``agents / (1 - shrinkage) / (1 - absenteeism) x 7 / (7 - rest_days)``.
    3. *Cover.* Per group, an integer program (``scipy.optimize.milp``, HiGHS) picks how many agents to put on
       each of the shift templates listed in the group's ``staffing`` (their counts there are ignored) so that,
       in every slice of every weekday, the agents on shifts on duty for the whole slice are at least the most
       heads any simulated day needs at that weekday and time, at the least paid hours per week
       (``count x length x working days``). Breaks are left to the shrinkage.
    4. *Rest days.* The ``7 / (7 - rest_days)`` factor covers rest days only on average: with a few agents per
       shift, some days lose more of them. So the template roster of these counts (its actual staggered rest
       days) is checked slice by slice against ``agents / (1 - shrinkage) / (1 - absenteeism)``, and while a
       slice of a simulated day is short, one agent is added to the shift that covers the most of the shortfall
       (ties: the cheaper shift). The roster is the template roster of the final counts.

    After :meth:`bind`: ``requirements_`` (see :meth:`requirements`) and ``counts_`` (group -> shift -> agents).
    """

    class Params(BaseModel):
        """Parameters.

        Attributes:
            service_level: Required share of contacts answered within ``threshold`` in every slice.
            threshold: Service-level threshold.
            shrinkage: Share of paid time not available for contacts (breaks, meetings, training).
            slice: Length of a planning slice; must divide a day.
            deferrable_occupancy: Target occupancy of the agents working deferrable work.
        """

        model_config = MODEL_CONFIG
        service_level: float = Field(0.8, gt=0.0, lt=1.0)
        threshold: PositiveDuration = 20.0
        shrinkage: float = Field(0.3, ge=0.0, lt=1.0)
        slice: PositiveDuration = 1800.0
        deferrable_occupancy: float = Field(0.85, gt=0.0, le=1.0)

        @field_validator("slice")
        @classmethod
        def _divides_day(cls, value: float) -> float:
            per_day = _DAY_S / value
            if abs(per_day - round(per_day)) > 1e-9:
                raise ValueError(f"slice must divide a day (e.g. 15min, 30min, 1h), got {value:g}s")
            return value

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Compute the requirements and the shift counts for ``scenario``.

        Raises:
            ValueError: For replayed arrivals, or when a group needs agents at a time none of its shift
                templates covers.
        """
        bound = getattr(self, "scenario_", None)
        if bound is not None and (bound is scenario or bound == scenario):
            self.scenario_ = scenario
            return
        self.requirements_ = self._requirements(scenario)
        self.counts_ = self._top_up(scenario, self.requirements_, self._cover(scenario, self.requirements_))
        self.roster_ = template_roster(scenario, self.counts_)
        self.scenario_ = scenario

    def roster(self, scenario: Scenario) -> list[AgentShifts]:
        """The template roster of the optimised headcounts."""
        self.bind(scenario)
        return list(self.roster_)

    def requirements(self, scenario: Scenario) -> pd.DataFrame:
        """Requirements per group and slice.

        Returns:
            Columns ``group``, ``slice_start_s`` (seconds from the scenario start), ``agents_needed`` (agents
            handling contacts: Erlang agents plus deferrable load / occupancy) and ``heads_needed`` (agents to
            schedule after shrinkage, absenteeism and rest days).
        """
        self.bind(scenario)
        return self.requirements_.copy()

    # ------------------------------------------------------------------------------------------- internals

    def _requirements(self, sc: Scenario) -> pd.DataFrame:
        if not isinstance(sc.arrivals, GeneratedArrivals):
            raise ValueError("erlang_a needs generated arrivals")
        p = self.params
        times, rates = expected_rates(sc, p.slice)
        n_slices, groups = len(times), list(sc.groups)
        total_share = sum(sc.customers.languages.values())
        languages = [(lang, share / total_share) for lang, share in sc.customers.languages.items()]
        lam = {g: np.zeros(n_slices) for g in groups}  # live arrivals per second
        work = {g: np.zeros(n_slices) for g in groups}  # live offered load (rate x handle)
        wait = {g: np.zeros(n_slices) for g in groups}  # rate x patience (finite patience)
        never = {g: np.zeros(n_slices, dtype=bool) for g in groups}  # some pooled contacts never abandon
        deferred = {g: np.zeros(n_slices) for g in groups}  # deferrable load
        short = {g: math.inf for g in groups}
        for (ch, intent), rate in rates.items():
            if not rate.any():
                continue
            live = sc.channels[ch].kind == "live"
            handle = sc.intents[intent].handle_for(ch).mean_s
            patience = sc.patience_for(ch, intent).mean_s
            for lang, share in languages:
                eligible = sc.eligible_groups(ch, intent, lang)
                part = rate * (share / len(eligible)) if eligible else rate[:0]
                for g in eligible:
                    h = handle * sc.groups[g].skills[intent] / sc.concurrency(g, ch)
                    if not live:
                        deferred[g] += part * h
                        continue
                    lam[g] += part
                    work[g] += part * h
                    short[g] = min(short[g], sc.channels[ch].short_abandon)
                    if math.isinf(patience):
                        never[g] |= part > 0
                    else:
                        wait[g] += part * patience
        memo: dict[tuple[float, float, float | None, float], int] = {}
        frames = []
        for g in groups:
            group = sc.groups[g]
            agents = np.zeros(n_slices)
            for k in range(n_slices):
                if lam[g][k] <= 0.0:
                    continue
                patience = None if never[g][k] else wait[g][k] / lam[g][k]
                key = (lam[g][k], work[g][k] / lam[g][k], patience, short[g])
                if key not in memo:
                    memo[key] = staff_for_service_level(
                        key[0],
                        key[1],
                        p.threshold,
                        p.service_level,
                        mean_patience_s=patience,
                        convention=sc.reporting.sl_convention,
                        short_abandon_s=short[g],
                    )
                agents[k] = memo[key]
            agents += deferred[g] / p.deferrable_occupancy
            heads = agents / (1.0 - p.shrinkage) / (1.0 - group.absenteeism) * 7.0 / (7 - group.rest_days)
            frames.append(
                pd.DataFrame({"group": g, "slice_start_s": times, "agents_needed": agents, "heads_needed": heads})
            )
        return pd.concat(frames, ignore_index=True)

    def _cover(self, sc: Scenario, req: pd.DataFrame) -> dict[str, dict[str, int]]:
        from scipy.optimize import Bounds, LinearConstraint, milp  # imported here: 0.4 s that only erlang_a needs

        slice_s = self.params.slice
        per_day = round(_DAY_S / slice_s)
        offset0 = day_zero_offset_s(sc)
        weekday0 = sc.start.weekday()
        counts: dict[str, dict[str, int]] = {}
        for g, part in req.groupby("group", sort=False):
            t = part["slice_start_s"].to_numpy() + offset0
            day = np.floor(t / _DAY_S + 1e-9).astype(int)
            tod = np.clip(np.floor((t - day * _DAY_S) / slice_s + 1e-9).astype(int), 0, per_day - 1)
            week = np.zeros((7, per_day))
            np.maximum.at(week, ((weekday0 + day) % 7, tod), part["heads_needed"].to_numpy())
            need = week.ravel()
            shifts = list(sc.groups[str(g)].staffing)
            cover = np.column_stack([_on_duty(sc, name, slice_s) for name in shifts])
            rows = np.flatnonzero(need > 1e-9)
            bare = rows[~cover[rows].any(axis=1)]
            if bare.size:
                w, j = divmod(int(bare[0]), per_day)
                lo, hi = format_time_of_day(j * slice_s), format_time_of_day((j + 1) * slice_s % _DAY_S)
                when = f"{WEEKDAYS[w]} {lo}-{hi}"
                raise ValueError(
                    f"erlang_a: group {g!r} needs {need[bare[0]]:.2f} heads on {when} but none of its shift "
                    f"templates {shifts} (groups.{g}.staffing) is on duty for that whole slice"
                )
            counts[str(g)] = dict.fromkeys(shifts, 0)
            if rows.size == 0:
                continue
            cost = np.array([sc.shifts[s].length / 3600.0 * len(sc.shifts[s].days) for s in shifts])
            res = milp(
                cost,
                constraints=LinearConstraint(cover[rows], lb=need[rows] - 1e-9, ub=np.inf),
                integrality=np.ones(len(shifts)),
                bounds=Bounds(0, np.inf),
            )
            if not res.success:
                raise ValueError(f"erlang_a: covering the requirements of group {g!r} failed: {res.message}")
            counts[str(g)] = {s: round(x) for s, x in zip(shifts, res.x, strict=True)}
        return counts


    def _top_up(
        self, sc: Scenario, req: pd.DataFrame, counts: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, int]]:
        """Add agents until the template roster (its real rest days) covers every slice of every simulated day."""
        slice_s = self.params.slice
        out = {g: dict(c) for g, c in counts.items()}
        for g, part in req.groupby("group", sort=False):
            g = str(g)
            group = sc.groups[g]
            starts = part["slice_start_s"].to_numpy()
            need = part["agents_needed"].to_numpy() / (1.0 - self.params.shrinkage) / (1.0 - group.absenteeism)
            shifts = list(out[g])
            cost = {s: sc.shifts[s].length * len(sc.shifts[s].days) for s in shifts}
            for _ in range(10 * len(starts) + 10):  # each round adds one agent; bounded for safety
                short = np.maximum(need - 1e-9 - _present(sc, g, out[g], starts, slice_s), 0.0)
                if not short.any():
                    break
                gain = {}
                for s in shifts:
                    trial = dict(out[g])
                    trial[s] += 1
                    covered = np.maximum(need - 1e-9 - _present(sc, g, trial, starts, slice_s), 0.0)
                    gain[s] = float(short.sum() - covered.sum())
                best = max(shifts, key=lambda s: (gain[s], -cost[s]))
                if gain[best] <= 0.0:
                    break  # no shift reaches the short slices (the cover step already reported such gaps)
                out[g][best] += 1
        return out


def _present(sc: Scenario, group: str, counts: dict[str, int], starts: np.ndarray, slice_s: float) -> np.ndarray:
    """Agents of ``group``'s template roster of ``counts`` on duty for the whole of each slice (before absences)."""
    present = np.zeros(len(starts))
    for entry in template_roster(sc, {group: counts}):
        for _day, start, end, _breaks in entry.blocks:
            present += (starts >= start - 1e-9) & (starts + slice_s <= end + 1e-9)
    return present


def _on_duty(sc: Scenario, shift_name: str, slice_s: float) -> np.ndarray:
    """1.0 for each (weekday, slice of the day), flattened, during which the shift is on duty for the whole slice."""
    shift = sc.shifts[shift_name]
    blocks = sorted(
        (d * _DAY_S + shift.start + wrap, d * _DAY_S + shift.start + wrap + shift.length)
        for d, name in enumerate(WEEKDAYS)
        if name in shift.days
        for wrap in (-_WEEK_S, 0.0, _WEEK_S)
    )
    merged: list[list[float]] = []
    for lo, hi in blocks:
        if merged and lo <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    starts = np.arange(round(_WEEK_S / slice_s)) * slice_s
    covered = np.zeros(len(starts))
    for lo, hi in merged:
        covered[(starts >= lo - 1e-9) & (starts + slice_s <= hi + 1e-9)] = 1.0
    return covered


# -------------------------------------------------------------------------------------------------- reactive


class ReactiveOvertime(StaffingPolicy):
    """The scenario's rosters plus reserve agents called in, at the overtime premium, when a live queue backs up.

    Every ``review`` the policy checks each group with a reserve: if the oldest contact still waiting in one of
    the live queues the group serves has waited ``max_wait`` or longer, or such a queue holds ``max_queue`` or
    more contacts, it asks for ``step`` more agents of that group, unless it called that group less than
    ``cooldown`` ago (default: the call-in delay, so that it waits to see the effect of the agents already on
    their way). The engine logs them in after ``delay`` for ``length`` and never calls more than the group's
    reserve at once.
    """

    class Params(BaseModel):
        """Parameters.

        Attributes:
            reserve: Reserve agents per group name (paid only when called in).
            max_wait: Trigger on the wait of the oldest waiting contact (``None``: off).
            max_queue: Trigger on the number of contacts waiting in one queue (``None``: off).
            review: Time between two checks.
            delay: Time from the call to the agent logging in.
            length: Time a called-in agent stays.
            step: Agents called per group and review.
            cooldown: Least time between two calls to the same group (``None``: the call-in ``delay``).
        """

        model_config = MODEL_CONFIG
        reserve: dict[str, Annotated[int, Field(ge=1)]] = Field(min_length=1)
        max_wait: PositiveDuration | None = 120.0
        max_queue: int | None = Field(None, ge=1)
        review: PositiveDuration = 300.0
        delay: PositiveDuration = 900.0
        length: PositiveDuration = 7200.0
        step: int = Field(2, ge=1)
        cooldown: Duration | None = None

        @model_validator(mode="after")
        def _some_trigger(self) -> ReactiveOvertime.Params:
            if self.max_wait is None and self.max_queue is None:
                raise ValueError("set max_wait or max_queue (or both): with neither, nobody is ever called in")
            return self

    def __init__(self, params: Params) -> None:
        self.params = params

    @property
    def review_s(self) -> float:
        """Seconds between two reviews."""
        return self.params.review

    @property
    def delay_s(self) -> float:
        """Call-in delay in seconds."""
        return self.params.delay

    @property
    def length_s(self) -> float:
        """Seconds a called-in agent stays."""
        return self.params.length

    def bind(self, scenario: Scenario) -> None:
        """Resolve the reserve group names to codes.

        Raises:
            ValueError: If ``reserve`` names an unknown group.
        """
        groups = list(scenario.groups)
        for name in self.params.reserve:
            if name not in scenario.groups:
                raise _unknown("reserve", "group", name, groups)
        self.group_codes_ = tuple(groups.index(name) for name in self.params.reserve)
        self.view_: SystemView | None = None
        self.cooldown_s_ = self.params.delay if self.params.cooldown is None else self.params.cooldown
        """Least seconds between two calls to one group."""

    def roster(self, scenario: Scenario) -> list[AgentShifts]:
        """The template roster of the scenario's ``staffing`` headcounts."""
        return template_roster(scenario)

    def reserve(self, scenario: Scenario) -> dict[str, int]:
        """Reserve agents per group name."""
        return dict(self.params.reserve)

    def call_in(self, view: SystemView) -> dict[int, int]:
        """``{group code: step}`` for every reserve group with a live queue past a trigger, else ``{}``."""
        if view is not self.view_:  # a new run: forget the last one's calls
            self.view_ = view
            self.last_call_s_: dict[int, float] = {}
            self.live_queues_ = {
                g: tuple(q.index for q in view.queues if not q.deferrable and g in q.groups) for g in self.group_codes_
            }
        now, max_wait, max_queue = view.now, self.params.max_wait, self.params.max_queue
        calls = {}
        for g, queues in self.live_queues_.items():
            if now - self.last_call_s_.get(g, -math.inf) < self.cooldown_s_:
                continue
            for q in queues:
                head = view.head(q)
                if head is None:
                    continue
                if (max_wait is not None and now - head.queued_s >= max_wait) or (
                    max_queue is not None and view.queue_length(q, max_queue) >= max_queue
                ):
                    calls[g] = self.params.step
                    self.last_call_s_[g] = now
                    break
        return calls
