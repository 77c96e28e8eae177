"""Rosters: individual agents and their on-duty blocks, built from shift templates or given explicitly.

Staffing policies return a list of :class:`~sim.interfaces.AgentShifts`; :func:`template_roster` is the common
case (a headcount per group and shift template, repeated every working day with staggered rest days) that the
default policy and the Erlang-based policy share. Night premiums need the night seconds of a block, from
:func:`night_seconds`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from sim.config import WEEKDAYS, Scenario
from sim.interfaces import AgentShifts

__all__ = ["day_zero_offset_s", "night_seconds", "template_roster"]


def day_zero_offset_s(scenario: Scenario) -> float:
    """Seconds from midnight of the start date to the scenario start."""
    t0 = scenario.start
    return (t0 - dt.datetime.combine(t0.date(), dt.time())).total_seconds()


def template_roster(scenario: Scenario, counts: Mapping[str, Mapping[str, int]] | None = None) -> list[AgentShifts]:
    """Agents per group and shift template, each with its blocks on every working day inside the horizon.

    Args:
        scenario: The scenario (shift templates, rest days, break stagger, calendar).
        counts: Agents per group name and shift name; default each group's ``staffing``. Groups left out have
            no agents.

    Returns:
        One entry per agent, groups in scenario order, shifts in ``counts`` order. Agent ``k`` of a group takes
        its rest days on weekdays ``k, k+1, ...`` (mod 7), so daily coverage is even; agent ``k`` of ``n`` on a
        shift takes each break ``k * break_stagger / n`` later.
    """
    if counts is None:
        counts = {name: group.staffing for name, group in scenario.groups.items()}
    offset0 = day_zero_offset_s(scenario)
    day0 = dt.datetime.combine(scenario.start.date(), dt.time())
    horizon = scenario.horizon
    n_days = math.ceil((offset0 + horizon) / 86400.0) + 1
    roster: list[AgentShifts] = []
    for gname, group in scenario.groups.items():
        for shift_name, n in counts.get(gname, {}).items():
            shift = scenario.shifts[shift_name]
            for k in range(n):
                blocks = []
                for d in range(-1, n_days):
                    day = day0 + dt.timedelta(days=d)
                    if WEEKDAYS[day.weekday()] not in shift.days:
                        continue
                    if group.rest_days and (day.weekday() - k) % 7 < group.rest_days:
                        continue
                    start = d * 86400.0 + shift.start - offset0
                    end = start + shift.length
                    if end <= 0.0 or start >= horizon:
                        continue
                    offset = shift.break_stagger * k / n
                    breaks = tuple((start + b.after + offset, b.length) for b in shift.breaks)
                    blocks.append((d, start, end, breaks))
                roster.append(AgentShifts(gname, shift_name, tuple(blocks)))
    return roster


def night_seconds(scenario: Scenario, start_s: float, end_s: float) -> float:
    """Seconds of ``[start_s, end_s)`` inside the scenario's night window (which may wrap past midnight)."""
    if end_s <= start_s:
        return 0.0
    offset0 = day_zero_offset_s(scenario)
    a, b = start_s + offset0, end_s + offset0  # seconds from midnight of day 0
    ns, ne = scenario.night.start, scenario.night.end
    windows = [(ns, ne)] if ns < ne else [(0.0, ne), (ns, 86400.0)]
    total = 0.0
    for d in range(math.floor(a / 86400.0), math.floor(b / 86400.0) + 1):
        base = d * 86400.0
        for ws, we in windows:
            total += max(0.0, min(b, base + we) - max(a, base + ws))
    return total
