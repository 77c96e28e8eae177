"""Replications, reproducibility, run directories, resume and crash safety.

Most tests inject the fakes from ``tests/conftest.py`` (``simulate=``, ``measure=``, ``summarize=``) so that they
test the runner alone; the ``test_engine_*`` tests use the real engine, metrics and stats.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from experiments.provenance import scenario_hash
from experiments.results import target_status as status
from experiments.results import target_table
from experiments.run_dir import RunDirError, replication_dir
from experiments.runner import LONG_COLUMNS, run_experiment, run_replications
from sim.config import Scenario
from sim.result import RunResult
from sim.schema import PRIORITIES, TIERS
from tests.conftest import FAKES, fake_simulate

FRAMES = ("intervals", "staffing", "agents", "frt_hist")


class Recorder:
    """A simulate that records which replications ran and can fail on chosen ones (in-process only)."""

    def __init__(self, fail_on: set[int] = frozenset()) -> None:
        self.calls: list[int] = []
        self.fail_on = set(fail_on)

    def __call__(self, scenario: Scenario, *, seed: int, replication: int = 0, **kwargs) -> RunResult:
        if replication in self.fail_on:
            raise RuntimeError(f"boom in {replication}")
        self.calls.append(replication)
        return fake_simulate(scenario, seed=seed, replication=replication, **kwargs)


def _experiment(scenario: Scenario, out: Path | None, n: int, *, seed: int = 3, simulate=None, **kwargs):
    backends = {**FAKES, "simulate": simulate or fake_simulate}
    return run_experiment(
        scenario, seed=seed, n_replications=n, out_dir=out, workers=1, progress=False, **backends, **kwargs
    )


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


# ---------------------------------------------------------------------------------------- run_replications


def test_run_replications_in_process(tiny_scenario: Scenario):
    seen = []
    got = dict(
        run_replications(
            tiny_scenario, seed=5, replications=[2, 0], workers=1, progress=seen.append, simulate=fake_simulate
        )
    )
    assert sorted(got) == [0, 2]
    assert sorted(seen) == [0, 2]
    expected = fake_simulate(tiny_scenario, seed=5, replication=2)
    pd.testing.assert_frame_equal(got[2].intervals, expected.intervals)


def test_results_do_not_depend_on_worker_count(tiny_scenario: Scenario):
    serial = dict(run_replications(tiny_scenario, seed=9, replications=4, workers=1, simulate=fake_simulate))
    parallel = dict(run_replications(tiny_scenario, seed=9, replications=4, workers=3, simulate=fake_simulate))
    assert sorted(parallel) == [0, 1, 2, 3]
    for rep in range(4):
        for name in FRAMES:
            pd.testing.assert_frame_equal(getattr(serial[rep], name), getattr(parallel[rep], name))


def test_worker_error_names_the_replication(tiny_scenario: Scenario):
    with pytest.raises(RuntimeError, match="boom in 1") as info:
        list(run_replications(tiny_scenario, seed=0, replications=3, workers=1, simulate=Recorder({1})))
    assert any("in replication 1" in note for note in info.value.__notes__)


@pytest.mark.parametrize(
    ("bad", "match"),
    [({"replications": [1, 1]}, "distinct"), ({"replications": [-1]}, ">= 0"), ({"workers": 0}, "workers must be")],
)
def test_run_replications_rejects_bad_arguments(tiny_scenario: Scenario, bad: dict, match: str):
    kwargs = {"seed": 0, "replications": 2, "workers": 1, "simulate": fake_simulate, **bad}
    with pytest.raises(ValueError, match=match):
        list(run_replications(tiny_scenario, **kwargs))


# ------------------------------------------------------------------------------------------ run_experiment


def test_experiment_in_memory(tiny_scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = _experiment(tiny_scenario, None, 3)
    assert list(result.metrics.columns) == list(LONG_COLUMNS)
    assert sorted(result.metrics["replication"].unique()) == [0, 1, 2]
    assert set(result.metrics["scenario"]) == {"tiny"}
    assert set(result.metrics["variant"]) == {"base"}
    assert set(result.metrics["seed"]) == {3}
    assert set(result.summary["n"]) == {3}
    assert sorted(result.intervals["replication"].unique()) == [0, 1, 2]
    assert result.contacts is None
    assert result.out_dir is None
    assert list(tmp_path.iterdir()) == []


def test_run_directory_layout(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    result = _experiment(tiny_scenario, out, 2, log=True, argv=["ccsim", "run", "tiny"])
    expected = {"manifest.json", "scenario.json", "metrics.parquet", "summary.csv"}
    expected |= {f"{name}.parquet" for name in (*FRAMES, "contacts")}
    for rep in ("rep-0000", "rep-0001"):
        expected |= {f"replications/{rep}/{name}.parquet" for name in (*FRAMES, "contacts", "metrics")}
    assert _files(out) == expected
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), result.metrics)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "contacts.parquet"), result.contacts)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["metric", "scope", "mean", "std", "ci_half", "ci_low", "ci_high", "n"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["replications"] == [0, 1]
    assert manifest["scenario_hash"] == scenario_hash(tiny_scenario)
    assert manifest["seed"] == 3
    assert manifest["command"] == ["ccsim", "run", "tiny"]
    assert manifest["finished"]


def test_resume_runs_only_missing_and_matches_fresh_run(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    first = Recorder()
    _experiment(tiny_scenario, out, 3, simulate=first)
    second = Recorder()
    resumed = _experiment(tiny_scenario, out, 5, simulate=second)
    assert sorted(first.calls) == [0, 1, 2]
    assert sorted(second.calls) == [3, 4]
    assert resumed.reused == (0, 1, 2)
    third = Recorder()
    again = _experiment(tiny_scenario, out, 5, simulate=third)
    assert third.calls == []
    assert again.reused == (0, 1, 2, 3, 4)
    fresh = _experiment(tiny_scenario, tmp_path / "fresh", 5)
    pd.testing.assert_frame_equal(resumed.metrics, fresh.metrics)
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary)
    pd.testing.assert_frame_equal(resumed.intervals, fresh.intervals)


def test_crash_keeps_finished_replications(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom in 2"):
        _experiment(tiny_scenario, out, 4, simulate=Recorder({2}))
    assert (replication_dir(out, 0) / "metrics.parquet").is_file()
    assert (replication_dir(out, 1) / "metrics.parquet").is_file()
    assert not replication_dir(out, 2).exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    retry = Recorder()
    result = _experiment(tiny_scenario, out, 4, simulate=retry)
    assert sorted(retry.calls) == [2, 3]
    pd.testing.assert_frame_equal(result.metrics, _experiment(tiny_scenario, tmp_path / "fresh", 4).metrics)


def test_incomplete_replication_folder_is_rerun(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 2)
    (replication_dir(out, 1) / "metrics.parquet").unlink()  # as if killed before its last file
    retry = Recorder()
    _experiment(tiny_scenario, out, 2, simulate=retry)
    assert retry.calls == [1]


def test_asking_for_the_log_reruns_replications_without_it(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 2)
    retry = Recorder()
    result = _experiment(tiny_scenario, out, 2, simulate=retry, log=True)
    assert sorted(retry.calls) == [0, 1]
    assert result.contacts is not None
    assert sorted(result.contacts["replication"].unique()) == [0, 1]


@pytest.mark.parametrize("change", ["seed", "scenario"])
def test_different_experiment_in_same_directory_is_refused(
    tiny_scenario: Scenario, tiny_scenario_data: dict, tmp_path: Path, change: str
):
    out = tmp_path / "run"
    _experiment(tiny_scenario, out, 2)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    seed, scenario = 3, tiny_scenario
    if change == "seed":
        seed = 4
    else:
        tiny_scenario_data["groups"]["agents"]["staffing"] = {"always": 3}
        scenario = Scenario.model_validate(tiny_scenario_data)
    with pytest.raises(RunDirError, match=f"{change}.*choose another --out"):
        _experiment(scenario, out, 2, seed=seed)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_directory_without_results_can_be_reused(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom in 0"):
        _experiment(tiny_scenario, out, 2, simulate=Recorder({0}))  # manifest written, no replication finished
    result = _experiment(tiny_scenario, out, 2, seed=8)  # e.g. fixed the scenario or changed the seed
    assert result.reused == ()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 8


def test_unrelated_directory_is_refused(tiny_scenario: Scenario, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not a ccsim run directory"):
        _experiment(tiny_scenario, tmp_path, 1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_bad_arguments_create_nothing(tiny_scenario: Scenario, tmp_path: Path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="n_replications >= 1"):
        _experiment(tiny_scenario, out, 0)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_experiment(tiny_scenario, n_replications=1, out_dir=out, workers=0, progress=False, **FAKES)
    assert not out.exists()


def test_parallel_experiment_matches_serial(tiny_scenario: Scenario, tmp_path: Path):
    parallel = run_experiment(
        tiny_scenario, seed=3, n_replications=3, out_dir=tmp_path / "p", workers=2, progress=False, **FAKES
    )
    serial = _experiment(tiny_scenario, tmp_path / "s", 3)
    pd.testing.assert_frame_equal(parallel.metrics, serial.metrics)
    pd.testing.assert_frame_equal(parallel.agents, serial.agents)


# ------------------------------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("mean", "low", "high", "level", "expected"),
    [
        (0.95, 0.92, 0.98, 0.9, "MET"),
        (0.85, 0.80, 0.89, 0.9, "NOT MET"),
        (0.90, 0.88, 0.92, 0.9, "UNCERTAIN"),
        (1.0, 1.0, 1.0, 1.0, "MET"),
        (0.95, float("nan"), float("nan"), 0.9, "UNCERTAIN"),
        (float("nan"), float("nan"), float("nan"), 0.9, "NO DATA"),
    ],
)
def test_target_status(mean, low, high, level, expected):
    assert status(mean, low, high, level) == expected


def status_from_ci(ci_low: float, ci_high: float, level: float) -> str:
    """The status a target's CI gives, written independently of ``target_status`` (both bounds known)."""
    assert not math.isnan(ci_low)
    assert not math.isnan(ci_high)
    return "MET" if ci_low >= level else "NOT MET" if ci_high < level else "UNCERTAIN"


