"""ccsim optimize with descent: trims of the incumbent reach the cheapest plan TPE alone trims slowly.

CPU-light: ``simulate`` and ``measure`` are stubs (no engine), so a trial costs a few milliseconds of Optuna.
"""

from __future__ import annotations

import copy
import hashlib
import json

import pandas as pd
import pytest

from experiments.optimize import optimize
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from experiments.space import space_from_dict
from tests.conftest import TINY_SCENARIO

THRESHOLDS = {"g0": 4, "g1": 7, "g2": 3, "g3": 6}
"""Toy problem: a plan is feasible when each group has at least this many agents; it costs its weekly pay."""
HOURS = 24 * 7
"""Paid hours per agent and week of the toy's one 24-hour shift (no rest days, no night premium)."""
OPTIMUM = sum(THRESHOLDS.values())
PATHS = {g: f"groups.{g}.staffing.always" for g in THRESHOLDS}


def _toy_data(pay: dict[str, float] | None = None) -> dict:
    data = copy.deepcopy(TINY_SCENARIO)
    agents = data["groups"].pop("agents")
    for g in THRESHOLDS:
        data["groups"][g] = {**copy.deepcopy(agents), "hourly_cost": (pay or {}).get(g, 30)}
    return data


@pytest.fixture(scope="module")
def toy():
    return scenario_from_dict(_toy_data())


def _space(**changes):
    data = {
        "variables": {path: {"int": [1, 10]} for path in PATHS.values()},
        "replications": 3,
        "trials": 70,
        "seed": 5,
    }
    data.update(changes)
    return space_from_dict(data, label="space.yaml")


def _simulate(scenario, *, seed, replication, log, replay):
    return scenario  # the stub measure reads the plan from it


def _measure(result, scenario):
    """Cost = weekly pay (what descent reads a step's saving from); every target met (95%) when each group reaches
    its threshold, else missed (50%)."""
    heads = {g: result.groups[g].staffing["always"] for g in THRESHOLDS}
    ok = all(heads[g] >= n for g, n in THRESHOLDS.items())
    pay = sum(n * result.groups[g].hourly_cost * HOURS for g, n in heads.items())
    rows = [("recurring_cost_per_week", "all", float(pay))]
    rows += [("target_attainment", f"target={t.name}", 0.95 if ok else 0.5) for t in scenario.targets]
    return pd.DataFrame(rows, columns=["metric", "scope", "value"])


def _never(*args, **kwargs):
    raise AssertionError("a replication ran although the inputs were bad")


def _search(scenario, space, out, **kwargs):
    kwargs.setdefault("storage", "sqlite:///:memory:")  # no file: a trial costs no disk commit
    kwargs.setdefault("measure", _measure)
    return optimize(scenario, space, out_dir=out, confirm_top=0, simulate=_simulate, **kwargs)


def _cheapest(trials: pd.DataFrame) -> pd.Series:
    return trials[trials["feasible"]].sort_values(["cost", "trial"]).iloc[0]


def _plan(row) -> dict[str, int]:
    return {g: int(row[p]) for g, p in PATHS.items()}


def _trim_of(trials: pd.DataFrame, row) -> str:
    """The variable a descent trial lowered: it must be the incumbent of its time with one headcount one step less."""
    before = trials[(trials["trial"] < row["trial"]) & trials["feasible"]]
    assert len(before), f"trial {row['trial']} is a trim before any feasible plan"
    incumbent = _plan(before.sort_values(["cost", "trial"], kind="stable").iloc[0])
    plan = _plan(row)
    changed = [g for g in THRESHOLDS if plan[g] != incumbent[g]]
    assert len(changed) == 1, (incumbent, plan)
    assert plan[changed[0]] == incumbent[changed[0]] - 1, (incumbent, plan)
    return PATHS[changed[0]]


@pytest.fixture(scope="module")
def searches(toy, tmp_path_factory):
    """The same budget (40 distinct plans, seed 5) with and without descent, and the descent search's progress."""
    root = tmp_path_factory.mktemp("descent")
    lines: list[str] = []
    with_descent = _search(toy, _space(trials=40, descent=0.5), root / "on", on_trial=lines.append)
    without = _search(toy, _space(trials=40), root / "off")
    return with_descent, without, lines


