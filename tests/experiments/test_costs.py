"""Costs end to end: a small scenario with every cost (agents, bot fees and set-up, team leads, training, leakage)
through the engine and :func:`experiments.measure.replication_metrics`, at two horizons."""

import copy

import pytest

from experiments.measure import replication_metrics
from experiments.runner import simulate_scenario
from sim import metrics as m
from sim.config import Scenario
from tests.conftest import TINY_SCENARIO

TRAINING_PER_AGENT, SETUP, TL_RATE, TL_COUNT, AGENTS = 300.0, 5000.0, 40.0, 2, 2


def costly(horizon: str) -> Scenario:
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(
        horizon=horizon,
        bots={"voice": {"default_resolution": 0.3, "cost_per_session": 0.5, "fixed_fee_per_day": 100,
                        "setup_cost": SETUP}},
        approvals={"general": {"share": 0.3, "amount_mean": 100}},
        team_leads={"count": TL_COUNT, "hourly_cost": TL_RATE},
        policies={
            "deflection": {"name": "bot_first"},
            "empowerment": {"name": "authority_limit",
                            "params": {"default_limit": 120, "training_cost": TRAINING_PER_AGENT,
                                       "leakage_share": 0.1}},
        },
    )  # fmt: skip
    return Scenario.model_validate(data)


def costs_of(sc: Scenario) -> dict[str, float]:
    table = replication_metrics(simulate_scenario(sc, seed=3), sc)
    return {name: v for (name, scope), v in table.set_index(["metric", "scope"])["value"].items() if scope == "all"}


@pytest.fixture(scope="module")
def one_and_two_days():
    return costs_of(costly("1d")), costs_of(costly("2d"))


def test_recurring_cost_per_week_is_the_sum_of_its_weekly_parts(one_and_two_days):
    for c in one_and_two_days:
        parts = ("labor_cost_per_week", "bot_cost_per_week", "team_lead_cost_per_week", "leakage_cost_per_week")
        assert all(c[p] > 0 for p in parts)
        assert c["recurring_cost_per_week"] == pytest.approx(sum(c[p] for p in parts), rel=1e-12)
        assert "total_cost" not in c


def test_one_off_costs_are_the_same_whatever_the_horizon(one_and_two_days):
    for c in one_and_two_days:
        assert c["one_off_training_cost"] == TRAINING_PER_AGENT * AGENTS
        assert c["one_off_bot_setup_cost"] == SETUP
        assert c["one_off_cost"] == TRAINING_PER_AGENT * AGENTS + SETUP


def test_time_based_recurring_costs_per_week_do_not_depend_on_the_horizon(one_and_two_days):
    one, two = one_and_two_days
    for c in (one, two):  # team leads on duty all week; 2 agents 24/7 paid their scheduled hours
        assert c["team_lead_cost_per_week"] == pytest.approx(TL_COUNT * 168 * TL_RATE, rel=1e-12)
    # The agents are paid the same each day (+ any overtime at the end of a shift): about the same each week.
    assert two["labor_cost_per_week"] == pytest.approx(one["labor_cost_per_week"], rel=0.02)
    assert one["labor_cost_per_week"] >= AGENTS * 168 * 30


def test_payback_of_the_one_off_costs_against_a_baseline(one_and_two_days):
    one, _ = one_and_two_days
    saving = 1000.0  # a baseline costing 1,000 more a week repays the one-off costs in one_off / 1,000 weeks
    weeks = m.payback_weeks(
        one["one_off_cost"], one["recurring_cost_per_week"] + saving, one["recurring_cost_per_week"]
    )
    assert weeks == pytest.approx((TRAINING_PER_AGENT * AGENTS + SETUP) / saving, rel=1e-9)
