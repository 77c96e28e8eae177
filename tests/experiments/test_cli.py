"""The ``ccsim`` command line: commands, exit codes, printed tables, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.cli import _COMMANDS, _BaseCommand, main
from tests.conftest import write_scenario


def test_commands_registry_and_help(capsys: pytest.CaptureFixture[str]):
    assert {"run", "validate", "scenarios"} <= set(_COMMANDS)
    assert all(issubclass(c, _BaseCommand) and c.__doc__ for c in _COMMANDS.values())
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in _COMMANDS:
        assert name in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["run"],
        ["run", "tiny", "-r", "0"],
        ["run", "tiny", "--seed", "-1"],
        ["run", "tiny", "--workers", "x"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_scenarios_lists_bundled(capsys: pytest.CaptureFixture[str]):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "ecommerce_24x7" in out
    assert "erlang_c_textbook" in out
    assert "24/7" in out


def test_validate_describes_scenario(capsys: pytest.CaptureFixture[str]):
    assert main(["validate", "ecommerce_24x7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ecommerce_24x7")
    for word in ("voice", "chat", "email", "social", "chat_zh", "7d", "Mon 2026-11-09"):
        assert word in out


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    err = capsys.readouterr().err
    assert "file not found" in err
    assert "ecommerce_24x7" in err


def test_run_prints_summary_and_targets(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "run"
    code = main(["run", str(tiny_scenario_file), "-r", "3", "--seed", "4", "--out", str(out), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = captured.out
    assert "n = 3" in text
    assert "±" in text
    assert "asa (s)" in text
    assert "abandon_rate (%)" in text
    rows = target_rows(text)
    assert list(rows) == ["voice 80/20", "urgent 5 min"]
    # The fakes are deterministic: voice 80/20 attains 90.7%, CI 84.3-97.2% (all of it above 80%); urgent 5 min
    # attains 85.7%, CI 79.3-92.2% (it straddles 90%).
    assert rows["voice 80/20"][-1] == "MET"
    assert rows["urgent 5 min"][-1] == "UNCERTAIN"
    for target, cells in rows.items():
        assert cells[-1] == status_from_printed_ci(cells), (target, cells)
    assert "3 replications" in captured.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4
    assert manifest["replications"] == [0, 1, 2]
    assert manifest["command"][:2] == ["ccsim", "run"]


def target_rows(text: str) -> dict[str, list[str]]:
    """The printed FRT targets table: target name -> its cells: filter and window, goal, attained with its CI,
    (worst interval and intervals met, when a target is judged on every interval), status. A row spans several
    lines (the name, then its filter and window; the mean, then its CI); a row starts where the goal is printed."""
    table = text[text.index("FRT targets") :]
    rows: list[list[str]] = []
    for line in table.splitlines():
        if not line.startswith("│"):
            if rows and line.startswith("└"):
                break
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[1]:  # the goal cell: a new target
            rows.append(cells)
        else:
            rows[-1] = [f"{a}\n{b}" if b else a for a, b in zip(rows[-1], cells, strict=True)]
    out = {}
    for cells in rows:
        name, _, where = cells[0].partition("\n")
        out[name] = [where.replace("\n", " "), *(c.replace("\n", " ") for c in cells[1:])]
    return out


def status_from_printed_ci(cells: list[str]) -> str:
    """MET if the printed CI lies at or above the level, NOT MET if below it, else UNCERTAIN."""
    level = float(cells[1].split("%")[0])
    low, high = (float(x) for x in cells[2].split("(")[1].rstrip(")").split("–"))
    return "MET" if low >= level else "NOT MET" if high < level else "UNCERTAIN"


def test_run_resumes_and_reports_reuse(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["run", str(tiny_scenario_file), "--out", str(tmp_path / "run"), "--workers", "1"]
    assert main([*args, "-r", "2"]) == 0
    capsys.readouterr()
    assert main([*args, "-r", "3"]) == 0
    assert "3 replications (2 reused)" in capsys.readouterr().err


def test_run_into_another_experiments_directory_exits_2(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["run", str(tiny_scenario_file), "--out", str(tmp_path / "run"), "--workers", "1", "-r", "1"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--seed", "9"]) == 2
    err = capsys.readouterr().err
    assert "seed 0, not 9" in err
    assert "choose another --out" in err
    assert "Traceback" not in err


def test_run_default_out_dir(
    fake_backends: dict,
    tiny_scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(tiny_scenario_file), "-r", "1", "--workers", "1"]) == 0
    assert (tmp_path / "runs" / "tiny" / "manifest.json").is_file()


def test_run_invalid_scenario_exits_2_and_writes_nothing(
    tiny_scenario_data: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    tiny_scenario_data["groups"]["agents"]["skills"] = {"billing": 1.0}
    path = write_scenario(tmp_path / "bad.yaml", tiny_scenario_data)
    assert main(["run", str(path), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err
    assert "groups.agents.skills" in err
    assert "unknown intent 'billing'" in err
    assert not (tmp_path / "x").exists()


def test_run_with_missing_replay_log_exits_2(
    fake_backends: dict,
    tiny_scenario_data: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    def simulate(scenario, *, seed, replication=0, log=False, replay=None):
        raise AssertionError("unreachable: the log is read and checked before any replication runs")

    monkeypatch.setattr("experiments.runner._default_simulate", lambda: simulate)
    tiny_scenario_data["arrivals"] = {
        "kind": "replay",
        "path": "calls.csv",
        "columns": {"arrival": "t"},
        "defaults": {"channel": "voice", "intent": "general"},
    }
    path = write_scenario(tmp_path / "replay.yaml", tiny_scenario_data)
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--workers", "1", "-r", "1"]) == 2
    err = capsys.readouterr().err
    assert "calls.csv" in err
    assert "Traceback" not in err


def test_engine_run_command(tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["run", str(tiny_scenario_file), "-r", "2", "--out", str(tmp_path / "run"), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "voice 80/20" in captured.out
