"""Invariants of the engine: conservation, eligibility and shift coverage, concurrency, reproducibility, and the
equivalence of its fast paths with the plain ones."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import Scenario, run
from sim.arrivals import iter_arrivals
from sim.defaults import LongestIdleRouting
from sim.engine import ContactCenter
from sim.engine.plain import release_plain
from sim.streams import Streams
from tests.sim.conftest import batch, scenario, simulate


def mixed_scenario(**overrides) -> Scenario:
    """Two channels (voice, chat with concurrency 3), email, two languages, skills split over groups, shifts."""
    base = {
        "name": "mixed",
        "start": "2026-11-09T06:00",
        "horizon": "2d",
        "channels": {
            "voice": {"patience": {"dist": "exponential", "mean": "3min"}},
            "chat": {"concurrency": 3, "inflation": 0.3, "patience": {"dist": "lognormal", "mean": "4min", "cv": 1}},
            "email": {"kind": "deferrable"},
        },
        "intents": {
            "billing": {"handle": {"dist": "lognormal", "mean": "4min", "cv": 0.8}, "urgent_share": 0.2},
            "tech": {"handle": {"dist": "gamma", "mean": "7min", "cv": 1.2}},
        },
        "customers": {"languages": {"en": 0.6, "zh": 0.4}, "vip_share": 0.1, "population": 500},
        "arrivals": {
            "kind": "generated",
            "channels": {
                "voice": {"daily_volume": 900, "intent_mix": {"billing": 2, "tech": 1}, "intraday": [1] * 8 + [4] * 16},
                "chat": {"daily_volume": 700, "intent_mix": {"billing": 1, "tech": 1}},
                "email": {"daily_volume": 200, "intent_mix": {"billing": 1, "tech": 1}},
            },
            "busyness_cv": 0.1,
        },
        "shifts": {
            "early": {"start": "06:00", "length": "8h", "breaks": [{"after": "2h", "length": "15min"}]},
            "late": {"start": "14:00", "length": "8h", "breaks": [{"after": "4h", "length": "30min"}]},
            "night": {"start": "22:00", "length": "8h"},
        },
        "groups": {
            "voice_en": {"channels": ["voice", "email"], "skills": {"billing": 1.0, "tech": 1.3}, "languages": ["en"],
                         "staffing": {"early": 4, "late": 4, "night": 2}, "occupancy_cap": 0.8, "absenteeism": 0.1},
            "voice_zh": {"channels": ["voice"], "skills": {"billing": 1.0, "tech": 1.2}, "languages": ["zh"],
                         "staffing": {"early": 3, "late": 3, "night": 1}},
            "chat_all": {"channels": ["chat", "email"], "skills": {"billing": 0.9, "tech": 1.0}, "languages": ["en", "zh"],
                         "staffing": {"early": 3, "late": 3, "night": 1}, "rest_days": 1},
        },
        "reporting": {"interval": "30min", "sl_thresholds": ["20s", "5min"]},
    }
    base.update(overrides)
    return Scenario.model_validate(base)


def frames_digest(result) -> str:
    h = hashlib.sha256()
    for name in ("contacts", "intervals", "staffing", "agents", "frt_hist"):
        frame = getattr(result, name)
        h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return h.hexdigest()


def run_center(sc: Scenario, seed: int = 3, replication: int = 0, **kwargs) -> tuple[ContactCenter, object]:
    streams = Streams(seed, replication)
    center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=True, **kwargs)
    center.run()
    return center, center.result(replication, seed, 0.0)


@pytest.fixture(scope="module")
def mixed():
    sc = mixed_scenario()
    center, result = run_center(sc)
    return sc, center, result


def test_conservation_every_arrival_has_exactly_one_outcome(mixed):
    sc, center, result = mixed
    df = result.contacts
    assert len(df) == center.n_arrivals > 1000
    assert df.contact_id.is_unique
    assert set(df.outcome.astype(str)) <= {"served", "abandoned", "censored"}
    assert result.intervals.offered.sum() == len(df)
    for outcome, column in (("served", "answered"), ("abandoned", "abandoned"), ("censored", "censored")):
        assert (df.outcome == outcome).sum() == result.intervals[column].sum()
    # Served contacts have a start no earlier than their arrival; abandoned ones waited exactly their patience.
    served = df[df.outcome == "served"]
    assert (served.service_start_s >= served.arrival_s).all()
    ab = df[df.outcome == "abandoned"]
    assert np.allclose(ab.wait_s, ab.patience_s)
    assert (ab.wait_s <= sc.horizon - ab.arrival_s).all()


def test_agents_serve_only_what_they_may_and_only_on_shift(mixed):
    sc, center, result = mixed
    df = result.contacts
    served = df[df.outcome == "served"]
    assert len(served) > 1000
    for row in served.itertuples(index=False):
        group = sc.groups[str(row.group)]
        assert str(row.channel) in group.channels
        assert str(row.intent) in group.skills
        assert str(row.language) in group.languages
        agent = center.agents[int(row.agent_id)]
        blocks = [(t, arg) for t, action, arg in agent.plan if action == 0]  # LOGIN: (start, scheduled end)
        assert any(start <= row.service_start_s < end for start, end in blocks), (row, blocks)


def test_concurrency_is_never_exceeded(mixed):
    sc, _center, result = mixed
    df = result.contacts
    served = df[df.outcome == "served"].copy()
    served["end"] = served.service_end_s.fillna(sc.horizon)
    for agent_id, rows in served.groupby("agent_id"):
        starts = np.sort(rows.service_start_s.to_numpy())
        ends = np.sort(rows.end.to_numpy())
        # Number in hand just after each start = starts so far - ends so far (an end at the same time frees first).
        in_hand = np.arange(1, len(starts) + 1) - np.searchsorted(ends, starts, side="right")
        cap = max(sc.concurrency(str(rows.group.iloc[0]), str(c)) for c in rows.channel.unique())
        assert in_hand.max() <= cap, agent_id
        # Contacts of different channels never overlap in one agent's hands.
        if rows.channel.nunique() > 1:
            order = rows.sort_values("service_start_s")
            for a, b in zip(order.itertuples(), order.iloc[1:].itertuples(), strict=False):
                if b.service_start_s < a.end and a.channel != b.channel:
                    pytest.fail(f"agent {agent_id} mixed channels {a.channel} and {b.channel}")


def test_same_seed_gives_identical_frames_and_another_replication_differs():
    sc = mixed_scenario(horizon="1d")
    a = run(sc, seed=5, replication=2, log=True)
    b = run(sc, seed=5, replication=2, log=True)
    for name in ("contacts", "intervals", "staffing", "agents", "frt_hist"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    c = run(sc, seed=5, replication=3, log=True)
    assert frames_digest(a) != frames_digest(c)


def test_same_seed_gives_identical_frames_in_another_process():
    sc = mixed_scenario(horizon="1d")
    here = frames_digest(run(sc, seed=5, replication=2, log=True))
    code = textwrap.dedent(
        """
        import json, sys
        from tests.sim.test_invariants import frames_digest, mixed_scenario
        from sim import run
        print(frames_digest(run(mixed_scenario(horizon="1d"), seed=5, replication=2, log=True)))
        """
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=".")
    assert out.stdout.strip() == here


def test_eager_arrivals_equal_one_event_per_arrival(mixed):
    sc, _center, eager = mixed
    _, plain = run_center(sc, eager_arrivals=False)
    a, b = eager.contacts, plain.contacts
    for col in ("contact_id", "outcome", "agent_id", "channel"):
        assert (a[col] == b[col]).all(), col
    for col in ("arrival_s", "service_start_s", "service_end_s", "wait_s"):
        np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-6, err_msg=col)


def test_fast_paths_equal_the_generic_policy():
    sc = mixed_scenario(horizon="1d")
    _, fast = run_center(sc)
    _, generic = run_center(sc, routing=LongestIdleRouting(), fast_paths=False)
    pd.testing.assert_frame_equal(fast.contacts, generic.contacts)


def plain_scenario() -> Scenario:
    """Voice only, one intent, two languages: every group has one channel, one slot and one live queue."""
    group = {"channels": ["voice"], "skills": {"billing": 1.1}, "staffing": {"early": 4, "late": 4, "night": 2}}
    return mixed_scenario(
        channels={"voice": {"patience": {"dist": "exponential", "mean": "3min"}}},
        intents={"billing": {"handle": {"dist": "lognormal", "mean": "4min", "cv": 0.8}}},
        customers={"languages": {"en": 0.6, "zh": 0.4}},
        arrivals={"kind": "generated", "busyness_cv": 0.1, "channels": {
            "voice": {"daily_volume": 1500, "intent_mix": {"billing": 1}, "intraday": [1] * 8 + [4] * 16}}},
        groups={"voice_en": {**group, "languages": ["en"], "absenteeism": 0.1},
                "voice_zh": {**group, "languages": ["zh"]}},
    )  # fmt: skip


def test_a_plain_center_takes_its_own_paths_with_the_same_results():
    """The plain center's arrival and service end (no branches for stages, slots, routing) change nothing."""
    sc = plain_scenario()
    results = {}
    for fast in (True, False):
        streams = Streams(3, 0)
        center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=False, fast_paths=fast)
        assert (getattr(center._release, "__func__", None) is release_plain) is fast
        center.run()
        assert center.n_arrivals > 2000
        results[fast] = center.result(0, 3, 0.0)
    assert results[True].intervals["abandoned"].sum() > 0  # the head's expiry path runs
    for name in ("intervals", "staffing", "agents", "frt_hist"):
        pd.testing.assert_frame_equal(getattr(results[True], name), getattr(results[False], name), check_exact=True)


