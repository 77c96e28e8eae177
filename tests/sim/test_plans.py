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
