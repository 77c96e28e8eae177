"""Targets (with their time windows), reporting and the policy slots.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field

from sim.config.base import WEEKDAYS, FrozenModel, SLConvention, Weekday
from sim.problems import short_repr
from sim.units import YEARS, PositiveDuration, TimeOfDay, format_time_of_day

__all__ = ["PolicySlots", "PolicySpec", "Reporting", "Target", "TargetWindow"]


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


class TargetWindow(FrozenModel):
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


class Target(FrozenModel):
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


class Reporting(FrozenModel):
    """How results are cut and what SL convention applies.

    Attributes:
        interval: Length of a reporting interval (contacts are attributed to the interval of their arrival).
        sl_convention: Abandonment convention of service level (see DESIGN §4).
        sl_thresholds: Extra SL thresholds reported besides the targets' ones.
    """

    interval: PositiveDuration = 1800.0
    sl_convention: SLConvention = "short_abandons_excluded"
    sl_thresholds: list[PositiveDuration] = Field(default_factory=lambda: [20.0])


class PolicySpec(FrozenModel):
    """A policy chosen by registry name, with its parameters (validated by the policy's ``Params``)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class PolicySlots(FrozenModel):
    """The four pluggable policy slots."""

    routing: PolicySpec = PolicySpec(name="longest_idle")
    deflection: PolicySpec = PolicySpec(name="none")
    staffing: PolicySpec = PolicySpec(name="fixed")
    empowerment: PolicySpec = PolicySpec(name="none")
