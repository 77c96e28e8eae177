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
  cheapest feasible plan keeps headcounts that no target needs. With ``descent > 0``, after each finished trial, when
  no trial waits in the study's queue and the study has a feasible plan, a draw from the named stream
  ``optimize/descent`` (seeded from the space's seed and the trial's number, so the same space, scenario and seed give
  the same trials) decides with probability ``descent`` to *trim*: the incumbent (the cheapest feasible complete
  trial) with one ``descend`` variable lowered by one ``step`` (within its bounds) is enqueued
  (``study.enqueue_trial``, user attribute ``source: descent``), the first such neighbour that no trial of the study
  has evaluated. Neighbours come in order of the weekly pay one step saves (``experiments.erlang_plan.weekly_pay`` x
  step, from the incumbent's scenario) when the trimmed variables include a headcount and the objective includes
  pay (``recurring_cost_per_week``, ``labor_cost_per_week``; a trimmed variable that is not a headcount, such as an
  authority limit, whose trim saves leakage rather than pay, counts as saving 0 and is never swapped); ties, and
  any other case, in the space's order rotated to
  start where the study's last trim stopped (at its variable when that trim made the incumbent, else after it). A
  neighbour *dominated* by a plan already found infeasible (the same other variables, no more of any trimmed one:
  fewer agents rarely meet a target more agents missed) is tried after all the others: after a successful trim, the
  pricier trims that failed just before are not retried first. When every move of the incumbent (trims and swaps,
  below) has been evaluated (infeasible or dearer), descent has converged at that incumbent and the sampler alone
  proposes until a cheaper feasible plan appears. With ``descent_steps: adaptive`` a trim lowers its variable by ``k``
  steps instead of one: ``k`` doubles after a trim of that variable gave a feasible plan and halves (down to 1) after
  one that did not, is clipped at the lower bound, and is halved again while the plan is one the study has seen
  (:func:`experiments.optimize.descent.step_counts`); a variable far above what the targets need comes down in a few
  trims. Adaptive trims also come in another order: the variable whose trim made the incumbent is lowered again (a
  line search), else the one whose last trim is the oldest, the order above only breaking ties (by saving alone, every
  new incumbent sent descent back to the dear variables while the cheap ones waited). After the trims (and before the
  dominated ones), descent tries *swaps*, when the pay per step is known as above: a headcount whose one-step trim of
  the incumbent missed some targets is lowered by ``k`` steps and a cheaper headcount (less pay per step) of the same
  shift in another group that serves one of those targets (its channel and intent filters admit the group) is raised
  by ``k``, the largest saving per step first. Pooled targets let groups trade service, so the cheapest plan can hold
  dear specialists where cheap front-line agents would do, a corner no single trim leaves; a swap that made the
  incumbent is repeated first, its ``k`` doubling (adaptive steps) like a trim's
  (:func:`experiments.optimize.descent.swap_counts`). A trim or a swap counts as a distinct plan like any trial;
  ``source`` in the trials table says where each trial came from (``start``, ``descent`` for a trim, ``swap``,
  ``sampler``) and the progress line numbers the trims and the swaps.
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

The package: :mod:`~experiments.optimize.evaluate` (a trial: replications, constraints, the early stop),
:mod:`~experiments.optimize.descent` (trims of the incumbent), :mod:`~experiments.optimize.study` (storage,
fingerprint, resume), :mod:`~experiments.optimize.confirm` (trials table, confirmation, the chosen plan) and
:mod:`~experiments.optimize.search` (:func:`optimize` itself).
"""

from __future__ import annotations

from experiments.optimize.confirm import CONFIRM_SEED_OFFSET, OptimizationResult, trials_table
from experiments.optimize.descent import DESCENT_STREAM, next_trim
from experiments.optimize.errors import OptimizeError
from experiments.optimize.evaluate import ALPHA, MIN_REPLICATIONS, clearly_infeasible, make_objective, target_sources
from experiments.optimize.search import optimize, start_params
from experiments.optimize.study import open_study

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
    "target_sources",
    "trials_table",
]
