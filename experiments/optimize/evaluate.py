"""How a trial judges a plan: replications on common random numbers, constraints and the early stop."""

from __future__ import annotations

import dataclasses
import math
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.optimize.errors import OptimizeError
from experiments.overrides import apply_overrides
from experiments.replay import scenario_replay
from experiments.results import TARGET_METRIC, WORST_METRIC
from experiments.scenario_errors import ScenarioError
from experiments.space import ChoiceVariable, FloatVariable, IntVariable, Space, Variable
from sim.config import Scenario

if TYPE_CHECKING:
    import optuna

ALPHA = 0.05
"""Default chance of pruning a plan that in truth meets every target (Bonferroni over targets and looks)."""

MIN_REPLICATIONS = 3
"""Replications a trial runs before it can be pruned."""


def _replication_metrics(
    scenario: Scenario, seed: int, replication: int, log: bool, replay: Any, simulate: Any, measure: Any
) -> pd.DataFrame:
    """One replication's ``[metric, scope, value]`` frame (runs in a worker process when there is a pool)."""
    result = simulate(scenario, seed=seed, replication=replication, log=log, replay=replay)
    return measure(result, scenario)


class _Evaluator:
    """Runs replications of plans, in a process pool kept for the whole study when ``workers > 1``.

    Replications come back in index order whatever the worker count, so the pruning test sees the same sequence.
    """

    def __init__(
        self, workers: int, base_dir: Path | None, simulate: Any = None, measure: Any = None, dask: str | None = None
    ) -> None:
        from experiments.measure import replication_metrics
        from experiments.runner import simulate_scenario
        from experiments.workers import by_value

        self.workers = workers
        self.base_dir = base_dir
        # by_value: a simulate or measure defined in a notebook reaches the worker processes by value.
        self.simulate = by_value(simulate) or simulate_scenario
        self.measure = by_value(measure) or replication_metrics
        self._pool: Any = None  # a ProcessPoolExecutor, or a dask.distributed Client (both have submit)
        self._dask = dask
        self._replays: dict[str, Any] = {}

    def __enter__(self) -> _Evaluator:
        if self._dask is not None:
            from experiments.workers import dask_client

            self._pool = dask_client(self._dask)  # a scheduler that is down fails here, before any trial
            threads = sum(w.get("nthreads", 1) for w in self._pool.scheduler_info()["workers"].values())
            self.workers = max(1, threads)
        elif self.workers > 1:
            from experiments.workers import mp_context  # the runner's choice: forkserver with preloaded modules

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp_context())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dask is not None and self._pool is not None:
            self._pool.close()
        elif self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _replay(self, scenario: Scenario) -> Any:
        key = scenario.arrivals.model_dump_json()
        if key not in self._replays:  # a replay log is read and checked once per arrivals configuration
            self._replays[key] = scenario_replay(scenario, self.base_dir)
        return self._replays[key]

    def run(self, scenario: Scenario, seed: int, replications: Sequence[int]) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(replication, metrics)`` in the order of ``replications``; stopping early wastes at most a batch."""
        log = any(t.intent is not None for t in scenario.targets)  # intent filters are measured from the log
        args = (log, self._replay(scenario), self.simulate, self.measure)
        reps = list(replications)
        if self._pool is None:
            for rep in reps:
                yield rep, _replication_metrics(scenario, seed, rep, *args)
            return
        for start in range(0, len(reps), self.workers):
            batch = reps[start : start + self.workers]
            extra = {"pure": False} if self._dask is not None else {}
            futures = [self._pool.submit(_replication_metrics, scenario, seed, rep, *args, **extra) for rep in batch]
            for rep, future in zip(batch, futures, strict=True):
                yield rep, future.result()


@dataclasses.dataclass
class _Values:
    """Objective and target attainments of one plan, per replication."""

    objective: str
    targets: dict[str, float]  # name -> level
    sources: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> metric its status is read from
    cost: list[float] = dataclasses.field(default_factory=list)
    attainment: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def add(self, metrics: pd.DataFrame, replication: int) -> None:
        rows = metrics[(metrics["metric"] == self.objective) & (metrics["scope"] == "all")]
        if rows.empty or pd.isna(rows["value"].iloc[0]):
            measured = sorted({m for m in metrics["metric"] if "cost" in m})
            raise OptimizeError(
                f"the objective {self.objective!r} (scope all) was not measured in replication {replication}; "
                f"cost metrics measured: {measured}"
            )
        self.cost.append(float(rows["value"].iloc[0]))
        by_metric = {m: rows.set_index("scope")["value"] for m, rows in metrics.groupby("metric", sort=False)}
        for name in self.targets:
            att = by_metric.get(self.sources.get(name, TARGET_METRIC), pd.Series(dtype=float))
            self.attainment.setdefault(name, []).append(float(att.get(f"target={name}", math.nan)))

    def mean(self, name: str) -> float:
        values = [v for v in self.attainment.get(name, []) if not math.isnan(v)]
        return float(np.mean(values)) if values else math.nan

    def constraints(self) -> dict[str, float]:
        """``level - mean attainment`` per target (feasible when <= 0); 0 for a target that matched nothing."""
        out = {}
        for name, level in self.targets.items():
            mean = self.mean(name)
            out[name] = 0.0 if math.isnan(mean) else level - mean
        return out

    def worst_margin(self) -> float:
        """``min over targets of (mean attainment - level)`` (0 when no target has data)."""
        margins = [-c for c in self.constraints().values()]
        return min(margins) if margins else 0.0


WORKER = f"{socket.gethostname()}:{os.getpid()}"
"""This process, as recorded on each trial it runs (``trial.user_attrs["worker"]``)."""


def target_sources(scenario: Scenario) -> dict[str, str]:
    """The metric each target's constraint reads, as its status in :func:`experiments.results.target_table` does.

    A pooled target reads its attainment; an every-interval target its worst interval.
    """
    return {t.name: WORST_METRIC if t.aggregation == "every_interval" else TARGET_METRIC for t in scenario.targets}


def clearly_infeasible(
    attainment: Mapping[str, Sequence[float]],
    levels: Mapping[str, float],
    *,
    alpha: float = ALPHA,
    looks: int = 1,
    min_replications: int = MIN_REPLICATIONS,
) -> str | None:
    """Whether some target's mean attainment is significantly below its level (one-sided Student t-test).

    Args:
        attainment: Target name -> attainment per replication so far (shares; NaN ignored).
        levels: Target name -> required level.
        alpha: Chance of calling a plan infeasible when it meets every target, over all targets and looks.
        looks: How many times the test may be made in a trial (Bonferroni: each test uses
            ``alpha / (targets x looks)``).
        min_replications: No verdict with fewer values.

    Returns:
        ``None``, or the reason (target, mean and level) for the most clearly missed target.

    Example:
        >>> clearly_infeasible({"80/20": [0.40, 0.42, 0.38, 0.41]}, {"80/20": 0.8})
        "target '80/20': mean attainment 40.2% < 80% (one-sided t-test p = 1.1e-07, 4 replications)"
        >>> clearly_infeasible({"80/20": [0.79, 0.83, 0.80]}, {"80/20": 0.8}) is None
        True
    """
    from scipy import special

    threshold = alpha / (max(1, len(levels)) * max(1, looks))
    worst: tuple[float, str] | None = None
    for name, level in levels.items():
        x = np.asarray([v for v in attainment.get(name, []) if not math.isnan(v)], dtype=float)
        n = len(x)
        if n < max(2, min_replications):
            continue
        mean, sd = float(x.mean()), float(x.std(ddof=1))
        if sd == 0:
            p = 0.0 if mean < level else 1.0
        else:
            p = float(special.stdtr(n - 1, (mean - level) / (sd / math.sqrt(n))))
        if p < threshold and (worst is None or p < worst[0]):
            text = (
                f"target {name!r}: mean attainment {mean:.1%} < {level:.0%} "
                f"(one-sided t-test p = {p:.2g}, {n} replications)"
            )
            worst = (p, text)
    return None if worst is None else worst[1]


def _suggest(trial: optuna.Trial, variable: Variable) -> Any:
    if isinstance(variable, IntVariable):
        return trial.suggest_int(variable.path, variable.low, variable.high, step=variable.step)
    if isinstance(variable, FloatVariable):
        return trial.suggest_float(variable.path, variable.low, variable.high, step=variable.step, log=variable.log)
    assert isinstance(variable, ChoiceVariable)
    return trial.suggest_categorical(variable.path, list(variable.labels))


def _record(trial: optuna.Trial, values: _Values, note: str, pareto: bool) -> None:
    trial.set_user_attr("cost", values.cost)
    trial.set_user_attr("attainment", values.attainment)
    trial.set_user_attr("note", note)
    if not pareto:
        for name, value in values.constraints().items():
            trial.set_constraint(name, value)


def make_objective(
    scenario: Scenario,
    space: Space,
    evaluator: _Evaluator,
    *,
    pareto: bool = False,
    alpha: float = ALPHA,
    min_replications: int = MIN_REPLICATIONS,
) -> Callable[[optuna.Trial], float | tuple[float, float]]:
    """The Optuna objective of a search (see :mod:`experiments.optimize` for what a trial does).

    Returns:
        ``objective(trial)``: the mean cost, or ``(mean cost, worst target margin)`` in Pareto mode; raises
        ``optuna.TrialPruned`` for a plan that is clearly infeasible or not a valid scenario.
    """
    import optuna

    levels = {t.name: t.level for t in scenario.targets}
    looks = max(1, space.replications - min_replications + 1)

    def objective(trial: optuna.Trial) -> float | tuple[float, float]:
        params = {v.path: _suggest(trial, v) for v in space.variables}
        overrides = {v.path: v.value_of(params[v.path]) for v in space.variables}
        trial.set_user_attr("overrides", overrides)
        trial.set_user_attr("worker", WORKER)  # which process ran it, when several share one study
        earlier = _same_plan(trial.study, params, trial.number)
        if earlier is not None:
            return _reuse(trial, earlier, pareto)
        values = _Values(space.objective, levels, target_sources(scenario))
        try:
            planned = apply_overrides(scenario, overrides, label=f"trial {trial.number}")
        except ScenarioError as exc:  # the variables are valid one by one but not together
            trial.set_user_attr("note", f"invalid plan: {exc}")
            if not pareto:
                for name in levels:
                    trial.set_constraint(name, 1.0)
            raise optuna.TrialPruned(f"invalid plan: {exc}") from None
        for rep, metrics in evaluator.run(planned, space.seed, range(space.replications)):
            values.add(metrics, rep)
            if pareto:
                continue
            trial.report(float(np.mean(values.cost)), rep)
            reason = clearly_infeasible(
                values.attainment, levels, alpha=alpha, looks=looks, min_replications=min_replications
            )
            if reason is not None:
                _record(trial, values, reason, pareto)
                raise optuna.TrialPruned(reason)
        _record(trial, values, "", pareto)
        cost = float(np.mean(values.cost))
        return (cost, values.worst_margin()) if pareto else cost

    return objective


def _same_plan(study: optuna.Study, params: Mapping[str, Any], number: int) -> optuna.trial.FrozenTrial | None:
    from optuna.trial import TrialState

    for earlier in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        if earlier.number != number and earlier.params == params and "cost" in earlier.user_attrs:
            return earlier
    return None


def _reuse(trial: optuna.Trial, earlier: optuna.trial.FrozenTrial, pareto: bool) -> Any:
    import optuna
    from optuna.trial import TrialState

    for key in ("cost", "attainment"):
        trial.set_user_attr(key, earlier.user_attrs[key])
    note = earlier.user_attrs.get("note", "")
    trial.set_user_attr("repeat_of", earlier.number)
    trial.set_user_attr("note", f"same plan as trial {earlier.number}" + (f"; {note}" if note else ""))
    if not pareto:
        for name, value in earlier.constraints.items():
            trial.set_constraint(name, value)
    if earlier.state == TrialState.PRUNED:
        raise optuna.TrialPruned(f"same plan as trial {earlier.number}")
    return tuple(earlier.values) if pareto else earlier.value
