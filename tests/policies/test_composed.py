"""Composed routing: combinations pass the conformance suite, single parts equal the single-rule policies, and
exact traces show that the order and the rules act together.

* Equivalence: a composed policy with one part set decides exactly as the single-rule policy of that name (same
  frames, bit for bit, on the conformance scenario with a bot and on the fast-path scenario, two seeds).
* Conformance: every combination in ``tests/policies/examples.COMBINATIONS`` passes ``policies.testing.check_policy``
  (conservation, eligibility, concurrency, reproducibility, equivalent engine paths) and gives the same frames
  when named in a scenario file.
* Traces: micro-scenarios with fixed handle times where each combination's choice is computed by hand and differs
  from each of its parts alone.
* Validation: bad parts fail at load time naming the field path.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from experiments.runner import simulate_scenario
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from policies.registry import PolicyError, make
from policies.routing import ComposedRouting
from policies.testing import (
    SEED,
    assert_same_results,
    check_policy,
    conformance_scenario,
    fast_path_scenario,
    run_policy,
)
from sim import run
from tests.policies.examples import BASE, COMBINATIONS
from tests.policies.test_routing import GENERAL, PRIO_CUSTOMERS, PRIO_INTENTS, group, micro, trace, with_customers
from tests.sim.conftest import batch, simulate


def composed(**params):
    return make("routing", {"name": "composed", "params": params})


# ------------------------------------------------------------------------ one part = the single-rule policy

EQUIVALENT = {
    "longest_idle": ({}, {}),
    "priority": (
        {"urgent_boost": "5min", "vip_boost": "1min"},
        {"order": {"name": "priority_aging", "urgent_boost": "5min", "vip_boost": "1min"}},
    ),
    "overflow": (
        {"after": "30s", "after_by_channel": {"chat": "1min"}, "primary": {"tech": ["voice_en", "chat_all"]}},
        {"eligibility": [{"name": "overflow", "after": "30s", "after_by_channel": {"chat": "1min"},
                          "primary": {"tech": ["voice_en", "chat_all"]}}]},
    ),
    "last_agent": ({"timeout": "1min"}, {"eligibility": [{"name": "sticky_last_agent", "timeout": "1min"}]}),
    "least_loaded": ({}, {"agents": "least_loaded"}),
    "language_fallback": ({"after": "1min"}, {"eligibility": [{"name": "language_fallback", "after": "1min"}]}),
    "rebalancing": (
        {"max_queue": 4, "max_wait": "1min"},
        {"eligibility": [{"name": "rebalancing", "max_queue": 4, "max_wait": "1min"}]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("seed", [SEED, 5])
@pytest.mark.parametrize("name", list(EQUIVALENT))
def test_one_part_decides_exactly_as_the_single_rule_policy_of_that_name(name, seed):
    single, parts = EQUIVALENT[name]
    bot = make("deflection", {"name": "bot_first"})
    for sc in (conformance_scenario(), fast_path_scenario()):
        a = run(sc, seed=seed, log=True, routing=make("routing", {"name": name, "params": single}), deflection=bot)
        b = run(sc, seed=seed, log=True, routing=make("routing", {"name": "composed", "params": parts}), deflection=bot)
        assert_same_results(b, a, f"composed {parts} vs {name} on {sc.name}")
        assert a.contacts.outcome.astype(str).eq("served").sum() > 500  # not vacuous


def test_the_equivalences_are_not_vacuous_the_single_rule_policies_differ_from_the_default():
    sc = conformance_scenario()
    default = run(sc, seed=SEED, log=True)
    for name, (single, _) in EQUIVALENT.items():
        if name == "longest_idle":
            continue
        other = run(sc, seed=SEED, log=True, routing=make("routing", {"name": name, "params": single}))
        assert not other.contacts.equals(default.contacts), f"{name} decides as the default on this scenario"


def test_flags_follow_the_rules():
    plain = composed()
    assert (plain.uses_last_agent, plain.language_fallback, plain.fallback_after_s) == (False, False, None)
    sticky = composed(eligibility=["sticky_last_agent"])
    assert (sticky.uses_last_agent, sticky.language_fallback) == (True, False)
    fallback = composed(eligibility=[{"name": "language_fallback", "after": "45s"}])
    assert (fallback.uses_last_agent, fallback.language_fallback, fallback.fallback_after_s) == (False, True, 45.0)
    assert type(fallback).language_fallback is False  # per instance: other composed policies are not affected


# --------------------------------------------------------------------------- combinations pass the conformance suite


@pytest.mark.parametrize("label", list(COMBINATIONS))
def test_combination_passes_the_conformance_suite(label):
    params = COMBINATIONS[label]
    check_policy("routing", lambda: composed(**params))


@pytest.mark.parametrize("label", ["priority+overflow+sticky", "priority+all_rules"])
def test_combination_named_in_a_scenario_gives_the_same_frames(label):
    data = copy.deepcopy(BASE)
    data["policies"] = {"routing": {"name": "composed", "params": COMBINATIONS[label]}}
    data = yaml.safe_load(yaml.safe_dump(data, sort_keys=False))
    sc = scenario_from_dict(data, label="conformance.yaml")
    res = simulate_scenario(sc, seed=SEED, replication=0, log=True)
    direct = run_policy("routing", composed(**COMBINATIONS[label]))
    assert_same_results(res, direct.result, "the composed policy named in the scenario")


def test_combinations_differ_from_each_of_their_parts():
    """Each combination's frames differ from those of its order alone and of its rules with FIFO (not vacuous)."""
    sc = conformance_scenario()

    def contacts(params):
        return run(sc, seed=SEED, log=True, routing=composed(**params)).contacts

    for label in ("priority+overflow", "priority+rebalancing", "sticky+priority"):
        params = COMBINATIONS[label]
        both = contacts(params)
        assert not both.equals(contacts({"order": params["order"]})), f"{label}: same as the order alone"
        assert not both.equals(contacts({"eligibility": params["eligibility"]})), f"{label}: same as the rules alone"


