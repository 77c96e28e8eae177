"""Engine mechanics behind the policies: bot stage, hand-off, repeat contacts, approvals, call-ins, premiums.

The policies here are minimal stand-ins (offer every contact, escalate every approval) so that each test checks
one mechanism of ``sim.engine`` against the scenario's parameters; binomial proportions are checked with a
normal-approximation interval computed from the sample size, at the level of one check of the suite's family
(``tests.stats_family``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine import ContactCenter, run
from sim.interfaces import DeflectionPolicy, EmpowermentPolicy, ServiceAdjustment, StaffingPolicy
from sim.roster import template_roster
from sim.streams import Streams
from tests.sim.conftest import batch, scenario, simulate
from tests.stats_family import z_crit


class OfferAll(DeflectionPolicy):
    def offer(self, contact, view) -> bool:
        return True


class Escalate(EmpowermentPolicy):
    def __init__(self, synchronous: bool, extra_s: float = 0.0) -> None:
        self.synchronous = synchronous
        self.extra_s = extra_s

    def adjust(self, agent, contact) -> ServiceAdjustment:
        return ServiceAdjustment(extra_handle_s=self.extra_s, escalate=True, synchronous=self.synchronous)


class SelfApprove(EmpowermentPolicy):
    def adjust(self, agent, contact) -> ServiceAdjustment:
        return ServiceAdjustment(extra_handle_s=60.0, escalate=False, leakage=0.1 * contact.amount)

    def training_cost(self, group: str) -> float:
        return 100.0


def _within(count: float, n: float, p: float) -> bool:
    se = math.sqrt(p * (1 - p) / n)
    return abs(count / n - p) <= z_crit() * se + 1e-12


def bot_scenario(**bot):
    spec = {
        "session": {"dist": "fixed", "value": "120s"},
        "default_resolution": 0.5,
        "abandon": 0.1,
        "silent_failure": 0.1,
        "handoff": "30s",
        "return_share": 0.5,
        "return_delay": {"dist": "fixed", "value": "1h"},
    }
    spec.update(bot)
    return scenario(
        arrivals={
            "kind": "generated",
            "channels": {"voice": {"daily_volume": 3000, "intent_mix": {"general": 1}, "intraday": "flat"}},
        },
        groups={
            "agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 8}}
        },
        channels={"voice": {"patience": {"dist": "exponential", "mean": "5min"}}},
        bots={"voice": spec},
    )


def test_bot_endings_match_probabilities_and_every_contact_is_recorded_once():
    sc = bot_scenario()
    res = run(sc, seed=3, log=True, deflection=OfferAll())
    c = res.contacts
    assert len(c) == res.stats["n_arrivals"] == c["contact_id"].nunique()
    first = c[~c["repeat"]]
    n = len(first)
    ended = first["bot_outcome"].value_counts()
    for outcome, p in [("resolved", 0.5), ("abandoned", 0.1), ("silent_failure", 0.1), ("escalated", 0.3)]:
        assert _within(ended[outcome], n, p), (outcome, ended[outcome], n)
    # Outcome column agrees with the bot ending (sessions still open at the horizon are in_bot, never offered).
    open_at_horizon = first[first["bot_outcome"].ne("") & first["bot_end_s"].isna()]
    assert (open_at_horizon["outcome"] == "in_bot").all()
    assert open_at_horizon["first_response_s"].isna().all()
    assert res.intervals["offered"].sum() == c["outcome"].isin(["served", "abandoned", "censored"]).sum()
    first = first[first["bot_end_s"].notna()]
    assert (first.loc[first["bot_outcome"] == "resolved", "outcome"] == "bot_resolved").all()
    assert (first.loc[first["bot_outcome"] == "silent_failure", "outcome"] == "silent_failure").all()
    escalated = first[first["bot_outcome"] == "escalated"]
    assert escalated["outcome"].isin(["served", "abandoned", "censored", "in_bot"]).all()
    in_handoff = escalated[escalated["outcome"] == "in_bot"]  # escalated within the 30 s hand-off of the horizon
    assert (in_handoff["bot_end_s"] >= sc.horizon - 30.0).all()
    # Counters agree with the log (no warm-up in this scenario).
    r = res.resolution.sum(numeric_only=True)
    assert r["bot_offered"] == len(c[c["bot_outcome"] != ""])
    assert r["bot_resolved"] == (c["outcome"] == "bot_resolved").sum()


def test_handoff_delays_the_queue_and_scales_handle_time_and_patience():
    sc = bot_scenario(context=False, no_context_handle_factor=1.5, escalated_handle_factor=1.2)
    res = run(sc, seed=5, log=True, deflection=OfferAll())
    c = res.contacts
    esc = c[(c["bot_outcome"] == "escalated") & (c["outcome"] == "served") & ~c["repeat"]]
    assert len(esc) > 100
    np.testing.assert_allclose(esc["bot_end_s"] - esc["arrival_s"], 120.0)
    np.testing.assert_allclose(esc["queued_s"] - esc["bot_end_s"], 30.0)
    assert (esc["service_start_s"] >= esc["queued_s"] - 1e-9).all()
    np.testing.assert_allclose(esc["handoff_s"], esc["service_start_s"] - esc["bot_end_s"])
    np.testing.assert_allclose(esc["handle_s"], 100.0 * 1.5 * 1.2)  # fixed 100 s base
    # FRT counts from arrival: it includes the bot session and the hand-off.
    assert (esc["first_response_s"] >= 150.0 - 1e-9).all()
    # Patience left is scaled: an escalated contact abandons by queued_s + patience x 0.6.
    ab = c[(c["bot_outcome"] == "escalated") & (c["outcome"] == "abandoned")]
    assert len(ab) > 0
    assert (ab["wait_s"] >= 150.0).all()


def test_silent_failures_come_back_as_repeat_contacts_of_the_same_customer():
    sc = bot_scenario()
    res = run(sc, seed=7, log=True, deflection=OfferAll())
    c = res.contacts
    silent = c[(c["outcome"] == "silent_failure") & (c["bot_end_s"] + 3600.0 < 86400.0)]
    repeats = c[c["repeat"]]
    assert len(repeats) > 0
    assert set(repeats["customer_id"]) <= set(c.loc[c["outcome"] == "silent_failure", "customer_id"])
    assert _within(len(repeats[repeats["arrival_s"] <= 86400.0 - 1e-9]), len(silent), 0.5)
    assert res.stats["n_repeats"] == len(repeats)
    # A repeat arrives exactly return_delay after its silent failure.
    first = c[c["outcome"] == "silent_failure"].drop_duplicates("customer_id").set_index("customer_id")
    rep = repeats.drop_duplicates("customer_id").set_index("customer_id")
    common = rep.index.intersection(first.index)
    np.testing.assert_allclose(rep.loc[common, "arrival_s"], first.loc[common, "bot_end_s"] + 3600.0)


def test_bot_capacity_caps_simultaneous_sessions():
    sc = bot_scenario(capacity=2)
    res = run(sc, seed=1, log=True, deflection=OfferAll())
    c = res.contacts
    s = c[c["bot_outcome"] != ""]
    events = sorted([(t, 1) for t in s["arrival_s"]] + [(t, -1) for t in s["bot_end_s"].dropna()])
    level = peak = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    assert peak <= 2
    assert (c["bot_outcome"] == "").sum() > 0  # the rest went straight to the agents


def approval_scenario(team_leads=1, share=1.0, **extra):
    extra.setdefault(
        "groups",
        {"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 3}}},
    )
    return scenario(
        intents={"general": {"handle": {"dist": "fixed", "value": "100s"}}},
        approvals={"general": {"share": share, "amount_mean": 50.0, "amount_cv": 1.0}},
        team_leads={"count": team_leads, "handle": {"dist": "fixed", "value": "60s"}, "hourly_cost": 40},
        **extra,
    )


def test_synchronous_escalation_holds_agent_and_customer_for_a_team_lead():
    sc = approval_scenario(team_leads=1)
    times = [0.0, 0.0, 0.0]  # three agents finish at 100 s together; one team lead takes them one by one
    res = simulate(sc, [batch(times)], empowerment=Escalate(synchronous=True))
    c = res.contacts.sort_values("contact_id")
    assert (c["approval"] == "team_lead").all()
    np.testing.assert_allclose(sorted(c["approval_wait_s"]), [0.0, 60.0, 120.0])
    np.testing.assert_allclose(sorted(c["service_end_s"]), [160.0, 220.0, 280.0])
    np.testing.assert_allclose(sorted(c["handle_s"]), [160.0, 220.0, 280.0])  # agent time includes the hold
    r = res.resolution.sum(numeric_only=True)
    assert r["escalated_sync"] == 3
    assert r["approval_n"] == 3
    assert r["approval_wait_s"] == pytest.approx(180.0)
    assert res.stats["team_lead_busy_s"] == pytest.approx(180.0)


def test_asynchronous_escalation_breaks_fcr_and_recontacts():
    sc = approval_scenario(
        back_office={
            "delay": {"dist": "fixed", "value": "2h"},
            "recontact_share": 1.0,
            "recontact_delay": {"dist": "fixed", "value": "1h"},
        },
    )
    res = simulate(sc, [batch([0.0, 10.0])], empowerment=Escalate(synchronous=False))
    c = res.contacts.sort_values("contact_id")
    assert list(c["outcome"][:2]) == ["escalated_async", "escalated_async"]
    assert c["first_response_s"].notna().all()  # answered by a human, then handed to the back office
    repeats = c[c["repeat"]]
    np.testing.assert_allclose(repeats["arrival_s"], [100.0 + 3600.0, 110.0 + 3600.0])
    assert (repeats["amount"] == 0).all()
    assert (repeats["outcome"] == "served").all()
    r = res.resolution.sum(numeric_only=True)
    assert r["first_contacts"] == 2
    assert r["first_contact_resolved"] == 0
    assert r["repeat_contacts"] == 2


def test_no_chase_when_the_back_office_answers_first():
    sc = approval_scenario(
        back_office={
            "delay": {"dist": "fixed", "value": "30min"},
            "recontact_share": 1.0,
            "recontact_delay": {"dist": "fixed", "value": "1h"},
        },
    )
    res = simulate(sc, [batch([0.0, 10.0])], empowerment=Escalate(synchronous=False))
    assert (res.contacts["outcome"] == "escalated_async").all()
    assert not res.contacts["repeat"].any()
    assert res.resolution["repeat_contacts"].sum() == 0


# ------------------------------------------------------------------------------------------------ transfers


def transfer_scenario(share=1.0, techs=1, patience=None, horizon="1d"):
    return scenario(
        horizon=horizon,
        channels={"voice": {"patience": patience or {"dist": "none"}}},
        intents={
            "general": {"handle": {"dist": "fixed", "value": "100s"}},
            "tech": {"handle": {"dist": "fixed", "value": "200s"}},
        },
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}}},
        groups={
            "front": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 2}},
            "techs": {"channels": ["voice"], "skills": {"tech": 1.0}, "languages": ["en"], "staffing": {"always": techs}},
        },
        transfers={"general": {"share": share, "to": "tech"}},
    )


def test_transfer_queues_a_second_service_with_the_other_skill():
    sc = transfer_scenario()
    res = simulate(sc, [batch([0.0, 0.0])])
    c = res.contacts.sort_values("contact_id")
    # One row per contact: the first service (FRT 0, front agent) and the transfer's outcome and hold.
    assert len(c) == 2
    assert (c["group"] == "front").all()
    np.testing.assert_allclose(c["first_response_s"], 0.0)
    np.testing.assert_allclose(c["service_end_s"], 100.0)
    assert (c["transfer"] == "answered").all()
    np.testing.assert_allclose(sorted(c["transfer_wait_s"]), [0.0, 200.0])  # one tech: the second holds 200 s
    r = res.resolution.sum(numeric_only=True)
    assert r["transfers"] == 2
    assert r["transfer_answered"] == 2
    assert r["transfer_wait_s"] == pytest.approx(200.0)
    assert r["first_contact_resolved"] == 2
    # The tech agent's two services (200 s each) count in its busy time and in the group's busy level.
    assert res.agents.loc[res.agents["group"] == "techs", "busy_s"].sum() == pytest.approx(400.0)
    assert res.agents.loc[res.agents["group"] == "techs", "handled"].sum() == 2
    st = res.staffing
    busy_s = (st["busy"] * sc.reporting.interval)[st["group"] == "techs"].sum()
    assert busy_s == pytest.approx(400.0)
    # The second waiting customer shows in the queue level: 200 s of waiting.
    assert (res.intervals["queue_len"] * sc.reporting.interval).sum() == pytest.approx(200.0)


def test_abandoned_and_censored_transfers():
    sc = transfer_scenario(patience={"dist": "fixed", "value": "50s"})
    res = simulate(sc, [batch([0.0, 0.0])])  # the first services never abandon (batch patience is infinite)
    c = res.contacts.sort_values("transfer_wait_s")
    assert list(c["transfer"]) == ["answered", "abandoned"]
    np.testing.assert_allclose(c["transfer_wait_s"], [0.0, 50.0])
    r = res.resolution.sum(numeric_only=True)
    assert r["transfer_abandoned"] == 1
    assert r["first_contact_resolved"] == 1  # an abandoned transfer is not resolved in the first contact
    sc = transfer_scenario(horizon="250s")
    res = simulate(sc, [batch([0.0, 0.0])])
    assert sorted(res.contacts["transfer"]) == ["answered", "censored"]
    assert res.contacts["transfer_wait_s"].max() == pytest.approx(150.0)  # 100 s -> horizon at 250 s


def test_transfer_share_is_binomial():
    sc = transfer_scenario(share=0.3, techs=3)
    res = simulate(sc, [batch(np.linspace(0, 86000, 1000))], seed=4)
    c = res.contacts
    done = c[c["service_end_s"].notna()]  # only a finished first service can be transferred
    transferred = (c["transfer"] != "").sum()
    assert _within(transferred, len(done), 0.3)
    assert res.resolution["transfers"].sum() == transferred


def test_self_approval_adds_time_leakage_and_training_cost():
    sc = approval_scenario(share=1.0)
    res = simulate(sc, [batch([0.0, 500.0])], empowerment=SelfApprove())
    c = res.contacts
    np.testing.assert_allclose(c["handle_s"], 160.0)
    assert (c["approval"] == "self").all()
    assert res.stats["leakage_cost"] == pytest.approx(0.1 * c["amount"].sum())
    assert res.stats["training_cost"] == pytest.approx(300.0)  # 3 agents x 100
    r = res.resolution.sum(numeric_only=True)
    assert r["first_contact_resolved"] == 2


def test_amounts_follow_the_approval_share_and_mean():
    sc = approval_scenario(share=0.4)
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 80000, 4000))
    res = simulate(sc, [batch(times)], empowerment=SelfApprove())
    amounts = res.contacts["amount"]
    need = amounts > 0
    assert _within(need.sum(), len(amounts), 0.4)
    mean, se = amounts[need].mean(), amounts[need].std() / math.sqrt(need.sum())
    assert abs(mean - 50.0) <= z_crit() * se


class CallIn(StaffingPolicy):
    review_s, delay_s, length_s = 300.0, 600.0, 3600.0

    def roster(self, sc):
        return template_roster(sc)

    def reserve(self, sc):
        return {"agents": 2}

    def call_in(self, view):
        q = view.queue(0)
        head = view.head(q.index)
        return {0: 2} if head is not None and view.now - head.queued_s >= 60.0 else {}


def test_reserve_agents_are_called_in_after_the_delay_and_paid_at_the_premium():
    sc = approval_scenario(groups={
        "agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                   "staffing": {"always": 1}, "hourly_cost": 36, "overtime_premium": 1.5}})  # fmt: skip
    # A burst at t=0: the lone agent cannot cope; the 300 s review sees a 300 s wait and calls 2 agents for 900 s.
    res = simulate(sc, [batch(np.zeros(40), handle=100.0)], staffing=CallIn())
    a = res.agents.set_index("agent_id")
    assert list(a["shift"]) == ["always", "reserve", "reserve"]
    np.testing.assert_allclose(a.loc[[1, 2], "callin_s"], 3600.0)
    served_by = res.contacts.groupby("agent_id")["service_start_s"].min()
    assert served_by[1] == pytest.approx(900.0)
    assert served_by[2] == pytest.approx(900.0)
    assert a.loc[1, "cost"] == pytest.approx(36 * 1.5 * (3600.0 + a.loc[1, "overtime_s"]) / 3600.0)


def test_night_premium_is_paid_for_hours_in_the_night_window():
    sc = scenario(
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": 1}, "hourly_cost": 10, "night_premium": 0.5}},
        night={"start": "22:00", "end": "06:00"},
    )  # fmt: skip
    res = simulate(sc, [batch([])])
    a = res.agents.iloc[0]
    assert a["night_s"] == pytest.approx(8 * 3600.0)
    assert a["cost"] == pytest.approx(10 * 24 + 10 * 0.5 * 8)


def test_urgent_contact_without_urgent_queue_is_a_clear_error():
    sc = scenario()
    center = ContactCenter(sc, Streams(0, 0), iter([batch([1.0], priority=1)]))
    with pytest.raises(ValueError, match="no urgent_share"):
        center.run()


class OfferEven(DeflectionPolicy):
    """Bot only for even customer ids (and their repeats): fewer repeats than OfferAll, so repeats interleave."""

    def offer(self, contact, view) -> bool:
        return contact.customer_id % 2 == 0 or bool(contact.repeat)


def test_repeat_contacts_keep_common_random_numbers_across_policies():
    sc = bot_scenario(default_resolution=0.3, abandon=0.0, silent_failure=0.5, return_share=1.0)
    runs = [run(sc, seed=1, log=True, deflection=policy).contacts for policy in (OfferAll(), OfferEven())]
    # Contacts offered to the bot under both policies (even customers) fail silently under both, and come back
    # with the same id, at the same time, with the same handle time and patience.
    a, b = (c[c["repeat"] & (c["customer_id"] % 2 == 0)].set_index("contact_id") for c in runs)
    common = a.index.intersection(b.index)
    assert len(common) > 100
    for column in ("arrival_s", "patience_s", "customer_id", "bot_outcome"):
        assert (a.loc[common, column] == b.loc[common, column]).all(), column
    served = common[(a.loc[common, "outcome"] == "served") & (b.loc[common, "outcome"] == "served")]
    assert len(served) > 10
    # The base draw is the same (handle_s = base x proficiency 1 x context factor: same bot ending, same factor).
    np.testing.assert_allclose(a.loc[served, "handle_s"], b.loc[served, "handle_s"])


def test_transfer_second_service_starts_after_the_first_slot_is_freed():
    # One chat agent with both skills: the second service (200 s) must not be inflated by the finished first chat.
    sc = scenario(
        channels={"chat": {"patience": {"dist": "none"}, "concurrency": 2, "inflation": 0.5}},
        intents={
            "general": {"handle": {"dist": "fixed", "value": "100s"}},
            "tech": {"handle": {"dist": "fixed", "value": "200s"}},
        },
        arrivals={"kind": "generated", "channels": {"chat": {"daily_volume": 0, "intent_mix": {"general": 1}}}},
        groups={
            "both": {"channels": ["chat"], "skills": {"general": 1.0, "tech": 1.0}, "languages": ["en"],
                     "staffing": {"always": 1}},
        },
        transfers={"general": {"share": 1.0, "to": "tech"}},
    )
    res = simulate(sc, [batch([0.0])])
    assert res.agents["busy_s"].sum() == pytest.approx(300.0)
    assert res.agents["handled"].sum() == 2
    assert res.contacts["transfer_wait_s"].iloc[0] == 0.0


def test_a_transfer_is_not_a_returning_customer_and_in_service_at_the_horizon_is_no_first_contact():
    sc = transfer_scenario(horizon="250s").model_copy(
        update={"customers": transfer_scenario().customers.model_copy(update={"population": 10})}
    )
    res = simulate(sc, [batch([0.0, 0.0])])
    r = res.resolution.sum(numeric_only=True)
    assert r["returning"] == 0  # two new customers, each transferred once: nobody came back
    # One second service runs 100..250+ (in service at the horizon), the other waits: neither counts as a first
    # contact resolved or not, like a first service still in hand.
    assert r["transfers"] == 2
    assert r["first_contacts"] == 0