def test_target_table_covers_every_target(tiny_scenario: Scenario):
    summary = pd.DataFrame(
        [
            {
                "metric": "target_attainment",
                "scope": "target=voice 80/20",
                "mean": 0.85,
                "std": 0.01,
                "ci_half": 0.02,
                "ci_low": 0.83,
                "ci_high": 0.87,
                "n": 5,
            }
        ]
    )
    table = target_table(summary, tiny_scenario)
    assert list(table["target"]) == ["voice 80/20", "urgent 5 min"]
    assert list(table["status"]) == ["MET", "NO DATA"]
    assert table.loc[0, "threshold_s"] == 20.0
    assert table.loc[1, "priority"] == "urgent"


def test_public_namespace():
    import experiments

    assert set(experiments.__all__) == {
        "ExperimentResult",
        "RunDirError",
        "ScenarioError",
        "describe_scenario",
        "list_scenarios",
        "load_scenario",
        "run_experiment",
        "run_replications",
        "simulate_scenario",
        "target_table",
    }
    assert all(hasattr(experiments, name) for name in experiments.__all__)


def test_errors_survive_pickling():
    import pickle

    from experiments.scenario_errors import ScenarioError

    err = pickle.loads(pickle.dumps(ScenarioError("f.yaml", ["f.yaml:3: a", "f.yaml:4: b"])))
    assert err.problems == ["f.yaml:3: a", "f.yaml:4: b"]
    assert str(err) == "f.yaml:3: a\nf.yaml:4: b"


