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


def test_a_plan_switching_the_staffing_slot_is_refused_with_a_pointer_to_call_in():
    plan = {"name": "more", "window": {"start": _at(0), "end": _at(100)},
            "actions": {"policies": {"staffing": {"name": "template"}}}}  # fmt: skip
    with pytest.raises(ValidationError) as info:
        scenario(plans=[plan])
    (err,) = info.value.errors()
    assert err["loc"] == ("plans", 0, "actions", "policies")
    assert "staffing" in err["msg"]
    assert "call_in" in err["msg"]


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
