"""Replayed arrivals: round trip of generated runs, the Technion bank week, mapping rules and bad logs."""

from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.replay import data_dir, load_replay_log, replay_report, resolve_log_path, write_arrival_log
from sim.arrivals import ReplayError, iter_arrivals, replay_config_for_log
from sim.config import ReplayArrivals, Scenario
from sim.streams import Streams
from tests.sim.test_arrivals import FIELDS, collect, make_scenario, run

REPO = Path(__file__).resolve().parents[2]
TECHNION_YAML = REPO / "experiments" / "scenarios" / "technion_bank_week.yaml"


def replayed(scenario: Scenario, streams: Streams, base_dir: Path | None = None):
    """The arrivals of a replayed scenario: its log read and checked once, as a run does."""
    return iter_arrivals(scenario, streams, replay=load_replay_log(scenario, base_dir))


def with_replay(scenario: Scenario, **replay: Any) -> Scenario:
    return scenario.model_copy(update={"arrivals": ReplayArrivals.model_validate(replay)})


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for f in FIELDS:
        assert a[f].dtype == b[f].dtype, f
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)


GENERATED = {
    "voice": {"daily_volume": 900, "intent_mix": {"billing": 1, "tech": 2}, "intraday": [1, 3, 5, 2] * 6},
    "chat": {"daily_volume": 600, "intent_mix": {"billing": 1, "tech": 1}},
    "email": {"daily_volume": 200, "intent_mix": {"tech": 1}},
}
OUTAGE = {
    "channel": "chat",
    "start": "2026-11-10T09:00",
    "end": "2026-11-10T15:00",
    "moved_to": "voice",
    "moved_share": 0.5,
}


# -------------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_generated_run_written_and_replayed_gives_identical_batches(tmp_path: Path, suffix: str) -> None:
    sc = make_scenario(
        GENERATED, arrivals={"busyness_cv": 0.3, "outages": [OUTAGE]}, start="2026-11-09T13:00", horizon="3d"
    )
    generated = run(sc, seed=5)
    path = tmp_path / f"arrivals{suffix}"
    assert write_arrival_log(iter(generated), sc, path) == sum(len(b) for b in generated)
    replayed_ = list(replayed(sc.model_copy(update={"arrivals": replay_config_for_log(path)}), Streams(99)))
    assert [len(b) for b in replayed_] == [len(b) for b in generated]
    assert_same(collect(generated), collect(replayed_))
    assert np.isinf(collect(replayed_)["patience_s"]).sum() > 0  # email: inf patience survives the trip