# ------------------------------------------------------------------------- with the real engine and metrics


def test_engine_experiment_end_to_end(tiny_scenario: Scenario, tmp_path: Path):
    result = run_experiment(
        tiny_scenario, seed=1, n_replications=2, out_dir=tmp_path / "run", workers=1, progress=False
    )
    assert list(result.metrics.columns) == list(LONG_COLUMNS)
    targets = result.targets()
    assert list(targets["target"]) == ["voice 80/20", "urgent 5 min"]
    # Each target's status is the one its own 95% CI gives (both targets have contacts, so neither is NO DATA).
    for row in targets.itertuples():
        assert row.status == status_from_ci(row.ci_low, row.ci_high, row.level), row
    assert (tmp_path / "run" / "summary.csv").is_file()


def test_engine_results_do_not_depend_on_worker_count(tiny_scenario: Scenario):
    serial = dict(run_replications(tiny_scenario, seed=2, replications=2, workers=1))
    parallel = dict(run_replications(tiny_scenario, seed=2, replications=2, workers=2))
    for rep in range(2):
        for name in FRAMES:
            pd.testing.assert_frame_equal(getattr(serial[rep], name), getattr(parallel[rep], name))


def test_intent_target_without_the_contact_log_says_it_needs_the_log():
    from experiments.runner import run_experiment
    from experiments.scenario_files import load_scenario

    scenario, _ = load_scenario("erlang_c_textbook")
    data = scenario.model_dump(mode="json")
    data["horizon"], data["warmup"] = "6h", "0s"
    data["targets"].append({"name": "general only", "intent": "general", "threshold": "20s", "level": 0.8})
    scenario = Scenario.model_validate(data)
    streamed = run_experiment(scenario, seed=1, n_replications=2, workers=1, progress=False).targets()
    assert streamed.set_index("target").status["general only"] == "NEEDS --log"
    logged = run_experiment(scenario, seed=1, n_replications=2, workers=1, progress=False, log=True).targets()
    row = logged.set_index("target").loc["general only"]
    channel = logged.set_index("target").loc["voice 80/20"]
    # With one intent, the intent target equals the channel target: same attainment, CI and status.
    assert row["mean"] == pytest.approx(channel["mean"])
    assert (row.ci_low, row.ci_high) == pytest.approx((channel.ci_low, channel.ci_high))
    assert row.status == channel.status == status_from_ci(row.ci_low, row.ci_high, row.level)


