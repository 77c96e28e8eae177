"""Exact traces of the engine on micro-scenarios (deterministic handle times and patience)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.defaults import LongestIdleRouting
from sim.engine import RoutingError
from tests.sim.conftest import batch, scenario, simulate


def rows(result):
    df = result.contacts
    return [
        (int(r.contact_id), str(r.outcome), round(float(r.wait_s), 6), int(r.agent_id))
        for r in df.itertuples(index=False)
    ]


def test_fifo_service_and_abandonment_at_deadline():
    sc = scenario()
    # One agent, handle 100 s. Contact 1 (t=10, patience 50) abandons at 60; contact 2 (t=20, patience 200)
    # is served at 100 after waiting 80; contact 3 (t=30, patience 60) abandons at 90.
    res = simulate(sc, [batch([0, 10, 20, 30], patience=[1e9, 50, 200, 60])])
    assert rows(res) == [(0, "served", 0.0, 0), (1, "abandoned", 50.0, -1), (2, "served", 80.0, 0), (3, "abandoned", 60.0, -1)]
    served = res.contacts[res.contacts.outcome == "served"]
    assert served.service_start_s.tolist() == [0.0, 100.0]
    assert served.service_end_s.tolist() == [100.0, 200.0]


def test_abandonment_exactly_at_free_time_goes_first():
    # The agent frees at 100; the waiting contact's deadline is also 100: it has abandoned (ties go to abandonment).
    res = simulate(scenario(), [batch([0, 50], patience=[1e9, 50])])
    assert rows(res)[1] == (1, "abandoned", 50.0, -1)


def test_waiting_at_horizon_is_censored_and_in_service_has_no_end():
    sc = scenario(horizon="1000s")
    res = simulate(sc, [batch([950, 960], patience=[np.inf, np.inf])])
    df = res.contacts
    assert df.outcome.tolist() == ["served", "censored"]
    assert math.isnan(df.service_end_s.iloc[0])
    assert df.wait_s.iloc[1] == pytest.approx(40.0)


def test_longest_idle_agent_gets_the_next_contact():
    sc = scenario(
        groups={
            "agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 3}}
        }
    )
    # Agents 0,1,2 log in at 0 in that order. Contacts at 0,1 go to 0,1; agent 0 frees at 100, agent 1 at 101;
    # agent 2 has been idle since 0, so the contact at 150 goes to agent 2, the one at 151 to agent 0.
    res = simulate(sc, [batch([0, 1, 150, 151])])
    assert res.contacts.agent_id.tolist() == [0, 1, 2, 0]


def test_shift_start_end_overtime_and_paid_time():
    sc = scenario(
        horizon="1d",
        shifts={"day": {"start": "08:00", "length": "8h"}},
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"day": 1}}},
    )
    h8, h16 = 8 * 3600.0, 16 * 3600.0
    res = simulate(sc, [batch([h8 - 3600, h16 - 30, h16 + 10])])
    df = res.contacts
    # Waits for the shift start; the contact started 30 s before shift end finishes 70 s into overtime;
    # the one after shift end is never served.
    assert df.service_start_s.iloc[0] == h8
    assert df.service_end_s.iloc[1] == h16 + 70
    assert df.outcome.iloc[2] == "censored"
    agent = res.agents.iloc[0]
    assert agent.overtime_s == pytest.approx(70.0)
    assert agent.paid_s == pytest.approx(8 * 3600.0 + 70.0)  # overtime is paid
    assert agent.logged_in_s == pytest.approx(8 * 3600.0 + 70.0)
    assert agent.busy_s == pytest.approx(200.0)


def test_break_waits_for_the_contact_in_hand_and_keeps_its_length():
    sc = scenario(
        shifts={"day": {"start": "00:00", "length": "8h", "breaks": [{"after": "1h", "length": "15min"}]}},
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"day": 1}}},
    )
    # In service from 3550 to 3650 when the break is due at 3600: break 3650..4550; the contact at 3700 waits.
    res = simulate(sc, [batch([3550, 3700])])
    df = res.contacts
    assert df.service_start_s.tolist() == [3550.0, 4550.0]
    assert res.agents.iloc[0].break_s == pytest.approx(900.0)


def test_chat_concurrency_and_inflation():
    sc = scenario(
        channels={"chat": {"concurrency": 3, "inflation": 0.5, "patience": {"dist": "none"}}},
        arrivals={"kind": "generated", "channels": {"chat": {"daily_volume": 0, "intent_mix": {"general": 1}}}},
        groups={"agents": {"channels": ["chat"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 1}}},
    )
    res = simulate(sc, [batch([0, 0, 0, 0])])
    df = res.contacts
    # Handles 100, 150 (one other in hand), 200 (two others); the 4th waits for the first slot (t=100) and
    # starts with two chats in hand.
    assert df.handle_s.tolist() == [100.0, 150.0, 200.0, 200.0]
    assert df.service_start_s.tolist() == [0.0, 0.0, 0.0, 100.0]


def test_proficiency_multiplies_handle_time():
    sc = scenario(
        groups={"agents": {"channels": ["voice"], "skills": {"general": 0.8}, "languages": ["en"], "staffing": {"always": 1}}}
    )
    res = simulate(sc, [batch([0])])
    assert res.contacts.handle_s.iloc[0] == pytest.approx(80.0)


def test_language_is_a_hard_constraint():
    sc = scenario(
        customers={"languages": {"en": 0.5, "zh": 0.5}},
        groups={
            "en": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 1}},
            "zh": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["zh"], "staffing": {"always": 1}},
        },
    )
    res = simulate(sc, [batch([0, 1, 2], language=[1, 1, 0])])
    df = res.contacts
    # Both zh contacts go to the zh agent (the second waits) although the en agent is idle.
    assert df.group.astype(str).tolist() == ["zh", "zh", "en"]
    assert df.service_start_s.tolist() == [0.0, 100.0, 2.0]


def test_deferrable_work_respects_the_occupancy_cap():
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "email": {"kind": "deferrable"}},
        arrivals={
            "kind": "generated",
            "channels": {
                "voice": {"daily_volume": 0, "intent_mix": {"general": 1}},
                "email": {"daily_volume": 0, "intent_mix": {"general": 1}},
            },
        },
        groups={
            "agents": {
                "channels": ["voice", "email"],
                "skills": {"general": 1.0},
                "languages": ["en"],
                "staffing": {"always": 2},
                "occupancy_cap": 0.5,
            }
        },
    )
    # Two emails at t=0: with 2 agents and cap 0.5 only one agent may be busy on email; the second email waits.
    # A call at t=10 goes to the free agent (busy 10..110). When the first email ends at 100 the other agent is
    # still on the call, so a new email would make 2 of 2 agents busy (> 0.5): it waits until 110.
    res = simulate(sc, [batch([0, 0, 10], channel=[1, 1, 0])])
    df = res.contacts
    assert df.service_start_s.tolist() == [0.0, 110.0, 10.0]


def test_live_contacts_come_before_deferrable_work():
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "email": {"kind": "deferrable"}},
        arrivals={
            "kind": "generated",
            "channels": {
                "voice": {"daily_volume": 0, "intent_mix": {"general": 1}},
                "email": {"daily_volume": 0, "intent_mix": {"general": 1}},
            },
        },
        groups={
            "agents": {"channels": ["voice", "email"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 1}}
        },
    )
    # Busy with a call until 100; an email (t=5) and a call (t=10) wait: the call goes first.
    res = simulate(sc, [batch([0, 5, 10], channel=[0, 1, 0])])
    assert res.contacts.service_start_s.tolist() == [0.0, 200.0, 100.0]


def test_rest_days_are_staggered_across_the_roster():
    sc = scenario(
        horizon="28d",
        shifts={"day": {"start": "08:00", "length": "8h"}},
        groups={
            "agents": {
                "channels": ["voice"],
                "skills": {"general": 1.0},
                "languages": ["en"],
                "staffing": {"day": 7},
                "rest_days": 2,
            }
        },
    )
    res = simulate(sc, [batch([])])
    # 7 agents x 28 days, 2 rest days a week each: 7 * 20 shifts of 8 h.
    assert res.agents.paid_s.sum() == pytest.approx(7 * 20 * 8 * 3600.0)
    # Staggered rest days: exactly 5 of 7 agents on duty at noon every day.
    staffing = res.staffing
    noon = staffing[(staffing.interval % 24) == 12]
    assert np.allclose(noon.logged_in, 5.0)


class _Rogue(LongestIdleRouting):
    def select_agent(self, contact, view):
        return view._c.agents[0]  # an agent that was not offered (it is busy)


def test_policy_returning_an_unavailable_agent_is_rejected():
    with pytest.raises(RoutingError, match="not available"):
        simulate(scenario(), [batch([0, 1])], routing=_Rogue())


def test_break_stagger_spreads_the_team():
    sc = scenario(
        shifts={
            "day": {"start": "00:00", "length": "8h", "breaks": [{"after": "1h", "length": "30min"}], "break_stagger": "1h"}
        },
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"day": 4}}},
    )
    res = simulate(sc, [batch([])])
    # Agents 0..3 go at 1h, 1h15, 1h30, 1h45: in the 1h-2h interval 2 agents are on break on average,
    # in 2h-3h the last two are still on break for 15 and 15 min... (1h45-2h15): 0.5 agents on average.
    on_break = res.staffing.set_index("interval").on_break
    assert on_break.loc[1] == pytest.approx((30 + 30 + 30 + 15) / 60)
    assert on_break.loc[2] == pytest.approx(15 / 60)
    assert (res.agents.break_s == 1800.0).all()


def test_frt_histogram_counts_only_contacts_after_warmup():
    sc = scenario(warmup="1h")
    res = simulate(sc, [batch([10, 3500, 3700, 3800])])
    # Contact 1 (arrived in warm-up) is answered at 110 s wait; only the two arrivals after 1 h are counted.
    assert res.frt_hist["count"].sum() == 2
    assert set(res.frt_hist.bin_lo_s) == {0.0}  # 3700 and 3800 arrive to an idle agent


def test_absenteeism_removes_the_configured_share_of_shifts():
    p, n_agents, days = 0.2, 50, 28
    sc = scenario(
        horizon=f"{days}d",
        shifts={"day": {"start": "08:00", "length": "8h"}},
        groups={
            "agents": {
                "channels": ["voice"],
                "skills": {"general": 1.0},
                "languages": ["en"],
                "staffing": {"day": n_agents},
                "absenteeism": p,
            }
        },
    )
    res = simulate(sc, [batch([])], seed=4)
    agents = res.agents
    absent = agents.absent_shifts.sum()
    shifts = n_agents * days
    # Binomial count: within 4 standard errors (a correct engine fails this about once in 16,000 seeds).
    assert abs(absent - p * shifts) < 4 * (shifts * p * (1 - p)) ** 0.5
    # Missed shifts are neither paid nor logged in.
    assert agents.paid_s.sum() == pytest.approx((shifts - absent) * 8 * 3600.0)
    assert agents.logged_in_s.sum() == pytest.approx(agents.paid_s.sum())
