import math

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

from sim.erlang import erlang_a, erlang_b, erlang_c, staff_for_service_level

LAM = 100 / 1800  # 100 calls per 30 minutes
HANDLE = 180.0
PATIENCE = 300.0


# ----------------------------------------------------------------------------------------------- Erlang B / C


def test_erlang_b_textbook_value():
    assert erlang_b(10.0, 10) == pytest.approx(0.21458, abs=1e-5)
    assert erlang_b(10.0, 0) == 1.0


def test_erlang_c_reproduces_textbook_13_agents():
    assert round(erlang_c(LAM, HANDLE, 13).service_level(20.0), 4) == 0.7956


def test_erlang_c_reproduces_textbook_14_agents():
    res = erlang_c(LAM, HANDLE, 14)
    assert round(res.service_level(20.0), 4) == 0.8884
    assert round(res.p_wait, 4) == 0.1741
    assert round(res.asa_s, 2) == 7.84
    assert res.occupancy == pytest.approx(10 / 14)
    assert res.mean_queue_len == pytest.approx(LAM * res.asa_s)
    assert res.service_level(0.0) == pytest.approx(1 - res.p_wait)


def test_erlang_c_unstable_and_large():
    res = erlang_c(LAM, HANDLE, 10)
    assert not res.stable
    assert res.p_wait == 1.0
    assert math.isinf(res.asa_s)
    assert res.service_level(20.0) == 0.0
    big = erlang_c(50.0, 180.0, 9100)  # 9000 Erlangs: factorials would overflow
    assert 0.0 < big.p_wait < 1.0
    assert 0.0 < big.service_level(20.0) < 1.0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"arrival_rate_per_s": 0.0}, "arrival_rate_per_s"),
        ({"mean_handle_s": -1.0}, "mean_handle_s"),
        ({"n_agents": 2.5}, "n_agents"),
    ],
)
def test_erlang_c_rejects_bad_inputs(bad, message):
    kwargs = {"arrival_rate_per_s": LAM, "mean_handle_s": HANDLE, "n_agents": 14} | bad
    with pytest.raises(ValueError, match=message):
        erlang_c(**kwargs)


# --------------------------------------------------------------------------------------------------- Erlang A


def test_erlang_a_reproduces_reference_numbers():
    res = erlang_a(LAM, HANDLE, PATIENCE, 13)
    assert round(res.p_wait, 3) == 0.226
    assert round(res.p_abandon, 3) == 0.025
    assert round(res.mean_wait_s, 1) == 7.5


@pytest.mark.parametrize(
    ("lam", "handle", "patience", "n"),
    [(LAM, HANDLE, PATIENCE, 13), (LAM, HANDLE, PATIENCE, 8), (2.0, 300.0, 60.0, 550), (0.5, 120.0, 1000.0, 40)],
)
def test_erlang_a_abandonment_identity(lam, handle, patience, n):
    # P(abandon) comes from the tagged-customer chain, E[W] from Little's law on the queue: two computations.
    res = erlang_a(lam, handle, patience, n)
    assert res.p_abandon == pytest.approx(res.mean_wait_s / patience, rel=1e-9)
    assert res.occupancy == pytest.approx(lam * (1 - res.p_abandon) * handle / n, rel=1e-12)
    # Waits of answered and abandoned make up the mean wait of all.
    total = res.p_answered * res.mean_wait_answered_s + res.p_abandon * res.mean_wait_abandoned_s
    assert total == pytest.approx(res.mean_wait_s, rel=1e-9)


@pytest.mark.parametrize("n", [12, 14, 16])
def test_erlang_a_approaches_erlang_c_as_patience_grows(n):
    c = erlang_c(LAM, HANDLE, n)
    for patience, tol in ((1e6, 1e-2), (1e9, 1e-5)):
        a = erlang_a(LAM, HANDLE, patience, n)
        assert a.p_wait == pytest.approx(c.p_wait, rel=tol)
        assert a.mean_wait_s == pytest.approx(c.asa_s, rel=tol)
        assert a.service_level(20.0) == pytest.approx(c.service_level(20.0), rel=tol)
    exact = erlang_a(LAM, HANDLE, math.inf, n)
    assert exact.p_abandon == pytest.approx(0.0, abs=1e-12)
    assert exact.service_level(20.0) == pytest.approx(c.service_level(20.0), rel=1e-9)
    assert exact.mean_wait_answered_s == pytest.approx(c.asa_s, rel=1e-9)


def test_erlang_a_without_abandonment_must_be_stable():
    with pytest.raises(ValueError, match="unstable"):
        erlang_a(LAM, HANDLE, math.inf, 10)
    overloaded = erlang_a(LAM, HANDLE, PATIENCE, 5)  # stable thanks to abandonment
    assert overloaded.p_abandon > 0.4
    assert erlang_a(LAM, HANDLE, PATIENCE, 0).p_abandon == pytest.approx(1.0)


