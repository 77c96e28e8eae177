"""Targets that see peaks, end to end: a whole-period target is MET while an every-interval target on a
deliberately understaffed shift is NOT MET, and the CLI prints both, the worst interval and the days."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import run_experiment
from sim.config import Scenario
from tests.conftest import write_scenario
from tests.experiments.test_cli import target_rows

# 60 calls an hour of 6 minutes (6 Erlangs) around the clock. 16 agents cover 16:00-08:00; the day shift
# (08:00-16:00) has 5: over capacity, so its waits run to minutes. The two-day whole-period SL pools two
# well-served thirds of the day with the bad one and still clears 60%; no day-shift hour gets 80% within 1 min.
SHORT_DAY_SHIFT = {
    "name": "short_day_shift",
    "horizon": "2d",
    "warmup": "2h",
    "channels": {"voice": {"patience": {"dist": "exponential", "mean": "10min"}}},
    "intents": {"general": {"handle": {"dist": "exponential", "mean": "6min"}}},
    "arrivals": {"kind": "generated", "channels": {"voice": {"daily_volume": 1440, "intent_mix": {"general": 1}}}},
    "shifts": {
        "day": {"start": "08:00", "length": "8h"},
        "rest": {"start": "16:00", "length": "16h"},
    },
    "groups": {
        "agents": {
            "channels": ["voice"],
            "skills": {"general": 1.0},
            "languages": ["en"],
            "staffing": {"day": 5, "rest": 16},
        }
    },
    "targets": [
        {"name": "whole period", "channel": "voice", "threshold": "1min", "level": 0.6},
        {
            "name": "day shift, every hour",
            "channel": "voice",
            "threshold": "1min",
            "level": 0.8,
            "window": {"start": "08:00", "end": "16:00"},
            "aggregation": "every_interval",
        },
    ],
    "reporting": {"interval": "1h", "sl_thresholds": ["1min"]},
}


@pytest.fixture(scope="module")
def result():
    return run_experiment(Scenario.model_validate(SHORT_DAY_SHIFT), seed=3, n_replications=4, workers=1, progress=False)


def test_whole_period_met_while_the_understaffed_shift_is_not(result):
    targets = result.targets().set_index("target")
    whole, shift = targets.loc["whole period"], targets.loc["day shift, every hour"]
    assert whole.status == "MET"
    assert whole.ci_low >= 0.6
    assert shift.status == "NOT MET"
    assert shift.worst_ci_high < 0.8  # the status follows the worst interval, not the pooled figure
    assert shift.interval_share < 1.0
    assert shift.window == "08:00–16:00"
    # The worst interval is a day-shift hour, and its start is a calendar time.
    assert 8 <= shift.worst_at.hour < 16
    assert 1 <= shift.worst_at_n <= 4
    assert pd.isna(whole.worst)  # a pooled target has no interval figures


def test_every_replication_agrees_with_its_own_intervals(result):
    """The long table's worst interval is the lowest hourly SL of the shift, recomputed from the intervals."""
    from sim.metrics import filter_intervals, interval_attainment

    sc = result.scenario
    iv = filter_intervals(result.intervals, warmup_s=sc.measure_start_s)
    value = result.metrics.set_index(["replication", "metric", "scope"])["value"]
    for rep, frame in iv.groupby("replication"):
        sl = interval_attainment(frame, 60.0, sc.reporting.sl_convention)
        hour = (sl.index.to_numpy() % 86400) // 3600
        shift = sl[(hour >= 8) & (hour < 16)].dropna()
        scope = "target=day shift, every hour"
        assert value[(rep, "target_worst_interval", scope)] == pytest.approx(shift.min())
        assert value[(rep, "target_worst_interval_start_s", scope)] == shift.idxmin()
        assert value[(rep, "target_interval_share", scope)] == pytest.approx((shift >= 0.8).mean())


def test_per_day_attainment_for_every_target(result):
    days = result.day_attainment()
    assert set(days["day"]) == {"2026-11-09", "2026-11-10"}
    assert set(days["target"]) == {"whole period", "day shift, every hour"}
    shift = days[days["target"] == "day shift, every hour"]
    assert (shift["mean"] < 0.8).all()


def test_cli_prints_window_worst_interval_and_days(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write_scenario(tmp_path / "short.yaml", SHORT_DAY_SHIFT)
    args = ["run", str(path), "-r", "3", "--seed", "3", "--out", str(tmp_path / "run"), "--workers", "1"]
    assert main([*args, "--no-progress"]) == 0
    text = capsys.readouterr().out
    rows = target_rows(text)
    assert rows["whole period"][0].endswith("; all days")
    assert rows["whole period"][-1] == "MET"
    shift = rows["day shift, every hour"]
    assert "; 08:00–16:00" in shift[0]
    assert shift[-1] == "NOT MET"
    assert re.search(r"\(\d+\.\d–\d+\.\d\) \w{3} \d\d-\d\d \d\d:\d\d in \d/3 reps", shift[3])  # worst, and when
    assert "attainment per day" in text
    assert "Mon 2026-11-09" in text
    table = pd.read_csv(tmp_path / "run" / "interval_table.csv")
    assert table["interval_start_s"].min() == 2 * 3600.0  # after the warm-up
    assert {"priority", "tier"} <= set(table.columns)
