"""The suite's error budget: every listed check exists, the level is the Bonferroni share, the helpers compute it."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import stats

from tests import stats_family
from tests.stats_family import ALPHA, CHECKS, FAMILY_ALPHA, N_CHECKS, detectable, t_interval


def test_every_listed_check_names_an_existing_test_function():
    for key, count in CHECKS.items():
        path, name = key.split("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name, None)), f"{key} is listed in CHECKS but does not exist"
        assert count >= 1


def test_each_check_gets_its_bonferroni_share_of_the_family_level():
    assert sum(CHECKS.values()) == N_CHECKS
    assert pytest.approx(FAMILY_ALPHA) == ALPHA * N_CHECKS


def test_a_check_in_a_test_that_is_not_listed_fails():
    with pytest.raises(AssertionError, match=r"list it in tests/stats_family\.CHECKS"):
        stats_family.z_crit()


def test_t_interval_and_detectable_bias_by_hand():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, lo, hi = t_interval(x, 0.05)
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert (mean, lo, hi) == pytest.approx((3.5, 3.5 - half, 3.5 + half))
    assert detectable(x, 0.05, 0.8) == pytest.approx((stats.t.ppf(0.975, 3) + stats.t.ppf(0.8, 3)) * x.std(ddof=1) / 2)
