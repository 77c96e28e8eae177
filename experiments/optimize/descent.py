"""Descent: trim the cheapest feasible plan, one variable at a time, then swap (see :mod:`experiments.optimize`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from experiments.overrides import apply_overrides, parse_path
from experiments.scenario_errors import ScenarioError
from experiments.space import IntVariable, Space, is_headcount
from sim.config import Scenario
from sim.streams import Streams

if TYPE_CHECKING:
    import optuna

DESCENT_STREAM = "optimize/descent"
"""Named stream (:class:`sim.streams.Streams`, replication = the finished trial's number) of the draw that decides
whether a trim follows that trial: its own stream, so the sampler's and the replications' draws do not move."""

_MOVES = ("descent", "swap")
"""``source`` of the trials descent enqueues: a trim, a swap."""

_PAY_OBJECTIVES = ("recurring_cost_per_week", "labor_cost_per_week")
"""Objectives that include the agents' pay: a trim's saving can be read from the pay of the shift."""


def _feasible(trial: optuna.trial.FrozenTrial) -> bool:
    """Complete, with constraints, none of them violated."""
    from optuna.trial import TrialState

    return trial.state == TrialState.COMPLETE and bool(trial.constraints) and max(trial.constraints.values()) <= 0


def _step_savings(space: Space, scenario: Scenario, incumbent: optuna.trial.FrozenTrial) -> dict[str, float] | None:
    """Weekly pay one step of each ``descend`` variable saves at the incumbent, or ``None`` when it cannot be read.

    It can when the objective includes pay and every trimmed headcount (there is at least one) is of a group and
    shift of the incumbent's scenario (its overrides applied, so a pay rate that is itself a variable counts). A
    trimmed variable that is not a headcount (an authority limit: a lower one saves leakage, not pay) saves 0 here:
    among variables trimmed equally long ago it comes after the headcounts, and it is never swapped.
    """
    from experiments.erlang_plan import weekly_pay

    if space.objective not in _PAY_OBJECTIVES or not any(is_headcount(p) for p in space.descend):
        return None
    try:
        planned = apply_overrides(scenario, incumbent.user_attrs["overrides"], label=f"trial {incumbent.number}")
    except (KeyError, ScenarioError):
        return None
    out = {}
    for path in space.descend:
        if not is_headcount(path):
            out[path] = 0.0
            continue
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
    """The ``descend`` paths in the order their trims of the incumbent are tried (see :mod:`experiments.optimize`).

    ``savings`` caches :func:`_step_savings` per incumbent trial number. With adaptive steps the variable whose
    trim made the incumbent comes first (a line search: lowered again, by twice the steps, until a trim fails);
    then the others cyclically, the one whose last trim is the oldest (never trimmed: oldest of all) first, the pay
    saving only breaking ties. By saving alone, every new incumbent would send descent back to the dear variables,
    while the cheap ones, however far above their need, waited.
    """
    paths = list(space.descend)
    trims = [t for t in trials if t.user_attrs.get("source") in _MOVES]
    last = max(trims, key=lambda t: t.number, default=None)  # a swap counts as a trim of the headcount it lowers
    start = 0
    if last is not None and last.user_attrs.get("descent_var") in paths:
        at = paths.index(last.user_attrs["descent_var"])
        start = at if last.number == incumbent.number else at + 1  # keep lowering what just worked, else move on
    rotated = paths[start % len(paths) :] + paths[: start % len(paths)]
    if incumbent.number not in savings:
        savings[incumbent.number] = _step_savings(space, scenario, incumbent)
    saved = savings[incumbent.number]
    ordered = rotated if saved is None else sorted(rotated, key=lambda p: -saved[p])  # stable: ties keep the rotation
    if space.descent_steps == "unit":
        return ordered
    last_trim = {t.user_attrs.get("descent_var"): t.number for t in sorted(trims, key=lambda t: t.number)}
    again: list[str] = []
    if _made_by(incumbent, last) and incumbent.user_attrs["source"] == "descent":
        again = [incumbent.user_attrs["descent_var"]]  # a swap that worked is repeated by next_trim, not here
    rest = sorted((p for p in ordered if p not in again), key=lambda p: last_trim.get(p, -1))  # stable: by saving
    return again + rest  # what just worked first: lowered again, by twice the steps


def _made_by(incumbent: optuna.trial.FrozenTrial, last: optuna.trial.FrozenTrial | None) -> bool:
    """Whether the last descent trial (a trim or a swap) is the incumbent: the move just worked."""
    return last is not None and last.number == incumbent.number and "descent_var" in incumbent.user_attrs


def _serves(scenario: Scenario, group: str, target: str) -> bool:
    """Whether ``group`` answers contacts the target counts: its channel (and intent) filter admits the group's."""
    spec = next((t for t in scenario.targets if t.name == target), None)
    if spec is None or group not in scenario.groups:
        return False
    served = scenario.groups[group]
    return (spec.channel is None or spec.channel in served.channels) and (
        spec.intent is None or spec.intent in served.skills
    )


def _swaps(
    space: Space,
    scenario: Scenario,
    trials: Sequence[optuna.trial.FrozenTrial],
    base: Mapping[str, Any],
    seen: set[frozenset[tuple[str, Any]]],
    saved: Mapping[str, float],
) -> list[tuple[str, dict[str, Any], int, str]]:
    """Swaps of the incumbent ``base``: ``(path lowered, params, k, path raised)``, the largest saving per step first.

    A swap lowers by ``k`` steps a headcount ``x`` whose one-step trim of the incumbent was evaluated and missed some
    targets, and raises by ``k`` steps a cheaper headcount ``y`` (less pay per step) of the same shift (the same
    hours) in another group that serves one of those targets (its channel and intent). Pooled targets let groups
    trade service: a cheap chat agent can carry what a dear specialist carried. ``k`` follows :func:`swap_counts`,
    is clipped at both variables' bounds and halved until the plan is one the study has not seen.
    """
    from optuna.trial import TrialState

    by_plan = {_key(t.params): t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    counts = swap_counts(trials, space)
    headcounts = [p for p in space.descend if is_headcount(p)]  # a swap trades agents of one shift
    out = []
    for x in headcounts:
        vx = space.variable(x)
        assert isinstance(vx, IntVariable)
        if int(base[x]) - vx.step < vx.low:
            continue
        trimmed = by_plan.get(_key({**base, x: int(base[x]) - vx.step}))
        if trimmed is None or _feasible(trimmed) or not trimmed.constraints:
            continue
        missed = [name for name, value in trimmed.constraints.items() if value > 0]
        _, gx, _, shift = parse_path(x)
        for y in headcounts:
            _, gy, _, other_shift = parse_path(y)
            vy = space.variable(y)
            assert isinstance(vy, IntVariable)
            if gy == gx or other_shift != shift or saved[y] >= saved[x]:
                continue
            if not any(_serves(scenario, str(gy), name) for name in missed):
                continue
            k = min(counts.get((x, y), 1), (int(base[x]) - vx.low) // vx.step, (vy.high - int(base[y])) // vy.step)
            while k >= 1:
                params = {**base, x: int(base[x]) - k * vx.step, y: int(base[y]) + k * vy.step}
                if _key(params) not in seen:
                    out.append((x, params, k, y))
                    break
                k //= 2
    return sorted(out, key=lambda s: -(saved[s[0]] - saved[s[3]]))  # stable: ties keep the space's order


def next_trim(
    study: optuna.Study,
    scenario: Scenario,
    space: Space,
    number: int,
    savings: dict[int, dict[str, float] | None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The trim (or swap) to enqueue after trial ``number`` finished: ``(params, user_attrs)``, or ``None``.

    A move of the incumbent (the cheapest feasible complete trial): its trims (one ``descend`` variable lower, in
    the order of :func:`_descent_order`), then its swaps (:func:`_swaps`), the first the study has not seen and
    not dominated by a failed plan (:func:`_dominated`). With adaptive steps a variable is lowered by its step count
    (:func:`step_counts`), halved until the plan is one the study has not seen, and clipped at its lower bound.

    ``None`` when descent is off, a trial waits in the queue, the study has no feasible complete trial, the draw of
    :data:`DESCENT_STREAM` for this trial says no (probability ``1 - descent``), or every move of the incumbent is
    a plan the study has already seen (descent has converged there).
    """
    from optuna.trial import TrialState

    if space.descent <= 0 or not space.descend:
        return None
    trials = study.get_trials(deepcopy=False)
    if any(t.state == TrialState.WAITING for t in trials):
        return None
    feasible = [t for t in trials if _feasible(t) and t.value is not None]
    if not feasible:
        return None
    if Streams(space.seed, number).fresh(DESCENT_STREAM).random() >= space.descent:
        return None
    incumbent = min(feasible, key=lambda t: (t.value, t.number))  # the earliest among equals
    seen = {_key(t.params) for t in trials}  # a set: a long study has thousands of trials
    neighbours = _neighbours(space, scenario, incumbent, trials, seen, {} if savings is None else savings)
    if not neighbours:
        return None  # converged at this incumbent: the sampler proposes until a cheaper feasible plan appears
    failed = _failed_plans(trials, space)
    # A neighbour with no more agents than a plan already found infeasible is tried last (stable: order kept).
    path, params, k, raised = next((n for n in neighbours if not _dominated(n[1], failed, space)), neighbours[0])
    attrs: dict[str, Any] = {"source": "descent", "descent_of": incumbent.number, "descent_var": path}
    if raised is not None:
        attrs.update(source="swap", descent_swap=raised)
    if space.descent_steps != "unit":
        attrs["descent_steps"] = k
    return params, attrs


def _neighbours(
    space: Space,
    scenario: Scenario,
    incumbent: optuna.trial.FrozenTrial,
    trials: Sequence[optuna.trial.FrozenTrial],
    seen: set[frozenset[tuple[str, Any]]],
    savings: dict[int, dict[str, float] | None],
) -> list[tuple[str, dict[str, Any], int, str | None]]:
    """Trims then swaps of a feasible plan the study has not seen: ``(path lowered, params, k, path raised)``."""
    base = {v.path: incumbent.params[v.path] for v in space.variables if v.path in incumbent.params}
    if len(base) != len(space.variables):
        return []
    counts = step_counts(trials, space)
    neighbours: list[tuple[str, dict[str, Any], int, str | None]] = []
    for path in _descent_order(space, scenario, incumbent, trials, savings):
        variable = space.variable(path)
        assert isinstance(variable, IntVariable)
        k = min(counts[path], (int(base[path]) - variable.low) // variable.step)
        while k >= 1:
            params = {**base, path: int(base[path]) - k * variable.step}
            if _key(params) not in seen:
                neighbours.append((path, params, k, None))
                break
            k //= 2
    saved = savings.get(incumbent.number)
    if saved is not None:  # pay per step is known: swaps after the trims
        swaps = _swaps(space, scenario, trials, base, seen, saved)
        last = max((t for t in trials if t.user_attrs.get("source") in _MOVES), key=lambda t: t.number, default=None)
        made = incumbent.user_attrs.get("descent_var"), incumbent.user_attrs.get("descent_swap")
        again = [s for s in swaps if _made_by(incumbent, last) and (s[0], s[3]) == made]
        neighbours = again + neighbours + [s for s in swaps if s not in again]  # a swap that worked: once more
    return neighbours


def step_counts(trials: Sequence[optuna.trial.FrozenTrial], space: Space) -> dict[str, int]:
    """How many steps the next trim of each ``descend`` variable lowers it by.

    Always 1 with ``descent_steps: unit``. With ``adaptive``: 1 until the variable has been trimmed; then twice the
    steps of its last finished trim when that trim gave a feasible plan (there is room: go faster), half of them
    (at least 1) when it did not (too far: come back). Read from the study's trials, so a resumed study carries on
    with the same counts.
    """
    counts = dict.fromkeys(space.descend, 1)
    if space.descent_steps != "unit":
        adapted = _adapted(trials, "descent", lambda t: t.user_attrs.get("descent_var"))
        counts.update((path, k) for path, k in adapted.items() if path in counts)
    return counts


def swap_counts(trials: Sequence[optuna.trial.FrozenTrial], space: Space) -> dict[tuple[str, str], int]:
    """How many steps the next swap of each pair ``(lowered, raised)`` moves, as :func:`step_counts` for trims.

    Always 1 with ``descent_steps: unit`` (an empty dict: pairs not in it move one step).
    """
    if space.descent_steps == "unit":
        return {}
    return _adapted(trials, "swap", lambda t: (t.user_attrs.get("descent_var"), t.user_attrs.get("descent_swap")))


def _adapted(trials: Sequence[optuna.trial.FrozenTrial], source: str, key: Callable[[Any], Any]) -> dict[Any, int]:
    """Per ``key`` of the finished trials of ``source``: twice the last one's steps if feasible, else half (>= 1)."""
    from optuna.trial import TrialState

    counts: dict[Any, int] = {}
    for t in sorted(trials, key=lambda t: t.number):
        if t.user_attrs.get("source") != source or t.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            continue  # not this move, or still running (another worker): its outcome is not known yet
        k = int(t.user_attrs.get("descent_steps", 1))
        counts[key(t)] = 2 * k if _feasible(t) else max(1, k // 2)
    return counts


def _key(params: Mapping[str, Any]) -> frozenset[tuple[str, Any]]:
    """A plan's parameters as a set member (equal dicts give equal keys)."""
    return frozenset(params.items())


def _failed_plans(
    trials: Sequence[optuna.trial.FrozenTrial], space: Space
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Parameters of the trials found infeasible (pruned, or complete with a violated constraint).

    Keyed by the values of the variables descent does not trim, so :func:`_dominated` compares a neighbour only
    with the failed plans that share them.
    """
    from optuna.trial import TrialState

    out: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for t in trials:
        violated = t.state == TrialState.COMPLETE and bool(t.constraints) and not _feasible(t)
        if (t.state == TrialState.PRUNED or violated) and len(t.params) == len(space.variables):
            out.setdefault(_others(t.params, space), []).append(t.params)
    return out


def _others(params: Mapping[str, Any], space: Space) -> tuple[Any, ...]:
    trimmed = set(space.descend)
    return tuple(params.get(v.path) for v in space.variables if v.path not in trimmed)


def _dominated(
    params: Mapping[str, Any], failed: Mapping[tuple[Any, ...], Sequence[Mapping[str, Any]]], space: Space
) -> bool:
    """Whether some infeasible plan has the same other variables and at least as much of every ``descend`` one.

    Fewer agents do not meet a target that more agents missed (not a certainty under noise, hence "tried last",
    not "skipped").
    """
    return any(all(other[p] >= params[p] for p in space.descend) for other in failed.get(_others(params, space), ()))