# ------------------------------------------------------------------------------------------------ exact traces


def overflow_scenario():
    # "backup" (agent 0, multiplier 1.5) is declared first, so longest-idle would prefer it on a tie.
    return micro(
        {"backup": group(skills={"general": 1.5}), "primary": group(skills={"general": 1.0})},
        intents=PRIO_INTENTS,
        customers=PRIO_CUSTOMERS,
    )


PRIORITY = {"name": "priority_aging", "urgent_boost": "5min", "vip_boost": "2min"}
OVERFLOW = {"name": "overflow", "after": "30s"}


def test_priority_with_overflow_backup_takes_the_urgent_contact_first_once_both_have_waited():
    sc = overflow_scenario()
    # Primary (agent 1) busy 0..1000. The call at 1 overflows to the backup (agent 0) at 31, busy until
    # 31 + 150 = 181. A normal call (50) and an urgent one (60) wait; at 181 both have waited over 30 s, so the
    # backup takes the urgent one (score 121 + 300 > 131), then the normal one at 181 + 150 = 331.
    arrivals = [batch([0, 1, 50, 60], handle=[1000, 100, 100, 100], priority=[0, 0, 0, 1])]
    both = simulate(sc, arrivals, routing=composed(order=PRIORITY, eligibility=[OVERFLOW]))
    assert trace(both) == [(0, 1, 0.0), (1, 0, 31.0), (2, 0, 331.0), (3, 0, 181.0)]
    fifo = simulate(sc, arrivals, routing=composed(eligibility=[OVERFLOW]))
    assert trace(fifo) == [(0, 1, 0.0), (1, 0, 31.0), (2, 0, 181.0), (3, 0, 331.0)]
    alone = simulate(sc, arrivals, routing=composed(order=PRIORITY))  # no overflow: the backup answers at once
    assert trace(alone)[:2] == [(0, 0, 0.0), (1, 1, 1.0)]


def test_priority_with_overflow_an_urgent_contact_that_has_not_waited_does_not_go_to_the_backup():
    sc = overflow_scenario()
    # As above, but the urgent call arrives at 170: at 181 it has waited 11 s < 30 s, so the backup takes the
    # normal call (waited 131 s) although the urgent one scores higher; the urgent one overflows at 200 but the
    # backup is busy until 331, when it takes it.
    arrivals = [batch([0, 1, 50, 170], handle=[1000, 100, 100, 100], priority=[0, 0, 0, 1])]
    both = simulate(sc, arrivals, routing=composed(order=PRIORITY, eligibility=[OVERFLOW]))
    assert trace(both) == [(0, 1, 0.0), (1, 0, 31.0), (2, 0, 181.0), (3, 0, 331.0)]


