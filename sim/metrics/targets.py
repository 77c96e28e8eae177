"""Target figures over a time window: pooled attainment, every-interval attainment and per-day attainment.

A target ``P(FRT <= T | filter) >= level`` is judged on the reporting intervals its window selects (see
:class:`sim.config.TargetWindow`; no window: every interval given). Every figure is a service level under the
scenario's convention, volume-weighted (counts summed, then divided), as in :func:`~sim.metrics.service_level`:

* ``attainment``: the SL of all the window's intervals together (pooled).
* ``worst_interval``: the lowest SL of one interval of the window; ``worst_interval_start_s`` its start
  (seconds from the scenario start; the earliest one on a tie).
* ``interval_share``: the share of the window's intervals whose SL reaches ``level``. Intervals whose SL is
  undefined (no contact in its denominator, e.g. nobody called) are left out of both, as an ACD report leaves out
  an interval with no calls; with no such interval both are NaN.
* ``met``: pooled: ``attainment >= level``; every interval: ``interval_share == 1`` (equivalently
  ``worst_interval >= level``); NaN when the deciding figure is NaN.
* ``days``: per window day (the day the window opened on; the calendar date without a window), the pooled SL of
  that day's window intervals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Literal

import numpy as np
import pandas as pd

from sim.config import TargetWindow
from sim.metrics.frames import is_empty, require_columns
from sim.metrics.kpis import sl_from_counts
from sim.metrics.names import SLConvention, check_convention, threshold_columns

__all__ = ["TargetFigures", "interval_attainment", "target_figures"]

_EPS = 1e-12
"""Attainment is a ratio: an SL equal to the level (4/5 against 0.8) meets it whatever the rounding."""


@dataclasses.dataclass(frozen=True)
class TargetFigures:
    """A target's figures in one replication (shares in [0, 1]; see the module docstring).

    Attributes:
        attainment: Pooled SL over the window.
        met: 1.0 / 0.0 by the target's aggregation; NaN when undecided.
        worst_interval: Lowest interval SL in the window.
        worst_interval_start_s: Start of that interval (seconds from the scenario start).
        interval_share: Share of the window's intervals (with a defined SL) that reach the level.
        n_intervals: Intervals of the window with a defined SL.
        days: Pooled SL per window day, in day order.
    """

    attainment: float
    met: float
    worst_interval: float
    worst_interval_start_s: float
    interval_share: float
    n_intervals: int
    days: dict[dt.date, float]


def _sl(sums: pd.DataFrame, threshold_s: float, convention: str) -> np.ndarray:
    a_col, ab_col, c_col = threshold_columns(threshold_s)
    col = {c: sums[c].to_numpy(dtype=float) for c in (a_col, ab_col, c_col, "answered", "abandoned", "abandoned_short")}
    timed_out = sums["timed_out"].to_numpy(dtype=float) if "timed_out" in sums.columns else 0.0
    return np.asarray(
        sl_from_counts(
            col[a_col], col[ab_col], col[c_col], col["answered"], col["abandoned"], col["abandoned_short"], convention,
            timed_out,
        ),
        dtype=float,
    )


def _interval_sums(intervals: pd.DataFrame, threshold_s: float) -> pd.DataFrame:
    counts = [*threshold_columns(threshold_s), "answered", "abandoned", "abandoned_short"]
    require_columns(intervals, ["interval_start_s", *counts], "intervals")
    if "timed_out" in intervals.columns:
        counts.append("timed_out")
    return intervals.groupby("interval_start_s", sort=True)[counts].sum()


def interval_attainment(
    intervals: pd.DataFrame, threshold_s: float, convention: SLConvention = "short_abandons_excluded"
) -> pd.Series:
    """SL of each interval (all rows of an interval summed first: channels, priorities, tiers of the selection).

    Args:
        intervals: ``intervals`` frame of one replication (or a selection of its rows).
        threshold_s: SL threshold ``T`` (seconds).
        convention: Abandonment convention.

    Returns:
        SL per interval, indexed by ``interval_start_s`` (sorted); NaN where undefined.
    """
    check_convention(convention)
    sums = _interval_sums(intervals, threshold_s)
    return pd.Series(_sl(sums, threshold_s, convention), index=sums.index, name="attainment")


def target_figures(
    intervals: pd.DataFrame | None,
    *,
    threshold_s: float,
    level: float,
    convention: SLConvention,
    start: dt.datetime,
    window: TargetWindow | None = None,
    aggregation: Literal["pooled", "every_interval"] = "pooled",
) -> TargetFigures:
    """A target's figures in one replication, from the ``intervals`` rows of its filter.

    Args:
        intervals: ``intervals`` frame of one replication, already restricted to the target's filter and to the
            measured period (``None`` or empty: every figure NaN, no days).
        threshold_s: The target's threshold ``T`` (seconds).
        level: The target's level (share in ``(0, 1]``).
        convention: Abandonment convention.
        start: The scenario's calendar start (``interval_start_s`` counts from it).
        window: The target's window; ``None`` keeps every interval (days are calendar dates).
        aggregation: ``pooled`` or ``every_interval``: which figure decides ``met``.

    Returns:
        The figures (see :class:`TargetFigures`).

    Example:
        >>> import datetime as dt, pandas as pd
        >>> iv = pd.DataFrame({"interval_start_s": [0.0, 1800.0], "answered": [10, 10],
        ...     "answered_within_20s": [10, 5], "abandoned": 0, "abandoned_short": 0,
        ...     "abandoned_within_20s": 0, "censored_over_20s": 0})
        >>> f = target_figures(iv, threshold_s=20.0, level=0.8, convention="abandons_bad",
        ...                    start=dt.datetime(2026, 11, 9), aggregation="every_interval")
        >>> f.attainment, f.worst_interval, f.worst_interval_start_s, f.interval_share, f.met
        (0.75, 0.5, 1800.0, 0.5, 0.0)
    """
    check_convention(convention)
    if aggregation not in ("pooled", "every_interval"):
        raise ValueError(f"aggregation must be 'pooled' or 'every_interval', got {aggregation!r}")
    nan = math.nan
    if intervals is None or is_empty(intervals):
        return TargetFigures(nan, nan, nan, nan, nan, 0, {})
    sums = _interval_sums(intervals, threshold_s)
    starts = sums.index.to_numpy(dtype=float)
    days = (window or TargetWindow()).window_day(starts, start)
    inside = np.array([d is not None for d in days], dtype=bool)
    sums, starts, days = sums[inside], starts[inside], days[inside]

    attainment = float(_sl(sums.sum().to_frame().T, threshold_s, convention)[0]) if len(sums) else nan
    per_interval = _sl(sums, threshold_s, convention)
    defined = ~np.isnan(per_interval)
    if defined.any():
        worst_at = int(np.flatnonzero(defined)[np.argmin(per_interval[defined])])
        worst, worst_start = float(per_interval[worst_at]), float(starts[worst_at])
        share = float(np.mean(per_interval[defined] >= level - _EPS))
    else:
        worst, worst_start, share = nan, nan, nan
    deciding = attainment >= level - _EPS if aggregation == "pooled" else share >= 1.0
    undecided = math.isnan(attainment) if aggregation == "pooled" else math.isnan(share)
    met = nan if undecided else float(deciding)

    by_day: dict[dt.date, float] = {}
    if len(sums):
        daily = sums.groupby(days, sort=True).sum()
        by_day = dict(zip(daily.index, _sl(daily, threshold_s, convention).tolist(), strict=True))
    return TargetFigures(attainment, met, worst, worst_start, share, int(defined.sum()), by_day)