def test_descent_reaches_the_known_optimum_that_tpe_alone_misses_on_the_same_budget(searches):
    with_descent, without, _ = searches
    assert _plan(_cheapest(with_descent.trials)) == THRESHOLDS
    assert _plan(_cheapest(with_descent.trials)) == THRESHOLDS
    assert (
        sum(_plan(_cheapest(without.trials)).values()) > OPTIMUM
    )  # TPE alone: a feasible plan with a headcount to spare
    assert set(without.trials["source"]) == {"sampler"}
    for result in searches[:2]:
        plans = result.trials[~result.trials["note"].str.startswith("same plan")]
        assert len(plans) == 40  # the same budget of distinct plans


def test_trims_start_after_the_first_feasible_plan_and_lower_the_incumbent_one_step(searches):
    trials = searches[0].trials
    trims = trials[trials["source"] == "descent"]
    assert len(trims) >= 5
    assert trims["trial"].min() > trials.loc[trials["feasible"], "trial"].min()
    for row in trims.to_dict("records"):
        _trim_of(trials, row)
    # A trim is always a plan the study had not evaluated (an evaluated neighbour is skipped, never enqueued).
    assert not trims["note"].str.startswith("same plan").any()
    keys = trials[list(PATHS.values())].apply(tuple, axis=1)
    for number in trims["trial"]:
        assert keys[trials["trial"] == number].iloc[0] not in set(keys[trials["trial"] < number])


def test_descent_converges_at_the_optimum_and_then_leaves_the_search_to_tpe(searches):
    trials = searches[0].trials
    first = int(trials[trials["feasible"] & (trials["cost"] == OPTIMUM * 30 * HOURS)]["trial"].min())
    after = trials[(trials["trial"] > first) & (trials["source"] == "descent")]
    # At the optimum every neighbour is infeasible: at most one trim per headcount, then none.
    assert len(after) <= len(THRESHOLDS)
    assert not after["feasible"].any()
    assert len(trials[trials["trial"] > after["trial"].max()]) > 0  # the search went on without trims
    lowered = {_trim_of(trials, row) for row in after.to_dict("records")}
    assert len(lowered) == len(after)


def test_the_progress_line_numbers_the_trims(searches):
    trials, lines = searches[0].trials, searches[2]
    assert len(lines) == len(trials)
    marked = [line for line in lines if "[descent trim " in line]
    assert len(marked) == int((trials["source"] == "descent").sum())
    for k, line in enumerate(marked, start=1):
        assert f"[descent trim {k}: trial " in line


def test_the_same_seed_gives_the_same_trials_with_descent(toy, searches, tmp_path):
    again = _search(toy, _space(trials=40, descent=0.5), tmp_path / "again")
    pd.testing.assert_frame_equal(again.trials, searches[0].trials)


def test_trims_go_to_the_largest_pay_saving_and_retry_a_trim_that_failed_last(tmp_path):
    """g1 is paid twice as much as the others: its trim is tried first, unless a plan with no fewer agents in every
    group (and so at least as good) already failed, which puts a neighbour after all the others."""
    pay = {"g1": 60}
    scenario = scenario_from_dict(_toy_data(pay=pay))
    result = _search(scenario, _space(trials=30, descent=0.9, seed=1), tmp_path / "pay")
    trials = result.trials
    trims = trials[trials["source"] == "descent"]
    plans = trials.apply(_plan, axis=1)
    infeasible = ~trials["feasible"]
    checked = {"g1 first": 0, "dominated last": 0}
    for row in trims.to_dict("records"):
        lowered = _trim_of(trials, row)
        earlier = trials["trial"] < row["trial"]
        incumbent = _plan(trials[earlier & trials["feasible"]].sort_values(["cost", "trial"]).iloc[0])
        seen = list(plans[earlier])
        failed = list(plans[earlier & infeasible])
        options = []
        for g, path in PATHS.items():
            plan = {**incumbent, g: incumbent[g] - 1}
            if plan[g] >= 1 and plan not in seen:
                dominated = any(all(f[h] >= plan[h] for h in THRESHOLDS) for f in failed)
                options.append((dominated, -pay.get(g, 30), path))
        best = min(options)  # not dominated first, then the largest saving (the space's order among equals)
        chosen = next(o for o in options if o[2] == lowered)
        assert chosen[:2] == best[:2], (row["trial"], options, lowered)
        checked["g1 first"] += chosen[2] == PATHS["g1"] and any(o[2] != PATHS["g1"] for o in options)
        checked["dominated last"] += any(o[0] for o in options) and not chosen[0]
    assert checked["g1 first"], checked  # both rules were exercised
    assert checked["dominated last"], checked


