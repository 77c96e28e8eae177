import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from experiments.stats import (
    paired_difference,
    replications_needed,
    share_interval,
    summarize,
    t_interval,
    wilson_interval,
)


def test_t_interval_by_hand():
    mean, half = t_interval([10.0, 12.0, 11.0, 13.0])
    assert mean == 11.5
    assert half == pytest.approx(sps.t.ppf(0.975, 3) * np.std([10, 12, 11, 13], ddof=1) / 2)
    assert t_interval([10.0, 12.0, 11.0, 13.0], confidence=0.9)[1] < half


def test_t_interval_small_and_nan_samples():
    mean, half = t_interval([4.2])
    assert mean == 4.2
    assert math.isnan(half)
    assert all(math.isnan(v) for v in t_interval([]))
    assert t_interval([1.0, np.nan, 3.0]) == t_interval([1.0, 3.0])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=95)


def test_t_interval_coverage_on_normal_samples():
    rng = np.random.default_rng(2026)
    samples = rng.normal(5.0, 2.0, size=(2000, 10))
    covered = 0
    for row in samples:
        mean, half = t_interval(row)
        covered += abs(mean - 5.0) <= half
    # 95% nominal; binomial SE over 2000 trials is ~0.5%, so 4 SE either side.
    assert 0.93 <= covered / 2000 <= 0.97


def long_table(values, metric="sl_20s", scope="all", variant=None):
    df = pd.DataFrame({"replication": range(len(values)), "metric": metric, "scope": scope, "value": values})
    if variant is not None:
        df.insert(0, "variant", variant)
    return df


def test_summarize_groups_and_counts():
    long = pd.concat(
        [
            long_table([0.8, 0.9, 0.85], variant="base"),
            long_table([0.5, np.nan, 0.7], variant="bot"),
            long_table([30.0], metric="asa_s", variant="bot"),
        ]
    )
    out = summarize(long)
    assert list(out.columns) == ["variant", "metric", "scope", "mean", "std", "ci_half", "ci_low", "ci_high", "n"]
    rows = out.set_index(["variant", "metric"])
    base = rows.loc[("base", "sl_20s")]
    mean, half = t_interval([0.8, 0.9, 0.85])
    assert base["mean"] == pytest.approx(mean)
    assert base["ci_half"] == pytest.approx(half)
    assert base["ci_low"] == pytest.approx(mean - half)
    assert base["n"] == 3
    bot = rows.loc[("bot", "sl_20s")]
    assert bot["n"] == 2  # NaN replication left out
    assert bot["mean"] == pytest.approx(0.6)
    single = rows.loc[("bot", "asa_s")]
    assert single["n"] == 1
    assert math.isnan(single["std"])
    assert math.isnan(single["ci_half"])


def test_summarize_without_variant_and_missing_columns():
    out = summarize(long_table([1.0, 2.0, 3.0]))
    assert list(out.columns[:2]) == ["metric", "scope"]
    assert out["mean"].iloc[0] == 2.0
    with pytest.raises(ValueError, match="value"):
        summarize(long_table([1.0]).drop(columns="value"))


def test_paired_difference_uses_common_random_numbers():
    rng = np.random.default_rng(7)
    base = rng.normal(100.0, 20.0, 30)  # replication-to-replication noise shared by both variants (CRN)
    a = long_table(base + 1.0 + rng.normal(0.0, 0.1, 30), metric="asa_s")
    b = long_table(base, metric="asa_s").sample(frac=1.0, random_state=1)  # row order must not matter
    diff = paired_difference(a, b, "asa_s", "all")
    assert diff.n == 30
    assert diff.ci_low < 1.0 < diff.ci_high
    assert diff.significant
    assert diff.mean_a - diff.mean_b == pytest.approx(diff.mean_diff)
    # Unpaired intervals would be ~200 times wider.
    assert diff.ci_half < 0.1 * t_interval(base)[1]


def test_paired_difference_pairs_by_replication():
    a = long_table([1.0, 2.0, 3.0, 100.0])
    b = long_table([0.0, 1.0, 2.0])  # replication 3 missing in b: dropped
    diff = paired_difference(a, b, "sl_20s", "all")
    assert diff.n == 3
    assert diff.mean_diff == 1.0
    assert diff.ci_half == 0.0
    with pytest.raises(ValueError, match="several rows"):
        paired_difference(pd.concat([a, a]), b, "sl_20s", "all")


