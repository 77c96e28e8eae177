"""Search staffing and policy plans with Optuna: the cheapest plan that meets every target, confirmed on fresh seeds.

``ccsim optimize SCENARIO SPACE.yaml`` (or :func:`optimize`) runs an Optuna study whose decision variables are
dotted-path overrides of the scenario (:mod:`experiments.space`). How a plan is judged:

* **Trial.** The plan's overrides are applied to the scenario and replications ``0..R-1`` run on the space's seed,
  so every trial sees the same customers (common random numbers, DESIGN §6): two plans differ only by the plan.
  The objective is the mean over the replications of the space's ``objective`` metric (a cost, scope ``all``).
* **Constraints.** Every target of the scenario is a constraint ``level - mean attainment`` (Optuna's
  ``trial.set_constraint``; a trial is feasible when each is ``<= 0``, i.e. when the mean attainment over the
  trial's replications reaches the level). A target that matched no contact is not a constraint (0).
* **Early stop.** After each replication from the third on, a one-sided Student t-test per target asks whether
  the mean attainment is below the level; the trial is pruned when some target's p-value is below
  ``alpha / (targets x looks)`` (Bonferroni over the targets and the looks, so a plan that in truth meets every
  target is pruned with probability at most ``alpha``, 5% by default). This is a test of feasibility, which
  Optuna's ``WilcoxonPruner`` is not (it compares the objective with the best trial's), and it works the same in
  multi-objective studies, where Optuna's pruners cannot be used. The check runs after each replication in order,
  so a trial's outcome does not depend on the worker count.
* **Repeats.** A trial that proposes a plan already evaluated in the study reuses that trial's values (under
  common random numbers a re-run would give the same numbers), so it costs no simulation, and it does not count
  towards ``trials`` (distinct plans); a space with fewer plans than ``trials`` is searched exhaustively.
* **Descent** (the space's ``descent: share``, constrained mode only). TPE explores well but trims slowly: the
  cheapest feasible plan keeps headcounts that no target needs. With ``descent > 0``, after each finished trial,
  when no trial waits in the study's queue and the study has a feasible plan, a draw from the named stream
  ``optimize/descent`` (seeded from the space's seed and the trial's number, so the same space, scenario and seed
  give the same trials) decides with probability ``descent`` to *trim*: the incumbent (the cheapest feasible
  complete trial) with one ``descend`` variable lowered by one ``step`` (within its bounds) is enqueued
  (``study.enqueue_trial``, user attribute ``source: descent``), the first such neighbour that no trial of the study
  has evaluated. Neighbours come in order of the weekly pay one step saves (``experiments.erlang_plan.weekly_pay`` x
  step, from the incumbent's scenario) when every trimmed variable is a headcount and the objective includes pay
  (``recurring_cost_per_week``, ``labor_cost_per_week``); ties, and any other case, in the space's order rotated to
  start where the study's last trim stopped (at its variable when that trim made the incumbent, else after it). A
  neighbour *dominated* by a plan already found infeasible (the same other variables, no more of any trimmed one:
  fewer agents rarely meet a target more agents missed) is tried after all the others: after a successful trim, the
  pricier trims that failed just before are not retried first. When every neighbour has been evaluated (infeasible
  or dearer), descent has converged at that incumbent and the sampler alone proposes until a cheaper feasible plan
  appears. A trim counts as a distinct plan like any trial; ``source`` in the trials table says where each trial
  came from (``start``, ``descent``, ``sampler``) and the progress line numbers the trims.
* **Confirmation.** The ``confirm_top`` cheapest feasible plans are re-run on fresh seeds (``seed + 10,000``, so
  the search's own luck does not carry over) with ``confirm_replications`` replications each. For each target the
  table gives the mean attainment with its 95% Student-t CI, the status (``MET`` when the CI's lower bound reaches
  the level), ``p_period`` (the share of replications, i.e. of simulated horizons, in which the plan met the
  target: the probability that a period like the scenario's meets it) and ``p_mean`` (the t-approximation of
  ``P(mean attainment >= level)``: the confidence that the plan meets the target on average). The chosen plan is
  the cheapest whose every target is ``MET``; its overrides are written to ``best_overrides.yaml``.
* **Pareto mode** (``pareto=True``): two objectives, cost (minimised) and the worst target margin
  ``min over targets of (attainment - level)`` (maximised); no constraints and no pruning; ``pareto.csv`` is the
  front (``study.best_trials``). The front's feasible plans are confirmed as above.

The study lives in an Optuna storage: by default ``sqlite:///<out>/study.db`` (opens in ``optuna-dashboard``);
any Optuna storage URL (e.g. PostgreSQL for many workers) works. The scenario's and the space's fingerprints are
stored in the study; re-running the command with the same storage continues the study up to ``trials`` trials,
and a study made for another scenario or space is refused with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from experiments.files import write_atomic, write_csv
from experiments.overrides import apply_overrides, parse_path
from experiments.provenance import scenario_hash
from experiments.replay import scenario_replay
from experiments.results import TARGET_METRIC, WORST_METRIC, target_status
from experiments.run_dir import default_out_dir
from experiments.scenario_errors import ScenarioError
from experiments.space import ChoiceVariable, FloatVariable, IntVariable, Space, Variable, check_space, is_headcount
from sim.config import Scenario
from sim.problems import short_repr
from sim.streams import Streams

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ALPHA",
    "CONFIRM_SEED_OFFSET",
    "DESCENT_STREAM",
    "MIN_REPLICATIONS",
    "OptimizationResult",
    "OptimizeError",
    "clearly_infeasible",
    "make_objective",
    "next_trim",
    "open_study",
    "optimize",
    "start_params",
]

ALPHA = 0.05
"""Default chance of pruning a plan that in truth meets every target (Bonferroni over targets and looks)."""

MIN_REPLICATIONS = 3
"""Replications a trial runs before it can be pruned."""

CONFIRM_SEED_OFFSET = 10_000
"""Confirmation runs use ``seed + CONFIRM_SEED_OFFSET``: seeds the search never saw."""

BEST_OVERRIDES, TRIALS_CSV, CONFIRM_CSV, PARETO_CSV = (
    "best_overrides.yaml",
    "trials.csv",
    "confirmation.csv",
    "pareto.csv",
)
"""Files written into the output folder."""

_MAX_TRIALS_PER_PLAN = 10
"""A search stops after this many trials per plan asked for, even when most proposals repeated earlier plans."""

DESCENT_STREAM = "optimize/descent"
"""Named stream (:class:`sim.streams.Streams`, replication = the finished trial's number) of the draw that decides
whether a trim follows that trial: its own stream, so the sampler's and the replications' draws do not move."""

_PAY_OBJECTIVES = ("recurring_cost_per_week", "labor_cost_per_week")
"""Objectives that include the agents' pay: a trim's saving can be read from the pay of the shift."""

_FORMAT = "ccsim-optimize/1"
"""Marker of a ccsim study (``study.user_attrs["ccsim"]["format"]``)."""


class OptimizeError(ValueError):
    """The study cannot be run: its storage cannot be opened, it belongs to another search, or a warm start is bad."""


# --------------------------------------------------------------------------------------------- evaluation


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
        from experiments.runner import by_value, simulate_scenario

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
            from experiments.runner import dask_client

            self._pool = dask_client(self._dask)  # a scheduler that is down fails here, before any trial
            threads = sum(w.get("nthreads", 1) for w in self._pool.scheduler_info()["workers"].values())
            self.workers = max(1, threads)
        elif self.workers > 1:
            from experiments.runner import _mp_context  # the runner's choice: forkserver with preloaded modules

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_mp_context())
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


# --------------------------------------------------------------------------------------------- the objective


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
    """The Optuna objective of a search (see the module docstring for what a trial does).

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


# ------------------------------------------------------------------------------------------------ descent


def _incumbent(trials: Sequence[optuna.trial.FrozenTrial]) -> optuna.trial.FrozenTrial | None:
    """The cheapest feasible complete trial (the earliest among equals), or ``None``."""
    from optuna.trial import TrialState

    feasible = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and t.constraints and max(t.constraints.values()) <= 0
    ]
    return min(feasible, key=lambda t: (t.value, t.number), default=None)


