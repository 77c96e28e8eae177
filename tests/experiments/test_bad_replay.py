"""Broken replay logs are rejected before anything runs: the message names the file, the column and the rows;
no traceback; nothing is written to the output directory."""

from __future__ import annotations

import gzip
import json
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import log_files, replay
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
    "unparseable_timestamp": (
        "arrival,queue,talk\n2026-11-09 00:01:00,V,100\nyesterday,V,120\n",
        ["'arrival'", "line 3", "yesterday"],
    ),
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


# ------------------------------------------------------------------------------------------- hostile files (issue 12)
# Each builder writes a hostile log into tmp_path and returns its file name; nothing big is committed.

HEADER = b"arrival,queue,talk\n"
ROWS = b"2026-11-09 00:01:00,V,100\n2026-11-09 00:02:00,V,120\n"


def varied_rows(n: int) -> bytes:
    """Rows that do not compress to nothing (so a truncated .gz still has a header and some rows)."""
    return b"".join(
        f"2026-11-09 {k % 24:02d}:{k * 7 % 60:02d}:{k * 13 % 60:02d},V,{k * 37 % 900 + 1}\n".encode() for k in range(n)
    )


def csv_log(data: bytes, name: str = "log.csv"):
    def build(tmp_path):
        (tmp_path / name).write_bytes(data)
        return name

    return build


def gz_truncated(tmp_path):
    blob = gzip.compress(HEADER + varied_rows(3000))
    (tmp_path / "log.csv.gz").write_bytes(blob[: len(blob) * 6 // 10])
    return "log.csv.gz"


def parquet_frame(n: int = 2000) -> pd.DataFrame:
    minutes = pd.to_timedelta(np.arange(n) % 1440, unit="min")
    return pd.DataFrame(
        {"arrival": pd.Timestamp("2026-11-09") + minutes, "queue": ["V"] * n, "talk": (np.arange(n) % 900 + 1.0)}
    )


def parquet_flipped(tmp_path):
    path = tmp_path / "log.parquet"
    parquet_frame().to_parquet(path, write_page_checksum=True)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))
    return "log.parquet"


def parquet_truncated(tmp_path):
    path = tmp_path / "log.parquet"
    parquet_frame().to_parquet(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "log.parquet"


def parquet_binary_column(tmp_path):
    frame = parquet_frame(3).assign(queue=[b"V", b"\xff\xfe", b"V"])
    frame.to_parquet(tmp_path / "log.parquet")
    return "log.parquet"


def parquet_as_csv(tmp_path):
    parquet_frame(3).to_parquet(tmp_path / "log.csv")
    return "log.csv"


def folder(tmp_path):
    (tmp_path / "log.csv").mkdir()
    return "log.csv"


HOSTILE = {
    "mixed_utc_offsets_on_a_naive_clock": (
        csv_log(HEADER + b"2026-11-09T00:01:00+01:00,V,100\n2026-11-09T00:02:00+02:00,V,120\n"),
        ["'arrival'", "different UTC offsets", "line 2: '2026-11-09T00:01:00+01:00'", "window_start"],
    ),
    "timestamps_with_and_without_offset": (
        csv_log(HEADER + b"2026-11-09T00:01:00+01:00,V,100\n2026-11-09T00:02:00,V,120\n"),
        ["'arrival'", "with and without a UTC offset", "line 3: '2026-11-09T00:02:00'"],
    ),
    "non_utf8_byte_in_a_cell": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V\xe9,100\n"),
        ["line 4", "column 'queue'", "0xe9", "not UTF-8"],
    ),
    "truncated_gz": (gz_truncated, ["log.csv.gz", "truncated or corrupt"]),
    "corrupt_parquet_page": (parquet_flipped, ["log.parquet", "row group 0", "column", "corrupt"]),
    "truncated_parquet": (parquet_truncated, ["log.parquet", "not a readable Parquet file"]),
    "binary_parquet_column": (parquet_binary_column, ["log.parquet", "'queue'", "not text"]),
    "line_over_the_limit": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V," + b"9" * (2 * 1024**2) + b"\n"),
        ["line 4", "longer than 1,048,576 bytes"],
    ),
    "nul_bytes": (csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V,1\x0000\n"), ["line 4", "column 'talk'", "NUL byte"]),
    "utf16_text": (csv_log((HEADER + ROWS).decode().encode("utf-16")), ["line 1 (the header)", "NUL byte", "UTF-16"]),
    "header_only": (csv_log(HEADER), ["no data rows"]),
    "only_blank_lines": (csv_log(b"\n\n\n"), ["empty"]),
    "a_folder": (folder, ["is a folder"]),
    "random_binary": (csv_log(bytes(range(256)) * 8), ["line 1 (the header)", "NUL byte"]),
    "parquet_named_csv": (parquet_as_csv, ["a Parquet file, not CSV text"]),
    "gzip_named_csv": (csv_log(gzip.compress(HEADER + ROWS)), ["gzip-compressed, not CSV text"]),
    "not_gzip_named_gz": (
        csv_log(HEADER + ROWS, "log.csv.gz"),
        ["log.csv.gz", "truncated or corrupt", "Not a gzipped file"],
    ),
    "extra_field": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V,100,5\n"),
        ["differs from the header's 3", "line 4 has 4"],
    ),
    "missing_field": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V\n"),
        ["differs from the header's 3", "line 4 has 2"],
    ),
    "unclosed_quote": (
        csv_log(HEADER + b'2026-11-09 00:01:00,"V,100\n' + ROWS),
        ["lines 2-4 (an unclosed quote?) has 2"],
    ),
    "logs_concatenated_with_headers": (csv_log(HEADER + ROWS + HEADER + ROWS), ["repeat the header", "line 4"]),
    "negative_infinite_handle": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V,-inf\n"),
        ["'talk'", "negative handle", "line 4: '-inf'"],
    ),
    "infinite_handle": (
        csv_log(HEADER + ROWS + b"2026-11-09 00:03:00,V,inf\n"),
        ["'talk'", "infinite handle", "line 4: 'inf'"],
    ),
}


