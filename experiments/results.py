"""Results of an experiment: :class:`ExperimentResult`, the status of FRT targets, the per-interval table.

A target is ``MET``, ``NOT MET`` or ``UNCERTAIN`` according to the 95% CI of its attainment over replications
(:func:`target_status`); :func:`target_table` reports every target of a scenario and :func:`interval_summary`
averages the per-interval KPIs over replications.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Scenario

__all__ = ["ExperimentResult", "interval_summary", "overload_warnings", "target_status", "target_table"]

OVERLOAD_H = 24.0
"""A run is called overloaded when, in some channel, the contacts still waiting at the end are more than this many
hours of work at the rate the channel answered (mean over replications of ``backlog_h``)."""

TARGET_METRIC = "target_attainment"
"""Metric holding ``P(FRT <= threshold | filter)`` for the scope ``target=<name>``."""


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    """Results of :func:`~experiments.runner.run_experiment`.

    Attributes:
        scenario: The scenario run.
        seed: Base seed.
        replications: Replication indices summarized (``0..n-1``).
        metrics: Long table, columns :data:`~experiments.runner.LONG_COLUMNS`.
        summary: Per metric x scope: mean, std, ci_half, ci_low, ci_high, n (95% Student-t).
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
        return target_table(self.summary, self.scenario)


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


def target_table(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per scenario target: filter, threshold_s, level, attained mean and CI (shares), n, status.

    Status is ``MET``, ``NOT MET``, ``UNCERTAIN`` or ``NO DATA`` (see :func:`target_status`), or ``NEEDS --log``
    for a target filtered by intent in a run without the contact log.

    Args:
        summary: Output of ``experiments.stats.summarize``; targets are rows with metric
            ``target_attainment`` and scope ``target=<name>``.
        scenario: The scenario whose targets to report.
    """
    rows = []
    wanted = summary[summary["metric"] == TARGET_METRIC].set_index("scope") if len(summary) else summary
    for target in scenario.targets:
        scope = f"target={target.name}"
        stats = wanted.loc[scope] if scope in getattr(wanted, "index", ()) else None
        values = {k: (float(stats[k]) if stats is not None else float("nan")) for k in ("mean", "ci_low", "ci_high")}
        filters = {k: getattr(target, k) for k in ("channel", "priority", "tier", "intent")}
        rows.append(
            {
                "target": target.name,
                **filters,
                "threshold_s": target.threshold,
                "level": target.level,
                **values,
                "ci_half": float(stats["ci_half"]) if stats is not None else float("nan"),
                "n": int(stats["n"]) if stats is not None else 0,
                "status": _status_of(target, values),
            }
        )
    return pd.DataFrame(rows)


def _status_of(target: Any, values: dict[str, float]) -> str:
    status = target_status(values["mean"], values["ci_low"], values["ci_high"], target.level)
    # Interval counts carry no intent: a target filtered by intent is only measured from the contact log.
    if status == "NO DATA" and target.intent is not None:
        return "NEEDS --log"
    return status


def interval_summary(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per interval x channel KPIs (SL per threshold, ASA, abandonment, queue...), mean over replications.

    Each replication's figures come from :func:`sim.metrics.interval_table` (volume-weighted within the
    interval, priorities and tiers merged); this averages them over replications and adds the interval's
    calendar start (``interval_start``) next to ``interval_start_s``.
    """
    from sim.metrics import interval_table

    per_rep = interval_table(intervals, scenario.sl_thresholds_s(), scenario.reporting.sl_convention)
    keys = ["interval", "interval_start_s", "channel"]
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