def test_descent_is_not_used_in_pareto_mode(toy, tmp_path):
    result = _search(toy, _space(trials=8, descent=0.5), tmp_path / "p", pareto=True)
    assert set(result.trials["source"]) == {"sampler"}
    assert any("descent is not used in pareto mode" in note for note in result.notes)


# ------------------------------------------------------------------------------------------------ the space


def _digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_a_space_without_descent_keeps_its_settings_and_fingerprint():
    plain = _space()
    # The settings an existing study was fingerprinted with: these four keys only, nothing about descent.
    assert set(plain.settings()) == {"variables", "objective", "replications", "seed"}
    assert plain.descent == 0
    assert _space(descent=0).fingerprint() == plain.fingerprint()
    assert _space(descent=0, descend=[PATHS["g0"]]).fingerprint() == plain.fingerprint()  # off: descend unused
    on = _space(descent=0.5)
    assert on.fingerprint() != plain.fingerprint()
    assert on.settings() == {**plain.settings(), "descent": 0.5, "descend": list(PATHS.values())}
    assert on.descend == tuple(PATHS.values())  # default: every headcount variable, in space order
    assert plain.fingerprint() == _digest(plain.settings())


def test_a_study_without_descent_resumes_and_refuses_a_space_with_it(toy, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = _search(toy, _space(trials=3), tmp_path / "s", storage=storage)
    resumed = _search(toy, _space(trials=5, descent=0), tmp_path / "s", storage=storage)
    pd.testing.assert_frame_equal(resumed.trials.head(len(first.trials)), first.trials)
    from experiments.optimize import OptimizeError

    with pytest.raises(OptimizeError, match=r"another space \(descent None -> 0.5; descend None -> "):
        optimize(toy, _space(trials=6, descent=0.5), out_dir=tmp_path / "s", storage=storage, simulate=_never)


def test_descend_lists_the_trimmed_variables_and_defaults_to_the_headcounts():
    variables = {
        PATHS["g0"]: {"int": [1, 10]},
        "policies.empowerment.params.limits.agents": {"int": [0, 500], "step": 50},
        "policies.deflection.params.threshold": {"float": [0.2, 0.9]},
    }
    space = space_from_dict({"variables": variables, "descent": 0.3})
    assert space.descend == (PATHS["g0"],)  # the authority limit is an int, not a headcount
    chosen = space_from_dict(
        {"variables": variables, "descent": 0.3, "descend": ["policies.empowerment.params.limits.agents"]}
    )
    assert chosen.descend == ("policies.empowerment.params.limits.agents",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"descent": 1.5}, r"descent: expected a number in \[0, 1\).*got 1\.5"),
        ({"descent": 1}, r"descent: expected a number in \[0, 1\).*got 1"),
        ({"descent": -0.1}, r"descent: expected a number in \[0, 1\).*got -0\.1"),
        ({"descent": "x"}, r"descent: expected a number in \[0, 1\).*got 'x'"),
        ({"descent": True}, r"descent: expected a number in \[0, 1\).*got True"),
        (
            {"descent": 0.5, "descend": ["groups.g9.staffing.always"]},
            r"descend\[0\]: 'groups.g9.staffing.always' is not a variable of the space",
        ),
        (
            {"descent": 0.5, "descend": ["policies.deflection.params.threshold"]},
            r"descend\[0\]: .* is a float variable",
        ),
        ({"descent": 0.5, "descend": ["policies.routing"]}, r"descend\[0\]: 'policies.routing' is a choice variable"),
        ({"descent": 0.5, "descend": "groups.g0.staffing.always"}, "descend: expected a non-empty list"),
        ({"descent": 0.5, "descend": []}, "descend: expected a non-empty list"),
        ({"descent": 0.5, "descend": [PATHS["g0"], PATHS["g0"]]}, r"descend\[1\]: .* is listed twice"),
        ({"descent": 0.5, "descend": [3]}, r"descend\[0\]: expected a dotted path"),
    ],
)
def test_bad_descent_settings_are_clear_errors_before_any_trial(toy, tmp_path, changes, message):
    data = {
        "variables": {
            **{path: {"int": [1, 10]} for path in PATHS.values()},
            "policies.deflection.params.threshold": {"float": [0.2, 0.9]},
            "policies.routing": {"choice": [{"name": "longest_idle"}, {"name": "priority"}]},
        },
        **changes,
    }
    with pytest.raises(ScenarioError, match=message) as caught:
        space_from_dict(data, label="space.yaml")
    assert all(p.startswith("space.yaml: descen") for p in caught.value.problems)