def test_timestamp_column_replays_to_the_nanosecond(tmp_path: Path) -> None:
    sc = make_scenario(GENERATED, horizon="2d")
    generated = collect(run(sc))
    path = tmp_path / "arrivals.csv"
    write_arrival_log(run(sc), sc, path)
    cfg = replay_config_for_log(path, exact_times=False)
    replayed_ = collect(list(replayed(sc.model_copy(update={"arrivals": cfg}), Streams(1))))
    np.testing.assert_allclose(replayed_["time_s"], generated["time_s"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(replayed_["handle_s"], generated["handle_s"])


@pytest.mark.parametrize("population", [None, 1000])
def test_missing_fields_are_drawn_exactly_as_in_generated_mode(tmp_path: Path, population: int | None) -> None:
    sc = make_scenario(GENERATED, customers={"population": population}, horizon="3d")
    generated = run(sc, seed=3)
    full = tmp_path / "full.csv"
    write_arrival_log(generated, sc, full)
    bare = tmp_path / "bare.csv"
    pd.read_csv(full, dtype=str)[["arrival_s", "channel", "intent"]].to_csv(bare, index=False)
    replay = with_replay(
        sc,
        path=str(bare),
        arrival_format="seconds",
        columns={"arrival": "arrival_s", "channel": "channel", "intent": "intent"},
    )
    assert_same(collect(generated), collect(list(replayed(replay, Streams(3)))))
    assert replay_report(replay)["drawn"]["handle"] == sum(len(b) for b in generated)


# ------------------------------------------------------------------------------------------ mapping and report

LOG = """arrival,queue,type,talk,wait_limit,prio,cust,outcome,q_start,ser_start
1999-06-06T08:00:00,V,PS,120,,2,C1,AGENT,08:00:05,08:00:05
1999-06-06T08:01:00,V,TT,0,300,0,C2,HANG,08:01:04,
1999-06-06T08:02:00,C,PS,,,1,,AGENT,,08:02:03
1999-06-06T08:03:00,V,PS,50,,0,C1,PHANTOM,,
1999-06-06T08:04:00,V,PS,50,,0,C3,HANG,,
1999-06-05T23:59:00,V,PS,50,,0,C3,AGENT,23:59:30,23:59:40
1999-06-07T00:00:00,V,PS,50,,0,C4,AGENT,00:00:30,00:00:40
"""
MAPPING: dict[str, Any] = {
    "columns": {
        "arrival": "arrival",
        "channel": "queue",
        "intent": "type",
        "handle": "talk",
        "patience": "wait_limit",
        "priority": "prio",
        "customer": "cust",
    },
    "values": {
        "channel": {"V": "voice", "C": "chat"},
        "intent": {"PS": "billing", "TT": "tech"},
        "priority": {"0": "normal", "1": "normal", "2": "urgent"},
    },
    "drop": {"outcome": ["PHANTOM"]},
    "require_any": ["q_start", "ser_start"],
    "missing": {"handle": ["0"]},
    "window_start": "1999-06-06T00:00",
}


def replay_scenario(path: Path, **overrides: Any) -> Scenario:
    base = make_scenario(GENERATED, horizon="1d")
    return with_replay(base, path=str(path), **{**MAPPING, **overrides})


def test_mapping_values_drop_require_window_and_report(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    sc = replay_scenario(path)
    data = collect(list(replayed(sc, Streams(1))))
    np.testing.assert_array_equal(data["time_s"], [8 * 3600.0, 8 * 3600.0 + 60, 8 * 3600.0 + 120])
    np.testing.assert_array_equal(data["channel"], [0, 0, 1])
    np.testing.assert_array_equal(data["intent"], [0, 1, 0])
    np.testing.assert_array_equal(data["priority"], [1, 0, 0])
    assert data["handle_s"][0] == 120.0
    assert data["handle_s"][1] != 0.0  # "0" means missing: drawn
    assert data["patience_s"][1] == 300.0
    assert data["customer_id"][0] == zlib.crc32(b"C1")
    assert data["customer_id"][1] == zlib.crc32(b"C2")
    assert data["customer_id"][2] > max(zlib.crc32(b"C1"), zlib.crc32(b"C2"))  # new id, above the log's
    report = replay_report(sc)
    assert report["rows_read"] == 7
    assert report["replayed"] == 3
    assert report["skipped"] == {
        "drop outcome=PHANTOM": 1,
        "require_any ['q_start', 'ser_start']": 1,
        "before window": 1,
        "after window": 1,
    }
    assert report["drawn"]["handle"] == 2
    assert report["drawn"]["patience"] == 2
    assert report["by_channel"] == {"voice": 2, "chat": 1}


def test_window_start_and_time_offset_place_the_log_on_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    shifted = replay_scenario(path, time_offset="1h", window_start="1999-06-06T06:00")
    data = collect(list(replayed(shifted, Streams(1))))
    assert data["time_s"][0] == 3 * 3600.0  # 08:00 + 1h - 06:00


def test_defaults_and_identity_names(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("when,intent,tier\n2026-11-09 10:00:00,tech,vip\n2026-11-09 11:00:00,billing,regular\n")
    sc = with_replay(
        make_scenario(GENERATED, horizon="1d"),
        path=str(path),
        defaults={"channel": "chat"},
        columns={"arrival": "when", "intent": "intent", "tier": "tier"},
    )
    data = collect(list(replayed(sc, Streams(1))))
    np.testing.assert_array_equal(data["channel"], [1, 1])
    np.testing.assert_array_equal(data["intent"], [1, 0])
    np.testing.assert_array_equal(data["tier"], [1, 0])


def test_data_dir_and_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCSIM_DATA", raising=False)
    assert data_dir() == REPO.parent / "shared" / "data"
    monkeypatch.setenv("CCSIM_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    assert resolve_log_path("${CCSIM_DATA}/x/y.csv") == tmp_path / "x" / "y.csv"
    assert resolve_log_path("logs/a.csv", base_dir=tmp_path / "scenarios") == tmp_path / "scenarios" / "logs" / "a.csv"


# ---------------------------------------------------------------------------------------------------- bad logs

GOOD_ROW = "1999-06-06T09:00:00,V,PS,60,,0,C9,AGENT,09:00:01,09:00:02\n"


def broken(tmp_path: Path, bad_line: str, at: int = 3) -> Path:
    """A valid log with ``bad_line`` as file line ``at`` (the header is line 1)."""
    lines = [LOG.splitlines()[0] + "\n"] + [GOOD_ROW] * 6
    lines.insert(at - 1, bad_line)
    path = tmp_path / "broken.csv"
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize(
    ("bad_line", "column", "what"),
    [
        ("1999-06-06T25:61:00,V,PS,60,,0,C9,AGENT,x,\n", "arrival", "unparseable timestamp"),
        ("not a time,V,PS,60,,0,C9,AGENT,x,\n", "arrival", "unparseable timestamp"),
        ("1999-06-06T09:00:00,V,PS,-5,,0,C9,AGENT,x,\n", "talk", "negative handle"),
        ("1999-06-06T09:00:00,V,PS,abc,,0,C9,AGENT,x,\n", "talk", "non-numeric handle"),
        ("1999-06-06T09:00:00,V,PS,60,-1,0,C9,AGENT,x,\n", "wait_limit", "negative patience"),
        ("1999-06-06T09:00:00,V,XX,60,,0,C9,AGENT,x,\n", "type", "no mapping in values.intent"),
        ("1999-06-06T09:00:00,Q,PS,60,,0,C9,AGENT,x,\n", "queue", "no mapping in values.channel"),
        ("1999-06-06T09:00:00,V,PS,60,,7,C9,AGENT,x,\n", "prio", "no mapping in values.priority"),
    ],
)
def test_bad_rows_raise_naming_file_column_count_and_rows(
    tmp_path: Path, bad_line: str, column: str, what: str
) -> None:
    path = broken(tmp_path, bad_line, at=4)
    with pytest.raises(ReplayError) as info:
        list(replayed(replay_scenario(path), Streams(1)))
    message = str(info.value)
    assert str(path) in message
    assert f"column {column!r}: 1 row(s)" in message
    assert what in message
    assert "line 4: " + repr(bad_line.split(",")[list(MAPPING_COLUMNS).index(column)]) in message


MAPPING_COLUMNS = LOG.splitlines()[0].split(",")


def test_several_bad_rows_are_counted_and_listed(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    rows = [GOOD_ROW.replace(",PS,", f",B{k},") for k in range(8)]
    path.write_text(LOG.splitlines()[0] + "\n" + "".join(rows) + GOOD_ROW)
    with pytest.raises(ReplayError, match=r"column 'type': 8 row\(s\).*line 2: 'B0', line 3: 'B1'"):
        replay_report(replay_scenario(path))


def test_rows_dropped_on_purpose_are_not_errors(tmp_path: Path) -> None:
    path = broken(tmp_path, "1999-06-06T09:00:00,V,XX,60,,0,C9,AGENT,x,\n")
    report = replay_report(replay_scenario(path, drop={"outcome": ["PHANTOM"], "intent": ["XX"]}))
    assert report["skipped"] == {"drop type=XX": 1}
    assert report["replayed"] == 6


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "empty"),
        (LOG.splitlines()[0] + "\n", "no data rows"),
        ("arrival,queue,type\n1999-06-06T09:00:00,V,PS\n", r"column\(s\) \['talk'"),
    ],
)
def test_empty_file_header_only_and_missing_column(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(content)
    with pytest.raises(ReplayError, match=match) as info:
        replayed(replay_scenario(path), Streams(1))
    assert str(path) in str(info.value)


def test_missing_file_and_empty_window(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="not found"):
        replay_report(replay_scenario(tmp_path / "nope.csv"))
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    with pytest.raises(ReplayError, match="no row is replayed"):
        replay_report(replay_scenario(path, window_start="2001-01-01T00:00"))


def test_mapping_to_unknown_scenario_name_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    values = {**MAPPING["values"], "intent": {"PS": "billing", "TT": "refunds"}}
    with pytest.raises(ReplayError, match=r"values.intent: log value 'TT' maps to unknown intent 'refunds'"):
        replay_report(replay_scenario(path, values=values))


def test_config_rejects_unknown_fields_and_missing_channel() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        ReplayArrivals.model_validate(
            {"path": "x.csv", "columns": {"arrival": "a", "channel": "c", "intent": "i"}, "values": {"colour": {}}}
        )
    with pytest.raises(ValueError, match="'channel' needs a column"):
        ReplayArrivals.model_validate({"path": "x.csv", "columns": {"arrival": "a", "intent": "i"}})


# ------------------------------------------------------------------------------------------- the Technion week


def test_technion_scenario_validates() -> None:
    sc = Scenario.model_validate(yaml.safe_load(TECHNION_YAML.read_text()))
    assert sc.arrivals.kind == "replay"
    assert sc.start == dt.datetime(1999, 6, 6)
    assert sc.start.weekday() == 6  # a Sunday
    assert sc.horizon == 7 * 86400.0


def technion_file(name: str) -> Path:
    folder = data_dir() / "anonymous-bank-1999"
    if not (folder / name).is_file():
        pytest.skip(f"Technion data not found at {folder}; set CCSIM_DATA")
    return folder / name


def test_technion_week_replays_every_agent_seeking_call() -> None:
    path = technion_file("calls_1999-06.csv.gz")
    sc = Scenario.model_validate(yaml.safe_load(TECHNION_YAML.read_text()))
    batches = list(replayed(sc, Streams(1), TECHNION_YAML.parent))
    data = collect(batches)
    # The same filters, counted directly with pandas.
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    arrival = pd.to_datetime(log["arrival"])
    week = (arrival >= "1999-06-06") & (arrival < "1999-06-13")
    seeking = (
        (log["outcome"] != "PHANTOM") & ((log["q_start"] != "") | (log["ser_start"] != "")) & (log["type"] != "AA")
    )
    direct = log[week & seeking]
    assert len(data["time_s"]) == len(direct) == 8867
    per_day = pd.to_datetime(direct["arrival"]).dt.normalize().value_counts().sort_index().to_numpy()
    np.testing.assert_array_equal([len(b) for b in batches], per_day)
    times = np.sort((pd.to_datetime(direct["arrival"]) - pd.Timestamp("1999-06-06")).dt.total_seconds().to_numpy())
    np.testing.assert_array_equal(data["time_s"], times)
    intents = list(sc.intents)
    type_of = {"PS": "retail", "PE": "retail_en", "IN": "internet", "NE": "stocks", "NW": "prospects", "TT": "callback"}
    counts = direct["type"].map(type_of).value_counts()
    assert {intents[k]: int(n) for k, n in enumerate(np.bincount(data["intent"])) if n} == counts.to_dict()
    assert int(data["priority"].sum()) == int((direct["priority"] == "2").sum())
    assert int((data["language"] == 1).sum()) == int((direct["type"] == "PE").sum())
    # Talk time is replayed where the log has it (> 0); the other calls get a drawn handle time.
    served = np.sort(direct.loc[direct["ser_time"].astype(float) > 0, "ser_time"].astype(float).to_numpy())
    drawn = len(direct) - len(served)
    assert replay_report(sc, TECHNION_YAML.parent)["drawn"]["handle"] == drawn
    assert np.all(data["handle_s"] > 0)
    assert np.all(np.isfinite(data["patience_s"]))
    assert np.isin(served, data["handle_s"]).all()


def test_technion_week_volume_is_plausible() -> None:
    technion_file("calls_1999-06.csv.gz")
    counts_path = technion_file("arrivals_6min_1999_all_calls.csv")
    sc = Scenario.model_validate(yaml.safe_load(TECHNION_YAML.read_text()))
    sun_thu = [len(b) for b in replayed(sc, Streams(1), TECHNION_YAML.parent)][:5]
    # README: Sun-Thu days average ~1,531 calls; 337,490 of the 360,364 calls are agent-seeking.
    expected = 1531 * 337_490 / 360_364
    # Spread of Sun-Thu weekly means over the year, from the 6-minute counts (all calls, scaled the same way).
    bins = pd.read_csv(counts_path, parse_dates=["interval_start"])
    daily = bins.groupby(bins["interval_start"].dt.normalize())["calls"].sum()
    daily = daily[daily.index.day_of_week.isin([6, 0, 1, 2, 3])] * 337_490 / 360_364
    weekly = daily.groupby((daily.index + pd.Timedelta(days=1)).to_period("W")).mean()
    assert abs(np.mean(sun_thu) - expected) < 3 * weekly.std()
