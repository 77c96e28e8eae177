"""Frozen scenario models (pydantic v2, unknown keys rejected).

A scenario is what an analyst writes in YAML: the calendar, channels, intents, customers, arrivals, shifts, agent
groups, FRT targets and policy choices. Every time field is a duration string with a unit in YAML and float seconds
here (see :mod:`sim.units`). Cross-references (a group's skills, a shift name, a target's channel) are checked in
one ``model_validator`` so a typo fails at load time with the field path, not in the middle of a run. That check
raises every problem it finds together, as :class:`~sim.problems.Problem` objects (path, message, value,
expected) in one :class:`~sim.problems.ScenarioProblemsError`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from sim.distributions import Distribution, ExponentialDist, LognormalDist, NoAbandonment
from sim.plans import Plan, plan_problems
from sim.problems import Problem, ScenarioProblemsError, short_repr
from sim.units import (
    MODEL_CONFIG,
    YEARS,
    DateTime,
    Duration,
    Instant,
    PositiveDuration,
    TimeOfDay,
    format_duration,
    format_time_of_day,
)

__all__ = [
    "WEEKDAYS",
    "AgentGroup",
    "Approval",
    "BackOffice",
    "Bot",
    "Break",
    "Channel",
    "ChannelArrivals",
    "Customers",
    "GeneratedArrivals",
    "Intent",
    "Outage",
    "OutageNotice",
    "OutageShares",
    "PatienceRule",
    "PolicySlots",
    "PolicySpec",
    "Promotion",
    "ReplayArrivals",
    "Reporting",
    "Scenario",
    "Shift",
    "StaffingTable",
    "Target",
    "TargetWindow",
    "TeamLeads",
    "Transfer",
    "single_queue",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names in ``datetime.weekday()`` order."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
SLConvention = Literal["ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good"]


class _Frozen(BaseModel):
    model_config = MODEL_CONFIG


# --------------------------------------------------------------------------------------------------- channels


class Channel(_Frozen):
    """A contact channel.

    Attributes:
        kind: ``live`` (voice, chat: the customer waits and may abandon) or ``deferrable`` (email, social: a
            backlog worked in agents' idle time, no abandonment).
        concurrency: Most contacts of this channel one agent handles at once (voice 1, chat e.g. 3).
        inflation: Handle-time inflation per extra simultaneous contact: a chat started while the agent has
            ``k`` other chats takes ``base * (1 + inflation * k)``.
        patience: Default patience distribution for this channel (``none``: never abandons).
        short_abandon: Abandons faster than this are "short" (excluded by the default SL convention).
        wrap_up: After-contact work (seconds per contact): the agent stays busy, unavailable, for this long after
            each service of this channel; the customer has left, so FRT/ASA do not change. ``None``: no wrap-up.
            An intent's ``wrap_up`` overrides it.
    """

    kind: Literal["live", "deferrable"] = "live"
    concurrency: int = Field(1, ge=1, le=20)
    inflation: float = Field(0.0, ge=0.0)
    patience: Distribution = NoAbandonment()
    short_abandon: Duration = 5.0
    wrap_up: Distribution | None = None

    @model_validator(mode="after")
    def _deferrable_never_abandons(self) -> Channel:
        if self.kind == "deferrable" and not isinstance(self.patience, NoAbandonment):
            raise ValueError("deferrable channels have no abandonment: remove 'patience' or use kind: live")
        _finite_wrap_up(self.wrap_up)
        return self


def _finite_wrap_up(wrap_up: Any) -> None:
    """A wrap-up must end: ``dist: none`` or a survival table with ``tail: none`` would keep the agent forever."""
    if wrap_up is not None and not math.isfinite(wrap_up.mean_s):
        raise ValueError(
            f"wrap_up must be a finite duration; {wrap_up.dist!r} with these parameters never ends "
            "(leave wrap_up out for none)"
        )


# ---------------------------------------------------------------------------------------------------- intents


class PatienceRule(_Frozen):
    """A patience for the contacts of an intent with a given priority arriving in a given time of day.

    A rule matches a contact when every condition it gives holds: ``priority`` equal, and the contact's local
    arrival time of day in ``[from, to)``. ``from`` left out is midnight, ``to`` left out is the end of the day;
    a ``to`` at or before ``from`` wraps past midnight (``"22:00"`` to ``"06:00"``). So ``from: "07:00", to:
    "12:00"`` matches 11:59:59 and not 12:00.

    Attributes:
        priority: ``urgent`` or ``normal``; ``None`` matches both.
        start: Time of day the rule starts to apply (written ``from``), inclusive.
        end: Time of day it stops applying (written ``to``), exclusive.
        patience: The patience distribution of matching contacts.
    """

    model_config = ConfigDict(**MODEL_CONFIG, serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)
    priority: Literal["urgent", "normal"] | None = None
    start: TimeOfDay | None = Field(None, alias="from")
    end: TimeOfDay | None = Field(None, alias="to")
    patience: Distribution

    def matches_time(self, tod_s: np.ndarray) -> np.ndarray:
        """Whether each local time of day (seconds after midnight, in ``[0, 86400)``) is in ``[from, to)``."""
        lo = 0.0 if self.start is None else self.start
        hi = 86400.0 if self.end is None else self.end
        if self.end is not None and hi <= lo:  # wraps past midnight
            return (tod_s >= lo) | (tod_s < hi)
        return (tod_s >= lo) & (tod_s < hi)


class Intent(_Frozen):
    """An issue type; it is also the skill an agent needs to handle it.

    Attributes:
        handle: Base handle-time distribution (the work content at proficiency 1.0).
        handle_by_channel: Per-channel overrides of ``handle``.
        patience: Overrides the channel's patience for this intent (live channels only).
        patience_by: Rules by priority and time of day, tried in order: the first that matches an arriving
            contact gives its patience; a contact no rule matches has ``patience`` (else the channel's). They
            apply to arrivals (generated, and replayed ones whose log has no patience), on live channels.
        urgent_share: Share of contacts of this intent with priority ``urgent`` (the rest are ``normal``).
        wrap_up: After-contact work of this intent's contacts (overrides the channel's ``wrap_up``).
    """

    handle: Distribution = LognormalDist(mean="5min", cv=1.0)
    handle_by_channel: dict[str, Distribution] = Field(default_factory=dict)
    patience: Distribution | None = None
    patience_by: list[PatienceRule] = Field(default_factory=list)
    urgent_share: Share = 0.0
    wrap_up: Distribution | None = None

    @model_validator(mode="after")
    def _wrap_up_ends(self) -> Intent:
        _finite_wrap_up(self.wrap_up)
        return self

    def handle_for(self, channel: str) -> Any:
        """Handle-time distribution of this intent on ``channel``."""
        return self.handle_by_channel.get(channel, self.handle)


class Customers(_Frozen):
    """Who calls: language mix, VIP share and the customer population.

    Attributes:
        languages: Share of contacts per language (normalized to sum to 1).
        vip_share: Share of contacts from VIP customers (tier ``vip``; the rest are ``regular``).
        population: Number of distinct customers; ids are drawn uniformly from it so that customers return.
            ``None`` gives every contact a new customer id. At most 10**12.
    """

    languages: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=lambda: {"en": 1.0})
    vip_share: Share = 0.0
    population: int | None = Field(None, ge=1, le=10**12)

    @field_validator("languages")
    @classmethod
    def _non_empty(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("at least one language is needed")
        return value


# --------------------------------------------------------------------------------------------------- arrivals


class ChannelArrivals(_Frozen):
    """Generated arrivals of one channel.

    Attributes:
        daily_volume: Expected contacts per day before day-of-week factors, busyness and events.
        intent_mix: Relative weight of each intent (normalized to shares).
        intraday: Relative weight of each equal slice of the day (e.g. 48 values for 30-minute slices);
            ``flat`` for a constant rate. The rate is piecewise constant within a slice.
    """

    daily_volume: float = Field(ge=0.0)
    intent_mix: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1)
    intraday: list[Annotated[float, Field(ge=0)]] | Literal["flat"] = "flat"

    @field_validator("intraday")
    @classmethod
    def _divides_day(cls, value: list[float] | str) -> list[float] | str:
        if isinstance(value, list):
            if not value or 86400 % len(value) != 0:
                raise ValueError(
                    f"intraday needs a number of slices that divides the day (24, 48, 96, 288...), got {len(value)}"
                )
            if sum(value) <= 0:
                raise ValueError("intraday weights must not all be zero")
        return value

    @field_validator("intent_mix")
    @classmethod
    def _positive_total(cls, value: dict[str, float]) -> dict[str, float]:
        if sum(value.values()) <= 0:
            raise ValueError("intent_mix weights must not all be zero")
        return value


class Promotion(_Frozen):
    """A window in which arrival volume is multiplied (a sale, a campaign)."""

    start: DateTime
    end: DateTime
    factor: float = Field(gt=0.0)
    channels: list[str] | None = None
    """Channels affected; ``None`` means all."""

    @model_validator(mode="after")
    def _ordered(self) -> Promotion:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class OutageShares(_Frozen):
    """What customers arriving on a failed channel do: move, retry later, or give up (lost).

    Attributes:
        moved_share: Share that moves to ``moved_to`` at once (the outage's other channel).
        retry_share: Share that tries the same channel again after a ``retry_after`` delay.
        retry_after: Delay before a retry (seconds; a distribution); required when ``retry_share > 0``.

    The rest, ``1 - moved_share - retry_share``, is lost: an outcome of its own (``lost``).
    """

    moved_share: Share = 0.0
    retry_share: Share = 0.0
    retry_after: Distribution | None = None

    @model_validator(mode="after")
    def _shares(self) -> OutageShares:
        if self.moved_share + self.retry_share > 1.0 + 1e-12:
            raise ValueError(
                f"moved_share + retry_share is {self.moved_share + self.retry_share:g}; they must sum to at most 1 "
                "(the rest is lost)"
            )
        if self.retry_share > 0 and self.retry_after is None:
            raise ValueError("retry_share > 0 needs retry_after (the delay before a retry, e.g. {dist: exponential, "
                             "mean: 30min})")
        return self


class OutageNotice(OutageShares):
    """An outage notice announcing the expected recovery time.

    From ``at`` to the end of the outage, customers act on these shares instead of the outage's own (e.g. more
    retry after the announced recovery, fewer lost).

    Attributes:
        at: When the notice goes out (inside the outage window).
    """

    at: DateTime


class Outage(OutageShares):
    """A channel failure in ``[start, end)``.

    A contact arriving on ``channel`` then (a generated arrival, a repeat, a chaser or a retry) moves to
    ``moved_to`` with probability ``moved_share``, retries the same channel after ``retry_after`` with
    probability ``retry_share``, and is otherwise lost. A ``notice`` changes these shares from its ``at`` time on.

    Agents of the failed channel stay idle for it (nothing arrives) unless a contingency plan moves them.
    """

    channel: str
    start: DateTime
    end: DateTime
    moved_to: str | None = None
    notice: OutageNotice | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        shares = [self] + ([self.notice] if self.notice is not None else [])
        if any(s.moved_share > 0 for s in shares) and self.moved_to is None:
            raise ValueError("moved_share > 0 needs moved_to (the channel that takes the traffic)")
        if self.moved_to == self.channel:
            raise ValueError(f"moved_to must be another channel than the failed one ({self.channel!r})")
        if self.notice is not None and not self.start <= self.notice.at < self.end:
            raise ValueError(f"notice.at ({self.notice.at}) must lie inside the outage [{self.start}, {self.end})")
        return self


class GeneratedArrivals(_Frozen):
    """Arrivals drawn from a non-homogeneous Poisson process per (channel, intent).

    Attributes:
        channels: Volume, intent mix and intraday profile per channel.
        day_of_week: Volume factor per weekday (missing days are 1.0).
        busyness_cv: Coefficient of variation of a gamma "busyness" factor (mean 1) drawn once per day and
            shared by all channels: over-dispersion of daily volumes. 0 gives a plain Poisson process.
        promotions: Windows that multiply volume.
        outages: Channel failures that move or drop traffic.
    """

    kind: Literal["generated"] = "generated"
    channels: dict[str, ChannelArrivals] = Field(min_length=1)
    day_of_week: dict[Weekday, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    busyness_cv: float = Field(0.0, ge=0.0)
    promotions: list[Promotion] = Field(default_factory=list)
    outages: list[Outage] = Field(default_factory=list)


class ReplayArrivals(_Frozen):
    """Arrivals replayed from a CSV or Parquet log, mapped onto the scenario's names (see ``docs/replay.md``).

    Attributes:
        path: Log file (``.csv``, ``.csv.gz``, ``.parquet``). ``${CCSIM_DATA}`` expands to the data folder
            (the ``CCSIM_DATA`` environment variable, else ``shared/data`` next to the repository: see
            ``experiments.replay.data_dir``); relative paths are resolved against the scenario file's folder.
        format: ``auto`` picks the reader from the file suffix.
        columns: Which log column holds each field: ``arrival`` (timestamp, required), and optionally
            ``channel``, ``intent``, ``handle`` (seconds), ``patience`` (seconds), ``priority``, ``tier``,
            ``language``, ``customer``. One column may feed several fields (e.g. ``intent`` and ``language``).
            Missing fields are drawn from the scenario's distributions or taken from ``defaults``.
        values: Per field (``channel``, ``intent``, ``priority``, ``tier``, ``language``), a mapping from log
            values to scenario names (e.g. ``intent: {PS: retail, NE: stocks}``; ``priority`` maps to
            ``urgent``/``normal``, ``tier`` to ``vip``/``regular``). Without a mapping the log must hold the
            scenario names themselves. Values with no mapping are rejected with a report, unless listed in
            ``drop``.
        drop: Per field or log column, raw log values whose rows are skipped on purpose (e.g.
            ``outcome: [PHANTOM]``); counted in the replay report.
        require: Log columns that must all be non-empty for a row to be replayed (e.g. ``[q_start]``); other
            rows are skipped and counted in the replay report.
        require_any: Log columns of which at least one must be non-empty (e.g. ``[q_start, ser_start]``: the
            call reached the queue or an agent); other rows are skipped and counted.
        missing: Per field, log values that mean "not recorded": the field is then drawn (or taken from
            ``defaults``) as if the cell were empty (e.g. ``handle: ["0"]`` when 0 marks an unserved call).
            Duration fields compare numerically.
        defaults: Value of a field when its column is absent or the cell is empty (``channel: voice``;
            durations with a unit, e.g. ``handle: 3min``).
        arrival_format: ``timestamp`` (the arrival column holds date-times) or ``seconds`` (float seconds
            after ``window_start``, as in the ``arrival_s`` column of ``experiments.replay.write_arrival_log``;
            exact).
        timestamp_format: ``strftime`` format of the arrival timestamps; default ISO 8601.
        window_start: Log time that becomes simulation time 0 (default: the scenario start).
        time_offset: Shift added to every log time before mapping: ``arrival_s = timestamp + time_offset -
            window_start`` in seconds. Rows outside ``[0, horizon)`` are skipped and counted.
        passthrough: Log columns copied, as text, into the ``contacts`` frame as ``log_<column>`` (empty for
            contacts not from the log), so simulated and real contacts join one to one; the frame's
            ``source_row`` (the 0-based data row of the log file) joins them too.
    """

    kind: Literal["replay"] = "replay"
    path: str
    format: Literal["auto", "csv", "parquet"] = "auto"
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    drop: dict[str, list[str]] = Field(default_factory=dict)
    require: list[str] = Field(default_factory=list)
    require_any: list[str] = Field(default_factory=list)
    missing: dict[str, list[str]] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    arrival_format: Literal["timestamp", "seconds"] = "timestamp"
    timestamp_format: str | None = None
    window_start: Instant | None = None
    time_offset: Duration = 0.0
    passthrough: list[str] = Field(default_factory=list)

    @field_validator("passthrough")
    @classmethod
    def _distinct_columns(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, name in enumerate(value):
            if not name.strip():
                raise ValueError(f"passthrough[{i}] is an empty column name")
            if name in seen:
                raise ValueError(f"passthrough[{i}]: column {name!r} is listed twice")
            seen.add(name)
        return value

    @field_validator("columns")
    @classmethod
    def _arrival_needed(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(_REPLAY_FIELDS))
        if unknown:
            raise ValueError(f"unknown replay field(s) {unknown}; expected some of {sorted(_REPLAY_FIELDS)}")
        if "arrival" not in value:
            raise ValueError("columns must name the 'arrival' timestamp column")
        return value

    @model_validator(mode="after")
    def _known_fields(self) -> ReplayArrivals:
        checks = (
            ("values", self.values, _REPLAY_CATEGORICAL),
            ("missing", self.missing, tuple(f for f in _REPLAY_FIELDS if f != "arrival")),
            ("defaults", self.defaults, tuple(f for f in _REPLAY_FIELDS if f not in ("arrival", "customer"))),
        )
        for where, mapping, allowed in checks:
            unknown = sorted(set(mapping) - set(allowed))
            if unknown:
                raise ValueError(f"{where}: unknown field(s) {unknown}; expected some of {sorted(allowed)}")
        for field in ("channel", "intent"):
            if field not in self.columns and field not in self.defaults:
                raise ValueError(f"{field!r} needs a column (columns.{field}) or a default (defaults.{field})")
        return self


_REPLAY_FIELDS: tuple[str, ...] = (
    "arrival",
    "channel",
    "intent",
    "handle",
    "patience",
    "priority",
    "tier",
    "language",
    "customer",
)
_REPLAY_CATEGORICAL: tuple[str, ...] = ("channel", "intent", "priority", "tier", "language")


Arrivals = Annotated[GeneratedArrivals | ReplayArrivals, Field(discriminator="kind")]


# ------------------------------------------------------------------------------------------- shifts and agents


class Break(_Frozen):
    """A break placed ``after`` the shift start; taken as soon as the agent is free from that time on."""

    after: Duration
    length: PositiveDuration


class Shift(_Frozen):
    """A shift template repeated every working day.

    Attributes:
        start: Time of day the shift starts (``"06:00"``).
        length: Paid length (``"8h"``). Longer than a day only with ``multi_day: true``.
        breaks: Breaks, placed relative to the shift start.
        days: Weekdays on which the shift runs (default: every day).
        multi_day: Set to allow a shift longer than 24 hours.
        break_stagger: Spreads the breaks of the agents on this shift evenly over this window, so the team
            does not leave at once: agent ``k`` of ``n`` takes each break ``k * break_stagger / n`` later.
    """

    start: TimeOfDay
    length: PositiveDuration
    breaks: list[Break] = Field(default_factory=list)
    break_stagger: Duration = 0.0
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    multi_day: bool = False

    @model_validator(mode="after")
    def _fits(self) -> Shift:
        if self.length > 86400.0 and not self.multi_day:
            raise ValueError(
                f"shift length {self.length / 3600:g}h is longer than a day; set multi_day: true if you mean it"
            )
        for i, brk in enumerate(self.breaks):
            if brk.after + self.break_stagger + brk.length > self.length:
                end = brk.after + self.break_stagger + brk.length
                raise ValueError(f"breaks[{i}] ends after the shift ends ({end:g}s > {self.length:g}s)")
        return self


def _table_time(key: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(key.strip())
    except ValueError:
        raise ValueError(f"{short_repr(key)} is not a local date and time like 1999-03-01T07:00") from None
    if when.tzinfo is not None:
        raise ValueError(f"{short_repr(key)} has a time zone offset; write the local wall-clock time")
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise ValueError(f"{short_repr(key)}: the year must be between {YEARS[0]} and {YEARS[1]}")
    return when


class StaffingTable(_Frozen):
    """Headcount per interval of a group, as a workforce system or a calibration gives it.

    The agents really on the phones in an interval are ``agents x availability``, rounded to whole agents by
    carrying the remainder from interval to interval (:func:`sim.engine.staffing_table.available_headcounts`:
    ``n[k] = round(c[k]) - round(c[k-1])`` with ``c`` the running sum of ``agents x availability``, so each
    ``n[k]`` is the value rounded down or up and the total agent-time is exact to within half an interval).
    Agent ``j`` of the group is on duty in every interval with ``n[k] > j``: agents log in and out at interval
    boundaries, the lowest-numbered stay longest, and one in service at logout finishes the contact (overtime,
    as with shifts). Paid hours are the tabled headcount (before availability) times the interval.

    Attributes:
        interval: Length of an interval; it must divide the day (15min, 30min, 1h...).
        availability: Share of the tabled headcount logged in and taking contacts, in (0, 1].
        agents: Local date-time of an interval's start (``"1999-03-01T07:30"``, on the interval grid from
            midnight) -> headcount (>= 0, may be fractional, e.g. a mean over the interval). Times in
            increasing order; intervals not listed have no agents.
    """

    interval: PositiveDuration
    availability: float = Field(1.0, gt=0.0, le=1.0)
    agents: dict[str, Annotated[float, Field(ge=0.0)]]

    @field_validator("agents", mode="before")
    @classmethod
    def _text_keys(cls, value: object) -> object:
        # YAML reads an unquoted 1999-03-01T07:00:00 as a datetime: take it as the same local time.
        if isinstance(value, dict):
            return {k.isoformat() if isinstance(k, dt.datetime) else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _grid(self) -> StaffingTable:
        if 86400.0 % self.interval != 0:
            raise ValueError(
                f"interval {format_duration(self.interval)} does not divide the day; use e.g. 15min, 30min or 1h"
            )
        previous: tuple[str, dt.datetime] | None = None
        for key in self.agents:
            when = _table_time(key)
            tod = (when - dt.datetime.combine(when.date(), dt.time())).total_seconds()
            if tod % self.interval != 0:
                raise ValueError(
                    f"agents: {short_repr(key)} is not on the {format_duration(self.interval)} grid from midnight"
                )
            if previous is not None and when <= previous[1]:
                same = "is the same time as" if when == previous[1] else "comes before"
                raise ValueError(
                    f"agents: {short_repr(key)} {same} the previous entry {short_repr(previous[0])}; "
                    "times must strictly increase"
                )
            previous = (key, when)
        return self

    def points(self) -> list[tuple[dt.datetime, float]]:
        """``(interval start, headcount)`` in time order."""
        return [(_table_time(key), value) for key, value in self.agents.items()]


class AgentGroup(_Frozen):
    """Identical agents: channels, skills with proficiency, languages, cost and staffing.

    Attributes:
        channels: Channels the agents handle.
        skills: Intent -> proficiency, a handle-time multiplier (1.0 nominal, 0.8 = 20% faster).
        languages: Languages the agents speak (a hard routing constraint).
        concurrency: Cap on simultaneous contacts per agent; a channel's own concurrency also applies.
        hourly_cost: Cost per paid hour (currency units).
        staffing: Agents on the roster per shift template name (may be empty when ``staffing_table`` is given).
        staffing_table: Headcount per interval (see :class:`StaffingTable`); its agents come on top of the
            shift rosters of ``staffing``.
        rest_days: Rest days per week per agent (staggered across the roster, so daily coverage is even).
        absenteeism: Probability that an agent misses a scheduled shift.
        occupancy_cap: Deferrable work is only given to an idle agent while the share of the group's
            logged-in agents that are busy is below this cap (keeps agents free for live contacts).
        overtime_premium: Multiplier of ``hourly_cost`` for overtime hours (after shift end).
    """

    channels: list[str] = Field(min_length=1)
    skills: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    languages: list[str] = Field(min_length=1)
    concurrency: int | None = Field(None, ge=1, le=20)
    hourly_cost: float = Field(0.0, ge=0.0)
    staffing: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    staffing_table: StaffingTable | None = None
    rest_days: int = Field(0, ge=0, le=6)
    absenteeism: float = Field(0.0, ge=0.0, lt=1.0)
    occupancy_cap: float = Field(1.0, gt=0.0, le=1.0)
    overtime_premium: float = Field(1.5, ge=0.0)
    night_premium: float = Field(0.0, ge=0.0)
    """Extra share of ``hourly_cost`` paid for scheduled hours inside the scenario's night window (0.25 = +25%)."""

    @model_validator(mode="after")
    def _some_staffing(self) -> AgentGroup:
        if not self.staffing and self.staffing_table is None:
            raise ValueError("a group needs staffing (agents per shift) or a staffing_table")
        return self