def test_descent_without_a_headcount_to_trim_is_an_error():
    with pytest.raises(ScenarioError, match="descent: no variable to trim"):
        space_from_dict({"variables": {"policies.deflection.params.threshold": {"float": [0.2, 0.9]}}, "descent": 0.5})


def test_the_cli_refuses_a_bad_descent_before_any_trial(tiny_scenario_file, tmp_path, capsys):
    import yaml

    from experiments.cli import main

    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"variables": {"groups.agents.staffing.always": {"int": [1, 6]}}, "descent": 1.5}))
    assert main(["optimize", str(tiny_scenario_file), str(space), "--out", str(tmp_path / "o")]) == 2
    assert "descent: expected a number in [0, 1)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_confirm_top_zero_confirms_nothing(toy, tmp_path):
    """``confirm_top=0`` (the benchmark's search) must not re-run a plan: it used to confirm the cheapest one."""
    result = _search(toy, _space(trials=6), tmp_path / "c")
    assert result.trials["feasible"].any(), "no feasible plan: the test proves nothing"
    assert result.confirmation.empty
    assert result.best is None


def test_the_summary_counts_the_trims_and_shows_no_source_column_as_a_target(searches):
    import io

    from rich.console import Console

    from experiments.decision_tables import print_optimization

    result = searches[0]
    buffer = io.StringIO()
    print_optimization(Console(file=buffer, width=200), result, _space(trials=40, descent=0.5))
    text = buffer.getvalue()
    trims = int((result.trials["source"] == "descent").sum())
    assert f"40 distinct plans ({trims} descent trims)" in text
    assert "source" not in text  # the source column is not shown as a target column


def test_the_flagship_space_trims_its_headcounts_dearest_step_first():
    """bench/flagship_space.yaml (the benchmark's space) turns descent on; its trims save pay in a known order."""
    from pathlib import Path
    from types import SimpleNamespace

    from experiments.optimize.descent import _step_savings
    from experiments.scenario_files import load_scenario
    from experiments.space import check_space, is_headcount, read_space

    space = read_space(Path(__file__).resolve().parents[2] / "bench" / "flagship_space.yaml")
    scenario, _ = load_scenario("ecommerce_24x7")
    check_space(space, scenario)
    assert space.descent == 0.8
    assert space.descent_steps == "adaptive"
    assert space.descend == tuple(v.path for v in space.variables if is_headcount(v.path))
    assert len(space.descend) == 18
    incumbent = SimpleNamespace(number=0, user_attrs={"overrides": {}})
    savings = _step_savings(space, scenario, incumbent)
    assert savings is not None
    for path, saving in savings.items():
        _, group, _, shift = path.split(".")
        g, s = scenario.groups[group], scenario.shifts[shift]
        paid = g.hourly_cost * s.length / 3600.0 * len(s.days) * (7 - g.rest_days) / 7.0  # one step = one agent
        assert paid <= saving <= paid * (1 + g.night_premium)  # with the night premium for its night hours


def test_the_summary_of_a_search_without_confirmation_does_not_claim_no_feasible_plan(toy, tmp_path):
    import io

    from rich.console import Console

    from experiments.decision_tables import print_optimization

    result = _search(toy, _space(trials=6), tmp_path / "c")
    assert result.trials["feasible"].any()
    buffer = io.StringIO()
    print_optimization(Console(file=buffer, width=200), result, _space(trials=6))
    assert "no plan was confirmed (--confirm-top 0)" in buffer.getvalue()
    assert "no feasible plan" not in buffer.getvalue()


