"""Contingency plans (sim/plans.py, sim/engine/plans.py): exact traces of when plans start and stop and what their
actions do, on hand-made arrivals."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from sim.engine import ContactCenter
from sim.problems import ScenarioProblemsError
from sim.streams import Streams
from tests.sim.conftest import batch, scenario
from tests.sim.test_stages import OfferAll


def _at(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"2026-11-09T{h:02d}:{m:02d}:{s:02d}"


def group(channels, n, skills=("general",)):
    return {"channels": list(channels), "skills": dict.fromkeys(skills, 1.0), "languages": ["en"],
            "staffing": {"always": n}}  # fmt: skip


def run_center(sc, batches, **kwargs):
    center = ContactCenter(sc, Streams(0, 0), iter(batches), log=True, **kwargs)
    center.run()
    return center, center.result(0, 0, 0.0)


def rows(result):
    return result.contacts.set_index("contact_id")


# ------------------------------------------------------------------------------------------------ call-in


def test_a_window_calls_in_reserve_agents_exactly_from_start_to_end():
    plan = {"name": "reserve", "window": {"start": _at(1000), "end": _at(2000)},
            "actions": {"call_in": [{"group": "agents", "agents": 1}]}}  # fmt: skip
    sc = scenario(groups={"agents": group(["voice"], 0)}, plans=[plan])
    center, res = run_center(sc, [batch([500.0, 1500.0, 1999.0, 2000.0])])
    assert center.plans.events == [(1000.0, "reserve", True), (2000.0, "reserve", False)]
    c = rows(res)
    # 500 waits for the call-in at 1000; 1500 finds the agent idle; 1999 is taken at once and finished after the
    # end (overtime); 2000 arrives when the plan has ended: nobody serves it.
    assert c.service_start_s.tolist()[:3] == [1000.0, 1500.0, 1999.0]
    assert c.outcome.astype(str).tolist() == ["served", "served", "served", "censored"]
    agent = res.agents.set_index("agent_id").loc[0]
    assert agent["shift"] == "plan:reserve"
    assert agent["callin_s"] == 1000.0
    assert agent["overtime_s"] == pytest.approx(99.0)
    assert agent["paid_s"] == pytest.approx(1099.0)


def test_an_outage_trigger_is_in_force_exactly_during_the_outage():
    plan = {"name": "cover", "trigger": {"outage": "voice"}, "actions": {"call_in": [{"group": "chat", "agents": 1}]}}
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}},
                  "outages": [{"channel": "voice", "start": _at(100), "end": _at(200)},
                              {"channel": "voice", "start": _at(500), "end": _at(600)}]},
        groups={"voice": group(["voice"], 1), "chat": group(["chat"], 0)},
        plans=[plan],
    )  # fmt: skip
    center, _ = run_center(sc, [batch([50.0])])
    assert center.plans.events == [(100.0, "cover", True), (200.0, "cover", False), (500.0, "cover", True),
                                   (600.0, "cover", False)]  # fmt: skip


def test_a_queue_trigger_starts_and_stops_at_the_checks_where_the_condition_changes():
    plan = {"name": "surge", "trigger": {"queue": {"channel": "voice", "length_over": 2, "check_every": "60s"}},
            "actions": {"call_in": [{"group": "agents", "agents": 1}]}}  # fmt: skip
    sc = scenario(groups={"agents": group(["voice"], 0)}, plans=[plan])
    center, res = run_center(sc, [batch([10.0, 20.0, 30.0, 40.0])])
    # Checks at 0, 60, 120, ...: 4 waiting at 60 (on); the agent takes 10 at 60 and 20 at 160; at 120 three wait
    # (still on); at 180 two wait (off); the agent finishes 20 at 260 and logs out.
    assert center.plans.events == [(60.0, "surge", True), (180.0, "surge", False)]
    c = rows(res)
    assert c.service_start_s.tolist()[:2] == [60.0, 160.0]
    assert c.outcome.astype(str).tolist() == ["served", "served", "censored", "censored"]
    agent = res.agents.iloc[0]
    assert agent["callin_s"] == 120.0
    assert agent["overtime_s"] == pytest.approx(80.0)


def test_an_oldest_wait_trigger():
    plan = {"name": "old", "trigger": {"queue": {"channel": "voice", "oldest_wait_over": "90s", "check_every": "30s"}},
            "actions": {"call_in": [{"group": "agents", "agents": 1}]}}  # fmt: skip
    sc = scenario(groups={"agents": group(["voice"], 0)}, plans=[plan])
    center, res = run_center(sc, [batch([10.0])])
    # Waited 80 s at 90 (no), 110 s at 120 (on); served at 120, nothing waits at 150 (off).
    assert center.plans.events == [(120.0, "old", True), (150.0, "old", False)]
    assert rows(res).service_start_s.tolist() == [120.0]


# ----------------------------------------------------------------------------------------------- move agents


def test_moved_agents_take_the_other_channel_after_the_wait_and_their_own_work_first():
    plan = {"name": "voice_takes_chat", "window": {"start": _at(0), "end": _at(1000)},
            "actions": {"move_agents": [{"group": "voice", "from": "voice", "to": "chat", "after_wait": "30s"}]}}
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        groups={"voice": group(["voice"], 1), "chat": group(["chat"], 0)},
        plans=[plan],
    )  # fmt: skip
    arrivals = batch([100.0, 200.0, 240.0, 250.0, 1100.0], channel=[1, 1, 0, 1, 1])
    center, res = run_center(sc, [arrivals])
    c = rows(res)
    # chat 100: the idle voice agent takes it once it has waited 30 s (130). chat 200: the agent is busy until 230
    # and takes it then (waited 30 s). voice 240 waits for the agent (busy until 330), which takes its own work
    # first; chat 250 then waits until 430. chat 1100 arrives after the plan: nobody serves it.
    assert c.service_start_s.tolist()[:4] == [130.0, 230.0, 330.0, 430.0]
    assert c.agent_id.tolist()[:4] == [0, 0, 0, 0]
    assert c.outcome.astype(str).tolist() == ["served"] * 4 + ["censored"]
    assert center.plans.events == [(0.0, "voice_takes_chat", True), (1000.0, "voice_takes_chat", False)]


def test_moves_without_a_wait_take_a_contact_at_once():
    plan = {"name": "m", "window": {"start": _at(50), "end": _at(1000)},
            "actions": {"move_agents": [{"group": "voice", "from": "voice", "to": "chat"}]}}
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        groups={"voice": group(["voice"], 1), "chat": group(["chat"], 0)},
        plans=[plan],
    )  # fmt: skip
    _, res = run_center(sc, [batch([10.0, 60.0], channel=[1, 1])])
    # chat 10 waits until the plan starts (50: the sweep at the start); chat 60 when the agent frees at 150.
    assert rows(res).service_start_s.tolist() == [50.0, 150.0]


# ---------------------------------------------------------------------------------------------- shift demand


def test_shift_demand_reschedules_a_share_to_after_the_time_of_day():
    plan = {"name": "later", "window": {"start": _at(0), "end": _at(3600)},
            "actions": {"shift_demand": {"share": 1.0, "after": "02:00", "spread": "0s"}}}
    sc = scenario(plans=[plan])
    _, res = run_center(sc, [batch([100.0, 3599.0, 4000.0])])
    c = rows(res)
    # A shifted contact gets its id when it arrives (as every arrival does): 4000 comes first.
    assert c.arrival_s.tolist() == [4000.0, 7200.0, 7200.0]
    assert (c.outcome == "served").all()


def test_shift_demand_share_and_spread():
    plan = {"name": "later", "window": {"start": _at(0), "end": _at(36000)},
            "actions": {"shift_demand": {"share": 0.5, "after": "22:00", "spread": "1h"}}}
    sc = scenario(plans=[plan], groups={"agents": group(["voice"], 50)})
    times = np.linspace(1.0, 35000.0, 400)
    _, res = run_center(sc, [batch(times)])
    c = res.contacts
    moved = c[c.arrival_s >= 22 * 3600.0]
    assert ((moved.arrival_s >= 22 * 3600.0) & (moved.arrival_s < 23 * 3600.0)).all()
    assert 0 < len(moved) < 400
    assert len(c) == 400


# ------------------------------------------------------------------------------------------- policy switches


def test_a_plan_switches_the_deflection_policy_only_inside_its_window():
    plan = {"name": "bot", "window": {"start": _at(1000), "end": _at(2000)},
            "actions": {"policies": {"deflection": {"name": "all"}}}}
    bot = {"session": {"dist": "fixed", "value": "60s"}, "default_resolution": 1.0}
    sc = scenario(bots={"voice": bot}, plans=[plan])
    policies = {"bot": {"deflection": OfferAll()}}
    _, res = run_center(sc, [batch([500.0, 1000.0, 1500.0, 2000.0])], plan_policies=policies)
    c = rows(res)
    assert c.outcome.astype(str).tolist() == ["served", "bot_resolved", "bot_resolved", "served"]


def test_a_plan_switching_a_slot_needs_its_policy_object():
    plan = {"name": "bot", "window": {"start": _at(1000), "end": _at(2000)},
            "actions": {"policies": {"deflection": {"name": "all"}}}}
    sc = scenario(plans=[plan])
    with pytest.raises(ValueError, match="plan_policies"):
        run_center(sc, [batch([1.0])])


# ------------------------------------------------------------------------------------------------ validation


def _problems(**top):
    with pytest.raises(ValidationError) as info:
        scenario(**top)
    raised = info.value.errors()[0]["ctx"]["error"]
    assert isinstance(raised, ScenarioProblemsError)
    return raised.problems


def test_overlapping_windows_on_one_slot_are_refused():
    switch = {"policies": {"routing": {"name": "longest_idle"}}}
    plans = [
        {"name": "a", "window": {"start": _at(0), "end": _at(100)}, "actions": switch},
        {"name": "b", "window": {"start": _at(50), "end": _at(150)}, "actions": switch},
        {"name": "c", "window": {"start": _at(150), "end": _at(200)}, "actions": switch},  # touches b: fine
    ]
    (p,) = _problems(plans=plans)
    assert p.path == ("plans", 1, "actions", "policies")
    assert "overlaps plan 0" in p.message


def test_a_trigger_on_an_unknown_queue_and_a_move_from_a_lacking_channel_are_refused():
    plans = [
        {"name": "a", "trigger": {"queue": {"channel": "chat", "length_over": 3}},
         "actions": {"call_in": [{"group": "agents", "agents": 1}]}},
        {"name": "b", "window": {"start": _at(0), "end": _at(100)},
         "actions": {"move_agents": [{"group": "agents", "from": "email", "to": "voice"}]}},
        {"name": "c", "trigger": {"outage": "voice"}, "actions": {"call_in": [{"group": "nobody", "agents": 1}]}},
    ]  # fmt: skip
    problems = {p.path: p.message for p in _problems(plans=plans)}
    assert "unknown channel 'chat'" in problems["plans", 0, "trigger", "queue", "channel"]
    assert "does not work channel 'email'" in problems["plans", 1, "actions", "move_agents", 0, "from"]
    assert "already works channel 'voice'" in problems["plans", 1, "actions", "move_agents", 0, "to"]
    assert "has no outage" in problems["plans", 2, "trigger", "outage"]
    assert "unknown group 'nobody'" in problems["plans", 2, "actions", "call_in", 0, "group"]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"actions": {"call_in": [{"group": "agents", "agents": 1}]}}, "exactly one of window"),
        ({"window": {"start": _at(0), "end": _at(10)}, "actions": {}}, "at least one action"),
        ({"trigger": {"queue": {"channel": "voice"}}, "actions": {"call_in": [{"group": "agents", "agents": 1}]}},
         "exactly one of length_over"),
        ({"window": {"start": _at(10), "end": _at(10)}, "actions": {"call_in": [{"group": "agents", "agents": 1}]}},
         "must be after start"),
    ],
)
def test_malformed_plans_are_refused(plan, message):
    with pytest.raises(ValidationError, match=message):
        scenario(plans=[{"name": "p", **plan}])


def test_a_scenario_with_plans_and_outages_round_trips_through_its_json_dump():
    plan = {"name": "m", "window": {"start": _at(50), "end": _at(1000)},
            "actions": {"move_agents": [{"group": "voice", "from": "voice", "to": "chat", "after_wait": "1min"}],
                        "shift_demand": {"share": 0.2, "after": "22:00"}}}  # fmt: skip
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        groups={"voice": group(["voice"], 1), "chat": group(["chat"], 1)},
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}},
                  "outages": [{"channel": "voice", "start": _at(100), "end": _at(200), "moved_to": "chat",
                               "moved_share": 0.5, "notice": {"at": _at(150), "retry_share": 0.5,
                                                               "retry_after": {"dist": "fixed", "value": "1h"}}}]},
        plans=[plan],
    )  # fmt: skip
    assert type(sc).model_validate(sc.model_dump(mode="json")) == sc


# ------------------------------------------------------------------------------------- no plan in force: oracle

NEVER = {"name": "never", "trigger": {"queue": {"channel": "voice", "length_over": 10**6, "check_every": "5min"}},
         "actions": {"call_in": [{"group": "agents", "agents": 3}],
                     "shift_demand": {"share": 1.0, "after": "03:00"}}}  # fmt: skip


def test_a_plan_that_never_comes_into_force_changes_no_contact():
    from tests.sim.test_validation import mm_scenario

    data = {**mm_scenario(14).model_dump(mode="json"), "horizon": "1d"}
    sc = type(mm_scenario(14)).model_validate(data)
    with_plan = type(sc).model_validate({**data, "plans": [NEVER]})
    a = ContactCenter(sc, Streams(3, 0), iter_arrivals_of(sc, 3), log=True)
    b = ContactCenter(with_plan, Streams(3, 0), iter_arrivals_of(with_plan, 3), log=True)
    a.run()
    b.run()
    assert b.plans is not None
    assert b.plans.events == []
    ra, rb = a.result(0, 3, 0.0), b.result(0, 3, 0.0)
    assert ra.contacts.equals(rb.contacts)
    assert ra.intervals.equals(rb.intervals)


def iter_arrivals_of(sc, seed):
    from sim.arrivals import iter_arrivals

    return iter_arrivals(sc, Streams(seed, 0))


@pytest.mark.slow
def test_erlang_c_holds_with_a_plan_configured_but_not_in_force():
    from sim.erlang import erlang_c
    from tests.sim.test_validation import HANDLE_S, RATE_PER_S, mm_scenario, per_replication
    from tests.stats_family import assert_covers

    base = mm_scenario(14)
    sc = type(base).model_validate({**base.model_dump(mode="json"), "plans": [NEVER]})
    stats = per_replication(sc, seed=29)
    theory = erlang_c(RATE_PER_S, HANDLE_S, 14)
    assert_covers(stats["sl20"], theory.service_level(20), "Erlang C 14 agents, idle plan: SL(20 s)")
    assert_covers(stats["p_wait"], theory.p_wait, "Erlang C 14 agents, idle plan: P(wait > 0)")
    assert_covers(stats["asa"], theory.asa_s, "Erlang C 14 agents, idle plan: ASA (s)")


# ------------------------------------------------------------------- empowerment and parameter switches


def _limit(limit, training=0.0, leakage=0.0):
    from policies.registry import make

    params = {"default_limit": limit, "approve_handle": "10s", "escalation_handle": "20s",
              "training_cost": training, "leakage_share": leakage}  # fmt: skip
    return make("empowerment", {"name": "authority_limit", "params": params})


def _empower_plan(start_s, end_s, limit=1e9, training=100.0, leakage=0.1):
    params = {"default_limit": limit, "approve_handle": "10s", "escalation_handle": "20s",
              "training_cost": training, "leakage_share": leakage}  # fmt: skip
    return {"name": "authority", "window": {"start": _at(start_s), "end": _at(end_s)},
            "actions": {"policies": {"empowerment": {"name": "authority_limit", "params": params}}}}  # fmt: skip


def test_a_plan_switches_the_empowerment_policy_exactly_inside_its_window():
    from tests.sim.test_stages import approval_scenario

    plan = _empower_plan(1000, 2000)
    sc = approval_scenario(plans=[plan])
    policies = {"authority": {"empowerment": _limit(1e9, training=100.0, leakage=0.1)}}
    center, res = run_center(
        sc, [batch([500.0, 1000.0, 1500.0, 1999.0, 2000.0])], plan_policies=policies, empowerment=_limit(0.0)
    )
    assert center.plans.events == [(1000.0, "authority", True), (2000.0, "authority", False)]
    c = rows(res)
    # Outside the window every amount is over the limit 0: escalated to the team lead (100 s + 20 s to raise it +
    # 60 s on hold); inside it the agent approves in the contact (100 s + 10 s). The service start decides.
    assert c.approval.astype(str).tolist() == ["team_lead", "self", "self", "self", "team_lead"]
    np.testing.assert_allclose(c.handle_s, [180.0, 110.0, 110.0, 110.0, 180.0])
    assert center.empowerment is center.plans.base_empowerment  # switched back
    inside = c.approval.astype(str) == "self"
    # Leakage is charged by the policy that approved (the plan's, 10% of the amount), only inside the window.
    assert res.stats["leakage_cost"] == pytest.approx(0.1 * c.amount[inside].sum())
    assert res.resolution["self_approved"].sum() == 3
    # One-off training: the plan's policy gives the 3 agents a limit above 0 and came into force: 3 x 100.
    assert res.stats["training_cost"] == pytest.approx(300.0)


def test_a_service_started_before_the_switch_keeps_the_approval_it_started_with():
    from tests.sim.test_stages import approval_scenario

    sc = approval_scenario(plans=[_empower_plan(1050, 2000)])
    policies = {"authority": {"empowerment": _limit(1e9)}}
    _, res = run_center(sc, [batch([1000.0, 1050.0])], plan_policies=policies, empowerment=_limit(0.0))
    c = rows(res)
    assert c.approval.astype(str).tolist() == ["team_lead", "self"]
    np.testing.assert_allclose(c.service_end_s, [1180.0, 1160.0])


def test_an_empowerment_plan_never_in_force_costs_no_training_and_changes_nothing():
    from tests.sim.test_stages import approval_scenario

    times = [500.0, 1000.0, 1500.0]
    base = approval_scenario()
    _, without = run_center(base, [batch(times)], empowerment=_limit(0.0, training=50.0))
    sc = approval_scenario(horizon="1h", plans=[_empower_plan(5000, 6000)])
    base = approval_scenario(horizon="1h")
    _, without = run_center(base, [batch(times)], empowerment=_limit(0.0, training=50.0))
    policies = {"authority": {"empowerment": _limit(1e9, training=100.0)}}
    center, res = run_center(sc, [batch(times)], plan_policies=policies, empowerment=_limit(0.0, training=50.0))
    assert center.plans.events == []
    cols = ["arrival_s", "service_start_s", "service_end_s", "approval", "amount"]
    assert res.contacts[cols].equals(without.contacts[cols])
    assert res.stats["training_cost"] == 0.0 == without.stats["training_cost"]  # limit 0: nobody trained


def test_training_is_paid_once_for_the_widest_authority():
    from tests.sim.test_stages import approval_scenario

    # The scenario's policy already trains (limit 20, 50 per agent); the plan's costs 100 per agent: 3 x 100.
    sc = approval_scenario(plans=[_empower_plan(1000, 2000, training=100.0)])
    policies = {"authority": {"empowerment": _limit(1e9, training=100.0)}}
    _, res = run_center(sc, [batch([500.0])], plan_policies=policies, empowerment=_limit(20.0, training=50.0))
    assert res.stats["training_cost"] == pytest.approx(300.0)
    # A cheaper plan policy does not lower what the scenario's already costs: 3 x 50.
    policies = {"authority": {"empowerment": _limit(1e9, training=10.0)}}
    _, res = run_center(sc, [batch([500.0])], plan_policies=policies, empowerment=_limit(20.0, training=50.0))
    assert res.stats["training_cost"] == pytest.approx(150.0)


def _overflow(after):
    from policies.registry import make

    return make("routing", {"name": "overflow", "params": {"after": after}})


def test_a_parameter_change_is_a_switch_to_the_same_policy_with_other_params():
    # Overflow after 60 s, 20 s inside [1000, 2000). "main" (proficiency 1) is primary, "backup" (1.5) takes a
    # contact once it has waited `after`. Each pair: the first goes to main (busy 100 s), the second waits.
    plan = {"name": "faster_overflow", "window": {"start": _at(1000), "end": _at(2000)},
            "actions": {"policies": {"routing": {"name": "overflow", "params": {"after": "20s"}}}}}  # fmt: skip
    groups = {"main": group(["voice"], 1), "backup": {**group(["voice"], 1), "skills": {"general": 1.5}}}
    sc = scenario(groups=groups, plans=[plan])
    policies = {"faster_overflow": {"routing": _overflow("20s")}}
    times = [500.0, 510.0, 1000.0, 1010.0, 1950.0, 1960.0, 2200.0, 2210.0]
    center, res = run_center(sc, [batch(times)], plan_policies=policies, routing=_overflow("60s"))
    assert center.plans.events == [(1000.0, "faster_overflow", True), (2000.0, "faster_overflow", False)]
    c = rows(res)
    starts = c.service_start_s.tolist()
    assert starts[0::2] == [500.0, 1000.0, 1950.0, 2200.0]  # main
    assert starts[1::2] == [570.0, 1030.0, 1980.0, 2270.0]  # backup: after 60 s, 20 s, 20 s, 60 s again
    assert c.group.astype(str).tolist()[1::2] == ["backup"] * 4
    assert center.routing is not policies["faster_overflow"]["routing"]


# ------------------------------------------------------------------------------ validation of switched slots


def test_a_plan_switching_an_unknown_slot_is_refused():
    plan = {"name": "x", "window": {"start": _at(0), "end": _at(100)},
            "actions": {"policies": {"roster": {"name": "template"}}}}  # fmt: skip
    with pytest.raises(ValidationError, match="unknown policy slot 'roster'"):
        scenario(plans=[plan])


@pytest.mark.parametrize(
    ("slot", "spec", "expected"),
    [
        ("empowerment", {"name": "no_such_rule"}, "unknown empowerment policy 'no_such_rule'"),
        ("empowerment", {"name": "authority_limit", "params": {"limits": {"nobody": 5}}}, "nobody"),
        ("routing", {"name": "overflow", "params": {"after": -1}}, "bad parameters for routing policy 'overflow'"),
        ("staffing", {"name": "template"}, "unknown staffing policy 'template'"),
        ("staffing", {"name": "reactive_overtime", "params": {"reserve": {"nobody": 2}}},
         "params.reserve: unknown group 'nobody'"),
        ("staffing", {"name": "reactive_overtime", "params": {"reserve": {"agents": 2}, "review": "-5min"}},
         "bad parameters for staffing policy 'reactive_overtime': review"),
    ],
)
def test_a_plan_with_a_bad_policy_for_its_slot_is_refused_at_load_with_the_field_path(slot, spec, expected):
    from policies.registry import check_scenario

    plan = {"name": "p", "window": {"start": _at(0), "end": _at(100)}, "actions": {"policies": {slot: spec}}}
    (problem,) = check_scenario(scenario(plans=[plan]))
    assert problem.path == ("plans", 0, "actions", "policies", slot)
    assert expected in problem.message


@pytest.mark.parametrize(
    ("times", "backup_start_s"),
    [
        ([900.0, 960.0], 1000.0),  # waited 40 s at the start: over the new 20 s, taken at the start, not at 1020
        ([1800.0, 1985.0], 2045.0),  # its 20 s end after the plan: the old 60 s applies again (not 2005)
        ([1950.0, 1990.0], 2050.0),  # asked to review at 2010 under the plan; at 2000 the 60 s rule asks for 2050
    ],
)
def test_a_threshold_change_applies_to_contacts_already_waiting_at_both_window_edges(times, backup_start_s):
    plan = {"name": "f", "window": {"start": _at(1000), "end": _at(2000)},
            "actions": {"policies": {"routing": {"name": "overflow", "params": {"after": "20s"}}}}}  # fmt: skip
    groups = {"main": group(["voice"], 1), "backup": {**group(["voice"], 1), "skills": {"general": 1.5}}}
    sc = scenario(groups=groups, plans=[plan])
    policies = {"f": {"routing": _overflow("20s")}}
    _, res = run_center(sc, [batch(times, handle=300.0)], plan_policies=policies, routing=_overflow("60s"))
    c = rows(res)
    assert c.group.astype(str).tolist() == ["main", "backup"]
    assert c.service_start_s.tolist() == [times[0], backup_start_s]


# ----------------------------------------------------------------------------------------- staffing switches
# One rostered agent (id 0) and a backlog from t=0 (handle 100 s, no abandonment), so a reactive policy's trigger
# holds at every review; reserve agents' ids follow the roster (1, 2, ...). A call at review time t logs the agent
# in at t + delay for `length`; it finishes the contact in hand after that (so it is on call until then).


def _reactive(**params):
    from policies.registry import make

    base = {"max_wait": "60s", "review": "5min", "delay": "50s", "length": "230s", "step": 1, "cooldown": "0s"}
    return make("staffing", {"name": "reactive_overtime", "params": {**base, **params}})


def _fixed():
    from policies.registry import make

    return make("staffing", "fixed")


def _staffing_plan(spec, start_s=1000, end_s=2000, name="evening"):
    return {"name": name, "window": {"start": _at(start_s), "end": _at(end_s)},
            "actions": {"policies": {"staffing": spec}}}  # fmt: skip


def _calls(center):
    """Per reserve agent id, the sorted call-ins ``(login_s, end_s)``."""
    logins, _ = center.shifts.blocks()
    return {a.id: sorted(logins[a.id]) for pool in center.shifts.reserve for a in pool}


BACKLOG = [batch(np.zeros(200))]


def test_a_plan_switching_fixed_to_reactive_calls_in_only_at_the_reviews_of_its_window():
    spec = {"name": "reactive_overtime", "params": {"reserve": {"agents": 10}}}
    sc = scenario(horizon="1h", plans=[_staffing_plan(spec)])
    plan_policy = _reactive(reserve={"agents": 10})
    center, res = run_center(sc, BACKLOG, staffing=_fixed(), plan_policies={"evening": {"staffing": plan_policy}})
    assert center.plans.events == [(1000.0, "evening", True), (2000.0, "evening", False)]
    # The base calls nobody (fixed). The plan reviews at its start (1000: at once), 1300, 1600, 1900; each review
    # calls the first free agent of the pool for 230 s; it drains its last contact until 70 s after that (1050 +
    # 3 x 100), so the next review takes the next agent and the one after takes it again. None after the end at
    # 2000, though the backlog lasts.
    calls = _calls(center)
    assert len(calls) == 10  # the pool: the plan's reserve (the scenario's policy has none)
    assert calls == {1: [(1050.0, 1280.0), (1650.0, 1880.0)], 2: [(1350.0, 1580.0), (1950.0, 2180.0)],
                     **{i: [] for i in range(3, 11)}}  # fmt: skip
    a = res.agents.set_index("agent_id")
    assert list(a["shift"]) == ["always"] + ["reserve"] * 10
    np.testing.assert_allclose(a.loc[[1, 2], "callin_s"], 460.0)
    assert (a.loc[3:, "callin_s"] == 0.0).all()
    served = res.contacts[res.contacts.agent_id > 0]
    assert served.service_start_s.min() == 1050.0
    assert served.service_start_s.max() == 2150.0  # agent 2's last contact, taken before its call ends at 2180
    assert center.shifts.staffing is not plan_policy  # switched back


def test_a_parameter_change_of_the_reactive_trigger_applies_exactly_at_the_window_edges():
    # Base: call when the oldest waiting contact has waited 600 s (reviews at 300, 600, 900, ...). The plan: the
    # same policy with 60 s, in [1000, 2000). Agent 0 is busy with a 10000 s contact; B arrives at 700, C at 1850.
    spec = {"name": "reactive_overtime", "params": {"reserve": {"agents": 1}, "max_wait": "60s"}}
    sc = scenario(horizon="1h", plans=[_staffing_plan(spec)])
    arrivals = [batch([0.0, 700.0, 1850.0], handle=[10000.0, 100.0, 100.0])]
    kwargs = {"staffing": _reactive(reserve={"agents": 1}, max_wait="600s", length="400s")}
    policies = {"evening": {"staffing": _reactive(reserve={"agents": 1}, max_wait="60s", length="400s")}}
    center, res = run_center(sc, arrivals, plan_policies=policies, **kwargs)
    # B has waited 200 s at the base's 900 review (under 600: no call) and 300 s at the plan's start (over 60: call
    # at 1000, in at 1050). C has waited 50 s at the plan's 1900 review (no call); from the end the base's 600 s
    # holds again: 150 s at its review at 2000, 450 s at 2300 (no call), 750 s at 2600: call, in at 2650.
    assert _calls(center) == {1: [(1050.0, 1450.0), (2650.0, 3050.0)]}
    c = rows(res)
    assert c.service_start_s.tolist() == [0.0, 1050.0, 2650.0]
    assert c.agent_id.tolist() == [0, 1, 1]
    # Without the plan: B is called for only at the 1500 review (waited 800 s); that call lasts until 1950, so C is
    # served at once by the same agent.
    _, alone = run_center(scenario(horizon="1h"), arrivals, **kwargs)
    assert rows(alone).service_start_s.tolist() == [0.0, 1550.0, 1850.0]


def test_the_pool_holds_the_largest_reserve_and_each_policy_calls_at_most_its_own():
    # Base: reserve 1 (step 2 cannot call more than it); the plan in [1000, 2000): reserve 3, step 3. Calls last
    # 1030 s; agents serve the backlog in 100 s contacts, so a call ends 70 s after its length (draining).
    spec = {"name": "reactive_overtime", "params": {"reserve": {"agents": 3}, "step": 3}}
    sc = scenario(horizon="1h", plans=[_staffing_plan(spec)])
    policies = {"evening": {"staffing": _reactive(reserve={"agents": 3}, step=3, length="1030s")}}
    center, res = run_center(
        sc, BACKLOG, staffing=_reactive(reserve={"agents": 1}, step=2, length="1030s"), plan_policies=policies
    )
    assert [len(pool) for pool in center.shifts.reserve] == [3]
    assert list(res.agents["shift"]) == ["always", "reserve", "reserve", "reserve"]
    # 300: the base calls agent 1 (its one reserve agent), on call until 1450. 600, 900: it is on call, no call.
    # 1000 (plan start, at once): agent 1 is on call; the plan calls agents 2 and 3 (3 on call). 1300: none free.
    # 1600: agent 1 is free again: called. 1900: none. 2000 (the base again, at once): agent 1 is on call, and
    # agents 2 and 3 (free from 2150) are beyond its reserve: no call at 2000, 2300, 2600. 2900: agent 1.
    assert _calls(center) == {
        1: [(350.0, 1380.0), (1650.0, 2680.0), (2950.0, 3980.0)],
        2: [(1050.0, 2080.0)],
        3: [(1050.0, 2080.0)],
    }
    # Without the plan the same base policy has a pool of one agent, called at 300, 1500 (free from 1450), 2700.
    alone, _ = run_center(scenario(horizon="1h"), BACKLOG, staffing=_reactive(reserve={"agents": 1}, step=2,
                                                                                length="1030s"))  # fmt: skip
    assert _calls(alone) == {1: [(350.0, 1380.0), (1550.0, 2580.0), (2750.0, 3780.0)]}


def test_a_plan_switching_to_fixed_stops_call_ins_in_its_window_and_the_base_reviews_again_at_its_end():
    sc = scenario(horizon="1h", plans=[_staffing_plan({"name": "fixed"})])
    base = {"reserve": {"agents": 2}}
    center, _ = run_center(sc, BACKLOG, staffing=_reactive(**base), plan_policies={"evening": {"staffing": _fixed()}})
    # The base reviews at 300, 600, 900 and calls agents 1, 2, 1 (each drains its last contact until 70 s after its
    # 230 s, so the other one is free at the next review). The 950 call-in stays for its length. From 1000 to 2000
    # nobody is called (the base's pending 1200 review does nothing); at 2000 the base reviews at once (agent 1),
    # then every 300 s.
    assert _calls(center) == {
        1: [(350.0, 580.0), (950.0, 1180.0), (2050.0, 2280.0), (2650.0, 2880.0), (3250.0, 3480.0)],
        2: [(650.0, 880.0), (2350.0, 2580.0), (2950.0, 3180.0), (3550.0, 3780.0)],
    }
    alone, _ = run_center(scenario(horizon="1h"), BACKLOG, staffing=_reactive(**base))
    logins = sorted(start for blocks in _calls(alone).values() for start, _ in blocks)
    assert logins == [350.0 + 300.0 * k for k in range(11)]


def test_when_one_staffing_plan_ends_as_another_starts_only_the_second_reviews():
    # Touching windows [1000, 2000) and [2000, 3000), both "no call-ins": the scenario's policy is in force for no
    # time at 2000, so it does not review there; it reviews at 3000 (in at 3050), then every 300 s.
    plans = [_staffing_plan({"name": "fixed"}, 1000, 2000, "a"), _staffing_plan({"name": "fixed"}, 2000, 3000, "b")]
    sc = scenario(horizon="1h", plans=plans)
    policies = {"a": {"staffing": _fixed()}, "b": {"staffing": _fixed()}}
    center, _ = run_center(sc, BACKLOG, staffing=_reactive(reserve={"agents": 2}), plan_policies=policies)
    assert center.plans.events == [(1000.0, "a", True), (2000.0, "a", False), (2000.0, "b", True),
                                   (3000.0, "b", False)]  # fmt: skip
    logins = sorted(start for blocks in _calls(center).values() for start, _ in blocks)
    assert logins == [350.0, 650.0, 950.0, 3050.0, 3350.0]


def test_a_triggered_plan_switches_staffing_each_time_it_comes_into_force():
    # The plan is in force during each outage of chat (100-700, 1500-2100); voice agents are called in only then.
    spec = {"name": "reactive_overtime", "params": {"reserve": {"agents": 5}}}
    plan = {"name": "cover", "trigger": {"outage": "chat"}, "actions": {"policies": {"staffing": spec}}}
    sc = scenario(
        horizon="1h",
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}},
                  "outages": [{"channel": "chat", "start": _at(100), "end": _at(700)},
                              {"channel": "chat", "start": _at(1500), "end": _at(2100)}]},
        plans=[plan],
    )  # fmt: skip
    policy = _reactive(reserve={"agents": 5})
    center, _ = run_center(sc, BACKLOG, staffing=_fixed(), plan_policies={"cover": {"staffing": policy}})
    logins = sorted(start for blocks in _calls(center).values() for start, _ in blocks)
    # Reviews at 100, 400 (first outage) and 1500, 1800 (second): each calls one agent in 50 s later.
    assert logins == [150.0, 450.0, 1550.0, 1850.0]


def test_a_staffing_plan_never_in_force_only_adds_idle_reserve_agents():
    # The pool grows to the plan's reserve, but the scenario's policy calls only its own first agents: every contact
    # and interval is the same as without the plan, and the extra reserve agents are never called.
    from tests.sim.test_validation import mm_scenario

    data = {**mm_scenario(13).model_dump(mode="json"), "horizon": "1d"}
    group_name = next(iter(data["groups"]))
    never = {"name": "never", "trigger": {"queue": {"channel": next(iter(data["channels"])), "length_over": 10**6}},
             "actions": {"policies": {"staffing": {"name": "reactive_overtime",
                                                   "params": {"reserve": {group_name: 5}}}}}}  # fmt: skip
    sc = type(mm_scenario(13)).model_validate(data)
    with_plan = type(sc).model_validate({**data, "plans": [never]})

    def go(scn, **kwargs):
        from sim.arrivals import iter_arrivals

        streams = Streams(3, 0)
        base = _reactive(reserve={group_name: 2}, max_wait="20s", review="5min", delay="5min", length="30min")
        center = ContactCenter(scn, streams, iter_arrivals(scn, streams), log=True, staffing=base, **kwargs)
        center.run()
        return center, center.result(0, 3, 0.0)

    a, ra = go(sc)
    b, rb = go(with_plan, plan_policies={"never": {"staffing": _reactive(reserve={group_name: 5})}})
    assert b.plans is not None
    assert b.plans.events == []
    assert ra.agents["callin_s"].sum() > 0  # the scenario's policy does call agents in
    assert ra.contacts.equals(rb.contacts)
    assert ra.intervals.equals(rb.intervals)
    assert [len(p) for p in a.shifts.reserve] == [2]
    assert [len(p) for p in b.shifts.reserve] == [5]
    n = len(ra.agents)
    assert ra.agents.equals(rb.agents.iloc[:n])
    assert (rb.agents.iloc[n:]["callin_s"] == 0.0).all()


def test_staffing_switches_conserve_contacts_and_call_only_at_the_reviews_of_the_policy_in_force():
    from sim.arrivals import iter_arrivals
    from tests.sim.test_invariants import mixed_scenario

    # Day 1 (the run starts 06:00): the plan's reactive policy in [17:00, 21:00); day 2: no call-ins in [08:00, 12:00).
    w1, w2 = (39600.0, 54000.0), (93600.0, 108000.0)
    plans = [
        _staffing_plan({"name": "reactive_overtime", "params": {"reserve": {"voice_en": 4, "voice_zh": 3}}},
                       name="evening"),
        _staffing_plan({"name": "fixed"}, name="quiet"),
    ]  # fmt: skip
    plans[0]["window"] = {"start": "2026-11-09T17:00", "end": "2026-11-09T21:00"}
    plans[1]["window"] = {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00"}
    sc = mixed_scenario(plans=plans)
    base = _reactive(reserve={"voice_en": 2, "chat_all": 2}, max_wait="2min", review="5min", delay="10min",
                     length="1h")  # fmt: skip
    plan = _reactive(reserve={"voice_en": 4, "voice_zh": 3}, max_wait="1min", review="3min", delay="5min",
                     length="30min", step=2)  # fmt: skip
    streams = Streams(5, 0)
    center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=True, staffing=base,
                           plan_policies={"evening": {"staffing": plan}, "quiet": {"staffing": _fixed()}})  # fmt: skip
    center.run()
    res = center.result(0, 5, 0.0)
    # Conservation: every arrival has one outcome, counted once in the intervals.
    df = res.contacts
    assert len(df) == center.n_arrivals > 1000
    assert df.contact_id.is_unique
    assert set(df.outcome.astype(str)) <= {"served", "abandoned", "censored"}
    assert res.intervals.offered.sum() == len(df)
    for outcome, column in (("served", "answered"), ("abandoned", "abandoned"), ("censored", "censored")):
        assert (df.outcome == outcome).sum() == res.intervals[column].sum()
    # The pool: per group the larger reserve; every served contact starts inside one of its agent's blocks.
    groups = list(sc.groups)
    assert {groups[g]: len(pool) for g, pool in enumerate(center.shifts.reserve)} == {
        "voice_en": 4, "voice_zh": 3, "chat_all": 2}  # fmt: skip
    logins, _ = center.shifts.blocks()
    for row in df[df.outcome == "served"].itertuples(index=False):
        assert any(start <= row.service_start_s < end for start, end in logins[int(row.agent_id)]), row
    # Every call-in was made at a review of the policy then in force, by an agent within that policy's reserve.
    limits = {"base": {"voice_en": 2, "chat_all": 2}, "plan": {"voice_en": 4, "voice_zh": 3}}
    seen = {"base": 0, "plan": 0}
    paid = 0.0
    for g, pool in enumerate(center.shifts.reserve):
        for k, agent in enumerate(pool):
            for login, end in logins[agent.id]:
                paid += min(end, sc.horizon) - login
                as_plan = login - 300.0
                as_base = login - 600.0
                if w1[0] <= as_plan < w1[1] and (as_plan - w1[0]) % 180.0 == 0.0:
                    who = "plan"
                else:
                    anchor = 0.0 if as_base < w1[0] else w1[1] if as_base < w2[0] else w2[1]
                    assert not w1[0] <= as_base < w1[1], (agent.id, login)
                    assert not w2[0] <= as_base < w2[1], (agent.id, login)  # the `quiet` plan: no call-ins
                    assert as_base >= 300.0, (agent.id, login)
                    assert (as_base - anchor) % 300.0 == 0.0, (agent.id, login)
                    who = "base"
                assert k < limits[who].get(groups[g], 0), (who, groups[g], k)
                seen[who] += 1
    assert seen["base"] > 0
    assert seen["plan"] > 0
    assert res.agents.loc[res.agents["shift"] == "reserve", "callin_s"].sum() == pytest.approx(paid)
