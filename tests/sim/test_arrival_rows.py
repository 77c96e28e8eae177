"""Per-arrival draws follow their arrival row when outages and ``shift_demand`` plans meet wrap-up, log rows and
channel mechanics (the arrival hooks of :mod:`sim.engine.center`).

Wrap-ups, a replayed row's log row and the mechanics draws (balking, callback choice, seed) are drawn per arrival
row when its batch is read. An outage loses, delays (retry) or moves the contact a row becomes, and a plan
re-schedules the row itself or loses it; each contact must still get exactly its own row's values, and contacts the
outage does not touch must get the same values as without it (common random numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.arrivals import ArrivalBatch
from sim.engine import ContactCenter, run
from sim.streams import Streams
from tests.sim.conftest import scenario

VOICE, CHAT = 0, 1
WRAP_S = {VOICE: 10.0, CHAT: 20.0}


def _at(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"2026-11-09T{h:02d}:{m:02d}:{s:02d}"


def rows_batch(times, channel, handle, patience) -> ArrivalBatch:
    """One batch; ``customer_id`` is the row's index, so every contact names the row it was created from."""
    n = len(times)
    return ArrivalBatch(
        time_s=np.asarray(times, dtype=float),
        channel=np.asarray(channel, dtype=np.int16),
        intent=np.zeros(n, dtype=np.int16),
        priority=np.zeros(n, dtype=np.int8),
        tier=np.zeros(n, dtype=np.int8),
        language=np.zeros(n, dtype=np.int16),
        customer_id=np.arange(n, dtype=np.int64),
        handle_s=np.broadcast_to(np.asarray(handle, dtype=float), (n,)).copy(),
        patience_s=np.broadcast_to(np.asarray(patience, dtype=float), (n,)).copy(),
    )


def run_center(sc, batches, *, seed=0, spy=False, **kwargs):
    """Run with the contact log; with ``spy``, also each recorded contact's mechanics draws by contact id."""
    center = ContactCenter(sc, Streams(seed, 0), iter(batches), log=True, **kwargs)
    seen: dict[int, tuple | None] = {}
    if spy:
        record = center.mechanics._finish

        def finish(contact):
            seen[contact.id] = contact.mu
            record(contact)

        center.mechanics._finish = finish
    center.run()
    return center, center.result(0, seed, 0.0), seen


# ------------------------------------------------------------------------------- outages + plans + wrap-up


def outage_and_plan_scenario():
    """Voice (wrap-up 10 s) and chat (wrap-up 20 s), both with lines (so the mechanics hooks are on), 2 h.

    An outage on voice over [1000 s, 3000 s): 30 % move to chat, 40 % retry 800 s later, the rest are lost. A
    ``shift_demand`` plan on chat over [0 s, 2500 s): half its arrivals come back at 01:50 plus up to 20 min, so
    some are due after the horizon and lost.
    """
    live = {"patience": {"dist": "none"}, "lines": 10_000}
    outage = {"channel": "voice", "start": _at(1000), "end": _at(3000), "moved_to": "chat", "moved_share": 0.3,
              "retry_share": 0.4, "retry_after": {"dist": "fixed", "value": "800s"}}  # fmt: skip
    shift = {"channels": ["chat"], "share": 0.5, "after": "01:50", "spread": "20min"}
    group = {"channels": ["voice", "chat"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 60}}
    return scenario(
        horizon="2h",
        channels={
            "voice": {**live, "wrap_up": {"dist": "fixed", "value": "10s"}},
            "chat": {**live, "wrap_up": {"dist": "fixed", "value": "20s"}},
        },
        arrivals={
            "kind": "generated",
            "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}},
            "outages": [outage],
        },
        plans=[{"name": "later", "window": {"start": _at(0), "end": _at(2500)}, "actions": {"shift_demand": shift}}],
        groups={"a": group},
    )


