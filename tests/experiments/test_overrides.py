"""What-if changes by dotted paths: validated like a file, from Python, from YAML files and from ``--set``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.overrides import apply_overrides, parse_path, parse_set, read_overrides
from experiments.provenance import scenario_hash
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import load_scenario


@pytest.fixture(scope="module")
def flagship():
    return load_scenario("ecommerce_24x7")[0]


def test_parse_path():
    assert parse_path("groups.chat_zh.staffing.day") == ("groups", "chat_zh", "staffing", "day")
    assert parse_path("targets[0].level") == ("targets", 0, "level")
    assert parse_path('groups["a.b"].skills') == ("groups", "a.b", "skills")
    assert parse_path("arrivals.promotions[-1]") == ("arrivals", "promotions", -1)
    for bad in ("", "a..b", ".a", "a.[x]", "a[0"):
        with pytest.raises(ValueError, match="path"):
            parse_path(bad)


def test_changes_land_where_the_path_says_and_nowhere_else(flagship):
    changed = apply_overrides(
        flagship,
        {
            "groups.chat_zh.staffing.day": 12,
            "targets[0].level": 0.85,
            "channels.chat.patience.mean": "4min",
            "policies.routing": {"name": "overflow"},
        },
    )
    assert changed.groups["chat_zh"].staffing == {**flagship.groups["chat_zh"].staffing, "day": 12}
    assert changed.targets[0].level == 0.85
    assert changed.channels["chat"].patience.mean_s == 240.0
    assert changed.policies.routing.name == "overflow"
    assert changed.groups["chat_en"] == flagship.groups["chat_en"]
    assert changed.targets[1:] == flagship.targets[1:]
    assert scenario_hash(apply_overrides(flagship, {})) == scenario_hash(flagship)


def test_a_value_replaces_the_whole_value(flagship):
    changed = apply_overrides(flagship, {"groups.chat_zh.staffing": {"day": 20}})
    assert changed.groups["chat_zh"].staffing == {"day": 20}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"groups.chat_zh.stafing.day": 12}, "unknown key 'stafing' at groups.chat_zh (did you mean 'staffing'?)"),
        ({"groups.chat_zh.staffing.dya": 12}, "groups.chat_zh.staffing: unknown shift 'dya'; known: ['day'"),
        ({"groups.chat_zh.staffing.day": "x"}, "groups.chat_zh.staffing.day: must be a valid integer, got 'x'"),
        ({"groups.chat_zh.staffing.day": True}, "must be a valid integer, got True"),
        ({"targets[9].level": 0.5}, "targets is a list of 6 items; no item 9"),
        ({"horizon.x": 1}, "horizon is a single value"),
        ({"groups.nobody.channels": ["chat"]}, "groups has no key 'nobody'"),
        ({"policies.deflection": {"name": "bot_intents"}}, "bad parameters for deflection policy 'bot_intents'"),
        ({"horizon": "1d"}, "arrivals.promotions[0]: 2026-11-11 20:00 to 2026-11-12 00:00 lies outside the horizon"),
    ],
)
def test_bad_changes_get_the_files_messages(flagship, overrides, message):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(flagship, overrides, label="what-if")
    text = str(info.value)
    assert message in text, text
    assert all(line.startswith("what-if") for line in text.splitlines())


def test_every_problem_is_reported_at_once(flagship):
    with pytest.raises(ScenarioError) as info:
        apply_overrides(flagship, {"groups.chat_zh.stafing": 1, "targets[7].level": 1.0})
    assert len(info.value.problems) == 2


def test_override_file_and_set(tmp_path: Path, flagship):
    path = tmp_path / "more.yaml"
    path.write_text("groups.chat_zh.staffing.day: 12\ntargets[0].threshold: 4min\n")
    overrides = read_overrides(path)
    assert overrides == {"groups.chat_zh.staffing.day": 12, "targets[0].threshold": "4min"}
    assert apply_overrides(flagship, overrides).targets[0].threshold == 240.0
    assert parse_set(["groups.a.staffing.day=12", "policies.routing={name: overflow}", "start=16:30"]) == {
        "groups.a.staffing.day": 12,
        "policies.routing": {"name": "overflow"},
        "start": "16:30",
    }
    with pytest.raises(ScenarioError, match="expected path=value"):
        parse_set(["no_equals_sign"])
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(ScenarioError, match="mapping of dotted paths"):
        read_overrides(tmp_path / "list.yaml")


def test_cli_validate_and_run_take_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", "erlang_c_textbook", "--set", "groups.agents.staffing.always=15"]) == 0
    assert "15 agents on the roster" in capsys.readouterr().out
    assert main(["validate", "erlang_c_textbook", "--set", "groups.agents.staffing.alway=15"]) == 1
    assert "--set: groups.agents.staffing: unknown shift 'alway'" in capsys.readouterr().err
    out = tmp_path / "run"
    code = main(
        ["run", "erlang_c_textbook", "-r", "1", "--workers", "1", "--no-progress", "--out", str(out),
         "--set", "horizon=1d", "--set", "groups.agents.staffing.always=16"]
    )
    assert code == 0
    ran = json.loads((out / "scenario.json").read_text())
    assert ran["groups"]["agents"]["staffing"] == {"always": 16}
    assert ran["horizon"] == "1d"


def test_base_notes_say_what_a_list_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "variant.yaml"
    path.write_text(
        "base: ecommerce_24x7\nname: v\narrivals:\n  promotions:\n"
        "    - {start: 2026-11-13T10:00, end: 2026-11-13T12:00, factor: 1.5}\n"
    )
    notes: list[str] = []
    scenario, _ = load_scenario(path, notes=notes)
    assert len(scenario.arrivals.promotions) == 1  # the base's 11.11 promotion is gone: lists are replaced
    assert any("arrivals.promotions: this file's list replaces the base's list of 1 item" in n for n in notes)
    assert main(["validate", str(path)]) == 0
    assert "note: " in capsys.readouterr().out
    notes = []
    load_scenario("ecommerce_24x7", notes=notes)
    assert notes == []
