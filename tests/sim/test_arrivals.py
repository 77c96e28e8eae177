"""Generated arrivals: NHPP correctness, day factors, events, attributes, reproducibility and CRN.

Every statistical tolerance is derived from the sampling distribution (Poisson / binomial standard errors,
chi-square quantiles) at the level of one check of the suite's family (``tests.stats_family``: each assertion is
one check; a check over k z-scores splits its level over them); seeds are fixed, so each test is deterministic.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
import types
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.arrivals import ArrivalBatch, iter_arrivals
from sim.config import Scenario
from sim.streams import Streams
from tests.stats_family import check_alpha, z_crit

FIELDS = ("time_s", "channel", "intent", "priority", "tier", "language", "customer_id", "handle_s", "patience_s")
DTYPES = {
    "time_s": np.float64,
    "channel": np.int16,
    "intent": np.int16,
    "priority": np.int8,
    "tier": np.int8,
    "language": np.int16,
    "customer_id": np.int64,
    "handle_s": np.float64,
    "patience_s": np.float64,
}
DAY = 86400.0

BASE: dict[str, Any] = {
    "name": "arrivals-test",
    "start": "2026-11-09T00:00",  # a Monday
    "horizon": "7d",
    "channels": {
        "voice": {"kind": "live", "patience": {"dist": "exponential", "mean": "5min"}},
        "chat": {"kind": "live", "concurrency": 3, "patience": {"dist": "exponential", "mean": "2min"}},
        "email": {"kind": "deferrable"},
    },
    "intents": {
        "billing": {
            "handle": {"dist": "lognormal", "mean": "5min", "cv": 0.8},
            "handle_by_channel": {"email": {"dist": "fixed", "value": "10min"}},
            "urgent_share": 0.2,
        },
        "tech": {"handle": {"dist": "exponential", "mean": "8min"}},
    },
    "customers": {"languages": {"en": 3, "de": 1}, "vip_share": 0.1},
    "shifts": {"always": {"start": "00:00", "length": "24h"}},
    "groups": {
        "all": {
            "channels": ["voice", "chat", "email"],
            "skills": {"billing": 1.0, "tech": 1.0},
            "languages": ["en", "de"],
            "staffing": {"always": 10},
        }
    },
}


def make_scenario(channels: dict[str, Any], *, arrivals: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """A test scenario with generated arrivals ``channels`` (+ other ``arrivals`` keys, top-level overrides)."""
    data = copy.deepcopy(BASE)
    data["arrivals"] = {"kind": "generated", "channels": channels, **(arrivals or {})}
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = _deep_update(data[key], value)
        else:
            data[key] = value
    return Scenario.model_validate(data)


def _deep_update(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in new.items():
        out[key] = (
            _deep_update(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def collect(batches: list[ArrivalBatch]) -> dict[str, np.ndarray]:
    return {f: np.concatenate([getattr(b, f) for b in batches]) for f in FIELDS}


def run(scenario: Scenario, seed: int = 1, replication: int = 0) -> list[ArrivalBatch]:
    return list(iter_arrivals(scenario, Streams(seed, replication)))


def poisson_z(observed: np.ndarray | float, expected: np.ndarray | float) -> np.ndarray:
    return (np.asarray(observed, dtype=float) - expected) / np.sqrt(expected)


def binomial_z(successes: int, n: int, p: float) -> float:
    return (successes - n * p) / np.sqrt(n * p * (1 - p))


# ------------------------------------------------------------------------------------------ NHPP correctness

LOW, HIGH = 1.0, 20.0
STEP_WEIGHTS = [LOW] * 24 + [HIGH] * 24  # 30-minute slices: the rate jumps 20x at noon
STEP_VOLUME = 2100.0
STEP_DAYS = 200
BIN_EDGES_S = np.array([0, 6, 11, 12, 12 + 5 / 60, 12.25, 13, 18, 24]) * 3600.0


def step_rate(t_of_day: np.ndarray) -> np.ndarray:
    """Rate (contacts per second) of the step scenario at time of day ``t`` (seconds)."""
    unit = STEP_VOLUME / (sum(STEP_WEIGHTS) * 1800.0)
    return np.where(t_of_day < 43200.0, LOW * unit, HIGH * unit)


def step_expected_per_bin(n_days: int) -> np.ndarray:
    unit = STEP_VOLUME / (sum(STEP_WEIGHTS) * 1800.0)
    lo, hi = BIN_EDGES_S[:-1], BIN_EDGES_S[1:]
    low_part = np.clip(np.minimum(hi, 43200.0) - lo, 0, None)
    high_part = np.clip(hi - np.maximum(lo, 43200.0), 0, None)
    return n_days * unit * (LOW * low_part + HIGH * high_part)


def naive_gap_times(rng: np.random.Generator, n_days: int) -> np.ndarray:
    """The WRONG method: each gap exponential at the rate in force at the previous arrival (all days at once)."""
    t = np.zeros(n_days)
    out = []
    active = np.ones(n_days, dtype=bool)
    while active.any():
        t[active] += rng.exponential(1.0 / step_rate(t[active]))
        active &= t < DAY
        out.append(t[active].copy())
    return np.concatenate(out)


def chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    return float(np.sum((observed - expected) ** 2 / expected))


def test_nhpp_counts_per_interval_match_integrated_rate_across_a_sharp_change() -> None:
    sc = make_scenario(
        {"voice": {"daily_volume": STEP_VOLUME, "intent_mix": {"billing": 1}, "intraday": STEP_WEIGHTS}},
        horizon=f"{STEP_DAYS}d",
    )
    times = collect(run(sc, seed=11))["time_s"]
    observed, _ = np.histogram(np.mod(times, DAY), BIN_EDGES_S)
    expected = step_expected_per_bin(STEP_DAYS)
    k = len(expected)
    # Daily counts per bin are independent Poisson: per-bin z and a chi-square with k degrees of freedom.
    assert np.all(np.abs(poisson_z(observed, expected)) < z_crit(k)), (observed, expected)
    assert chi_square(observed, expected) < stats.chi2.ppf(1 - check_alpha(), k)


def test_naive_previous_rate_gaps_fail_the_same_check() -> None:
    times = naive_gap_times(np.random.default_rng(11), STEP_DAYS)
    observed, _ = np.histogram(times, BIN_EDGES_S)
    expected = step_expected_per_bin(STEP_DAYS)
    k = len(expected)
    right_after = int(np.searchsorted(BIN_EDGES_S, 43200.0))  # the bin [12:00, 12:05)
    z = poisson_z(observed, expected)
    # The naive method keeps the low-rate gap running across the jump: far too few arrivals right after it.
    assert z[right_after] < -z_crit(k), z
    assert z[right_after] < -10
    assert chi_square(observed, expected) > stats.chi2.ppf(1 - check_alpha(), k)


def test_zero_weight_slices_get_no_arrivals_and_rate_is_exact_per_slice() -> None:
    weights = [0.0] * 12 + [1.0] * 12  # hourly slices, closed until noon
    sc = make_scenario(
        {"voice": {"daily_volume": 1000, "intent_mix": {"billing": 1}, "intraday": weights}}, horizon="30d"
    )
    tod = np.mod(collect(run(sc))["time_s"], DAY)
    assert tod.min() >= 43200.0
    observed = np.bincount((tod // 3600).astype(int), minlength=24)[12:]
    expected = np.full(12, 30 * 1000 / 12)
    assert np.all(np.abs(poisson_z(observed, expected)) < z_crit(12))


# ----------------------------------------------------------------------------------------------- daily totals


def daily_counts(batches: list[ArrivalBatch], channel: int | None = None) -> np.ndarray:
    return np.array([len(b) if channel is None else int(np.sum(b.channel == channel)) for b in batches])


def test_daily_totals_are_poisson_without_busyness() -> None:
    n_days, mu = 500, 400.0
    sc = make_scenario({"voice": {"daily_volume": mu, "intent_mix": {"billing": 1, "tech": 1}}}, horizon=f"{n_days}d")
    counts = daily_counts(run(sc, seed=3))
    assert abs((counts.mean() - mu) / np.sqrt(mu / n_days)) < z_crit()
    # (D - 1) s^2 / mu ~ chi2(D - 1) for Poisson counts: the dispersion index is 1 within its CI.
    dispersion = (n_days - 1) * counts.var(ddof=1) / mu
    alpha = check_alpha()
    lo, hi = stats.chi2.ppf([alpha / 2, 1 - alpha / 2], n_days - 1)
    assert lo < dispersion < hi


def test_busyness_over_disperses_daily_totals_and_is_shared_by_channels() -> None:
    n_days, mu, cv = 500, 400.0, 0.4
    sc = make_scenario(
        {
            "voice": {"daily_volume": mu, "intent_mix": {"billing": 1}},
            "chat": {"daily_volume": mu, "intent_mix": {"tech": 1}},
        },
        arrivals={"busyness_cv": cv},
        horizon=f"{n_days}d",
    )
    batches = run(sc, seed=5)
    voice, chat = daily_counts(batches, 0), daily_counts(batches, 1)
    # Gamma-mixed Poisson = negative binomial with r = 1/cv^2: variance mu + mu^2 cv^2.
    r = 1.0 / cv**2
    nb = stats.nbinom(r, r / (r + mu))
    var = float(nb.var())
    assert var == pytest.approx(mu + mu**2 * cv**2)
    mu4 = (float(nb.stats(moments="k")) + 3.0) * var**2
    se_var = np.sqrt(mu4 / n_days - var**2 * (n_days - 3) / (n_days * (n_days - 1)))
    assert abs((voice.var(ddof=1) - var) / se_var) < z_crit()
    assert abs((voice.mean() - mu) / np.sqrt(var / n_days)) < z_crit()
    # One factor per day for all channels: daily totals of the two channels are strongly correlated.
    fisher = np.arctanh(np.corrcoef(voice, chat)[0, 1]) * np.sqrt(n_days - 3)
    assert fisher > z_crit()


def test_zero_busyness_cv_consumes_no_draws() -> None:
    sc = make_scenario({"voice": {"daily_volume": 100, "intent_mix": {"billing": 1}}})
    streams = Streams(4)
    list(iter_arrivals(sc, streams))
    assert streams.get("busyness").random() == Streams(4).fresh("busyness").random()


# -------------------------------------------------------------------------------------------- calendar factors


def test_day_of_week_factors_scale_each_weekday() -> None:
    n_weeks, volume = 10, 1000.0
    factors = {"mon": 1.5, "sat": 0.5, "sun": 0.2}
    sc = make_scenario(
        {"voice": {"daily_volume": volume, "intent_mix": {"billing": 1}}},
        arrivals={"day_of_week": factors},
        horizon=f"{7 * n_weeks}d",
    )
    counts = daily_counts(run(sc, seed=7)).reshape(n_weeks, 7).sum(axis=0)  # start is a Monday
    expected = np.array(
        [n_weeks * volume * factors.get(day, 1.0) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    )
    assert np.all(np.abs(poisson_z(counts, expected)) < z_crit(7)), (counts, expected)


def test_day_of_week_uses_the_calendar_day_when_the_start_is_mid_day() -> None:
    sc = make_scenario(
        {"voice": {"daily_volume": 5000, "intent_mix": {"billing": 1}}},
        arrivals={"day_of_week": {"sun": 0.0}},
        start="2026-11-08T15:30",  # a Sunday afternoon
        horizon="2d",
    )
    batches = run(sc)
    assert len(batches) == 3
    assert len(batches[0]) == 0  # rest of Sunday
    assert len(batches[1]) > 0
    assert len(batches[2]) > 0


@pytest.mark.parametrize("promo_channels", [["chat"], None])
def test_promotion_multiplies_rate_inside_its_window_only(promo_channels: list[str] | None) -> None:
    volume, factor, n_days = 1000.0, 3.0, 20
    start, end = dt.datetime(2026, 11, 11, 10, 10), dt.datetime(2026, 11, 21, 16, 20)
    sc = make_scenario(
        {
            "voice": {"daily_volume": volume, "intent_mix": {"billing": 1}},
            "chat": {"daily_volume": volume, "intent_mix": {"tech": 1}},
        },
        arrivals={"promotions": [{"start": start, "end": end, "factor": factor, "channels": promo_channels}]},
        horizon=f"{n_days}d",
    )
    data = collect(run(sc, seed=9))
    lo_s = (start - sc.start).total_seconds()
    hi_s = (end - sc.start).total_seconds()
    inside = (data["time_s"] >= lo_s) & (data["time_s"] < hi_s)
    unit = volume / DAY
    voice_factor = factor if promo_channels is None else 1.0
    cases = [
        (np.sum(inside & (data["channel"] == 1)), unit * (hi_s - lo_s) * factor),
        (np.sum(~inside & (data["channel"] == 1)), unit * (n_days * DAY - (hi_s - lo_s))),
        (np.sum(inside & (data["channel"] == 0)), unit * (hi_s - lo_s) * voice_factor),
        (np.sum(~inside & (data["channel"] == 0)), unit * (n_days * DAY - (hi_s - lo_s))),
    ]
    observed, expected = np.array([c[0] for c in cases]), np.array([c[1] for c in cases])
    assert np.all(np.abs(poisson_z(observed, expected)) < z_crit(len(cases))), (observed, expected)


# ------------------------------------------------------------------------------------------------------ outages


def test_outages_leave_the_generated_arrivals_unchanged() -> None:
    """Outages are applied by the engine as contacts arrive (tests/sim/test_outages.py), not to the arrivals."""
    channels = {
        "voice": {"daily_volume": 500, "intent_mix": {"billing": 1}},
        "chat": {"daily_volume": 2000, "intent_mix": {"billing": 1, "tech": 1}},
    }
    outage = {"channel": "chat", "start": "2026-11-10T08:00", "end": "2026-11-15T20:00", "moved_to": "email",
              "moved_share": 0.3, "retry_share": 0.2, "retry_after": {"dist": "exponential", "mean": "30min"}}
    common = {"horizon": "10d", "customers": {"population": 10**9}}
    base = collect(run(make_scenario(channels, **common), seed=21))
    hit = collect(run(make_scenario(channels, arrivals={"outages": [outage]}, **common), seed=21))
    for f in FIELDS:
        np.testing.assert_array_equal(base[f], hit[f], err_msg=f)


# --------------------------------------------------------------------------------------------------- attributes


def test_attribute_shares_codes_and_customer_ids() -> None:
    sc = make_scenario(
        {
            "voice": {"daily_volume": 2000, "intent_mix": {"billing": 1, "tech": 1}},
            "chat": {"daily_volume": 1000, "intent_mix": {"billing": 3, "tech": 1}},
        },
        horizon="30d",
    )
    data = collect(run(sc, seed=13))
    n = data["time_s"].size
    billing = data["intent"] == 0
    assert np.all(data["priority"][~billing] == 0)  # tech: urgent_share 0
    checks = [
        binomial_z(int(data["priority"][billing].sum()), int(billing.sum()), 0.2),
        binomial_z(int(data["tier"].sum()), n, 0.1),
        binomial_z(int((data["language"] == 0).sum()), n, 0.75),  # en: 3 of 4
        binomial_z(int(billing[data["channel"] == 1].sum()), int((data["channel"] == 1).sum()), 0.75),
    ]
    assert np.all(np.abs(checks) < z_crit(len(checks))), checks
    assert set(np.unique(data["language"])) == {0, 1}
    # No population: every contact is a new customer, ids increasing in arrival order over the run.
    np.testing.assert_array_equal(data["customer_id"], np.arange(n))
    # Handle times and patience come from the right distributions (sample means within their standard errors:
    # lognormal mean 5 min cv 0.8, exponential mean 2 min).
    voice_billing = (data["channel"] == 0) & billing
    h = data["handle_s"][voice_billing]
    assert abs((h.mean() - 300.0) / (300.0 * 0.8 / np.sqrt(h.size))) < z_crit()
    p = data["patience_s"][data["channel"] == 1]
    assert abs((p.mean() - 120.0) / (120.0 / np.sqrt(p.size))) < z_crit()


def test_population_draws_ids_in_range() -> None:
    sc = make_scenario(
        {"voice": {"daily_volume": 3000, "intent_mix": {"billing": 1}}}, customers={"population": 500}, horizon="2d"
    )
    ids = collect(run(sc))["customer_id"]
    assert ids.min() >= 0
    assert ids.max() < 500
    assert np.unique(ids).size > 400


# ------------------------------------------------------------------------------- reproducibility and CRN


CRN_CHANNELS = {
    "voice": {"daily_volume": 800, "intent_mix": {"billing": 1, "tech": 2}, "intraday": [1, 2, 3, 2] * 6},
    "chat": {"daily_volume": 500, "intent_mix": {"billing": 1, "tech": 1}},
}


def test_same_seed_gives_identical_arrays_and_other_replications_differ() -> None:
    sc = make_scenario(CRN_CHANNELS, arrivals={"busyness_cv": 0.2}, horizon="3d")
    a, b = collect(run(sc, seed=7)), collect(run(sc, seed=7))
    for f in FIELDS:
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)
    other = collect(run(sc, seed=7, replication=1))
    assert a["time_s"].size != other["time_s"].size or not np.array_equal(a["time_s"], other["time_s"])
    assert not np.array_equal(a["handle_s"][:100], other["handle_s"][:100])


def test_crn_changing_one_share_changes_no_other_draw() -> None:
    base = collect(run(make_scenario(CRN_CHANNELS, horizon="3d"), seed=8))
    more_urgent = make_scenario(CRN_CHANNELS, intents={"billing": {"urgent_share": 0.6}}, horizon="3d")
    changed = collect(run(more_urgent, seed=8))
    for f in ("time_s", "channel", "intent", "tier", "language", "customer_id", "handle_s", "patience_s"):
        np.testing.assert_array_equal(base[f], changed[f], err_msg=f)
    tech = base["intent"] == 1
    np.testing.assert_array_equal(base["priority"][tech], changed["priority"][tech])
    assert not np.array_equal(base["priority"][~tech], changed["priority"][~tech])
    # A share of 0 draws nothing and shifts nothing either.
    no_vip = collect(run(make_scenario(CRN_CHANNELS, customers={"vip_share": 0.0}, horizon="3d"), seed=8))
    for f in ("time_s", "priority", "language", "handle_s", "patience_s"):
        np.testing.assert_array_equal(base[f], no_vip[f], err_msg=f)
    assert not no_vip["tier"].any()


# --------------------------------------------------------------------------------------------- batch contract


def test_batches_sorted_non_overlapping_in_horizon_one_per_calendar_day_mid_day_start() -> None:
    hour20 = [0.0] * 20 + [1.0] + [0.0] * 3  # only 20:00-21:00
    sc = make_scenario(
        {
            "voice": {"daily_volume": 2000, "intent_mix": {"billing": 1, "tech": 1}, "intraday": hour20},
            "chat": {"daily_volume": 3000, "intent_mix": {"tech": 1}},
        },
        start="2026-11-09T15:30",
        horizon="51h",
    )
    batches = run(sc)
    first_midnight = 8.5 * 3600.0
    bounds = [0.0, first_midnight, first_midnight + DAY, sc.horizon]  # partial, full, partial day
    assert len(batches) == 3
    for k, batch in enumerate(batches):
        assert isinstance(batch, ArrivalBatch)
        for f in FIELDS:
            assert getattr(batch, f).dtype == DTYPES[f], f
            assert len(getattr(batch, f)) == len(batch)
        assert np.all(np.diff(batch.time_s) >= 0)
        assert np.all((batch.time_s >= bounds[k]) & (batch.time_s < bounds[k + 1]))
    voice = collect(batches)
    tod = np.mod(voice["time_s"][voice["channel"] == 0] + 15.5 * 3600.0, DAY)
    assert np.all((tod >= 20 * 3600.0) & (tod < 21 * 3600.0))  # profile anchored to calendar midnight


def test_generation_is_lazy_and_fast() -> None:
    sc = make_scenario({"voice": {"daily_volume": 200_000, "intent_mix": {"billing": 1, "tech": 1}}}, horizon="3650d")
    it = iter_arrivals(sc, Streams(1))
    assert isinstance(it, types.GeneratorType)
    t0 = time.perf_counter()
    n = sum(len(next(it)) for _ in range(5))
    elapsed = time.perf_counter() - t0
    assert n > 900_000
    assert elapsed < 2.0, f"{n} arrivals took {elapsed:.2f}s"


def test_zero_volume_channel_yields_empty_days() -> None:
    sc = make_scenario({"voice": {"daily_volume": 0, "intent_mix": {"billing": 1}}}, horizon="2d")
    batches = run(sc)
    assert [len(b) for b in batches] == [0, 0]
    assert batches[0].time_s.dtype == np.float64
