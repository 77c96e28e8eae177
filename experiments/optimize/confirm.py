"""Results of a search: the trials table, the confirmation on fresh seeds, the chosen plan."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from experiments.optimize.evaluate import _Evaluator, _Values, target_sources
from experiments.overrides import apply_overrides
from experiments.results import target_status
from experiments.space import Space
from sim.config import Scenario

CONFIRM_SEED_OFFSET = 10_000
"""Confirmation runs use ``seed + CONFIRM_SEED_OFFSET``: seeds the search never saw."""

BEST_OVERRIDES, TRIALS_CSV, CONFIRM_CSV, PARETO_CSV = (
    "best_overrides.yaml",
    "trials.csv",
    "confirmation.csv",
    "pareto.csv",
)

if TYPE_CHECKING:
    import optuna


@dataclasses.dataclass(frozen=True)
class OptimizationResult:
    """What :func:`optimize` found.

    Attributes:
        study_name: Name of the Optuna study.
        storage: Storage URL (password hidden).
        trials: One row per trial: number, state, each variable's value, mean cost, replications run, each
            target's mean attainment, feasible, note (why pruned, a repeated plan), source (``start``: the warm
            start; ``descent``: a trim of the incumbent; ``sampler``: proposed by TPE).
        confirmation: One row per confirmed plan x target: trial, cost mean and CI, target, level, mean
            attainment, CI, status, ``p_period``, ``p_mean``, chosen.
        best: The chosen plan's overrides (dotted path -> value), or ``None`` when no confirmed plan met every
            target.
        best_trial: Trial number of the chosen plan, or ``None``.
        pareto: Pareto mode: the front (rows of ``trials``), else ``None``.
        out_dir: Output folder.
        notes: Things the user should know (ignored warm-start paths...).
    """

    study_name: str
    storage: str
    trials: pd.DataFrame
    confirmation: pd.DataFrame
    best: dict[str, Any] | None
    best_trial: int | None
    pareto: pd.DataFrame | None
    out_dir: Path
    notes: tuple[str, ...] = ()


def _trial_row(trial: optuna.trial.FrozenTrial, space: Space, levels: Mapping[str, float]) -> dict[str, Any]:
    cost = trial.user_attrs.get("cost", [])
    attainment = trial.user_attrs.get("attainment", {})
    row: dict[str, Any] = {"trial": trial.number, "state": trial.state.name}
    for v in space.variables:
        row[v.path] = trial.params.get(v.path)
    row["cost"] = float(np.mean(cost)) if cost else math.nan
    row["replications"] = len(cost)
    for name in levels:
        values = [x for x in attainment.get(name, []) if x is not None and not math.isnan(x)]
        row[name] = float(np.mean(values)) if values else math.nan
    margins = [row[name] - level for name, level in levels.items() if not math.isnan(row[name])]
    row["worst_margin"] = min(margins) if margins else (0.0 if cost else math.nan)
    row["feasible"] = trial.state.name == "COMPLETE" and bool(cost) and row["worst_margin"] >= 0
    row["note"] = trial.user_attrs.get("note", "")
    row["source"] = trial.user_attrs.get("source") or "sampler"
    return row


def trials_table(study: optuna.Study, space: Space, levels: Mapping[str, float]) -> pd.DataFrame:
    """One row per trial of the study (see :attr:`OptimizationResult.trials`)."""
    return pd.DataFrame([_trial_row(t, space, levels) for t in study.get_trials(deepcopy=False)])


def _plan_key(overrides: Mapping[str, Any]) -> str:
    text = json.dumps(overrides, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _confirm(
    study: optuna.Study,
    scenario: Scenario,
    space: Space,
    evaluator: _Evaluator,
    trial: optuna.trial.FrozenTrial,
    *,
    seed: int,
    n: int,
) -> list[dict[str, Any]]:
    """Rows of :attr:`OptimizationResult.confirmation` for one plan; cached in the study's user attributes."""
    from experiments.stats import t_interval

    overrides = trial.user_attrs["overrides"]
    key = f"confirm:{seed}:{n}:{_plan_key(overrides)}"
    cached = study.user_attrs.get(key)
    if cached is None:
        values = _Values(space.objective, {t.name: t.level for t in scenario.targets}, target_sources(scenario))
        planned = apply_overrides(scenario, overrides, label=f"trial {trial.number}")
        for rep, metrics in evaluator.run(planned, seed, range(n)):
            values.add(metrics, rep)
        cached = {"cost": values.cost, "attainment": values.attainment}
        study.set_user_attr(key, cached)
    cost_mean, cost_half = t_interval(cached["cost"])
    rows = []
    for target in scenario.targets:
        x = np.asarray([v for v in cached["attainment"].get(target.name, []) if not math.isnan(v)], dtype=float)
        mean, half = t_interval(x) if len(x) else (math.nan, math.nan)
        rows.append(
            {
                "trial": trial.number,
                "cost": cost_mean,
                "cost_ci_half": cost_half,
                "target": target.name,
                "level": target.level,
                "mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "status": target_status(mean, mean - half, mean + half, target.level),
                "p_period": float((x >= target.level - 1e-12).mean()) if len(x) else math.nan,
                "p_mean": _p_mean(x, target.level),
                "replications": len(cached["cost"]),
                "seed": seed,
            }
        )
    return rows