def _brute_force_absorbed(res, threshold_s):
    """P(answered, W <= T), P(abandoned, W <= T) by a dense matrix exponential of the tagged-customer chain."""
    m, n = len(res._p_ahead), res.n_agents
    mu, theta = 1 / res.mean_handle_s, 1 / res.mean_patience_s
    q = np.zeros((m + 2, m + 2))
    for j in range(m):
        advance = n * mu + j * theta
        q[j, m if j == 0 else j - 1] += advance
        q[j, m + 1] += theta
        q[j, j] -= advance + theta
    p = np.concatenate([res._p_ahead, [0.0, 0.0]]) @ scipy.linalg.expm(q * threshold_s)
    return res._p_immediate + p[m], p[m + 1]


@pytest.mark.parametrize("threshold_s", [1.0, 20.0, 120.0, 900.0])
def test_erlang_a_wait_distribution_matches_matrix_exponential(threshold_s):
    res = erlang_a(LAM, HANDLE, PATIENCE, 12)
    answered, abandoned = _brute_force_absorbed(res, threshold_s)
    assert res.p_answered_within(threshold_s) == pytest.approx(answered, abs=1e-12)
    assert res.p_abandoned_within(threshold_s) == pytest.approx(abandoned, abs=1e-12)


def test_erlang_a_wait_distribution_integrates_to_the_means():
    res = erlang_a(LAM, HANDLE, PATIENCE, 12)
    assert res.p_answered_within(1e9) == pytest.approx(res.p_answered, abs=1e-12)
    assert res.p_abandoned_within(1e9) == pytest.approx(res.p_abandon, abs=1e-12)
    # E[W 1{answered}] = int (P(answered) - P(answered, W <= t)) dt, and likewise for all arrivals.
    answered_tail = scipy.integrate.quad(lambda t: res.p_answered - res.p_answered_within(t), 0, np.inf)[0]
    all_tail = scipy.integrate.quad(lambda t: 1 - res.p_answered_within(t) - res.p_abandoned_within(t), 0, np.inf)[0]
    assert answered_tail / res.p_answered == pytest.approx(res.mean_wait_answered_s, rel=1e-6)
    assert all_tail == pytest.approx(res.mean_wait_s, rel=1e-6)


def test_erlang_a_service_level_conventions():
    res = erlang_a(LAM, HANDLE, PATIENCE, 13)
    answered_t, abandoned_t = res.p_answered_within(20.0), res.p_abandoned_within(20.0)
    assert res.service_level(20.0) == pytest.approx(answered_t)
    assert res.service_level(20.0, "abandons_bad") == pytest.approx(answered_t)
    assert res.service_level(20.0, "ignore_abandons") == pytest.approx(answered_t / res.p_answered)
    assert res.service_level(20.0, "abandons_good") == pytest.approx(answered_t + abandoned_t)
    short = res.service_level(20.0, "short_abandons_excluded", short_abandon_s=5.0)
    assert short == pytest.approx(answered_t / (1 - res.p_abandoned_within(5.0)))
    assert res.service_level(20.0, "abandons_bad") < short < res.service_level(20.0, "ignore_abandons")
    with pytest.raises(ValueError, match="convention"):
        res.service_level(20.0, "abandons_ugly")


# --------------------------------------------------------------------------------------------------- staffing


def test_staff_for_service_level_erlang_c():
    assert staff_for_service_level(LAM, HANDLE, 20.0, 0.80) == 14
    assert staff_for_service_level(LAM, HANDLE, 20.0, 0.79) == 13
    n = staff_for_service_level(50.0, 180.0, 20.0, 0.8)
    assert erlang_c(50.0, 180.0, n).service_level(20.0) >= 0.8 > erlang_c(50.0, 180.0, n - 1).service_level(20.0)


@pytest.mark.parametrize("convention", ["abandons_bad", "ignore_abandons", "abandons_good"])
def test_staff_for_service_level_erlang_a_is_minimal(convention):
    n = staff_for_service_level(LAM, HANDLE, 20.0, 0.8, mean_patience_s=PATIENCE, convention=convention)
    assert erlang_a(LAM, HANDLE, PATIENCE, n).service_level(20.0, convention) >= 0.8
    assert erlang_a(LAM, HANDLE, PATIENCE, n - 1).service_level(20.0, convention) < 0.8


def test_staff_for_service_level_rejects_unreachable_target():
    with pytest.raises(ValueError, match="target"):
        staff_for_service_level(LAM, HANDLE, 20.0, 1.5)
    with pytest.raises(ValueError, match="not reached"):
        staff_for_service_level(LAM, HANDLE, 20.0, 0.99, max_agents=14)
