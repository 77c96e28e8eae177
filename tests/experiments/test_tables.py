"""What ``ccsim run`` prints (experiments.tables): widths, channel kinds apart, labels, counts, shares, next steps."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from experiments.cli import main
from experiments.runner import run_experiment
from experiments.scenario_files import list_scenarios
from experiments.tables import WIDTH, Grid, print_result
from tests.conftest import TINY_SCENARIO, write_scenario

SHARE = re.compile(r"(\d+\.\d)\s*\((\d+\.\d)–(\d+\.\d)\)")


def with_email(data: dict) -> dict:
    """The tiny scenario with a deferrable email channel served by the same agents."""
    data["channels"]["email"] = {"kind": "deferrable"}
    data["arrivals"]["channels"]["email"] = {"daily_volume": 120, "intent_mix": {"general": 1.0}, "intraday": "flat"}
    data["groups"]["agents"]["channels"] = ["voice", "email"]
    data["groups"]["agents"]["staffing"] = {"always": 3}
    data["targets"].append({"name": "email in 1 h", "channel": "email", "threshold": "1h", "level": 0.8})
    return data


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


def parse_tables(text: str) -> list[list[list[str]]]:
    """Every printed table: its header cells (joined over wrapped header lines), then each line's cells."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        header: list[str] = []
        rows = []
        for row in lines[i + 1 :]:
            if row.startswith("┃"):
                cells = [c.strip() for c in row.strip("┃").split("┃")]
                header = cells if not header else [f"{a} {b}".strip() for a, b in zip(header, cells, strict=True)]
            elif row.startswith("│"):
                rows.append([c.strip() for c in row.strip("│").split("│")])
            elif row.startswith("└"):
                break
        out.append([header, *rows])
    return out


def table_after(text: str, title: str) -> list[list[str]]:
    """The first table printed after ``title``."""
    start = text.index(title)
    return parse_tables(text[text.index("┏", start) :])[0]