def _step_savings(space: Space, scenario: Scenario, incumbent: optuna.trial.FrozenTrial) -> dict[str, float] | None:
    """Weekly pay one step of each ``descend`` variable saves at the incumbent, or ``None`` when it cannot be read.

    It can when the objective includes pay and every trimmed variable is a headcount of a group and shift of the
    incumbent's scenario (its overrides applied, so a pay rate that is itself a variable counts).
    """
    from experiments.erlang_plan import weekly_pay

    if space.objective not in _PAY_OBJECTIVES or not all(is_headcount(p) for p in space.descend):
        return None
    try:
        planned = apply_overrides(scenario, incumbent.user_attrs["overrides"], label=f"trial {incumbent.number}")
    except (KeyError, ScenarioError):
        return None
    out = {}
    for path in space.descend:
        _, group, _, shift = parse_path(path)
        variable = space.variable(path)
        if group not in planned.groups or shift not in planned.shifts or not isinstance(variable, IntVariable):
            return None
        out[path] = variable.step * weekly_pay(planned, str(group), str(shift))
    return out


def _descent_order(
    space: Space,
    scenario: Scenario,
    incumbent: optuna.trial.FrozenTrial,
    trials: Sequence[optuna.trial.FrozenTrial],
    savings: dict[int, dict[str, float] | None],
) -> list[str]:
    """The ``descend`` paths in the order their trims of the incumbent are tried (see the module docstring).

    ``savings`` caches :func:`_step_savings` per incumbent trial number.
    """
    paths = list(space.descend)
    last = max((t for t in trials if t.user_attrs.get("source") == "descent"), key=lambda t: t.number, default=None)
    start = 0
    if last is not None and last.user_attrs.get("descent_var") in paths:
        at = paths.index(last.user_attrs["descent_var"])
        start = at if last.number == incumbent.number else at + 1  # keep lowering what just worked, else move on
    rotated = paths[start % len(paths) :] + paths[: start % len(paths)]
    if incumbent.number not in savings:
        savings[incumbent.number] = _step_savings(space, scenario, incumbent)
    saved = savings[incumbent.number]
    return rotated if saved is None else sorted(rotated, key=lambda p: -saved[p])  # stable: ties keep the rotation


