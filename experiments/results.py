"""Results of an experiment: :class:`ExperimentResult`, the status of FRT targets, the per-interval table.

A target is ``MET``, ``NOT MET`` or ``UNCERTAIN`` according to the 95% CI over replications of its attainment,
or, for an ``every_interval`` target, of its worst interval (:func:`target_status`); :func:`target_table` reports
every target of a scenario, :func:`day_attainment` its attainment per day, and :func:`interval_summary` averages the
per-interval KPIs over replications.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.measure import parse_target_scope, target_scope
from sim.config import Scenario

__all__ = [
    "ExperimentResult",
    "day_attainment",
    "interval_summary",
    "overload_warnings",
    "target_status",
    "target_table",
]

OVERLOAD_H = 24.0
"""A run is called overloaded when, in some channel, the contacts still waiting at the end are more than this many
hours of work at the rate the channel answered (mean over replications of ``backlog_h``)."""

TARGET_METRIC = "target_attainment"
"""Metric holding ``P(FRT <= threshold | filter)`` (pooled over the target's window) for the scope ``target=<name>``."""
WORST_METRIC = "target_worst_interval"
"""Metric holding an ``every_interval`` target's lowest interval attainment; its CI decides that target's status."""


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    """Results of :func:`~experiments.runner.run_experiment`.

    Attributes:
        scenario: The scenario run.
        seed: Base seed.
        replications: Replication indices summarized, sorted (``0..n-1``, or more when the run directory already
            held more than were asked for).
        metrics: Long table, columns :data:`~experiments.runner.LONG_COLUMNS`.
        summary: Per metric x scope: mean, std, ci_half, ci_low, ci_high, n (95% Student-t); with the default
            summary also share_low, share_high (shares only: :func:`experiments.stats.share_interval`).
        frames: Concatenated per-replication frames by name (``intervals``, ``staffing``, ``agents``,
            ``frt_hist`` and ``contacts`` when the log was kept).
        out_dir: Run directory, or ``None`` when nothing was written.
        reused: Replications found complete in ``out_dir`` and not re-run.
        warnings: What the scenario check (:func:`sim.budget.scenario_warnings`) and the results
            (:func:`overload_warnings`) say an analyst should know before reading the numbers.
    """

    scenario: Scenario
    seed: int
    replications: tuple[int, ...]
    metrics: pd.DataFrame
    summary: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    out_dir: Path | None = None
    reused: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def overloaded(self) -> bool:
        """Whether some channel's queue grew without bound (see :func:`overload_warnings`)."""
        return bool(overload_warnings(self.summary))

    @property
    def intervals(self) -> pd.DataFrame:
        """Per replication x interval x channel x priority x tier counts (see :mod:`sim.schema`)."""
        return self.frames["intervals"]

    @property
    def staffing(self) -> pd.DataFrame:
        """Per replication x interval x group agent levels."""
        return self.frames["staffing"]

    @property
    def agents(self) -> pd.DataFrame:
        """Per replication x agent totals."""
        return self.frames["agents"]

    @property
    def frt_hist(self) -> pd.DataFrame:
        """FRT histograms per replication x channel x priority x tier."""
        return self.frames["frt_hist"]

    @property
    def contacts(self) -> pd.DataFrame | None:
        """Contact log of every replication, or ``None`` when it was not kept."""
        return self.frames.get("contacts")

    def targets(self) -> pd.DataFrame:
        """The scenario's FRT targets with attained mean, CI and status (see :func:`target_table`)."""
        return target_table(self.summary, self.scenario, self.metrics)

    def day_attainment(self) -> pd.DataFrame:
        """Every target's attainment per day of its window (see :func:`day_attainment`)."""
        return day_attainment(self.summary, self.scenario)


def target_status(mean: float, ci_low: float, ci_high: float, level: float) -> str:
    """Classify a target from the 95% CI of its attainment (shares in [0, 1]).

    Returns:
        ``MET`` (whole CI at or above the level), ``NOT MET`` (whole CI below), ``UNCERTAIN`` (the CI straddles
        the level or is unknown, e.g. one replication), or ``NO DATA`` (no contact matched the target).
    """
    eps = 1e-12  # attainment is a ratio; 100% in every replication must count as meeting a 100% target
    if pd.isna(mean):
        return "NO DATA"
    if pd.isna(ci_low) or pd.isna(ci_high):
        return "UNCERTAIN"
    if ci_low >= level - eps:
        return "MET"
    if ci_high < level - eps:
        return "NOT MET"
    return "UNCERTAIN"


def target_table(summary: pd.DataFrame, scenario: Scenario, metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scenario target: filter, window, threshold_s, level, attained mean and CI (shares), n, status.

    ``mean``, ``ci_low``, ``ci_high`` and ``ci_half`` are the attainment pooled over the target's window. An
    ``every_interval`` target also has ``worst`` (mean over replications of its worst interval's attainment) with
    ``worst_ci_low``, ``worst_ci_high``, ``worst_ci_half``, ``interval_share`` (mean share of its intervals that
    reach the level) and, given ``metrics``, ``worst_at`` (the calendar start, a ``pandas.Timestamp``, of the
    interval that was the worst in most replications, earliest on a tie) with ``worst_at_n`` (in how many);
    NaN / ``None`` for a pooled target.

    Status is ``MET``, ``NOT MET``, ``UNCERTAIN`` or ``NO DATA`` (see :func:`target_status`) from the CI of the
    pooled attainment, or for an ``every_interval`` target from the CI of its worst interval (every interval must
    reach the level); ``NEEDS --log`` for a target filtered by intent in a run without the contact log.

    Args:
        summary: Output of ``experiments.stats.summarize``; targets are rows with metric
            ``target_attainment`` (and the ``every_interval`` figures) and scope ``target=<name>``.
        scenario: The scenario whose targets to report.
        metrics: The long table of every replication, for ``worst_at`` (optional).
    """
    rows = []
    by_key = summary.set_index(["metric", "scope"]) if len(summary) else None
    worst_at = _worst_at(metrics, scenario)

    def stats_of(metric: str, scope: str) -> dict[str, float]:
        row = by_key.loc[(metric, scope)] if by_key is not None and (metric, scope) in by_key.index else None
        keys = ("mean", "ci_low", "ci_high", "ci_half", "n")
        return {k: (float(row[k]) if row is not None else (0.0 if k == "n" else float("nan"))) for k in keys}

    for target in scenario.targets:
        scope = target_scope(target.name)
        pooled = stats_of(TARGET_METRIC, scope)
        every = target.aggregation == "every_interval"
        worst = stats_of(WORST_METRIC, scope) if every else dict.fromkeys(pooled, float("nan"))
        share = stats_of("target_interval_share", scope)["mean"] if every else float("nan")
        filters = {k: getattr(target, k) for k in ("channel", "priority", "tier", "intent")}
        at, at_n = worst_at.get(target.name, (None, 0)) if every else (None, 0)
        rows.append(
            {
                "target": target.name,
                **filters,
                "window": target.window.describe() if target.window is not None else "all days",
                "aggregation": target.aggregation,
                "threshold_s": target.threshold,
                "level": target.level,
                **{k: pooled[k] for k in ("mean", "ci_low", "ci_high", "ci_half")},
                "n": int(pooled["n"]),
                "worst": worst["mean"],
                "worst_ci_low": worst["ci_low"],
                "worst_ci_high": worst["ci_high"],
                "worst_ci_half": worst["ci_half"],
                "worst_at": at,
                "worst_at_n": at_n,
                "interval_share": share,
                "status": _status_of(target, worst if every else pooled),
            }
        )
    return pd.DataFrame(rows)


def _worst_at(metrics: pd.DataFrame | None, scenario: Scenario) -> dict[str, tuple[pd.Timestamp, int]]:
    """Per ``every_interval`` target: the calendar start of its most frequent worst interval, and how often."""
    if metrics is None or len(metrics) == 0:
        return {}
    starts = metrics[metrics["metric"] == "target_worst_interval_start_s"].dropna(subset=["value"])
    out = {}
    for scope, values in starts.groupby("scope", sort=False)["value"]:
        counts = values.value_counts()
        best = counts[counts == counts.max()].index.min()  # the earliest of the most frequent
        when = pd.Timestamp(scenario.start) + pd.to_timedelta(float(best), unit="s")
        out[parse_target_scope(str(scope))[0]] = (when, int(counts.max()))
    return out


def _status_of(target: Any, values: dict[str, float]) -> str:
    status = target_status(values["mean"], values["ci_low"], values["ci_high"], target.level)
    # Interval counts carry no intent: a target filtered by intent is only measured from the contact log.
    if status == "NO DATA" and target.intent is not None:
        return "NEEDS --log"
    return status


def day_attainment(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Every target's attainment per day of its window (``target_day_attainment`` rows of the summary).

    Args:
        summary: Output of ``experiments.stats.summarize``.
        scenario: The scenario whose targets to report (its order is kept).

    Returns:
        Columns ``day`` (``YYYY-MM-DD``, the day the window opened on), ``target``, ``level``, ``mean``,
        ``ci_half``, ``n``; days in order, targets in the scenario's order within a day.
    """
    columns = ["day", "target", "level", "mean", "ci_half", "n"]
    part = summary[summary["metric"] == "target_day_attainment"] if len(summary) else summary
    levels = {t.name: t.level for t in scenario.targets}
    order = {t.name: i for i, t in enumerate(scenario.targets)}
    rows = []
    for row in part.itertuples(index=False):
        name, day = parse_target_scope(str(row.scope), day=True)
        if day is not None and name in levels:
            rows.append((day, name, levels[name], float(row.mean), float(row.ci_half), int(row.n)))
    table = pd.DataFrame(rows, columns=columns)
    table["_order"] = table["target"].map(order)
    return table.sort_values(["day", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)


def interval_summary(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per interval x channel x priority x tier KPIs (SL per threshold, ASA, abandonment...), mean over replications.

    Rows start at the end of the warm-up (rounded up to an interval: the measured period of every metric).

    Each replication's figures come from :func:`sim.metrics.interval_table` (volume-weighted within the
    interval's segment); this averages them over replications and adds the interval's calendar start
    (``interval_start``) next to ``interval_start_s``.
    """
    from sim.metrics import filter_intervals, interval_table

    measured = filter_intervals(intervals, warmup_s=scenario.measure_start_s, horizon_s=scenario.horizon)
    by = ("channel", "priority", "tier")
    per_rep = interval_table(measured, scenario.sl_thresholds_s(), scenario.reporting.sl_convention, by=by)
    keys = ["interval", "interval_start_s", *by]
    table = per_rep.drop(columns="replication").groupby(keys, sort=True, observed=True).mean().reset_index()
    start = pd.Timestamp(scenario.start)
    table.insert(2, "interval_start", start + pd.to_timedelta(table["interval_start_s"], unit="s"))
    return table


def overload_warnings(summary: pd.DataFrame, threshold_h: float = OVERLOAD_H) -> list[str]:
    """One line per channel whose queue did not clear: its end backlog is over ``threshold_h`` hours of work.

    Such a run has no steady state: its waits, ASA and service levels grow with the horizon, so they describe the
    length of the run rather than the center (add agents, or let customers abandon).

    Args:
        summary: The summary over replications (``metric, scope, mean, ...``) with ``backlog_h`` and ``censored``.
        threshold_h: Hours of work beyond which the backlog counts as unbounded.
    """
    rows = summary[(summary["metric"] == "backlog_h") & summary["scope"].str.startswith("channel=")]
    censored = summary[summary["metric"] == "censored"].set_index("scope")["mean"]
    out = []
    for row in rows.itertuples(index=False):
        if row.mean > threshold_h:
            channel = str(row.scope).split("=", 1)[1]
            hours = "no answer at all" if row.mean == float("inf") else f"{row.mean / 24:,.1f} days of work"
            waiting = censored.get(row.scope, float("nan"))
            out.append(
                f"OVERLOADED: channel {channel}: about {waiting:,.0f} contacts still waiting at the end ({hours} at "
                "the rate answered); the queue grows without bound, so its waits and service levels describe the "
                "run's length, not a steady state"
            )
    return out
