"""Demand models: intents, customers, generated and replayed arrivals, promotions and outages.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.config.base import FrozenModel, Share, Weekday
from sim.config.channels import _finite_wrap_up
from sim.distributions import Distribution, LognormalDist
from sim.units import MODEL_CONFIG, DateTime, Duration, Instant, PositiveDuration, TimeOfDay

__all__ = [
    "Arrivals",
    "ChannelArrivals",
    "Customers",
    "GeneratedArrivals",
    "Intent",
    "Outage",
    "OutageNotice",
    "OutageShares",
    "PatienceRule",
    "Promotion",
    "ReplayArrivals",
]


class PatienceRule(FrozenModel):
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


class Intent(FrozenModel):
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
        max_wait: Overrides the channel's ``max_wait`` for this intent on live channels (seconds; a contact still
            waiting then is ``timed_out``).
    """

    handle: Distribution = LognormalDist(mean="5min", cv=1.0)
    handle_by_channel: dict[str, Distribution] = Field(default_factory=dict)
    patience: Distribution | None = None
    patience_by: list[PatienceRule] = Field(default_factory=list)
    urgent_share: Share = 0.0
    max_wait: PositiveDuration | None = None
    wrap_up: Distribution | None = None

    @model_validator(mode="after")
    def _wrap_up_ends(self) -> Intent:
        _finite_wrap_up(self.wrap_up)
        return self

    def handle_for(self, channel: str) -> Any:
        """Handle-time distribution of this intent on ``channel``."""
        return self.handle_by_channel.get(channel, self.handle)


class Customers(FrozenModel):
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


class ChannelArrivals(FrozenModel):
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


class Promotion(FrozenModel):
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


class OutageShares(FrozenModel):
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


class GeneratedArrivals(FrozenModel):
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


class ReplayArrivals(FrozenModel):
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