@pytest.mark.parametrize("eager", [True, False])
def test_every_contact_gets_its_own_rows_wrap_up_and_mechanics_draws(eager):
    """Served contacts wrap up for their own channel; each first contact carries its own row's mechanics draws.

    A contact the outage moves from voice to chat wraps up as a chat (20 s, the destination channel's, like its
    handle time and patience); a retried voice contact keeps voice's 10 s; a chat row the plan re-schedules keeps
    chat's 20 s. Before the fix, the draws were popped in arrival order, so any lost, delayed or re-scheduled row
    shifted them onto other contacts (a chat contact got a voice wrap-up and the balk draws of another row).
    """
    sc = outage_and_plan_scenario()
    n = 400
    times = np.linspace(1.0, 3999.0, n)
    channel = np.arange(n) % 2  # voice, chat, voice, ...
    center, res, mu = run_center(sc, [rows_batch(times, channel, 100.0, np.inf)], spy=True, eager_arrivals=eager)
    c = res.contacts
    row = c.customer_id.to_numpy()
    served = c[c.outcome == "served"]
    # Every kind of detour happened.
    moved = served[(channel[served.customer_id] == VOICE) & (served.channel == "chat")]
    retried = served[(served.channel == "voice") & (served.arrival_s != times[served.customer_id])]
    shifted = served[(served.channel == "chat") & (served.arrival_s > 6600.0)]
    assert len(moved) > 0
    assert len(retried) > 0
    assert len(shifted) > 0
    assert center.outages is not None
    assert center.outages.n_lost > 0
    lost = c[c.outcome == "lost"]
    assert (lost.channel == "voice").any()  # the outage's
    assert (lost.channel == "chat").any()  # the plan's (due after the horizon)
    assert len(c) == n  # one contact per row
    assert sorted(row.tolist()) == list(range(n))
    # Wrap-ups: each served contact's own channel's (those still in service at the horizon have not wrapped up).
    ended = served[served.service_end_s.notna()]
    assert len(ended) > 0.8 * len(served)
    expected = np.where(ended.channel.to_numpy() == "voice", WRAP_S[VOICE], WRAP_S[CHAT])
    np.testing.assert_array_equal(ended.wrap_s.to_numpy(), expected)
    # Mechanics draws: the row's own, drawn in batch order from the named streams.
    streams = Streams(0, 0)
    balk = streams.get("mechanics/balk").random(n)
    callback = streams.get("mechanics/callback").random(n)
    seed = streams.get("mechanics/seed").integers(0, 1 << 62, n)
    routed = [(int(cid), int(r)) for cid, r in zip(c.contact_id, row, strict=True) if mu[int(cid)] is not None]
    assert len(routed) == n - len(lost)  # every contact that was routed had draws; lost ones never were
    for cid, r in routed:
        assert mu[cid] == (balk[r], callback[r], seed[r]), f"contact {cid} (row {r}) has another row's draws"
    assert not center.mechanics._bound  # nothing left behind
    assert not center.mechanics._pending
    assert center.wrap_up is not None
    assert not center.wrap_up._pending


def test_replayed_rows_keep_their_log_row_through_a_shift_demand_plan(tmp_path):
    """``source_row`` and the passthrough columns name each contact's own log row, re-scheduled or lost.

    Outages cannot apply to a replay (``outages`` is a field of generated arrivals only), so only the plan moves
    rows here. Each log row has its own handle time (``ser_time``), so a served contact shows which row it came
    from.
    """
    from experiments.replay import load_replay_log

    n = 60
    when = pd.Timestamp("2026-11-09") + pd.to_timedelta(np.linspace(10.0, 5000.0, n), unit="s")
    log = pd.DataFrame({"call_id": [f"C{k:03d}" for k in range(n)], "when": when.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        "ser_time": 30.0 + np.arange(n)})  # fmt: skip
    path = tmp_path / "calls.csv"
    log.to_csv(path, index=False)
    arrivals = {"kind": "replay", "path": str(path), "columns": {"arrival": "when", "handle": "ser_time"},
                "defaults": {"channel": "voice", "intent": "general"}, "passthrough": ["call_id"]}  # fmt: skip
    plan = {"name": "later", "window": {"start": _at(0), "end": _at(3000)},
            "actions": {"shift_demand": {"share": 0.5, "after": "01:40", "spread": "40min"}}}  # fmt: skip
    sc = scenario(
        horizon="2h",
        arrivals=arrivals,
        plans=[plan],
        channels={"voice": {"patience": {"dist": "none"}, "lines": 1000, "wrap_up": {"dist": "fixed", "value": "5s"}}},
        groups={"a": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                      "staffing": {"always": 30}}},
    )  # fmt: skip
    res = run(sc, seed=2, log=True, replay=load_replay_log(sc))
    c = res.contacts
    assert len(c) == n
    assert sorted(c.source_row.tolist()) == list(range(n))  # every row once, lost ones included
    assert c.log_call_id.tolist() == log.call_id.iloc[c.source_row].tolist()
    served = c[c.outcome == "served"]
    shifted = served[served.arrival_s >= 6000.0]
    assert len(shifted) > 0
    assert (c.outcome == "lost").sum() > 0
    np.testing.assert_array_equal(served.handle_s.to_numpy(), log.ser_time.iloc[served.source_row].to_numpy())
    kept = served[served.arrival_s < 6000.0]
    when_s = (when - pd.Timestamp("2026-11-09")).total_seconds().to_numpy()
    np.testing.assert_allclose(kept.arrival_s.to_numpy(), when_s[kept.source_row], atol=1e-6)