def test_a_failed_plan_dominates_only_plans_with_the_same_untrimmed_variables():
    from types import SimpleNamespace

    from experiments.optimize.descent import _dominated, _others

    space = SimpleNamespace(
        variables=[SimpleNamespace(path=p) for p in ("a", "b", "bot")],
        descend=("a", "b"),
    )
    failed_plan = {"a": 5, "b": 4, "bot": "none"}
    failed = {_others(failed_plan, space): [failed_plan]}
    assert _dominated({"a": 5, "b": 3, "bot": "none"}, failed, space)  # no more of any trimmed one
    assert _dominated({"a": 4, "b": 4, "bot": "none"}, failed, space)
    assert not _dominated({"a": 6, "b": 3, "bot": "none"}, failed, space)  # more of a
    assert not _dominated({"a": 4, "b": 3, "bot": "orders"}, failed, space)  # another bot scope


# ------------------------------------------------------------------------------------------------ adaptive steps
# Headcounts from a warm start far above the thresholds (30 each, range 1..40): one step per trim needs about 100
# feasible trims to come down; adaptive steps double while trims stay feasible and halve when they overshoot.

FAR = {p: 30 for p in PATHS.values()}


def _far_space(**changes):
    variables = {path: {"int": [1, 40]} for path in PATHS.values()}
    return _space(**{"variables": variables, "trials": 60, "descent": 0.9, **changes})


@pytest.fixture(scope="module")
def far_searches(toy, tmp_path_factory):
    root = tmp_path_factory.mktemp("far")
    lines: list[str] = []
    adaptive = _search(toy, _far_space(descent_steps="adaptive"), root / "adaptive", start=FAR, on_trial=lines.append)
    unit = _search(toy, _far_space(), root / "unit", start=FAR)
    return adaptive, unit, lines


def test_adaptive_steps_reach_the_optimum_from_far_above_where_unit_steps_do_not(far_searches):
    adaptive, unit, _ = far_searches
    assert _plan(_cheapest(adaptive.trials)) == THRESHOLDS
    assert sum(_plan(_cheapest(unit.trials)).values()) > OPTIMUM  # one step per trim: still above it after 60 plans
    for result in far_searches[:2]:
        plans = result.trials[~result.trials["note"].str.startswith("same plan")]
        assert len(plans) == 60


