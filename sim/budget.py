"""What a scenario asks of the machine and of the center, estimated before anything is allocated.

Two checks that need no simulation:

* :func:`estimate` and :func:`check_limits`: the work and memory one replication will take (contacts, agents,
  interval rows, memory), refused beyond :data:`LIMITS` with the estimate in the message. ``ccsim validate`` and
  ``ccsim run`` call them before any array is allocated; :func:`sim.engine.run` calls them too.
* :func:`scenario_warnings`: things that are valid but probably not meant: a channel no group serves, no agent
  on the roster at all, a customer language no agent speaks, and offered load above the rostered capacity of a
  channel (by interval), or of the whole center over the horizon (then the queue grows without bound unless
  customers abandon).

Offered load is the expected-arrival model of :func:`sim.arrivals.expected_rates` times the mean handle time,
divided by the channel's concurrency, minus what bots resolve or lose (if the deflection policy uses bots).
Capacity is the fixed roster's agents on duty (rest days and absenteeism in expectation, breaks ignored), so an
"overloaded" warning is conservative: the real capacity is lower.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np

from sim.arrivals import expected_rates
from sim.config import WEEKDAYS, GeneratedArrivals, Scenario, StaffingTable
from sim.engine.staffing_table import available_headcounts
from sim.problems import Problem
from sim.roster import day_zero_offset_s
from sim.units import format_duration

__all__ = [
    "LIMITS",
    "Estimate",
    "Limits",
    "Load",
    "check_limits",
    "estimate",
    "offered_vs_capacity",
    "scenario_warnings",
    "shift_coverage",
]

DAY_S = 86400.0
_FIXED_ROSTER = ("fixed", "reactive_overtime")
"""Staffing policies whose roster is the groups' ``staffing`` (others compute it; capacity is then not checked)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one replication may ask for; beyond, ``validate`` and ``run`` refuse with the estimate.

    Attributes:
        horizon_s: Longest horizon (seconds): 3 years.
        groups: Most agent groups.
        agents: Most agents on the roster.
        contacts: Most expected contacts per replication (generated arrivals; replay logs have their own limit):
            even if every one waited to the end, a replication would stay under ``memory_bytes``.
        interval_rows: Most rows of the per-interval table per replication (intervals x channels x 2 priorities x 2
            tiers): a 1 s reporting interval over a week is 2.4 million rows for one channel.
        memory_bytes: Most estimated memory of one replication beyond the process itself (each worker runs one).
    """

    horizon_s: float = 3 * 366 * DAY_S
    groups: int = 1_000
    agents: int = 100_000
    contacts: float = 10_000_000
    interval_rows: int = 2_000_000
    memory_bytes: float = 4 * 2**30


LIMITS = Limits()
"""The limits ccsim enforces (README, "Input limits")."""

# Bytes per unit, measured on 1M-contact and 1 s-interval runs (peak resident set minus the bare process), rounded
# up: a contact-log row, a contact waiting in a queue, an agent, an interval-table cell (accumulator, frame and
# metrics copies), a contact of the largest arrival day held in memory.
_LOG_ROW_B, _WAITING_B, _AGENT_B, _CELL_B, _ARRIVAL_B = 450.0, 400.0, 4096.0, 32.0, 120.0


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Expected size of one replication.

    Attributes:
        horizon_s: Horizon (seconds).
        contacts: Expected arrivals (``None`` for a replay log: its row count is checked when it is read).
        agents: Agents on the fixed roster (``None`` when a staffing policy computes the roster).
        interval_rows: Rows of the per-interval table.
        staffing_rows: Rows of the per-interval staffing table (intervals x groups).
        backlog: Contacts expected to be still waiting at the end when offered work exceeds capacity over the
            horizon and customers never abandon (they stay in memory until the end), else 0.
        busiest_day: Expected arrivals on the busiest day (generated up front, one day at a time).
    """

    horizon_s: float
    contacts: float | None
    agents: int | None
    interval_rows: int
    staffing_rows: int
    backlog: float
    busiest_day: float

    def memory_bytes(self, log: bool = False) -> float:
        """Estimated peak memory of the replication beyond the bare process (bytes), with or without the log."""
        columns = 20 + 3 * 4  # counts, sums and levels, plus three columns per SL threshold (four typical)
        size = self.interval_rows * columns * _CELL_B + self.staffing_rows * 8 * _CELL_B
        size += (self.agents or 0) * _AGENT_B + self.backlog * _WAITING_B + self.busiest_day * _ARRIVAL_B
        if log:
            size += (self.contacts or 0.0) * _LOG_ROW_B
        return size

    def describe(self, log: bool = False) -> str:
        """One line for people: ``about 1.2 million contacts, 40 agents, 8,064 interval rows, ~60 MiB``."""
        parts = [f"horizon {format_duration(self.horizon_s)}"]
        if self.contacts is not None:
            parts.append(f"about {_count(self.contacts)} contacts")
        if self.agents is not None:
            parts.append(f"{self.agents:,} agents")
        parts.append(f"{self.interval_rows:,} interval rows")
        if self.backlog:
            parts.append(f"about {_count(self.backlog)} contacts still waiting at the end")
        parts.append(f"about {_mib(self.memory_bytes(log))} of memory per replication")
        return ", ".join(parts)