# ------------------------------------------------------------------------------------- common random numbers


def crn_scenario(outage: bool):
    """Voice and chat served by separate groups; balking, callbacks and retrials on both; maybe a voice outage."""
    mech = {
        "balk": {"share": 0.2, "per_waiting": 0.02},
        "callback": {"threshold": "1min", "share": 0.5, "answer": 0.7, "no_answer": "30s", "attempts": 2,
                     "retry_delay": "5min"},
        "retrial": {"probability": 0.5, "delay": {"dist": "uniform", "low": "1min", "high": "5min"}},
    }  # fmt: skip
    arrivals: dict = {"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}}}
    if outage:
        arrivals["outages"] = [{"channel": "voice", "start": _at(3000), "end": _at(5000), "retry_share": 0.5,
                                "retry_after": {"dist": "fixed", "value": "10min"}}]  # fmt: skip
    return scenario(
        horizon="4h",
        channels={"voice": {"patience": {"dist": "none"}, **mech}, "chat": {"patience": {"dist": "none"}, **mech}},
        arrivals=arrivals,
        groups={
            "v": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 3}},
            "c": {"channels": ["chat"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 3}},
        },
    )


def test_contacts_an_outage_does_not_touch_keep_their_balk_and_callback_decisions():
    """Common random numbers: with and without a voice outage, every chat contact (another group, untouched)
    and every voice contact before the outage has the same mechanics draws and the same outcome, wait, callback
    and retrial history. Before the fix, each lost or delayed voice contact shifted every later contact's draws.
    """
    rng = np.random.default_rng(11)
    n = 700
    times = np.sort(rng.uniform(0.0, 12_000.0, n))
    channel = rng.integers(0, 2, n)
    handle = rng.exponential(150.0, n)
    patience = rng.exponential(240.0, n)
    batches = [rows_batch(times, channel, handle, patience)]
    _, base, mu_base = run_center(crn_scenario(False), batches, seed=4, spy=True)
    center, out, mu_out = run_center(crn_scenario(True), [rows_batch(times, channel, handle, patience)], seed=4,
                                     spy=True)  # fmt: skip
    assert center.outages is not None
    assert center.outages.n_lost > 0
    assert center.outages.n_retries > 0
    cols = ["contact_id", "customer_id", "channel", "arrival_s", "outcome", "wait_s", "service_start_s",
            "service_end_s", "retrial"]  # fmt: skip
    a, b = base.contacts[cols].set_index("contact_id"), out.contacts[cols].set_index("contact_id")
    # Untouched: chat (its own group), and voice contacts that left before the outage started (later voice
    # contacts see fewer callers ahead once the outage drops some, so their waits may change).
    left_s = a.service_end_s.fillna(a.arrival_s + a.wait_s.fillna(0.0))
    untouched = a[(a.channel == "chat") | (left_s < 3000.0)].index
    assert len(untouched) > n / 2
    assert set(untouched) <= set(b.index), "contacts (retrials) the outage should not change are missing"
    pd.testing.assert_frame_equal(a.loc[untouched], b.loc[untouched])
    outcomes = set(a.loc[untouched].outcome.astype(str))
    assert {"balked", "callback_answered", "served"} <= outcomes  # the draws decided something
    assert (a.loc[untouched].retrial > 0).any()
    # Every contact routed in both runs (voice ones during the outage included) has the same draws.
    both = [cid for cid, m in mu_base.items() if m is not None and mu_out.get(cid) is not None]
    assert len(both) > len(untouched)
    for cid in both:
        assert mu_base[cid] == mu_out[cid], f"contact {cid} has other draws with the outage"
