from __future__ import annotations

import pytest

from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import load_scenario, scenario_from_dict
from policies.registry import SLOTS, PolicyError, available, check_scenario, make
from sim.config import PolicySpec, Scenario
from sim.problems import Problem
from tests.policies.examples import examples


@pytest.mark.parametrize("slot", list(SLOTS))
def test_every_registered_policy_builds_from_its_example_and_has_params(slot, tmp_path):
    specs = examples(tmp_path)[slot]
    assert sorted(specs) == available(slot), "every registered policy needs an example in tests/policies/examples.py"
    for name, params in specs.items():
        policy = make(slot, PolicySpec(name=name, params=params))
        assert isinstance(policy.params, type(policy).Params)
        if not type(policy).Params.model_fields or not any(f.is_required() for f in type(policy).Params.model_fields.values()):
            assert isinstance(make(slot, name), type(policy))  # defaults alone are enough


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(PolicyError, match=r"unknown routing policy 'fastest'; valid names: composed, language_fallback, last_agent, .*longest_idle"):
        make("routing", "fastest")


def test_bad_params_name_the_field():
    with pytest.raises(PolicyError, match=r"bad parameters for routing policy 'longest_idle': speed: Extra inputs"):
        make("routing", PolicySpec(name="longest_idle", params={"speed": 2}))


def test_instances_pass_through():
    policy = make("routing", "longest_idle")
    assert make("routing", policy) is policy


def test_scenario_with_unknown_policy_fails_at_load_time():
    sc, _ = load_scenario("erlang_c_textbook")
    data = sc.model_dump(mode="json")
    data["policies"]["routing"] = {"name": "vip_first"}
    with pytest.raises(ScenarioError, match=r"policies\.routing: unknown routing policy 'vip_first'; valid names"):
        scenario_from_dict(data, label="x.yaml")


def test_check_scenario_returns_structured_problems():
    sc, _ = load_scenario("erlang_c_textbook")
    data = sc.model_dump(mode="json")
    data["policies"]["routing"] = {"name": "vip_first"}
    data["policies"]["staffing"] = {"name": "nope"}
    routing, staffing = check_scenario(Scenario.model_validate(data))
    assert isinstance(routing, Problem)
    assert routing.path == ("policies", "routing")
    assert routing.value == PolicySpec(name="vip_first")
    assert str(routing).startswith("policies.routing: unknown routing policy 'vip_first'; valid names: ")
    assert staffing.path == ("policies", "staffing")
    assert staffing.message.startswith("unknown staffing policy 'nope'")