def test_sticky_with_priority_own_returning_customer_first_then_urgent_before_normal():
    sc = micro({"agents": group(1)}, intents=PRIO_INTENTS, customers=PRIO_CUSTOMERS)
    # One agent serves customer 7 (0..100). Waiting at 100: a normal new customer (5), an urgent new customer
    # (10) and customer 7 back (20, normal). Sticky + priority: its own returning customer first (100), then
    # the urgent one (200), then the normal one (300).
    b = with_customers(batch([0, 5, 10, 20], priority=[0, 0, 1, 0]), [7, 8, 9, 7])
    starts = {
        "sticky+priority": composed(order=PRIORITY, eligibility=[{"name": "sticky_last_agent", "timeout": "5min"}]),
        "sticky+fifo": composed(eligibility=[{"name": "sticky_last_agent", "timeout": "5min"}]),
        "priority": composed(order=PRIORITY),
    }
    got = {label: [s for _, _, s in trace(simulate(sc, [b], routing=r))] for label, r in starts.items()}
    assert got == {
        "sticky+priority": [0.0, 300.0, 200.0, 100.0],
        "sticky+fifo": [0.0, 200.0, 300.0, 100.0],
        "priority": [0.0, 200.0, 100.0, 300.0],  # urgent first; then the normal contacts FIFO
    }


def test_strict_priority_never_ages():
    sc = micro({"agents": group()}, intents=PRIO_INTENTS, customers=PRIO_CUSTOMERS)
    # Busy 0..1000; a normal contact waits from 10 and an urgent one from 990. Priority with aging (5 min):
    # the normal one scores 990 > 310 and goes first; strict priority: the urgent one first.
    arrivals = [batch([0, 10, 990], handle=[1000, 100, 100], priority=[0, 0, 1])]
    aging = simulate(sc, arrivals, routing=composed(order=PRIORITY))
    strict = simulate(sc, arrivals, routing=composed(order="strict_priority"))
    assert [s for _, _, s in trace(aging)] == [0.0, 1000.0, 1100.0]
    assert [s for _, _, s in trace(strict)] == [0.0, 1100.0, 1000.0]


def test_strict_priority_ranks_urgent_vip_urgent_normal_vip_normal():
    sc = micro({"agents": group()}, intents=PRIO_INTENTS, customers=PRIO_CUSTOMERS)
    # Busy 0..100; waiting: normal (10), normal VIP (20), urgent (30), urgent VIP (40).
    arrivals = [batch([0, 10, 20, 30, 40], priority=[0, 0, 0, 1, 1], tier=[0, 0, 1, 0, 1])]
    res = simulate(sc, arrivals, routing=composed(order="strict_priority"))
    assert [s for _, _, s in trace(res)] == [0.0, 400.0, 300.0, 200.0, 100.0]


def test_skill_order_with_least_loaded_agents():
    intents = {"billing": GENERAL["general"], "tech": GENERAL["general"]}
    sc = micro({"agents": group(2, skills={"billing": 0.5, "tech": 1.5})}, intents=intents)
    # Two agents busy from 0 (tech, 150 s) and 1 (tech, 150 s). A tech contact (10) and a billing one (20) wait:
    # agent 0, freed at 150, takes billing (its fastest intent: 50 s), then agent 1 at 151 takes tech.
    arrivals = [batch([0, 1, 10, 20], intent=[1, 1, 1, 0])]
    res = simulate(sc, arrivals, routing=composed(order="skill", agents="least_loaded"))
    assert trace(res) == [(0, 0, 0.0), (1, 1, 1.0), (2, 1, 151.0), (3, 0, 150.0)]
    fifo = simulate(sc, arrivals, routing=composed(agents="least_loaded"))
    assert trace(fifo) == [(0, 0, 0.0), (1, 1, 1.0), (2, 0, 150.0), (3, 1, 151.0)]


def test_overflow_and_rebalancing_together_a_backup_needs_both_the_wait_and_a_hot_queue():
    sc = micro({"backup": group(skills={"general": 1.5}), "primary": group(skills={"general": 1.0})})
    # Primary (1) busy 0..1000. Calls at 10 and 20 wait. Overflow alone: the backup takes the call of 10 at 40.
    # With rebalancing (hot at 3 waiting) too: at 40 the queue holds 2, not hot; the call at 100 makes it hot,
    # and both conditions hold: the backup takes the call of 10 at 100.
    arrivals = [batch([0, 10, 20, 100], handle=[1000, 100, 100, 100])]
    rebalancing = {"name": "rebalancing", "max_queue": 3, "max_wait": None}
    alone = simulate(sc, arrivals, routing=composed(eligibility=[OVERFLOW]))
    assert trace(alone)[1] == (1, 0, 40.0)
    both = simulate(sc, arrivals, routing=composed(eligibility=[OVERFLOW, rebalancing]))
    assert trace(both)[1] == (1, 0, 100.0)


