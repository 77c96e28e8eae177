""":mod:`sim.metrics.costs`: recurring costs per week, one-off costs apart, and the payback rules, by hand; then the
engine's cost totals on micro-scenarios whose costs are known exactly."""

import math

import numpy as np
import pytest

from policies.registry import make
from sim import metrics as m
from tests.sim.conftest import batch, scenario, simulate
from tests.sim.test_metrics import make_agents

DAY_S = 86400.0


def stats(**over):
    base = {"bot_cost": 0.0, "training_cost": 0.0, "bot_setup_cost": 0.0, "leakage_cost": 0.0, "team_lead_cost": 0.0,
            "team_lead_busy_s": 0.0, "team_lead_paid_s": 0.0}  # fmt: skip
    return base | over


# ------------------------------------------------------------------------------------------------- per week


def test_per_week_scales_a_total_to_seven_days():
    assert m.per_week(1400.0, 14 * DAY_S) == 700.0  # a 14-day horizon's weekly cost is half its total
    assert m.per_week(1400.0, 7 * DAY_S) == 1400.0
    assert m.per_week(100.0, DAY_S) == 700.0
    assert m.per_week(0.0, 3600.0) == 0.0
    assert m.WEEK_S == 604800.0


@pytest.mark.parametrize("period_s", [0.0, -1.0, math.nan])
def test_per_week_needs_a_positive_period(period_s):
    with pytest.raises(ValueError, match="period_s must be > 0"):
        m.per_week(1.0, period_s)


def test_a_fourteen_day_horizon_costs_half_its_total_per_week_and_one_off_costs_do_not_scale():
    agents = make_agents()  # labor 750 over the run
    s = stats(bot_cost=140.0, leakage_cost=28.0, team_lead_cost=56.0, training_cost=900.0, bot_setup_cost=100.0)
    two_weeks = m.cost_kpis(s, agents, 14 * DAY_S)
    assert two_weeks == {
        "bot_cost_per_week": 70.0,
        "team_lead_cost_per_week": 28.0,
        "leakage_cost_per_week": 14.0,
        "recurring_cost_per_week": (750.0 + 140.0 + 28.0 + 56.0) / 2,
        "one_off_training_cost": 900.0,
        "one_off_bot_setup_cost": 100.0,
        "one_off_cost": 1000.0,
        "team_lead_occupancy": two_weeks["team_lead_occupancy"],
    }
    assert math.isnan(two_weeks["team_lead_occupancy"])  # no team lead paid
    one_day = m.cost_kpis(s, agents, DAY_S)
    assert one_day["recurring_cost_per_week"] == (750.0 + 140.0 + 28.0 + 56.0) * 7
    assert one_day["one_off_cost"] == two_weeks["one_off_cost"] == 1000.0  # whatever the horizon
    # The training cost is in no recurring figure: a run with it costs the same per week as one without.
    without = m.cost_kpis(stats(bot_cost=140.0, leakage_cost=28.0, team_lead_cost=56.0), agents, DAY_S)
    assert without["recurring_cost_per_week"] == one_day["recurring_cost_per_week"]
    assert without["one_off_cost"] == 0.0


def test_recurring_cost_includes_the_labor_cost_of_the_agents_given():
    agents = make_agents()
    assert m.cost_kpis(stats(), agents, 7 * DAY_S)["recurring_cost_per_week"] == 750.0
    assert m.cost_kpis(stats(), None, 7 * DAY_S)["recurring_cost_per_week"] == 0.0


# -------------------------------------------------------------------------------------------------- payback


def test_payback_is_the_one_off_cost_over_the_weekly_saving():
    assert m.payback_weeks(8000.0, 12000.0, 10000.0) == 4.0
    assert m.payback_weeks(500.0, 1000.0, 0.0) == 0.5
    # Only the saving matters: a paired difference (variant - base) can be passed against a zero baseline.
    assert m.payback_weeks(8000.0, 0.0, -2000.0) == 4.0


@pytest.mark.parametrize(("base", "variant"), [(10000.0, 10000.0), (10000.0, 12000.0), (0.0, 1.0)])
def test_payback_is_infinite_when_the_variant_saves_nothing_each_week(base, variant):
    assert m.payback_weeks(8000.0, base, variant) == math.inf


@pytest.mark.parametrize(("base", "variant"), [(12000.0, 10000.0), (10000.0, 12000.0), (5.0, 5.0)])
def test_payback_is_undefined_without_a_one_off_cost(base, variant):
    assert math.isnan(m.payback_weeks(0.0, base, variant))


@pytest.mark.parametrize(
    ("one_off", "base", "variant"),
    [(math.nan, 2.0, 1.0), (1.0, math.nan, 1.0), (1.0, 2.0, math.nan), (1.0, math.inf, math.inf)],
)
def test_payback_is_unknown_when_an_input_is(one_off, base, variant):
    assert math.isnan(m.payback_weeks(one_off, base, variant))


def test_payback_refuses_a_negative_one_off_cost():
    with pytest.raises(ValueError, match="one_off must be >= 0"):
        m.payback_weeks(-1.0, 2.0, 1.0)


def test_payback_takes_numpy_scalars():
    assert m.payback_weeks(np.float64(300.0), np.float64(250.0), np.float64(150.0)) == 3.0


# ------------------------------------------------------------------------------------------ engine, exactly


def _bot_scenario(horizon: str, setup_cost: float):
    return scenario(
        horizon=horizon,
        channels={"voice": {"patience": {"dist": "none"}}},
        bots={"voice": {"session": {"dist": "fixed", "value": "60s"}, "default_resolution": 1.0,
                        "cost_per_session": 2.0, "fixed_fee_per_day": 10.0, "setup_cost": setup_cost}},
    )  # fmt: skip


@pytest.mark.parametrize("days", [1, 2])
def test_bot_setup_cost_is_one_off_and_its_fees_recurring(days):
    sc = _bot_scenario(f"{days}d", 5000.0)
    deflection = make("deflection", "bot_first")
    deflection.bind(sc)
    res = simulate(sc, [batch([0.0, 600.0, 1200.0])], deflection=deflection)
    assert res.stats["bot_setup_cost"] == 5000.0  # whatever the horizon
    assert res.stats["bot_cost"] == 3 * 2.0 + 10.0 * days
    costs = m.cost_kpis(res.stats, res.agents, sc.horizon)
    assert costs["one_off_bot_setup_cost"] == costs["one_off_cost"] == 5000.0
    assert costs["bot_cost_per_week"] == pytest.approx((3 * 2.0 + 10.0 * days) * 7 / days, rel=1e-12)


def test_bot_setup_cost_counts_only_when_the_bot_is_used():
    sc = _bot_scenario("1d", 5000.0)
    res = simulate(sc, [batch([0.0])])  # no deflection policy: the bot is never offered a contact
    assert res.stats["bot_setup_cost"] == 0.0
    assert res.stats["bot_cost"] == 0.0