# --------------------------------------------------------------------------------- bots, approvals, repeats


class Bot(_Frozen):
    """A chatbot in front of a channel: which contacts it sees is the deflection policy's choice.

    A bot session lasts ``session``; it ends resolved (contained) with the intent's ``resolution`` probability,
    abandoned with ``abandon``, as a silent failure with ``silent_failure`` (the customer leaves unresolved and,
    with ``return_share``, comes back after ``return_delay`` on one of ``return_channels``), and otherwise
    escalated: after ``handoff`` the contact joins the human queue. With ``context`` the agent sees the bot
    transcript (handle time x ``context_handle_factor``, patience left x ``context_patience_factor``); without
    it the customer repeats everything (``no_context_*``). Escalated contacts are the harder mix, so their handle
    time is also multiplied by ``escalated_handle_factor``.

    Attributes:
        session: Bot session length (an abandoning customer leaves part-way through).
        first_reply: Bot's first response time (the bot FRT, reported apart from the human FRT).
        resolution: Probability the bot resolves a contact of this intent; intents not listed use
            ``default_resolution``.
        abandon, silent_failure: Probabilities of the two other non-escalated endings.
        capacity: Simultaneous bot sessions (``None``: unlimited); when full, contacts go to humans directly.
        cost_per_session, cost_per_resolution, fixed_fee_per_day: Recurring bot fees (scenario currency): per
            session, per resolved session, per day of the horizon.
        setup_cost: One-off cost of setting the bot up (scenario currency), reported apart from the recurring
            costs and whatever the horizon.
    """

    session: Distribution = LognormalDist(mean="2min", cv=0.6)
    first_reply: Duration = 2.0
    resolution: dict[str, Share] = Field(default_factory=dict)
    default_resolution: Share = 0.0
    abandon: Share = 0.0
    silent_failure: Share = 0.0
    handoff: Duration = 30.0
    context: bool = True
    context_handle_factor: float = Field(0.85, gt=0.0)
    no_context_handle_factor: float = Field(1.15, gt=0.0)
    escalated_handle_factor: float = Field(1.0, gt=0.0)
    context_patience_factor: float = Field(0.9, gt=0.0)
    no_context_patience_factor: float = Field(0.6, gt=0.0)
    capacity: int | None = Field(None, ge=1)
    cost_per_session: float = Field(0.0, ge=0.0)
    cost_per_resolution: float = Field(0.0, ge=0.0)
    fixed_fee_per_day: float = Field(0.0, ge=0.0)
    setup_cost: float = Field(0.0, ge=0.0)
    return_share: Share = 1.0
    return_delay: Distribution = ExponentialDist(mean="2h")
    return_channels: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)

    def resolution_for(self, intent: str) -> float:
        """Probability the bot resolves a contact of ``intent``."""
        return self.resolution.get(intent, self.default_resolution)


