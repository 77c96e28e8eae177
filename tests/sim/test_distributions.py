"""Distributions sample what their parameters say; durations parse with units; streams are named and stable."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from sim.distributions import Distribution
from sim.streams import Streams
from sim.units import format_duration, parse_duration, parse_time_of_day
from tests.stats_family import z_crit

N = 200_000
ADAPTER = TypeAdapter(Distribution)


def draw(spec: dict, n: int = N) -> tuple[object, np.ndarray]:
    dist = ADAPTER.validate_python(spec)
    return dist, dist.sample(np.random.default_rng(12345), n)


@pytest.mark.parametrize(
    ("spec", "cv"),
    [
        ({"dist": "exponential", "mean": "3min"}, 1.0),
        ({"dist": "lognormal", "mean": "4min", "cv": 0.8}, 0.8),
        ({"dist": "gamma", "mean": "7min", "cv": 1.5}, 1.5),
    ],
)
def test_mean_and_cv_match_parameters(spec, cv):
    dist, x = draw(spec)
    se = dist.mean_s * cv / math.sqrt(N)
    assert abs(x.mean() - dist.mean_s) < z_crit() * se
    assert (x > 0).all()
    # Sample CV within a generous bound derived from the delta method is awkward for heavy tails; compare the
    # log-variance for the lognormal exactly instead and the CV loosely for the others.
    if spec["dist"] == "lognormal":
        sigma2 = math.log1p(cv**2)
        se_var = sigma2 * math.sqrt(2 / (N - 1))
        assert abs(np.log(x).var(ddof=1) - sigma2) < z_crit() * se_var
    else:
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.05)


def test_hyperexponential_mixes_its_phases():
    dist, x = draw({"dist": "hyperexponential", "means": ["30s", "10min"], "probs": [0.4, 0.6]})
    assert dist.mean_s == pytest.approx(0.4 * 30 + 0.6 * 600)
    var = 2 * (0.4 * 30**2 + 0.6 * 600**2) - dist.mean_s**2
    assert abs(x.mean() - dist.mean_s) < z_crit() * math.sqrt(var / N)
    # Share of draws below 1 minute: 0.4 (1 - e^-2) + 0.6 (1 - e^-0.1).
    p = 0.4 * (1 - math.exp(-2)) + 0.6 * (1 - math.exp(-0.1))
    assert abs((x < 60).mean() - p) < z_crit() * math.sqrt(p * (1 - p) / N)


def test_uniform_and_triangular_have_their_support_mean_and_variance():
    uni, x = draw({"dist": "uniform", "low": "1min", "high": "3min"})
    assert uni.mean_s == 120.0
    assert x.min() >= 60.0
    assert x.max() <= 180.0
    var_u = (180.0 - 60.0) ** 2 / 12
    assert abs(x.mean() - 120.0) < z_crit() * math.sqrt(var_u / N)
    tri, y = draw({"dist": "triangular", "low": "1min", "mode": "2min", "high": "6min"})
    assert tri.mean_s == pytest.approx((60 + 120 + 360) / 3)
    assert y.min() >= 60.0
    assert y.max() <= 360.0
    a, c, b = 60.0, 120.0, 360.0
    var_t = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
    assert abs(y.mean() - tri.mean_s) < z_crit() * math.sqrt(var_t / N)
    # The mode splits the mass: P(Y <= mode) = (mode - low) / (high - low).
    p = (c - a) / (b - a)
    assert abs((y <= c).mean() - p) < z_crit() * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "uniform", "low": "3min", "high": "1min"}, "low must be below high"),
        ({"dist": "uniform", "low": "1min", "high": "1min"}, "low must be below high"),
        ({"dist": "triangular", "low": "1min", "mode": "5min", "high": "3min"}, "low <= mode <= high"),
        ({"dist": "triangular", "low": "1min", "mode": "1min", "high": "1min"}, "low < high"),
    ],
)
def test_uniform_and_triangular_reject_unordered_bounds(spec, message):
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(spec)


def test_empirical_resamples_the_values_uniformly():
    _, x = draw({"dist": "empirical", "values": ["1min", "2min", "7min"]})
    assert set(np.unique(x)) == {60.0, 120.0, 420.0}
    for v in (60.0, 120.0, 420.0):
        assert abs((x == v).mean() - 1 / 3) < z_crit() * math.sqrt(2 / 9 / N)


def test_fixed_and_none_consume_no_randomness():
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    assert (ADAPTER.validate_python({"dist": "fixed", "value": "90s"}).sample(rng, 3) == 90.0).all()
    assert np.isinf(ADAPTER.validate_python({"dist": "none"}).sample(rng, 3)).all()
    assert rng.bit_generator.state == before


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "exponential", "mean": "0s"}, "greater than zero"),
        ({"dist": "lognormal", "mean": "3min", "cv": 0}, "greater than or equal to 0.001"),
        ({"dist": "hyperexponential", "means": ["1min"], "probs": [0.5]}, "sum to 1"),
        ({"dist": "weibull", "mean": "1min"}, "does not match any of the expected tags"),
        ({"dist": "exponential", "mean": 180}, "duration string with a unit"),
    ],
)
def test_bad_parameters_are_rejected(spec, message):
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(spec)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20s", 20), ("5min", 300), ("1.5h", 5400), ("2d", 172800), ("1w", 604800), ("250ms", 0.25), ("0s", 0)],
)
def test_durations_parse_with_units_and_format_back(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("bad", ["20", "5 minutes", "-3min", "min", "", 300, None, True])
def test_bad_durations_say_what_is_expected(bad):
    with pytest.raises(ValueError, match=r"unit|negative"):
        parse_duration(bad)


def test_time_of_day():
    assert parse_time_of_day("07:30") == 27000
    assert parse_time_of_day("23:59:59") == 86399
    with pytest.raises(ValueError, match="out of range"):
        parse_time_of_day("24:00")


def test_streams_are_named_independent_and_stable():
    a = Streams(7, 0).get("handle/chat/refund").random(5)
    assert np.array_equal(a, Streams(7, 0).get("handle/chat/refund").random(5))
    assert not np.array_equal(a, Streams(7, 1).get("handle/chat/refund").random(5))
    assert not np.array_equal(a, Streams(7, 0).get("handle/chat/billing").random(5))
    # Creating other streams first does not shift this one (names, not creation order, pick the seed).
    s = Streams(7, 0)
    s.get("something/else").random(100)
    assert np.array_equal(a, s.get("handle/chat/refund").random(5))
    # Regression snapshot (crc32 of the name, not Python's salted hash()): must not change across versions.
    assert Streams(7, 0).get("handle/chat/refund").integers(0, 10**9) == 278444029


@pytest.mark.parametrize("seconds", [0.0, 0.25, 20.0, 59.5, 61.0, 3600.0, 5400.0, 86400.0, 1e-5, 123456.789, 1 / 3])
def test_format_duration_round_trips_exactly(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_a_dumped_scenario_validates_again_unchanged():
    from sim.config import Scenario, single_queue

    sc = single_queue(arrival_rate_per_s=0.1, mean_handle_s=187.3, n_agents=3, mean_patience_s=1 / 3, horizon="1d")
    for mode in ("python", "json"):
        assert Scenario.model_validate(sc.model_dump(mode=mode)) == sc