def _count(n: float) -> str:
    if n >= 1e9:
        return f"{n:.3g}"
    return f"{n / 1e6:,.1f} million" if n >= 1e6 else f"{n:,.0f}"


def _mib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{max(n / 2**20, 1):,.0f} MiB"


def _roster_size(scenario: Scenario) -> int | None:
    if scenario.policies.staffing.name not in _FIXED_ROSTER:
        return None
    total = sum(sum(group.staffing.values()) for group in scenario.groups.values())
    for group in scenario.groups.values():  # a staffing table's agents: its largest whole headcount
        if group.staffing_table is not None:
            total += int(max(available_headcounts(group.staffing_table)[1], default=0))
    return total


def estimate(scenario: Scenario) -> Estimate:
    """The expected size of one replication of ``scenario`` (cheap: no draws, no roster, no arrays per contact).

    Beyond :data:`LIMITS` ``horizon_s`` only the sizes that need no per-slice arrays are filled in (contacts
    from the daily volumes); :func:`check_limits` refuses such a scenario anyway.
    """
    n_intervals = scenario.n_intervals
    interval_rows = n_intervals * len(scenario.channels) * 4
    staffing_rows = n_intervals * len(scenario.groups)
    agents = _roster_size(scenario)
    contacts: float | None = None
    backlog = busiest = 0.0
    if isinstance(scenario.arrivals, GeneratedArrivals):
        arrivals = scenario.arrivals
        daily = sum(c.daily_volume for c in arrivals.channels.values())
        peak_factor = max([1.0, *arrivals.day_of_week.values()]) * max([1.0, *(p.factor for p in arrivals.promotions)])
        busiest = daily * peak_factor
        contacts = daily * scenario.horizon / DAY_S
        small = contacts <= LIMITS.contacts and len(scenario.groups) <= LIMITS.groups
        if small and scenario.horizon <= LIMITS.horizon_s:
            times, rates = expected_rates(scenario, 3600.0)
            widths = np.diff(np.append(times, scenario.horizon))
            contacts = float(sum(np.dot(rate, widths) for rate in rates.values()))
            load = offered_vs_capacity(scenario)
            backlog = load.backlog if load is not None else 0.0
    return Estimate(scenario.horizon, contacts, agents, interval_rows, staffing_rows, backlog, busiest)


def check_limits(scenario: Scenario, *, log: bool = False) -> list[Problem]:
    """Problems for every :data:`LIMITS` the scenario exceeds, each with the estimate (empty when it fits)."""
    problems = []
    if scenario.horizon > LIMITS.horizon_s:
        problems.append(
            Problem(
                ("horizon",),
                f"{format_duration(scenario.horizon)} is longer than the {format_duration(LIMITS.horizon_s)} ccsim "
                "simulates; run a shorter horizon (a year covers every season)",
                value=scenario.horizon,
                expected=f"at most {format_duration(LIMITS.horizon_s)}",
            )
        )
    if len(scenario.groups) > LIMITS.groups:
        problems.append(
            Problem(
                ("groups",),
                f"{len(scenario.groups):,} agent groups; at most {LIMITS.groups:,} are supported",
                expected=f"at most {LIMITS.groups:,} groups",
            )
        )
    est = estimate(scenario)
    if est.agents is not None and est.agents > LIMITS.agents:
        problems.append(
            Problem(
                ("groups",),
                f"{est.agents:,} agents on the roster; at most {LIMITS.agents:,} are supported",
                expected=f"at most {LIMITS.agents:,} agents",
            )
        )
    if est.contacts is not None and est.contacts > LIMITS.contacts:
        problems.append(
            Problem(
                ("arrivals",),
                f"about {_count(est.contacts)} contacts per replication are expected; at most "
                f"{_count(LIMITS.contacts)} are supported (shorten the horizon or lower the volumes)",
                expected=f"at most {_count(LIMITS.contacts)} contacts",
            )
        )
    if est.interval_rows > LIMITS.interval_rows:
        problems.append(
            Problem(
                ("reporting", "interval"),
                f"{format_duration(scenario.reporting.interval)} intervals over {format_duration(scenario.horizon)} "
                f"make {est.interval_rows:,} rows of the interval table; at most {LIMITS.interval_rows:,} are "
                "supported (use a longer reporting interval)",
                expected=f"at most {LIMITS.interval_rows:,} interval rows",
            )
        )
    memory = est.memory_bytes(log)
    if memory > LIMITS.memory_bytes and not problems:
        what = "with the contact log " if log else ""
        problems.append(
            Problem(
                (),
                f"one replication {what}would need about {_mib(memory)} of memory ({est.describe(log)}); at most "
                f"{_mib(LIMITS.memory_bytes)} is supported",
                expected=f"at most {_mib(LIMITS.memory_bytes)}",
                show_path=False,
            )
        )
    return problems


