"""``optimize``: the search, from the warm start to the written results."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from experiments.files import write_atomic, write_csv
from experiments.optimize.confirm import (
    BEST_OVERRIDES,
    CONFIRM_CSV,
    CONFIRM_SEED_OFFSET,
    PARETO_CSV,
    TRIALS_CSV,
    OptimizationResult,
    _candidates,
    _choose,
    _confirm,
    _confirm_line,
    _distinct_plans,
    _overrides_text,
    _progress_line,
    _trial_row,
    trials_table,
)
from experiments.optimize.descent import next_trim
from experiments.optimize.errors import OptimizeError
from experiments.optimize.evaluate import ALPHA, _Evaluator, make_objective
from experiments.optimize.study import _FORMAT, _redacted, open_study
from experiments.provenance import scenario_hash
from experiments.run_dir import default_out_dir
from experiments.space import Space, check_space
from sim.config import Scenario

if TYPE_CHECKING:
    import optuna

_MAX_TRIALS_PER_PLAN = 10
"""A search stops after this many trials per plan asked for, even when most proposals repeated earlier plans."""


def start_params(
    space: Space, overrides: Mapping[str, Any], label: str = "--start"
) -> tuple[dict[str, Any], list[str]]:
    """The study parameters of an override file (e.g. ``ccsim erlang``'s plan), to enqueue as the first trial.

    Returns:
        ``(params, notes)``: parameter values for the space's variables the file sets, and a note per path of the
        file that is not a variable of the space (ignored: the scenario's value applies).

    Raises:
        OptimizeError: A value outside its variable's range or choices, or a file that sets no variable.
    """
    params: dict[str, Any] = {}
    notes, problems = [], []
    for path, value in overrides.items():
        variable = space.variable(path)
        if variable is None:
            notes.append(f"{label}: {path} is not a variable of the space; ignored")
            continue
        try:
            params[variable.path] = variable.param_of(value)
        except ValueError as exc:
            problems.append(f"{label}: {path}: {exc}")
    if problems:
        raise OptimizeError("\n".join(problems))
    if not params:
        raise OptimizeError(
            f"{label}: sets none of the space's variables ({', '.join(v.path for v in space.variables)})"
        )
    return params, notes


def _move(trial: optuna.trial.FrozenTrial) -> str | None:
    """``trim`` or ``swap`` for a trial descent enqueued, else ``None``."""
    return {"descent": "trim", "swap": "swap"}.get(trial.user_attrs.get("source", ""))


def optimize(
    scenario: Scenario,
    space: Space,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    pareto: bool = False,
    start: Mapping[str, Any] | None = None,
    confirm_replications: int = 30,
    confirm_top: int = 3,
    alpha: float = ALPHA,
    workers: int = 1,
    base_dir: str | os.PathLike[str] | None = None,
    on_trial: Callable[[str], object] | None = None,
    simulate: Any = None,
    measure: Any = None,
    dask: str | None = None,
) -> OptimizationResult:
    """Search the space for the cheapest plan that meets every target, confirm the best plans, write the results.

    Everything that can be wrong with the inputs (the space's paths and values against the scenario, the warm
    start, the storage URL, a study made for another search) fails before any trial runs.

    Args:
        scenario: The scenario (the plans are overrides of it).
        space: The search space (:func:`experiments.space.read_space`); it gives the objective, replications per
            trial, the trial count and the seed.
        out_dir: Output folder (default ``runs/optimize-<scenario name>``): ``study.db`` (the default storage),
            ``trials.csv``, ``confirmation.csv``, ``best_overrides.yaml``, ``pareto.csv``.
        storage: Optuna storage URL (default ``sqlite:///<out_dir>/study.db``).
        study_name: Name of the study in the storage (default: the scenario's name).
        pareto: Cost vs worst target margin, two objectives (see :mod:`experiments.optimize`).
        start: Overrides (e.g. from ``ccsim erlang``) enqueued as the first trial (a warm start).
        confirm_replications: Replications of each confirmed plan, on ``seed + CONFIRM_SEED_OFFSET``.
        confirm_top: How many of the cheapest feasible plans to confirm (0: none).
        alpha: Chance of pruning a plan that meets every target (see :func:`clearly_infeasible`).
        workers: Processes for the replications of a trial (1: this process).
        dask: Address of a Dask scheduler: each trial's replications run on its workers (``workers`` is then
            the cluster's thread count); a scheduler that does not answer is an error before any trial.
        base_dir: Folder for relative paths in the scenario (a replay log).
        on_trial: Called with one line per finished trial and per confirmed plan (progress).
        simulate: Engine entry point (default :func:`experiments.runner.simulate_scenario`).
        measure: Per-replication metrics (default :func:`experiments.measure.replication_metrics`).

    Returns:
        The :class:`OptimizationResult`.

    Raises:
        ScenarioError: The space does not fit the scenario.
        OptimizeError: Bad warm start, unreachable storage, a study made for another scenario or space.

    Example:
        >>> result = optimize(scenario, read_space("space.yaml"), out_dir="runs/opt")  # doctest: +SKIP
        >>> result.best  # doctest: +SKIP
        {'groups.agents.staffing.always': 3}
    """
    if not 0 < alpha < 1:
        raise OptimizeError(f"alpha must be between 0 and 1, got {alpha}")
    if confirm_replications < 2 and confirm_top > 0:
        raise OptimizeError(f"confirm_replications must be >= 2 for a confidence interval, got {confirm_replications}")
    if workers < 1:
        raise OptimizeError(f"workers must be >= 1, got {workers}")
    check_space(space, scenario)
    params, notes = start_params(space, start) if start else ({}, [])
    out = Path(out_dir) if out_dir is not None else default_out_dir(f"optimize-{scenario.name}")
    if storage is None:
        out.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(out / 'study.db').resolve()}"
    name = study_name or scenario.name
    fingerprint = {
        "format": _FORMAT,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "space_hash": space.fingerprint(),
        "space": space.settings(),
        "mode": "pareto" if pareto else "constrained",
        "objective": space.objective,
        "replications": space.replications,
        "seed": space.seed,
    }
    study = open_study(storage, name, fingerprint, pareto=pareto, seed=space.seed)
    if params:
        study.enqueue_trial(params, user_attrs={"source": "start"}, skip_if_exists=True)
    out.mkdir(parents=True, exist_ok=True)
    levels = {t.name: t.level for t in scenario.targets}

    moves = Counter(_move(t) for t in study.get_trials(deepcopy=False))  # descent trims and swaps so far
    descent = space.descent > 0 and not pareto
    if space.descent > 0 and pareto:
        notes.append("descent is not used in pareto mode (it trims the cheapest feasible plan of a constrained search)")

    def report(_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        extra = ""
        move = _move(trial)
        if move is not None:
            moves[move] += 1
            k = int(trial.user_attrs.get("descent_steps", 1))
            steps = "one step" if k == 1 else f"{k} steps"
            extra = f" [descent {move} {moves[move]}: trial {trial.user_attrs.get('descent_of')} with {steps} less "
            extra += f"of {trial.user_attrs.get('descent_var')}"
            if move == "swap":
                extra += f" and {steps} more of {trial.user_attrs['descent_swap']}"
            extra += "]"
        if on_trial is not None:
            on_trial(_progress_line(_trial_row(trial, space, levels), space, extra))

    def plans() -> int:
        return _distinct_plans(study)

    savings: dict[int, dict[str, float] | None] = {}

    def trim(study_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if plans() >= min(space.trials, space.size()):
            return  # the study stops after this trial: nothing to enqueue for a later run
        found = next_trim(study_, scenario, space, trial.number, savings)
        if found is not None:
            study_.enqueue_trial(found[0], user_attrs=found[1])

    def enough(study_: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        if plans() >= min(space.trials, space.size()):
            study_.stop()

    callbacks = [report, trim, enough] if descent else [report, enough]

    folder = Path(base_dir) if base_dir is not None else None
    with _Evaluator(workers, folder, simulate, measure, dask=dask) as evaluator:
        objective = make_objective(scenario, space, evaluator, pareto=pareto, alpha=alpha)
        if plans() < min(space.trials, space.size()):
            # Trials that repeat a plan cost no simulation and do not count; the cap stops a sampler that only
            # proposes repeats (a space nearly exhausted).
            study.optimize(objective, n_trials=_MAX_TRIALS_PER_PLAN * space.trials, callbacks=callbacks)
        trials = trials_table(study, space, levels)
        front = None
        if pareto:
            numbers = sorted(t.number for t in study.best_trials)
            front = trials[trials["trial"].isin(numbers)].sort_values("cost", kind="stable").reset_index(drop=True)
        candidates = _candidates(study, trials if front is None else front, confirm_top)
        confirm_seed = space.seed + CONFIRM_SEED_OFFSET
        rows: list[dict[str, Any]] = []
        for trial in candidates:
            plan_rows = _confirm(study, scenario, space, evaluator, trial, seed=confirm_seed, n=confirm_replications)
            rows += plan_rows
            if on_trial is not None:
                on_trial(_confirm_line(plan_rows))
    confirmation = pd.DataFrame(rows)
    best_trial = _choose(confirmation)
    if not confirmation.empty:
        confirmation["chosen"] = confirmation["trial"] == best_trial
    best = None
    write_csv(out / TRIALS_CSV, trials)
    write_csv(out / CONFIRM_CSV, confirmation)
    if front is not None:
        write_csv(out / PARETO_CSV, front)
    if best_trial is not None:
        chosen = study.trials[best_trial]
        best = dict(chosen.user_attrs["overrides"])
        plan = confirmation[confirmation["trial"] == best_trial].iloc[0]
        header = [
            f"ccsim optimize: trial {best_trial} of study {name!r} (scenario {scenario.name!r})",
            f"{space.objective}: {plan['cost']:,.2f} ± {plan['cost_ci_half']:,.2f} (95% CI) over "
            f"{int(plan['replications'])} confirmation replications, seed {confirm_seed}; every target MET",
            "apply with: ccsim run SCENARIO --overrides best_overrides.yaml",
        ]
        text = _overrides_text(best, header)
        write_atomic(out / BEST_OVERRIDES, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return OptimizationResult(
        study_name=name,
        storage=_redacted(storage),
        trials=trials,
        confirmation=confirmation,
        best=best,
        best_trial=best_trial,
        pareto=front,
        out_dir=out,
        notes=tuple(notes),
    )
