"""ccsim optimize: the search finds the Erlang C staffing, prunes hopeless plans, resumes, refuses bad inputs early."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.optimize import OptimizeError, clearly_infeasible, optimize, start_params
from experiments.overrides import apply_overrides, read_overrides
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from experiments.space import read_space, space_from_dict
from sim.erlang import staff_for_service_level
from sim.units import parse_duration
from tests.conftest import TINY_SCENARIO, write_scenario

PATH = "groups.agents.staffing.always"
SPACE = {"variables": {PATH: {"int": [1, 6]}}, "replications": 4, "trials": 6, "seed": 3}


@pytest.fixture(scope="module")
def tiny():
    return scenario_from_dict(TINY_SCENARIO)


def _space(**changes):
    data = copy.deepcopy(SPACE)
    data.update(changes)
    return space_from_dict(data, label="space.yaml")


def _erlang_c_headcount(scenario) -> int:
    """Fewest agents whose Erlang C service level meets every target of the one-queue tiny scenario."""
    rate = TINY_SCENARIO["arrivals"]["channels"]["voice"]["daily_volume"] / 86_400.0
    handle = parse_duration(TINY_SCENARIO["intents"]["general"]["handle"]["mean"])
    return max(staff_for_service_level(rate, handle, t.threshold, t.level) for t in scenario.targets)


def _plans(trials: pd.DataFrame) -> int:
    """Distinct plans evaluated (trials that repeat an earlier plan reuse its values and do not count)."""
    return int((~trials["note"].str.startswith("same plan")).sum())


def _never(*args, **kwargs):
    raise AssertionError("a replication ran although the inputs were bad")


@pytest.fixture(scope="module")
def searched(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("opt") / "search"
    lines: list[str] = []
    result = optimize(tiny, _space(), out_dir=out, confirm_replications=6, confirm_top=2, on_trial=lines.append)
    return result, lines


def test_the_search_finds_the_cheapest_headcount_erlang_c_predicts(tiny, searched):
    result, lines = searched
    expected = _erlang_c_headcount(tiny)
    assert expected == 3  # the analytic answer; the simulation has abandonment, which only helps a little here
    assert result.best == {PATH: expected}
    trials = result.trials
    # Six distinct plans asked for, six in the space: the search stops once each was evaluated (repeats are free).
    assert set(trials[PATH]) == set(range(1, 7))
    assert (trials["note"].str.startswith("same plan")).sum() == len(trials) - 6
    cheapest = trials[trials["feasible"]].sort_values("cost").iloc[0]
    assert cheapest[PATH] == expected
    assert not trials[(trials[PATH] < expected) & trials["feasible"]].any().any()  # fewer agents never feasible
    chosen = result.confirmation[result.confirmation["chosen"]]
    assert set(chosen["status"]) == {"MET"}
    assert (chosen["replications"] == 6).all()
    assert (chosen["seed"] == 3 + 10_000).all()
    assert chosen["p_period"].between(0, 1).all()
    assert chosen["p_mean"].between(0, 1).all()
    assert len(lines) == len(trials) + result.confirmation["trial"].nunique()  # one line per trial and per plan


def test_clearly_infeasible_plans_are_pruned_after_a_few_replications(searched):
    trials = searched[0].trials
    one_agent = trials[trials[PATH] == 1]
    assert len(one_agent), "the sampler never tried one agent: the test proves nothing"
    assert (one_agent["state"] == "PRUNED").all()
    assert (one_agent["replications"] < SPACE["replications"]).all()
    assert one_agent["note"].str.contains("voice 80/20").all()
    assert (trials.loc[trials["feasible"], "replications"] == SPACE["replications"]).all()


def test_the_written_override_file_applies_and_runs(tiny, searched, tmp_path, tiny_scenario_file, capsys):
    result = searched[0]
    file = result.out_dir / "best_overrides.yaml"
    overrides = read_overrides(file)
    assert overrides == result.best
    assert apply_overrides(tiny, overrides).groups["agents"].staffing == {"always": 3}
    code = main(
        [
            "run",
            str(tiny_scenario_file),
            "--overrides",
            str(file),
            "-r",
            "1",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    assert code == 0
    assert (result.out_dir / "trials.csv").is_file()
    assert (result.out_dir / "confirmation.csv").is_file()
    assert pd.read_csv(result.out_dir / "trials.csv")["trial"].tolist() == result.trials["trial"].tolist()


def test_the_same_seed_gives_the_same_trials(tiny, searched, tmp_path):
    # The first three plans again (the trial count is not part of the search: a longer study extends a shorter one).
    again = optimize(tiny, _space(trials=3), out_dir=tmp_path / "again", confirm_top=0)
    columns = ["trial", "state", PATH, "cost", "replications", "voice 80/20", "urgent 5 min", "note"]
    assert _plans(again.trials) == 3
    pd.testing.assert_frame_equal(again.trials[columns], searched[0].trials[columns].head(len(again.trials)))


def test_a_repeated_plan_reuses_the_earlier_trial(searched):
    trials = searched[0].trials
    repeats = trials[trials["note"].str.startswith("same plan as trial")]
    assert len(repeats)
    for row in repeats.to_dict("records"):
        earlier = trials[trials["trial"] == int(row["note"].split()[4].rstrip(";"))].iloc[0]
        assert earlier[PATH] == row[PATH]
        assert earlier["cost"] == row["cost"]


def test_resume_adds_trials_and_refuses_another_space_or_scenario(tiny, tmp_path):
    out = tmp_path / "study"
    first = optimize(tiny, _space(trials=2, replications=2), out_dir=out, confirm_top=0)
    assert _plans(first.trials) == 2
    more = optimize(tiny, _space(trials=4, replications=2), out_dir=out, confirm_top=0)
    assert _plans(more.trials) == 4
    pd.testing.assert_frame_equal(more.trials.head(len(first.trials)), first.trials)
    with pytest.raises(OptimizeError, match=r"another space \(replications 2 -> 3"):
        optimize(tiny, _space(trials=6, replications=3), out_dir=out, simulate=_never)
    other = apply_overrides(tiny, {"groups.agents.hourly_cost": 40})
    with pytest.raises(OptimizeError, match="another scenario"):
        optimize(other, _space(trials=6, replications=2), out_dir=out, simulate=_never)
    with pytest.raises(OptimizeError, match=r"constrained study; this run asks for a pareto one"):
        optimize(tiny, _space(trials=6, replications=2), out_dir=out, pareto=True, simulate=_never)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"groups.agents.stafing.always": {"int": [1, 6]}}, "unknown key 'stafing'.*did you mean 'staffing'"),
        ({"groups.agents.staffing.night": {"int": [1, 6]}}, "unknown shift 'night'"),
        ({PATH: {"int": [6, 1]}}, r"inverted bounds \[6, 1\]"),
        ({PATH: {"int": []}}, r"expected \[low, high\]"),
        ({PATH: {"int": [1.5, 6]}}, "bounds must be integers"),
        ({"policies.routing": {"choice": []}}, "choice: expected a non-empty list"),
        ({"policies.routing": {"choice": [{"name": "fifo_nope"}]}}, "unknown routing policy 'fifo_nope'"),
        ({PATH: {"int": [0, 10], "step": 3}}, "not a whole number of steps"),
    ],
)
def test_a_bad_space_is_refused_before_any_trial(tiny, tmp_path, variables, message):
    out = tmp_path / "bad"
    with pytest.raises(ScenarioError, match=message):  # space_from_dict or optimize refuses; nothing runs
        optimize(tiny, space_from_dict({"variables": variables}, label="space.yaml"), out_dir=out, simulate=_never)
    assert not out.exists()


def test_every_problem_of_a_space_is_reported_at_once(tiny):
    with pytest.raises(ScenarioError) as caught:
        space_from_dict({"variables": {PATH: {"int": [6, 1]}, "x.y": {"choice": []}}, "objective": "cost_nope"})
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/x", "sqlite:////nonexistent-dir/x/study.db"])
def test_an_unreachable_storage_is_refused_before_any_trial(tiny, tmp_path, url):
    with pytest.raises(OptimizeError, match="cannot open the study storage"):
        optimize(tiny, _space(), out_dir=tmp_path / "o", storage=url, simulate=_never)


def test_the_cli_reports_bad_inputs_without_a_traceback(tiny_scenario_file, tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"variables": {"groups.agents.staffing.always": {"int": [5, 2]}}}))
    assert main(["optimize", str(tiny_scenario_file), str(space), "--out", str(tmp_path / "o")]) == 2
    assert "inverted bounds [5, 2]" in capsys.readouterr().err
    space.write_text(yaml.safe_dump(SPACE))
    url = "postgresql://nobody:secret@127.0.0.1:1/x"
    assert main(["optimize", str(tiny_scenario_file), str(space), "--storage", url]) == 2
    err = capsys.readouterr().err
    assert "cannot open the study storage" in err
    assert "secret" not in err
    assert not (tmp_path / "o").exists()


def test_the_warm_start_is_the_first_trial(tiny, tmp_path):
    space = _space(trials=1, replications=2)
    result = optimize(
        tiny, space, out_dir=tmp_path / "w", start={PATH: 4, "groups.agents.hourly_cost": 30}, confirm_top=0
    )
    assert result.trials.iloc[0][PATH] == 4
    assert any("hourly_cost is not a variable" in n for n in result.notes)
    with pytest.raises(OptimizeError, match=r"not one of the space's values 1\.\.6"):
        start_params(space, {PATH: 9})
    with pytest.raises(OptimizeError, match="sets none of the space's variables"):
        start_params(space, {"groups.agents.hourly_cost": 30})


def test_pareto_mode_returns_the_non_dominated_trials(tiny, tmp_path):
    result = optimize(
        tiny,
        _space(trials=6, replications=3),
        out_dir=tmp_path / "p",
        pareto=True,
        confirm_top=1,
        confirm_replications=3,
    )
    front, trials = result.pareto, result.trials
    assert front is not None
    assert len(front) >= 2
    assert (trials["state"] == "COMPLETE").all()  # no pruning in Pareto mode: cheap plans are part of the front

    def dominates(a, b):
        return (
            a.cost <= b.cost
            and a.worst_margin >= b.worst_margin
            and (a.cost < b.cost or a.worst_margin > b.worst_margin)
        )

    rows = list(front.itertuples())
    assert not any(dominates(a, b) for a in rows for b in rows)
    others = trials[~trials["trial"].isin(front["trial"])].drop_duplicates(subset=[PATH])
    for b in others.itertuples():
        assert any(dominates(a, b) or (a.cost == b.cost and a.worst_margin == b.worst_margin) for a in rows)
    assert front["cost"].is_monotonic_increasing
    assert front["worst_margin"].is_monotonic_increasing
    assert (result.out_dir / "pareto.csv").is_file()


def test_the_cli_runs_a_search_and_resumes_it(tiny_scenario_file, tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({**SPACE, "trials": 3, "replications": 2}))
    out = tmp_path / "cli"
    args = [
        "optimize",
        str(tiny_scenario_file),
        str(space),
        "--out",
        str(out),
        "--confirm-replications",
        "3",
        "--confirm-top",
        "1",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "trial 0:" in captured.err
    assert "study tiny" in captured.out
    assert main([*args, "--trials", "4", "--no-progress"]) == 0
    assert "4 distinct plans" in capsys.readouterr().out
    assert read_space(space).trials == 3


def test_clearly_infeasible_is_a_one_sided_test_per_target():
    levels = {"a": 0.8, "b": 0.9}
    assert clearly_infeasible({"a": [0.5, 0.52, 0.49], "b": [1.0, 1.0, 1.0]}, levels).startswith("target 'a'")
    assert clearly_infeasible({"a": [0.5, 0.52], "b": [1.0, 1.0]}, levels) is None  # too few replications
    assert clearly_infeasible({"a": [0.5, 0.95, 0.6], "b": [1.0] * 3}, levels) is None  # too noisy to say
    assert clearly_infeasible({"a": [0.81, 0.85, 0.9], "b": [0.95] * 3}, levels) is None  # met
    assert clearly_infeasible({"a": [0.7] * 3, "b": [0.95] * 3}, levels) is not None  # no spread, below
    # More looks make each test stricter (Bonferroni).
    x = {"a": [0.74, 0.75, 0.73], "b": [1.0] * 3}
    assert clearly_infeasible(x, levels, looks=1) is not None
    assert clearly_infeasible(x, levels, looks=100) is None
    assert clearly_infeasible({"a": [float("nan")] * 5, "b": [1.0] * 5}, levels) is None


def test_a_space_file_round_trip(tmp_path):
    path = write_scenario(
        tmp_path / "space.yaml",
        {
            "variables": {
                PATH: {"int": [0, 500], "step": 50},
                "policies.routing": {"choice": [{"name": "longest_idle"}, {"name": "priority"}, "x"]},
                "groups.agents.hourly_cost": {"float": [10, 40], "log": True},
            },
            "objective": "labor_cost_per_week",
        },
    )
    space = read_space(path)
    assert [v.path for v in space.variables] == [PATH, "policies.routing", "groups.agents.hourly_cost"]
    assert space.variables[1].labels == ("longest_idle", "priority", "x")
    assert space.variable('groups["agents"].staffing.always') is space.variables[0]
    assert space.fingerprint() != _space().fingerprint()
    with pytest.raises(ScenarioError, match="space file not found"):
        read_space(Path(tmp_path / "missing.yaml"))


def test_an_every_interval_target_is_constrained_by_its_worst_interval():
    """Its status is read from the worst interval, so its constraint must be too (the pooled figure can pass)."""
    import copy

    import pandas as pd

    from experiments.optimize.evaluate import _Values, target_sources
    from experiments.scenario_files import scenario_from_dict
    from tests.conftest import TINY_SCENARIO

    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"] = [
        {"name": "week", "threshold": "20s", "level": 0.8},
        {"name": "hourly", "threshold": "20s", "level": 0.8, "aggregation": "every_interval"},
    ]
    scenario = scenario_from_dict(data)
    assert target_sources(scenario) == {"week": "target_attainment", "hourly": "target_worst_interval"}
    metrics = pd.DataFrame(
        {
            "metric": ["recurring_cost_per_week", "target_attainment", "target_attainment", "target_worst_interval"],
            "scope": ["all", "target=week", "target=hourly", "target=hourly"],
            "value": [100.0, 0.9, 0.9, 0.5],
        }
    )
    values = _Values("recurring_cost_per_week", {"week": 0.8, "hourly": 0.8}, target_sources(scenario))
    values.add(metrics, 0)
    constraints = values.constraints()
    assert constraints["week"] == pytest.approx(-0.1)
    assert constraints["hourly"] == pytest.approx(0.3)


def test_an_every_interval_target_is_a_constraint_on_its_worst_interval(tmp_path):
    """Its status is read from the worst interval (run, compare): a plan whose pooled window is fine but whose worst
    half-hour is not must not be feasible, nor confirmed as meeting it."""
    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"].append(
        {
            "name": "every hour",
            "channel": "voice",
            "threshold": "20s",
            "level": 0.8,
            "window": {"start": "08:00", "end": "16:00"},
            "aggregation": "every_interval",
        }
    )
    scenario = scenario_from_dict(data)
    measured: list[str] = []

    def measure(result, scenario_):
        rows = [("recurring_cost_per_week", "all", 100.0 * scenario_.groups["agents"].staffing["always"])]
        for target in scenario_.targets:
            rows.append(("target_attainment", f"target={target.name}", 0.95 + 0.01 * (result.replication % 2)))
        rows.append(("target_worst_interval", "target=every hour", 0.5 + 0.01 * (result.replication % 2)))
        measured.append(result.replication)
        return pd.DataFrame(rows, columns=["metric", "scope", "value"])

    def simulate(scenario_, *, seed, replication, log, replay):
        return type("Result", (), {"replication": replication})()

    space = _space(variables={PATH: {"int": [1, 2]}}, replications=4, trials=2)
    result = optimize(
        scenario, space, out_dir=tmp_path / "w", confirm_replications=4, simulate=simulate, measure=measure
    )
    assert not result.trials["feasible"].any()
    assert (result.trials["every hour"] < 0.6).all()
    assert result.trials["note"].str.contains("every hour").all()  # pruned on the worst interval
    assert result.best is None
    assert result.confirmation.empty


def test_a_second_worker_waits_for_the_fingerprint_of_a_study_being_created(tmp_path):
    """Two workers starting at once: the second may find the study before its creator stored the fingerprint."""
    import threading

    import optuna

    from experiments.optimize.study import _ccsim_attrs, _storage

    rdb = _storage(f"sqlite:///{tmp_path / 'study.db'}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=rdb, study_name="shared")
    study_id = rdb.get_study_id_from_name("shared")
    timer = threading.Timer(0.3, lambda: study.set_user_attr("ccsim", {"format": "x"}))
    timer.start()
    try:
        assert _ccsim_attrs(rdb, study_id, wait_s=10.0) == {"format": "x"}  # waited for it
    finally:
        timer.cancel()
    # A study without fingerprint that already has trials was made by something else: no wait.
    foreign = optuna.create_study(storage=rdb, study_name="foreign")
    foreign.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    t0 = time.monotonic()
    assert _ccsim_attrs(rdb, rdb.get_study_id_from_name("foreign"), wait_s=10.0) is None
    assert time.monotonic() - t0 < 2.0
    # An empty study nobody fingerprints is refused once the wait is over.
    optuna.create_study(storage=rdb, study_name="empty")
    assert _ccsim_attrs(rdb, rdb.get_study_id_from_name("empty"), wait_s=0.3) is None
