"""KPI tables: per interval x channel, per group or agent, and the queue KPIs of a pooled selection.

:func:`interval_table` is the table analysts plot, :func:`agent_table` the per-group (or per-agent) one, and
:func:`queue_kpis` one pooled row of queue KPIs. Rows are summed first, then divided (volume-weighted), with the
formulas of :mod:`sim.metrics.kpis`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.metrics.frames import column_sums, is_empty, ratio, require_columns
from sim.metrics.kpis import sl_from_counts
from sim.metrics.names import (
    COUNT_COLUMNS,
    LEVEL_COLUMNS,
    SUM_COLUMNS,
    SLConvention,
    check_convention,
    sl_metric,
    threshold_columns,
)

__all__ = ["agent_table", "interval_table", "queue_kpis"]


def _derive(sums: pd.DataFrame, thresholds_s: Sequence[float], convention: str) -> pd.DataFrame:
    """Derived queue KPIs, row by row, of a frame of summed interval counts (index preserved)."""
    col = {name: sums[name].to_numpy(dtype=float) for name in sums.columns}
    answered, abandoned = col["answered"], col["abandoned"]
    out: dict[str, np.ndarray] = {
        name: sums[name].to_numpy() for name in ("offered", "answered", "abandoned", "abandoned_short", "censored")
    }
    out["abandon_rate"] = ratio(abandoned, col["offered"])
    for t in thresholds_s:
        a_col, ab_col, c_col = threshold_columns(t)
        out[sl_metric(t)] = sl_from_counts(
            col[a_col], col[ab_col], col[c_col], answered, abandoned, col["abandoned_short"], convention,
            col.get("timed_out", 0.0),
        )  # fmt: skip
    out["asa_s"] = ratio(col["wait_answered_s"], answered)
    out["mean_wait_all_s"] = ratio(col["wait_answered_s"] + col["wait_abandoned_s"], answered + abandoned)
    out["p_wait"] = ratio(col["delayed"], answered + abandoned)
    out["frt_max_s"] = np.where(answered > 0, col["max_wait_answered_s"], np.nan)
    return pd.DataFrame(out, index=sums.index)


def queue_kpis(
    intervals: pd.DataFrame | None,
    thresholds_s: Sequence[float],
    convention: SLConvention = "short_abandons_excluded",
) -> pd.Series:
    """Queue KPIs of all the rows of an ``intervals`` frame taken together (volume-weighted).

    The same figures as one row of :func:`interval_table` over the whole selection, without the levels.

    Args:
        intervals: ``intervals`` frame (or a selection of its rows; ``None`` or empty gives zero counts and NaN
            ratios).
        thresholds_s: SL thresholds (seconds); each gives an ``sl_<label>`` entry.
        convention: Abandonment convention.

    Returns:
        ``offered, answered, abandoned, abandoned_short, censored, abandon_rate, sl_<T>..., asa_s,
        mean_wait_all_s, p_wait, frt_max_s``, indexed by name.
    """
    sum_cols = [*COUNT_COLUMNS, *(c for t in thresholds_s for c in threshold_columns(t)), *SUM_COLUMNS]
    totals = column_sums(intervals, sum_cols)
    frame = pd.DataFrame({k: [v] for k, v in totals.items()})
    if intervals is None or is_empty(intervals):
        frame["max_wait_answered_s"] = 0.0
    else:
        frame["max_wait_answered_s"] = intervals["max_wait_answered_s"].max()
    return _derive(frame, thresholds_s, convention).iloc[0]


def interval_table(
    intervals: pd.DataFrame,
    thresholds_s: Sequence[float],
    convention: SLConvention = "short_abandons_excluded",
    by: Sequence[str] = ("channel",),
) -> pd.DataFrame:
    """Per interval x channel KPIs (priorities and tiers merged, by default): the table analysts plot.

    Args:
        intervals: ``intervals`` frame (several replications stay apart: ``replication`` is a key).
        thresholds_s: SL thresholds (seconds); each gives an ``sl_<label>`` column.
        convention: Abandonment convention.
        by: Segment keys besides the interval (``("channel", "priority", "tier")`` keeps the segments apart).

    Returns:
        Columns ``[replication,] interval, interval_start_s, <by>..., offered, answered, abandoned,
        abandoned_short, censored, abandon_rate, sl_<T>..., asa_s, mean_wait_all_s, p_wait, frt_max_s`` and
        the summed levels ``queue_len``, ``in_service`` when the frame has them.
    """
    check_convention(convention)
    keys = [k for k in ("replication", "interval", "interval_start_s", *by) if k in intervals.columns]
    counts = [*COUNT_COLUMNS, *(c for t in thresholds_s for c in threshold_columns(t)), *SUM_COLUMNS]
    require_columns(intervals, [*keys, *counts, "max_wait_answered_s"], "intervals")
    grouped = intervals.groupby(keys, sort=True, observed=True)
    sums = grouped[counts].sum()
    sums["max_wait_answered_s"] = grouped["max_wait_answered_s"].max()
    parts = [_derive(sums, thresholds_s, convention)]
    levels = [c for c in LEVEL_COLUMNS if c in intervals.columns]
    if levels:
        # Time-weighted means of disjoint segments add up to the channel's mean (NaN stays NaN).
        parts.append(grouped[levels].sum(min_count=1))
    return pd.concat(parts, axis=1).reset_index()


def agent_table(agents: pd.DataFrame, by: str | Sequence[str] = "group") -> pd.DataFrame:
    """Agent KPIs per group (default), per agent (``by="agent_id"``) or any other key columns.

    Returns:
        Key columns then ``paid_h, logged_in_h, busy_h, overtime_h, handled, labor_cost, occupancy,
        utilization, cost_per_contact``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    cols = ["paid_s", "logged_in_s", "busy_s", "break_s", "overtime_s", "handled", "cost"]
    require_columns(agents, [*keys, *cols], "agents")
    s = agents.groupby(keys, sort=True, observed=True)[cols].sum()
    out = pd.DataFrame(
        {
            "paid_h": s["paid_s"] / 3600.0,
            "logged_in_h": s["logged_in_s"] / 3600.0,
            "busy_h": s["busy_s"] / 3600.0,
            "overtime_h": s["overtime_s"] / 3600.0,
            "handled": s["handled"],
            "labor_cost": s["cost"],
            "occupancy": ratio(s["busy_s"].to_numpy(float), (s["logged_in_s"] - s["break_s"]).to_numpy(float)),
            "utilization": ratio((s["logged_in_s"] - s["break_s"]).to_numpy(float), s["paid_s"].to_numpy(float)),
            "cost_per_contact": ratio(s["cost"].to_numpy(float), s["handled"].to_numpy(float)),
        },
        index=s.index,
    )
    return out.reset_index()
