"""Workforce models: shift templates and breaks, staffing tables, agent groups.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.config.base import WEEKDAYS, FrozenModel, Weekday
from sim.problems import short_repr
from sim.units import YEARS, Duration, PositiveDuration, TimeOfDay, format_duration

__all__ = ["AgentGroup", "Break", "Shift", "StaffingTable"]


class Break(FrozenModel):
    """A break placed ``after`` the shift start; taken as soon as the agent is free from that time on."""

    after: Duration
    length: PositiveDuration


class Shift(FrozenModel):
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


class StaffingTable(FrozenModel):
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


class AgentGroup(FrozenModel):
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
