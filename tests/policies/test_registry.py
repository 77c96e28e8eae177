from __future__ import annotations

import pytest

from experiments.io import ScenarioError, load_scenario, scenario_from_dict
from policies.registry import SLOTS, PolicyError, available, make
from sim.config import PolicySpec


@pytest.mark.parametrize("slot", list(SLOTS))
def test_every_registered_policy_builds_from_its_name_and_has_params(slot):
    for name in available(slot):
        policy = make(slot, name)
        assert isinstance(policy.params, type(policy).Params)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(PolicyError, match=r"unknown routing policy 'fastest'; valid names: longest_idle"):
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
