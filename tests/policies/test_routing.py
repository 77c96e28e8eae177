"""Exact traces of each routing policy on micro-scenarios (fixed handle times, infinite patience, hand-made arrivals).

Each scenario is built so that the rule under test changes who serves what, or when: where it helps, the same
arrivals are also run with the default longest-idle routing to show that the trace really depends on the rule.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from policies.registry import make
from sim import run
from sim.defaults import LongestIdleRouting
from tests.policies.examples import conformance_scenario
from tests.sim.conftest import batch, scenario, simulate

VOICE = {"voice": {"patience": {"dist": "none"}}}
GENERAL = {"general": {"handle": {"dist": "fixed", "value": "100s"}}}


def group(n=1, skills=None, channels=("voice",), languages=("en",)):
    return {
        "channels": list(channels),
        "skills": skills or {"general": 1.0},
        "languages": list(languages),
        "staffing": {"always": n},
    }


def micro(groups, *, channels=VOICE, intents=GENERAL, customers=None):
    arrivals = {
        "kind": "generated",
        "channels": {c: {"daily_volume": 0, "intent_mix": dict.fromkeys(intents, 1)} for c in channels},
    }
    extra = {"customers": customers} if customers is not None else {}
    return scenario(channels=channels, intents=intents, arrivals=arrivals, groups=groups, **extra)


def routing(name, **params):
    return make("routing", {"name": name, "params": params})


def trace(result):
    """(contact id, agent id, service start) per contact, in contact order."""
    df = result.contacts
    return [(int(r.contact_id), int(r.agent_id), float(r.service_start_s)) for r in df.itertuples(index=False)]


def with_customers(b, ids):
    return dataclasses.replace(b, customer_id=np.asarray(ids, dtype=np.int64))


# ------------------------------------------------------------------------------------------------ skill_based


def test_skill_based_sends_arrivals_to_the_most_proficient_group_first():
    # "slow" (agent 0, multiplier 1.2) is declared before "fast" (agent 1, 0.8): longest-idle breaks the tie at
    # t=0 by scenario order, skill-based by proficiency; the second contact finds "fast" busy and goes to "slow".
    sc = micro({"slow": group(skills={"general": 1.2}), "fast": group(skills={"general": 0.8})})
    arrivals = [batch([10, 20])]
    res = simulate(sc, arrivals, routing=routing("skill_based"))
    assert trace(res) == [(0, 1, 10.0), (1, 0, 20.0)]
    assert res.contacts.handle_s.tolist() == pytest.approx([80.0, 120.0])
    assert [a for _, a, _ in trace(simulate(sc, arrivals, routing=LongestIdleRouting()))] == [0, 1]


def test_skill_based_group_order_overrides_proficiency():
    sc = micro({"slow": group(skills={"general": 1.2}), "fast": group(skills={"general": 0.8})})
    res = simulate(sc, [batch([10, 20])], routing=routing("skill_based", group_order={"general": ["slow"]}))
    # "slow" is listed, so it comes first; "fast" (not listed) is still a fallback.
    assert trace(res) == [(0, 0, 10.0), (1, 1, 20.0)]


def test_skill_based_freed_agent_takes_the_intent_it_handles_fastest():
    intents = {"billing": GENERAL["general"], "tech": GENERAL["general"]}
    sc = micro({"agents": group(skills={"billing": 0.5, "tech": 1.5})}, intents=intents)
    # Busy with billing 0..50; a tech contact (t=10) then a billing one (t=20) wait. Freed at 50, the agent takes
    # billing (0.5) before the older tech contact (1.5): billing 50..100, tech 100..250.
    arrivals = [batch([0, 10, 20], intent=[0, 1, 0])]
    res = simulate(sc, arrivals, routing=routing("skill_based"))
    assert trace(res) == [(0, 0, 0.0), (1, 0, 100.0), (2, 0, 50.0)]
    default = simulate(sc, arrivals, routing=LongestIdleRouting())
    assert trace(default) == [(0, 0, 0.0), (1, 0, 50.0), (2, 0, 200.0)]  # FIFO: tech first


# --------------------------------------------------------------------------------------------------- priority


PRIO_INTENTS = {"general": {"handle": {"dist": "fixed", "value": "100s"}, "urgent_share": 0.1}}
PRIO_CUSTOMERS = {"languages": {"en": 1.0}, "vip_share": 0.1}


def test_priority_takes_urgent_then_vip_then_normal():
    sc = micro({"agents": group()}, intents=PRIO_INTENTS, customers=PRIO_CUSTOMERS)
    # Busy 0..100; a normal (t=10), an urgent (t=20) and a VIP (t=30) contact wait. At 100 the scores are
    # 90, 80 + 300 and 70 + 120: urgent at 100, VIP at 200, normal at 300.
    arrivals = [batch([0, 10, 20, 30], priority=[0, 0, 1, 0], tier=[0, 0, 0, 1])]
    res = simulate(sc, arrivals, routing=routing("priority", urgent_boost="5min", vip_boost="2min"))
    assert [s for _, _, s in trace(res)] == [0.0, 300.0, 100.0, 200.0]
    default = simulate(sc, arrivals, routing=LongestIdleRouting())
    assert [s for _, _, s in trace(default)] == [0.0, 100.0, 200.0, 300.0]


@pytest.mark.parametrize(
    ("normal_at", "normal_first"),
    [(680.0, True), (700.0, False)],
    ids=["normal-waited-longer-than-the-boost", "normal-waited-less"],
)
def test_priority_aging_lets_a_long_wait_beat_a_fresh_urgent_contact(normal_at, normal_first):
    sc = micro({"agents": group()}, intents=PRIO_INTENTS, customers=PRIO_CUSTOMERS)
    # Busy 0..1000. The urgent contact arrives at 990 (score 10 + 300 = 310 at t=1000); the normal one scores
    # its wait: 320 beats 310, 300 does not.
    arrivals = [batch([0, normal_at, 990], handle=[1000, 100, 100], priority=[0, 0, 1])]
    res = simulate(sc, arrivals, routing=routing("priority", urgent_boost="5min", vip_boost="2min"))
    starts = [s for _, _, s in trace(res)]
    assert starts == ([0.0, 1000.0, 1100.0] if normal_first else [0.0, 1100.0, 1000.0])


# --------------------------------------------------------------------------------------------------- overflow


def overflow_scenario():
    # "backup" (agent 0, multiplier 1.5) is declared first, so longest-idle would prefer it on a tie.
    return micro({"backup": group(skills={"general": 1.5}), "primary": group(skills={"general": 1.0})})


def test_overflow_backup_takes_a_contact_exactly_when_it_has_waited_after():
    sc = overflow_scenario()
    # The primary agent (1) takes the call at 0 (1000 s); the call at 10 waits although the backup agent is idle,
    # and the backup takes it at 10 + 30 = 40.
    arrivals = [batch([0, 10], handle=[1000, 100])]
    res = simulate(sc, arrivals, routing=routing("overflow", after="30s"))
    assert trace(res) == [(0, 1, 0.0), (1, 0, 40.0)]
    assert res.contacts.handle_s.tolist() == pytest.approx([1000.0, 150.0])
    assert trace(simulate(sc, arrivals, routing=LongestIdleRouting())) == [(0, 0, 0.0), (1, 1, 10.0)]


def test_overflow_a_backup_agent_freed_before_the_threshold_does_not_take_the_contact():
    sc = overflow_scenario()
    # Primary (1) busy 0..1000; the call at 1 overflows to the backup (0) at 31, busy until 31 + 150 = 181. The
    # call at 155 has waited only 26 s when the backup frees: it is taken at 155 + 30 = 185, not at 181.
    arrivals = [batch([0, 1, 155], handle=[1000, 100, 100])]
    res = simulate(sc, arrivals, routing=routing("overflow", after="30s"))
    assert trace(res) == [(0, 1, 0.0), (1, 0, 31.0), (2, 0, 185.0)]


def test_overflow_primary_freed_before_the_threshold_keeps_the_contact():
    sc = overflow_scenario()
    res = simulate(sc, [batch([0, 10], handle=[25, 100])], routing=routing("overflow", after="30s"))
    assert trace(res) == [(0, 1, 0.0), (1, 1, 25.0)]


def test_overflow_threshold_per_channel():
    channels = {"voice": {"patience": {"dist": "none"}}, "chat": {"concurrency": 2, "patience": {"dist": "none"}}}
    sc = micro(
        {
            "backup": group(2, skills={"general": 1.5}, channels=("voice", "chat")),
            "primary": group(skills={"general": 1.0}, channels=("voice", "chat")),
        },
        channels=channels,
    )
    # The primary agent (2) is on a call 0..1000; a call and a chat at 10 overflow to the two backup agents at
    # 10 + 30 s (voice) and 10 + 60 s (chat).
    arrivals = [batch([0, 10, 10], handle=[1000, 100, 100], channel=[0, 0, 1])]
    res = simulate(sc, arrivals, routing=routing("overflow", after="30s", after_by_channel={"chat": "1min"}))
    assert trace(res) == [(0, 2, 0.0), (1, 0, 40.0), (2, 1, 70.0)]


# ------------------------------------------------------------------------------------------------- last_agent


@pytest.mark.parametrize(
    ("second_handle", "returning_at", "expected"),
    [(100.0, 240.0, (0, 260.0)), (20.0, 200.0, (1, 230.0))],
    ids=["last-agent-frees-within-the-timeout", "falls-back-at-the-timeout"],
)
def test_last_agent_holds_a_returning_customer_up_to_the_timeout(second_handle, returning_at, expected):
    sc = micro({"agents": group(2)})
    # Agent 0 serves customer 7 (0..100); customer 8 goes to agent 1, idle since 0 (from 150); customer 9 to
    # agent 0, the only one free at 160 (160..260). Then customer 7 comes back while agent 0 is busy.
    b = batch([0, 150, 160, returning_at], handle=[100, second_handle, 100, 100])
    arrivals = [with_customers(b, [7, 8, 9, 7])]
    res = simulate(sc, arrivals, routing=routing("last_agent", timeout="30s"))
    assert trace(res)[:3] == [(0, 0, 0.0), (1, 1, 150.0), (2, 0, 160.0)]
    # At 240 it waits for agent 0 (free at 260, within 30 s), and agent 1, freed at 250, leaves it alone. At 200,
    # with agent 1 idle since 170, it waits 30 s, then agent 1 takes it at 230.
    assert trace(res)[3] == (3, *expected)
    default = simulate(sc, arrivals, routing=LongestIdleRouting())
    assert trace(default)[3] == (3, 1, max(returning_at, 150.0 + second_handle))  # not sticky: agent 1 at once
    assert res.resolution.returning.sum() == 1
    assert res.resolution.same_agent.sum() == (expected[0] == 0)


def test_last_agent_freed_agent_takes_its_returning_customer_before_older_contacts():
    sc = micro({"agents": group(1)})
    # One agent: customer 7 (0..100), customer 8 (100..200, waited); then a new customer 20 (t=150) and
    # returning customer 7 (t=160) wait. At 200 the agent takes its own customer although it is not the head.
    b = with_customers(batch([0, 10, 150, 160]), [7, 8, 20, 7])
    res = simulate(sc, [b], routing=routing("last_agent", timeout="1min"))
    assert [s for _, _, s in trace(res)] == [0.0, 100.0, 300.0, 200.0]
    default = simulate(sc, [b], routing=LongestIdleRouting())
    assert [s for _, _, s in trace(default)] == [0.0, 100.0, 200.0, 300.0]


def test_last_agent_does_not_hold_a_customer_for_an_agent_who_is_off_duty():
    # Agent 0 ("early") works 00:00-01:00 and serves customer 7 at 0..100; agent 1 ("late") works all day and is
    # idle. Customer 7 comes back at 2h: agent 0 is logged out, so agent 1 answers at once instead of after 5 min.
    groups = {"early": group(), "late": group()}
    groups["early"]["staffing"] = {"first_hour": 1}
    arrivals = {"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}}}
    shifts = {"always": {"start": "00:00", "length": "24h"}, "first_hour": {"start": "00:00", "length": "1h"}}
    sc = scenario(channels=VOICE, intents=GENERAL, arrivals=arrivals, groups=groups, shifts=shifts)
    b = with_customers(batch([0, 7200]), [7, 7])
    res = simulate(sc, [b], routing=routing("last_agent", timeout="5min"))
    assert trace(res) == [(0, 0, 0.0), (1, 1, 7200.0)]
    assert res.resolution.returning.sum() == 1
    assert res.resolution.same_agent.sum() == 0


# ----------------------------------------------------------------------------------------------- least_loaded


def test_least_loaded_gives_a_chat_to_the_agent_with_fewest_chats_in_hand():
    channels = {"chat": {"concurrency": 3, "inflation": 0.3, "patience": {"dist": "none"}}}
    sc = micro({"agents": group(2, channels=("chat",))}, channels=channels)
    arrivals = [batch([0, 1, 2, 3], handle=1000)]
    res = simulate(sc, arrivals, routing=routing("least_loaded"))
    # 0 and 1 in hand: agent 1; 1 and 1: the longest available (agent 0); 2 and 1: agent 1.
    assert [a for _, a, _ in trace(res)] == [0, 1, 0, 1]
    assert res.contacts.handle_s.tolist() == pytest.approx([1000.0, 1000.0, 1300.0, 1300.0])
    # Longest-idle keeps filling agent 0 (it stays the longest available while it has a free slot).
    assert [a for _, a, _ in trace(simulate(sc, arrivals, routing=LongestIdleRouting()))] == [0, 0, 0, 1]


# ------------------------------------------------------------------------------------------ language_fallback


LANGS = {"languages": {"en": 0.5, "zh": 0.5}}


def language_scenario():
    return micro({"en": group(languages=("en",)), "zh": group(languages=("zh",))}, customers=LANGS)


def test_language_fallback_without_after_keeps_language_a_hard_constraint():
    sc = language_scenario()
    # The zh agent (1) is busy 0..1000; the zh call at 10 waits for it although the en agent (0) is idle.
    res = simulate(sc, [batch([0, 10], handle=[1000, 100], language=1)], routing=routing("language_fallback"))
    assert trace(res) == [(0, 1, 0.0), (1, 1, 1000.0)]


def test_language_fallback_after_the_wait_a_non_speaker_serves_exactly_then():
    sc = language_scenario()
    # The zh agent (1) is busy 0..1000 and the en agent (0) 0..40. The zh call at 10 has waited only 30 s when the
    # en agent frees; it takes the call at 10 + 60 = 70.
    arrivals = [batch([0, 0, 10], handle=[40, 1000, 100], language=[0, 1, 1])]
    res = simulate(sc, arrivals, routing=routing("language_fallback", after="1min"))
    assert trace(res) == [(0, 0, 0.0), (1, 1, 0.0), (2, 0, 70.0)]
    assert res.contacts.group.astype(str).tolist() == ["en", "zh", "en"]


def test_language_fallback_agent_serves_its_own_language_first():
    sc = language_scenario()
    # en agent busy 0..200, zh agent 0..1000. A zh call (t=10) has waited long enough by 200, but the en agent
    # first takes the en call (t=150), then the zh one at 300.
    arrivals = [batch([0, 0, 10, 150], handle=[200, 1000, 100, 100], language=[0, 1, 1, 0])]
    res = simulate(sc, arrivals, routing=routing("language_fallback", after="1min"))
    assert trace(res) == [(0, 0, 0.0), (1, 1, 0.0), (2, 0, 300.0), (3, 0, 200.0)]


# ---------------------------------------------------------------------------------------------------- pooling


POOL_CHANNELS = {"voice": {"patience": {"dist": "none"}}, "chat": {"concurrency": 1, "patience": {"dist": "none"}}}


def test_pooling_silos_a_chat_agent_never_takes_voice():
    sc = micro({"blend": group(2, channels=("voice", "chat"))}, channels=POOL_CHANNELS)
    # Equal split of 2 agents: agent 0 voice, agent 1 chat. Two calls at 0 and 1 and a chat at 2 (10 s): the second
    # call waits for agent 0 although agent 1 is idle at 1 and again from 12.
    arrivals = [batch([0, 1, 2], handle=[100, 100, 10], channel=[0, 0, 1])]
    silos = simulate(sc, arrivals, routing=routing("pooling", mode="silos"))
    assert trace(silos) == [(0, 0, 0.0), (1, 0, 100.0), (2, 1, 2.0)]
    pooled = simulate(sc, arrivals, routing=routing("pooling", mode="pooled"))
    assert trace(pooled) == [(0, 0, 0.0), (1, 1, 1.0), (2, 0, 100.0)]


def test_pooling_split_dedicates_shares_of_the_roster():
    sc = micro({"blend": group(4, channels=("voice", "chat"))}, channels=POOL_CHANNELS)
    # voice 1 : chat 3 of 4 agents, dealt in turn: chat, voice (a tie goes to the first channel), chat, chat.
    # Only agent 1 answers calls, so four calls at 0 queue behind it.
    arrivals = [batch([0, 0, 0, 0])]
    res = simulate(sc, arrivals, routing=routing("pooling", mode="silos", split={"blend": {"voice": 1, "chat": 3}}))
    assert trace(res) == [(0, 1, 0.0), (1, 1, 100.0), (2, 1, 200.0), (3, 1, 300.0)]
    pooled = simulate(sc, arrivals, routing=routing("pooling"))
    assert trace(pooled) == [(0, 0, 0.0), (1, 1, 0.0), (2, 2, 0.0), (3, 3, 0.0)]


def test_pooling_silos_split_every_shift():
    sc = scenario(
        channels=POOL_CHANNELS,
        arrivals={
            "kind": "generated",
            "channels": {c: {"daily_volume": 0, "intent_mix": {"general": 1}} for c in POOL_CHANNELS},
        },
        shifts={"early": {"start": "00:00", "length": "8h"}, "late": {"start": "08:00", "length": "8h"}},
        groups={"blend": {**group(channels=("voice", "chat")), "staffing": {"early": 2, "late": 2}}},
    )
    # Roster: early agents 0, 1, late agents 2, 3; half voice, half chat in each shift (not early = voice, late =
    # chat). Early: the second call waits for agent 0 and the chat goes to agent 1; late: agents 2 and 3.
    late = 9 * 3600.0
    arrivals = [batch([100, 100, 101, late, late + 1], channel=[0, 0, 1, 0, 1])]
    res = simulate(sc, arrivals, routing=routing("pooling", mode="silos"))
    assert trace(res) == [(0, 0, 100.0), (1, 0, 200.0), (2, 1, 101.0), (3, 2, late), (4, 3, late + 1)]


# ------------------------------------------------------------------------------------------------ rebalancing


def rebalancing_scenario():
    return micro({"backup": group(skills={"general": 1.5}), "primary": group(skills={"general": 1.0})})


def test_rebalancing_backup_joins_while_the_queue_is_long():
    sc = rebalancing_scenario()
    # Primary agent (1) busy 0..1000. Calls at 10 and 20 wait (2 < 3) though the backup agent (0) is idle; the
    # third at 30 makes the queue hot: the backup takes the oldest (10) at 30, busy until 180. At 180 two wait:
    # not hot, so it stays idle until the call at 200 makes 3 again and it takes the call of 20. The primary then
    # takes the rest in order.
    arrivals = [batch([0, 10, 20, 30, 200], handle=[1000, 100, 100, 100, 100])]
    res = simulate(sc, arrivals, routing=routing("rebalancing", max_queue=3, max_wait=None))
    assert trace(res) == [(0, 1, 0.0), (1, 0, 30.0), (2, 0, 200.0), (3, 1, 1000.0), (4, 1, 1100.0)]


def test_rebalancing_backup_joins_once_the_oldest_contact_waited_max_wait():
    sc = rebalancing_scenario()
    res = simulate(
        sc, [batch([0, 10], handle=[1000, 100])], routing=routing("rebalancing", max_queue=None, max_wait="1min")
    )
    assert trace(res) == [(0, 1, 0.0), (1, 0, 70.0)]


def test_rebalancing_agents_take_hot_queues_first():
    intents = {"x": GENERAL["general"], "y": GENERAL["general"]}
    sc = micro({"agents": group(skills={"x": 1.0, "y": 1.0})}, intents=intents)
    # One agent busy 0..100; an x contact (t=50) then two y contacts (60, 70). At 100 the y queue is hot (2 wait)
    # and the older x contact's is not (1 waiting, 50 s < 60 s): y first. At 200 both are hot (waits of 150 and
    # 130 s): oldest first.
    arrivals = [batch([0, 50, 60, 70], intent=[0, 0, 1, 1])]
    res = simulate(sc, arrivals, routing=routing("rebalancing", max_queue=2, max_wait="1min"))
    assert [s for _, _, s in trace(res)] == [0.0, 200.0, 100.0, 300.0]
    default = simulate(sc, arrivals, routing=LongestIdleRouting())
    assert [s for _, _, s in trace(default)] == [0.0, 100.0, 200.0, 300.0]


def test_pooled_mode_decides_exactly_as_the_default_routing():
    sc = conformance_scenario()  # bots, transfers and approvals: queued_s differs from arrival_s for many contacts
    bot = make("deflection", {"name": "bot_first"})
    pooled = run(sc, seed=3, log=True, routing=routing("pooling", mode="pooled"), deflection=bot)
    default = run(sc, seed=3, log=True, routing=LongestIdleRouting(), deflection=bot)
    pd.testing.assert_frame_equal(pooled.contacts, default.contacts)
