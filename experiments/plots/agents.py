"""Plots of agents and costs: occupancy per agent, the cost breakdown."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.plots._common import _band, _replications, _title

__all__ = ["plot_agent_occupancy", "plot_cost_breakdown"]


def plot_agent_occupancy(agents: pd.DataFrame, scenario_name: str) -> Figure:
    """Occupancy (busy / available time, %) of every agent: one bar per agent, coloured by group, with 95% CIs.

    Agents are sorted by group, then by occupancy. Each replication's occupancy is the agent's busy time over its
    logged-in time less breaks; the bar is the mean over the replications the agent worked in.

    Args:
        agents: ``agents`` frame of every replication.
        scenario_name: Name shown in the title.
    """
    import seaborn as sns

    from sim.metrics import agent_table

    per_rep = agent_table(agents, by=["replication", "group", "agent_id"])
    stats = _band(per_rep, ["group", "agent_id"], "occupancy").dropna(subset=["mean"])
    stats = stats.sort_values(["group", "mean"], kind="stable").reset_index(drop=True)
    groups = list(dict.fromkeys(stats["group"]))
    palette = dict(zip(groups, sns.color_palette("tab10", len(groups)), strict=True))
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(stats))
    err = np.vstack([stats["mean"] - stats["ci_low"], stats["ci_high"] - stats["mean"]]) * 100.0
    for group in groups:
        sel = (stats["group"] == group).to_numpy()
        ax.bar(x[sel], stats["mean"][sel] * 100.0, color=palette[group], label=group, width=0.85)
    ax.errorbar(x, stats["mean"] * 100.0, yerr=err, fmt="none", ecolor="black", elinewidth=0.6, capsize=0)
    ax.set_ylabel("occupancy (%)")
    ax.set_ylim(0, 100)
    if len(stats) <= 40:
        ax.set_xticks(x, [str(a) for a in stats["agent_id"]], rotation=90, fontsize="small")
        ax.set_xlabel("agent id (by group)")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(stats)} agents, sorted by group, then by occupancy")
    ax.legend(title="group", fontsize="small", ncol=min(len(groups), 6), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(_title("Occupancy per agent", scenario_name, _replications(agents)))
    return fig


_COST_PARTS = (
    ("bot_cost_per_week", "bot fees"),
    ("team_lead_cost_per_week", "team leads"),
    ("leakage_cost_per_week", "leakage"),
)
_ONE_OFF = (("one_off_training_cost", "training"), ("one_off_bot_setup_cost", "bot set-up"))


def plot_cost_breakdown(summary: pd.DataFrame, scenario_name: str, currency: str = "currency") -> Figure:
    """Recurring cost per week by component (labor per group, bot fees, team leads, leakage), one-off costs apart.

    Horizontal bars with their 95% CIs; the recurring components add up to ``recurring_cost_per_week`` (given in
    the title). One-off costs (training, bot set-up) get their own panel: they are never added to a weekly figure.

    Args:
        summary: Summary over replications (``ExperimentResult.summary`` or ``summary.csv``): ``metric, scope,
            mean, ci_half, n``.
        scenario_name: Name shown in the title.
        currency: The scenario's currency (its costs are written in it), for the axis labels.
    """
    s = summary.set_index(["metric", "scope"])

    def value(metric: str, scope: str = "all") -> tuple[float, float]:
        if (metric, scope) not in s.index:
            return math.nan, math.nan
        row = s.loc[(metric, scope)]
        return float(row["mean"]), float(row["ci_half"]) if pd.notna(row["ci_half"]) else 0.0

    parts = []
    for metric, scope in s.index:
        if metric == "labor_cost_per_week" and str(scope).startswith("group="):
            parts.append((f"labor: {str(scope).removeprefix('group=')}", *value(metric, scope)))
    for metric, label in _COST_PARTS:
        mean, half = value(metric)
        if mean > 0:
            parts.append((label, mean, half))
    one_off = [(label, *value(metric)) for metric, label in _ONE_OFF if value(metric)[0] > 0]
    total, total_half = value("recurring_cost_per_week")
    n = int(s["n"].max()) if len(s) else 0
    fig = Figure(figsize=(10, max(3.0, 1.5 + 0.4 * (len(parts) + len(one_off)))), layout="constrained")
    heights = [max(len(parts), 1), max(len(one_off), 1)] if one_off else [1]
    axes = fig.subplots(len(heights), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    labels, means, halves = zip(*parts, strict=True) if parts else ((), (), ())
    axes[0].barh(list(labels), list(means), xerr=list(halves), color="#4c72b0", capsize=3)
    axes[0].invert_yaxis()
    axes[0].set_xlabel(f"recurring cost ({currency} per week)")
    if one_off:
        labels, means, halves = zip(*one_off, strict=True)
        axes[1].barh(list(labels), list(means), xerr=list(halves), color="#dd8452", capsize=3)
        axes[1].invert_yaxis()
        axes[1].set_xlabel(f"one-off cost ({currency}, paid once)")
    for ax in axes:
        ax.xaxis.set_major_formatter("{x:,.0f}")
    fig.suptitle(
        _title("Cost breakdown", scenario_name, n, f"recurring {total:,.0f} ± {total_half:,.0f} {currency}/week")
    )
    return fig