def test_streaming_mode_gives_the_same_aggregates_as_the_log(mixed):
    sc, _center, logged = mixed
    streamed = run(sc, seed=3, replication=0, log=False)
    assert streamed.contacts is None
    for name in ("intervals", "staffing", "agents", "frt_hist"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(logged, name), check_exact=False, rtol=1e-9)


def test_engine_intervals_match_the_pure_metric_function(mixed):
    metrics = pytest.importorskip("sim.metrics")
    sc, _center, result = mixed
    expected = metrics.intervals_from_contacts(
        result.contacts,
        interval_s=sc.reporting.interval,
        thresholds_s=sc.sl_thresholds_s(),
        short_abandon_s={c: sc.channels[c].short_abandon for c in sc.channels},
        horizon_s=sc.horizon,
        n_intervals=sc.n_intervals,
        channels=list(sc.channels),
        replication=0,
    )
    got = result.intervals
    keys = ["interval", "channel", "priority", "tier"]
    merged = got.merge(expected, on=keys, suffixes=("", "_pure"))
    assert len(merged) == len(got)
    for col in expected.columns:
        if col in keys or col == "replication" or f"{col}_pure" not in merged or col in ("queue_len", "in_service"):
            continue
        np.testing.assert_allclose(merged[col].astype(float), merged[f"{col}_pure"].astype(float), err_msg=col)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.lists(st.floats(0, 3000, allow_nan=False), min_size=1, max_size=40),
    handles=st.lists(st.floats(1, 500, allow_nan=False), min_size=40, max_size=40),
    patiences=st.lists(st.one_of(st.floats(0.5, 400), st.just(float("inf"))), min_size=40, max_size=40),
    n_agents=st.integers(0, 3),
    concurrency=st.integers(1, 3),
    shift_start=st.sampled_from(["00:00", "00:20", "00:40"]),
)
def test_property_conservation_and_limits(times, handles, patiences, n_agents, concurrency, shift_start):
    times = sorted(times)
    n = len(times)
    sc = scenario(
        horizon="1h",
        channels={"chat": {"concurrency": concurrency, "inflation": 0.2, "patience": {"dist": "exponential", "mean": "1min"}}},
        arrivals={"kind": "generated", "channels": {"chat": {"daily_volume": 0, "intent_mix": {"general": 1}}}},
        shifts={"s": {"start": shift_start, "length": "30min", "breaks": [{"after": "10min", "length": "5min"}]}},
        groups={"agents": {"channels": ["chat"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"s": n_agents}}},
    )
    res = simulate(sc, [batch(times, handle=handles[:n], patience=patiences[:n])])
    df = res.contacts
    assert len(df) == n
    assert df.contact_id.is_unique
    assert res.intervals.offered.sum() == n
    served = df[df.outcome == "served"]
    if n_agents == 0:
        assert served.empty
    start = int(shift_start[3:]) * 60.0
    # Service starts only while the shift runs and never during the break.
    assert ((served.service_start_s >= start) & (served.service_start_s < start + 1800)).all()
    # The break is due at +10 min for 5 min; a busy agent takes it later, but takes nothing new from +10 min on
    # until its break is over, so no service starts inside [+10 min, +15 min).
    assert not ((served.service_start_s >= start + 600) & (served.service_start_s < start + 900)).any()
    # Patience respected: nobody is answered after their deadline.
    assert (served.service_start_s - served.arrival_s < served.patience_s).all()
    ends = served.service_end_s.fillna(sc.horizon).to_numpy()
    for agent_id in served.agent_id.unique():
        mine = served.agent_id == agent_id
        s_, e_ = np.sort(served.service_start_s[mine].to_numpy()), np.sort(ends[mine.to_numpy()])
        assert (np.arange(1, len(s_) + 1) - np.searchsorted(e_, s_, side="right")).max() <= concurrency


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.lists(st.floats(0, 3000, allow_nan=False), min_size=1, max_size=40),
    channels=st.lists(st.integers(0, 1), min_size=40, max_size=40),
    window=st.tuples(st.integers(0, 2900), st.integers(1, 1800)),
    moved=st.floats(0.0, 1.0),
    retry=st.floats(0.0, 1.0),
    retry_after_s=st.integers(1, 2000),
    n_agents=st.integers(0, 2),
)
def test_property_conservation_with_outages(times, channels, window, moved, retry, retry_after_s, n_agents):
    """Every arrival ends in exactly one outcome, lost ones included, whatever the outage's shares and timing."""
    times = sorted(times)
    n = len(times)
    retry = min(retry, 1.0 - moved)
    start, length = window
    stamp = lambda s: f"2026-11-09T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"  # noqa: E731
    outage = {"channel": "voice", "start": stamp(start), "end": stamp(start + length), "moved_to": "chat",
              "moved_share": moved, "retry_share": retry,
              "retry_after": {"dist": "fixed", "value": f"{retry_after_s}s"}}  # fmt: skip
    sc = scenario(
        horizon="1h",
        channels={"voice": {"patience": {"dist": "exponential", "mean": "1min"}}, "chat": {"concurrency": 2}},
        arrivals={"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}},
                  "outages": [outage]},
        groups={"agents": {"channels": ["voice", "chat"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": n_agents}}},
    )  # fmt: skip
    res = simulate(sc, [batch(times, channel=channels[:n], patience=60.0)], seed=n)
    df = res.contacts
    assert len(df) == n == res.stats["n_arrivals"]
    assert df.contact_id.is_unique
    lost = int((df.outcome == "lost").sum())
    assert lost == res.stats["n_lost"] == res.intervals.lost.sum()
    assert res.intervals.offered.sum() + lost == n
    inside = (df.arrival_s >= start) & (df.arrival_s < start + length) & (df.channel == "voice")
    assert (df.outcome[inside] == "lost").all()  # nobody gets into voice while it is down