def test_language_fallback_with_priority_the_non_speaker_takes_the_urgent_contact_that_waited():
    customers = {**PRIO_CUSTOMERS, "languages": {"en": 1, "zh": 1}}
    groups = {"en": group(languages=("en",)), "zh": group(languages=("zh",))}
    sc = micro(groups, intents=PRIO_INTENTS, customers=customers)
    # The zh agent (1) is busy 0..1000 with a zh call. zh calls wait: normal (10) and urgent (20). The en agent
    # (0) is idle: after 60 s each may go to it. At 70 only the normal one has waited 60 s (the en agent takes
    # it: FIFO and priority agree). Run again with the en agent busy until 200: both have waited, and with
    # priority it takes the urgent one first.
    arrivals = [batch([0, 10, 20], handle=[1000, 100, 100], priority=[0, 0, 1], language=[1, 1, 1])]
    fallback = {"name": "language_fallback", "after": "1min"}
    res = simulate(sc, arrivals, routing=composed(order=PRIORITY, eligibility=[fallback]))
    assert trace(res) == [(0, 1, 0.0), (1, 0, 70.0), (2, 0, 170.0)]
    busy = [batch([0, 0, 10, 20], handle=[1000, 200, 100, 100], priority=[0, 0, 0, 1], language=[1, 0, 1, 1])]
    res = simulate(sc, busy, routing=composed(order=PRIORITY, eligibility=[fallback]))
    assert trace(res) == [(0, 1, 0.0), (1, 0, 0.0), (2, 0, 300.0), (3, 0, 200.0)]
    fifo = simulate(sc, busy, routing=composed(eligibility=[fallback]))
    assert trace(fifo) == [(0, 1, 0.0), (1, 0, 0.0), (2, 0, 200.0), (3, 0, 300.0)]


# ------------------------------------------------------------------------------------------------- validation


def test_bare_names_stand_for_parts_with_default_parameters():
    policy = composed(order="priority_aging", agents="least_loaded", eligibility=["overflow", "sticky_last_agent"])
    assert isinstance(policy, ComposedRouting)
    p = policy.params
    assert (p.order.name, p.order.urgent_boost, p.agents.name) == ("priority_aging", 300.0, "least_loaded")
    assert [r.name for r in p.eligibility] == ["overflow", "sticky_last_agent"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"order": "lifo"}, "order: Input tag 'lifo' found using 'name' does not match any of the expected tags"),
        ({"eligibility": ["overflow", {"name": "vip_only"}]}, "eligibility.1: Input tag 'vip_only'"),
        ({"eligibility": [{"name": "overflow", "after": "0s"}]}, "eligibility.0.overflow.after: "),
        ({"eligibility": [{"name": "overflow", "afetr": "30s"}]}, "eligibility.0.overflow.afetr: Extra inputs"),
        ({"eligibility": ["overflow", "sticky_last_agent", "overflow"]},
         "eligibility: Value error, rule 'overflow' is listed 2 times; list each rule once"),
        ({"eligibility": [{"name": "rebalancing", "max_queue": None, "max_wait": None}]},
         "eligibility.0.rebalancing: Value error, max_queue and max_wait are both null"),
    ],
    ids=["unknown-order", "unknown-rule", "zero-wait", "misspelt-parameter", "rule-twice", "rebalancing-no-limit"],
)  # fmt: skip
def test_bad_parts_fail_naming_the_field(params, message):
    with pytest.raises(PolicyError) as info:
        make("routing", {"name": "composed", "params": params})
    assert f"bad parameters for routing policy 'composed': {message}" in str(info.value)


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ({"name": "overflow", "primary": {"billing": ["voice_zh", "nobody"]}}, "params.eligibility.1.primary.billing",
         "unknown group 'nobody'"),
        ({"name": "overflow", "after_by_channel": {"fax": "1min"}}, "params.eligibility.1.after_by_channel",
         "unknown channel 'fax'"),
        ({"name": "rebalancing", "primary": {"tech": ["chat_all"], "refunds": ["voice_en"]}},
         "params.eligibility.1.primary", "unknown intent 'refunds'"),
    ],
    ids=["group", "channel", "intent"],
)  # fmt: skip
def test_names_that_do_not_fit_the_scenario_fail_at_load_time_with_the_rule_index(rule, field, message):
    data = copy.deepcopy(BASE)
    data["policies"] = {"routing": {"name": "composed", "params": {"eligibility": ["sticky_last_agent", rule]}}}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, label="conformance.yaml")
    (problem,) = info.value.problems
    assert problem.startswith(f"conformance.yaml: policies.routing: {field}: {message}"), problem