def test_adaptive_steps_double_after_a_feasible_trim_and_halve_after_an_infeasible_one(far_searches):
    trials = far_searches[0].trials
    trims = trials[trials["source"] == "descent"].to_dict("records")
    last: dict[str, tuple[int, bool]] = {}
    checked = {"doubled": 0, "halved": 0, "skipped": 0}
    keys = trials[list(PATHS.values())].apply(tuple, axis=1)
    for row in trims:
        earlier = trials[trials["trial"] < row["trial"]]
        incumbent = _plan(earlier[earlier["feasible"]].sort_values(["cost", "trial"], kind="stable").iloc[0])
        plan = _plan(row)
        changed = [g for g in THRESHOLDS if plan[g] != incumbent[g]]
        assert len(changed) == 1, (incumbent, plan)
        g = changed[0]
        k = incumbent[g] - plan[g]
        wanted = 1
        if g in last:
            steps, feasible = last[g]
            wanted = 2 * steps if feasible else max(1, steps // 2)
            checked["doubled" if feasible else "halved"] += 1
        chain = [min(wanted, incumbent[g] - 1)]  # clipped at the lower bound (1)
        while chain[-1] > 1:
            chain.append(chain[-1] // 2)
        assert k in chain, (k, chain)
        seen = set(keys[trials["trial"] < row["trial"]])
        for larger in chain[: chain.index(k)]:  # a larger trim was skipped only because it had been evaluated
            skipped = tuple({**incumbent, g: incumbent[g] - larger}[h] for h in THRESHOLDS)
            assert skipped in seen, (row["trial"], g, larger)
            checked["skipped"] += 1
        last[g] = (k, bool(row["feasible"]))
    assert checked["doubled"] >= 4, checked
    assert checked["halved"] >= 2, checked


def _made_trial(number: int, plan: dict[str, int], *, var: str | None = None, feasible: bool = True):
    import optuna

    attrs = {"source": "descent", "descent_var": PATHS[var]} if var else {"source": "sampler"}
    trial = optuna.trial.create_trial(
        params={PATHS[g]: n for g, n in plan.items()},
        distributions={p: optuna.distributions.IntDistribution(1, 40) for p in PATHS.values()},
        value=float(sum(plan.values())),
        user_attrs={**attrs, "overrides": {PATHS[g]: n for g, n in plan.items()}},
        system_attrs={"constraints": [-0.1 if feasible else 0.1]},
    )
    trial.number = number
    return trial


def test_adaptive_trims_lower_again_what_just_worked_else_the_least_recently_trimmed_first():
    """g2 is paid a tenth of the others: by pay saving alone it would come last at every new incumbent."""
    from experiments.optimize.descent import _descent_order

    scenario = scenario_from_dict(_toy_data(pay={"g0": 100, "g1": 100, "g2": 10, "g3": 100}))
    plan = {"g0": 20, "g1": 20, "g2": 20, "g3": 20}
    space = _far_space(descent_steps="adaptive")
    trials = [
        _made_trial(0, {**plan, "g1": 22}),
        _made_trial(1, {**plan, "g1": 21}, var="g1"),
        _made_trial(2, {**plan, "g1": 21, "g3": 19}, var="g3", feasible=False),
        _made_trial(3, plan, var="g1"),  # the incumbent: its trim worked
    ]
    order = [p.split(".")[1] for p in _descent_order(space, scenario, trials[3], trials, {})]
    assert order == ["g1", "g0", "g2", "g3"]  # g1 again; never trimmed by pay (g0 before g2); g3 trimmed at 2
    failed = [*trials, _made_trial(4, {**plan, "g1": 18}, var="g1", feasible=False)]
    order = [p.split(".")[1] for p in _descent_order(space, scenario, trials[3], failed, {})]
    assert order == ["g0", "g2", "g3", "g1"]  # g1's trim failed: the least recently trimmed first, g1 last
    unit = _far_space()  # unit steps: the largest pay saving first, rotating among equals from g1 (it worked)
    order = [p.split(".")[1] for p in _descent_order(unit, scenario, trials[3], trials, {})]
    assert order == ["g1", "g3", "g0", "g2"]


def test_the_progress_line_says_how_many_steps_a_trim_took(far_searches):
    lines = far_searches[2]
    assert any(" steps less of groups." in line for line in lines)
    assert any(" with one step less of groups." in line for line in lines)


def test_unit_steps_keep_the_settings_and_the_trims_of_before(toy, searches, tmp_path):
    assert "descent_steps" not in _space(descent=0.5).settings()
    assert _space(descent=0.5).fingerprint() == _space(descent=0.5, descent_steps="unit").fingerprint()
    assert _space(descent=0.5, descent_steps="adaptive").settings()["descent_steps"] == "adaptive"
    again = _search(toy, _space(trials=40, descent=0.5, descent_steps="unit"), tmp_path / "unit")
    pd.testing.assert_frame_equal(again.trials, searches[0].trials)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"descent": 0.5, "descent_steps": "double"}, "descent_steps: expected 'unit'"),
        ({"descent_steps": "adaptive"}, "descent_steps: 'adaptive' has no effect without descent"),
    ],
)
def test_bad_descent_steps_are_clear_errors(changes, message):
    with pytest.raises(ScenarioError, match=message):
        _space(**changes)


POOLED_PAY = {"g0": 60, "g1": 30, "g2": 30, "g3": 30}
"""Swap toy: g0 and g1 share a pooled need (g0 + g1 >= 10), g0 is paid twice as much; g2, g3 as in THRESHOLDS."""
SWAP_START = {PATHS["g0"]: 8, PATHS["g1"]: 2, PATHS["g2"]: 3, PATHS["g3"]: 6}
"""Feasible, and every trim of it fails: only swaps (g0 lower, g1 higher) go down to g0 = 1, g1 = 9."""


def _pooled_measure(result, scenario):
    """Cost = weekly pay; targets met when g0 + g1 >= 10, g2 >= 3 and g3 >= 6."""
    heads = {g: result.groups[g].staffing["always"] for g in THRESHOLDS}
    ok = heads["g0"] + heads["g1"] >= 10 and heads["g2"] >= 3 and heads["g3"] >= 6
    rows = [("recurring_cost_per_week", "all", float(sum(n * POOLED_PAY[g] * HOURS for g, n in heads.items())))]
    rows += [("target_attainment", f"target={t.name}", 0.95 if ok else 0.5) for t in scenario.targets]
    return pd.DataFrame(rows, columns=["metric", "scope", "value"])


