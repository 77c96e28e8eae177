"""Shared by the plots: units read from metric names, titles, mean and CI bands over replications, time axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from experiments.stats import summarize
from sim.config import Scenario, Target

__all__ = ["BAND_ALPHA", "TARGET_COLOR", "metric_unit"]

BAND_ALPHA = 0.25
"""Opacity of confidence bands."""
TARGET_COLOR = "#c0392b"
"""Colour of target lines (levels, thresholds, zero differences)."""

_SHARE_WORDS = frozenset(
    {"rate", "share", "sl", "attainment", "occupancy", "utilization", "containment", "deflection", "fcr", "p",
     "interval", "met"}
)


def metric_unit(metric: str, currency: str = "currency") -> tuple[str, str, float]:
    """Label, unit and scale (multiply values by it) of a metric, read from its name.

    ``*_s`` are seconds, ``*_h`` hours, costs are in ``currency`` (``*_per_week``: per week), shares (SL, rates,
    attainment, occupancy...) are shown in percent.

    Example:
        >>> metric_unit("asa_s"), metric_unit("sl_20s"), metric_unit("recurring_cost_per_week", "CNY")
        (('asa', 's', 1.0), ('sl_20s', '%', 100.0), ('recurring_cost_per_week', 'CNY/week', 1.0))
    """
    words = set(metric.split("_"))
    if "cost" in words:
        return metric, f"{currency}/week" if metric.endswith("_per_week") else currency, 1.0
    if metric.endswith("_start_s"):
        return metric, "s from start", 1.0
    if metric.endswith("_s"):
        return metric.removesuffix("_s"), "s", 1.0
    if metric.endswith("_h"):
        return metric.removesuffix("_h"), "h", 1.0
    if words & _SHARE_WORDS:
        return metric, "%", 100.0
    return metric, "count", 1.0


def _time_unit(max_s: float) -> tuple[str, float]:
    """Seconds below 10 minutes, minutes below 5 hours, hours beyond: (unit, divisor)."""
    if not max_s > 600.0:
        return "s", 1.0
    if max_s <= 5 * 3600.0:
        return "min", 60.0
    return "h", 3600.0


def _replications(frame: pd.DataFrame) -> int:
    return int(frame["replication"].nunique()) if "replication" in frame.columns and len(frame) else 1


def _title(what: str, scenario_name: str, n: int, extra: str = "", per: str = "") -> str:
    reps = f"{n} replication{'s' if n != 1 else ''}{per}"
    return f"{what}\n{scenario_name} · {reps}{' · ' + extra if extra else ''}"


def _band(frame: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    """Mean and 95% CI over replications of ``value`` per ``keys`` (``ci_low``/``ci_high`` = mean when n < 2)."""
    long = frame[[*keys, value]].rename(columns={value: "value"}).assign(metric=value, scope="")
    out = summarize(long, by=[*keys])
    single = out["n"] < 2
    out.loc[single, "ci_low"] = out.loc[single, "mean"]
    out.loc[single, "ci_high"] = out.loc[single, "mean"]
    return out


def _time_axis(ax: Any) -> None:
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _line_band(
    ax: Any, x: Any, stats: pd.DataFrame, scale: float, label: str, color: Any = None, clip: tuple[float, float] = ()
) -> None:
    """The mean as a line and its 95% CI as a band (clipped to ``clip``, e.g. 0-100 for a share in %)."""
    (line,) = ax.plot(x, stats["mean"] * scale, label=label, color=color, lw=1.4)
    low, high = stats["ci_low"] * scale, stats["ci_high"] * scale
    if clip:
        low, high = low.clip(*clip), high.clip(*clip)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=BAND_ALPHA, lw=0, label=f"{label}: 95% CI")


def _measured(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    from sim.metrics import filter_intervals

    return filter_intervals(intervals, warmup_s=scenario.measure_start_s, horizon_s=scenario.horizon)


def _find_target(scenario: Scenario, target: str | Target) -> Target:
    if isinstance(target, Target):
        return target
    for t in scenario.targets:
        if t.name == target:
            return t
    names = [t.name for t in scenario.targets]
    raise ValueError(f"target {target!r} is not a target of scenario {scenario.name!r}; its targets: {names}")


def _calendar(scenario: Scenario, start_s: Any) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.Timestamp(scenario.start) + pd.to_timedelta(np.asarray(start_s, float), unit="s"))


def _grid(stats: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Rows on every interval between the first and the last one (missing ones NaN, so lines break there)."""
    if stats.empty:
        return stats
    step = scenario.reporting.interval
    full = np.arange(stats["interval_start_s"].min(), stats["interval_start_s"].max() + step / 2, step)
    return stats.set_index("interval_start_s").reindex(full).rename_axis("interval_start_s").reset_index()


def _duration(seconds: float) -> str:
    from sim.units import format_duration

    return format_duration(seconds)
