"""One error budget for every statistical check of the test suite (Bonferroni), and the power of each check.

A *statistical check* compares an estimate from random draws with a prediction: a theoretical value must lie in
a confidence interval (Erlang C, binomial shares, Poisson counts...), or the interval of a paired difference must
exclude 0 on the predicted side (a policy's effect). Seeds are fixed, so every check is reproducible; but with a
fresh seed, or after an engine change that reorders the random draws, each check draws a wrong conclusion with
probability up to its level ``alpha``: a correct engine fails a coverage check, or a policy without its effect
passes an effect check. Over ``n`` checks, the chance of at least one wrong conclusion is up to ``n * alpha``
(Bonferroni), so every check uses ``ALPHA = FAMILY_ALPHA / N_CHECKS`` and the whole suite errs at chance with
probability at most ``FAMILY_ALPHA``.

Every check is listed in :data:`CHECKS` (test function -> number of checks it makes) and gets its level from
:func:`check_alpha` (or :func:`z_crit`, :func:`assert_covers`), which counts the call against the listing: a
check in a test that is not listed fails at once, and ``tests/conftest.py`` fails the session when a test that
passed made a different number of checks than listed. So ``N_CHECKS`` is the number of checks the suite makes.

A check with a small ``alpha`` is only useful if it can still see a real bias: :func:`detectable` gives the
smallest bias (or effect) a Student-t check detects with 80% power, from the spread across replications.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import stats

FAMILY_ALPHA = 0.01
"""Chance that at least one statistical check of the suite draws a wrong conclusion at random (at most)."""

CHECKS: dict[str, int] = {
    # Student-t intervals over independent replications: theory vs simulation (coverage).
    "tests/sim/test_validation.py::test_erlang_c_14_agents": 3,
    "tests/sim/test_validation.py::test_erlang_c_13_agents": 1,
    "tests/sim/test_validation.py::test_erlang_a_13_agents": 3,
    "tests/sim/test_validation.py::test_abandonment_identity_p_ab_equals_theta_times_mean_wait": 1,
    "tests/sim/test_validation.py::test_littles_law_for_the_queue": 2,  # 2 scenarios
    "tests/sim/test_validation.py::test_one_more_agent_improves_service_under_common_random_numbers": 1,
    "tests/policies/test_staffing.py::test_erlang_a_sized_single_queue_reaches_the_target_service_level": 2,
    # Paired Student-t intervals of policy effects (the interval must exclude 0 on the predicted side).
    "tests/policies/test_effects.py::test_priority_routing_serves_urgent_and_vip_first_at_the_expense_of_normal": 5,
    "tests/policies/test_effects.py::test_overflow_to_a_backup_group_raises_the_short_staffed_skills_service_level": 3,
    "tests/policies/test_effects.py::test_omnichannel_pooling_beats_channel_silos_at_equal_staff": 2,
    "tests/policies/test_effects.py::test_last_agent_routing_raises_the_same_agent_share_at_some_cost_in_wait": 2,
    "tests/policies/test_effects.py::test_bot_first_with_context_cuts_human_workload_and_urgent_contacts_skipping_it_are_served_faster": 5,
    "tests/policies/test_effects.py::test_bot_hand_off_without_context_lengthens_escalated_handle_time_and_raises_their_abandonment": 2,
    "tests/policies/test_effects.py::test_bot_on_wait_offers_fewer_sessions_than_bot_first_and_costs_less": 2,
    "tests/policies/test_effects.py::test_authority_limit_cuts_escalations_approval_wait_and_team_lead_load": 3,
    "tests/policies/test_effects.py::test_tiered_authority_sends_fewer_approvals_to_the_team_leads_than_no_authority": 1,
    "tests/policies/test_effects.py::test_reactive_overtime_in_a_promotion_peak_raises_peak_service_level_and_cost": 4,
    "tests/policies/test_effects.py::test_erlang_a_staffing_meets_its_service_level_in_more_slices_than_a_flat_roster_of_equal_hours": 1,
    "tests/policies/test_effects.py::test_least_loaded_spreads_chats_so_fewer_are_slowed_by_concurrency_inflation": 2,
    "tests/policies/test_effects.py::test_rebalancing_lets_the_other_team_absorb_a_spike_in_one_queue": 5,
    "tests/policies/test_effects.py::test_priority_with_overflow_serves_urgent_first_and_puts_the_backup_group_to_work": 4,
    "tests/policies/test_effects.py::test_sticky_with_priority_keeps_the_last_agent_share_and_still_serves_urgent_first": 2,
    "tests/policies/test_effects.py::test_priority_with_rebalancing_serves_urgent_first_and_absorbs_the_spike": 2,
    # Large samples: normal (binomial, Poisson, sample mean) and chi-square bounds.
    "tests/sim/test_stages.py::test_bot_endings_match_probabilities_and_every_contact_is_recorded_once": 4,
    "tests/sim/test_stages.py::test_silent_failures_come_back_as_repeat_contacts_of_the_same_customer": 1,
    "tests/sim/test_stages.py::test_transfer_share_is_binomial": 1,
    "tests/sim/test_stages.py::test_amounts_follow_the_approval_share_and_mean": 2,
    "tests/sim/test_distributions.py::test_mean_and_cv_match_parameters": 4,  # 3 means + the lognormal log-variance
    "tests/sim/test_distributions.py::test_hyperexponential_mixes_its_phases": 2,
    "tests/sim/test_distributions.py::test_empirical_resamples_the_values_uniformly": 3,
    "tests/sim/test_arrivals.py::test_nhpp_counts_per_interval_match_integrated_rate_across_a_sharp_change": 2,
    "tests/sim/test_arrivals.py::test_naive_previous_rate_gaps_fail_the_same_check": 2,
    "tests/sim/test_arrivals.py::test_zero_weight_slices_get_no_arrivals_and_rate_is_exact_per_slice": 1,
    "tests/sim/test_arrivals.py::test_daily_totals_are_poisson_without_busyness": 2,
    "tests/sim/test_arrivals.py::test_busyness_over_disperses_daily_totals_and_is_shared_by_channels": 3,
    "tests/sim/test_arrivals.py::test_day_of_week_factors_scale_each_weekday": 1,
    "tests/sim/test_arrivals.py::test_promotion_multiplies_rate_inside_its_window_only": 2,  # 2 parameter sets
    "tests/sim/test_outages.py::test_shares_of_lost_moved_and_retried_match_the_configuration": 2,
    "tests/sim/test_plans.py::test_erlang_c_holds_with_a_plan_configured_but_not_in_force": 3,
    "tests/sim/test_arrivals.py::test_attribute_shares_codes_and_customer_ids": 3,
    # Calibration features (staffing tables, wrap-up, survival tables).
    "tests/sim/test_calibration_features.py::test_survival_table_sampling_matches_its_curve_by_a_ks_test": 1,
    "tests/sim/test_calibration_features.py::test_wrap_up_busy_agents_obey_littles_law": 1,
    "tests/sim/test_calibration_features.py::test_constant_staffing_table_meets_erlang_c": 3,
}  # fmt: skip
"""Every test function that makes statistical checks (``path::name``, all parameter sets) -> number of checks."""

N_CHECKS = sum(CHECKS.values())
"""Number of statistical checks in the suite."""

ALPHA = FAMILY_ALPHA / N_CHECKS
"""Level of each check (Bonferroni): a two-sided interval has confidence ``1 - ALPHA``."""

POWER = 0.8
"""Power at which :func:`detectable` reports the smallest detectable bias."""

made: Counter[str] = Counter()
"""Checks made per test (pytest node id) in this session; ``tests/conftest.py`` compares them with CHECKS."""


def function_of(nodeid: str) -> str:
    """``path::name`` of a pytest node id (without parameters)."""
    return nodeid.split("[", 1)[0]


def check_alpha() -> float:
    """The level of one statistical check, counted against :data:`CHECKS` for the running test."""
    current = os.environ.get("PYTEST_CURRENT_TEST")
    if current is not None:  # outside pytest (a script printing figures), nothing to count
        nodeid = current.rsplit(" (", 1)[0]
        function = function_of(nodeid)
        assert function in CHECKS, f"{function} makes a statistical check: list it in tests/stats_family.CHECKS"
        made[nodeid] += 1
    return ALPHA


def z_crit(parts: int = 1) -> float:
    """Two-sided normal critical value of one check made of ``parts`` z-scores (Bonferroni within it)."""
    return float(stats.norm.ppf(1.0 - check_alpha() / (2 * parts)))


def t_interval(values: Sequence[float] | np.ndarray, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Mean and two-sided ``1 - alpha`` Student-t interval of independent replications: ``(mean, low, high)``."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean())
    half = float(stats.t.ppf(1.0 - alpha / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def assert_covers(values: Sequence[float] | np.ndarray, expected: float, what: str) -> tuple[float, float, float]:
    """One check: ``expected`` lies in the ``1 - ALPHA`` Student-t interval of ``values``."""
    mean, lo, hi = t_interval(values, check_alpha())
    report(what, values, expected)
    assert lo <= expected <= hi, f"{what}: expected {expected:.5g} outside the {1 - ALPHA:.4%} CI [{lo:.5g}, {hi:.5g}]"
    return mean, lo, hi


def detectable(values: Sequence[float] | np.ndarray, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest bias a ``1 - alpha`` Student-t check over these replications detects with probability ``power``.

    ``(t[1 - alpha/2, R-1] + t[power, R-1]) * s / sqrt(R)`` with ``s`` the standard deviation across the ``R``
    replications (of the paired differences, for an effect): the usual approximation of the noncentral t.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    return float((stats.t.ppf(1.0 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)) * x.std(ddof=1) / np.sqrt(n))


def report(what: str, values: Sequence[float] | np.ndarray, expected: float | None = None) -> None:
    """Print a check's mean, interval and detectable bias (``pytest -s`` shows them; the README table uses them)."""
    mean, lo, hi = t_interval(values)
    against = "" if expected is None else f" vs {expected:.5g}"
    sd = float(np.std(np.asarray(values, dtype=float), ddof=1))
    print(
        f"  [power] {what}: mean {mean:.5g}{against}  CI [{lo:.5g}, {hi:.5g}]  R={len(values)}  s={sd:.4g}  "
        f"detectable bias (80% power) {detectable(values):.4g}"
    )
