"""Plots per interval: a target's SL and FRT with CI bands, the SL heatmap, queue length and agents over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.plots._common import (
    TARGET_COLOR,
    _band,
    _calendar,
    _duration,
    _find_target,
    _grid,
    _line_band,
    _measured,
    _replications,
    _time_axis,
    _time_unit,
    _title,
)
from sim.config import Scenario, Target

__all__ = [
    "channel_thresholds",
    "plot_queue_and_agents",
    "plot_sl_heatmap",
    "plot_target_by_interval",
    "plot_variants_by_interval",
]


def plot_target_by_interval(
    intervals: pd.DataFrame, scenario: Scenario, target: str | Target, *, whole_period: bool = False
) -> Figure:
    """A target's service level and the mean FRT of answered contacts per interval, with 95% CI bands.

    The top panel is the SL (%) of the target's segment (channel, priority, tier) at its threshold, under the
    scenario's SL convention, with the target level as a horizontal line; the bottom one the mean FRT of the
    contacts answered (ASA, in s, min or h) with the threshold as a line. Each interval's figure is computed per
    replication (volume-weighted within the interval), then averaged; an interval without contacts in a
    replication does not count there.

    Args:
        intervals: ``intervals`` frame of every replication (``ExperimentResult.intervals``, ``intervals.parquet``).
        scenario: The scenario run.
        target: The target (or its name).
        whole_period: Plot the whole measured period even when the target has a window (default: its window only).

    Raises:
        ValueError: Unknown target, or a target filtered by intent (interval counts carry no intent).
    """
    from sim.metrics import interval_table, sl_metric

    t = _find_target(scenario, target)
    if t.intent is not None:
        raise ValueError(f"target {t.name!r} is filtered by intent; the intervals frame has no intent column")
    rows = _measured(intervals, scenario)
    for column in ("channel", "priority", "tier"):
        if getattr(t, column) is not None:
            rows = rows[rows[column] == getattr(t, column)]
    window = t.window is not None and t.window.restricts and not whole_period
    if window:
        assert t.window is not None
        inside = t.window.window_day(rows["interval_start_s"].to_numpy(), scenario.start)
        rows = rows[pd.notna(inside)]
    table = interval_table(rows, [t.threshold], scenario.reporting.sl_convention, by=())
    sl_col = sl_metric(t.threshold)
    sl = _grid(_band(table, ["interval_start_s"], sl_col), scenario)
    frt = _grid(_band(table, ["interval_start_s"], "asa_s"), scenario)
    unit, div = _time_unit(max(float(np.nanmax(frt["ci_high"], initial=0.0)), t.threshold))
    x = _calendar(scenario, sl["interval_start_s"])
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    ax_sl, ax_frt = fig.subplots(2, 1, sharex=True)
    _line_band(ax_sl, x, sl, 100.0, f"SL within {_duration(t.threshold)}", clip=(0.0, 100.0))
    ax_sl.axhline(t.level * 100.0, color=TARGET_COLOR, ls="--", lw=1.2, label=f"target {t.level:.0%}")
    ax_sl.set_ylabel(f"service level within {_duration(t.threshold)} (%)")
    ax_sl.set_ylim(-2, 102)
    ax_sl.legend(loc="lower left", fontsize="small")
    _line_band(ax_frt, x, frt, 1.0 / div, "mean FRT of answered", color="#2c7fb8")
    ax_frt.axhline(t.threshold / div, color=TARGET_COLOR, ls=":", lw=1.2, label=f"threshold {_duration(t.threshold)}")
    ax_frt.set_ylabel(f"mean FRT of answered ({unit})")
    ax_frt.set_xlabel("interval start (scenario local time)")
    ax_frt.set_ylim(bottom=0)
    ax_frt.legend(loc="upper left", fontsize="small")
    _time_axis(ax_frt)
    where = f"window {t.window.describe()}" if window and t.window is not None else "measured period"
    fig.suptitle(_title(f"Target {t.name!r} by interval ({where})", scenario.name, _replications(intervals)))
    return fig


def channel_thresholds(scenario: Scenario) -> dict[str, float]:
    """Per channel the threshold of its first target (else the scenario's first SL threshold), in seconds."""
    out: dict[str, float] = {}
    for t in scenario.targets:
        if t.channel is not None:
            out.setdefault(t.channel, t.threshold)
    default = scenario.sl_thresholds_s()[0]
    return {c: out.get(c, default) for c in scenario.channels}


def plot_sl_heatmap(
    intervals: pd.DataFrame, scenario: Scenario, thresholds_s: Mapping[str, float] | float | None = None
) -> Figure:
    """Heatmap of the service level (%) per interval (columns) and channel (rows), mean over replications.

    Args:
        intervals: ``intervals`` frame of every replication.
        scenario: The scenario run.
        thresholds_s: One threshold (s) for every channel, or one per channel; default: each channel's first
            target's threshold (:func:`channel_thresholds`). A threshold must be one the run measured.
    """
    import seaborn as sns

    from sim.metrics import interval_table, sl_metric

    if thresholds_s is None:
        per_channel = channel_thresholds(scenario)
    elif isinstance(thresholds_s, Mapping):
        per_channel = {**channel_thresholds(scenario), **thresholds_s}
    else:
        per_channel = dict.fromkeys(scenario.channels, float(thresholds_s))
    measured = set(scenario.sl_thresholds_s())
    unknown = {c: v for c, v in per_channel.items() if v not in measured}
    if unknown:
        raise ValueError(f"thresholds {unknown} were not measured; measured thresholds (s): {sorted(measured)}")
    rows = _measured(intervals, scenario)
    table = interval_table(rows, sorted(set(per_channel.values())), scenario.reporting.sl_convention)
    starts = np.sort(table["interval_start_s"].unique())
    grid = []
    labels = []
    for channel in scenario.channels:
        part = table[table["channel"] == channel]
        col = sl_metric(per_channel[channel])
        mean = part.groupby("interval_start_s")[col].mean().reindex(starts) * 100.0
        grid.append(mean.to_numpy())
        labels.append(f"{channel} ({_duration(per_channel[channel])})")
    when = _calendar(scenario, starts)
    data = pd.DataFrame(grid, index=labels, columns=[w.strftime("%a %m-%d %H:%M") for w in when])
    fig = Figure(figsize=(12, max(3.0, 1.2 + 0.55 * len(labels))), layout="constrained")
    ax = fig.subplots()
    step = max(1, len(starts) // 24)
    sns.heatmap(
        data, ax=ax, vmin=0, vmax=100, cmap="RdYlGn", xticklabels=step, cbar_kws={"label": "service level (%)"},
    )
    ax.set_xlabel("interval start (scenario local time)")
    ax.set_ylabel("channel (SL threshold)")
    ax.tick_params(axis="y", rotation=0)
    fig.suptitle(_title("Service level by interval and channel (mean)", scenario.name, _replications(intervals)))
    return fig


def plot_queue_and_agents(
    intervals: pd.DataFrame, staffing: pd.DataFrame, scenario: Scenario, *, groups: Sequence[str] | None = None
) -> Figure:
    """Waiting contacts per channel (top) and agents logged in and busy (bottom) per interval, with 95% CI bands.

    Both are time-weighted means over each interval, averaged over replications.

    Args:
        intervals: ``intervals`` frame of every replication (its ``queue_len`` column).
        staffing: ``staffing`` frame of every replication (``logged_in``, ``busy``).
        scenario: The scenario run.
        groups: Agent groups to count (default all).
    """
    rows = _measured(intervals, scenario)
    queue = rows.groupby(["replication", "interval_start_s", "channel"], observed=True)["queue_len"].sum()
    queue = queue.reset_index()
    staff = staffing[
        (staffing["interval_start_s"] >= scenario.measure_start_s) & (staffing["interval_start_s"] < scenario.horizon)
    ]
    if groups is not None:
        staff = staff[staff["group"].isin(list(groups))]
    agents = staff.groupby(["replication", "interval_start_s"], observed=True)[["logged_in", "busy"]].sum()
    agents = agents.reset_index()
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    ax_q, ax_a = fig.subplots(2, 1, sharex=True)
    for channel in scenario.channels:
        stats = _grid(_band(queue[queue["channel"] == channel], ["interval_start_s"], "queue_len"), scenario)
        if len(stats):
            _line_band(ax_q, _calendar(scenario, stats["interval_start_s"]), stats, 1.0, channel)
    ax_q.set_ylabel("waiting contacts (time-weighted mean)")
    ax_q.set_ylim(bottom=0)
    ax_q.legend(loc="upper left", fontsize="small", ncol=2)
    for column, label in (("logged_in", "agents logged in"), ("busy", "agents busy")):
        stats = _grid(_band(agents, ["interval_start_s"], column), scenario)
        _line_band(ax_a, _calendar(scenario, stats["interval_start_s"]), stats, 1.0, label)
    ax_a.set_ylabel("agents (time-weighted mean)")
    ax_a.set_xlabel("interval start (scenario local time)")
    ax_a.set_ylim(bottom=0)
    ax_a.legend(loc="upper left", fontsize="small")
    _time_axis(ax_a)
    which = "all groups" if groups is None else ", ".join(groups)
    fig.suptitle(_title(f"Queue length and agents over time ({which})", scenario.name, _replications(intervals)))
    return fig


def plot_variants_by_interval(
    results: Mapping[str, Any],
    scenario: Scenario,
    target: str | Target,
    *,
    variants: Sequence[str] | None = None,
    start: str | datetime | pd.Timestamp | None = None,
    end: str | datetime | pd.Timestamp | None = None,
) -> Figure:
    """A target's service level per interval for several variants on one axis, with 95% CI bands.

    Each variant's SL (%) of the target's segment at its threshold is computed per replication and interval
    (volume-weighted within the interval, under the scenario's SL convention) and averaged over replications, as
    in :func:`plot_target_by_interval`; the target level is a dashed line and the scenario's channel outages
    that fall in the plotted range are shaded. Made for comparisons (:attr:`experiments.compare.Comparison.results`),
    where every variant keeps the baseline's targets.

    Args:
        results: Variant name -> its :class:`~experiments.results.ExperimentResult` or its ``intervals`` frame.
        scenario: The baseline scenario (its targets, calendar, interval length and outages).
        target: The target (or its name).
        variants: The variants to draw, in order (default: all of ``results``).
        start: First interval start shown (scenario local time; default: the target's window, else the
            measured period).
        end: Intervals starting at or after this are left out (default as ``start``).

    Raises:
        ValueError: Unknown target or variant, a target filtered by intent, or an empty range.
    """
    from sim.metrics import interval_table, sl_metric

    t = _find_target(scenario, target)
    if t.intent is not None:
        raise ValueError(f"target {t.name!r} is filtered by intent; the intervals frame has no intent column")
    names = list(variants) if variants is not None else list(results)
    unknown = [n for n in names if n not in results]
    if unknown or not names:
        raise ValueError(f"variants {unknown or names} not in the results; they hold {list(results)}")
    low = pd.Timestamp(start) if start is not None else None
    high = pd.Timestamp(end) if end is not None else None
    ranged = low is not None or high is not None
    window = t.window is not None and t.window.restricts and not ranged
    sl_col = sl_metric(t.threshold)
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.subplots()
    lines = []
    n_reps = 0
    shown: list[pd.Timestamp] = []
    for name in names:
        intervals = results[name] if isinstance(results[name], pd.DataFrame) else results[name].intervals
        n_reps = max(n_reps, _replications(intervals))
        rows = _measured(intervals, scenario)
        for column in ("channel", "priority", "tier"):
            if getattr(t, column) is not None:
                rows = rows[rows[column] == getattr(t, column)]
        if window:
            assert t.window is not None
            rows = rows[pd.notna(t.window.window_day(rows["interval_start_s"].to_numpy(), scenario.start))]
        if ranged:
            when = _calendar(scenario, rows["interval_start_s"])
            keep = np.ones(len(rows), dtype=bool)
            if low is not None:
                keep &= when >= low
            if high is not None:
                keep &= when < high
            rows = rows[keep]
        if rows.empty:
            raise ValueError(f"variant {name!r} has no interval of target {t.name!r} in the range shown")
        table = interval_table(rows, [t.threshold], scenario.reporting.sl_convention, by=())
        sl = _grid(_band(table, ["interval_start_s"], sl_col), scenario)
        x = _calendar(scenario, sl["interval_start_s"])
        shown.extend([x.min(), x.max() + pd.Timedelta(seconds=scenario.reporting.interval)])
        _line_band(ax, x, sl, 100.0, name, clip=(0.0, 100.0))
        lines.append(ax.get_lines()[-1])
    target_line = ax.axhline(t.level * 100.0, color=TARGET_COLOR, ls="--", lw=1.2, label=f"target {t.level:.0%}")
    first, last = min(shown), max(shown)
    spans = []
    arrivals = scenario.arrivals
    for outage in getattr(arrivals, "outages", None) or ():
        a, b = max(pd.Timestamp(outage.start), first), min(pd.Timestamp(outage.end), last)
        if a < b:
            spans.append(ax.axvspan(a, b, color="#7f7f7f", alpha=0.15, lw=0, label=f"{outage.channel} outage"))
    ax.set_ylabel(f"service level within {_duration(t.threshold)} (%)")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("interval start (scenario local time)")
    ax.legend(handles=[*lines, target_line, *spans], loc="lower left", fontsize="small", ncol=2)
    _time_axis(ax)
    if window and t.window is not None:
        where = f"window {t.window.describe()}"
    elif ranged:
        where = f"{first:%a %m-%d %H:%M}–{last:%a %m-%d %H:%M}"
    else:
        where = "measured period"
    fig.suptitle(_title(f"Target {t.name!r} by interval and variant ({where}; mean, 95% CI)", scenario.name, n_reps,
                        per=" per variant"))
    return fig
