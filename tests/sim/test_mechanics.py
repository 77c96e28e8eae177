"""Exact traces of the channel mechanics: lines, maximum queue time, balking, retrials, callbacks.

Every scenario is the micro one of :mod:`tests.sim.conftest` (one voice channel, one agent, handle 100 s) with
one mechanic set; the expected times are computed by hand in each test's comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import Scenario
from sim.metrics import service_level
from sim.schema import OUTCOMES
from tests.sim.conftest import batch, scenario, simulate

STEP = 1 << 40  # a follow-up contact's id step (sim.engine.stages.REPEAT_ID_STEP)
CALLBACKS = ["callback_answered", "callback_unanswered", "callback_censored"]


def voice(**mech) -> Scenario:
    """The micro scenario with the channel mechanics ``mech`` on voice (no abandonment unless given)."""
    return scenario(channels={"voice": {"patience": {"dist": "none"}, **mech}})


def rows(result):
    df = result.contacts
    return [
        (int(r.contact_id), r.arrival_s, str(r.outcome), round(float(r.wait_s), 6), int(r.retrial))
        for r in df.itertuples(index=False)
    ]


def totals(result, *columns):
    return {c: int(result.intervals[c].sum()) for c in columns}


# ------------------------------------------------------------------------------------------------ lines


def test_a_call_finding_every_line_busy_is_blocked_and_lines_free_when_calls_end():
    # 2 lines, 1 agent. t=0 served 0-100 (line 1); t=10 waits (line 2) and is served 100-200; t=20 finds both
    # lines held: blocked. At 100 the first call ends and frees its line, so t=150 gets one and waits until 200.
    res = simulate(voice(lines=2), [batch([0, 10, 20, 150])])
    assert rows(res) == [
        (0, 0.0, "served", 0.0, 0), (1, 10.0, "served", 90.0, 0), (2, 20.0, "blocked", 0.0, 0),
        (3, 150.0, "served", 50.0, 0),
    ]  # fmt: skip
    blocked = res.contacts[res.contacts.outcome == "blocked"].iloc[0]
    assert math.isnan(blocked.first_response_s)
    assert blocked.agent_id == -1
    assert totals(res, "offered", "answered", "blocked") == {"offered": 3, "answered": 3, "blocked": 1}


def test_an_abandoning_caller_frees_the_line_at_the_end_of_its_patience():
    # 2 lines. t=10 (patience 30) abandons at 40: its line is held until then, so t=39 is blocked and t=45 gets
    # the line, waits for the agent (free at 100): wait 55.
    res = simulate(voice(lines=2), [batch([0, 10, 39, 45], patience=[np.inf, 30, np.inf, np.inf])])
    assert rows(res) == [
        (0, 0.0, "served", 0.0, 0), (1, 10.0, "abandoned", 30.0, 0), (2, 39.0, "blocked", 0.0, 0),
        (3, 45.0, "served", 55.0, 0),
    ]  # fmt: skip


def test_lines_equal_to_agents_is_a_loss_system():
    # lines = agents = 1: nobody ever waits; whoever arrives during a service is blocked.
    res = simulate(voice(lines=1), [batch([0, 50, 99.5, 100, 150])])
    assert [r[2] for r in rows(res)] == ["served", "blocked", "blocked", "served", "blocked"]
    assert res.contacts.wait_s.max() == 0.0


def test_a_line_is_held_through_the_bot_session():
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}, "lines": 1}},
        bots={"voice": {"session": {"dist": "fixed", "value": "60s"}, "default_resolution": 1.0, "abandon": 0.0,
                        "silent_failure": 0.0}},
    )  # fmt: skip
    from sim.interfaces import DeflectionPolicy

    class AllToBot(DeflectionPolicy):
        def offer(self, contact, view):
            return True

    # t=0 in the bot until 60 (resolved): the line is held; t=30 is blocked; t=70 gets the freed line.
    res = simulate(sc, [batch([0, 30, 70])], deflection=AllToBot())
    assert [str(o) for o in res.contacts.outcome] == ["bot_resolved", "blocked", "bot_resolved"]


# ------------------------------------------------------------------------------------------ max queue time


def test_a_caller_still_waiting_at_max_wait_is_sent_to_a_message():
    # max_wait 60 s, 1 agent busy 0-100. t=10 (no abandonment) times out at 70: wait 60. t=50 (patience 20) abandons
    # at 70 (patience before the limit at 110: an abandonment). t=60 would time out at 120, but the agent frees at
    # 100: served, wait 40.
    res = simulate(voice(max_wait="60s"), [batch([0, 10, 50, 60], patience=[np.inf, np.inf, 20, np.inf])])
    assert rows(res) == [
        (0, 0.0, "served", 0.0, 0), (1, 10.0, "timed_out", 60.0, 0), (2, 50.0, "abandoned", 20.0, 0),
        (3, 60.0, "served", 40.0, 0),
    ]  # fmt: skip
    timed = res.contacts.iloc[1]
    assert timed.service_start_s != timed.service_start_s  # NaN: never answered
    iv = res.intervals
    assert totals(res, "offered", "answered", "abandoned", "timed_out") == {
        "offered": 4, "answered": 2, "abandoned": 1, "timed_out": 1,
    }  # fmt: skip
    assert iv.wait_timed_out_s.sum() == 60.0
    # Timed-out contacts are missed in every SL convention: answered within 20 s is contact 0 only.
    assert service_level(iv, 20.0, "ignore_abandons") == pytest.approx(1 / 3)  # A=2, timed out 1
    assert service_level(iv, 20.0, "abandons_bad") == pytest.approx(1 / 4)


def test_timed_out_waits_count_in_the_queue_level():
    # t=10 waits 10..70 then leaves: 60 s of queue in the first hour (plus contact 3's 60..100, 40 s).
    res = simulate(voice(max_wait="60s"), [batch([0, 10, 60])])
    assert res.intervals.queue_len.sum() * 3600 == pytest.approx(60.0 + 40.0)


# ------------------------------------------------------------------------------------------------ balking


def test_balking_callers_leave_at_once_only_when_they_would_wait():
    # share 1: everyone who would wait balks. t=10 finds the agent busy: balked (wait 0); t=150 finds it free.
    res = simulate(voice(balk={"share": 1.0}), [batch([0, 10, 150])])
    assert rows(res) == [(0, 0.0, "served", 0.0, 0), (1, 10.0, "balked", 0.0, 0), (2, 150.0, "served", 0.0, 0)]
    assert totals(res, "offered", "balked") == {"offered": 2, "balked": 1}


def test_balking_grows_with_the_queue_the_caller_sees():
    # share 0, per_waiting 1: a caller behind nobody always joins, a caller behind one waiting contact balks.
    # t=10 joins (nobody waiting) and is served at 100; t=20 and t=30 see one waiting: balked. At t=120 the agent
    # is busy with t=10's call and nobody waits: t=120 joins, served at 200.
    res = simulate(voice(balk={"share": 0.0, "per_waiting": 1.0}), [batch([0, 10, 20, 30, 120])])
    assert [r[2] for r in rows(res)] == ["served", "served", "balked", "balked", "served"]
    assert res.contacts.wait_s.tolist() == [0.0, 90.0, 0.0, 0.0, 80.0]


def test_a_zero_balking_share_changes_nothing():
    base = simulate(scenario(), [batch([0, 10, 20, 30])])
    balk = simulate(voice(balk={"share": 0.0}), [batch([0, 10, 20, 30])])
    assert rows(base) == rows(balk)


# ------------------------------------------------------------------------------------------------ retrials


def test_blocked_callers_retry_after_the_delay_as_new_contacts_of_the_same_customer():
    # 1 line. t=10 blocked -> retries at 60 (blocked again: the call in service holds the line until 100) ->
    # retries at 110: the line and the agent are free, served at once.
    sc = voice(lines=1, retrial={"probability": 1.0, "delay": {"dist": "fixed", "value": "50s"}})
    res = simulate(sc, [batch([0, 10])])
    assert rows(res) == [
        (0, 0.0, "served", 0.0, 0), (1, 10.0, "blocked", 0.0, 0), (1 + STEP, 60.0, "blocked", 0.0, 1),
        (1 + 2 * STEP, 110.0, "served", 0.0, 2),
    ]  # fmt: skip
    assert res.contacts.customer_id.tolist() == [0, 1, 1, 1]
    assert res.stats["n_arrivals"] == 4.0


def test_retrials_stop_after_max_retrials():
    sc = voice(lines=1, retrial={"probability": 1.0, "delay": {"dist": "fixed", "value": "20s"}, "max_retrials": 2})
    res = simulate(sc, [batch([0, 10])])
    # t=10, 30, 50 all blocked (the line is held until 100); after two retrials the customer gives up.
    assert rows(res)[1:] == [(1, 10.0, "blocked", 0.0, 0), (1 + STEP, 30.0, "blocked", 0.0, 1),
                             (1 + 2 * STEP, 50.0, "blocked", 0.0, 2)]  # fmt: skip


def test_abandoned_callers_retry_from_the_end_of_their_wait():
    # Patience of retrials: the channel's (fixed 30 s). t=10 abandons at 40, retries at 90, is answered at 100
    # (wait 10). Only abandonment leads to a retrial here (after: [abandoned]).
    sc = scenario(
        channels={
            "voice": {
                "patience": {"dist": "fixed", "value": "30s"},
                "retrial": {"probability": 1.0, "delay": {"dist": "fixed", "value": "50s"}, "after": ["abandoned"],
                            "max_retrials": 1},
            }
        }
    )  # fmt: skip
    res = simulate(sc, [batch([0, 10], patience=[1e9, 30])])
    assert rows(res) == [(0, 0.0, "served", 0.0, 0), (1, 10.0, "abandoned", 30.0, 0), (1 + STEP, 90.0, "served", 10.0, 1)]


def test_balked_callers_retry_and_retrial_probability_zero_means_none():
    sc = voice(balk={"share": 1.0}, retrial={"probability": 1.0, "delay": {"dist": "fixed", "value": "100s"},
                                             "after": ["balked"]})  # fmt: skip
    res = simulate(sc, [batch([0, 10])])
    # t=10 balks, retries at 110 (agent free since 100): served.
    assert rows(res) == [(0, 0.0, "served", 0.0, 0), (1, 10.0, "balked", 0.0, 0), (1 + STEP, 110.0, "served", 0.0, 1)]
    never = voice(balk={"share": 1.0}, retrial={"probability": 0.0, "delay": {"dist": "fixed", "value": "100s"}})
    assert len(simulate(never, [batch([0, 10])]).contacts) == 2


# ------------------------------------------------------------------------------------------------ callbacks


def test_callback_requests_keep_their_place_and_are_reported_apart():
    # threshold 150 s. t=10: predicted wait 1 x 100 / 1 = 100 s: not offered, waits, answered at 100.
    # t=20 (patience 50): predicted 2 x 100 = 200 > 150: leaves a callback request, keeps its place and no longer
    # abandons (it would have at 70); called back at 200 (wait until called 180). t=30: predicted 300: callback,
    # called at 300 (wait 270).
    sc = voice(callback={"threshold": "150s", "share": 1.0})
    res = simulate(sc, [batch([0, 10, 20, 30], patience=[np.inf, np.inf, 50, np.inf])])
    assert rows(res) == [
        (0, 0.0, "served", 0.0, 0), (1, 10.0, "served", 90.0, 0), (2, 20.0, "callback_answered", 180.0, 0),
        (3, 30.0, "callback_answered", 270.0, 0),
    ]  # fmt: skip
    df = res.contacts
    assert df.service_start_s.tolist() == [0.0, 100.0, 200.0, 300.0]
    assert df.callback.tolist() == [False, False, True, True]
    assert df.first_response_s.tolist() == [0.0, 90.0, 180.0, 270.0]  # the call back is the first response
    iv = res.intervals
    # Inbound: offered and answered 2, ASA 45; callbacks: 2 requested and answered, 450 s waited until called.
    assert totals(res, "offered", "answered", "callback_requested", "callback_answered") == {
        "offered": 2, "answered": 2, "callback_requested": 2, "callback_answered": 2,
    }  # fmt: skip
    assert iv.wait_answered_s.sum() / iv.answered.sum() == 45.0
    assert iv.wait_callback_s.sum() == 450.0
    # The agent's time on call backs counts: busy 0..400.
    assert res.agents.busy_s.iloc[0] == 400.0
    assert res.staffing.busy_slots.sum() * 3600 == pytest.approx(400.0)


def test_an_unanswered_call_back_is_tried_again_then_dropped():
    # answer 0, 2 attempts, no answer after 30 s, retried 50 s later. t=10 takes a callback; at 100 the agent calls
    # (no answer) until 130; the request rejoins the queue at 180 and the agent calls again, 180..210: dropped.
    sc = voice(callback={"threshold": "0s", "share": 1.0, "answer": 0.0, "attempts": 2, "no_answer": "30s",
                         "retry_delay": "50s"})  # fmt: skip
    res = simulate(sc, [batch([0, 10])])
    assert rows(res) == [(0, 0.0, "served", 0.0, 0), (1, 10.0, "callback_unanswered", 170.0, 0)]
    last = res.contacts.iloc[1]
    assert (last.service_start_s, last.service_end_s, last.handle_s) == (180.0, 210.0, 30.0)
    assert math.isnan(last.first_response_s)
    assert res.agents.busy_s.iloc[0] == 160.0  # 100 + two 30 s attempts
    assert res.staffing.busy_slots.sum() * 3600 == pytest.approx(160.0)
    assert res.agents.handled.iloc[0] == 3  # the inbound call and two outbound attempts
    assert totals(res, "callback_requested", "callback_unanswered") == {"callback_requested": 1, "callback_unanswered": 1}


def test_a_callback_request_pending_at_the_horizon_is_censored():
    sc = scenario(horizon="150s", channels={"voice": {"patience": {"dist": "none"},
                                                      "callback": {"threshold": "0s", "share": 1.0}}})  # fmt: skip
    res = simulate(sc, [batch([0, 10, 20])])
    # t=10 is called at 100 (in service at the horizon: answered), t=20 still pending at 150.
    assert [str(o) for o in res.contacts.outcome] == ["served", "callback_answered", "callback_censored"]
    assert res.contacts.wait_s.iloc[2] == 130.0


# --------------------------------------------------------------------------------------- every contact once


def _everything() -> Scenario:
    return scenario(
        horizon="2d",
        channels={
            "voice": {
                "patience": {"dist": "exponential", "mean": "5min"},
                "lines": 11,
                "max_wait": "2min",
                "balk": {"share": 0.1, "per_waiting": 0.02},
                "retrial": {"probability": 0.6, "delay": {"dist": "uniform", "low": "1min", "high": "5min"},
                            "after": ["blocked", "abandoned", "balked", "timed_out"], "max_retrials": 3},
                "callback": {"threshold": "40s", "share": 0.4, "answer": 0.7, "attempts": 2},
            }
        },
        intents={"general": {"handle": {"dist": "triangular", "low": "1min", "mode": "2min", "high": "6min"}}},
        arrivals={"kind": "generated",
                  "channels": {"voice": {"daily_volume": 3600, "intent_mix": {"general": 1}}}},
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": 8}}},
    )  # fmt: skip


def _run(sc: Scenario, seed: int = 3, **kwargs):
    from sim.arrivals import iter_arrivals
    from sim.engine import ContactCenter
    from sim.streams import Streams

    streams = Streams(seed, 0)
    center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=True, **kwargs)
    center.run()
    return center.result(0, seed, 0.0)


def test_every_contact_ends_in_exactly_one_outcome_and_the_intervals_count_them():
    res = _run(_everything())
    df = res.contacts
    counts = df.outcome.value_counts()
    for outcome in ("blocked", "balked", "timed_out", "abandoned", "served", "callback_answered",
                    "callback_unanswered"):  # fmt: skip
        assert counts.get(outcome, 0) > 0, outcome
    # Conservation: every arrival (first contacts and retrials) is one row.
    assert len(df) == res.stats["n_arrivals"]
    assert df.contact_id.is_unique
    assert set(df.outcome.astype(str)) <= set(OUTCOMES)
    iv = res.intervals
    grid = iv[["offered", "blocked", "balked", "callback_requested"]].to_numpy().sum()
    assert grid == len(df)  # no bot here: every contact is offered, blocked, balked or a callback request
    assert iv.offered.sum() == iv[["answered", "abandoned", "censored", "timed_out"]].to_numpy().sum()
    assert iv.callback_requested.sum() == (df.outcome.astype(str).str.startswith("callback")).sum()
    # Retrials are the same customer, marked, and come after their predecessor.
    retrials = df[df.retrial > 0]
    assert len(retrials) > 0
    first = df.set_index("contact_id")
    prev = first.loc[retrials.contact_id - STEP]
    assert (prev.customer_id.to_numpy() == retrials.customer_id.to_numpy()).all()
    assert (prev.arrival_s.to_numpy() < retrials.arrival_s.to_numpy()).all()
    # Balked, blocked and timed-out waits; timed out at exactly max_wait.
    out = df.outcome.astype(str)
    assert (df.wait_s[out.isin(["blocked", "balked"])] == 0).all()
    assert np.allclose(df.wait_s[out == "timed_out"], 120.0)
    assert (df.wait_s[out == "abandoned"] < 120.0).all()
    # Agents: answered call backs took agent time; the contact log's service time matches the staffing level.
    worked = out.isin(["served", "callback_answered", "callback_unanswered"])
    end = df.service_end_s.fillna(sc_horizon := 2 * 86400.0)
    service_s = (end - df.service_start_s)[worked].sum()
    assert res.agents.busy_s.sum() >= service_s - 1e-6
    assert res.staffing.busy_slots.sum() * 3600 == pytest.approx(res.agents.busy_s.sum(), rel=1e-9)
    assert sc_horizon > 0


def test_lines_never_exceeded():
    res = _run(_everything())
    df = res.contacts
    out = df.outcome.astype(str)
    held = ~out.isin(["blocked"])
    start = df.arrival_s[held].to_numpy()
    # A line is held until the contact ends: service end, or the end of the wait for those never served; a
    # callback request hangs up at once (no callback here is a bot hand-off: it asks when it joins at arrival).
    end = np.where(
        out[held] == "served",
        df.service_end_s[held].fillna(2 * 86400.0),
        np.where(out[held].isin(["balked", *CALLBACKS]), start, df.arrival_s[held] + df.wait_s[held]),
    )
    events = sorted([(t, 1) for t in start] + [(t, -1) for t in end], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    assert peak == 11  # reached, never exceeded


def test_same_seed_same_frames_and_event_modes_agree():
    sc = _everything()
    a, b = _run(sc), _run(sc)
    assert a.contacts.equals(b.contacts)
    c = _run(sc, eager_arrivals=False)
    assert a.contacts.equals(c.contacts)
    d = _run(sc, fast_paths=False)
    assert a.contacts.equals(d.contacts)


# ------------------------------------------------------------------------------------------------ metrics


def test_callback_waits_are_their_own_metric_and_asa_stays_inbound():
    from experiments.measure import replication_metrics

    sc = voice(callback={"threshold": "150s", "share": 1.0})
    res = simulate(sc, [batch([0, 10, 20, 30], patience=[np.inf, np.inf, 50, np.inf])])
    long = replication_metrics(res, sc)
    value = long[long.scope == "all"].set_index("metric").value
    # Inbound: waits 0 and 90; call backs: waits until called 180 and 270 (see the trace above).
    assert value["asa_s"] == 45.0
    assert value["callback_wait_mean_s"] == 225.0
    assert value["asa_with_callbacks_s"] == (0 + 90 + 180 + 270) / 4
    assert (value["offered"], value["callback_requested"], value["callback_answered"]) == (2, 2, 2)
    assert value["blocking_rate"] == 0.0


def test_blocking_balking_and_time_out_rates():
    from experiments.measure import replication_metrics

    sc = voice(lines=3, max_wait="50s", balk={"share": 0.0, "per_waiting": 1.0})
    # t=0 served; t=10 joins (nobody waiting), times out at 60; t=20 balks (one waiting); t=30 balks; t=40, 50:
    # t=40 balks (t=10 still waiting); at 50 lines held: t=0 and t=10 (balkers freed theirs) -> t=50 balks too.
    res = simulate(sc, [batch([0, 10, 20, 30, 40, 50])])
    assert [r[2] for r in rows(res)] == ["served", "timed_out", "balked", "balked", "balked", "balked"]
    long = replication_metrics(res, sc)
    value = long[long.scope == "channel=voice"].set_index("metric").value
    assert value["balk_rate"] == 4 / 6
    assert value["timed_out_rate"] == 1 / 2
    assert value["sl_20s"] == 1 / 2  # the timed-out caller is a miss


def test_scenarios_without_mechanics_report_no_mechanics_rows():
    from experiments.measure import replication_metrics
    from sim.metrics import MECHANICS_METRICS

    sc = scenario()
    long = replication_metrics(simulate(sc, [batch([0, 10])]), sc)
    assert len(long) > 0
    assert not long.metric.isin(MECHANICS_METRICS).any()


def test_an_intent_max_wait_overrides_the_channel_one():
    sc = scenario(
        channels={"voice": {"patience": {"dist": "none"}, "max_wait": "60s"}},
        intents={"general": {"handle": {"dist": "fixed", "value": "100s"}, "max_wait": "30s"},
                 "other": {"handle": {"dist": "fixed", "value": "100s"}}},
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0, "other": 1.0}, "languages": ["en"],
                           "staffing": {"always": 1}}},
    )  # fmt: skip
    # t=10 general times out at 40 (its own 30 s); t=10 other at 70 (the channel's 60 s).
    res = simulate(sc, [batch([0, 10, 10], intent=[0, 0, 1])])
    assert [r[2:4] for r in rows(res)] == [("served", 0.0), ("timed_out", 30.0), ("timed_out", 60.0)]


# ------------------------------------------------------------------------------ the two recording paths agree


def test_engine_intervals_match_the_pure_metric_function_and_streaming_mode():
    import pandas as pd

    from sim.engine import run
    from sim.metrics import intervals_from_contacts

    sc = _everything()
    res = _run(sc)
    expected = intervals_from_contacts(
        res.contacts, interval_s=sc.reporting.interval, thresholds_s=sc.sl_thresholds_s(),
        short_abandon_s={c: sc.channels[c].short_abandon for c in sc.channels}, horizon_s=sc.horizon,
        n_intervals=sc.n_intervals, channels=list(sc.channels), replication=0,
    )  # fmt: skip
    got = res.intervals
    assert got.timed_out.sum() > 0
    assert got.callback_requested.sum() > 0
    for col in expected.columns:
        if col in ("replication", "channel", "priority", "tier", "queue_len", "in_service"):
            continue
        np.testing.assert_allclose(got[col].astype(float), expected[col].astype(float), err_msg=col)
    streamed = run(sc, seed=3, replication=0, log=False)
    for name in ("intervals", "staffing", "agents", "frt_hist"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(res, name), check_exact=False, rtol=1e-9)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.lists(st.floats(0, 3000, allow_nan=False), min_size=1, max_size=40),
    patiences=st.lists(st.one_of(st.floats(0.5, 400), st.just(float("inf"))), min_size=40, max_size=40),
    n_agents=st.integers(0, 3),
    lines=st.one_of(st.none(), st.integers(1, 6)),
    max_wait=st.one_of(st.none(), st.sampled_from(["10s", "1min", "5min"])),
    balk=st.one_of(st.none(), st.floats(0, 1)),
    retry=st.one_of(st.none(), st.floats(0, 1)),
    callback=st.one_of(st.none(), st.floats(0, 1)),
)
def test_property_every_arrival_one_outcome_with_any_mechanics(
    times, patiences, n_agents, lines, max_wait, balk, retry, callback
):
    mech: dict = {}
    if lines is not None:
        mech["lines"] = lines
    if max_wait is not None:
        mech["max_wait"] = max_wait
    if balk is not None:
        mech["balk"] = {"share": balk, "per_waiting": 0.1}
    if retry is not None:
        mech["retrial"] = {"probability": retry, "delay": {"dist": "triangular", "low": "10s", "mode": "1min",
                                                           "high": "5min"}, "max_retrials": 2}  # fmt: skip
    if callback is not None:
        mech["callback"] = {"threshold": "30s", "share": callback, "answer": 0.5, "attempts": 2, "retry_delay": "2min"}
    times = sorted(times)
    n = len(times)
    sc = scenario(
        horizon="1h",
        channels={"voice": {"patience": {"dist": "exponential", "mean": "1min"}, **mech}},
        groups={"agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": n_agents}}},
    )  # fmt: skip
    res = simulate(sc, [batch(times, patience=patiences[:n])])
    df = res.contacts
    assert len(df) == res.stats["n_arrivals"] >= n
    assert df.contact_id.is_unique
    iv = res.intervals
    assert iv[["offered", "blocked", "balked", "callback_requested"]].to_numpy().sum() == len(df)
    assert iv.offered.sum() == iv[["answered", "abandoned", "censored", "timed_out"]].to_numpy().sum()
    out = df.outcome.astype(str)
    served = df[out.isin(["served", "callback_answered"])]
    if n_agents == 0:
        assert served.empty
    if lines is not None:  # never more contacts in the system than lines
        held = df[out != "blocked"]
        kind = held.outcome.astype(str)
        ends = np.where(
            kind.isin(CALLBACKS), held.arrival_s,  # the caller hangs up when asking for a call back
            np.where(held.service_end_s.notna(), held.service_end_s,
                     np.where(kind == "served", sc.horizon, held.arrival_s + held.wait_s.fillna(0.0))),
        )  # fmt: skip
        ev = sorted([(t, 1) for t in held.arrival_s] + [(t, -1) for t in ends], key=lambda e: (e[0], e[1]))
        level = np.cumsum([d for _, d in ev])
        assert level.max() <= lines


def test_a_callback_request_frees_its_line():
    # 2 lines, threshold 0: t=10 asks for a call back and hangs up, so t=20 gets a line (it asks too); without
    # the hang-up t=20 would be blocked.
    sc = voice(lines=2, callback={"threshold": "0s", "share": 1.0})
    res = simulate(sc, [batch([0, 10, 20])])
    assert [r[2] for r in rows(res)] == ["served", "callback_answered", "callback_answered"]
