"""Plots the notebooks need beyond :mod:`experiments.plots`: a metric against a lever, with confidence intervals.

Built like :mod:`experiments.plots`: a ``matplotlib.figure.Figure`` without ``pyplot``, units read from the
metric names (:func:`experiments.plots.metric_unit`), the scenario and the replications in the title.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.plots import metric_unit

__all__ = ["plot_lever"]


def plot_lever(
    table: pd.DataFrame,
    lever: str,
    metrics: Sequence[tuple[str, str]],
    scenario_name: str,
    *,
    lever_label: str | None = None,
    series: str | None = None,
    currency: str = "currency",
    reference: float | None = None,
) -> Figure:
    """Each metric's mean and 95% CI against the value of a lever (one panel per metric).

    Args:
        table: Rows of :func:`experiments.analysis.variant_table` (``metric, scope, mean, ci_low, ci_high, n``)
            with a numeric column ``lever`` (the lever's value of each variant).
        lever: Column holding the lever's value (the x axis).
        metrics: ``(metric, scope)`` pairs, one panel each, in order.
        scenario_name: Name shown in the title.
        lever_label: x-axis label, with its unit (default: ``lever``).
        series: Optional column splitting the points into lines (e.g. the bot's scope).
        currency: The scenario's currency, for cost axes.
        reference: A y value drawn as a dashed line in every panel (e.g. 0 for a net saving).

    Raises:
        ValueError: ``table`` lacks ``lever``, ``series`` or a pair of ``metrics``.
    """
    needed = [lever, "metric", "scope", "mean", "ci_low", "ci_high", "n", *([series] if series else [])]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; it has {list(table.columns)}")
    present = set(zip(table["metric"], table["scope"], strict=True))
    absent = [pair for pair in metrics if pair not in present]
    if absent:
        raise ValueError(f"table has no rows for {absent}")
    fig = Figure(figsize=(6.5 * min(len(metrics), 2), 4.2 * ((len(metrics) + 1) // 2)), layout="constrained")
    axes = fig.subplots((len(metrics) + 1) // 2, min(len(metrics), 2), squeeze=False).ravel()
    groups = list(dict.fromkeys(table[series])) if series else [None]
    for ax, (metric, scope) in zip(axes, metrics, strict=False):
        label, unit, scale = metric_unit(metric, currency)
        for group in groups:
            rows = table[(table["metric"] == metric) & (table["scope"] == scope)]
            if series:
                rows = rows[rows[series] == group]
            rows = rows.sort_values(lever)
            mean = rows["mean"].to_numpy(dtype=float) * scale
            low = np.nan_to_num(mean - rows["ci_low"].to_numpy(dtype=float) * scale)
            high = np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) * scale - mean)
            ax.errorbar(rows[lever], mean, yerr=np.vstack([low, high]), fmt="o-", capsize=3, lw=1.2,
                        label=str(group) if series else None)
        if reference is not None:
            ax.axhline(reference, color="#c0392b", ls="--", lw=1)
        ax.set_xlabel(lever_label or lever)
        ax.set_ylabel(f"{label} ({unit})")
        ax.set_title(scope, fontsize=10)
        if series:
            ax.legend(title=series, fontsize=8)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    n = int(table["n"].max()) if len(table) else 0
    fig.suptitle(f"Against {lever_label or lever} (mean, 95% CI)\n{scenario_name} · {n} replication{'s' * (n != 1)}")
    return fig
