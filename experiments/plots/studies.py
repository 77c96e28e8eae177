"""Plots of studies: the Pareto front of an optimization, the forest plot of a comparison, a backtest."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.plots._common import TARGET_COLOR, _band, _line_band, _replications, _time_axis, _title, metric_unit

__all__ = ["plot_forest", "plot_pareto_front", "plot_sim_vs_actual"]


def _front(trials: pd.DataFrame) -> pd.DataFrame:
    """Non-dominated trials: no other trial is at most as costly with at least the margin, one strictly."""
    done = trials.dropna(subset=["cost", "worst_margin"]).sort_values(["cost", "worst_margin"], ascending=[True, False])
    keep, best = [], -math.inf
    for index, row in done.iterrows():
        if row["worst_margin"] > best:
            keep.append(index)
            best = row["worst_margin"]
    return done.loc[keep]


def plot_pareto_front(
    result: Any, scenario_name: str, currency: str = "currency"
) -> Figure:
    """Cost per week against the worst target margin of every trial of an optimization, the front highlighted.

    The margin of a trial is ``min over targets of (mean attainment - level)``, in percentage points: at or above
    the zero line every target reaches its level on the trial's replications.

    Args:
        result: An :class:`~experiments.optimize.OptimizationResult` (its ``trials`` and, in Pareto mode,
            ``pareto``), or its ``trials`` frame (``trials.csv``): ``trial, state, cost, replications,
            worst_margin``. Without a front, the non-dominated completed trials are computed.
        scenario_name: Name shown in the title.
        currency: The scenario's currency, for the axis label.
    """
    trials = result if isinstance(result, pd.DataFrame) else result.trials
    front = None if isinstance(result, pd.DataFrame) else result.pareto
    done = trials[trials["state"] == "COMPLETE"] if "state" in trials.columns else trials
    if front is None:
        front = _front(done)
    front = front.sort_values("cost")
    other = done[~done["trial"].isin(front["trial"])]
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(other["cost"], other["worst_margin"] * 100.0, s=18, color="0.6", label="other trials")
    ax.plot(front["cost"], front["worst_margin"] * 100.0, "o-", color="#2c7fb8", drawstyle="steps-post",
            label="Pareto front")
    ax.axhline(0.0, color=TARGET_COLOR, ls="--", lw=1.2, label="every target at its level")
    ax.set_xlabel(f"recurring cost ({currency} per week)")
    ax.set_ylabel("worst target margin (percentage points)")
    ax.xaxis.set_major_formatter("{x:,.0f}")
    ax.legend(fontsize="small")
    reps = int(trials["replications"].max()) if len(trials) and pd.notna(trials["replications"].max()) else 0
    fig.suptitle(
        _title("Cost vs service: the Pareto front", scenario_name, reps, f"{len(done)} trials", per=" per trial")
    )
    return fig


def plot_forest(
    comparison: Any,
    metrics: Sequence[tuple[str, str]] | None = None,
    *,
    scenario_name: str | None = None,
    baseline: str | None = None,
    currency: str = "currency",
) -> Figure:
    """Forest plot of a comparison: each variant's paired difference from the baseline with its 95% CI.

    One panel per (metric, scope), one row per variant; a filled marker and a ``*`` mark a difference significant
    after Holm's correction (the ``significant`` column), an open marker one that is not.

    Args:
        comparison: An :class:`~experiments.compare.Comparison`, or its ``differences`` frame
            (``comparison.csv``): ``variant, metric, scope, diff, ci_low, ci_high, n, significant``.
        metrics: The (metric, scope) pairs to show, in order (default all of the table).
        scenario_name: Title's scenario name (default: the comparison's baseline scenario).
        baseline: Name of the baseline (default: the comparison's).
        currency: The scenario's currency, for cost axes.

    Raises:
        ValueError: Nothing to plot (no variant besides the baseline, or no metric).
    """
    if isinstance(comparison, pd.DataFrame):
        table = comparison
    else:
        table = comparison.differences
        baseline = baseline or comparison.baseline
        scenario_name = scenario_name or comparison.results[comparison.baseline].scenario.name
    every = zip(table["metric"], table["scope"], strict=True)
    pairs = list(metrics) if metrics is not None else list(dict.fromkeys(every))
    variants = list(dict.fromkeys(table["variant"]))
    if not pairs or not variants:
        raise ValueError("no paired differences to plot (the comparison has no variant besides the baseline)")
    fig = Figure(figsize=(9, 1.0 + sum(0.45 * len(variants) + 0.7 for _ in pairs)), layout="constrained")
    axes = fig.subplots(len(pairs), 1, squeeze=False)[:, 0]
    for ax, (metric, scope) in zip(axes, pairs, strict=True):
        rows = table[(table["metric"] == metric) & (table["scope"] == scope)].set_index("variant").reindex(variants)
        label, unit, scale = metric_unit(metric, currency)
        y = np.arange(len(variants))
        sig = rows["significant"].fillna(False).astype(bool).to_numpy()
        err = np.vstack([rows["diff"] - rows["ci_low"], rows["ci_high"] - rows["diff"]]) * scale
        ax.errorbar(rows["diff"] * scale, y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
        ax.scatter((rows["diff"] * scale)[sig], y[sig], color="#2c7fb8", zorder=3, label="significant (Holm)")
        ax.scatter((rows["diff"] * scale)[~sig], y[~sig], facecolor="white", edgecolor="#2c7fb8", zorder=3,
                   label="not significant")
        ax.axvline(0.0, color=TARGET_COLOR, ls="--", lw=1)
        ax.set_yticks(y, [f"{v} *" if s else v for v, s in zip(variants, sig, strict=True)])
        ax.set_ylim(len(variants) - 0.5, -0.5)
        ax.set_xlabel(f"difference in {label} ({unit}), {scope}")
    n = int(table["n"].max()) if len(table) else 0
    fig.suptitle(_title(f"Paired differences from {baseline or 'the baseline'} (95% CI; * significant)",
                        scenario_name or "", n))
    return fig


# ------------------------------------------------------------------------------------------------ backtests


def plot_sim_vs_actual(
    simulated: pd.DataFrame,
    actual: pd.DataFrame,
    metrics: Sequence[str],
    scenario_name: str,
    *,
    time: str = "interval_start",
    currency: str = "currency",
) -> Figure:
    """Simulated against actual figures per interval, one panel per metric (a backtest).

    Args:
        simulated: One row per interval (``time`` column and the metric columns), or per replication x interval
            (with a ``replication`` column: drawn as the mean with its 95% CI band).
        actual: One row per interval: the ``time`` column and the metric columns.
        metrics: Columns to compare; shares (``sl_*``, ``*_rate``...) are drawn in %, ``*_s`` in seconds.
        scenario_name: Name shown in the title.
        time: Interval start column (timestamps or seconds) in both frames.
        currency: Currency for cost columns.

    Raises:
        ValueError: A frame lacks the time column or a metric.
    """
    for name, frame in (("simulated", simulated), ("actual", actual)):
        missing = [c for c in [time, *metrics] if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} frame lacks column(s) {missing}; it has {list(frame.columns)}")
    n = _replications(simulated)
    fig = Figure(figsize=(11, 1.0 + 2.6 * len(metrics)), layout="constrained")
    axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
    for ax, metric in zip(axes, metrics, strict=True):
        label, unit, scale = metric_unit(metric, currency)
        if "replication" in simulated.columns:
            stats = _band(simulated, [time], metric).sort_values(time)
        else:
            stats = simulated[[time, metric]].rename(columns={metric: "mean"}).sort_values(time)
            stats["ci_low"] = stats["ci_high"] = stats["mean"]
        _line_band(ax, stats[time], stats, scale, "simulated", color="#2c7fb8")
        act = actual.sort_values(time)
        ax.plot(act[time], act[metric] * scale, color="black", lw=1.2, label="actual")
        ax.set_ylabel(f"{label} ({unit})")
        ax.legend(fontsize="small", loc="upper left")
    axes[-1].set_xlabel("interval start")
    if pd.api.types.is_datetime64_any_dtype(actual[time]):
        _time_axis(axes[-1])
    fig.suptitle(_title("Simulated vs actual", scenario_name, n))
    return fig
