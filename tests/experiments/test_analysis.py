"""experiments.analysis: hand-computed figures on small frames, and the bot case on a real paired run."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import load_scenario
from experiments.analysis import (
    BUSY_HOURS,
    BUSY_VALUE,
    bot_business_case,
    break_even,
    busy_hours,
    case_rows,
    human_mix,
    miss_probability,
    one_path_per_value,
    outage_family,
    plan_table,
    variant_table,
)
from experiments.compare import Variant, compare
from experiments.results import WORST_METRIC, ExperimentResult
from sim.config import Scenario
from tests.conftest import TINY_SCENARIO


def _scenario(bot: bool = False) -> Scenario:
    data = copy.deepcopy(TINY_SCENARIO)  # horizon 1 d, so per week = x 7
    data["groups"]["seniors"] = {**data["groups"]["agents"], "hourly_cost": 50}
    if bot:
        data["bots"] = {"voice": {"resolution": {"general": 0.5}, "cost_per_session": 0.2, "fixed_fee_per_day": 10}}
        data["policies"] = {"deflection": {"name": "bot_first", "params": {"channels": ["voice"]}}}
    return Scenario.model_validate(data)


def _result(scenario: Scenario, busy: dict[int, tuple[float, float]], metrics: dict[str, list[float]], contacts=None):
    """busy: replication -> (busy_s of the 'agents' agent at 30/h, busy_s of the 'seniors' agent at 50/h)."""
    agents = pd.DataFrame(
        [
            {"replication": r, "agent_id": i, "group": g, "busy_s": s}
            for r, pair in busy.items()
            for i, (g, s) in enumerate(zip(("agents", "seniors"), pair, strict=True))
        ]
    )
    reps = sorted(busy)
    long = pd.DataFrame(
        [
            {"scenario": "tiny", "variant": "v", "replication": r, "seed": 0, "metric": m, "scope": "all", "value": v[i]}
            for m, v in metrics.items()
            for i, r in enumerate(reps)
        ]
    )
    frames = {"agents": agents}
    if contacts is not None:
        frames["contacts"] = contacts
    return ExperimentResult(scenario, 0, tuple(reps), long, pd.DataFrame(), frames)


def test_busy_hours_scales_to_a_week_and_values_hours_at_each_groups_rate() -> None:
    result = _result(_scenario(), {0: (3600.0, 7200.0), 1: (0.0, 1800.0)}, {})
    long = busy_hours(result).set_index(["replication", "metric", "scope"])["value"]
    assert long[(0, BUSY_HOURS, "all")] == pytest.approx(3 * 7)
    assert long[(0, BUSY_HOURS, "group=agents")] == pytest.approx(1 * 7)
    assert long[(0, BUSY_VALUE, "all")] == pytest.approx(7 * (1 * 30 + 2 * 50))
    assert long[(1, BUSY_VALUE, "group=seniors")] == pytest.approx(7 * 0.5 * 50)


def test_variant_table_is_the_student_t_interval_over_replications() -> None:
    values = [0.80, 0.84, 0.86]
    result = _result(_scenario(), {0: (0, 0), 1: (0, 0), 2: (0, 0)}, {"sl_20s": values})
    row = variant_table({"a": result}, [("sl_20s", "all"), ("missing", "all")]).set_index("metric")
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / math.sqrt(3)
    assert row.loc["sl_20s", "mean"] == pytest.approx(np.mean(values))
    assert row.loc["sl_20s", "ci_high"] - row.loc["sl_20s", "mean"] == pytest.approx(half)
    assert row.loc["sl_20s", "n"] == 3
    assert row.loc["missing", "n"] == 0
    assert math.isnan(row.loc["missing", "mean"])


def test_bot_business_case_pairs_replications_and_computes_payback_and_break_even() -> None:
    # Baseline busy (agents, seniors) per rep; the bot frees 1 h of 'agents' (30/h) and 0.5 h of 'seniors' (50/h)
    # a day in rep 0, 2 h and 1 h in rep 1: value a week 7 * (30 + 25) = 385 and 7 * (60 + 50) = 770.
    base = _result(_scenario(), {0: (36000.0, 18000.0), 1: (40000.0, 20000.0)},
                   {"bot_cost_per_week": [0.0, 0.0], "one_off_cost": [0.0, 0.0], "bot_offered": [0.0, 0.0]})
    bot = _result(_scenario(bot=True), {0: (32400.0, 16200.0), 1: (32800.0, 16400.0)},
                  {"bot_cost_per_week": [105.0, 133.0], "one_off_cost": [1000.0, 1000.0], "bot_offered": [100.0, 140.0]})
    row = bot_business_case(base, {"bot": bot}).iloc[0]
    net = np.array([385.0 - 105.0, 770.0 - 133.0])
    half = stats.t.ppf(0.975, 1) * np.std(net, ddof=1) / math.sqrt(2)
    assert row["hours_saved_per_week"] == pytest.approx(7 * (1.5 + 3.0) / 2)
    assert row["labor_value_per_week"] == pytest.approx((385 + 770) / 2)
    assert row["bot_cost_per_week"] == pytest.approx(119.0)
    assert row["net_saving_per_week"] == pytest.approx(net.mean())
    assert row["net_saving_ci_low"] == pytest.approx(net.mean() - half)
    assert row["one_off_cost"] == pytest.approx(1000.0)
    assert row["payback_weeks"] == pytest.approx(1000.0 / net.mean())
    assert row["payback_high_weeks"] == math.inf  # the CI's low end (2 replications) is below zero
    days = (86400.0 - 3600.0) / 86400.0  # measured after the 1 h warm-up
    sessions = 120.0 / days
    assert row["bot_sessions_per_day"] == pytest.approx(sessions)
    per_session = (net.mean() / 7 + 10.0) / sessions
    assert row["break_even_sessions_per_day"] == pytest.approx(10.0 / per_session)
    assert row["n"] == 2
    rows = case_rows(bot_business_case(base, {"bot": bot})).set_index("metric")
    assert rows.loc["net_saving_cost_per_week", "mean"] == pytest.approx(net.mean())
    assert rows.loc["hours_saved_per_week_h", "ci_high"] == pytest.approx(row["hours_saved_ci_high"])


def test_bot_business_case_on_a_real_run_frees_agent_hours() -> None:
    from experiments import run_experiment

    data = copy.deepcopy(TINY_SCENARIO)
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 900
    data["groups"]["agents"]["staffing"]["always"] = 4
    data["bots"] = {"voice": {"resolution": {"general": 0.6}, "cost_per_session": 0.2, "fixed_fee_per_day": 10,
                              "setup_cost": 500}}
    base_sc = Scenario.model_validate(data)
    bot_sc = Scenario.model_validate({**data, "policies": {"deflection": {"name": "bot_first", "params": {"channels": ["voice"]}}}})
    kw = {"seed": 4, "n_replications": 4, "workers": 1, "progress": False}
    base, bot = run_experiment(base_sc, **kw), run_experiment(bot_sc, **kw)
    row = bot_business_case(base, {"bot": bot}).iloc[0]
    # 60% of ~900 contacts of 3 min resolved a day: about 27 agent-hours a day less, 189 a week
    assert row["hours_saved_ci_low"] > 100
    assert row["hours_saved_ci_high"] < 260
    assert row["one_off_cost"] == pytest.approx(500.0)
    assert row["bot_sessions_per_day"] == pytest.approx(900, rel=0.1)


def test_break_even_interpolates_the_first_sign_change() -> None:
    assert break_even([0.5, 0.6, 0.7], [-200.0, -100.0, 300.0]) == pytest.approx(0.625)
    assert break_even([1, 2, 3], [5.0, 0.0, -1.0]) == 2.0
    assert break_even([1, 2, 3], [300.0, 200.0, -200.0]) == pytest.approx(2.5)
    assert math.isnan(break_even([1, 2], [1.0, 2.0]))
    assert break_even([1, 2, 3], [-1.0, float("nan"), 1.0]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="increasing"):
        break_even([2, 1], [1.0, -1.0])
    with pytest.raises(ValueError, match="same length"):
        break_even([1, 2], [1.0])


def test_human_mix_counts_only_contacts_a_human_served() -> None:
    contacts = pd.DataFrame(
        {
            "replication": [0, 0, 0, 0, 1, 1],
            "channel": ["chat", "chat", "chat", "voice", "chat", "chat"],
            "intent": ["a", "b", "a", "a", "b", "a"],
            "outcome": ["served", "served", "bot_resolved", "served", "served", "abandoned"],
            "handle_s": [100.0, 300.0, np.nan, 50.0, 500.0, np.nan],
            "bot_outcome": ["", "escalated", "resolved", "", "escalated", ""],
        }
    )
    result = _result(_scenario(), {0: (0, 0), 1: (0, 0)}, {}, contacts=contacts)
    mix = human_mix(result, "chat").set_index("intent")
    assert mix.loc["a", "served"] == 0.5  # one served chat 'a' over 2 replications
    assert mix.loc["b", "share"] == pytest.approx(2 / 3)
    assert mix.loc["b", "after_bot"] == 1.0
    assert mix.loc["b", "handle_mean_s"] == 400.0
    assert mix.loc["b", "handle_share"] == pytest.approx(800 / 900)
    assert mix.loc["all", "after_bot"] == pytest.approx(2 / 3)
    assert human_mix(result).set_index("intent").loc["a", "served"] == 1.0
    with pytest.raises(ValueError, match="log=True"):
        human_mix(_result(_scenario(), {0: (0, 0)}, {}))


def test_miss_probability_with_its_wilson_interval() -> None:
    confirmation = pd.DataFrame(
        {"trial": [3, 3], "target": ["voice", "chat"], "level": [0.8, 0.9], "mean": [0.85, 0.95],
         "status": ["MET", "MET"], "p_period": [0.9, 1.0], "replications": [10, 10]}
    )
    out = miss_probability(confirmation).set_index("target")
    assert out.loc["voice", "p_miss"] == pytest.approx(0.1)
    # the Wilson 95% interval of 1 success in 10: [0.0179, 0.4042]
    assert out.loc["voice", "p_miss_low"] == pytest.approx(0.0179, abs=5e-5)
    assert out.loc["voice", "p_miss_high"] == pytest.approx(0.4042, abs=5e-5)
    assert out.loc["chat", "p_miss_low"] == 0.0
    assert out.loc["chat", "p_miss_high"] == pytest.approx(0.2775, abs=5e-5)  # Wilson of 0 in 10
    empty = miss_probability(pd.DataFrame())  # what optimize returns when no plan was feasible
    assert empty.empty
    assert "p_miss" in empty.columns


def test_one_path_per_value_gives_an_erlang_plan_as_a_warm_start() -> None:
    from experiments.erlang_plan import erlang_plan
    from experiments.optimize import start_params
    from experiments.space import space_from_dict

    scenario = Scenario.model_validate(TINY_SCENARIO)
    plan = erlang_plan(scenario)
    paths = one_path_per_value(plan.overrides())
    assert paths == {"groups.agents.staffing.always": plan.staffing["agents"]["always"]}
    space = space_from_dict({"variables": {"groups.agents.staffing.always": {"int": [1, 30]}}})
    params, notes = start_params(space, paths)
    assert params == {"groups.agents.staffing.always": plan.staffing["agents"]["always"]}
    assert notes == []
    assert one_path_per_value({"a": {"b": [1]}, "c": {}}) == {"a": {"b": [1]}, "c": {}}


def test_plan_table_pairs_each_variant_with_the_baseline() -> None:
    scenario = Scenario.model_validate(copy.deepcopy(TINY_SCENARIO))
    family = [("asa_s", "channel=voice"), ("recurring_cost_per_week", "all")]
    comparison = compare(scenario, [Variant("three", {"groups.agents.staffing.always": 3})], baseline="two",
                         seed=5, n_replications=3, workers=1, progress=False, family=family)
    table = plan_table(comparison).set_index(["variant", "metric", "scope"])
    assert list(dict.fromkeys(table.index.get_level_values(0))) == ["two", "three"]
    for metric, scope in family:
        per_rep = {
            name: r.metrics[(r.metrics["metric"] == metric) & (r.metrics["scope"] == scope)]
            .set_index("replication")["value"]
            for name, r in comparison.results.items()
        }
        diff = (per_rep["three"] - per_rep["two"]).to_numpy(dtype=float)
        half = stats.t.ppf(0.975, 2) * np.std(diff, ddof=1) / math.sqrt(3)
        row = table.loc[("three", metric, scope)]
        assert row["diff"] == pytest.approx(diff.mean())
        assert row["diff_high"] - row["diff"] == pytest.approx(half)
        assert row["mean"] == pytest.approx(per_rep["three"].mean())
        own = stats.t.ppf(0.975, 2) * per_rep["three"].std(ddof=1) / math.sqrt(3)
        assert row["ci_half"] == pytest.approx(own)
        assert row["n"] == 3
        base = table.loc[("two", metric, scope)]
        assert base["mean"] == pytest.approx(per_rep["two"].mean())
        assert math.isnan(base["diff"])
        assert pd.isna(base["significant"])
    # a third agent costs more per week and shortens the waits
    assert table.loc[("three", "recurring_cost_per_week", "all"), "diff"] > 0
    assert table.loc[("three", "asa_s", "channel=voice"), "diff"] < 0
    only = plan_table(comparison, [("asa_s", "channel=voice")])
    assert set(only["metric"]) == {"asa_s"}
    with pytest.raises(ValueError, match=r"\('occupancy', 'all'\)\] are not in the comparison's family"):
        plan_table(comparison, [("occupancy", "all")])


def test_outage_family_covers_the_targets_the_failed_and_the_receiving_channels() -> None:
    scenario, _ = load_scenario("ecommerce_1111")
    family = outage_family(scenario)
    assert len(family) == len(set(family))
    for target in scenario.targets:
        assert ("target_attainment", f"target={target.name}") in family
    assert (WORST_METRIC, "target=sale chat normal, every 30 min") in family  # the every_interval target
    assert (WORST_METRIC, "target=voice 80/20") not in family
    assert ("lost", "channel=voice") in family
    assert ("lost", "channel=chat") not in family  # chat takes the moved callers; it does not fail
    for channel in ("voice", "chat"):
        assert ("abandon_rate", f"channel={channel}") in family
        assert ("asa_s", f"channel={channel}") in family
    assert not [pair for pair in family if pair[1] in ("channel=email", "channel=social")]
    assert family[-1] == ("recurring_cost_per_week", "all")
    without = outage_family(_scenario())  # no outage: the targets and the cost only
    assert without == [("target_attainment", "target=voice 80/20"), ("target_attainment", "target=urgent 5 min"),
                       ("recurring_cost_per_week", "all")]