def _p_mean(x: np.ndarray, level: float) -> float:
    """Student-t approximation of ``P(mean attainment >= level)`` from replications ``x``."""
    from scipy import special

    if len(x) < 2:
        return math.nan
    mean, se = float(x.mean()), float(x.std(ddof=1)) / math.sqrt(len(x))
    if se == 0:
        return 1.0 if mean >= level - 1e-12 else 0.0
    return float(special.stdtr(len(x) - 1, (mean - level) / se))


def _overrides_text(overrides: Mapping[str, Any], header: Sequence[str]) -> str:
    body = yaml.safe_dump(dict(overrides), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return "".join(f"# {line}\n" for line in header) + body


def _distinct_plans(study: optuna.Study) -> int:
    """Distinct plans among the finished trials (two workers sharing a study may evaluate one plan at once)."""
    from optuna.trial import TrialState

    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return len({_plan_key(t.user_attrs["overrides"]) for t in finished if "overrides" in t.user_attrs})


def _candidates(study: optuna.Study, table: pd.DataFrame, k: int) -> list[optuna.trial.FrozenTrial]:
    """The ``k`` cheapest feasible trials of ``table`` with distinct plans (none when ``k <= 0``)."""
    if k <= 0:
        return []
    feasible = table[table["feasible"]].sort_values(["cost", "trial"], kind="stable")
    out, seen = [], set()
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    for number in feasible["trial"]:
        trial = trials[int(number)]
        key = _plan_key(trial.user_attrs["overrides"])
        if key in seen:
            continue
        seen.add(key)
        out.append(trial)
        if len(out) >= k:
            break
    return out


def _choose(confirmation: pd.DataFrame) -> int | None:
    """The cheapest confirmed plan whose every target is ``MET`` (``NO DATA``: nothing to meet), or ``None``."""
    if confirmation.empty:
        return None
    ok = confirmation.groupby("trial")["status"].agg(lambda s: bool(s.isin(["MET", "NO DATA"]).all()))
    costs = confirmation.groupby("trial")["cost"].first()
    passing = costs[ok[ok].index].sort_values(kind="stable")
    return int(passing.index[0]) if len(passing) else None


def _plan_text(row: Mapping[str, Any], space: Space) -> str:
    return ", ".join(f"{v.path.rsplit('.', 1)[-1]}={row[v.path]}" for v in space.variables)


def _progress_line(row: Mapping[str, Any], space: Space, extra: str = "") -> str:
    plan = _plan_text(row, space)
    cost = "–" if math.isnan(row["cost"]) else f"{row['cost']:,.2f}"
    if row["state"] == "COMPLETE":
        verdict = "feasible" if row["feasible"] else f"infeasible (worst margin {row['worst_margin']:+.1%})"
    else:
        verdict = row["state"].lower()
    note = f" ({row['note']})" if row["note"] else ""
    return (
        f"trial {row['trial']}: {plan} -> {space.objective} {cost}, {verdict} after {row['replications']} reps{note}"
        f"{extra}"
    )


def _confirm_line(rows: Sequence[Mapping[str, Any]]) -> str:
    first = rows[0] if rows else {}
    parts = [f"{r['target']} {r['mean']:.1%} {r['status']}" for r in rows]
    return f"confirm trial {first.get('trial')}: cost {first.get('cost', math.nan):,.2f}; " + "; ".join(parts)
