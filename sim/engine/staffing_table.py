"""Staffing tables: a headcount per group per interval made into individual agents with on-duty blocks.

A group's ``staffing_table`` (:class:`sim.config.StaffingTable`) gives the tabled headcount ``x[k]`` of each
interval ``k``. The agents on the phones are ``x[k] x availability`` rounded to whole agents by carrying the
remainder (:func:`available_headcounts`). Agent ``j`` of the table is on duty in every interval with
``n[k] > j``, so consecutive intervals make one block: agents log in and out at interval boundaries, the
lowest-numbered agents stay longest, and an agent in service at logout finishes the contact (overtime), as with
shift templates (:mod:`sim.engine.shifts` runs the blocks). Absenteeism still applies per agent-day. Paid time:
the tabled headcount (before availability) times the interval, spread over the table's agents in proportion to
their scheduled time (:func:`table_roster` returns the factor).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.config import Scenario, StaffingTable
from sim.interfaces import AgentShifts

__all__ = ["TABLE_SHIFT", "available_headcounts", "table_roster"]

TABLE_SHIFT = "table"
"""The ``shift`` label of a staffing table's agents in the ``agents`` frame."""


def available_headcounts(table: StaffingTable) -> tuple[list[dt.datetime], np.ndarray, np.ndarray]:
    """Whole agents on duty per listed interval.

    ``n[k] = R(c[k]) - R(c[k-1])`` where ``c[k]`` is the running sum of ``agents x availability`` over the listed
    intervals in time order and ``R(v) = floor(v + 1/2)`` (with a 1e-9 guard against float noise): each ``n[k]``
    is ``agents[k] x availability`` rounded down or up, integral products are kept exactly, and the total
    agent-intervals differ from the exact total by less than one half.

    Returns:
        The interval starts (local), the available whole agents ``n`` (int64) and the tabled headcounts ``x``.

    Example:
        >>> t = StaffingTable.model_validate({"interval": "30min", "availability": 0.5,
        ...     "agents": {"2026-11-09T08:00": 3.0, "2026-11-09T08:30": 3.0, "2026-11-09T09:00": 3.0}})
        >>> available_headcounts(t)[1].tolist()  # 1.5 each: 2, 1, 2 (4.5 -> 5 in total, exact 4.5)
        [2, 1, 2]
    """
    points = table.points()
    starts = [when for when, _ in points]
    tabled = np.array([x for _, x in points], dtype=float)
    running = np.floor(np.cumsum(tabled * table.availability) + 0.5 + 1e-9)
    n = np.diff(np.concatenate(([0.0], running))).astype(np.int64)
    return starts, np.maximum(n, 0), tabled


def table_roster(scenario: Scenario) -> tuple[list[AgentShifts], dict[str, float]]:
    """The agents of every group's staffing table, and each such group's pay factor.

    Args:
        scenario: The scenario.

    Returns:
        One :class:`~sim.interfaces.AgentShifts` per table agent (shift :data:`TABLE_SHIFT`, no breaks), groups in
        scenario order; and per group with a table, ``paid / scheduled``: the tabled agent-seconds inside the
        horizon divided by the table agents' scheduled seconds inside it (0 when they have none), which turns
        an agent's scheduled time into paid time.
    """
    roster: list[AgentShifts] = []
    factors: dict[str, float] = {}
    midnight0 = dt.datetime.combine(scenario.start.date(), dt.time())
    horizon = scenario.horizon
    for gname, group in scenario.groups.items():
        table = group.staffing_table
        if table is None:
            continue
        starts, n, tabled = available_headcounts(table)
        length = table.interval
        t0 = np.array([(when - scenario.start).total_seconds() for when in starts], dtype=float)
        inside = np.clip(np.minimum(t0 + length, horizon) - np.maximum(t0, 0.0), 0.0, None)
        scheduled = float(np.sum(n * inside))
        factors[gname] = float(np.sum(tabled * inside)) / scheduled if scheduled > 0 else 0.0
        for j in range(int(n.max()) if len(n) else 0):
            blocks: list[tuple[int, float, float, tuple[tuple[float, float], ...]]] = []
            for k in np.flatnonzero(n > j):
                start, end = float(t0[k]), float(t0[k] + length)
                if blocks and blocks[-1][2] == start:
                    day, s, _, _ = blocks[-1]
                    blocks[-1] = (day, s, end, ())
                else:
                    day = math.floor((starts[k] - midnight0).total_seconds() / 86400.0)
                    blocks.append((day, start, end, ()))
            roster.append(AgentShifts(gname, TABLE_SHIFT, tuple(blocks)))
    return roster, factors