def run_captured(args: list[str]) -> tuple[str, str]:
    """``main(args)`` with stdout and stderr captured (not a terminal: tables at WIDTH columns)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    assert code == 0, err.getvalue()
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory):
    """``ccsim run`` (real engine) of a live voice and a deferrable email channel, 3 replications, run once."""
    root = tmp_path_factory.mktemp("mixed")
    write_scenario(root / "mixed.yaml", with_email(copy.deepcopy(TINY_SCENARIO)))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        out, err = run_captured(["run", "mixed.yaml", "-r", "3", "--seed", "1", "--out", "runs/mixed", "--workers", "1"])
    finally:
        os.chdir(cwd)
    return out, err, root / "runs" / "mixed"


def test_live_and_deferrable_channels_are_never_pooled(mixed_run):
    out, _, _ = mixed_run
    assert table_after(out, "human queue: live channels")[0] == ["metric", "voice"]
    assert table_after(out, "human queue: deferrable channels")[0] == ["metric", "email"]
    assert table_after(out, "agents: all and per group")[0] == ["metric", "all agents", "agents"]
    # No table puts a pooled "all" column next to the channels.
    for header, *_ in parse_tables(out):
        assert "all" not in header[1:], header


def test_sl_rows_are_labelled_in_the_thresholds_units(mixed_run):
    out, _, folder = mixed_run
    for label in ("sl_20s (%)", "sl_5min (%)", "sl_1h (%)"):
        assert label in out
    assert "sl_300s" not in out
    assert "sl_3600s" not in out
    summary = pd.read_csv(folder / "summary.csv")
    assert {"sl_20s", "sl_5min", "sl_1h"} <= set(summary["metric"])
    intervals = pd.read_parquet(folder / "intervals.parquet")
    assert {"answered_within_5min", "abandoned_within_1h", "censored_over_20s"} <= set(intervals.columns)


def test_counts_are_integers_and_share_intervals_stay_within_0_100(mixed_run):
    out, _, folder = mixed_run
    rows = {row[0]: row[1:] for table in parse_tables(out) for row in table[1:]}
    for count in ("offered", "answered", "abandoned", "censored", "handled"):
        assert rows[count], count
        for cell in rows[count]:
            assert re.fullmatch(r"[\d,]+ ± [\d,]+", cell), (count, cell)
    shares = SHARE.findall(out)
    assert len(shares) > 10
    for mean, low, high in shares:
        assert 0.0 <= float(low) <= float(mean) <= float(high) <= 100.0
    # The printed bounds of SL, abandonment... are summary.csv's share_low / share_high.
    summary = pd.read_csv(folder / "summary.csv").set_index(["metric", "scope"])
    row = summary.loc[("sl_20s", "channel=voice")]
    assert f"{row['mean'] * 100:.1f} ({row['share_low'] * 100:.1f}–{row['share_high'] * 100:.1f})" in out
    assert summary.loc[("asa_s", "channel=voice"), ["share_low", "share_high"]].isna().all()


def test_offered_and_handled_are_explained(mixed_run):
    out, _, _ = mixed_run
    flat = " ".join(out.split())
    assert "offered: contacts that arrived after the warm-up and reached a human queue" in flat
    assert "handled: contacts agents finished over the whole run, warm-up included" in flat


def test_output_fits_100_columns_and_nothing_is_cut(mixed_run):
    out, _, _ = mixed_run
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert "…" not in out


def test_next_steps_are_exact_commands_that_work(mixed_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out, _, folder = mixed_run
    tail = out[out.index("Next:") :]
    # A command is followed by "  # what it does", or that comment is on the line before it.
    commands = [line.split("  # ")[0].strip() for line in tail.splitlines() if line.strip().startswith("ccsim ")]
    verbs = [shlex.split(c)[1] for c in commands]
    assert {"report", "run", "compare", "optimize"} <= set(verbs)
    assert "ccsim report runs/mixed" in commands
    run = next(c for c in commands if shlex.split(c)[1] == "run")
    assert run == "ccsim run mixed.yaml -r 6 --seed 1 --out runs/mixed"
    compare = next(c for c in commands if shlex.split(c)[1] == "compare")
    assert compare == "ccsim compare mixed.yaml VARIANTS.yaml -r 3 --seed 1"
    # The printed run command adds replications to this run directory, reusing the three done (on a copy).
    shutil.copytree(folder.parent.parent, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    _, err = run_captured([*shlex.split(run)[1:], "--workers", "1", "--no-progress"])
    assert "6 replications (3 reused)" in err


def test_a_wide_grid_is_split_into_tables_that_repeat_the_labels():
    grid = Grid("per group", "metric", [f"group_{i}" for i in range(9)])
    grid.add("occupancy (%)", ["59.0 (42.2–73.9)"] * 9)
    grid.add("paid (h)", ["7,021 ± 207"] * 9)
    buffer = io.StringIO()
    grid.print(Console(file=buffer, width=WIDTH, color_system=None))
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert text.count("occupancy (%)") == len(grid.tables(WIDTH)) > 1
    assert "per group (continued)" in text
    assert all(f"group_{i}" in text for i in range(9))
    assert text.count("59.0 (42.2–73.9)") == 9


# ------------------------------------------------------------------------------- fewer replications, old names


def test_fewer_replications_into_a_run_directory_keep_every_replication(
    fake_backends: dict, tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["run", str(tiny_scenario_file), "--out", str(tmp_path / "run"), "--workers", "1", "--seed", "2"]
    run_cli([*args, "-r", "4"], capsys)
    before = pd.read_csv(tmp_path / "run" / "summary.csv")
    out, err = run_cli([*args, "-r", "2"], capsys)
    after = pd.read_csv(tmp_path / "run" / "summary.csv")
    pd.testing.assert_frame_equal(after, before)  # the larger run's summary stays as it was
    assert (after["n"] == 4).all()
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["replications"] == [0, 1, 2, 3]
    assert "4 replications (4 reused)" in err
    assert "-r 2 does not drop any: the summary covers all 4" in " ".join(err.split())
    assert "4 replications, seed 2" in out


def test_run_experiment_summarizes_every_replication_in_the_folder(fake_backends: dict, tiny_scenario, tmp_path):
    run_experiment(tiny_scenario, seed=0, n_replications=3, out_dir=tmp_path / "run", workers=1, progress=False)
    again = run_experiment(tiny_scenario, seed=0, n_replications=1, out_dir=tmp_path / "run", workers=1, progress=False)
    assert again.replications == (0, 1, 2)
    assert again.reused == (0, 1, 2)
    assert set(again.metrics["replication"]) == {0, 1, 2}


def test_a_run_folder_with_seconds_labels_resumes_under_the_new_names(
    tiny_scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["run", str(tiny_scenario_file), "--out", str(tmp_path / "run"), "--workers", "1", "--no-progress"]
    run_cli([*args, "-r", "2"], capsys)
    fresh = pd.read_csv(tmp_path / "run" / "summary.csv")
    # Write the replications as ccsim wrote them before SL labels had units: sl_300s, answered_within_300s.
    for folder in (tmp_path / "run" / "replications").iterdir():
        metrics = pd.read_parquet(folder / "metrics.parquet")
        metrics["metric"] = metrics["metric"].replace({"sl_5min": "sl_300s"})
        metrics.to_parquet(folder / "metrics.parquet")
        intervals = pd.read_parquet(folder / "intervals.parquet")
        intervals.columns = [c.replace("_5min", "_300s") for c in intervals.columns]
        intervals.to_parquet(folder / "intervals.parquet")
    out, _ = run_cli([*args, "-r", "3"], capsys)
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert "sl_300s" not in set(summary["metric"])
    sl = summary.set_index(["metric", "scope"]).loc[("sl_5min", "all")]
    assert sl["n"] == 3
    assert "sl_300s" not in out
    assert "answered_within_5min" in pd.read_parquet(tmp_path / "run" / "intervals.parquet").columns
    assert (tmp_path / "run" / "interval_table.csv").is_file()
    assert len(fresh) == len(summary)


# ------------------------------------------------------------------------------------------ bundled scenarios


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name, _ in list_scenarios()])
def test_every_bundled_scenarios_summary_fits_100_columns(name: str, tmp_path: Path):
    result = run_experiment(name, seed=1, n_replications=2, workers=1, progress=False, out_dir=tmp_path / "run")
    buffer = io.StringIO()
    print_result(Console(file=buffer, width=WIDTH, color_system=None, emoji=False), result)
    text = buffer.getvalue()
    long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not long, f"{name}: {len(long)} lines over {WIDTH} columns, e.g.\n{long[0]}"
    assert "…" not in text  # nothing was cut to make it fit
    # SL rows in the thresholds' units: never a whole number of minutes written in seconds (sl_300s).
    assert all(int(seconds) % 60 for seconds in re.findall(r"\bsl_(\d+)s\b", text)), name
    for mean, low, high in SHARE.findall(text):
        assert 0.0 <= float(low) <= float(mean) <= float(high) <= 100.0, name