def test_run_directory_has_a_per_interval_table(tmp_path):
    from experiments.runner import run_experiment

    res = run_experiment("erlang_c_textbook", seed=2, n_replications=2, workers=1, progress=False, out_dir=tmp_path / "r")
    table = pd.read_csv(tmp_path / "r" / "interval_table.csv")
    sc = res.scenario
    first = int(sc.measure_start_s // sc.reporting.interval)
    assert first > 0  # the scenario has a warm-up: its intervals are not in the table
    # One row per measured interval x channel x priority x tier.
    assert len(table) == (sc.n_intervals - first) * len(sc.channels) * 2 * 2
    assert table.interval.min() == first
    assert set(zip(table.priority, table.tier, strict=True)) == {(p, t) for p in PRIORITIES for t in TIERS}
    assert {"interval_start", "offered", "sl_20s", "asa_s", "abandon_rate", "queue_len"} <= set(table.columns)
    # Offered per interval and segment is the mean over the replications of the counts.
    measured = res.intervals[res.intervals.interval >= first]
    iv = measured.groupby(["interval", "channel", "priority", "tier"]).offered.mean()
    assert table.offered.to_numpy() == pytest.approx(iv.to_numpy())
    start = pd.Timestamp(sc.start) + pd.Timedelta(seconds=sc.measure_start_s)
    assert table.interval_start.iloc[0] == f"{start:%Y-%m-%d %H:%M:%S}"


def test_the_runner_builds_a_plans_staffing_policy_and_the_engine_calls_in_only_inside_its_window():
    from experiments.runner import simulate_scenario
    from tests.sim.conftest import scenario

    # One agent against 2000 x 100 s a day: a backlog all day. The scenario's staffing is fixed; from 10:00 to
    # 12:00 the plan's reactive policy reviews at once and every 5 min and calls agents in 10 min later.
    params = {"reserve": {"agents": 3}, "max_wait": "1min", "review": "5min", "delay": "10min", "length": "1h"}
    plan = {"name": "midday", "window": {"start": "2026-11-09T10:00", "end": "2026-11-09T12:00"},
            "actions": {"policies": {"staffing": {"name": "reactive_overtime", "params": params}}}}  # fmt: skip
    sc = scenario(
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 2000, "intent_mix": {"general": 1}}}},
        policies={"staffing": {"name": "fixed"}},
        plans=[plan],
    )
    res = simulate_scenario(sc, seed=3, log=True)
    again = simulate_scenario(sc, seed=3, log=True)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(res, name), getattr(again, name))
    reserve = res.agents[res.agents["shift"] == "reserve"]
    assert len(reserve) == 3
    assert reserve["callin_s"].sum() > 0
    contacts = res.contacts[res.contacts["agent_id"].isin(reserve["agent_id"])]
    assert len(contacts) > 0
    # A call at a review t in [36000, 43200) logs in at t + 600 and stays 3600 s (plus the contact in hand).
    assert contacts["service_start_s"].min() == 36600.0  # the review at the plan's start, 10:00
    assert contacts["service_start_s"].max() < 43200.0 + 600.0 + 3600.0
