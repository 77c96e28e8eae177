"""The bad-input corpus for scenario files (issue: hostile input): every category gets a clear message, no traceback,
bounded time and memory, and nothing written.

Each case builds its file in ``tmp_path`` (no large or binary files are committed) and names the category of the
issue it covers; :func:`test_every_category_is_covered` keeps the list complete. Replay logs and output folders
have their own corpora (``test_bad_replay.py``, ``test_run_folders.py``).
"""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from experiments.cli import main
from experiments.scenario_files import MAX_DEPTH, MAX_FILE_BYTES, load_scenario
from sim.budget import LIMITS, estimate, scenario_warnings
from tests.conftest import TINY_SCENARIO

Build = Callable[[Path], Path]


def _tiny(**changes: Any) -> dict[str, Any]:
    """TINY_SCENARIO with ``a__b__c=value`` changes (list indices as digits)."""
    data = copy.deepcopy(TINY_SCENARIO)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return data


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _text(text: str | bytes) -> Build:
    def build(folder: Path) -> Path:
        path = folder / "scenario.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    return build


BASE = _yaml(TINY_SCENARIO)
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['x'] * 9)}]\n"
    for prev, name in zip([None, "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)

# id -> (category of the issue, file builder, fragments the message must hold)
CASES: dict[str, tuple[str, Build, list[str]]] = {
    "nested_flow_lists": ("deeply nested YAML", _text("name: " + "[" * 5000 + "]" * 5000), ["nesting depth"]),
    "nested_mappings": (
        "deeply nested YAML",
        _text(BASE.replace("name: tiny", "name: " + "{a: " * 40 + "1" + "}" * 40)),
        [f"nesting deeper than {MAX_DEPTH} levels"],
    ),
    "nested_block_mappings": (
        "deeply nested YAML",
        _text("description:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "x: 1\n"),
        [f"nesting deeper than {MAX_DEPTH} levels"],
    ),
    "alias_bomb_under_unknown_key": ("deeply nested YAML", _text(BOMB + BASE), ["expands (through aliases)"]),
    "alias_bomb_as_duration": (
        "deeply nested YAML",
        _text(BOMB.replace("a: &a", "z: &a") + BASE.replace("horizon: 1d", "horizon: *g")),
        ["expands (through aliases)"],
    ),
    "nul_byte": ("unreadable bytes", _text(BASE.encode().replace(b"tiny", b"ti\x00ny", 1)), [":1:9:", "U+0000"]),
    "escape_byte": ("unreadable bytes", _text(BASE.replace("One voice", "One \x1b[31mvoice")), ["U+001B"]),
    "latin1_byte": ("unreadable bytes", _text(BASE.encode().replace(b"tiny", b"ti\xe9ny", 1)), [":1:9:", "0xe9"]),
    "binary_file": ("unreadable bytes", _text(bytes(range(256)) * 4), ["is not UTF-8 text"]),
    "list_as_key": ("non-scalar mapping keys", _text(BASE + "? [a, b]\n: 1\n"), ["a key must be a name, not a list"]),
    "mapping_as_key": ("non-scalar mapping keys", _text("{a: 1}: 2\n"), ["a key must be a name, not a mapping"]),
    "list_as_group_name": (
        "non-scalar mapping keys",
        _text(BASE.replace("groups:\n", "groups:\n  ? [x]\n  : {}\n")),
        ["a key must be a name, not a list"],
    ),
    "cv_1e200": (
        "distribution parameters at the edges",
        _text(_yaml(_tiny(intents__general__handle={"dist": "lognormal", "mean": "3min", "cv": 1e200}))),
        ["intents.general.handle.cv", "less than or equal to 100"],
    ),
    "cv_1e-200": (
        "distribution parameters at the edges",
        _text(_yaml(_tiny(intents__general__handle={"dist": "gamma", "mean": "3min", "cv": 1e-200}))),
        ["intents.general.handle.cv", "greater than or equal to 0.001"],
    ),
    "cv_infinite": (
        "distribution parameters at the edges",
        _text(BASE.replace("dist: exponential\n      mean: 3min", "dist: lognormal\n      mean: 3min\n      cv: .inf")),
        ["cv: must be a finite number"],
    ),
    "mean_1e400s": (
        "distribution parameters at the edges",
        _text(BASE.replace("mean: 3min", "mean: 1e400s")),
        ["intents.general.handle.mean", "at most 1e+09s"],
    ),
    "share_nan": ("distribution parameters at the edges", _text(BASE.replace("0.1", ".nan")), ["finite number"]),
    "year_1": ("calendar extremes", _text(BASE.replace("2026-11-09T00:00", "0001-01-01T00:00")), ["start:", "1900"]),
    "year_9999": ("calendar extremes", _text(BASE.replace("2026-11-09T00:00", "9999-12-31T00:00")), ["2200"]),
    "time_zone_on_start": (
        "calendar extremes",
        _text(BASE.replace("2026-11-09T00:00", "2026-11-09T00:00+02:00")),
        ["start: a time zone offset is not supported"],
    ),
    "volume_1e12": (
        "absurd volumes or populations",
        _text(_yaml(_tiny(arrivals__channels__voice__daily_volume=1e12))),
        ["arrivals:", "contacts per replication are expected", "at most 10.0 million"],
    ),
    "volume_1e300": (
        "absurd volumes or populations",
        _text(_yaml(_tiny(arrivals__channels__voice__daily_volume=1e300))),
        ["about 1e+300 contacts"],
    ),
    "a_billion_agents": (
        "absurd volumes or populations",
        _text(_yaml(_tiny(groups__agents__staffing={"always": 10**9}))),
        ["1,000,000,000 agents on the roster; at most 100,000"],
    ),
    "twenty_thousand_groups_compact": (
        "absurd volumes or populations",
        _text(
            BASE.split("groups:")[0]
            + "groups:\n"
            + "".join(f"  g{i}: {{channels: [voice], skills: {{general: 1}}, languages: [en], staffing: {{always: 0}}}}\n"
                      for i in range(20_000))
            + "targets: []\n"
        ),
        ["the file is over 1 MiB"],
    ),
    "two_thousand_groups": (
        "absurd volumes or populations",
        _text(
            BASE.split("groups:")[0]
            + "groups:\n"
            + "".join(f"  g{i}: {{channels: [voice], skills: {{general: 1}}, languages: [en], staffing: {{always: 0}}}}\n"
                      for i in range(2_000))
            + "targets: []\n"
        ),
        ["2,000 agent groups; at most 1,000"],
    ),
    "twenty_thousand_groups_by_alias": (
        "absurd volumes or populations",
        _text(
            BASE.split("groups:")[0]
            + "groups:\n  g0: &x {channels: [voice], skills: {general: 1}, languages: [en], staffing: {always: 0}}\n"
            + "".join(f"  g{i}: *x\n" for i in range(1, 20_000))
            + "targets: []\n"
        ),
        ["groups: 20,000 agent groups; at most 1,000"],
    ),
    "population_1e30": (
        "absurd volumes or populations",
        _text(_yaml(_tiny(customers={"languages": {"en": 1.0}, "population": 10**30}))),
        ["customers.population: must be less than or equal to 1000000000000"],
    ),
    "horizon_100_years": (
        "bounded resources",
        _text(_yaml(_tiny(horizon="36500d"))),
        ["horizon:", "at most 1e+09s"],
    ),
    "horizon_10_years": (
        "bounded resources",
        _text(_yaml(_tiny(horizon="3650d"))),
        ["horizon: 3650d is longer than the 1098d ccsim simulates"],
    ),
    "interval_1s_over_a_week": (
        "bounded resources",
        _text(_yaml(_tiny(horizon="7d", reporting={"interval": "1s"}))),
        ["reporting.interval", "2,419,200 rows of the interval table; at most 2,000,000"],
    ),
    "file_over_1_mib": (
        "bounded resources",
        _text(BASE + "# " + "x" * MAX_FILE_BYTES + "\n"),
        ["the file is over 1 MiB"],
    ),
    "boolean_concurrency": (
        "nothing accepted that is wrong",
        _text(BASE.replace("kind: live", "kind: live\n    concurrency: true")),
        ["channels.voice.concurrency: must be a valid integer, got True"],
    ),
    "boolean_volume": (
        "nothing accepted that is wrong",
        _text(_yaml(_tiny(arrivals__channels__voice__daily_volume=True))),
        ["daily_volume: must be a valid number, got True"],
    ),
    "fractional_headcount": (
        "nothing accepted that is wrong",
        _text(_yaml(_tiny(groups__agents__staffing={"always": 2.5}))),
        ["groups.agents.staffing.always: must be a valid integer"],
    ),
    "infinite_cost": (
        "nothing accepted that is wrong",
        _text(BASE.replace("hourly_cost: 30", "hourly_cost: .inf")),
        ["groups.agents.hourly_cost: must be a finite number"],
    ),
    "duplicate_target_name": (
        "nothing accepted that is wrong",
        _text(_yaml(_tiny(targets=[TINY_SCENARIO["targets"][0]] * 2))),
        ["targets[1].name: duplicate target name 'voice 80/20'"],
    ),
    "control_character_in_name": (
        "nothing accepted that is wrong",
        _text(BASE.replace("name: tiny", 'name: "ti\\x1b[2Jny"')),
        ["name:", "holds a control character"],
    ),
}

CATEGORIES = {
    "deeply nested YAML",
    "unreadable bytes",
    "non-scalar mapping keys",
    "distribution parameters at the edges",
    "calendar extremes",
    "absurd volumes or populations",
    "bounded resources",
    "nothing accepted that is wrong",
}
"""The scenario-file categories of the issue; replay logs and output folders are covered in their own files."""


def test_every_category_is_covered():
    assert {category for category, _, _ in CASES.values()} == CATEGORIES


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_scenario_is_refused_cleanly(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    _, build, fragments = CASES[case]
    path = build(tmp_path)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    out_dir = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out_dir), "-r", "1", "--workers", "1", "--no-progress"]) == 2
    run_err = capsys.readouterr().err
    for message in (err, run_err):
        assert "Traceback" not in message
        assert str(path) in message
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert len(message) < 2_000, "an error message must never echo an unbounded value"
    assert not out_dir.exists()


_MEMORY_CAP = 1_500 * 2**20


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_CAP, _MEMORY_CAP))


