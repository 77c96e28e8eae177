"""Hostile replay logs at the library level (issue 12): what is accepted, what is an error, what is a warning.

The CLI side (exit code, no traceback, nothing written) is in tests/experiments/test_bad_replay.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.replay import ReadLimits, load_replay_log, read_log_rows, replay_report
from sim.arrivals import ReplayError
from sim.arrivals.replay import PLAUSIBLE_DURATION_S, quote
from sim.config import Scenario
from tests.sim.test_arrivals import make_scenario
from tests.sim.test_replay import GENERATED, TECHNION_YAML, technion_file, with_replay

COLUMNS = {"arrival": "t", "channel": "ch", "intent": "it", "handle": "talk", "patience": "wait"}


def scenario(path: Path, **overrides) -> Scenario:
    cfg = {"path": str(path), "columns": COLUMNS, "window_start": "2026-11-09T00:00", **overrides}
    return with_replay(make_scenario(GENERATED, horizon="1d"), **cfg)


def write(tmp_path: Path, rows: list[str], header: str = "t,ch,it,talk,wait,note") -> Path:
    path = tmp_path / "log.csv"
    path.write_text(header + "\n" + "".join(row + "\n" for row in rows))
    return path


def test_quote_cuts_long_values_with_an_ellipsis() -> None:
    assert quote("abc") == "'abc'"
    assert quote("x" * 10_000) == "'" + "x" * 78 + "…"
    assert len(quote("x" * 10_000, limit=20)) == 20
    assert quote(b"\xff" * 500).endswith("…")


def test_utc_offsets_that_change_are_instants_on_an_aware_clock(tmp_path: Path) -> None:
    # Summer time ends: 01:30+02:00 (23:30 UTC) comes before 01:10+01:00 (00:10 UTC).
    path = write(
        tmp_path, ["2026-10-25T01:30:00+02:00,voice,billing,60,,a", "2026-10-25T01:10:00+01:00,voice,billing,60,,b"]
    )
    sc = scenario(path, window_start="2026-10-25T00:00+02:00")
    log = load_replay_log(sc)
    np.testing.assert_array_equal(log.time_s, [5400.0, 7800.0])
    with pytest.raises(ReplayError, match=r"different UTC offsets .* window_start"):
        load_replay_log(scenario(path, window_start="2026-10-25T00:00"))


def test_line_numbers_stay_right_after_blank_lines_and_multi_line_records(tmp_path: Path) -> None:
    rows = [
        "2026-11-09 08:00:00,voice,billing,60,,ok",
        "",
        '2026-11-09 08:01:00,voice,billing,60,,"two',
        'lines"',
        "",
        "2026-11-09 08:02:00,voice,billing,-3,,x",
    ]
    path = write(tmp_path, rows)
    frame_rows = read_log_rows(path, "csv", ["t", "talk"])
    np.testing.assert_array_equal(frame_rows.row_numbers, [2, 4, 7])
    with pytest.raises(ReplayError, match=r"column 'talk': 1 row\(s\) with a negative handle; first: line 7: '-3'"):
        load_replay_log(scenario(path))


def test_rows_that_differ_only_in_an_unread_column_are_not_duplicates(tmp_path: Path) -> None:
    row = "2026-11-09 08:00:00,voice,billing,60,"
    assert replay_report(scenario(write(tmp_path, [row + ",a", row + ",b"])))["warnings"] == []
    warnings = replay_report(scenario(write(tmp_path, [row + ",a", row + ",b", row + ",a"])))["warnings"]
    assert [w["check"] for w in warnings] == ["duplicated rows"]
    assert warnings[0]["count"] == 1
    assert warnings[0]["examples"] == ["line 4 = 2"]


def test_parquet_duplicates_and_nul_characters_are_named_by_row(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "t": ["2026-11-09 08:00:00", "2026-11-09 08:01:00", "2026-11-09 08:00:00"],
            "ch": ["voice"] * 3,
            "it": ["billing"] * 3,
            "talk": [60.0, 70.0, 60.0],
            "wait": [np.nan] * 3,
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    warnings = replay_report(scenario(path))["warnings"]
    assert [(w["check"], w["examples"]) for w in warnings] == [("duplicated rows", ["row 3 = 1"])]
    frame.loc[1, "it"] = "bill\x00ing"
    frame.to_parquet(path)
    with pytest.raises(ReplayError, match=r"column 'it': 1 row\(s\) with a NUL character; first: row 2"):
        replay_report(scenario(path))


@pytest.mark.parametrize(
    ("wait", "error"),
    [("-inf", "negative patience"), ("-1", "negative patience"), ("soon", "non-numeric patience")],
)
def test_negative_or_non_numeric_patience_is_an_error(tmp_path: Path, wait: str, error: str) -> None:
    path = write(
        tmp_path, ["2026-11-09 08:00:00,voice,billing,60,100,a", f"2026-11-09 08:01:00,voice,billing,60,{wait},b"]
    )
    with pytest.raises(ReplayError, match=rf"column 'wait': 1 row\(s\) with a {error}.*; first: line 3"):
        replay_report(scenario(path))


def test_infinite_patience_is_allowed_and_long_durations_are_warnings(tmp_path: Path) -> None:
    day = PLAUSIBLE_DURATION_S
    rows = [
        "2026-11-09 08:00:00,voice,billing,60,inf,a",
        f"2026-11-09 08:01:00,voice,billing,{day + 1},{day},b",
        f"2026-11-09 08:02:00,voice,billing,60,{day * 2},c",
        f"2026-11-09 08:03:00,voice,billing,{day * 3},,d",
    ]
    log = load_replay_log(scenario(write(tmp_path, rows)))
    assert np.isposinf(log.patience_s[0])
    warnings = {w["check"]: w for w in log.report["warnings"]}
    assert sorted(warnings) == ["handle over 24 h", "patience over 24 h"]
    assert warnings["handle over 24 h"]["count"] == 2
    assert warnings["handle over 24 h"]["examples"] == ["line 3: '86401.0'", "line 5: '259200.0'"]
    assert warnings["patience over 24 h"]["examples"] == ["line 4: '172800.0'"]  # exactly 24 h is not over


def test_missing_markers_may_be_text_or_negative(tmp_path: Path) -> None:
    rows = ["2026-11-09 08:00:00,voice,billing,n/a,-1,a", "2026-11-09 08:01:00,voice,billing,60,30,b"]
    log = load_replay_log(scenario(write(tmp_path, rows), missing={"handle": ["n/a"], "patience": ["-1"]}))
    assert log.report["drawn"]["handle"] == 1
    assert log.report["drawn"]["patience"] == 1
    assert log.handle_s[1] == 60.0


def test_limits_can_be_given_to_the_loader(tmp_path: Path) -> None:
    path = write(tmp_path, [f"2026-11-09 08:0{k}:00,voice,billing,60,,{k}" for k in range(5)])
    assert load_replay_log(scenario(path), limits=ReadLimits(max_rows=5)).report["rows_read"] == 5
    with pytest.raises(ReplayError, match="more than 4 data rows"):
        load_replay_log(scenario(path), limits=ReadLimits(max_rows=4))
    with pytest.raises(ReplayError, match=r"line 2 is longer than 30 bytes"):
        load_replay_log(scenario(path), limits=ReadLimits(max_line_bytes=30))


def test_the_technion_month_has_no_warnings() -> None:
    technion_file("calls_1999-06.csv.gz")
    sc = Scenario.model_validate(yaml.safe_load(TECHNION_YAML.read_text()))
    report = replay_report(sc, TECHNION_YAML.parent)
    assert report["warnings"] == []
    assert (report["rows_read"], report["replayed"]) == (37_935, 8_867)
