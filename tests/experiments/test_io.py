"""Scenario loading and its error messages, atomic writes, hashes and manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.files import write_atomic, write_json, write_parquet
from experiments.provenance import manifest, scenario_dict, scenario_hash
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import describe_scenario, list_scenarios, load_scenario
from sim.config import Scenario
from tests.conftest import write_scenario

BAD_INPUTS = sorted((Path(__file__).parent / "bad_inputs").glob("*.yaml"))


def _expectations(path: Path) -> tuple[list[str], int | None]:
    """The ``# expect:`` fragments and ``# expect-line:`` of a bad input file's header comments."""
    text = path.read_text(encoding="utf-8")
    fragments = re.findall(r"^# expect: (.+)$", text, flags=re.MULTILINE)
    line = re.search(r"^# expect-line: (\d+)$", text, flags=re.MULTILINE)
    return fragments, int(line.group(1)) if line else None


def test_bad_input_suite_is_complete():
    names = {p.stem for p in BAD_INPUTS}
    assert {
        "unknown_key",
        "wrong_unit",
        "negative_duration",
        "unknown_channel_in_group",
        "unknown_skill_in_group",
        "shift_longer_than_day",
        "empty",
        "yaml_syntax_error",
        "bare_number_duration",
        "not_a_mapping",
    } <= names
    for path in BAD_INPUTS:
        assert _expectations(path)[0], f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BAD_INPUTS, ids=lambda p: p.stem)
