"""Calibration from call logs (issue 10 points 2, 5): mapping and bad rows, each fit against a known truth,
the written scenario, the figures, and the CLI. Backtest tests are in ``test_backtest.py``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from scipy import stats

from experiments.calibration import plots
from experiments.calibration.calibrate import calibrate, patience_choice, staffing_table, write_calibration
from experiments.calibration.fit import (
    HOURLY_PRIOR_S,
    RING_S,
    _censored_mle,
    availability_by_hour,
    fit_arrivals,
    fit_handle,
    fit_staffing,
    patience_cell,
)
from experiments.calibration.mapping import CalibrationInputError, CalibrationMapping, load_mapping, read_calls
from experiments.cli import main
from experiments.scenario_files import load_scenario
from tests.experiments.calib_logs import MAPPING, mmc_log, write_log, write_mapping


@pytest.fixture
def mapping() -> CalibrationMapping:
    return CalibrationMapping.model_validate(yaml.safe_load(MAPPING))


# ------------------------------------------------------------------------------------------------ mapping


def test_read_calls_fields_and_midnight(tmp_path, mapping):
    frame = mmc_log(days=1, rate_per_h=20, seed=1)
    # a call that enters the IVR at 23:59:58 and reaches the queue after midnight
    late = frame.iloc[0].copy()
    late[["arrival", "vru_entry", "vru_exit", "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit",
          "ser_time", "server"]] = ["1999-03-01T23:59:58", "23:59:58", "00:00:03", "00:00:03", "00:00:13", "10",
                                    "AGENT", "00:00:13", "00:01:13", "60", "AG0"]  # fmt: skip
    frame = pd.concat([frame, late.to_frame().T], ignore_index=True)
    log = read_calls(write_log(frame, tmp_path), mapping)
    assert len(log.calls) == len(frame)
    assert log.bad == []
    last = log.calls.iloc[-1]
    assert last["queue_arrival"] == pd.Timestamp("1999-03-02T00:00:03")
    assert last["service_end"] == pd.Timestamp("1999-03-02T00:01:13")
    assert last["date"] == pd.Timestamp("1999-03-02")
    assert last["source_row"] == len(frame) - 1
    assert set(log.calls["intent"]) == {"retail"}
    assert set(log.calls["priority"]) == {"normal"}
    assert (log.calls["served"] != log.calls["abandoned"]).all()
    assert log.calls["log_call_id"].tolist() == frame["call_id"].tolist()


def test_hang_after_reaching_an_agent_counts_as_served(tmp_path, mapping):
    frame = mmc_log(days=1, rate_per_h=20, seed=2)
    i = int(np.flatnonzero(frame["outcome"] == "AGENT")[0])
    frame.loc[i, "outcome"] = "HANG"  # the Technion log has 22 of these
    log = read_calls(write_log(frame, tmp_path), mapping)
    assert bool(log.calls.loc[log.calls["source_row"] == i, "served"].iloc[0])


def test_skipped_rows_are_counted(tmp_path, mapping):
    frame = mmc_log(days=1, rate_per_h=20, seed=3)
    frame.loc[0, "outcome"] = "PHANTOM"
    frame.loc[1, ["q_start", "ser_start", "ser_exit", "server", "outcome"]] = ["", "", "", "NO_SERVER", "HANG"]
    log = read_calls(write_log(frame, tmp_path), mapping)
    assert log.skipped == {"ignore outcome=['PHANTOM']": 1, "require_any ['q_start', 'ser_start']": 1}
    assert len(log.calls) + 2 == len(frame)


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("arrival", "yesterday", "unparseable or empty timestamp"),
        ("q_time", "-4", "negative duration"),
        ("ser_time", "abc", "non-numeric duration"),
        ("type", "ZZ", "intent value not in values.intent"),
        ("outcome", "LOST", "outcome that is not in"),
        ("vru_exit", "25:99", "unparseable clock time"),
    ],
)
def test_bad_rows_refused_with_lines_or_skipped_and_reported(tmp_path, mapping, column, value, words):
    frame = mmc_log(days=1, rate_per_h=20, seed=4)
    frame.loc[[3, 7], column] = value
    path = write_log(frame, tmp_path)
    with pytest.raises(CalibrationInputError) as exc:
        read_calls(path, mapping)
    msg = str(exc.value)
    assert words in msg
    assert f"column {column!r}: 2 row(s)" in msg
    assert "line 5" in msg
    assert "line 9" in msg
    skipping = mapping.model_copy(update={"on_bad": "skip"})
    log = read_calls(path, skipping)
    assert log.bad_total == 2
    assert words in str(log.bad[0])
    assert log.skipped["bad rows (on_bad: skip)"] == 2
    assert len(log.calls) == len(frame) - 2
    assert not set(log.calls["source_row"]) & {3, 7}


def test_missing_column_and_mapping_errors(tmp_path, mapping):
    frame = mmc_log(days=1, rate_per_h=20, seed=5).drop(columns=["q_time"])
    with pytest.raises(CalibrationInputError, match=r"missing column\(s\) \['q_time'\]"):
        read_calls(write_log(frame, tmp_path), mapping)
    bad = yaml.safe_load(MAPPING)
    bad["groups"] = {"bank": ["retail", "ghost"]}
    bad["interval"] = "7min"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(CalibrationInputError) as exc:
        load_mapping(path)
    assert "unknown intents ['ghost']" in str(exc.value)
    assert "must divide a day" in str(exc.value)


# ------------------------------------------------------------------------------------------------ fits


def test_exponential_patience_recovered_within_its_interval():
    # truth: patience ~ Exp(300 s), censored by an independent Exp(200 s) time to service
    rng = np.random.default_rng(11)
    n = 4000
    patience, service = rng.exponential(300.0, n), rng.exponential(200.0, n)
    fit = patience_cell(np.minimum(patience, service), patience < service, ("x", None))
    lo, hi = fit.exp_ci_s
    assert lo < 300.0 < hi
    assert fit.n_abandoned == int((patience < service).sum())
    # Kaplan-Meier is within the DKW-type 99% band of the truth where enough callers are at risk
    t, s = fit.km_times_s, fit.km_survival
    at_risk = t < np.quantile(np.minimum(patience, service), 0.9)
    eps = math.sqrt(math.log(2 / 0.01) / (2 * n * 0.1))  # n at risk >= 10% of n over that range
    assert np.max(np.abs(s[at_risk] - np.exp(-t[at_risk] / 300.0))) < eps
    expo = next(f for f in fit.fits if f.dist == "exponential")
    assert expo.mean_s == pytest.approx(fit.exp_mean_s)


@pytest.mark.parametrize("name", ["lognormal", "gamma"])
def test_censored_mle_agrees_with_scipy_fit_on_censored_data(name):
    rng = np.random.default_rng(5)
    truth = stats.lognorm(0.8, scale=200.0) if name == "lognormal" else stats.gamma(1.6, scale=150.0)
    p = np.round(truth.rvs(3000, random_state=rng)) + 1
    c = np.round(rng.exponential(300.0, 3000)) + 1
    ab = p < c
    ours = _censored_mle(name, np.minimum(p, c)[ab], np.minimum(p, c)[~ab])
    data = stats.CensoredData(uncensored=np.minimum(p, c)[ab], right=np.minimum(p, c)[~ab])
    dist = stats.lognorm if name == "lognormal" else stats.gamma
    ref = dist(*dist.fit(data, floc=0))
    assert ours.mean() == pytest.approx(ref.mean(), rel=2e-3)
    assert ours.std() == pytest.approx(ref.std(), rel=2e-3)


def test_handle_fit_picks_the_true_family_and_mean():
    rng = np.random.default_rng(3)
    n = 5000
    x = rng.gamma(2.0, 90.0, n)
    calls = pd.DataFrame({"intent": "a", "talk_s": x})
    fits = fit_handle(calls)["a"]
    assert fits[0].dist == "gamma"
    se = x.std() / math.sqrt(n)
    assert abs(fits[0].mean_s - 180.0) < 4 * se
    assert fits[0].ks < fits[-1].ks


def test_arrival_profile_counts_and_busyness_formula(mapping):
    # 3 days: 2, 4 and 6 calls at 08:10 (slot 16), one more at 12:40 (slot 25) on the first day
    times = (["1999-03-01T08:10"] * 2 + ["1999-03-01T12:40"] + ["1999-03-02T08:10"] * 4 + ["1999-03-03T08:10"] * 6)
    t = pd.to_datetime(pd.Series(times))
    calls = pd.DataFrame({"queue_arrival": t, "date": t.dt.normalize(), "intent": "retail"})
    (fit,) = fit_arrivals(calls, mapping)
    assert fit.n_days == 3
    assert fit.daily_mean == pytest.approx(13 / 3)
    assert fit.profile[16] == pytest.approx(4.0)
    assert fit.profile[25] == pytest.approx(1 / 3)
    daily = np.array([3.0, 4.0, 6.0])
    m, v = daily.mean(), daily.var(ddof=1)
    assert fit.busyness_cv == pytest.approx(math.sqrt(max(0.0, (v - m) / m**2)))


def test_staffing_seen_busy_and_availability_by_hand(mapping):
    # agent A talks 08:00-08:20 and 08:50-09:10; B 08:10-08:40; a queue of 2 calls waits 08:00-08:30 (so the
    # 08:00 interval is congested: 3600 s of waiting in 1800 s = mean queue 2)
    d = pd.Timestamp("1999-03-01")

    def ts(hm: str) -> pd.Timestamp:
        return d + pd.Timedelta(hm)

    calls = pd.DataFrame({
        "server": ["A", "A", "B", "", ""],
        "service_start": [ts("8h"), ts("8h50min"), ts("8h10min"), pd.NaT, pd.NaT],
        "service_end": [ts("8h20min"), ts("9h10min"), ts("8h40min"), pd.NaT, pd.NaT],
        "queue_arrival": [ts("8h")] * 5, "wait_s": [0.0, 0.0, 0.0, 1800.0, 1800.0],
        "intent": "retail", "date": d,
    })  # fmt: skip
    fit = fit_staffing(calls, mapping)
    t = fit.table.set_index("start")
    assert t.loc[ts("8h"), "seen"] == 2
    assert t.loc[ts("8h"), "busy_s"] == 1200 + 1200
    assert t.loc[ts("8h30min"), "seen"] == 2
    assert t.loc[ts("8h30min"), "busy_s"] == 600 + 600
    assert t.loc[ts("9h"), "seen"] == 1
    assert t.loc[ts("9h"), "busy_s"] == 600
    assert t.loc[ts("8h"), "queue_s"] == 3600
    assert fit.congested["bank"] == 1
    # on duty (presence gap 15 min: A's 30-min gap splits its spans): 08:00 slot 20 + 20 min, 08:30 10 + 10 min
    assert t.loc[ts("8h"), "present"] == pytest.approx(2400 / 1800)
    assert t.loc[ts("8h30min"), "present"] == pytest.approx(1200 / 1800)
    assert t.loc[ts("9h"), "present"] == pytest.approx(600 / 1800)
    assert fit.availability["bank"] == pytest.approx(1.0)
    assert fit.agent_group == {"A": "bank", "B": "bank"}
    # a 40-min presence gap keeps A on duty 08:00-09:10: the 08:00 slot has 30 + 20 min on duty, 40 min talking
    wide = fit_staffing(calls, mapping.model_copy(update={"presence_gap": 2400.0}))
    assert wide.table.set_index("start").loc[ts("8h"), "present"] == pytest.approx(3000 / 1800)
    assert wide.availability["bank"] == pytest.approx(2400 / 3000)


def test_availability_by_hour_from_the_waiting_seconds_by_hand():
    h = 3600.0
    day = 86400.0
    # day 1, 08:00-09:00: 2 agents on duty, 1 talking 08:00-08:30; a caller waits 08:00-08:20 -> 1 of 2 available
    # day 2, 08:00-08:10: 1 agent on duty and talking, a caller waits -> 1 of 1; 09:00-09:10 on day 1: 2 of 2
    busy = (np.array([8 * h, day + 8 * h, 9 * h, 9 * h]), np.array([8.5 * h, day + 8 * h + 600, 9 * h + 600, 9 * h + 600]))
    present = (np.array([8 * h, 8 * h, day + 8 * h, 9 * h, 9 * h]),
               np.array([8.5 * h, 8.5 * h, day + 8 * h + 600, 10 * h, 10 * h]))
    queue = (np.array([8 * h, day + 8 * h, 9 * h]), np.array([8 * h + 1200, day + 8 * h + 600, 9 * h + 600]))
    est = availability_by_hour(busy, present, queue, int(2 * day))
    assert est["waiting_s"][8] == 1800
    assert est["raw"][8] == pytest.approx((1200 * 1 + 600 * 1) / (1200 * 2 + 600 * 1))
    assert est["raw"][9] == pytest.approx(1.0)
    assert est["raw"][3] is None
    overall = (1800 + 1200) / (3000 + 1200)
    assert est["overall"] == pytest.approx(overall)
    w8 = 1800 / (1800 + HOURLY_PRIOR_S)
    assert est["by_hour"][8] == pytest.approx(w8 * 0.6 + (1 - w8) * overall)
    assert est["by_hour"][3] == pytest.approx(overall)  # no waiting in the hour: the whole window's figure


def test_staffing_with_hourly_availability_scales_the_table(mapping):
    d = pd.Timestamp("1999-03-01")

    def ts(hm: str) -> pd.Timestamp:
        return d + pd.Timedelta(hm)

    # 08h: A and B on duty, only A talks while a caller waits; 09h: A and B both talk while one waits
    calls = pd.DataFrame({
        "server": ["A", "B", "A", "B", "", ""],
        "service_start": [ts("8h"), ts("8h"), ts("9h"), ts("9h"), pd.NaT, pd.NaT],
        "service_end": [ts("8h30min"), ts("8h1min"), ts("9h30min"), ts("9h30min"), pd.NaT, pd.NaT],
        "queue_arrival": [ts("8h"), ts("8h"), ts("9h"), ts("9h"), ts("8h10min"), ts("9h10min")],
        "wait_s": [0.0, 0.0, 0.0, 0.0, 600.0 + RING_S, 600.0 + RING_S],
        "intent": "retail", "date": d,
    })  # fmt: skip
    hourly = mapping.model_copy(update={"availability_by": "hour", "presence_gap": 3600.0})
    fit = fit_staffing(calls, hourly)
    raw = fit.hourly["bank"]["raw"]
    assert raw[8] == pytest.approx(0.5)  # 08:10-08:20: A talks, B (on duty until 08:30 via its gap) does not
    assert raw[9] == pytest.approx(1.0)
    top = max(fit.hourly["bank"]["by_hour"].values())
    assert fit.profile["bank"][8] == pytest.approx(fit.hourly["bank"]["by_hour"][8] / top)
    assert fit.profile["bank"][9] == pytest.approx(1.0)
    plain = fit_staffing(calls, mapping.model_copy(update={"presence_gap": 3600.0}))
    assert plain.profile == {}
    table, flat = staffing_table(fit, "bank", 1800.0), staffing_table(plain, "bank", 1800.0)
    assert table["agents"]["1999-03-01T08:00"] == pytest.approx(
        round(flat["agents"]["1999-03-01T08:00"] * fit.profile["bank"][8], 3))
    assert table["agents"]["1999-03-01T09:00"] == flat["agents"]["1999-03-01T09:00"]
    # a held-out window takes the calibrated profile instead of estimating one
    given = fit_staffing(calls, hourly, profile={"bank": {x: 0.5 for x in range(24)}})
    assert given.profile["bank"][8] == 0.5
    assert given.hourly == {}


def test_patience_written_parametric_or_km_table():
    rng = np.random.default_rng(2)
    p, c = rng.exponential(300.0, 3000), rng.exponential(200.0, 3000)
    fit = patience_cell(np.minimum(p, c), p < c, ("a", None))
    dist, why = patience_choice(fit)
    assert dist["dist"] in {"exponential", "gamma", "lognormal"}
    assert "best AIC" in why
    # a two-point mixture no candidate follows: the Kaplan-Meier table is written
    p2 = np.where(rng.random(3000) < 0.5, 20.0, 2000.0) + rng.random(3000)
    fit2 = patience_cell(np.minimum(p2, c), p2 < c, ("a", None))
    dist2, why2 = patience_choice(fit2)
    assert dist2["dist"] == "survival"
    assert "Kaplan-Meier" in why2
    assert dist2["survival"][0] == 1.0
    assert all(np.diff(dist2["survival"]) <= 0)


# ------------------------------------------------------------------------------------------------ writing


def test_calibrate_writes_a_valid_scenario_and_recovers_the_truth(tmp_path, mapping):
    frame = mmc_log(days=6, rate_per_h=70, agents=3, handle_mean_s=150, patience_mean_s=240, seed=7)
    path = write_log(frame, tmp_path)
    cal = calibrate(path, mapping)
    report = write_calibration(cal, tmp_path / "out" / "cal.yaml")
    scenario, _ = load_scenario(tmp_path / "out" / "cal.yaml")
    table = scenario.groups["bank"].staffing_table
    assert table is not None
    assert max(table.agents.values()) <= 3.0
    assert scenario.shifts == {}  # the tables are the whole staffing: no placeholder shift
    assert scenario.start.date().isoformat() == "1999-03-01"
    assert scenario.horizon == 6 * 86400
    (pooled,) = [p for p in report["patience"] if p["intent"] is None]
    lo, hi = pooled["exponential_mean_ci95_s"]
    assert lo < 240 < hi
    replay = pd.read_parquet(tmp_path / "out" / "cal.replay.parquet")
    assert len(replay) == len(frame)
    assert (replay["keep"] == "1").all()
    assert replay["call_id"].tolist() == frame["call_id"].tolist()
    for name in report["files"]:
        assert (tmp_path / "out" / name).is_file(), name
    md = (tmp_path / "out" / "cal.report.md").read_text()
    assert "Kaplan-Meier" in md or "best AIC" in md


def test_cli_calibrate_and_bad_log(tmp_path, capsys):
    frame = mmc_log(days=2, rate_per_h=40, seed=8)
    path = write_log(frame, tmp_path)
    mp = write_mapping(tmp_path)
    assert main(["calibrate", str(path), "--map", str(mp), "--out", str(tmp_path / "o" / "s.yaml"), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "patience all/all" in out
    assert "staffing bank" in out
    frame.loc[4, "q_time"] = "-1"
    bad = write_log(frame, tmp_path, "bad.csv")
    assert main(["calibrate", str(bad), "--map", str(mp), "--out", str(tmp_path / "p" / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "negative duration" in err
    assert "line 6" in err
    assert "Traceback" not in err
    assert not (tmp_path / "p" / "s.yaml").exists()


# ------------------------------------------------------------------------------------------------ plots


def _labelled(fig: Figure) -> None:
    for ax in fig.axes:
        assert ax.get_xlabel()
        assert ax.get_ylabel()


def test_plots_have_units_and_lines(mapping):
    rng = np.random.default_rng(1)
    p, c = rng.exponential(300.0, 500), rng.exponential(200.0, 500)
    fit = patience_cell(np.minimum(p, c), p < c, ("a", None))
    fig = plots.plot_patience(fit)
    _labelled(fig)
    assert "(s)" in fig.axes[0].get_xlabel()
    assert len(fig.axes[0].lines) == 1 + len(fit.fits)
    x = rng.gamma(2.0, 90.0, 500)
    fits = fit_handle(pd.DataFrame({"intent": "a", "talk_s": x}))["a"]
    fig = plots.plot_handle(x, fits)
    _labelled(fig)
    assert "(s)" in fig.axes[0].get_xlabel()
    assert len(fig.axes[0].lines) == 1 + len(fits)
    t = pd.to_datetime(pd.Series(["1999-03-01T08:10", "1999-03-06T09:00"]))
    arr = fit_arrivals(pd.DataFrame({"queue_arrival": t, "date": t.dt.normalize(), "intent": "retail"}), mapping)
    fig = plots.plot_arrivals(arr, 1800.0)
    _labelled(fig)
    assert "(h)" in fig.axes[0].get_xlabel()
    assert len(fig.axes[0].lines) == len(arr)
    table = pd.DataFrame({"group": "bank", "start": pd.date_range("1999-03-01", periods=4, freq="30min"),
                          "seen": [1, 2, 2, 0], "present": [0.5, 2, 1.5, 0], "busy_s": 0.0, "queue_s": 0.0})  # fmt: skip
    fig = plots.plot_staffing(table, {"bank": 0.8})
    _labelled(fig)
    assert len(fig.axes[0].lines) == 2
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [0.4, 1.6, 1.2, 0.0])
    hourly = plots.plot_staffing(table, {"bank": 0.8}, {"bank": {0: 0.5, 1: 1.0}})  # 00:00-01:30 -> hours 0, 0, 1, 1
    np.testing.assert_allclose(hourly.axes[0].lines[1].get_ydata(), [0.2, 0.8, 1.2, 0.0])
    per = pd.DataFrame({"start": pd.date_range("1999-03-01", periods=3, freq="1h"),
                        "abandon_rate_actual": [0.1, 0.2, 0.1], "abandon_rate_sim": [0.1, 0.1, 0.2],
                        "asa_s_actual": [10, 20, 30], "asa_s_sim": [12, 18, 33]})  # fmt: skip
    fig = plots.plot_backtest(per)
    _labelled(fig)
    assert len(fig.axes) == 2
    assert all(len(ax.lines) == 2 for ax in fig.axes)
    assert "(s)" in fig.axes[1].get_ylabel()