class Approval(_Frozen):
    """Contacts of an intent that need an approval (a refund, a credit) and its amount.

    Attributes:
        share: Share of the intent's contacts that need an approval.
        amount_mean: Mean amount (currency); amounts are lognormal.
        amount_cv: Coefficient of variation of the amount.
    """

    share: Share
    amount_mean: float = Field(gt=0.0)
    amount_cv: float = Field(1.0, gt=0.0)


class TeamLeads(_Frozen):
    """The pool that handles synchronous escalations (the customer and the agent wait on hold).

    Attributes:
        count: Team leads on duty (all the time).
        handle: Time a team lead spends on one approval.
        hourly_cost: Cost per team-lead hour (currency).
    """

    count: int = Field(1, ge=0)
    handle: Distribution = ExponentialDist(mean="3min")
    hourly_cost: float = Field(0.0, ge=0.0)


class BackOffice(_Frozen):
    """Asynchronous escalations: the back office answers later; some customers chase before it does.

    With probability ``recontact_share`` a customer escalated to the back office chases: they contact again
    ``recontact_delay`` after the escalation, unless the back office has answered by then (its ``delay``; both
    drawn at arrival).

    Attributes:
        delay: Time from the escalation until the back office answers.
        recontact_share: Share of asynchronously escalated customers who chase if still unanswered.
        recontact_delay: Time from the escalation to the repeat contact.
        recontact_channel: Channel of the repeat contact (default: the original channel).
    """

    delay: Distribution = ExponentialDist(mean="24h")
    recontact_share: Share = 0.3
    recontact_delay: Distribution = ExponentialDist(mean="4h")
    recontact_channel: str | None = None


