"""Small analyses the notebooks show: tables over variants, the bot business case, the human mix, missed targets.

Everything here is a pure function of results the runner, :func:`experiments.compare.compare` and
:func:`experiments.optimize.optimize` return, so the notebooks hold no logic of their own. Costs are in the
scenario's currency; ``_per_week`` figures are scaled to 7 days like ``recurring_cost_per_week`` (the whole
horizon, warm-up included, times ``7 d / horizon``); hours are agent-hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.compare import Comparison
from experiments.results import WORST_METRIC, ExperimentResult
from experiments.stats import paired_difference, t_interval
from sim.config import Scenario

__all__ = [
    "BUSY_HOURS",
    "BUSY_VALUE",
    "bot_business_case",
    "break_even",
    "busy_hours",
    "case_rows",
    "human_mix",
    "miss_probability",
    "one_path_per_value",
    "outage_family",
    "plan_table",
    "variant_table",
]

BUSY_HOURS = "busy_per_week_h"
"""Metric of :func:`busy_hours`: agent-hours with at least one contact in hand, per week."""
BUSY_VALUE = "busy_labor_cost_per_week"
"""Metric of :func:`busy_hours`: those hours at each group's ``hourly_cost`` (currency per week)."""

WEEK_S = 7 * 86_400.0


def busy_hours(result: ExperimentResult) -> pd.DataFrame:
    """Agent-hours busy per week and their value at the groups' hourly cost, per replication.

    Busy time is the agents frame's ``busy_s`` (time with at least one contact in hand, overtime included) over
    the whole horizon, scaled to a week like the cost metrics.

    Args:
        result: A run of the scenario (its ``agents`` frame).

    Returns:
        A long table ``replication, metric, scope, value`` with metrics :data:`BUSY_HOURS` (hours) and
        :data:`BUSY_VALUE` (currency), scopes ``all`` and ``group=<name>``; it concatenates with
        ``result.metrics`` for :func:`experiments.stats.paired_difference`.
    """
    agents = result.agents
    scale = WEEK_S / float(result.scenario.horizon)
    rate = {name: group.hourly_cost for name, group in result.scenario.groups.items()}
    hours = agents["busy_s"].astype(float) / 3600.0 * scale
    frame = pd.DataFrame(
        {
            "replication": agents["replication"].to_numpy(),
            "group": agents["group"].astype(str).to_numpy(),
            BUSY_HOURS: hours.to_numpy(),
            BUSY_VALUE: (hours * agents["group"].astype(str).map(rate).astype(float)).to_numpy(),
        }
    )
    per_group = frame.groupby(["replication", "group"], sort=True)[[BUSY_HOURS, BUSY_VALUE]].sum().reset_index()
    per_group["scope"] = "group=" + per_group["group"]
    total = frame.groupby("replication", sort=True)[[BUSY_HOURS, BUSY_VALUE]].sum().reset_index()
    total["scope"] = "all"
    wide = pd.concat([total, per_group.drop(columns="group")], ignore_index=True)
    long = wide.melt(id_vars=["replication", "scope"], var_name="metric", value_name="value")
    return long[["replication", "metric", "scope", "value"]].reset_index(drop=True)