def scenario_for(tmp_path, name: str) -> str:
    """The test scenario replaying the log ``name`` in tmp_path."""
    (tmp_path / "sc.yaml").write_text(textwrap.dedent(SCENARIO).replace("path: log.csv", f"path: {name}"))
    return str(tmp_path / "sc.yaml")


def write_hostile(tmp_path, case: str) -> str:
    build, _ = HOSTILE[case]
    return scenario_for(tmp_path, build(tmp_path))


def assert_refused(tmp_path, capsys, scenario: str, expected: list[str]) -> str:
    """The run and validate commands refuse with every fragment, no traceback, no output folder; returns the message."""
    out_dir = tmp_path / "out"
    assert main(["run", scenario, "-r", "2", "--workers", "1", "--out", str(out_dir)]) != 0
    err = capsys.readouterr().err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    assert "Traceback" not in err
    assert not out_dir.exists()
    assert main(["validate", scenario]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    for fragment in expected:
        assert fragment in captured.err, (fragment, captured.err)
    # Messages quote at most a few cut values: never a whole huge cell.
    assert all(len(line) < 1000 for line in err.splitlines()), max(map(len, err.splitlines()))
    return err


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_log_is_refused_naming_file_place_and_problem(tmp_path, capsys, case):
    scenario = write_hostile(tmp_path, case)
    err = assert_refused(tmp_path, capsys, scenario, HOSTILE[case][1])
    assert str(tmp_path) in err


def test_a_200_mb_cell_is_refused_without_reading_it_into_memory(tmp_path, capsys):
    # A real 200 MB cell, gzip-compressed to about 200 KB: the line check stops after about two blocks (1 MiB each).
    packer = zlib.compressobj(wbits=31)  # gzip container
    with (tmp_path / "log.csv.gz").open("wb") as fh:
        fh.write(packer.compress(HEADER + ROWS + b"2026-11-09 00:03:00,V,"))
        block = b"9" * 1024**2
        for _ in range(200):
            fh.write(packer.compress(block))
        fh.write(packer.compress(b"\n") + packer.flush())
    scenario = scenario_for(tmp_path, "log.csv.gz")
    tracemalloc.start()
    try:
        assert main(["validate", scenario]) == 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert "log.csv.gz: line 4 is longer than 1,048,576 bytes" in err, err
    assert "Traceback" not in err
    assert peak < 40 * 1024**2, peak


# ------------------------------------------------------------------------------------------------- size limits
# The limits are lowered for the test (the defaults are documented in docs/replay.md and pinned below).


def test_default_limits_are_the_documented_ones():
    assert replay.ReadLimits(max_bytes=2 * 1024**3, max_rows=5_000_000, max_line_bytes=1024**2) == replay.LIMITS
    docs = (Path(__file__).resolve().parents[2] / "docs" / "replay.md").read_text()
    for figure in ("2 GiB", "5,000,000", "1 MiB", "24 h", "80 characters"):
        assert figure in docs, figure


def limited(monkeypatch, **limits):
    monkeypatch.setattr(log_files, "LIMITS", log_files.ReadLimits(**limits))


def test_csv_rows_over_the_limit_are_refused_while_reading(tmp_path, capsys, monkeypatch):
    limited(monkeypatch, max_rows=3)
    scenario = scenario_for(tmp_path, csv_log(HEADER + varied_rows(50))(tmp_path))
    assert_refused(tmp_path, capsys, scenario, ["more than 3 data rows, the limit", "about 51 lines by its size"])


def test_parquet_rows_over_the_limit_are_refused_from_the_footer(tmp_path, capsys, monkeypatch):
    limited(monkeypatch, max_rows=3)
    parquet_frame(5).to_parquet(tmp_path / "log.parquet")
    scenario = scenario_for(tmp_path, "log.parquet")
    assert_refused(tmp_path, capsys, scenario, ["5 rows (from the Parquet footer), over the limit of 3"])


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    limited(monkeypatch, max_bytes=50)
    scenario = scenario_for(tmp_path, csv_log(HEADER + ROWS)(tmp_path))
    assert_refused(tmp_path, capsys, scenario, ["71 bytes on disk, over the limit of 50 bytes"])


def test_a_compressed_log_over_the_byte_limit_is_refused_while_decompressing(tmp_path, capsys, monkeypatch):
    limited(monkeypatch, max_bytes=2000)
    data = HEADER + ROWS * 200  # 10,219 bytes, a few hundred compressed
    (tmp_path / "log.csv.gz").write_bytes(gzip.compress(data))
    scenario = scenario_for(tmp_path, "log.csv.gz")
    assert_refused(
        tmp_path,
        capsys,
        scenario,
        ["more than 2,000 bytes of log data (the limit)", f"states about {len(data):,} bytes"],
    )


def test_messages_quote_cut_values_and_a_few_rows(tmp_path, capsys):
    huge = b"x" * 100_000
    rows = b"".join(b"%s%d,V,100\n" % (huge, k) for k in range(20))
    scenario = scenario_for(tmp_path, csv_log(HEADER + rows)(tmp_path))
    err = assert_refused(
        tmp_path, capsys, scenario, ["20 row(s) with an empty or unparseable timestamp", "line 2: 'xxxx", "…"]
    )
    assert "line 6:" in err
    assert "line 7:" not in err  # five examples at most
    assert len(err) < 1000


def test_a_huge_header_is_not_echoed(tmp_path, capsys):
    header = ",".join(f"c{k}" for k in range(20_000)).encode() + b"\n"
    scenario = scenario_for(tmp_path, csv_log(header + b",".join([b"1"] * 20_000) + b"\n")(tmp_path))
    err = assert_refused(
        tmp_path, capsys, scenario, ["column(s) ['arrival', 'queue', 'talk'] not in the file", "(20,000 columns)"]
    )
    assert len(err) < 1000


# ------------------------------------------------------------------------------------------ warnings, not errors


WARNED = {
    "duplicated_rows": (
        HEADER + ROWS + b"2026-11-09 00:01:00,V,100\n",
        "duplicated rows",
        "1 of 3 rows identical in every column to an earlier row (1 of them in the window and replayed); first: line 4 = 2",
    ),
    "duplicated_log": (
        HEADER + ROWS + ROWS,
        "duplicated log",
        "the log holds the same rows twice: lines 4-5 repeat lines 2-3",
    ),
    "handle_over_a_day": (
        HEADER + ROWS + b"2026-11-09 00:03:00,V,90000\n",
        "handle over 24 h",
        "column 'talk': 1 row(s) with a handle over 24 h",
    ),
}


@pytest.mark.parametrize("case", sorted(WARNED))
def test_suspicious_rows_are_warned_about_by_validate_and_kept_in_the_manifest(tmp_path, capsys, case):
    data, check, fragment = WARNED[case]
    scenario = scenario_for(tmp_path, csv_log(data)(tmp_path))
    assert main(["validate", scenario]) == 0
    out = capsys.readouterr().out
    assert f"warning: {tmp_path / 'log.csv'}: " in out
    assert fragment in out, out
    out_dir = tmp_path / "out"
    assert main(["run", scenario, "-r", "1", "--workers", "1", "--out", str(out_dir), "--no-progress"]) == 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    warnings = manifest["replay"]["warnings"]
    assert [w["check"] for w in warnings] == [check]
    assert fragment in warnings[0]["message"]


def test_a_clean_log_has_no_warnings(tmp_path, capsys):
    scenario = scenario_for(tmp_path, csv_log(HEADER + varied_rows(200))(tmp_path))
    assert main(["validate", scenario]) == 0
    assert "Warning" not in capsys.readouterr().out