@pytest.mark.parametrize("steps", ["unit", "adaptive"])
def test_swaps_trade_a_dear_headcount_for_a_cheaper_one_of_its_shift_when_no_trim_is_feasible(steps, tmp_path):
    scenario = scenario_from_dict(_toy_data(pay=POOLED_PAY))
    space = _space(trials=40, descent=0.9, descent_steps=steps)
    lines: list[str] = []
    result = optimize(
        scenario,
        space,
        out_dir=tmp_path,
        confirm_top=0,
        simulate=_simulate,
        measure=_pooled_measure,
        storage="sqlite:///:memory:",
        start=SWAP_START,
        on_trial=lines.append,
    )
    trials = result.trials
    assert _plan(_cheapest(trials)) == {"g0": 1, "g1": 9, "g2": 3, "g3": 6}  # 60 x 1 + 30 x 18 = 600 (from 750)
    swaps = trials[trials["source"] == "swap"]
    assert len(swaps) >= 2
    for row in swaps.to_dict("records"):  # each swap: g0 k steps lower, g1 k steps higher, from the incumbent
        before = trials[(trials["trial"] < row["trial"]) & trials["feasible"]]
        incumbent = _plan(before.sort_values(["cost", "trial"], kind="stable").iloc[0])
        moved = {g: _plan(row)[g] - incumbent[g] for g in THRESHOLDS}
        assert moved["g0"] < 0, (row, moved)
        assert moved["g1"] == -moved["g0"], (row, moved)
        assert moved["g2"] == moved["g3"] == 0, (row, moved)
        assert steps == "adaptive" or moved["g1"] == 1
    assert any(f"and one step more of {PATHS['g1']}]" in line and "[descent swap 1: trial " in line for line in lines)
    if steps == "adaptive":  # a swap that worked is repeated with twice the steps: 1, 2, 4 (then 1 after 4 failed)
        assert sorted(set(_plan(r)["g1"] - 2 for r in swaps.to_dict("records")))[:3] == [1, 3, 7]


def _two_shift_scenario():
    data = copy.deepcopy(TINY_SCENARIO)
    data["channels"]["chat"] = {"kind": "live", "patience": {"dist": "exponential", "mean": "10min"}}
    data["arrivals"]["channels"]["chat"] = {"daily_volume": 100, "intent_mix": {"general": 1.0}, "intraday": "flat"}
    data["shifts"] = {"day": {"start": "08:00", "length": "12h"}, "night": {"start": "20:00", "length": "12h"}}
    agents = data["groups"].pop("agents")

    def group(channel, pay):
        return {**copy.deepcopy(agents), "channels": [channel], "hourly_cost": pay, "staffing": {"day": 5, "night": 5}}

    data["groups"] = {
        "dear": group("voice", 60),
        "cheap": group("voice", 30),
        "chat": group("chat", 20),
        "dearer": group("voice", 90),
    }
    return scenario_from_dict(data)


def test_a_swap_raises_a_cheaper_group_of_the_same_shift_that_serves_a_missed_target():
    """The trim of dear.day missed voice 80/20: cheap.day serves it; chat.day (chat only), cheap.night (other
    hours) and dearer.day (dearer) are not swapped in."""
    import optuna

    from experiments.optimize.descent import _step_savings, _swaps

    scenario = _two_shift_scenario()
    paths = [f"groups.{g}.staffing.{s}" for g in scenario.groups for s in ("day", "night")]
    space = space_from_dict({"variables": {p: {"int": [1, 10]} for p in paths}, "seed": 1, "descent": 0.5}, label="s")
    base = dict.fromkeys(paths, 5)

    def made(number, plan, missed):
        trial = optuna.trial.create_trial(
            params=plan,
            distributions={p: optuna.distributions.IntDistribution(1, 10) for p in paths},
            value=float(sum(plan.values())),
            user_attrs={"source": "sampler", "overrides": plan},
            system_attrs={f"constraints:{t.name}": 0.1 if t.name in missed else -0.1 for t in scenario.targets},
        )
        trial.number = number
        return trial

    incumbent = made(0, base, missed=())
    trims = [made(1, {**base, "groups.dear.staffing.day": 4}, missed=("voice 80/20",))]
    saved = _step_savings(space, scenario, incumbent)
    seen = {frozenset(t.params.items()) for t in [incumbent, *trims]}
    swaps = _swaps(space, scenario, [incumbent, *trims], base, seen, saved)
    assert [(x, y, k) for x, _, k, y in swaps] == [("groups.dear.staffing.day", "groups.cheap.staffing.day", 1)]
    assert swaps[0][1] == {**base, "groups.dear.staffing.day": 4, "groups.cheap.staffing.day": 6}
    assert _swaps(space, scenario, [incumbent], base, seen, saved) == []  # no failed trim: nothing to swap for


