"""Broken replay logs are rejected before anything runs: the message names the file, the column and the rows;
no traceback; nothing is written to the output directory."""

from __future__ import annotations

import textwrap

import pytest

from experiments.cli import main

SCENARIO = """
name: replay_check
horizon: 1d
channels: {voice: {patience: {dist: none}}}
intents: {general: {handle: {dist: exponential, mean: 3min}}}
arrivals:
  kind: replay
  path: log.csv
  columns: {arrival: arrival, channel: queue, handle: talk}
  values: {channel: {V: voice}}
  defaults: {intent: general}
shifts: {always: {start: "00:00", length: 24h}}
groups: {a: {channels: [voice], skills: {general: 1}, languages: [en], staffing: {always: 2}}}
"""

GOOD = "arrival,queue,talk\n2026-11-09 00:01:00,V,100\n2026-11-09 00:02:00,V,120\n"

BROKEN = {
    "unparseable_timestamp": ("arrival,queue,talk\n2026-11-09 00:01:00,V,100\nyesterday,V,120\n", ["'arrival'", "line 3", "yesterday"]),
    "negative_handle": ("arrival,queue,talk\n2026-11-09 00:01:00,V,-5\n", ["'talk'", "line 2", "-5"]),
    "non_numeric_handle": ("arrival,queue,talk\n2026-11-09 00:01:00,V,abc\n", ["'talk'", "abc"]),
    "unmapped_channel": ("arrival,queue,talk\n2026-11-09 00:01:00,X,100\n", ["'queue'", "'X'"]),
    "missing_column": ("arrival,talk\n2026-11-09 00:01:00,100\n", ["queue"]),
    "empty_file": ("", ["log.csv"]),
}


def write(tmp_path, log_text: str):
    (tmp_path / "sc.yaml").write_text(textwrap.dedent(SCENARIO))
    (tmp_path / "log.csv").write_text(log_text)
    return str(tmp_path / "sc.yaml")


def test_a_good_log_runs(tmp_path, capsys):
    scenario = write(tmp_path, GOOD)
    assert main(["validate", scenario]) == 0
    assert "2 rows read, 2 replayed" in capsys.readouterr().out


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_log_is_rejected_before_anything_is_written(tmp_path, capsys, case):
    text, expected = BROKEN[case]
    scenario = write(tmp_path, text)
    out_dir = tmp_path / "out"
    assert main(["run", scenario, "-r", "2", "--workers", "1", "--out", str(out_dir)]) != 0
    err = capsys.readouterr().err
    assert "log.csv" in err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    assert "Traceback" not in err
    assert not out_dir.exists()
    assert main(["validate", scenario]) == 1
    assert "log.csv" in capsys.readouterr().err
