"""Deflection policies: each ``offer`` decision on a fake view, the same decision in the engine, bind-time checks
and bot costs.

The engine tests use bots that always resolve (``default_resolution: 1``) with a fixed session, so whether a
contact went to the bot is read off its ``bot_outcome`` exactly.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from policies.deflection import BotFirst, BotForIntents, BotOffHours, BotOnWait
from policies.registry import PolicyError, make
from sim.config import Scenario
from sim.defaults import NoDeflection
from tests.sim.conftest import batch, scenario, simulate

FIXED = {"dist": "fixed", "value": "100s"}
ALWAYS_RESOLVES = {"session": {"dist": "fixed", "value": "60s"}, "default_resolution": 1.0}
VOICE, CHAT = 0, 1
GENERAL, BILLING = 0, 1


def bot_scenario(bots=None, shifts=None, staffing=None, **top) -> Scenario:
    """Voice and chat; intents ``general`` (half urgent) and ``billing`` (4 min on chat); ``agents`` (voice and
    chat) and ``chat_team`` (chat only, two chats at a time); a bot on chat, or ``bots``."""
    return scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"concurrency": 3, "patience": {"dist": "none"}}},
        intents={
            "general": {"handle": FIXED, "urgent_share": 0.5},
            "billing": {"handle": FIXED, "handle_by_channel": {"chat": {"dist": "fixed", "value": "4min"}}},
        },
        shifts=shifts or {"always": {"start": "00:00", "length": "24h"}},
        groups={
            "agents": {"channels": ["voice", "chat"], "skills": {"general": 1.0, "billing": 1.0}, "languages": ["en"],
                       "staffing": staffing or {"always": 1}},
            "chat_team": {"channels": ["chat"], "skills": {"general": 1.0, "billing": 1.0}, "languages": ["en"],
                          "concurrency": 2, "staffing": {"always": 1}},
        },
        bots=bots if bots is not None else {"chat": ALWAYS_RESOLVES},
        **top,
    )


def policy(name, sc=None, **params):
    p = make("deflection", {"name": name, "params": params})
    p.bind(sc if sc is not None else bot_scenario())
    return p


class FakeView:
    """Only what the deflection policies read: queue(i).groups, first_available, logged_in, queue_length."""

    def __init__(self, groups=(0, 1), available=(), logged_in=None, length=0):
        self._queue = SimpleNamespace(groups=groups)
        self._available = set(available)  # (group, channel) pairs with an available agent
        self._logged_in = logged_in or {}
        self._length = length

    def queue(self, index):
        return self._queue

    def first_available(self, group, channel):
        return object() if (group, channel) in self._available else None

    def logged_in(self, group):
        return self._logged_in.get(group, 0)

    def queue_length(self, queue, limit=None):
        return self._length if limit is None else min(self._length, limit)


def contact(channel=CHAT, intent=GENERAL, priority=0):
    return SimpleNamespace(channel=channel, intent=intent, priority=priority, queue=0)


def bot_outcomes(res) -> list[str]:
    return list(res.contacts.sort_values("contact_id")["bot_outcome"].astype(str))


# ------------------------------------------------------------------------------------------------ bot_first


def test_bot_first_offers_every_contact_of_a_bot_channel():
    p = policy("bot_first")
    assert isinstance(p, BotFirst)
    view = FakeView()
    assert p.offer(contact(CHAT, GENERAL, 0), view)
    assert p.offer(contact(CHAT, BILLING, 1), view)  # urgent too, by default
    assert not p.offer(contact(VOICE), view)  # no bot on voice


def test_bot_first_skip_urgent_and_channel_choice():
    sc = bot_scenario(bots={"voice": ALWAYS_RESOLVES, "chat": ALWAYS_RESOLVES})
    view = FakeView()
    p = policy("bot_first", sc, skip_urgent=True)
    assert p.offer(contact(VOICE, priority=0), view)
    assert p.offer(contact(CHAT, priority=0), view)
    assert not p.offer(contact(VOICE, priority=1), view)
    assert not p.offer(contact(CHAT, priority=1), view)
    only_chat = policy("bot_first", sc, channels=["chat"])
    assert only_chat.offer(contact(CHAT), view)
    assert not only_chat.offer(contact(VOICE), view)


def test_bot_first_in_the_engine():
    sc = bot_scenario()
    times = np.arange(8) * 10.0
    channel = [CHAT, VOICE] * 4
    priority = [0, 0, 1, 1, 0, 0, 1, 1]
    res = simulate(sc, [batch(times, channel=channel, priority=priority)], deflection=policy("bot_first"))
    assert bot_outcomes(res) == ["resolved", ""] * 4  # every chat contact, urgent or not; no voice contact
    c = res.contacts.sort_values("contact_id")
    assert list(c["outcome"].astype(str)) == ["bot_resolved", "served"] * 4
    skip = simulate(sc, [batch(times, channel=channel, priority=priority)], deflection=policy("bot_first", skip_urgent=True))
    assert bot_outcomes(skip) == ["resolved", "", "", "", "resolved", "", "", ""]
    c = skip.contacts.sort_values("contact_id")
    assert (c.loc[c["priority"] == "urgent", "outcome"] == "served").all()  # urgent chats went straight to an agent


# ---------------------------------------------------------------------------------------------- bot_intents


def test_bot_intents_offers_only_the_listed_intents():
    p = policy("bot_intents", intents=["billing"])
    assert isinstance(p, BotForIntents)
    view = FakeView()
    assert p.offer(contact(CHAT, BILLING), view)
    assert not p.offer(contact(CHAT, GENERAL), view)
    assert not p.offer(contact(VOICE, BILLING), view)
    both = policy("bot_intents", intents=["billing", "general"])
    assert both.offer(contact(CHAT, GENERAL), view)
    assert both.offer(contact(CHAT, BILLING), view)


def test_bot_intents_in_the_engine():
    sc = bot_scenario(bots={"voice": ALWAYS_RESOLVES, "chat": ALWAYS_RESOLVES})
    intent = [GENERAL, BILLING, BILLING, GENERAL, BILLING, GENERAL]
    channel = [CHAT, CHAT, VOICE, VOICE, CHAT, CHAT]
    res = simulate(sc, [batch(np.arange(6) * 500.0, channel=channel, intent=intent)],
                   deflection=policy("bot_intents", sc, intents=["billing"], channels=["chat"]))  # fmt: skip
    assert bot_outcomes(res) == ["", "resolved", "", "", "resolved", ""]


# ----------------------------------------------------------------------------------------------- bot_on_wait


def test_bot_on_wait_predicted_wait_formula():
    p = policy("bot_on_wait", threshold="3min")
    assert isinstance(p, BotOnWait)
    # No agent free for chat: agents has 2 logged in x 3 chats, chat_team 1 x 2 chats -> capacity 8.
    view = FakeView(groups=(0, 1), logged_in={0: 2, 1: 1}, length=5)
    # billing on chat has a 4-min mean handle: (5 + 1) x 240 / 8 = 180 s.
    assert p.predicted_wait(contact(CHAT, BILLING), view) == pytest.approx(180.0)
    assert not p.offer(contact(CHAT, BILLING), view)  # equal to the threshold: not longer
    assert p.offer(contact(CHAT, BILLING), FakeView(groups=(0, 1), logged_in={0: 2, 1: 1}, length=6))  # 210 s
    # general on chat (100 s): (5 + 1) x 100 / 8 = 75 s.
    assert p.predicted_wait(contact(CHAT, GENERAL), view) == pytest.approx(75.0)
    # Only the groups of the contact's queue count.
    assert p.predicted_wait(contact(CHAT, BILLING), FakeView(groups=(1,), logged_in={0: 2, 1: 1}, length=5)) == pytest.approx(720.0)


def test_bot_on_wait_is_zero_with_a_free_agent_and_infinite_with_nobody_logged_in():
    p = policy("bot_on_wait", threshold="1s")
    busy = {0: 2, 1: 1}
    free = FakeView(groups=(0, 1), available={(1, CHAT)}, logged_in=busy, length=50)
    assert p.predicted_wait(contact(CHAT), free) == 0.0
    assert not p.offer(contact(CHAT), free)
    # A free agent for another channel does not count.
    voice_free = FakeView(groups=(0, 1), available={(0, VOICE)}, logged_in=busy, length=0)
    assert p.predicted_wait(contact(CHAT), voice_free) == pytest.approx(100.0 / 8)
    nobody = FakeView(groups=(0, 1), logged_in={}, length=0)
    assert p.predicted_wait(contact(CHAT), nobody) == math.inf
    assert p.offer(contact(CHAT), nobody)
    assert not policy("bot_on_wait", channels=["chat"], threshold="1s").offer(contact(VOICE), nobody)  # no bot there


def test_bot_on_wait_in_the_engine():
    sc = bot_scenario(bots={"voice": ALWAYS_RESOLVES})
    # One agent on voice (100 s). t=0: free -> 0 s. t=1: busy, queue empty -> 100 s. t=2, t=3: one waiting -> 200 s.
    res = simulate(sc, [batch([0.0, 1.0, 2.0, 3.0], channel=VOICE)], deflection=policy("bot_on_wait", sc, threshold="150s"))
    assert bot_outcomes(res) == ["", "", "resolved", "resolved"]
    c = res.contacts.sort_values("contact_id")
    np.testing.assert_allclose(c["service_start_s"][:2], [0.0, 100.0])
    res = simulate(sc, [batch([0.0, 1.0, 2.0, 3.0], channel=VOICE)], deflection=policy("bot_on_wait", sc, threshold="200s"))
    assert bot_outcomes(res) == ["", "", "", "resolved"]  # t=2 predicts 200 s (not longer); t=3 finds 2 waiting: 300 s


def test_bot_on_wait_in_the_engine_sends_contacts_to_the_bot_while_nobody_is_logged_in():
    sc = bot_scenario(bots={"voice": ALWAYS_RESOLVES}, shifts={"day": {"start": "01:00", "length": "1h"}, "always": {"start": "00:00", "length": "24h"}}, staffing={"day": 1})
    res = simulate(sc, [batch([10.0, 3700.0, 7300.0], channel=VOICE)], deflection=policy("bot_on_wait", sc, threshold="1h"))
    assert bot_outcomes(res) == ["resolved", "", "resolved"]


# --------------------------------------------------------------------------------------------- bot_off_hours


def test_bot_off_hours_offers_only_when_no_agent_of_the_queue_groups_is_logged_in():
    p = policy("bot_off_hours")
    assert isinstance(p, BotOffHours)
    assert p.offer(contact(CHAT), FakeView(groups=(0, 1), logged_in={}))
    assert not p.offer(contact(CHAT), FakeView(groups=(0, 1), logged_in={1: 1}))
    assert p.offer(contact(CHAT), FakeView(groups=(0,), logged_in={1: 3}))  # group 1 does not serve this queue
    assert not p.offer(contact(VOICE), FakeView(groups=(0,), logged_in={}))  # no bot on voice


def test_bot_off_hours_in_the_engine():
    # The voice agent works 08:00-16:00 with a break at 10:00-10:30; chat_team (chat only) is always on.
    sc = bot_scenario(
        bots={"voice": ALWAYS_RESOLVES},
        shifts={"day": {"start": "08:00", "length": "8h", "breaks": [{"after": "2h", "length": "30min"}]},
                "always": {"start": "00:00", "length": "24h"}},
        staffing={"day": 1},
    )  # fmt: skip
    times = [7 * 3600.0, 9 * 3600.0, 10 * 3600.0 + 600.0, 17 * 3600.0]
    res = simulate(sc, [batch(times, channel=VOICE)], deflection=policy("bot_off_hours", sc))
    assert bot_outcomes(res) == ["resolved", "", "", "resolved"]
    c = res.contacts.sort_values("contact_id")
    assert c["service_start_s"].iloc[2] == pytest.approx(10.5 * 3600.0)  # on break is still logged in: it waits


# --------------------------------------------------------------------------------------------- bind and params

ALL = ["bot_first", "bot_on_wait", "bot_off_hours", "bot_intents"]


def _params(name, **extra):
    return {"intents": ["billing"], **extra} if name == "bot_intents" else extra


@pytest.mark.parametrize("name", ALL)
def test_unknown_channel_fails_at_bind(name):
    p = make("deflection", {"name": name, "params": _params(name, channels=["chat", "sms"])})
    with pytest.raises(ValueError, match=r"params\.channels: unknown channel 'sms'; known: \['voice', 'chat'\]"):
        p.bind(bot_scenario())


@pytest.mark.parametrize("name", ALL)
def test_channel_without_a_bot_fails_at_bind_and_at_load(name):
    p = make("deflection", {"name": name, "params": _params(name, channels=["voice"])})
    with pytest.raises(ValueError, match=r"params\.channels: channel 'voice' has no bot; channels with a bot: \['chat'\]"):
        p.bind(bot_scenario())
    data = bot_scenario().model_dump(mode="json")
    data["policies"]["deflection"] = {"name": name, "params": _params(name, channels=["voice"])}
    with pytest.raises(ScenarioError, match=r"x\.yaml: policies\.deflection: params\.channels: channel 'voice' has no bot"):
        scenario_from_dict(data, label="x.yaml")


def test_unknown_intent_fails_at_bind_and_at_load():
    p = make("deflection", {"name": "bot_intents", "params": {"intents": ["billing", "refund"]}})
    with pytest.raises(ValueError, match=r"params\.intents: unknown intent 'refund'; known: \['general', 'billing'\]"):
        p.bind(bot_scenario())
    data = bot_scenario().model_dump(mode="json")
    data["policies"]["deflection"] = {"name": "bot_intents", "params": {"intents": ["refund"]}}
    with pytest.raises(ScenarioError, match=r"policies\.deflection: params\.intents: unknown intent 'refund'"):
        scenario_from_dict(data, label="x.yaml")


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("bot_on_wait", {"threshold": "-5s"}, "threshold"),
        ("bot_on_wait", {"threshold": 30}, "threshold"),
        ("bot_on_wait", {"threshold": "0s"}, "threshold"),
        ("bot_intents", {"intents": []}, "intents"),
        ("bot_intents", {}, "intents"),
        ("bot_first", {"skip_urgent": "sometimes"}, "skip_urgent"),
        ("bot_first", {"channels": "chat"}, "channels"),
        ("bot_off_hours", {"threshold": "1min"}, "threshold"),
    ],
)
def test_bad_params_name_the_parameter(name, params, field):
    with pytest.raises(PolicyError, match=rf"bad parameters for deflection policy '{name}': {field}"):
        make("deflection", {"name": name, "params": params})


# ------------------------------------------------------------------------------------------------- bot costs


def test_bot_costs_per_session_per_resolution_and_fixed_fee_are_exact():
    bot = {"session": {"dist": "fixed", "value": "60s"}, "default_resolution": 0.5, "abandon": 0.2, "silent_failure": 0.1,
           "return_delay": {"dist": "fixed", "value": "1h"}, "cost_per_session": 0.25, "cost_per_resolution": 1.5,
           "fixed_fee_per_day": 10.0}  # fmt: skip
    sc = bot_scenario(bots={"chat": bot}, horizon="2d", warmup="1h")
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 2 * 86400 - 8 * 3600, 400))
    res = simulate(sc, [batch(times, channel=CHAT)], deflection=policy("bot_first", sc))
    c = res.contacts
    sessions = (c["bot_outcome"] != "").sum()
    resolved = ((c["bot_outcome"] == "resolved") & c["bot_end_s"].notna()).sum()
    assert c["repeat"].any()  # silent failures come back and see the bot again: more sessions than arrivals
    assert sessions == len(c)
    assert sessions > 400
    assert 0 < resolved < sessions
    # Over the whole run, warm-up included.
    assert res.stats["bot_cost"] == pytest.approx(0.25 * sessions + 1.5 * resolved + 10.0 * 2, rel=1e-12)


def test_bot_cost_counts_only_the_sessions_of_the_bot_and_nothing_without_deflection():
    bot = {**ALWAYS_RESOLVES, "cost_per_session": 2.0, "cost_per_resolution": 1.0, "fixed_fee_per_day": 5.0}
    sc = bot_scenario(bots={"chat": bot})
    b = batch(np.arange(10) * 100.0, channel=[CHAT, VOICE] * 5, intent=[GENERAL, GENERAL, BILLING, BILLING, GENERAL] * 2)
    res = simulate(sc, [b], deflection=policy("bot_intents", sc, intents=["general"]))
    assert bot_outcomes(res).count("resolved") == 3  # chat contacts 0, 4 and 6 are general
    assert res.stats["bot_cost"] == pytest.approx(3 * 2.0 + 3 * 1.0 + 5.0)
    assert simulate(sc, [b], deflection=NoDeflection()).stats["bot_cost"] == 0.0