class Transfer(_Frozen):
    """Contacts of an intent that the first agent transfers to another skill (collaboration, e.g. to technical).

    After the first agent's handle time, a ``share`` of the intent's answered contacts joins the queue of the
    ``to`` intent (same channel, language, priority and tier) for a second service by an agent with that skill;
    the customer holds and may abandon (patience and handle time of the second service are drawn at arrival
    from the ``to`` intent's distributions on the contact's channel). The first answer is the contact's FRT;
    the second wait is reported as the transfer wait. An abandoned transfer is not first-contact resolution.

    Attributes:
        share: Share of the intent's answered contacts transferred.
        to: Intent (skill) of the second service.
    """

    share: Share
    to: str


class NightWindow(_Frozen):
    """The night window for night premiums (it may wrap past midnight)."""

    start: TimeOfDay = 22 * 3600.0
    end: TimeOfDay = 6 * 3600.0


# ------------------------------------------------------------------------------------------ targets, policies


def _calendar_date(value: object) -> dt.date:
    """A calendar date written ``2026-11-11`` (YAML reads it as a date, JSON as a string); nothing else."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        date = value
    elif isinstance(value, str):
        try:
            date = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected a calendar date YYYY-MM-DD, got {short_repr(value)}") from None
    else:
        raise ValueError(f"expected a calendar date YYYY-MM-DD, got {short_repr(value)}")
    if not YEARS[0] <= date.year <= YEARS[1]:
        raise ValueError(f"the year must be between {YEARS[0]} and {YEARS[1]}, got {short_repr(value)}")
    return date


CalendarDate = Annotated[dt.date, BeforeValidator(_calendar_date)]
"""A local calendar date (``2026-11-11``), in the years :data:`~sim.units.YEARS`."""


class TargetWindow(_Frozen):
    """The part of the calendar a target is judged on: dates, weekdays and a time of day, all optional.

    An interval (of ``reporting.interval``) belongs to the window when its start does. The times of day run
    from ``start`` to ``end``; an ``end`` at or before ``start`` wraps past midnight (``"22:00"`` to ``"02:00"``;
    ``"20:00"`` to ``"00:00"`` runs to midnight), and the hours after midnight then belong to the day the window
    opened on: ``dates`` and ``days`` select that opening day, and per-day attainment reports under it.
    Everything is the scenario's local wall-clock time. ``start`` and ``end`` (and midnight, when ``dates`` or
    ``days`` are given) must fall on reporting-interval boundaries, so no interval is partly in the window.

    Attributes:
        dates: Calendar dates the window opens on (``[2026-11-11]``); ``None``: every date.
        days: Weekdays the window opens on (``[mon, tue]``); ``None``: every day.
        start: Time of day the window opens (``"19:00"``); ``None``: midnight.
        end: Time of day the window closes (``"22:00"``); ``None``: midnight (the end of the day).

    Example:
        >>> import datetime as dt
        >>> w = TargetWindow.model_validate({"dates": ["2026-11-11"], "start": "19:00", "end": "22:00"})
        >>> w.describe()
        '2026-11-11 19:00–22:00'
        >>> w.window_day([0.0, 2 * 86400 + 19 * 3600.0], dt.datetime(2026, 11, 9)).tolist()
        [None, datetime.date(2026, 11, 11)]
    """

    dates: list[CalendarDate] | None = Field(None, min_length=1)
    days: list[Weekday] | None = Field(None, min_length=1)
    start: TimeOfDay | None = None
    end: TimeOfDay | None = None

    @property
    def bounds_s(self) -> tuple[float, float]:
        """``(open, close)`` in seconds after midnight; ``close <= open`` means the window wraps past midnight."""
        lo = 0.0 if self.start is None else self.start
        hi = 86400.0 if self.end is None or self.end == 0.0 else self.end
        return lo, hi

    @property
    def restricts(self) -> bool:
        """Whether the window leaves anything out (an empty window is the whole measured period)."""
        return any(v is not None for v in (self.dates, self.days, self.start, self.end))

    def window_day(self, t_s: Iterable[float] | np.ndarray, start: dt.datetime) -> np.ndarray:
        """The day the window opened on, for each time ``t_s`` (seconds from the scenario ``start``).

        Args:
            t_s: Times in seconds from ``start`` (interval starts, usually).
            start: The scenario's calendar start (local time).

        Returns:
            An object array of ``datetime.date`` (the window's opening day) or ``None`` outside the window.
        """
        t = np.asarray(t_s, dtype=float)
        midnight = dt.datetime.combine(start.date(), dt.time())
        local = (start - midnight).total_seconds() + t
        day = np.floor(local / 86400.0).astype(np.int64)
        tod = local - day * 86400.0
        lo, hi = self.bounds_s
        if hi > lo:
            inside = (tod >= lo) & (tod < hi)
        else:  # wraps: the part before `hi` belongs to the previous day's window
            inside = (tod >= lo) | (tod < hi)
            day = day - (tod < hi)
        out = np.full(t.shape, None, dtype=object)
        if not inside.any():
            return out
        first = int(day.min())
        dates = [start.date() + dt.timedelta(days=first + k) for k in range(int(day.max()) - first + 1)]
        allowed = np.array(
            [
                (self.dates is None or d in self.dates) and (self.days is None or WEEKDAYS[d.weekday()] in self.days)
                for d in dates
            ],
            dtype=bool,
        )
        index = day - first
        inside &= allowed[index]
        out[inside] = np.asarray(dates, dtype=object)[index[inside]]
        return out

    def describe(self) -> str:
        """The window in words, e.g. ``2026-11-11 19:00–22:00``, ``mon,tue 08:00–16:00``, ``all days``."""
        parts = []
        if self.dates is not None:
            parts.append(",".join(d.isoformat() for d in self.dates))
        if self.days is not None:
            parts.append(",".join(self.days))
        if self.start is not None or self.end is not None:
            lo, hi = self.bounds_s
            parts.append(f"{format_time_of_day(lo)}–{format_time_of_day(hi % 86400.0)}")
        return " ".join(parts) if parts else "all days"


class Target(_Frozen):
    """An FRT target ``P(FRT <= threshold | filter) >= level``; filters left out match everything.

    Attributes:
        name: Unique name (the ``target=<name>`` scope of its metrics).
        threshold: FRT threshold ``T``.
        level: Share of contacts that must be answered within ``T`` (``0.9`` = 90%).
        channel, priority, tier, intent: Filters; ``None`` matches everything.
        window: Part of the calendar the target is judged on (``None``: the whole measured period).
        aggregation: ``pooled``: the service level of all the window's contacts together must reach ``level``;
            ``every_interval``: the service level of every reporting interval of the window must (the usual
            "80/20 in every half-hour"; intervals without contacts do not count).
    """

    name: str
    threshold: PositiveDuration
    level: float = Field(gt=0.0, le=1.0)
    channel: str | None = None
    priority: Literal["urgent", "normal"] | None = None
    tier: Literal["vip", "regular"] | None = None
    intent: str | None = None
    window: TargetWindow | None = None
    aggregation: Literal["pooled", "every_interval"] = "pooled"


class Reporting(_Frozen):
    """How results are cut and what SL convention applies.

    Attributes:
        interval: Length of a reporting interval (contacts are attributed to the interval of their arrival).
        sl_convention: Abandonment convention of service level (see DESIGN §4).
        sl_thresholds: Extra SL thresholds reported besides the targets' ones.
    """

    interval: PositiveDuration = 1800.0
    sl_convention: SLConvention = "short_abandons_excluded"
    sl_thresholds: list[PositiveDuration] = Field(default_factory=lambda: [20.0])


class PolicySpec(_Frozen):
    """A policy chosen by registry name, with its parameters (validated by the policy's ``Params``)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class PolicySlots(_Frozen):
    """The four pluggable policy slots."""

    routing: PolicySpec = PolicySpec(name="longest_idle")
    deflection: PolicySpec = PolicySpec(name="none")
    staffing: PolicySpec = PolicySpec(name="fixed")
    empowerment: PolicySpec = PolicySpec(name="none")


# ---------------------------------------------------------------------------------------------------- scenario


def _unknown(path: tuple[str | int, ...], kind: str, value: str, known: Iterable[str]) -> Problem:
    """``unknown <kind> 'value'; known: [...]`` at ``path``."""
    names = sorted(known)
    shown = "[" + ", ".join(short_repr(n) for n in names[:20]) + "]"
    shown += f" and {len(names) - 20} more" if len(names) > 20 else ""
    return Problem(path, f"unknown {kind} {short_repr(value)}; known: {shown}", value=value, expected=f"one of {shown}")


def _check_names(scenario: Scenario) -> list[Problem]:
    """Names holding control or format characters (they end up in folder names, tables and terminals).

    ``str.isprintable`` decides: C0/C1 controls, bidirectional overrides and line separators are refused.

    Checked: the scenario's name and the keys of channels, intents, groups, shifts, languages and targets.
    """
    names: list[tuple[tuple[str | int, ...], str]] = [(("name",), scenario.name)]
    for section in ("channels", "intents", "groups", "shifts", "bots", "approvals", "transfers"):
        names += [((section, key), key) for key in getattr(scenario, section)]
    names += [(("customers", "languages", key), key) for key in scenario.customers.languages]
    names += [(("targets", i, "name"), t.name) for i, t in enumerate(scenario.targets)]
    return [
        Problem(path, f"{short_repr(name)} holds a control character; names must be printable text", value=name)
        for path, name in names
        if not name.isprintable()
    ]


class Scenario(_Frozen):
    """A whole contact-center scenario.

    Attributes:
        name: Short identifier.
        description: Free text.
        start: Calendar start of the simulation (day-of-week and time-of-day profiles apply from it).
        horizon: Simulated length; contacts arrive in ``[0, horizon)`` seconds.
        warmup: Initial period excluded from every metric.
        channels, intents, customers, arrivals, shifts, groups, targets, reporting, policies: see their models.
        bots: A bot per channel it sits in front of (used when the deflection policy offers contacts to it).
        approvals: Intents whose contacts may need an approval, with the amount (see the empowerment policy).
        transfers: Intents whose contacts may need a second service by another skill after the first.
        team_leads, back_office: Where escalated approvals go (synchronous / asynchronous).
        night: Night window for the groups' ``night_premium``.
    """

    name: str
    description: str = ""
    start: DateTime = dt.datetime(2026, 11, 9)
    horizon: PositiveDuration
    warmup: Duration = 0.0
    channels: dict[str, Channel] = Field(min_length=1)
    intents: dict[str, Intent] = Field(min_length=1)
    customers: Customers = Customers()
    arrivals: Arrivals
    shifts: dict[str, Shift] = Field(default_factory=dict)
    groups: dict[str, AgentGroup] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    reporting: Reporting = Reporting()
    policies: PolicySlots = PolicySlots()
    bots: dict[str, Bot] = Field(default_factory=dict)
    approvals: dict[str, Approval] = Field(default_factory=dict)
    transfers: dict[str, Transfer] = Field(default_factory=dict)
    team_leads: TeamLeads = TeamLeads()
    back_office: BackOffice = BackOffice()
    night: NightWindow = NightWindow()
    plans: list[Plan] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems: list[Problem] = []
        channels, intents = set(self.channels), set(self.intents)
        languages = set(self.customers.languages)
        if self.warmup >= self.horizon:
            problems.append(
                Problem(
                    ("warmup",),
                    f"warmup ({self.warmup:g}s) must be shorter than horizon ({self.horizon:g}s)",
                    value=self.warmup,
                    expected=f"less than horizon ({self.horizon:g}s)",
                    show_path=False,
                )
            )
        for name, spec in self.intents.items():
            for ch in spec.handle_by_channel:
                if ch not in channels:
                    problems.append(_unknown(("intents", name, "handle_by_channel"), "channel", ch, channels))
        where: tuple[str | int, ...]
        for gname, group in self.groups.items():
            where = ("groups", gname)
            for ch in group.channels:
                if ch not in channels:
                    problems.append(_unknown((*where, "channels"), "channel", ch, channels))
            for skill in group.skills:
                if skill not in intents:
                    problems.append(_unknown((*where, "skills"), "intent", skill, intents))
            for shift in group.staffing:
                if shift not in self.shifts:
                    problems.append(_unknown((*where, "staffing"), "shift", shift, self.shifts))
            for lang in group.languages:
                if lang not in languages:
                    problems.append(_unknown((*where, "languages"), "language", lang, languages))
        seen_targets: dict[str, int] = {}
        for i, target in enumerate(self.targets):
            if target.name in seen_targets:
                problems.append(
                    Problem(
                        ("targets", i, "name"),
                        f"duplicate target name {short_repr(target.name)} (also targets[{seen_targets[target.name]}]); "
                        "each target needs its own name",
                        value=target.name,
                        expected="a name no other target has",
                    )
                )
            seen_targets.setdefault(target.name, i)
            if target.channel is not None and target.channel not in channels:
                problems.append(_unknown(("targets", i, "channel"), "channel", target.channel, channels))
            if target.intent is not None and target.intent not in intents:
                problems.append(_unknown(("targets", i, "intent"), "intent", target.intent, intents))
            problems.extend(self._check_window(i, target))
        if isinstance(self.arrivals, GeneratedArrivals):
            problems.extend(self._check_generated(self.arrivals, channels, intents, languages))
        problems.extend(self._check_bots(channels, intents))
        for intent in self.approvals:
            if intent not in intents:
                problems.append(_unknown(("approvals",), "intent", intent, intents))
        for intent, transfer in self.transfers.items():
            if intent not in intents:
                problems.append(_unknown(("transfers",), "intent", intent, intents))
            where = ("transfers", intent, "to")
            if transfer.to not in intents:
                problems.append(_unknown(where, "intent", transfer.to, intents))
            elif transfer.to == intent:
                problems.append(
                    Problem(
                        where,
                        "a contact cannot be transferred to its own intent",
                        value=transfer.to,
                        expected=f"an intent other than {intent!r}",
                    )
                )
        bo = self.back_office.recontact_channel
        if bo is not None and bo not in channels:
            problems.append(_unknown(("back_office", "recontact_channel"), "channel", bo, channels))
        problems.extend(_check_names(self))
        problems.extend(plan_problems(self))
        if problems:
            raise ScenarioProblemsError(problems)
        return self

    def _check_window(self, i: int, target: Target) -> list[Problem]:
        """A target's window: on reporting-interval boundaries, and holding at least one measured interval."""
        window = target.window
        if window is None or not window.restricts:
            return []
        where: tuple[str | int, ...] = ("targets", i, "window")
        interval = self.reporting.interval
        start_tod = (self.start - dt.datetime.combine(self.start.date(), dt.time())).total_seconds()
        lo, hi = window.bounds_s
        bounds = [lo, hi] if window.start is not None or window.end is not None else [0.0]
        if 86400.0 % interval != 0 or any((b - start_tod) % interval != 0 for b in bounds):
            shown = ", ".join(format_time_of_day(b % 86400.0) for b in bounds)
            return [
                Problem(
                    where,
                    f"the window of target {short_repr(target.name)} opens or closes at {shown}, not on a "
                    f"boundary of the {format_duration(interval)} reporting intervals (which start at "
                    f"{format_time_of_day(start_tod)}); an interval would lie partly in the window",
                    value=shown,
                    expected=f"times of day on the {format_duration(interval)} grid",
                )
            ]
        # The window selects a measured interval iff it is open at the measured start or opens before the horizon.
        measured = self.measure_start_s
        n_days = math.ceil((start_tod + self.horizon) / 86400.0) + 1
        opens = np.arange(-1, n_days + 1) * 86400.0 + lo - start_tod
        candidates = np.concatenate([[measured], opens[(opens >= measured) & (opens < self.horizon)]])
        if measured < self.horizon and any(d is not None for d in window.window_day(candidates, self.start)):
            return []
        first = self.start + dt.timedelta(seconds=measured)
        last = self.start + dt.timedelta(seconds=self.horizon)
        return [
            Problem(
                where,
                f"the window of target {short_repr(target.name)} ({window.describe()}) selects no measured "
                f"interval: the measured period runs from {first:%Y-%m-%d %H:%M} (after the warm-up) to "
                f"{last:%Y-%m-%d %H:%M}",
                value=window.describe(),
                expected="a window that overlaps the measured period",
            )
        ]

    def _check_bots(self, channels: set[str], intents: set[str]) -> list[Problem]:
        problems = []
        for ch, bot in self.bots.items():
            where = ("bots", ch)
            if ch not in channels:
                problems.append(_unknown(where, "channel", ch, channels))
            for intent in bot.resolution:
                if intent not in intents:
                    problems.append(_unknown((*where, "resolution"), "intent", intent, intents))
            for other in bot.return_channels:
                if other not in channels:
                    problems.append(_unknown((*where, "return_channels"), "channel", other, channels))
            for intent in intents:
                total = bot.resolution_for(intent) + bot.abandon + bot.silent_failure
                if total > 1.0 + 1e-9:
                    message = (
                        f"resolution ({bot.resolution_for(intent):g}) + abandon ({bot.abandon:g}) + "
                        f"silent_failure ({bot.silent_failure:g}) for intent {intent!r} is {total:g}; must be <= 1"
                    )
                    problems.append(Problem(where, message, value=total, expected="<= 1"))
        return problems

    def _check_generated(
        self, arrivals: GeneratedArrivals, channels: set[str], intents: set[str], languages: set[str]
    ) -> list[Problem]:
        problems = []
        for ch, spec in arrivals.channels.items():
            where = ("arrivals", "channels", ch)
            if ch not in channels:
                problems.append(_unknown(where, "channel", ch, channels))
                continue
            for intent, weight in spec.intent_mix.items():
                if intent not in intents:
                    problems.append(_unknown((*where, "intent_mix"), "intent", intent, intents))
                    continue
                if weight <= 0 or spec.daily_volume <= 0:
                    continue
                for lang in languages:
                    if not self.eligible_groups(ch, intent, lang):
                        problems.append(
                            Problem(
                                where,
                                f"no agent group serves channel {ch!r}, intent {intent!r}, language {lang!r}",
                                value=(ch, intent, lang),
                                expected="a group with this channel, skill and language",
                            )
                        )
        for i, event in enumerate(arrivals.promotions):
            for ch in event.channels or []:
                if ch not in channels:
                    problems.append(
                        Problem(
                            ("arrivals", "promotions", i, "channels"),
                            f"unknown channel {ch!r}",
                            value=ch,
                            expected=f"one of {sorted(channels)}",
                        )
                    )
        for i, outage in enumerate(arrivals.outages):
            for field, name in (("channel", outage.channel), ("moved_to", outage.moved_to)):
                if name is not None and name not in channels:
                    problems.append(_unknown(("arrivals", "outages", i, field), "channel", name, channels))
        for i, outage in enumerate(arrivals.outages):
            for j, earlier in enumerate(arrivals.outages[:i]):
                if earlier.channel == outage.channel and outage.start < earlier.end and earlier.start < outage.end:
                    problems.append(
                        Problem(
                            ("arrivals", "outages", i),
                            f"this outage of channel {outage.channel!r} overlaps outage {j} of the same channel "
                            f"({earlier.start:%Y-%m-%d %H:%M} to {earlier.end:%Y-%m-%d %H:%M})",
                            value=f"{outage.start:%Y-%m-%d %H:%M} to {outage.end:%Y-%m-%d %H:%M}",
                            expected="outages of one channel that do not overlap (merge them, or use a notice)",
                        )
                    )
        end = self.start + dt.timedelta(seconds=self.horizon)
        events: list[tuple[str, int, Promotion | Outage]] = [
            *(("promotions", i, e) for i, e in enumerate(arrivals.promotions)),
            *(("outages", i, e) for i, e in enumerate(arrivals.outages)),
        ]
        for kind, i, window in events:
            if window.end <= self.start or window.start >= end:
                problems.append(
                    Problem(
                        ("arrivals", kind, i),
                        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} lies outside the horizon "
                        f"({self.start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}); it would change nothing: "
                        f"move it, lengthen the horizon, or remove it",
                        expected="a window that overlaps the horizon",
                    )
                )
        return problems

    # ------------------------------------------------------------------------------------------- derived views

    def eligible_groups(self, channel: str, intent: str, language: str) -> list[str]:
        """Names of the groups whose agents may serve a contact with these attributes."""
        return [
            name
            for name, g in self.groups.items()
            if channel in g.channels and intent in g.skills and language in g.languages
        ]

    def concurrency(self, group: str, channel: str) -> int:
        """Most simultaneous contacts of ``channel`` an agent of ``group`` handles."""
        cap = self.groups[group].concurrency
        return min(self.channels[channel].concurrency, cap) if cap is not None else self.channels[channel].concurrency

    def patience_for(self, channel: str, intent: str) -> Any:
        """Patience distribution for a contact of this channel and intent (no ``patience_by`` rule applied)."""
        if self.channels[channel].kind == "deferrable":
            return NoAbandonment()
        own = self.intents[intent].patience
        return own if own is not None else self.channels[channel].patience

    def patience_rules_for(self, channel: str, intent: str) -> list[PatienceRule]:
        """The intent's ``patience_by`` rules on this channel (none on a deferrable channel)."""
        if self.channels[channel].kind == "deferrable":
            return []
        return list(self.intents[intent].patience_by)

    def wrap_up_for(self, channel: str, intent: str) -> Any:
        """Wrap-up distribution of a contact of this channel and intent, or ``None`` for none."""
        own = self.intents[intent].wrap_up
        return own if own is not None else self.channels[channel].wrap_up

    @property
    def has_wrap_up(self) -> bool:
        """Whether any channel or intent has a wrap-up."""
        return any(c.wrap_up is not None for c in self.channels.values()) or any(
            i.wrap_up is not None for i in self.intents.values()
        )

    def sl_thresholds_s(self) -> list[float]:
        """Sorted distinct SL thresholds (seconds): the targets' and the reporting extras."""
        values = {t.threshold for t in self.targets} | set(self.reporting.sl_thresholds)
        return sorted(values)

    @property
    def measure_start_s(self) -> float:
        """Start of the measured period: the warm-up rounded up to a reporting-interval boundary (seconds)."""
        interval = self.reporting.interval
        return float(min(math.ceil(self.warmup / interval - 1e-9) * interval, self.horizon))

    @property
    def n_intervals(self) -> int:
        """Number of reporting intervals covering the horizon."""
        return math.ceil(self.horizon / self.reporting.interval - 1e-9)


def single_queue(
    *,
    arrival_rate_per_s: float,
    mean_handle_s: float,
    n_agents: int,
    mean_patience_s: float | None = None,
    horizon: str = "3d",
    warmup: str = "0s",
    interval: str = "30min",
    sl_convention: SLConvention = "short_abandons_excluded",
    name: str = "single_queue",
) -> Scenario:
    """The textbook M/M/c (Erlang C) or, with a patience, M/M/c+M (Erlang A) queue as a scenario.

    One voice channel, one intent with exponential handle time, Poisson arrivals at a constant rate, one group
    of ``n_agents`` on duty around the clock, exponential patience (or none), and no short-abandon exclusion.

    Args:
        arrival_rate_per_s: Arrivals per second.
        mean_handle_s: Mean handle time in seconds.
        n_agents: Agents on duty.
        mean_patience_s: Mean patience in seconds; ``None`` means nobody abandons.
        horizon: Simulated length, with a unit.
        warmup: Excluded start, with a unit.
        interval: Reporting interval, with a unit.
        sl_convention: SL abandonment convention.
        name: Scenario name.

    Example:
        >>> sc = single_queue(arrival_rate_per_s=100 / 1800, mean_handle_s=180, n_agents=14)
        >>> sc.groups["agents"].staffing
        {'always': 14}
    """
    patience: dict[str, str] = {"dist": "none"}
    if mean_patience_s is not None:
        patience = {"dist": "exponential", "mean": format_duration(mean_patience_s)}
    return Scenario.model_validate(
        {
            "name": name,
            "horizon": horizon,
            "warmup": warmup,
            "channels": {"voice": {"patience": patience, "short_abandon": "0s"}},
            "intents": {"general": {"handle": {"dist": "exponential", "mean": format_duration(mean_handle_s)}}},
            "arrivals": {
                "kind": "generated",
                "channels": {"voice": {"daily_volume": arrival_rate_per_s * 86400, "intent_mix": {"general": 1}}},
            },
            "shifts": {"always": {"start": "00:00", "length": "24h"}},
            "groups": {
                "agents": {
                    "channels": ["voice"],
                    "skills": {"general": 1.0},
                    "languages": ["en"],
                    "staffing": {"always": n_agents},
                }
            },
            "reporting": {"interval": interval, "sl_convention": sl_convention},
        }
    )