def next_trim(
    study: optuna.Study,
    scenario: Scenario,
    space: Space,
    number: int,
    savings: dict[int, dict[str, float] | None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The trim to enqueue after trial ``number`` finished: ``(params, user_attrs)``, or ``None`` for no trim.

    ``None`` when descent is off, a trial waits in the queue, the study has no feasible complete trial, the draw of
    :data:`DESCENT_STREAM` for this trial says no (probability ``1 - descent``), or every neighbour of the incumbent
    (one ``descend`` variable one step lower, within its bounds) is a plan the study has already seen (descent has
    converged there).
    """
    from optuna.trial import TrialState

    if space.descent <= 0 or not space.descend:
        return None
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.WAITING for t in trials):
        return None
    incumbent = _incumbent(trials)
    if incumbent is None:
        return None
    if Streams(space.seed, number).fresh(DESCENT_STREAM).random() >= space.descent:
        return None
    base = {v.path: incumbent.params[v.path] for v in space.variables if v.path in incumbent.params}
    if len(base) != len(space.variables):
        return None
    seen = [t.params for t in trials]
    neighbours = []
    for path in _descent_order(space, scenario, incumbent, trials, {} if savings is None else savings):
        variable = space.variable(path)
        assert isinstance(variable, IntVariable)
        lower = int(base[path]) - variable.step
        if lower >= variable.low and {**base, path: lower} not in seen:
            neighbours.append((path, {**base, path: lower}))
    if not neighbours:
        return None  # converged at this incumbent: the sampler proposes until a cheaper feasible plan appears
    failed = _failed_plans(trials, space)
    # A neighbour with no more agents than a plan already found infeasible is tried last (stable: order kept).
    path, params = min(neighbours, key=lambda n: _dominated(n[1], failed, space))
    return params, {"source": "descent", "descent_of": incumbent.number, "descent_var": path}


def _failed_plans(trials: Sequence[optuna.trial.FrozenTrial], space: Space) -> list[dict[str, Any]]:
    """Parameters of the trials found infeasible (pruned, or complete with a violated constraint)."""
    from optuna.trial import TrialState

    out = []
    for t in trials:
        violated = t.state == TrialState.COMPLETE and bool(t.constraints) and max(t.constraints.values()) > 0
        if (t.state == TrialState.PRUNED or violated) and len(t.params) == len(space.variables):
            out.append(t.params)
    return out


def _dominated(params: Mapping[str, Any], failed: Sequence[Mapping[str, Any]], space: Space) -> bool:
    """Whether some infeasible plan has the same other variables and at least as much of every ``descend`` one.

    Fewer agents do not meet a target that more agents missed (not a certainty under noise, hence "tried last",
    not "skipped").
    """
    trimmed = set(space.descend)
    return any(
        all(other[p] >= params[p] if p in trimmed else other[p] == params[p] for p in params) for other in failed
    )


# ------------------------------------------------------------------------------------------------ storage


def _redacted(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _storage(url: str) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage for ``url``; any failure to reach it is an :class:`OptimizeError` naming the URL."""
    import optuna

    # SQLite: wait for a concurrent writer instead of failing at once. Servers: check pooled connections first.
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    )
    try:
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except Exception as exc:
            if "duplicate key" not in str(exc) and "already exists" not in str(exc):
                raise
            # Several workers started together on a new database raced to create Optuna's tables; one won.
            time.sleep(1.0)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError as exc:
        raise OptimizeError(
            f"cannot open the study storage {_redacted(url)}: its database driver is not installed ({exc}); "
            "install it, or name an installed one (PostgreSQL with psycopg 3: postgresql+psycopg://...)"
        ) from None
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OptimizeError(f"cannot open the study storage {_redacted(url)}: {reason}") from None


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    if old.get("scenario_hash") != new["scenario_hash"]:
        out.append(
            f"it was made for another scenario ({old.get('scenario')!r}, hash {str(old.get('scenario_hash'))[:12]}; "
            f"now {new['scenario']!r}, hash {new['scenario_hash'][:12]})"
        )
    if old.get("space_hash") != new["space_hash"]:
        before, after = old.get("space") or {}, new["space"]
        changed = [
            f"{key} {short_repr(before.get(key), 60)} -> {short_repr(after.get(key), 60)}"
            for key in after
            if json.dumps(before.get(key), sort_keys=True) != json.dumps(after.get(key), sort_keys=True)
        ]
        out.append(f"it was made for another space ({'; '.join(changed) or 'hash ' + new['space_hash'][:12]})")
    if old.get("mode") != new["mode"]:
        out.append(f"it is a {old.get('mode')} study; this run asks for a {new['mode']} one")
    return out


def open_study(
    storage: str, study_name: str, fingerprint: Mapping[str, Any], *, pareto: bool, seed: int
) -> optuna.Study:
    """Create the study, or load it when it exists and was made for the same scenario, space and mode.

    Args:
        storage: An Optuna storage URL (``sqlite:///path/study.db``, ``postgresql://...``).
        study_name: Name of the study in the storage.
        fingerprint: What identifies the search (``scenario_hash``, ``space_hash``, ``mode``...); stored in
            ``study.user_attrs["ccsim"]``.
        pareto: Two objectives (cost, worst target margin) instead of a constrained cost.
        seed: Seed of the sampler (TPE).

    Raises:
        OptimizeError: The storage cannot be reached, or the existing study is not a ccsim study or was made
            for another scenario, space or mode (the reasons are listed).
    """
    import optuna

    rdb = _storage(storage)
    try:
        study_id = rdb.get_study_id_from_name(study_name)
    except KeyError:
        study_id = None
    if study_id is not None:
        old = _ccsim_attrs(rdb, study_id)
        if not isinstance(old, dict) or old.get("format") != _FORMAT:
            raise OptimizeError(
                f"study {study_name!r} in {_redacted(storage)} was not made by ccsim optimize; choose another --study"
            )
        problems = _differences(old, fingerprint)
        if problems:
            raise OptimizeError(
                f"refusing to resume study {study_name!r} in {_redacted(storage)}: {'; '.join(problems)}. "
                "Use another --out (or --study) for a new search."
            )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=rdb,
        study_name=study_name,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.NopPruner(),  # the feasibility test runs in the objective (see the module docstring)
        directions=["minimize", "maximize"] if pareto else ["minimize"],
        load_if_exists=True,
    )
    if study_id is None:
        study.set_user_attr("ccsim", dict(fingerprint))
    return study


