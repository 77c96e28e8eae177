"""Search spaces for ``ccsim optimize``: decision variables as dotted-path overrides, checked before any trial.

A space file (``SPACE.yaml``)::

    variables:                                  # dotted override paths (see experiments.overrides)
      groups.chat_zh.staffing.day: {int: [8, 20]}              # integer headcount, both bounds included
      empowerment.params.limits.chat_zh: {int: [0, 500], step: 50}
      policies.deflection.params.threshold: {float: [0.2, 0.9]}  # optional: step: 0.1 or log: true
      policies.routing:                          # a categorical choice of whole values
        choice: [{name: longest_idle}, {name: overflow, params: {after: 60s}}]
    objective: recurring_cost_per_week   # metric to minimise (scope "all"; this is the default)
    replications: 8            # replications per trial (common random numbers: the same for every trial)
    trials: 50                 # distinct plans to evaluate in all (a resumed study runs only the missing ones;
                               # a trial repeating an earlier plan costs nothing and does not count)
    seed: 0                    # base seed of the trials' replications and of the sampler
    descent: 0.5               # optional: share of trials that trim the best plan (0 = off, the default; < 1)
    descend: [groups.chat_zh.staffing.day]   # optional: the int variables trimmed (default: every headcount)
    descent_steps: adaptive    # optional: how far a trim lowers: unit (one step, the default) or adaptive

Every variable is an override, so a path is checked exactly like ``ccsim run --set``: :func:`check_space` applies
each variable's bounds (and every choice) to the scenario through :func:`experiments.overrides.apply_overrides`
and reports every problem at once, before any trial runs. Values are written as in a scenario file (durations
with units).

**Descent** (``descent > 0``, constrained mode only): once the study has a feasible plan, each finished trial is
followed, with probability ``descent``, by a *trim* of the incumbent (the cheapest feasible plan): the incumbent
with one ``descend`` variable lowered by one step, the first such neighbour the study has not evaluated yet (see
:mod:`experiments.optimize`). ``descend`` defaults to every int variable whose path is a headcount,
``groups.<group>.staffing.<shift>``; a listed path must be an int variable of the space. With
``descent_steps: adaptive`` a trim lowers its variable by ``k`` steps, ``k`` doubling after each trim of that
variable that gave a feasible plan and halving after one that did not (a variable far above what the targets need
comes down in a few trims instead of one per step), a trim that worked is followed by one of the same variable
and the others come in turn (the least recently trimmed first); ``unit`` (the default) always lowers by one step,
the largest pay saving first. Once its trims are spent, descent also *swaps* (a dear headcount lower, a cheaper
one of the same shift that serves a missed target higher; see :mod:`experiments.optimize`). A space without these
keys has the same :meth:`Space.settings` (and fingerprint) as before they existed, so its studies
still resume.

Optuna parameter names are the dotted paths themselves; a choice is stored under a short text label
(:attr:`ChoiceVariable.labels`: the policy ``name`` for ``{name: ...}`` values, the YAML text for scalars), so
the study reads well in ``optuna-dashboard``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments.overrides import apply_overrides, parse_path
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import parse_yaml, read_text
from experiments.variables import (
    ChoiceVariable,
    FloatVariable,
    IntVariable,
    Variable,
    canonical,
    is_int,
    is_number,
    variable_from_spec,
)
from sim.config import Scenario
from sim.metrics import METRICS
from sim.problems import short_repr

__all__ = [
    "ChoiceVariable",
    "FloatVariable",
    "IntVariable",
    "Space",
    "Variable",
    "check_space",
    "default_objective",
    "is_headcount",
    "read_space",
    "space_from_dict",
]

_TOP_KEYS = ("variables", "objective", "replications", "trials", "seed", "descent", "descend", "descent_steps")

DESCENT_STEPS = ("unit", "adaptive")
"""How far a trim lowers its variable: one step, or a step count that doubles after a feasible trim of the variable
and halves after an infeasible one."""


def default_objective() -> str:
    """``recurring_cost_per_week``: what a plan costs every week (one-off costs are reported apart)."""
    return "recurring_cost_per_week"


"""One decision variable of a :class:`Space`."""


@dataclasses.dataclass(frozen=True)
class Space:
    """A validated search space (see the module docstring for the file format).

    Attributes:
        variables: The decision variables, in file order.
        objective: Metric to minimise (scope ``all``).
        replications: Replications per trial.
        trials: Distinct plans to evaluate in the study in all (repeats do not count; at most the space's size).
        seed: Base seed of the replications and the sampler.
        label: Where the space came from (file path), for messages.
        descent: Share of trials that trim the incumbent once the study has a feasible plan, in ``[0, 1)``
            (0: no descent).
        descend: Paths (as in :attr:`variables`) of the int variables a trim lowers, in space order.
        descent_steps: ``unit`` (a trim lowers one step) or ``adaptive`` (see the module docstring).
    """

    variables: tuple[Variable, ...]
    objective: str = dataclasses.field(default_factory=default_objective)
    replications: int = 8
    trials: int = 50
    seed: int = 0
    label: str = "space"
    descent: float = 0.0
    descend: tuple[str, ...] = ()
    descent_steps: str = "unit"

    def variable(self, path: str) -> Variable | None:
        """The variable at a dotted path (compared after parsing, so ``a["b"]`` and ``a.b`` are the same)."""
        key = parse_path(path)
        return next((v for v in self.variables if parse_path(v.path) == key), None)

    def size(self) -> float:
        """Number of distinct plans (``inf`` with a continuous variable)."""
        total = 1.0
        for v in self.variables:
            if isinstance(v, IntVariable):
                total *= (v.high - v.low) // v.step + 1
            elif isinstance(v, ChoiceVariable):
                total *= len(v.choices)
            elif v.step is None:
                return math.inf
            else:
                total *= math.floor((v.high - v.low) / v.step + 1e-9) + 1
        return total

    def settings(self) -> dict[str, Any]:
        """What decides the trials' values: variables, objective, replications, seed (JSON-ready).

        ``trials`` is left out: raising it to add trials to a study is a resume, not a different search.
        ``descent`` and ``descend`` are in only when descent is on (``descent > 0``), and ``descent_steps`` only
        when it is not ``unit``: a space without them has the settings (and fingerprint) it had before they existed.
        """
        settings: dict[str, Any] = {
            "variables": {v.path: v.spec() for v in self.variables},
            "objective": self.objective,
            "replications": self.replications,
            "seed": self.seed,
        }
        if self.descent > 0:
            settings["descent"] = self.descent
            settings["descend"] = list(self.descend)
            if self.descent_steps != "unit":
                settings["descent_steps"] = self.descent_steps
        return settings

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`settings` (canonical JSON)."""
        return hashlib.sha256(canonical(self.settings()).encode()).hexdigest()


def _count(data: Mapping[str, Any], key: str, default: int, minimum: int, label: str, problems: list[str]) -> int:
    value = data.get(key, default)
    if not is_int(value) or value < minimum:
        problems.append(f"{label}: {key}: expected an integer >= {minimum}, got {short_repr(value)}")
        return default
    return int(value)


def is_headcount(path: str) -> bool:
    """Whether a dotted path is a headcount, ``groups.<group>.staffing.<shift>``."""
    try:
        key = parse_path(path)
    except ValueError:
        return False
    return len(key) == 4 and key[0] == "groups" and key[2] == "staffing"


def _descent(data: Mapping[str, Any], label: str, problems: list[str]) -> float:
    value = data.get("descent", 0.0)
    if not is_number(value) or not 0 <= value < 1:
        problems.append(
            f"{label}: descent: expected a number in [0, 1) (the share of trials that trim the best plan; "
            f"0 = off), got {short_repr(value)}"
        )
        return 0.0
    return float(value)


def _descent_steps(data: Mapping[str, Any], descent: float, label: str, problems: list[str]) -> str:
    value = data.get("descent_steps", "unit")
    if value not in DESCENT_STEPS:
        problems.append(
            f"{label}: descent_steps: expected 'unit' (a trim lowers one step) or 'adaptive' (the step count doubles "
            f"after a feasible trim and halves after an infeasible one), got {short_repr(value)}"
        )
        return "unit"
    if "descent_steps" in data and descent <= 0:
        problems.append(f"{label}: descent_steps: {value!r} has no effect without descent (set descent: 0.5, say)")
    return str(value)


def _descend(
    data: Mapping[str, Any], variables: Sequence[Variable], descent: float, label: str, problems: list[str]
) -> tuple[str, ...]:
    """The paths of the variables a trim lowers: ``descend:`` checked against the variables, or every headcount."""
    ints = {parse_path(v.path): v for v in variables if isinstance(v, IntVariable)}
    if "descend" not in data:
        paths = tuple(v.path for v in ints.values() if is_headcount(v.path))
        if descent > 0 and not paths and variables:
            problems.append(
                f"{label}: descent: no variable to trim: the space has no int headcount variable "
                "(groups.<group>.staffing.<shift>); list the int variables to trim under descend:"
            )
        return paths
    body = data["descend"]
    if not isinstance(body, list) or not body:
        problems.append(f"{label}: descend: expected a non-empty list of int variable paths, got {short_repr(body)}")
        return ()
    chosen: set[tuple[str | int, ...]] = set()
    for i, path in enumerate(body):
        where = f"{label}: descend[{i}]"
        try:
            key = parse_path(path) if isinstance(path, str) else None
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if key is None:
            problems.append(f"{where}: expected a dotted path (text), got {short_repr(path)}")
            continue
        other = next((v for v in variables if parse_path(v.path) == key), None)
        if other is None:
            problems.append(
                f"{where}: {path!r} is not a variable of the space; int variables: {[v.path for v in ints.values()]}"
            )
        elif key not in ints:
            kind = "a float" if isinstance(other, FloatVariable) else "a choice"
            problems.append(f"{where}: {path!r} is {kind} variable; descent lowers int variables only")
        elif key in chosen:
            problems.append(f"{where}: {path!r} is listed twice")
        else:
            chosen.add(key)
    return tuple(v.path for k, v in ints.items() if k in chosen)  # space order


def space_from_dict(data: Any, *, label: str = "space") -> Space:
    """A :class:`Space` from parsed YAML, with every problem of the file reported at once.

    Raises:
        ScenarioError: Unknown keys, a malformed path, a variable without exactly one of ``int``, ``float``,
            ``choice``, empty or inverted bounds, non-integer bounds or steps, an empty or repeated choice, an
            unknown objective metric, bad counts, a ``descent`` outside ``[0, 1)``, a ``descend`` path that is not
            an int variable of the space, a ``descent_steps`` other than ``unit`` or ``adaptive`` or without descent.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(label, [f"{label}: expected a mapping with variables:, got {short_repr(data)}"])
    problems: list[str] = []
    unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if unknown:
        problems.append(f"{label}: unknown keys {unknown}; allowed: {', '.join(_TOP_KEYS)}")
    body = data.get("variables")
    variables: list[Variable] = []
    if not isinstance(body, Mapping) or not body:
        problems.append(f"{label}: variables: expected a non-empty mapping of dotted paths to ranges or choices")
        body = {}
    seen: dict[tuple[str | int, ...], str] = {}
    for path, spec in body.items():
        where = f"{label}: variables.{path}"
        try:
            key = parse_path(path)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if key in seen:
            problems.append(f"{where}: the same path as {seen[key]}")
            continue
        seen[key] = str(path)
        variable = variable_from_spec(str(path), spec, where, problems)
        if variable is not None:
            variables.append(variable)
    objective = data.get("objective", default_objective())
    if objective not in METRICS:
        costs = [m for m in METRICS if "cost" in m]
        problems.append(f"{label}: objective: unknown metric {short_repr(objective)}; cost metrics: {costs}")
    replications = _count(data, "replications", 8, 1, label, problems)
    trials = _count(data, "trials", 50, 1, label, problems)
    seed = _count(data, "seed", 0, 0, label, problems)
    descent = _descent(data, label, problems)
    descend = _descend(data, variables, descent, label, problems)
    steps = _descent_steps(data, descent, label, problems)
    if problems:
        raise ScenarioError(label, problems)
    return Space(tuple(variables), str(objective), replications, trials, seed, label, descent, descend, steps)


def read_space(path: str | os.PathLike[str]) -> Space:
    """Read and check a space file (see the module docstring); not yet checked against a scenario.

    Raises:
        ScenarioError: The file is missing, is not YAML, or describes no valid space (every problem listed).
    """
    label = os.fspath(path)
    if not Path(label).is_file():
        raise ScenarioError(label, [f"{label}: space file not found"])
    data, _ = parse_yaml(read_text(Path(label), label), label)
    return space_from_dict(data, label=label)


def check_space(space: Space, scenario: Scenario) -> None:
    """Check every variable against the scenario: each bound and each choice must make a valid scenario.

    Each candidate value is applied alone through :func:`~experiments.overrides.apply_overrides`, so a path the
    scenario has no field for, a shift or group that does not exist, or a value of the wrong type is named with
    the same message as ``--set`` would give; all problems are reported together.

    Raises:
        ScenarioError: Some variable's path or value does not fit the scenario.
    """
    problems: list[str] = []
    for variable in space.variables:
        for value in variable.candidates():
            try:
                apply_overrides(scenario, {variable.path: value}, label=f"{space.label}: variables")
            except ScenarioError as exc:
                problems.extend(p for p in exc.problems if p not in problems)
                break  # one message per variable: the path is usually the problem, not each value
    if problems:
        raise ScenarioError(space.label, problems)
