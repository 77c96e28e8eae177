"""Compare variants of a scenario on common random numbers: paired differences with CIs, corrected for multiplicity.

A variant is a name and an override (see :mod:`experiments.overrides`). Every variant runs with the same seed and
replication numbers, so replication ``r`` of each variant sees the same customers with the same needs (named
random streams, DESIGN §6); the difference of a metric between a variant and the baseline is then measured per
replication, and its Student-t interval is much narrower than that of two independent means.

Which differences are called significant: a paired t-test per (variant, metric, scope) in the compared family,
with Holm's step-down correction over the whole family, so the chance of calling any null difference
significant stays at most ``alpha``. The family is the metrics asked for (default: every target's attainment,
service level, ASA and abandonment per channel, occupancy, and the cost), times the variants.

Sequential mode: give a half-width per metric (``half_widths``); after the first ``n_replications`` more are run
(resuming each variant's run folder) until every variant's paired difference for those metrics has a CI
half-width at most that, or ``max_replications`` is reached.

Variants file (``ccsim compare SCENARIO VARIANTS.yaml``)::

    baseline: as_is                 # optional name of the unchanged scenario (default "baseline")
    variants:
      more_chat: {groups.chat_zh.staffing.day: 14}
      overflow:  {policies.routing: {name: overflow}}

A sweep (``ccsim sweep SCENARIO GRID.yaml``) is a factorial grid of overrides, each combination a variant::

    groups.chat_zh.staffing.day: [10, 12, 14]
    policies.routing: [{name: longest_idle}, {name: overflow}]
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.overrides import apply_overrides
from experiments.results import WORST_METRIC, ExperimentResult
from experiments.run_dir import default_out_dir
from experiments.runner import run_experiment
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import parse_yaml, read_text
from experiments.stats import replications_needed, t_interval
from sim.config import Scenario
from sim.metrics import legacy_renames, sl_metric
from sim.problems import short_repr

__all__ = [
    "Comparison",
    "Variant",
    "compare",
    "default_family",
    "holm",
    "paired_table",
    "read_grid",
    "read_variants",
    "sweep_variants",
]


@dataclasses.dataclass(frozen=True)
class Variant:
    """A named change of the scenario.

    Attributes:
        name: Label in tables and the folder name of its runs.
        overrides: Dotted path -> value (see :mod:`experiments.overrides`); empty for the baseline.
    """

    name: str
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ reading


def _read_mapping(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    label = os.fspath(path)
    if not Path(label).is_file():
        raise ScenarioError(label, [f"{label}: {what} file not found"])
    data, _ = parse_yaml(read_text(Path(label), label), label)
    if not isinstance(data, dict) or not data:
        raise ScenarioError(label, [f"{label}: expected a non-empty mapping ({what})"])
    return data


def read_variants(path: str | os.PathLike[str]) -> tuple[str, list[Variant]]:
    """The baseline's name and the variants of a variants file (see the module docstring).

    A file that is a plain mapping of names to overrides (without ``variants:``) is accepted too.

    Raises:
        ScenarioError: Not a mapping, a variant that is not a mapping of dotted paths, or a repeated name.
    """
    label = os.fspath(path)
    data = _read_mapping(path, "variants")
    if "variants" in data:
        baseline, body = data.pop("baseline", "baseline"), data.pop("variants")
        if data:
            unknown = sorted(map(str, data))
            raise ScenarioError(label, [f"{label}: unknown keys {unknown}; expected baseline: and variants:"])
    else:
        baseline, body = "baseline", data
    if not isinstance(baseline, str) or not baseline:
        raise ScenarioError(label, [f"{label}: baseline: expected a name, got {short_repr(baseline)}"])
    if not isinstance(body, dict) or not body:
        raise ScenarioError(label, [f"{label}: variants: expected a mapping of names to overrides"])
    variants = []
    for name, overrides in body.items():
        if not isinstance(overrides, dict) or not all(isinstance(k, str) for k in overrides):
            what = f"expected a mapping of dotted paths to values, got {short_repr(overrides)}"
            raise ScenarioError(label, [f"{label}: variants.{name}: {what}"])
        if str(name) == baseline:
            raise ScenarioError(label, [f"{label}: variants.{name}: the name is the baseline's; choose another"])
        variants.append(Variant(str(name), overrides))
    return baseline, variants


def read_grid(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """A sweep grid: dotted path -> list of values (see the module docstring).

    Raises:
        ScenarioError: Not a mapping of paths to non-empty lists, or more than 1,000 combinations.
    """
    label = os.fspath(path)
    grid = _read_mapping(path, "grid")
    for key, values in grid.items():
        if not isinstance(key, str) or not isinstance(values, list) or not values:
            raise ScenarioError(label, [f"{label}: {key}: expected a non-empty list of values"])
    size = math.prod(len(v) for v in grid.values())
    if size > 1_000:
        raise ScenarioError(label, [f"{label}: the grid has {size:,} combinations; at most 1,000"])
    return grid


def _short(value: Any) -> str:
    if isinstance(value, Mapping) and "name" in value and len(value) == 1:
        return str(value["name"])
    return short_repr(value, 30).strip("'")


def sweep_variants(grid: Mapping[str, Sequence[Any]]) -> list[Variant]:
    """Every combination of a grid as a variant named ``path=value, ...`` (last path component only).

    Example:
        >>> [v.name for v in sweep_variants({"groups.chat.staffing.day": [10, 12], "horizon": ["1d"]})]
        ['day=10, horizon=1d', 'day=12, horizon=1d']
    """
    keys = list(grid)
    variants = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        name = ", ".join(f"{k.rsplit('.', 1)[-1]}={_short(v)}" for k, v in zip(keys, combo, strict=True))
        variants.append(Variant(name, dict(zip(keys, combo, strict=True))))
    return variants


# ------------------------------------------------------------------------------------------------ statistics


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is left out of the family).

    Example:
        >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = adjusted
    return out


def _paired(diff: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean, CI half-width (:func:`experiments.stats.t_interval`) and two-sided p-value of a paired t-test against 0."""
    from scipy import special

    mean, half = t_interval(diff, confidence)
    n = int((~np.isnan(diff)).sum())
    if n < 2:
        return mean, half, math.nan
    se = float(np.nanstd(diff, ddof=1)) / math.sqrt(n)
    if se == 0:
        return mean, 0.0, (1.0 if mean == 0 else 0.0)
    return mean, half, float(2.0 * special.stdtr(n - 1, -abs(mean) / se))