@pytest.mark.parametrize(
    "case",
    ["alias_bomb_as_duration", "alias_bomb_under_unknown_key", "volume_1e12", "interval_1s_over_a_week",
     "a_billion_agents", "twenty_thousand_groups_compact", "twenty_thousand_groups_by_alias", "two_thousand_groups", "nested_flow_lists"],
)
def test_resource_cases_stay_within_memory_and_time(case: str, tmp_path: Path):
    """In a process capped at 1.5 GB of address space, validation refuses quickly instead of allocating."""
    _, build, fragments = CASES[case]
    path = build(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_capped,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "MemoryError" not in proc.stderr
    assert fragments[0] in proc.stderr


# ------------------------------------------------------------------------------------------------- warnings


def _warnings_of(data: dict[str, Any]) -> list[str]:
    from experiments.scenario_files import scenario_from_dict

    return scenario_warnings(scenario_from_dict(data))


def test_warning_for_a_channel_no_group_serves(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = _tiny()
    data["channels"]["email"] = {"kind": "deferrable"}
    path = tmp_path / "sc.yaml"
    path.write_text(_yaml(data))
    assert main(["validate", str(path)]) == 0
    assert "warning: channels.email: no agent group serves this channel" in capsys.readouterr().out
    assert not any("channels.email" in w for w in _warnings_of(_tiny()))


def test_warning_for_an_empty_roster_and_an_unspoken_language():
    assert "groups: every group has 0 agents on the roster" in " ".join(
        _warnings_of(_tiny(groups__agents__staffing={"always": 0}))
    )
    data = _tiny()
    data["customers"]["languages"] = {"en": 1.0, "fr": 0.0001}
    data["groups"]["fr_desk"] = {**data["groups"]["agents"], "languages": ["fr"], "staffing": {"always": 0}}
    assert not any("languages" in w for w in _warnings_of(data))
    data["groups"].pop("fr_desk")
    # A language customers speak that no agent speaks is refused outright where contacts arrive in it (they could
    # only wait); with no arrivals it is a warning.
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 0
    assert any("customers.languages.fr: no agent group speaks 'fr'" in w for w in _warnings_of(data))


def _overloaded(volume: float, patience: dict[str, Any] | None = None) -> dict[str, Any]:
    """Two agents, 3 min calls (capacity 960 a day), three days."""
    return _tiny(
        horizon="3d",
        warmup="0s",
        arrivals__channels__voice__daily_volume=volume,
        channels__voice__patience=patience or {"dist": "none"},
    )


def test_validate_warns_where_load_exceeds_capacity():
    over = " ".join(_warnings_of(_overloaded(1440)))
    assert "channels.voice: offered load exceeds the agents on duty in 72 of 72 hours" in over
    assert "3.0 agents' worth of work for 2.0 on duty" in over
    assert "the queue grows without bound" in over
    assert _warnings_of(_overloaded(720)) == []
    # Abandonment keeps the queue bounded: still over capacity, but said differently.
    patient = " ".join(_warnings_of(_overloaded(1440, {"dist": "exponential", "mean": "5min"})))
    assert "only stays bounded because customers abandon" in patient


def test_backlog_estimate_matches_a_run():
    """The expected backlog at the end (arrivals minus rostered capacity / mean handle) against a simulation."""
    from experiments.scenario_files import scenario_from_dict
    from sim.engine import run

    scenario = scenario_from_dict(_overloaded(1920))  # twice the capacity
    expected = estimate(scenario).backlog
    assert expected == pytest.approx(1920 * 3 / 2)
    result = run(scenario, seed=3, replication=0)
    waiting = int(result.intervals["censored"].sum())
    # Waiting at the end = arrivals (Poisson) - services (2 agents x 3 days / Exp(3 min), about Poisson): the
    # variance is about the sum of their means; 4 standard deviations.
    assert abs(waiting - expected) < 4 * (1920 * 3 + 960 * 3) ** 0.5


def test_overloaded_run_is_named_in_cli_summary_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "over.yaml"
    path.write_text(_yaml(_overloaded(1920)))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "-r", "2", "--workers", "1", "--no-progress"]) == 0
    printed = capsys.readouterr()
    assert "OVERLOADED: channel voice" in printed.out
    assert "the queue grows without bound" in printed.err  # the scenario check, before the run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overloaded"] is True
    assert any(w.startswith("OVERLOADED: channel voice") for w in manifest["warnings"])
    summary = (out / "summary.csv").read_text()
    assert "backlog_h,channel=voice" in summary

    stable = tmp_path / "stable.yaml"
    stable.write_text(_yaml(_overloaded(600)))
    assert main(["run", str(stable), "--out", str(tmp_path / "s"), "-r", "2", "--workers", "1", "--no-progress"]) == 0
    assert "OVERLOADED" not in capsys.readouterr().out
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["overloaded"] is False


def test_memory_estimate_counts_the_backlog_and_the_log():
    from experiments.scenario_files import scenario_from_dict

    stable = estimate(scenario_from_dict(_overloaded(600)))
    over = estimate(scenario_from_dict(_overloaded(1920)))
    assert stable.backlog == 0
    assert over.backlog > 0
    assert over.memory_bytes() > stable.memory_bytes()
    assert over.memory_bytes(log=True) > over.memory_bytes()


def test_bundled_scenarios_fit_the_limits_without_warnings():
    from experiments.scenario_files import list_scenarios

    for name, _ in list_scenarios():
        scenario, _ = load_scenario(name)
        est = estimate(scenario)
        assert est.memory_bytes(log=True) < LIMITS.memory_bytes
        assert scenario_warnings(scenario) == [], name
