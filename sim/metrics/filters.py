"""Frame filters: the rows of an output frame for a segment (channel, priority, tier, intent, group) and a window.

Every filter returns its input unchanged when nothing is filtered out; :func:`measurement_window` is the period a
replication's metrics cover (warm-up rounded up to a reporting interval, to the horizon).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from sim.metrics.frames import select_rows

if TYPE_CHECKING:
    from sim.config import Scenario

__all__ = ["filter_agents", "filter_contacts", "filter_frt_hist", "filter_intervals", "measurement_window"]


def filter_intervals(
    intervals: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> pd.DataFrame:
    """Rows of an ``intervals`` frame for a segment and a time window.

    Args:
        intervals: ``intervals`` frame.
        channel: Channel name(s) to keep; ``None`` keeps all.
        priority: Priority name(s) to keep; ``None`` keeps all.
        tier: Tier name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds). Intervals are attributed by arrival,
            so pass a warm-up aligned on interval boundaries (see :func:`measurement_window`).
        horizon_s: Keep intervals starting before this time (seconds); ``None`` keeps all.

    Returns:
        The selected rows (the input itself when nothing is filtered out).
    """
    selected = select_rows(intervals, channel=channel, priority=priority, tier=tier)
    assert selected is not None
    return _in_window(selected, "interval_start_s", warmup_s, horizon_s)


def filter_contacts(
    contacts: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    intent: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> pd.DataFrame:
    """Rows of a ``contacts`` frame for a segment, arriving in ``[warmup_s, horizon_s)``.

    Args:
        contacts: ``contacts`` frame.
        channel: Channel name(s) to keep; ``None`` keeps all.
        priority: Priority name(s) to keep; ``None`` keeps all.
        tier: Tier name(s) to keep; ``None`` keeps all.
        intent: Intent name(s) to keep; ``None`` keeps all.
        warmup_s: Keep contacts arriving at or after this time (seconds).
        horizon_s: Keep contacts arriving before this time (seconds); ``None`` keeps all.

    Returns:
        The selected rows.
    """
    selected = select_rows(contacts, channel=channel, priority=priority, tier=tier, intent=intent)
    assert selected is not None
    return _in_window(selected, "arrival_s", warmup_s, horizon_s)


def _in_window(frame: pd.DataFrame, column: str, warmup_s: float, horizon_s: float | None) -> pd.DataFrame:
    """Rows whose ``column`` (seconds) lies in ``[warmup_s, horizon_s)`` (no upper bound when ``None``)."""
    if len(frame) == 0 or (warmup_s <= 0 and horizon_s is None):
        return frame
    t = frame[column].to_numpy(dtype=float)
    keep = t >= warmup_s
    if horizon_s is not None:
        keep &= t < horizon_s
    return frame if keep.all() else frame.loc[keep]


def filter_frt_hist(
    frt_hist: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of a ``frt_hist`` frame for a segment (the histogram has no time dimension)."""
    selected = select_rows(frt_hist, channel=channel, priority=priority, tier=tier)
    assert selected is not None
    return selected


def filter_agents(agents: pd.DataFrame, *, group: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of an ``agents`` frame for one or several groups (``None`` keeps all)."""
    selected = select_rows(agents, group=group)
    assert selected is not None
    return selected


def measurement_window(scenario: Scenario) -> tuple[float, float]:
    """``(start_s, end_s)`` of the period every metric of a replication covers.

    The start is the warm-up rounded *up* to a reporting-interval boundary, so that interval-based figures
    (streaming mode) and contact-based ones cover exactly the same arrivals; the end is the horizon.
    """
    return scenario.measure_start_s, float(scenario.horizon)