def test_replications_needed_is_minimal():
    rng = np.random.default_rng(3)
    pilot = rng.normal(0.8, 0.05, 10)
    s = np.std(pilot, ddof=1)
    n = replications_needed(pilot, 0.01)
    half = lambda k: sps.t.ppf(0.975, k - 1) * s / math.sqrt(k)  # noqa: E731
    assert half(n) <= 0.01 < half(n - 1)
    assert replications_needed(pilot, 1.0) == 2
    assert replications_needed([1.0, 1.0, 1.0], 0.01) == 2
    with pytest.raises(ValueError, match="at least 2"):
        replications_needed([1.0], 0.1)


# ------------------------------------------------------------------------------------------ shares: Wilson


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
        # methods", Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score, no continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(successes, trials, low, high):
    got = wilson_interval(successes / trials, trials)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_edges():
    assert wilson_interval(1.0, 10)[1] == 1.0
    assert wilson_interval(0.0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in wilson_interval(math.nan, 10))
    assert all(math.isnan(v) for v in wilson_interval(0.5, 0))
    # A larger quantile widens it, still inside [0, 1].
    narrow, wide = wilson_interval(0.9, 30), wilson_interval(0.9, 30, quantile=3.0)
    assert 0.0 <= wide[0] < narrow[0] < 0.9 < narrow[1] < wide[1] <= 1.0


def test_share_interval_is_wilson_at_the_effective_sample_size():
    values = np.array([0.96, 0.99, 0.98, 1.0])
    p, se2 = values.mean(), values.var(ddof=1) / len(values)
    expected = wilson_interval(p, p * (1 - p) / se2, sps.t.ppf(0.975, len(values) - 1))
    assert share_interval(values) == pytest.approx(expected)
    mean, half = t_interval(values)
    assert mean + half > 1.0  # the Student-t interval leaves [0, 1] here...
    low, high = share_interval(values)
    assert 0.0 < low < mean < high < 1.0  # ...this one does not


def test_share_interval_small_constant_and_invalid_samples():
    assert all(math.isnan(v) for v in share_interval([0.5]))
    assert share_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert share_interval([0.3, 0.3]) == (0.3, 0.3)
    assert share_interval([0.4, np.nan, 0.6]) == share_interval([0.4, 0.6])
    with pytest.raises(ValueError, match=r"shares must be in \[0, 1\]"):
        share_interval([0.5, 1.2])


def test_share_interval_approaches_the_t_interval_away_from_the_bounds():
    rng = np.random.default_rng(7)
    values = rng.uniform(0.45, 0.55, size=200)
    mean, half = t_interval(values)
    low, high = share_interval(values)
    assert low == pytest.approx(mean - half, abs=half * 0.01)
    assert high == pytest.approx(mean + half, abs=half * 0.01)


@pytest.mark.parametrize(("mean", "concentration", "n"), [(0.97, 50, 5), (0.9, 20, 3), (0.8, 5, 2), (0.5, 10, 4)])
def test_share_interval_covers_at_least_as_often_as_t_and_stays_in_bounds(mean, concentration, n):
    # Replications of a share: Beta draws with the given mean (skewed near 1). Same samples for both intervals.
    rng = np.random.default_rng(2026)
    samples = rng.beta(mean * concentration, (1 - mean) * concentration, size=(2000, n))
    wilson = t = 0
    for row in samples:
        low, high = share_interval(row)
        assert 0.0 <= low <= row.mean() <= high <= 1.0
        wilson += low <= mean <= high
        m, half = t_interval(row)
        t += m - half <= mean <= m + half
    assert wilson >= t
    if mean == 0.5:  # symmetric: near nominal; the binomial SE of a coverage over 2000 samples is ~0.5%, 4 SE
        assert 0.93 <= wilson / 2000 <= 0.97


def test_summarize_adds_share_bounds_only_for_shares():
    long = pd.concat(
        [long_table([0.96, 0.99, 0.98, 1.0], metric="sl_5min"), long_table([10.0, 12.0, 11.0, 13.0], metric="asa_s")]
    )
    plain = summarize(long)
    out = summarize(long, shares=lambda m: m.startswith("sl_")).set_index("metric")
    assert list(out.reset_index().columns) == [*plain.columns, "share_low", "share_high"]
    assert (out.loc["sl_5min", "share_low"], out.loc["sl_5min", "share_high"]) == share_interval(
        [0.96, 0.99, 0.98, 1.0]
    )
    assert math.isnan(out.loc["asa_s", "share_low"])
    # The Student-t columns are unchanged.
    pd.testing.assert_frame_equal(out.reset_index()[plain.columns], plain)