def _ccsim_attrs(rdb: Any, study_id: int, wait_s: float = 30.0) -> Any:
    """The ``ccsim`` fingerprint of a study, waiting for it while another worker is still creating the study.

    ``open_study`` creates a study and then stores its fingerprint: a second worker started at the same moment can
    find the study in between. A study without a fingerprint and without trials is taken to be in that state and
    re-read every 0.1 s for up to ``wait_s`` seconds; one with trials and no fingerprint was not made by ccsim.
    """
    deadline = time.monotonic() + wait_s
    while True:
        old = rdb.get_study_user_attrs(study_id).get("ccsim")
        if old is not None or rdb.get_all_trials(study_id, deepcopy=False) or time.monotonic() > deadline:
            return old
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------------ warm start


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


# ------------------------------------------------------------------------------------------------ results


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


# ------------------------------------------------------------------------------------------------ optimize


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
        pareto: Cost vs worst target margin, two objectives (see the module docstring).
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

    trims = sum(t.user_attrs.get("source") == "descent" for t in study.get_trials(deepcopy=False))
    descent = space.descent > 0 and not pareto
    if space.descent > 0 and pareto:
        notes.append("descent is not used in pareto mode (it trims the cheapest feasible plan of a constrained search)")

    def report(_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        nonlocal trims
        extra = ""
        if trial.user_attrs.get("source") == "descent":
            trims += 1
            extra = f" [descent trim {trims}: trial {trial.user_attrs.get('descent_of')} with one step less of "
            extra += f"{trial.user_attrs.get('descent_var')}]"
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
