"""Backtest (issue 10 point 3): the metrics, the error and its noise floor by hand, and an end-to-end backtest on a
synthetic log whose model is known to be right."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.calibration.backtest import backtest, compare, interval_metrics, window_scenario, write_backtest
from experiments.calibration.calibrate import calibrate, write_calibration
from experiments.calibration.mapping import CalibrationInputError, CalibrationMapping, read_calls
from experiments.cli import main
from tests.experiments.calib_logs import MAPPING, mmc_log, write_log, write_mapping


def test_interval_metrics_by_hand():
    t = pd.Series(pd.to_datetime(["1999-03-01T08:05", "1999-03-01T08:10", "1999-03-01T08:50", "1999-03-01T09:01"]))
    answered = np.array([True, True, False, True])
    abandoned = ~answered
    wait = np.array([0.0, 30.0, 70.0, 10.0])
    m = interval_metrics(t, answered, abandoned, wait, "1h")
    h8, h9 = m.loc[pd.Timestamp("1999-03-01T08:00")], m.loc[pd.Timestamp("1999-03-01T09:00")]
    assert h8["offered"] == 3
    assert h8["answered"] == 2
    assert h8["abandon_rate"] == pytest.approx(1 / 3)
    assert h8["asa_s"] == pytest.approx(15.0)
    assert h8["p_wait"] == pytest.approx(2 / 3)
    assert h8["sl20"] == pytest.approx(1 / 3)
    assert h8["sl60"] == pytest.approx(2 / 3)
    assert h9["abandon_rate"] == 0
    assert h9["asa_s"] == 10
    assert h9["sl20"] == 1


def test_error_and_noise_floor_by_hand():
    idx = pd.Index([0, 1, 2])
    actual = pd.DataFrame({"offered": [20, 20, 5], "abandon_rate": [0.1, 0.3, 0.9]}, index=idx)
    sims = [pd.DataFrame({"offered": [20, 20, 5], "abandon_rate": a}, index=idx)
            for a in ([0.2, 0.2, 0.0], [0.0, 0.4, 0.0], [0.1, 0.3, 0.0])]  # fmt: skip
    for s in [actual, *sims]:
        for m in ("answered", "asa_s", "p_wait", "sl20", "sl60"):
            s[m] = 1.0
    rows = {r["metric"]: r for r in compare(actual, sims, min_offered=10)}
    ab = rows["abandon_rate"]
    assert ab["n_intervals"] == 2  # the interval with 5 calls is left out
    # means: 0.1 and 0.3 -> MAE 0; leave-one-out: |0.2-0.05|, |0.2-0.35|, |0.0-0.15|, |0.4-0.25|, 0, 0 over 6
    assert ab["mae"] == pytest.approx(0.0)
    assert ab["noise_floor"] == pytest.approx((0.15 + 0.15 + 0.15 + 0.15) / 6)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bt")
    frame = mmc_log(days=4, rate_per_h=60, agents=3, handle_mean_s=150, patience_mean_s=240, seed=21)
    path = write_log(frame, folder)
    mapping = CalibrationMapping.model_validate(yaml.safe_load(MAPPING))
    cal = calibrate(path, mapping, end="1999-03-03")
    write_calibration(cal, folder / "cal" / "s.yaml", plots=False)
    return folder, path, frame


def test_backtest_replays_the_log_and_a_right_model_is_within_its_noise(synthetic):
    folder, path, frame = synthetic
    r = 8
    bt = backtest(path, folder / "cal" / "s.yaml", "1999-03-01", "1999-03-04", out=folder / "bt", replications=r)
    assert bt.info["staffing"].startswith("log")  # days 3-4 are outside the calibration window
    err = bt.errors.set_index(["aggregation", "metric"])
    assert err.loc[("hour", "offered"), "mae"] == 0  # every call replayed at its hour
    total = bt.actual["day"]["offered"].sum()
    assert total == len(frame)
    # the model is right (M/M/3+M with the fitted rates), so the real abandonment total is one more draw from the
    # simulated distribution: within 4 standard deviations (of a draw around the mean of r draws)
    sims = np.array([1 - s["answered"].sum() / total for s in bt.simulated["day"]])
    actual = 1 - bt.actual["day"]["answered"].sum() / total
    assert abs(actual - sims.mean()) <= 4 * sims.std(ddof=1) * math.sqrt(1 + 1 / r) + 1e-9
    files = write_backtest(bt, folder / "bt")
    for name in files:
        assert (folder / "bt" / name).is_file()
    per_hour = pd.read_csv(folder / "bt" / "per_hour.csv")
    assert {"abandon_rate_actual", "abandon_rate_sim", "asa_s_sim_lo"} <= set(per_hour.columns)


def test_backtest_in_sample_uses_the_scenario_table(synthetic):
    folder, path, _ = synthetic
    bt = backtest(path, folder / "cal" / "s.yaml", "1999-03-01", "1999-03-02", out=folder / "bt2", replications=2)
    assert bt.info["staffing"] == "scenario staffing_table"


def test_cli_backtest_prints_errors_and_refuses_bad_windows(synthetic, tmp_path, capsys):
    folder, path, _ = synthetic
    args = ["backtest", str(path), "--scenario", str(folder / "cal" / "s.yaml"), "--from", "1999-03-01", "--to",
            "1999-03-01", "-r", "2", "--out", str(tmp_path / "o"), "--no-plots"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "abandon_rate" in out
    assert "noise floor" in out
    bad = [*args[:5], "1999-04-01", "--to", "1999-04-02", "-r", "2", "--out", str(tmp_path / "p")]
    assert main(bad) == 2
    assert "no agent-seeking calls" in capsys.readouterr().err
    assert main([*args[:-4], "-r", "1"]) == 2


def test_cli_mapping_file_errors(tmp_path, capsys):
    mp = write_mapping(tmp_path, MAPPING.replace("interval: 30min", "interval: 30"))
    frame = mmc_log(days=1, rate_per_h=20, seed=1)
    path = write_log(frame, tmp_path)
    assert main(["calibrate", str(path), "--map", str(mp), "--out", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "interval" in err
    assert "Traceback" not in err


def test_hourly_availability_profile_travels_to_a_held_out_window(tmp_path):
    frame = mmc_log(days=3, rate_per_h=60, agents=3, handle_mean_s=150, patience_mean_s=240, seed=22)
    path = write_log(frame, tmp_path)
    mapping = CalibrationMapping.model_validate(yaml.safe_load(MAPPING + "availability_by: hour\n"))
    cal = calibrate(path, mapping, end="1999-03-02")
    report = write_calibration(cal, tmp_path / "cal" / "s.yaml", plots=False)
    saved = json.loads((tmp_path / "cal" / "s.availability.json").read_text())["profile"]
    assert "s.availability.json" in report["files"]
    assert saved["bank"] == {str(h): round(v, 4) for h, v in cal.staffing.profile["bank"].items()}
    bt = backtest(path, tmp_path / "cal" / "s.yaml", "1999-03-03", "1999-03-03", out=tmp_path / "bt", replications=2)
    assert bt.info["staffing"].startswith("log")
    # the held-out roster is scaled by the calibrated profile, not by one estimated on the window
    raw = yaml.safe_load((tmp_path / "cal" / "s.yaml").read_text())
    day3 = read_calls(path, mapping, start=pd.Timestamp("1999-03-03"), end=pd.Timestamp("1999-03-04")).calls
    args = (raw, day3, mapping, pd.Timestamp("1999-03-03"), pd.Timestamp("1999-03-04"), tmp_path / "r.parquet", "log")
    half, _ = window_scenario(*args, {"bank": dict.fromkeys(range(24), 0.5)})
    full, _ = window_scenario(*args, {"bank": dict.fromkeys(range(24), 1.0)})
    agents_half = half["groups"]["bank"]["staffing_table"]["agents"]
    agents_full = full["groups"]["bank"]["staffing_table"]["agents"]
    assert agents_full
    assert set(agents_half) == set(agents_full)
    assert [agents_half[k] for k in agents_full] == pytest.approx([agents_full[k] / 2 for k in agents_full], abs=1e-3)
    # without the profile file the held-out backtest refuses, naming the file and the mapping setting
    (tmp_path / "cal" / "s.availability.json").unlink()
    with pytest.raises(CalibrationInputError, match="availability_by: hour"):
        backtest(path, tmp_path / "cal" / "s.yaml", "1999-03-03", "1999-03-03", out=tmp_path / "bt2", replications=2)