def variant_table(
    results: Mapping[str, ExperimentResult],
    pairs: Sequence[tuple[str, str]],
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean and Student-t interval over replications of each ``(metric, scope)`` for every run.

    Args:
        results: Runs by variant name (e.g. :attr:`experiments.compare.Comparison.results`).
        pairs: ``(metric, scope)`` pairs; metrics of :func:`busy_hours` are computed on the fly.
        confidence: Two-sided confidence level.

    Returns:
        One row per variant x pair: ``variant, metric, scope, mean, ci_low, ci_high, n`` (NaN where the run
        lacks the metric; ``ci_*`` NaN with one replication).
    """
    rows = []
    for name, result in results.items():
        long = _long(result, pairs)
        for metric, scope in pairs:
            values = long.loc[(long["metric"] == metric) & (long["scope"] == scope), "value"].to_numpy(dtype=float)
            mean, half = t_interval(values, confidence)
            n = int(np.isfinite(values).sum())
            rows.append(
                {
                    "variant": name,
                    "metric": metric,
                    "scope": scope,
                    "mean": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n": n,
                }
            )
    return pd.DataFrame(rows, columns=["variant", "metric", "scope", "mean", "ci_low", "ci_high", "n"])


def outage_family(scenario: Scenario) -> list[tuple[str, str]]:
    """The ``(metric, scope)`` pairs an outage study compares: its family for :func:`experiments.compare.compare`.

    Every target's attainment (and its worst interval for an ``every_interval`` target: what its status is read
    from), then for each channel an outage fails or moves traffic to (in the scenario's channel order): the
    contacts lost on the dead line (``lost``, count per run), the abandonment rate and the ASA (s); then the
    recurring cost per week. A small family keeps Holm's correction from blunting the differences that matter.

    Args:
        scenario: The baseline scenario (its targets and ``arrivals.outages``).

    Returns:
        The pairs, without repeats; ``lost`` only for failed channels.
    """
    pairs: list[tuple[str, str]] = []
    for target in scenario.targets:
        pairs.append(("target_attainment", f"target={target.name}"))
        if target.aggregation == "every_interval":
            pairs.append((WORST_METRIC, f"target={target.name}"))
    outages = getattr(scenario.arrivals, "outages", None) or []
    failed = {o.channel for o in outages}
    touched = failed | {o.moved_to for o in outages if o.moved_to is not None}
    for channel in scenario.channels:
        if channel in failed:
            pairs.append(("lost", f"channel={channel}"))
        if channel in touched:
            pairs += [("abandon_rate", f"channel={channel}"), ("asa_s", f"channel={channel}")]
    pairs.append(("recurring_cost_per_week", "all"))
    return pairs


def plan_table(comparison: Comparison, pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Each variant's mean with its CI and its paired difference from the baseline, per ``(metric, scope)``.

    The means and their Student-t intervals are those of :func:`variant_table`; the differences, their CIs and
    the significance (Holm over the comparison's whole family) are read from ``comparison.differences``, so a
    pair must be in the comparison's family (give it to :func:`experiments.compare.compare` as ``family=``).

    Args:
        comparison: A comparison of variants on common random numbers.
        pairs: ``(metric, scope)`` pairs, in order (default: the comparison's family).

    Returns:
        One row per variant (baseline first) x pair: ``variant, metric, scope, mean, ci_half, n, diff, diff_low,
        diff_high, significant``; the baseline's difference columns are NaN (``significant`` ``<NA>``).

    Raises:
        ValueError: A pair is not in the comparison's family.
    """
    chosen = list(pairs) if pairs is not None else list(comparison.family)
    outside = [pair for pair in chosen if pair not in set(comparison.family)]
    if outside:
        raise ValueError(
            f"pairs {outside} are not in the comparison's family (pass them to compare(..., family=...)); "
            f"its family: {list(comparison.family)}"
        )
    means = variant_table(comparison.results, chosen)
    means["ci_half"] = means["ci_high"] - means["mean"]
    diffs = comparison.differences[["variant", "metric", "scope", "diff", "ci_low", "ci_high", "significant"]]
    diffs = diffs.rename(columns={"ci_low": "diff_low", "ci_high": "diff_high"})
    table = means.merge(diffs, on=["variant", "metric", "scope"], how="left")
    table["significant"] = table["significant"].astype("boolean")
    columns = ["variant", "metric", "scope", "mean", "ci_half", "n", "diff", "diff_low", "diff_high", "significant"]
    return table[columns]


def _long(result: ExperimentResult, pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    long = result.metrics[["replication", "metric", "scope", "value"]]
    if pairs is None or any(metric in (BUSY_HOURS, BUSY_VALUE) for metric, _ in pairs):
        long = pd.concat([long, busy_hours(result)], ignore_index=True)
    return long


def _bot_fixed_fee_per_day(result: ExperimentResult) -> float:
    """Fixed bot fees per day of the bots the scenario's deflection policy uses (none: 0)."""
    if result.scenario.policies.deflection.name == "none":
        return 0.0
    return float(sum(bot.fixed_fee_per_day for bot in result.scenario.bots.values()))


def bot_business_case(
    baseline: ExperimentResult,
    variants: Mapping[str, ExperimentResult],
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The chatbot's business case of each variant against a baseline without it, paired by replication.

    The roster is the same in both runs, so the bot does not lower the simulated labor cost; what it frees is
    agent time. This values the agent-hours it frees at the groups' hourly cost (what a roster cut to the same
    busy hours would save) and sets that against the bot's fees:

    * ``hours_saved_per_week``: busy agent-hours, baseline − variant (:func:`busy_hours`), with its CI;
    * ``labor_value_per_week``: those hours at the hourly cost of the groups that worked them;
    * ``bot_cost_per_week``: extra ``bot_cost_per_week`` (per-session and per-resolution fees and the fixed fee);
    * ``net_saving_per_week``: labor value − bot cost, paired per replication, with its CI;
    * ``payback_weeks`` (and ``_low``/``_high`` from the CI of the net saving): extra ``one_off_cost`` (the
      bot's set-up) / net saving, by :func:`sim.metrics.payback_weeks` (``inf``: never repaid);
    * ``break_even_sessions_per_day``: bot sessions a day at which the net saving per session covers the fixed
      fee (``fixed_fee_per_day / (net value per session before the fixed fee)``); ``inf`` when a session is
      worth less than its fees.

    Args:
        baseline: The run without the bot (same seed and replications).
        variants: Runs with the bot by name.
        confidence: Two-sided confidence level.

    Returns:
        One row per variant; the columns above plus ``bot_sessions_per_day``, ``one_off_cost`` and ``n`` (paired
        replications). :func:`case_rows` turns it into rows for :func:`experiments.nbplots.plot_lever`.
    """
    from sim.metrics import payback_weeks

    base_long = _long(baseline)
    rows = []
    for name, result in variants.items():
        long = _long(result)
        hours = paired_difference(base_long, long, BUSY_HOURS, "all", confidence)
        value = paired_difference(base_long, long, BUSY_VALUE, "all", confidence)
        bot = paired_difference(long, base_long, "bot_cost_per_week", "all", confidence)
        one_off = paired_difference(long, base_long, "one_off_cost", "all", confidence).mean_diff
        net_long = _net_saving(base_long, long)
        net, half = t_interval(net_long, confidence)
        days = (float(result.scenario.horizon) - result.scenario.measure_start_s) / 86_400.0
        sessions = _mean(long, "bot_offered") / days if days > 0 else math.nan
        fixed = _bot_fixed_fee_per_day(result)
        # net value per session before the fixed fee: (net saving per day + fixed fee per day) / sessions per day
        per_session = (net / 7.0 + fixed) / sessions if sessions > 0 else math.nan
        rows.append(
            {
                "variant": name,
                "bot_sessions_per_day": sessions,
                "hours_saved_per_week": hours.mean_diff,
                "hours_saved_ci_low": hours.ci_low,
                "hours_saved_ci_high": hours.ci_high,
                "labor_value_per_week": value.mean_diff,
                "bot_cost_per_week": bot.mean_diff,
                "net_saving_per_week": net,
                "net_saving_ci_low": net - half,
                "net_saving_ci_high": net + half,
                "one_off_cost": one_off,
                "payback_weeks": payback_weeks(one_off, net, 0.0),
                "payback_low_weeks": payback_weeks(one_off, net + half, 0.0),
                "payback_high_weeks": payback_weeks(one_off, net - half, 0.0),
                "break_even_sessions_per_day": fixed / per_session if per_session > 0 else math.inf,
                "n": len(net_long),
            }
        )
    return pd.DataFrame(rows)


def case_rows(case: pd.DataFrame) -> pd.DataFrame:
    """:func:`bot_business_case` as rows like :func:`variant_table`'s, for :func:`experiments.nbplots.plot_lever`.

    Returns:
        Rows ``variant, metric, scope, mean, ci_low, ci_high, n`` of the metrics ``hours_saved_per_week_h``
        (agent-hours) and ``net_saving_cost_per_week`` (currency per week), scope ``all``.
    """
    parts = []
    for metric, column, low, high in (
        ("hours_saved_per_week_h", "hours_saved_per_week", "hours_saved_ci_low", "hours_saved_ci_high"),
        ("net_saving_cost_per_week", "net_saving_per_week", "net_saving_ci_low", "net_saving_ci_high"),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "variant": case["variant"],
                    "metric": metric,
                    "scope": "all",
                    "mean": case[column],
                    "ci_low": case[low],
                    "ci_high": case[high],
                    "n": case["n"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _mean(long: pd.DataFrame, metric: str, scope: str = "all") -> float:
    values = long.loc[(long["metric"] == metric) & (long["scope"] == scope), "value"]
    return float(values.mean()) if len(values) else math.nan


def _by_rep(long: pd.DataFrame, metric: str, scope: str = "all") -> pd.Series:
    rows = long[(long["metric"] == metric) & (long["scope"] == scope)]
    return rows.set_index("replication")["value"].astype(float)


def _net_saving(base_long: pd.DataFrame, long: pd.DataFrame) -> np.ndarray:
    """Per replication: (baseline − variant) busy value − (variant − baseline) bot cost."""
    value = _by_rep(base_long, BUSY_VALUE) - _by_rep(long, BUSY_VALUE)
    bot = _by_rep(long, "bot_cost_per_week") - _by_rep(base_long, "bot_cost_per_week")
    return (value - bot).dropna().to_numpy(dtype=float)


def break_even(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """The first ``x`` at which ``y`` reaches zero, by linear interpolation between neighbouring points.

    For example the bot resolution rate at which the net saving per week turns positive.

    Args:
        x: Increasing lever values.
        y: The quantity at each ``x`` (NaN points are skipped).

    Returns:
        ``x`` of the first zero or sign change of ``y``; NaN when ``y`` never changes sign.

    Raises:
        ValueError: ``x`` and ``y`` differ in length or ``x`` is not increasing.

    Example:
        >>> break_even([0.5, 0.6, 0.7], [-200.0, -100.0, 300.0])
        0.625
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {len(xs)} and {len(ys)}")
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if np.any(np.diff(xs) <= 0):
        raise ValueError(f"x must be increasing, got {xs.tolist()}")
    for i in range(len(xs)):
        if ys[i] == 0:
            return float(xs[i])
        if i + 1 < len(xs) and ys[i] * ys[i + 1] < 0:
            return float(xs[i] + (xs[i + 1] - xs[i]) * (0.0 - ys[i]) / (ys[i + 1] - ys[i]))
    return math.nan


def human_mix(result: ExperimentResult, channel: str | None = None) -> pd.DataFrame:
    """Who reaches a human agent, by intent: share of the human work and mean handle time.

    Needs the contact log (``run_experiment(..., log=True)``). A bot that resolves the easy intents leaves the
    agents a harder mix: a larger share of long intents, and escalated contacts handled with the bot's factors.

    Args:
        result: A run with the contact log.
        channel: Only contacts of this channel (``None``: all).

    Returns:
        One row per intent: ``served`` (contacts a human served, per replication), ``share`` of them,
        ``after_bot`` (share of them escalated by the bot), ``handle_mean_s`` (mean handle time) and
        ``handle_share`` (share of the human handle time); plus a row ``all``.

    Raises:
        ValueError: The run kept no contact log.
    """
    contacts = result.contacts
    if contacts is None:
        raise ValueError("human_mix needs the contact log: run_experiment(..., log=True)")
    served = contacts[contacts["outcome"].astype(str) == "served"]
    if channel is not None:
        served = served[served["channel"].astype(str) == channel]
    n_reps = max(1, len(result.replications))
    frame = pd.DataFrame(
        {
            "intent": served["intent"].astype(str).to_numpy(),
            "handle_s": served["handle_s"].astype(float).to_numpy(),
            "after_bot": (served["bot_outcome"].astype(str) != "").to_numpy(),
        }
    )
    grouped = frame.groupby("intent", sort=True)
    table = pd.DataFrame(
        {
            "served": grouped.size() / n_reps,
            "after_bot": grouped["after_bot"].mean(),
            "handle_mean_s": grouped["handle_s"].mean(),
            "handle_total_s": grouped["handle_s"].sum(),
        }
    )
    total = pd.DataFrame(
        {
            "served": [len(frame) / n_reps],
            "after_bot": [frame["after_bot"].mean() if len(frame) else math.nan],
            "handle_mean_s": [frame["handle_s"].mean() if len(frame) else math.nan],
            "handle_total_s": [frame["handle_s"].sum()],
        },
        index=pd.Index(["all"], name="intent"),
    )
    table = pd.concat([table, total])
    table["share"] = table["served"] / (len(frame) / n_reps) if len(frame) else math.nan
    handle_total = frame["handle_s"].sum()
    table["handle_share"] = table["handle_total_s"] / handle_total if handle_total > 0 else math.nan
    table = table.drop(columns="handle_total_s").rename_axis("intent").reset_index()
    return table[["intent", "served", "share", "after_bot", "handle_mean_s", "handle_share"]]


def miss_probability(confirmation: pd.DataFrame) -> pd.DataFrame:
    """The probability that a confirmed plan misses each target in a period (one simulated horizon).

    ``p_miss = 1 − p_period``, where ``p_period`` is the share of the confirmation's replications in which the
    plan met the target (:attr:`experiments.optimize.OptimizationResult.confirmation`), with a Wilson 95%
    interval over those replications (independent horizons).

    Args:
        confirmation: Rows ``trial, target, level, mean, status, p_period, replications``.

    Returns:
        One row per plan x target: ``trial, target, level, mean, status, p_miss, p_miss_low, p_miss_high``
        (no rows when no plan was confirmed).
    """
    columns = ["trial", "target", "level", "mean", "status", "p_miss", "p_miss_low", "p_miss_high"]
    if confirmation.empty:  # no plan was feasible in the search, so none was confirmed
        return pd.DataFrame(columns=columns)
    out = confirmation[["trial", "target", "level", "mean", "status"]].copy()
    p = 1.0 - confirmation["p_period"].astype(float)
    n = confirmation["replications"].astype(float)
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    out["p_miss"] = p.to_numpy()
    out["p_miss_low"] = np.clip(centre - half, 0.0, 1.0).to_numpy()
    out["p_miss_high"] = np.clip(centre + half, 0.0, 1.0).to_numpy()
    return out.reset_index(drop=True)


def one_path_per_value(overrides: Mapping[str, object]) -> dict[str, object]:
    """Overrides with each mapping of scalars split into one dotted path per key.

    ``ccsim erlang``'s plan sets ``groups.tech.staffing: {night: 11, day: 18}``; a search space's variables are
    ``groups.tech.staffing.night`` and so on, so this gives the plan as a warm start for
    :func:`experiments.optimize.optimize` (``start=``). Other values are kept as they are.

    Example:
        >>> one_path_per_value({"groups.tech.staffing": {"night": 11, "day": 18}, "horizon": "3d"})
        {'groups.tech.staffing.night': 11, 'groups.tech.staffing.day': 18, 'horizon': '3d'}
    """
    out: dict[str, object] = {}
    for path, value in overrides.items():
        if isinstance(value, Mapping) and value and all(not isinstance(v, Mapping | list) for v in value.values()):
            out.update({f"{path}.{key}": v for key, v in value.items()})
        else:
            out[path] = value
    return out