def default_family(scenario: Scenario, metrics: pd.DataFrame) -> list[tuple[str, str]]:
    """The (metric, scope) pairs compared by default: targets, per-channel SL/ASA/abandonment, occupancy, cost."""
    present = set(zip(metrics["metric"], metrics["scope"], strict=True))
    family = []
    for target in scenario.targets:
        family.append(("target_attainment", f"target={target.name}"))
        if target.aggregation == "every_interval":  # what its status is read from
            family.append((WORST_METRIC, f"target={target.name}"))
    # The SL at the shortest threshold (by value: names like sl_15min and sl_20s do not sort by it).
    sl = [sl_metric(scenario.sl_thresholds_s()[0])] if scenario.sl_thresholds_s() else []
    for channel in scenario.channels:
        for metric in (*sl, "asa_s", "abandon_rate"):
            family.append((metric, f"channel={channel}"))
    family.append(("occupancy", "all"))
    family.append(("recurring_cost_per_week", "all"))
    return [pair for pair in family if pair in present]


def paired_table(
    results: Mapping[str, ExperimentResult],
    baseline: str,
    family: Sequence[tuple[str, str]],
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every variant against the baseline, per (metric, scope) of ``family``.

    Columns: both means, the paired difference with its CI, the paired t-test's p-value, the Holm-adjusted
    p-value over the whole table, and whether the difference is significant at ``alpha`` after the correction.
    Replications are paired by number; only replications both runs have are used.
    """
    base = results[baseline].metrics
    rows = []
    for name, result in results.items():
        if name == baseline:
            continue
        for metric, scope in family:
            a = _values(result.metrics, metric, scope)
            b = _values(base, metric, scope)
            both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
            diff = (both["a"] - both["b"]).to_numpy(dtype=float)
            mean, half, p = _paired(diff, confidence)
            rows.append(
                {
                    "variant": name,
                    "metric": metric,
                    "scope": scope,
                    "mean_variant": float(both["a"].mean()),
                    "mean_baseline": float(both["b"].mean()),
                    "diff": mean,
                    "ci_half": half,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n": int((~np.isnan(diff)).sum()),
                    "p_value": p,
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p_value"].to_numpy())
    table["significant"] = table["p_holm"] < alpha
    return table


def _mean(long: pd.DataFrame, metric: str, scope: str = "all") -> float:
    values = _values(long, metric, scope)
    return float(values.mean()) if len(values) else 0.0


def _values(long: pd.DataFrame, metric: str, scope: str) -> pd.Series:
    rows = long[(long["metric"] == metric) & (long["scope"] == scope)]
    return rows.set_index("replication")["value"].astype(float)


# ------------------------------------------------------------------------------------------------ running


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Results of :func:`compare`.

    Attributes:
        baseline: Name of the unchanged scenario.
        variants: The variants, baseline first.
        results: Each variant's :class:`ExperimentResult` (metrics per replication, summary with CIs, targets).
        differences: :func:`paired_table` of every variant against the baseline over ``family``.
        family: The (metric, scope) pairs compared (the multiple-comparison family, times the variants).
        out_dir: Folder holding one run folder per variant (``None`` in memory).
    """

    baseline: str
    variants: tuple[Variant, ...]
    results: dict[str, ExperimentResult]
    differences: pd.DataFrame
    family: tuple[tuple[str, str], ...]
    out_dir: Path | None

    @property
    def replications(self) -> int:
        """Replications per variant."""
        return len(next(iter(self.results.values())).replications)

    def summary(self) -> pd.DataFrame:
        """Mean and CI per variant over the compared family (rows: variant x metric x scope)."""
        parts = []
        for name, result in self.results.items():
            s = result.summary
            keep = pd.Series(list(zip(s["metric"], s["scope"], strict=True)), index=s.index).isin(set(self.family))
            parts.append(s[keep].assign(variant=name))
        return pd.concat(parts, ignore_index=True)[["variant", "metric", "scope", "mean", "ci_half", "n"]]

    def payback(self) -> pd.DataFrame:
        """The payback period of each variant that costs more one-off than the baseline.

        Columns: the extra one-off cost, the weekly saving (baseline − variant recurring cost per week, paired, with
        its CI) and the payback period in weeks, from :func:`sim.metrics.payback_weeks` on the mean saving;
        ``payback_low_weeks`` and ``payback_high_weeks`` come from the ends of the saving's CI (``inf``: never).
        """
        from sim.metrics import payback_weeks

        rows = []
        base = self.results[self.baseline].metrics
        for name, result in self.results.items():
            if name == self.baseline:
                continue
            one_off = _mean(result.metrics, "one_off_cost") - _mean(base, "one_off_cost")
            if not one_off > 0:
                continue
            weekly = "recurring_cost_per_week"
            saving = (_values(base, weekly, "all") - _values(result.metrics, weekly, "all")).dropna()
            mean, half, _ = _paired(saving.to_numpy(dtype=float), 0.95)
            rows.append(
                {
                    "variant": name,
                    "extra_one_off_cost": float(one_off),
                    "saving_per_week": mean,
                    "saving_ci_half": half,
                    "payback_weeks": payback_weeks(float(one_off), mean, 0.0),
                    "payback_low_weeks": payback_weeks(float(one_off), mean + half, 0.0),
                    "payback_high_weeks": payback_weeks(float(one_off), mean - half, 0.0),
                }
            )
        return pd.DataFrame(rows)

    def targets(self) -> pd.DataFrame:
        """Every variant's target table (attained, CI, status), stacked with a ``variant`` column."""
        return pd.concat(
            [r.targets().assign(variant=name) for name, r in self.results.items()], ignore_index=True
        )


def compare(
    scenario: Scenario,
    variants: Sequence[Variant],
    *,
    baseline: str = "baseline",
    seed: int = 0,
    n_replications: int = 10,
    out_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    family: Sequence[tuple[str, str]] | None = None,
    half_widths: Mapping[tuple[str, str], float] | None = None,
    max_replications: int = 200,
    confidence: float = 0.95,
    alpha: float = 0.05,
    progress: bool = True,
    on_round: Callable[[int], None] | None = None,
    **run_kwargs: Any,
) -> Comparison:
    """Run the baseline and every variant on common random numbers and compare each with the baseline.

    Args:
        scenario: The baseline scenario.
        variants: Changes to compare (see :class:`Variant`); all are validated before anything runs.
        baseline: Name of the unchanged scenario in tables.
        seed: Base seed shared by every variant (common random numbers).
        n_replications: Replications per variant (the first round in sequential mode).
        out_dir: Folder for one run folder per variant (resumable); ``None`` keeps results in memory
            (sequential mode then re-runs from scratch each round).
        workers: Worker processes per run.
        base_dir: Folder for relative paths in the scenario (a replay log).
        family: (metric, scope) pairs to compare; default :func:`default_family`.
        half_widths: Sequential mode: (metric, scope) -> wanted CI half-width of each variant's paired difference
            (for the baseline alone: of its mean).
        max_replications: Cap of the sequential mode.
        confidence: Confidence level of the intervals.
        alpha: Family-wise error rate of the significance marks (Holm).
        progress: Progress bars.
        on_round: Called with the replication count before each round (for printing).
        **run_kwargs: Passed to :func:`experiments.runner.run_experiment` (e.g. ``simulate=`` in tests).

    Returns:
        The :class:`Comparison`.

    Raises:
        ScenarioError: A variant's change is not valid (all are checked before any run).
        ValueError: Repeated variant names.
    """
    names = [baseline, *(v.name for v in variants)]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must be distinct (and differ from the baseline's), got {names}")
    scenarios = {baseline: scenario}
    problems: list[str] = []
    for variant in variants:
        try:
            scenarios[variant.name] = apply_overrides(scenario, variant.overrides, label=f"variant {variant.name}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError("variants", problems)
    root = Path(out_dir) if out_dir is not None else None
    folders = {name: default_out_dir(name, root) if root is not None else None for name in names}
    if half_widths:
        half_widths = dict(zip(_current_metric_names(list(half_widths)), half_widths.values(), strict=True))
    n = int(n_replications)
    while True:
        if on_round is not None:
            on_round(n)
        results = {
            name: run_experiment(
                scenarios[name],
                seed=seed,
                n_replications=n,
                out_dir=folders[name],
                workers=workers,
                base_dir=base_dir,
                progress=progress,
                variant=name,
                **run_kwargs,
            )
            for name in names
        }
        chosen = list(family) if family is not None else default_family(scenario, results[baseline].metrics)
        chosen += [pair for pair in (half_widths or {}) if pair not in chosen]
        chosen = list(dict.fromkeys(_current_metric_names(chosen)))
        table = paired_table(results, baseline, chosen, confidence=confidence, alpha=alpha)
        needed = _more_needed(results, baseline, half_widths or {}, confidence, max_replications)
        if needed <= n:
            break
        n = needed
    all_variants = (Variant(baseline), *variants)
    return Comparison(baseline, all_variants, results, table, tuple(chosen), root)


def _current_metric_names(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pairs with SL names written the old way (``sl_300s``, before issue 11) renamed as measured (``sl_5min``)."""
    renames = legacy_renames(m for m, _ in pairs)
    return [(renames.get(m, m), scope) for m, scope in pairs]


def _more_needed(
    results: Mapping[str, ExperimentResult],
    baseline: str,
    half_widths: Mapping[tuple[str, str], float],
    confidence: float,
    cap: int,
) -> int:
    """Replications each wanted half-width needs (paired differences; the baseline's own mean if alone)."""
    need = 0
    base = results[baseline].metrics
    for (metric, scope), width in half_widths.items():
        for name, result in results.items():
            if name == baseline and len(results) > 1:
                continue
            values = _values(result.metrics, metric, scope)
            if name != baseline:
                values = (values - _values(base, metric, scope)).dropna()
            if values.notna().sum() < 2:
                continue
            need = max(need, replications_needed(values.to_numpy(dtype=float), width, confidence, cap))
    return min(need, cap)
