"""The analysts' baseline: Erlang requirements per queue and interval, covered by the cheapest shift mix.

:func:`erlang_plan` turns a scenario with generated arrivals into a staffing plan without simulating:

1. **Queues.** The expected arrivals (:func:`sim.arrivals.expected_rates`) of every (channel, intent, language)
   go to the queue of the groups that may serve them (channel, skill and language: the same eligibility as the
   router). Traffic with the same channel and the same set of eligible groups is one queue, so ``voice`` in the
   flagship splits into ``voice_zh``, ``voice_en`` and ``tech``: a language or a skill is a hard constraint, and
   pooling across it would understate the need.
2. **Human traffic.** Contacts the deflection policy sends to a bot (``bot_first``, ``bot_intents``; the
   load-dependent ``bot_on_wait`` and ``bot_off_hours`` are counted as sending nothing, which is conservative)
   reach an agent only when the bot escalates them (``1 - resolution - abandon - silent_failure``), with their
   handle-time and patience factors and the bot session plus hand-off already spent on the FRT clock. Transfers
   add the second service's load to the receiving skill's queue.
3. **Agents.** Per queue and interval: mean handle = the rate-weighted mean of ``intent handle x mean proficiency
   of the queue's groups``; on a channel with concurrency ``k`` (the smallest of the queue's groups) the queue
   has ``k`` slots per agent and a chat takes ``1 + inflation (k - 1)`` times longer (all slots busy:
   conservative). A live queue's slots are the fewest meeting every target that applies to it (Erlang A with
   exponential patience of the same mean, or Erlang C when some contacts never abandon; the scenario's SL
   convention); agents = ``ceil(slots / k)``. Deferrable queues (and live ones no target applies to) need
   ``load / occupancy`` agents. The requirement is ``agents / (1 - shrinkage)``.
4. **Cover.** An integer program (``scipy.optimize.milp``, HiGHS) picks agents per group and shift template
   (every template of the scenario) at the least weekly pay (``hourly_cost x (paid hours + night premium x night
   hours) x working days``), such that in every interval each queue's requirement is met by agents on duty of
   the groups that serve it; a group serving several queues splits its agents among them (continuous
   assignment variables), so no agent is counted twice. Agents on duty = headcount x the share of the interval
   the shift covers x ``(7 - rest_days) / 7``.

Targets (``P(FRT <= T | filter) >= level``) are applied to the whole traffic of every queue of their channel (all
channels when none is named; queues holding the intent when an intent is named): a priority or tier filter is
ignored, which is conservative under priority routing. A level of 1 on a live channel is planned at 0.999.

Example:
    >>> from experiments import load_scenario
    >>> plan = erlang_plan(load_scenario("erlang_c_textbook")[0])
    >>> int(plan.requirements["agents"].max()), plan.staffing
    (14, {'agents': {'always': 14}})
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.files import write_atomic
from policies.deflection import BotFirst, BotForIntents
from policies.registry import make
from sim.arrivals import expected_rates
from sim.budget import shift_coverage
from sim.config import GeneratedArrivals, Scenario, Target
from sim.erlang import erlang_a, erlang_c, staff_for_service_level
from sim.roster import day_zero_offset_s, night_seconds
from sim.units import format_duration

__all__ = ["ErlangPlan", "ErlangPlanError", "default_shrinkage", "erlang_plan", "weekly_pay", "write_plan"]

_DAY_S = 86400.0
_MAX_LEVEL = 0.999
"""Highest service level planned on a live queue (Erlang SL never reaches 1)."""
_FIXED_ROSTER = ("fixed", "reactive_overtime")
"""Staffing policies that use ``groups.<g>.staffing``; any other is replaced by ``fixed`` in the override file."""


class ErlangPlanError(ValueError):
    """The scenario cannot be planned (replayed arrivals, a bad parameter, no shift covering a need, no solution)."""


@dataclasses.dataclass(frozen=True)
class ErlangPlan:
    """A staffing plan from Erlang requirements.

    Attributes:
        scenario: The planned scenario.
        interval_s: Planning interval (seconds).
        shrinkage: Share of paid time not available for contacts (breaks, absenteeism, meetings).
        occupancy: Target occupancy of deferrable work.
        requirements: One row per queue and interval: ``channel``, ``groups`` (the queue's eligible groups,
            joined by ``+``), ``interval_start_s``, ``arrival_rate_per_s`` (human arrivals, after the bot),
            ``mean_handle_s`` (per slot, inflation included), ``model`` (``erlang_a``, ``erlang_c`` or
            ``workload``), ``target`` (the binding target's name, empty for workload), ``slots``, ``agents``
            (on contacts) and ``requirement`` (agents on duty to schedule: ``agents / (1 - shrinkage)``).
        staffing: Planned agents per group and shift template (all templates listed, zeros included).
        weekly_cost: Planned pay per week (currency).
        current_weekly_cost: The scenario's own roster's pay per week, same formula.
        status: The solver's message.
    """

    scenario: Scenario
    interval_s: float
    shrinkage: float
    occupancy: float
    requirements: pd.DataFrame
    staffing: dict[str, dict[str, int]]
    weekly_cost: float
    current_weekly_cost: float
    status: str

    def by_channel(self) -> pd.DataFrame:
        """Per channel: ``peak_requirement`` (agents on duty, summed over its queues) and ``agent_hours``.

        ``agent_hours`` is the requirement integrated over the horizon (hours of agents on duty).
        """
        req = self.requirements
        widths = _widths(self.scenario, np.sort(req["interval_start_s"].unique()))
        per = req.groupby(["channel", "interval_start_s"], sort=False)["requirement"].sum().reset_index()
        per["hours"] = per["requirement"] * per["interval_start_s"].map(widths) / 3600.0
        out = per.groupby("channel", sort=False).agg(
            peak_requirement=("requirement", "max"), agent_hours=("hours", "sum")
        )
        return out.reindex([c for c in self.scenario.channels if c in out.index]).reset_index()

    def shift_table(self) -> pd.DataFrame:
        """Per group and shift template: ``current`` and ``planned`` headcounts and their weekly pay."""
        rows = []
        for g, group in self.scenario.groups.items():
            for s in self.scenario.shifts:
                current, planned = group.staffing.get(s, 0), self.staffing[g][s]
                if current or planned:
                    unit = weekly_pay(self.scenario, g, s)
                    rows.append((g, s, current, planned, current * unit, planned * unit))
        columns = ["group", "shift", "current", "planned", "current_weekly_cost", "planned_weekly_cost"]
        return pd.DataFrame(rows, columns=columns)

    def overrides(self) -> dict[str, Any]:
        """The plan as overrides: ``groups.<g>.staffing: {shift: n}`` (shifts with 0 agents left out).

        ``policies.staffing: {name: fixed}`` is added when the scenario's staffing policy ignores the headcounts.
        """
        out: dict[str, Any] = {}
        if self.scenario.policies.staffing.name not in _FIXED_ROSTER:
            out["policies.staffing"] = {"name": "fixed"}
        for g, counts in self.staffing.items():
            kept = {s: n for s, n in counts.items() if n > 0}
            # staffing needs at least one entry: a group planned at zero keeps one template at 0
            out[f"groups{_segment(g)}.staffing"] = kept or {next(iter(counts)): 0}
        return out

    def override_text(self) -> str:
        """The override file: a commented header and one line per group (YAML)."""
        sc = self.scenario
        header = [
            f"# ccsim erlang plan for scenario {sc.name}: the cheapest mix of its shift templates that covers the",
            "# Erlang C / Erlang A requirement of every queue and interval (see the README, 'Erlang baseline').",
            f"# interval {format_duration(self.interval_s)}, shrinkage {self.shrinkage:.1%}, deferrable occupancy "
            f"{self.occupancy:.0%}; weekly pay {self.weekly_cost:,.0f} "
            f"(current roster {self.current_weekly_cost:,.0f}).",
            "# Apply with: ccsim run SCENARIO --overrides THIS_FILE",
        ]
        body = yaml.safe_dump(
            self.overrides(), sort_keys=False, default_flow_style=None, allow_unicode=True, width=10_000
        )
        return "\n".join(header) + "\n" + body


def _segment(name: str) -> str:
    """A dotted-path segment for a mapping key (bracketed and quoted when it holds a dot, bracket or quote)."""
    if re.fullmatch(r"[^.\[\]\"']+", name) and name.strip() == name:
        return f".{name}"
    return '["' + name.replace('"', "'") + '"]' if '"' not in name else f"['{name}']"


def write_plan(plan: ErlangPlan, path: str | Path) -> Path:
    """Write the plan's override file atomically (see :meth:`ErlangPlan.override_text`); returns the path."""
    text = plan.override_text()
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ----------------------------------------------------------------------------------------------- parameters


def default_shrinkage(scenario: Scenario) -> float:
    """Shrinkage implied by the scenario: breaks and absenteeism, averaged over the groups by headcount.

    Per group, ``1 - (1 - absenteeism) (1 - break time / shift length)`` with the break share averaged over the
    group's shift templates by headcount (all its templates equally when it has none on the roster).
    """
    total = weight = 0.0
    for group in scenario.groups.values():
        counts = {s: n for s, n in group.staffing.items() if n > 0} or dict.fromkeys(group.staffing, 1)
        n = sum(counts.values())
        breaks = (
            sum(
                c * sum(b.length for b in scenario.shifts[s].breaks) / scenario.shifts[s].length
                for s, c in counts.items()
            )
            / n
        )
        head = sum(group.staffing.values()) or 1
        total += head * (1.0 - (1.0 - group.absenteeism) * (1.0 - breaks))
        weight += head
    return total / weight


def _interval(scenario: Scenario, interval_s: float | None) -> float:
    if interval_s is None:
        interval_s = scenario.reporting.interval
        per_day = _DAY_S / interval_s
        if interval_s < 900.0 or abs(per_day - round(per_day)) > 1e-9:
            return 1800.0
        return interval_s
    per_day = _DAY_S / interval_s if interval_s > 0 else 0.0
    if interval_s < 60.0 or abs(per_day - round(per_day)) > 1e-9:
        raise ErlangPlanError(
            f"--interval must divide a day and be at least 1min (e.g. 30min, 1h), got {interval_s:g}s"
        )
    return interval_s


def _widths(scenario: Scenario, starts: np.ndarray) -> dict[float, float]:
    bounds = np.append(starts, scenario.horizon)
    return dict(zip(starts.tolist(), np.diff(bounds).tolist(), strict=True))


def weekly_pay(scenario: Scenario, group_name: str, shift_name: str) -> float:
    """Pay per week of one agent of ``group_name`` on ``shift_name`` (night premium in, rest days out).

    Returns:
        ``hourly_cost x (paid hours of one shift + night_premium x its night hours) x shifts worked per week``
        (currency per week).
    """
    group, shift = scenario.groups[group_name], scenario.shifts[shift_name]
    start = shift.start - day_zero_offset_s(scenario)  # its instance on the first day, in simulation seconds
    night_h = night_seconds(scenario, start, start + shift.length) / 3600.0
    days = len(shift.days) * (7 - group.rest_days) / 7.0
    return group.hourly_cost * (shift.length / 3600.0 + group.night_premium * night_h) * days


def _paid_hours(scenario: Scenario, group_name: str, shift_name: str) -> float:
    group, shift = scenario.groups[group_name], scenario.shifts[shift_name]
    return shift.length / 3600.0 * len(shift.days) * (7 - group.rest_days) / 7.0


# ------------------------------------------------------------------------------------------------- queues


@dataclasses.dataclass
class _Queue:
    """Human traffic of one channel served by one set of groups, per interval (sums, divided at the end)."""

    channel: str
    groups: tuple[str, ...]
    rate: np.ndarray  # arrivals per second
    work: np.ndarray  # rate x handle (seconds per second)
    escalated: np.ndarray  # rate of contacts that went through the bot first
    delay: np.ndarray  # escalated rate x (bot session + hand-off) (seconds per second)
    patience: np.ndarray  # rate x patience (finite patience only)
    never: np.ndarray  # some contacts never abandon
    intents: set[str]


def _bot_share(scenario: Scenario, channel: str, intent: str) -> float:
    """Share of a (channel, intent)'s arrivals the deflection policy offers to the bot (0 without a bot)."""
    if channel not in scenario.bots or scenario.policies.deflection.name == "none":
        return 0.0
    policy = make("deflection", scenario.policies.deflection)
    chosen = getattr(policy.params, "channels", None) or list(scenario.bots)
    if channel not in chosen:
        return 0.0
    if isinstance(policy, BotForIntents):
        return 1.0 if intent in policy.params.intents else 0.0
    if isinstance(policy, BotFirst):
        return 1.0 - scenario.intents[intent].urgent_share if policy.params.skip_urgent else 1.0
    return 0.0  # load- or time-dependent policies: counted as sending nothing to the bot (conservative)


def _queues(scenario: Scenario, rates: dict[tuple[str, str], np.ndarray], n: int) -> list[_Queue]:
    total = sum(scenario.customers.languages.values())
    languages = [(lang, share / total) for lang, share in scenario.customers.languages.items()]
    queues: dict[tuple[str, tuple[str, ...]], _Queue] = {}

    def add(ch: str, intent: str, rate: np.ndarray, escalated: np.ndarray, bot: Any) -> None:
        """Add the direct ``rate - escalated`` and bot-escalated ``escalated`` arrivals of (ch, intent)."""
        spec = scenario.intents[intent]
        patience = scenario.patience_for(ch, intent).mean_s
        for lang, share in languages:
            groups = tuple(scenario.eligible_groups(ch, intent, lang))
            if not groups:
                continue  # nobody may answer them (scenario_warnings says so); no agent can be planned for them
            q = queues.get((ch, groups))
            if q is None:
                zeros = [np.zeros(n) for _ in range(5)]
                q = queues[ch, groups] = _Queue(ch, groups, *zeros, np.zeros(n, dtype=bool), set())
            handle = spec.handle_for(ch).mean_s * float(np.mean([scenario.groups[g].skills[intent] for g in groups]))
            direct, esc = (rate - escalated) * share, escalated * share
            esc_handle = esc_patience = 1.0
            if bot is not None:
                esc_handle = bot.escalated_handle_factor * (
                    bot.context_handle_factor if bot.context else bot.no_context_handle_factor
                )
                esc_patience = bot.context_patience_factor if bot.context else bot.no_context_patience_factor
                q.delay += esc * (bot.session.mean_s + bot.handoff)
            q.rate += direct + esc
            q.escalated += esc
            q.work += (direct + esc * esc_handle) * handle
            if math.isinf(patience):
                q.never |= (direct + esc) > 0
            else:
                q.patience += (direct + esc * esc_patience) * patience
            q.intents.add(intent)

    for (ch, intent), rate in rates.items():
        if not rate.any():
            continue
        bot = scenario.bots.get(ch)
        offered = _bot_share(scenario, ch, intent)
        escalated = np.zeros(n)
        human = rate
        if offered > 0.0 and bot is not None:
            esc_share = max(0.0, 1.0 - bot.resolution_for(intent) - bot.abandon - bot.silent_failure)
            escalated = rate * offered * esc_share
            human = rate * (1.0 - offered) + escalated
        add(ch, intent, human, escalated, bot)
        transfer = scenario.transfers.get(intent)
        if transfer is not None and transfer.share > 0:
            add(ch, transfer.to, human * transfer.share, np.zeros(n), None)
    return list(queues.values())


def _applies(target: Target, queue: _Queue) -> bool:
    if target.channel is not None and target.channel != queue.channel:
        return False
    return target.intent is None or target.intent in queue.intents


def _binding(targets: list[Target]) -> list[Target]:
    """The targets no other one implies (``T' <= T`` and ``level' >= level``: the SL grows with the threshold)."""
    kept: list[Target] = []
    for t in sorted(targets, key=lambda t: (t.threshold, -t.level)):
        if not any(k.threshold <= t.threshold and k.level >= t.level for k in kept):
            kept.append(t)
    return kept


def _service_level(lam: float, handle: float, patience: float | None, n: int, t: float, sc: Scenario, ch: str) -> float:
    if patience is None:
        return erlang_c(lam, handle, n).service_level(t)
    res = erlang_a(lam, handle, patience, n)
    return res.service_level(t, sc.reporting.sl_convention, sc.channels[ch].short_abandon)


def _slots(
    sc: Scenario, ch: str, lam: float, handle: float, patience: float | None, target: Target, esc: float, delay: float
) -> int:
    """Fewest slots such that a share ``1 - esc`` answered within T and ``esc`` within ``T - delay`` meets the level.

    Both bounds come from :func:`sim.erlang.staff_for_service_level`; between them the mixed service level (which
    increases with the slots) is bisected.
    """
    level = min(target.level, _MAX_LEVEL)
    conv, short = sc.reporting.sl_convention, sc.channels[ch].short_abandon

    def staff(t: float) -> int:
        return staff_for_service_level(
            lam, handle, t, level, mean_patience_s=patience, convention=conv, short_abandon_s=short
        )

    lo_n = staff(target.threshold)
    if esc <= 1e-12 or delay <= 0.0:
        return lo_n
    late = max(target.threshold - delay, 0.0)
    hi_n = staff(late)
    lo = lo_n - 1  # invariant: lo fails (or is below the bound), hi meets
    while hi_n - lo > 1:
        mid = (lo + hi_n) // 2
        mixed = (1.0 - esc) * _service_level(lam, handle, patience, mid, target.threshold, sc, ch)
        mixed += esc * _service_level(lam, handle, patience, mid, late, sc, ch)
        if mixed >= level:
            hi_n = mid
        else:
            lo = mid
    return hi_n


def _requirements(sc: Scenario, interval_s: float, shrinkage: float, occupancy: float) -> pd.DataFrame:
    times, rates = expected_rates(sc, interval_s)
    n = len(times)
    memo: dict[tuple[Any, ...], tuple[int, str]] = {}
    rows = []
    for q in _queues(sc, rates, n):
        channel = sc.channels[q.channel]
        k = min(sc.concurrency(g, q.channel) for g in q.groups)
        inflation = 1.0 + channel.inflation * (k - 1)
        targets = _binding([t for t in sc.targets if _applies(t, q)]) if channel.kind == "live" else []
        for i in range(n):
            lam = float(q.rate[i])
            if lam <= 0.0:
                continue
            handle = float(q.work[i]) / lam * inflation
            patience = None if q.never[i] else float(q.patience[i]) / lam
            esc = float(q.escalated[i]) / lam
            delay = float(q.delay[i]) / float(q.escalated[i]) if q.escalated[i] > 0 else 0.0
            if not targets:
                agents = lam * handle / k / occupancy
                rows.append((q, times[i], lam, handle, "workload", "", lam * handle / occupancy, agents))
                continue
            key = (q.channel, round(lam, 12), round(handle, 9), patience, round(esc, 9), round(delay, 6))
            if key not in memo:
                best = max(
                    ((_slots(sc, q.channel, lam, handle, patience, t, esc, delay), t.name) for t in targets),
                    key=lambda pair: pair[0],
                )
                memo[key] = best
            slots, name = memo[key]
            model = "erlang_c" if patience is None else "erlang_a"
            rows.append((q, times[i], lam, handle, model, name, float(slots), float(math.ceil(slots / k - 1e-9))))
    frame = pd.DataFrame(
        [
            (q.channel, "+".join(q.groups), t, lam, h, model, name, slots, agents)
            for q, t, lam, h, model, name, slots, agents in rows
        ],
        columns=[
            "channel",
            "groups",
            "interval_start_s",
            "arrival_rate_per_s",
            "mean_handle_s",
            "model",
            "target",
            "slots",
            "agents",
        ],
    )
    frame["requirement"] = frame["agents"] / (1.0 - shrinkage)
    return frame


# -------------------------------------------------------------------------------------------------- cover


def _cover(sc: Scenario, req: pd.DataFrame, interval_s: float) -> tuple[dict[str, dict[str, int]], str]:
    """Cheapest integer agents per (group, shift) meeting every queue's requirement in every interval."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # here, not at import: ccsim starts without scipy
    from scipy.sparse import coo_array

    groups, shifts = list(sc.groups), list(sc.shifts)
    if len(req) == 0:
        return {g: dict.fromkeys(shifts, 0) for g in groups}, "nothing to cover"
    starts, _ = expected_rates(sc, interval_s)
    slot_of = {float(t): i for i, t in enumerate(starts)}
    cover = shift_coverage(sc, np.append(starts, sc.horizon))
    n_x = len(groups) * len(shifts)
    avail = np.zeros((len(groups), len(shifts), len(starts)))  # agents on duty per head
    for gi, g in enumerate(groups):
        working = (7 - sc.groups[g].rest_days) / 7.0
        for si, s in enumerate(shifts):
            avail[gi, si] = cover[s] * working
    any_group = avail.sum(axis=1)  # per group and slot: can any of its agents be on duty?

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    n_y = 0
    group_rows: dict[tuple[int, int], list[int]] = {}  # (group, slot) -> y columns on duty there
    for (ch, names), part in req.groupby(["channel", "groups"], sort=False):
        members = [groups.index(g) for g in str(names).split("+")]
        for t, need in zip(part["interval_start_s"], part["requirement"], strict=True):
            if need <= 1e-9:
                continue
            k = slot_of[float(t)]
            if not any(any_group[gi, k] > 0 for gi in members):
                when = sc.start + pd.Timedelta(seconds=float(t))
                raise ErlangPlanError(
                    f"channel {ch!r} (groups {names}) needs {need:.2f} agents on {when:%a %Y-%m-%d %H:%M} but no "
                    f"shift template is on duty then; add a shift that covers it"
                )
            row = len(lower)
            for gi in members:
                col = n_x + n_y
                n_y += 1
                rows.append(row)
                cols.append(col)
                vals.append(1.0)
                group_rows.setdefault((gi, k), []).append(col)
            lower.append(float(need))
            upper.append(np.inf)
    for (gi, k), ys in group_rows.items():
        row = len(lower)
        for col in ys:
            rows.append(row)
            cols.append(col)
            vals.append(1.0)
        for si in range(len(shifts)):
            if avail[gi, si, k] > 0:
                rows.append(row)
                cols.append(gi * len(shifts) + si)
                vals.append(-float(avail[gi, si, k]))
        lower.append(-np.inf)
        upper.append(0.0)
    matrix = coo_array((vals, (rows, cols)), shape=(len(lower), n_x + n_y)).tocsr()
    pay = np.array([weekly_pay(sc, g, s) for g in groups for s in shifts])
    hours = np.array([_paid_hours(sc, g, s) for g in groups for s in shifts])
    cost = np.concatenate([pay if pay.any() else hours, np.zeros(n_y)])
    res = milp(
        cost,
        constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
        integrality=np.concatenate([np.ones(n_x), np.zeros(n_y)]),
        bounds=Bounds(0.0, np.inf),
        options={"time_limit": 300.0},
    )
    if res.x is None or res.status not in (0, 1):
        raise ErlangPlanError(f"the shift-cover integer program found no plan (status {res.status}): {res.message}")
    x = np.round(res.x[:n_x]).astype(int)
    staffing = {g: {s: int(x[gi * len(shifts) + si]) for si, s in enumerate(shifts)} for gi, g in enumerate(groups)}
    status = "optimal" if res.status == 0 else f"time limit: best plan found, not proven optimal ({res.message})"
    return staffing, status


# --------------------------------------------------------------------------------------------------- entry


def erlang_plan(
    scenario: Scenario,
    *,
    interval_s: float | None = None,
    shrinkage: float | None = None,
    occupancy: float = 0.85,
) -> ErlangPlan:
    """Erlang requirements per queue and interval, and the cheapest shift mix that covers them.

    Args:
        scenario: A scenario with generated arrivals.
        interval_s: Planning interval in seconds; must divide a day. Default: the reporting interval when it
            divides a day and is at least 15 minutes, else 30 minutes.
        shrinkage: Share of paid time not available for contacts, in ``[0, 1)``. Default
            :func:`default_shrinkage` (breaks and absenteeism of the scenario).
        occupancy: Target occupancy of deferrable work (and of live queues no target applies to), in ``(0, 1]``.

    Returns:
        The :class:`ErlangPlan`.

    Raises:
        ErlangPlanError: Replayed arrivals, a parameter out of range, a need no shift template covers, or no
            solution.
    """
    if not isinstance(scenario.arrivals, GeneratedArrivals):
        raise ErlangPlanError(
            "ccsim erlang needs generated arrivals (arrivals.kind: generated); a replayed log has no rate model: "
            "calibrate one (daily volume, intraday profile) from the log first"
        )
    if shrinkage is None:
        shrinkage = default_shrinkage(scenario)
    if not 0.0 <= shrinkage < 1.0:
        raise ErlangPlanError(f"shrinkage must be in [0, 1), got {shrinkage!r}")
    if not 0.0 < occupancy <= 1.0:
        raise ErlangPlanError(f"occupancy must be in (0, 1], got {occupancy!r}")
    interval = _interval(scenario, interval_s)
    try:
        req = _requirements(scenario, interval, shrinkage, occupancy)
    except ValueError as exc:  # a target out of reach of staff_for_service_level's search
        raise ErlangPlanError(str(exc)) from exc
    staffing, status = _cover(scenario, req, interval)
    current = sum(
        n * weekly_pay(scenario, g, s) for g, group in scenario.groups.items() for s, n in group.staffing.items()
    )
    planned = sum(n * weekly_pay(scenario, g, s) for g, counts in staffing.items() for s, n in counts.items())
    return ErlangPlan(scenario, interval, shrinkage, occupancy, req, staffing, planned, current, status)