def test_bad_input_error_names_file_path_and_problem(path: Path):
    fragments, line = _expectations(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    if line is not None:
        assert f"{path}:{line}:" in message
    for problem in message.splitlines():  # one problem per line, each locating itself
        assert problem.startswith(str(path))


@pytest.mark.parametrize("path", BAD_INPUTS, ids=lambda p: p.stem)
def test_cli_validate_bad_input_exits_1_without_traceback(path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert _expectations(path)[0][0] in err
    assert "Traceback" not in err


@pytest.mark.parametrize("path", BAD_INPUTS, ids=lambda p: p.stem)
def test_cli_run_bad_input_writes_nothing(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "x"
    assert main(["run", str(path), "--out", str(out), "--workers", "1"]) == 2
    captured = capsys.readouterr()
    assert _expectations(path)[0][0] in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()


def test_root_validator_problems_are_split_one_per_line(tmp_path: Path, tiny_scenario_data: dict):
    tiny_scenario_data["groups"]["agents"]["channels"] = ["chat"]
    tiny_scenario_data["groups"]["agents"]["skills"] = {"billing": 1.0}
    path = write_scenario(tmp_path / "two.yaml", tiny_scenario_data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert any("groups.agents.channels: unknown channel 'chat'; known: ['voice']" in p for p in problems)
    assert any("groups.agents.skills: unknown intent 'billing'; known: ['general']" in p for p in problems)
    assert all(p.startswith(f"{path}:") for p in problems)


def test_each_structured_problem_lands_on_its_own_yaml_line(tmp_path: Path, tiny_scenario_data: dict):
    tiny_scenario_data["groups"]["agents"]["skills"]["billing"] = 1.0
    tiny_scenario_data["targets"][0]["channel"] = "chat"
    path = write_scenario(tmp_path / "two.yaml", tiny_scenario_data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = path.read_text().splitlines()
    skills = next(i for i, text in enumerate(lines, 1) if text.strip() == "skills:")
    channel = next(i for i, text in enumerate(lines, 1) if text.strip() == "channel: chat")
    assert info.value.problems == [
        f"{path}:{skills}: groups.agents.skills: unknown intent 'billing'; known: ['general']",
        f"{path}:{channel}: targets[0].channel: unknown channel 'chat'; known: ['voice']",
    ]


def test_problems_without_a_dotted_path_or_with_odd_names_get_their_own_line(tmp_path: Path, tiny_scenario_data: dict):
    # The old "; "-joined text was split by a regex that glued "approvals: ..." onto the previous problem and
    # could not locate a key with a space in it.
    tiny_scenario_data["groups"] = {"tier 1": tiny_scenario_data["groups"]["agents"]}
    tiny_scenario_data["groups"]["tier 1"]["staffing"]["night"] = 1
    tiny_scenario_data["approvals"] = {"billing": {"share": 0.1, "amount_mean": 10}}
    path = write_scenario(tmp_path / "odd.yaml", tiny_scenario_data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}:{_line(path, 'staffing')}: groups.tier 1.staffing: unknown shift 'night'; known: ['always']",
        f"{path}:{_line(path, 'approvals')}: approvals: unknown intent 'billing'; known: ['general']",
    ]


def test_union_alternatives_are_merged(tmp_path: Path, tiny_scenario_data: dict):
    tiny_scenario_data["arrivals"]["channels"]["voice"]["intraday"] = "flatt"
    path = write_scenario(tmp_path / "intraday.yaml", tiny_scenario_data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}:{_line(path, 'intraday')}: arrivals.channels.voice.intraday: expected a valid list or 'flat', "
        "got 'flatt'"
    ]


def _line(path: Path, key: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if f"{key}:" in text)


def test_unquoted_times_of_day_stay_times(tmp_path: Path):
    # YAML 1.1 reads 16:30 as the base-60 integer 990; scenario files must not.
    text = (Path(__file__).parent / "bad_inputs" / "shift_longer_than_day.yaml").read_text()
    text = text.replace('{start: "00:00", length: 30h}', "{start: 16:30, length: 8h}")
    path = tmp_path / "unquoted.yaml"
    path.write_text(text)
    scenario, _ = load_scenario(path)
    assert scenario.shifts["always"].start == 16 * 3600 + 30 * 60


def test_missing_file_and_unknown_name_list_bundled(tmp_path: Path):
    with pytest.raises(ScenarioError, match=r"no such file or bundled scenario; bundled scenarios: .*ecommerce_24x7"):
        load_scenario("ecommerce_24x8")
    with pytest.raises(ScenarioError, match=r"file not found; bundled scenarios: .*erlang_c_textbook"):
        load_scenario(tmp_path / "missing.yaml")


def test_load_by_name_and_by_path_agree():
    by_name, base_dir = load_scenario("ecommerce_24x7")
    by_path, _ = load_scenario(base_dir / "ecommerce_24x7.yaml")
    assert by_name == by_path
    assert base_dir.name == "scenarios"


@pytest.mark.parametrize("name", [name for name, _ in list_scenarios()])
def test_bundled_scenarios_validate(name: str):
    scenario, _ = load_scenario(name)
    assert scenario.name == name
    assert describe_scenario(scenario).startswith(f"{name}: ")


def test_flagship_scenario_shape():
    scenario, _ = load_scenario("ecommerce_24x7")
    assert set(scenario.channels) == {"voice", "chat", "email", "social"}
    assert scenario.channels["chat"].concurrency == 3
    assert {"order_status", "product_question", "refund", "technical", "complaint"} == set(scenario.intents)
    assert scenario.start.weekday() == 0
    assert scenario.horizon == 7 * 86400
    assert {s.start for s in scenario.shifts.values()} == {0.0, 8 * 3600.0, 16 * 3600.0}
    assert all(s.length == 8 * 3600 and s.breaks for s in scenario.shifts.values())
    assert all(g.rest_days == 2 and g.absenteeism == pytest.approx(0.05) for g in scenario.groups.values())
    assert scenario.customers.vip_share == pytest.approx(0.05)
    assert scenario.customers.languages == {"zh": 0.7, "en": 0.3}
    thresholds = {t.threshold for t in scenario.targets}
    assert {300.0, 480.0, 900.0, 20.0, 86400.0} <= thresholds
    assert 3000 <= sum(c.daily_volume for c in scenario.arrivals.channels.values()) <= 10000
    assert scenario.arrivals.promotions
    assert scenario.arrivals.busyness_cv == pytest.approx(0.1)
    assert any(g.concurrency == 3 for g in scenario.groups.values())
    assert any(g.occupancy_cap < 1.0 for g in scenario.groups.values())
    # Policies and the stages they need: a chat bot, approvals with a team-lead pool, night premiums.
    assert set(scenario.bots) == {"chat"}
    assert scenario.bots["chat"].context
    assert set(scenario.approvals) == {"refund", "complaint"}
    assert scenario.team_leads.count >= 1
    assert all(g.night_premium > 0 for g in scenario.groups.values())
    assert (scenario.policies.routing.name, scenario.policies.deflection.name, scenario.policies.empowerment.name) == (
        "priority", "bot_intents", "authority_limit"
    )


def test_list_scenarios_has_descriptions():
    listed = dict(list_scenarios())
    assert "ecommerce_24x7" in listed
    assert "erlang_c_textbook" in listed
    assert all(listed.values())


def test_scenario_hash_is_canonical(tiny_scenario: Scenario, tiny_scenario_data: dict):
    reordered = dict(reversed(list(tiny_scenario_data.items())))
    assert scenario_hash(Scenario.model_validate(reordered)) == scenario_hash(tiny_scenario)
    # The same duration written differently is the same scenario.
    tiny_scenario_data["horizon"] = "24h"
    assert scenario_hash(Scenario.model_validate(tiny_scenario_data)) == scenario_hash(tiny_scenario)
    tiny_scenario_data["groups"]["agents"]["staffing"] = {"always": 3}
    assert scenario_hash(Scenario.model_validate(tiny_scenario_data)) != scenario_hash(tiny_scenario)


def test_scenario_dump_reloads_equal(tmp_path: Path):
    scenario, _ = load_scenario("ecommerce_24x7")
    path = write_json(tmp_path / "scenario.json", scenario_dict(scenario))
    reloaded, _ = load_scenario(path)
    assert reloaded == scenario
    assert scenario_hash(reloaded) == scenario_hash(scenario)


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "sub" / "f.parquet"
    frame = pd.DataFrame({"a": [1, 2]})
    write_parquet(target, frame)
    pd.testing.assert_frame_equal(pd.read_parquet(target), frame)
    assert [p.name for p in target.parent.iterdir()] == ["f.parquet"]
    assert target.stat().st_mode & 0o644 == 0o644  # not mkstemp's private 0600


def test_write_atomic_failure_keeps_old_file(tmp_path: Path):
    target = tmp_path / "out.json"
    write_json(target, {"v": 1})

    def broken(tmp: Path) -> None:
        tmp.write_text('{"v": 2, "trunc')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, broken)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_manifest_fields(tiny_scenario: Scenario):
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    data = manifest(scenario=tiny_scenario, seed=7, replications=[2, 0, 1], started=now, finished=now, argv=["x"])
    assert data["scenario"] == "tiny"
    assert data["scenario_hash"] == scenario_hash(tiny_scenario)
    assert data["seed"] == 7
    assert data["replications"] == [0, 1, 2]
    assert data["n_replications"] == 3
    assert data["started"] == "2026-01-02T03:04:05+00:00"
    assert data["command"] == ["x"]
    assert {"ccsim", "simpy", "numpy", "pandas", "pydantic", "python"} <= set(data["versions"])
    assert isinstance(data["git"], dict)
    json.dumps(data)


def test_git_state_without_repository(tmp_path: Path):
    from experiments.provenance import git_state

    assert git_state(tmp_path) == {}