LIMIT = "policies.empowerment.params.limits.g0"
"""Limit toy: g0's authority limit (CNY), a trimmed variable that is not a headcount; below 150 a target is missed,
and every 50 CNY of it costs 1,000 a week (the leakage of what agents approve themselves)."""


def _limit_measure(result, scenario):
    """Cost = weekly pay + 20 per CNY of g0's limit; targets met when each group reaches its threshold and the
    limit is at least 150."""
    heads = {g: result.groups[g].staffing["always"] for g in THRESHOLDS}
    limit = result.policies.empowerment.params["limits"]["g0"]
    ok = all(heads[g] >= n for g, n in THRESHOLDS.items()) and limit >= 150
    cost = sum(n * result.groups[g].hourly_cost * HOURS for g, n in heads.items()) + 20 * limit
    rows = [("recurring_cost_per_week", "all", float(cost))]
    rows += [("target_attainment", f"target={t.name}", 0.95 if ok else 0.5) for t in scenario.targets]
    return pd.DataFrame(rows, columns=["metric", "scope", "value"])


@pytest.mark.parametrize("steps", ["unit", "adaptive"])
def test_descent_trims_an_authority_limit_listed_under_descend(steps, tmp_path):
    data = _toy_data()
    data.setdefault("policies", {})["empowerment"] = {"name": "authority_limit", "params": {"limits": {"g0": 500}}}
    scenario = scenario_from_dict(data)
    variables = {**{p: {"int": [1, 10]} for p in PATHS.values()}, LIMIT: {"int": [0, 500], "step": 50}}
    space = _space(variables=variables, trials=60, descent=0.9, descent_steps=steps, descend=[*PATHS.values(), LIMIT])
    start = {**{PATHS[g]: n + 2 for g, n in THRESHOLDS.items()}, LIMIT: 500}
    trials = _search(scenario, space, tmp_path, measure=_limit_measure, start=start).trials
    best = _cheapest(trials)
    assert _plan(best) == THRESHOLDS
    assert int(best[LIMIT]) == 150  # from 500, by trims of the limit alone: no sampler plan is asked to find it
    trims = trials[trials["source"] == "descent"]
    assert (trims[LIMIT] < 500).any()  # lowered by a trim (that it is never swapped: the test below)


def test_an_authority_limit_under_descend_saves_nothing_by_pay_and_is_not_swapped():
    """In the flagship, the headcounts keep their pay savings when a limit is trimmed too; a failed trim of the
    limit gives no swap."""
    from types import SimpleNamespace

    import optuna

    from experiments.optimize.descent import _step_savings, _swaps
    from experiments.scenario_files import load_scenario

    scenario, _ = load_scenario("ecommerce_24x7")
    heads = [f"groups.{g}.staffing.day" for g in ("voice_zh", "chat_zh")]
    limit = "policies.empowerment.params.limits.voice_zh"
    variables = {**{p: {"int": [1, 40]} for p in heads}, limit: {"int": [0, 1000], "step": 100}}
    space = space_from_dict({"variables": variables, "seed": 1, "descent": 0.5, "descend": [*heads, limit]})
    saved = _step_savings(space, scenario, SimpleNamespace(number=0, user_attrs={"overrides": {}}))
    assert saved is not None
    assert saved[limit] == 0.0
    assert all(saved[p] > 1000 for p in heads)  # a day agent's weekly pay
    base = {heads[0]: 20, heads[1]: 10, limit: 200}
    failed = optuna.trial.create_trial(
        params={**base, limit: 100},
        distributions={
            **{p: optuna.distributions.IntDistribution(1, 40) for p in heads},
            limit: optuna.distributions.IntDistribution(0, 1000, step=100),
        },
        value=1.0,
        user_attrs={"source": "descent", "descent_var": limit, "overrides": {}},
        system_attrs={f"constraints:{t.name}": 0.1 if t.name == "voice 80/20" else -0.1 for t in scenario.targets},
    )
    failed.number = 1
    assert _swaps(space, scenario, [failed], base, {frozenset(failed.params.items())}, saved) == []