# ------------------------------------------------------------------------------------------ load and capacity


@dataclasses.dataclass(frozen=True)
class Load:
    """Offered load and rostered capacity per channel and hour.

    Attributes:
        times_s: Start of each hour slice (seconds from the scenario start).
        offered: Channel -> offered load per slice (agents' worth of work, i.e. Erlangs / concurrency).
        capacity: Channel -> agents on duty who serve the channel, per slice (an agent serving two channels
            counts for both: an optimistic bound for each).
        total_offered, total_capacity: Agent-hours of work offered, and rostered, over the horizon, whole center.
        contacts: Expected arrivals over the horizon.
        backlog: Expected contacts still waiting at the end if no one abandons (0 when capacity suffices).
    """

    times_s: np.ndarray
    offered: dict[str, np.ndarray]
    capacity: dict[str, np.ndarray]
    total_offered: float
    total_capacity: float
    contacts: float
    backlog: float


def shift_coverage(scenario: Scenario, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """Instances of each shift template in progress per slice, as a time-weighted mean (no rest days, no absences).

    A shift that runs on a slice's day and covers half of the slice counts 0.5 there; two overlapping instances of
    one template (a shift longer than a day) count 2. Multiply by a headcount and by the share of agents at work
    (rest days, absenteeism) to get agents on duty.

    Args:
        scenario: The scenario (shift templates, calendar start, horizon).
        bounds: Slice boundaries in seconds from the scenario start, increasing; slice ``k`` is
            ``[bounds[k], bounds[k+1])`` (a zero-width slice gets 0).

    Returns:
        Shift name -> array of ``len(bounds) - 1`` values.
    """
    offset0 = day_zero_offset_s(scenario)
    first = scenario.start.date().weekday()
    days = np.arange(-1, math.ceil((offset0 + float(bounds[-1])) / DAY_S) + 1)
    widths = np.where(np.diff(bounds) > 0, np.diff(bounds), 1.0)
    per_shift = {}
    for name, shift in scenario.shifts.items():
        runs = np.isin((first + days) % 7, [WEEKDAYS.index(d) for d in shift.days])
        starts = np.sort(days[runs] * DAY_S + shift.start - offset0)
        prefix = np.concatenate(([0.0], np.cumsum(starts)))

        def covered(t: np.ndarray, starts=starts, prefix=prefix, length=shift.length) -> np.ndarray:
            """Shift time (seconds) in [-inf, t): whole shifts before ``t - length``, partial ones after."""
            whole = np.searchsorted(starts, t - length, side="right")
            begun = np.searchsorted(starts, t, side="left")
            return whole * length + (begun - whole) * t - (prefix[begun] - prefix[whole])

        per_shift[name] = np.diff(covered(bounds)) / widths
    return per_shift


def _on_duty(scenario: Scenario, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """Expected agents on duty per group in each slice ``[bounds[k], bounds[k+1])`` (time-weighted mean)."""
    per_shift = shift_coverage(scenario, bounds)
    out = {}
    for gname, group in scenario.groups.items():
        working = (7 - group.rest_days) / 7 * (1.0 - group.absenteeism)
        total = np.zeros(len(bounds) - 1)
        for shift_name, count in group.staffing.items():
            if count:
                total += per_shift[shift_name] * count * working
        if group.staffing_table is not None:
            total += _table_on_duty(scenario, group.staffing_table, bounds) * (1.0 - group.absenteeism)
        out[gname] = total
    return out


def _table_on_duty(scenario: Scenario, table: StaffingTable, bounds: np.ndarray) -> np.ndarray:
    """A staffing table's whole agents on duty in each slice ``[bounds[k], bounds[k+1])`` (time-weighted mean)."""
    starts, n, _ = available_headcounts(table)
    t0 = np.array([(when - scenario.start).total_seconds() for when in starts], dtype=float)
    n = n.astype(float)
    length = table.interval
    sum_n = np.concatenate(([0.0], np.cumsum(n)))
    sum_nt = np.concatenate(([0.0], np.cumsum(n * t0)))

    def covered(t: np.ndarray) -> np.ndarray:
        """Agent-seconds in [-inf, t): whole intervals before ``t - length``, partial ones after (t0 sorted)."""
        whole = np.searchsorted(t0, t - length, side="right")
        begun = np.searchsorted(t0, t, side="left")
        return sum_n[whole] * length + (sum_n[begun] - sum_n[whole]) * t - (sum_nt[begun] - sum_nt[whole])

    widths = np.where(np.diff(bounds) > 0, np.diff(bounds), 1.0)
    return np.diff(covered(np.asarray(bounds, dtype=float))) / widths


def offered_vs_capacity(scenario: Scenario) -> Load | None:
    """Offered load and rostered capacity per channel and hour.

    Returns:
        The :class:`Load`, or ``None`` unless arrivals are generated and the roster is the groups' ``staffing``.
    """
    if not isinstance(scenario.arrivals, GeneratedArrivals) or scenario.policies.staffing.name not in _FIXED_ROSTER:
        return None
    times, rates = expected_rates(scenario, 3600.0)
    bounds = np.append(times, scenario.horizon)
    widths = np.diff(bounds)
    bots = scenario.bots if scenario.policies.deflection.name != "none" else {}
    offered = {name: np.zeros(len(times)) for name in scenario.channels}
    contacts = 0.0
    for (channel, intent), rate in rates.items():
        contacts += float(np.dot(rate, widths))
        bot = bots.get(channel)
        human = 1.0 - (bot.resolution_for(intent) + bot.abandon + bot.silent_failure if bot is not None else 0.0)
        mean_handle = scenario.intents[intent].handle_for(channel).mean_s
        offered[channel] += rate * human * mean_handle / scenario.channels[channel].concurrency
    duty = _on_duty(scenario, bounds)
    capacity = {
        name: sum((duty[g] for g, group in scenario.groups.items() if name in group.channels), np.zeros(len(times)))
        for name in scenario.channels
    }
    total_offered = float(sum(np.dot(load, widths) for load in offered.values())) / 3600.0
    total_capacity = float(sum(np.dot(d, widths) for d in duty.values())) / 3600.0
    backlog = 0.0
    patient = all(
        math.isinf(scenario.patience_for(ch, intent).mean_s) for ch, intent in rates if rates[ch, intent].any()
    )
    if patient and total_offered > total_capacity and total_offered > 0:
        backlog = contacts * (1.0 - total_capacity / total_offered)
    return Load(times, offered, capacity, total_offered, total_capacity, contacts, backlog)


def scenario_warnings(scenario: Scenario) -> list[str]:
    """Valid but probably unintended: unserved channels and languages, no staff, load beyond capacity."""
    out = []
    served = {ch for group in scenario.groups.values() for ch in group.channels}
    for name in scenario.channels:
        if name not in served:
            out.append(f"channels.{name}: no agent group serves this channel; its contacts can only wait or abandon")
    spoken = {lang for group in scenario.groups.values() for lang in group.languages}
    for lang in scenario.customers.languages:
        if lang not in spoken:
            out.append(f"customers.languages.{lang}: no agent group speaks {lang!r}")
    if _roster_size(scenario) == 0:
        out.append("groups: every group has 0 agents on the roster; no contact will be answered")
        return out
    load = offered_vs_capacity(scenario) if len(scenario.groups) <= LIMITS.groups else None
    if load is None or scenario.horizon > LIMITS.horizon_s:
        return out
    for name, offered in load.offered.items():
        over = offered > load.capacity[name] + 1e-9
        if not over.any():
            continue
        worst = int(np.argmax(np.where(over, offered - load.capacity[name], -np.inf)))
        when = scenario.start + dt.timedelta(seconds=float(load.times_s[worst]))
        out.append(
            f"channels.{name}: offered load exceeds the agents on duty in {int(over.sum()):,} of {len(over):,} "
            f"hours; worst {when:%a %Y-%m-%d %H:%M}: {offered[worst]:,.1f} agents' worth of work for "
            f"{load.capacity[name][worst]:,.1f} on duty"
        )
    if load.total_offered > load.total_capacity:
        tail = (
            f"customers never abandon, so about {_count(load.backlog)} contacts would still wait at the end and "
            "the queue grows without bound"
            if load.backlog
            else "the queue only stays bounded because customers abandon"
        )
        out.append(
            f"the whole center: {load.total_offered:,.0f} agent-hours of work offered for {load.total_capacity:,.0f} "
            f"rostered over the horizon; {tail}"
        )
    return out


