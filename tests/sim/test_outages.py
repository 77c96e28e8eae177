"""Outages as they happen (sim/engine/outages.py): lost, moved and retried contacts, notices, repeats, conservation.

Exact traces on hand-made arrivals for the mechanics; binomial checks of the shares; conservation with the
``lost`` outcome on a mixed scenario.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from sim.engine import run
from sim.metrics import intervals_from_contacts
from sim.problems import ScenarioProblemsError
from sim.streams import Streams
from tests.sim.conftest import batch, scenario, simulate
from tests.sim.test_stages import OfferAll
from tests.stats_family import z_crit

T0 = "2026-11-09T00:00"


def _at(seconds: float) -> str:
    """ISO date-time ``seconds`` after the micro scenario's start (whole seconds)."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"2026-11-09T{h:02d}:{m:02d}:{s:02d}"


def two_channel(outage: dict | None = None, *, agents: int = 5, **extra):
    """Voice and chat, one group with both, no abandonment, fixed 100 s handle time; ``outage`` on voice."""
    arrivals: dict = {"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}}}
    if outage is not None:
        arrivals["outages"] = [{"channel": "voice", **outage}]
    return scenario(
        channels={"voice": {"patience": {"dist": "none"}}, "chat": {"patience": {"dist": "none"}}},
        arrivals=arrivals,
        groups={
            "a": {
                "channels": ["voice", "chat"], "skills": {"general": 1.0}, "languages": ["en"],
                "staffing": {"always": agents},
            }
        },
        **extra,
    )


def by_id(result) -> dict[int, dict]:
    return {int(r["contact_id"]): r for r in result.contacts.to_dict("records")}


# ------------------------------------------------------------------------------------------------ exact traces


def test_contacts_in_the_window_are_lost_and_counted_outside_it_untouched():
    sc = two_channel({"start": _at(100), "end": _at(200)})
    res = simulate(sc, [batch([50.0, 100.0, 150.0, 199.9, 200.0, 250.0])])
    rows = by_id(res)
    assert [str(rows[i]["outcome"]) for i in range(6)] == ["served", "lost", "lost", "lost", "served", "served"]
    lost = res.contacts[res.contacts.outcome == "lost"]
    assert lost.arrival_s.tolist() == [100.0, 150.0, 199.9]
    assert lost.wait_s.isna().all()
    assert lost.first_response_s.isna().all()
    assert (lost.agent_id == -1).all()
    served = res.contacts[res.contacts.outcome == "served"]
    assert served.service_start_s.tolist() == [50.0, 200.0, 250.0]  # an idle agent answers at once
    iv = res.intervals.groupby("channel", observed=True)[["offered", "lost"]].sum()
    assert iv.loc["voice", "offered"] == 3
    assert iv.loc["voice", "lost"] == 3
    assert res.stats["n_lost"] == 3
    assert res.stats["n_arrivals"] == 6


def test_moved_contacts_arrive_on_the_destination_at_once_with_its_draws():
    sc = two_channel({"start": _at(100), "end": _at(200), "moved_to": "chat", "moved_share": 1.0})
    res = simulate(sc, [batch([50.0, 120.0, 150.0, 250.0])], seed=3)
    c = res.contacts.set_index("contact_id")
    assert c.channel.astype(str).tolist() == ["voice", "chat", "chat", "voice"]
    assert (c.outcome == "served").all()
    assert c.service_start_s.tolist() == [50.0, 120.0, 150.0, 250.0]
    # The handle time of a moved contact is drawn from the destination (fixed 100 s here); its stream is its own.
    assert c.loc[1, "handle_s"] == 100.0
    assert res.stats["n_moved"] == 2
    assert res.stats.get("n_lost") == 0


def test_retries_come_back_after_the_delay_and_meet_the_rule_again():
    retry = {"retry_share": 1.0, "retry_after": {"dist": "fixed", "value": "60s"}}
    sc = two_channel({"start": _at(100), "end": _at(200), **retry})
    res = simulate(sc, [batch([50.0, 110.0, 150.0, 170.0])])
    c = res.contacts.set_index("contact_id")
    # 110 -> 170 (still down) -> 230; 150 -> 210; 170 -> 230. Each contact is recorded once, at its last arrival.
    assert c.arrival_s.tolist() == [50.0, 230.0, 210.0, 230.0]
    assert (c.outcome == "served").all()
    assert c.service_start_s.tolist() == [50.0, 230.0, 210.0, 230.0]
    assert res.stats["n_retries"] == 4  # 110 retried twice


def test_a_retry_due_after_the_horizon_is_lost():
    retry = {"retry_share": 1.0, "retry_after": {"dist": "fixed", "value": "2h"}}
    sc = two_channel({"start": _at(70000), "end": _at(80000), **retry})  # the horizon is 86,400 s
    res = simulate(sc, [batch([78000.0, 79300.0])])
    c = res.contacts.set_index("contact_id")
    assert str(c.loc[0, "outcome"]) == "served"
    assert c.loc[0, "arrival_s"] == 78000.0 + 7200.0
    assert str(c.loc[1, "outcome"]) == "lost"
    assert c.loc[1, "arrival_s"] == 79300.0


def test_an_outage_notice_changes_the_shares_from_its_time_on():
    notice = {"at": _at(150), "moved_share": 1.0}
    sc = two_channel({"start": _at(100), "end": _at(200), "moved_to": "chat", "notice": notice})
    res = simulate(sc, [batch([120.0, 149.0, 150.0, 199.0, 200.0])])
    c = res.contacts.set_index("contact_id")
    assert c.outcome.astype(str).tolist() == ["lost", "lost", "served", "served", "served"]
    assert c.channel.astype(str).tolist() == ["voice", "voice", "chat", "chat", "voice"]


def test_a_move_to_a_channel_that_is_down_too_is_lost():
    sc = two_channel(
        {"start": _at(100), "end": _at(200), "moved_to": "chat", "moved_share": 1.0},
    )
    arrivals = sc.arrivals.model_dump()
    arrivals["outages"].append({"channel": "chat", "start": _at(140), "end": _at(300)})
    sc = sc.model_copy(update={"arrivals": type(sc.arrivals).model_validate(arrivals)})
    res = simulate(sc, [batch([120.0, 150.0])])
    assert res.contacts.outcome.astype(str).tolist() == ["served", "lost"]


def test_repeat_contacts_landing_on_a_failed_channel_follow_the_rule():
    bot = {
        "session": {"dist": "fixed", "value": "120s"}, "silent_failure": 1.0, "return_share": 1.0,
        "return_delay": {"dist": "fixed", "value": "1h"},
    }  # fmt: skip
    sc = two_channel({"start": _at(3600), "end": _at(7200)}, bots={"voice": bot})
    center_res = simulate(sc, [batch([0.0, 4000.0])], deflection=OfferAll())
    c = center_res.contacts.sort_values("arrival_s")
    # Contact 0: silent failure at 120 s, back at 3720 s (inside the outage): lost. Contact 1 arrives at 4000 s: lost.
    assert c.outcome.astype(str).tolist() == ["silent_failure", "lost", "lost"]
    assert c.arrival_s.tolist() == [0.0, 3720.0, 4000.0]
    assert c.repeat.tolist() == [False, True, False]
    assert center_res.stats["n_repeats"] == 1


# ---------------------------------------------------------------------------------------------- shares, stats


def test_shares_of_lost_moved_and_retried_match_the_configuration():
    shares = {"moved_share": 0.3, "retry_share": 0.2}
    retry = {"dist": "fixed", "value": "1d"}  # every retry lands after the horizon: lost, but counted as a retry draw
    sc = two_channel({"start": _at(0), "end": "2026-11-10T00:00", "moved_to": "chat", "retry_after": retry, **shares})
    n = 4000
    times = np.sort(Streams(5).fresh("test/times").uniform(0, 86000, n))
    res = simulate(sc, [batch(times)], seed=11)
    c = res.contacts
    moved = int((c.channel == "chat").sum())
    lost = int((c.outcome == "lost").sum())
    # Retries after the horizon are lost: lost share = 1 - moved_share (retry 0.2 + lost 0.5).
    for count, p in ((moved, 0.3), (lost, 0.7)):
        z = (count - n * p) / math.sqrt(n * p * (1 - p))
        assert abs(z) < z_crit(2), (count, n * p)


# ------------------------------------------------------------------------------------------------ conservation


def test_conservation_with_lost_contacts_and_intervals_from_the_log():
    from tests.sim.test_invariants import mixed_scenario

    base = mixed_scenario()
    arrivals = base.arrivals.model_dump()
    arrivals["outages"] = [
        {"channel": "voice", "start": "2026-11-09T10:00", "end": "2026-11-09T14:00", "moved_to": "chat",
         "moved_share": 0.4, "retry_share": 0.3, "retry_after": {"dist": "exponential", "mean": "20min"},
         "notice": {"at": "2026-11-09T12:00", "moved_share": 0.2, "retry_share": 0.7,
                    "retry_after": {"dist": "fixed", "value": "2h"}}},
    ]  # fmt: skip
    sc = base.model_copy(update={"arrivals": type(base.arrivals).model_validate(arrivals)})
    res = run(sc, seed=4, log=True)
    df = res.contacts
    assert len(df) == res.stats["n_arrivals"] == res.stats["n_recorded"]
    assert df.contact_id.is_unique
    lost = int((df.outcome == "lost").sum())
    assert lost == res.stats["n_lost"] > 0
    assert res.stats["n_moved"] > 0
    assert res.stats["n_retries"] > 0
    assert res.intervals.lost.sum() == lost
    queue = df.outcome.isin(["served", "abandoned", "censored", "escalated_async"])
    assert res.intervals.offered.sum() == int(queue.sum())
    assert len(df) == int(queue.sum()) + lost  # no bots here: every contact is offered or lost
    # The engine's interval counts equal those recomputed from the contact log (lost included).
    rebuilt = intervals_from_contacts(
        df, interval_s=sc.reporting.interval, thresholds_s=sc.sl_thresholds_s(),
        short_abandon_s={c: sc.channels[c].short_abandon for c in sc.channels}, horizon_s=sc.horizon,
        channels=list(sc.channels),
    )  # fmt: skip
    for col in ("offered", "answered", "abandoned", "censored", "lost"):
        assert rebuilt[col].sum() == res.intervals[col].sum(), col
    # No voice contact arrives (is recorded on voice) inside the outage other than lost ones.
    lo, hi = 4 * 3600.0, 8 * 3600.0
    inside = (df.channel == "voice") & (df.arrival_s >= lo) & (df.arrival_s < hi)
    assert (df.outcome[inside] == "lost").all()
    # The lost metrics of the summary come from the intervals (after the warm-up: none here).
    from experiments.measure import replication_metrics

    metrics = replication_metrics(res, sc).set_index(["metric", "scope"])["value"]
    assert metrics["lost", "channel=voice"] == lost
    assert metrics["lost", "all"] == lost
    offered_voice = int(res.intervals.loc[res.intervals.channel == "voice", "offered"].sum())
    assert metrics["lost_rate", "channel=voice"] == lost / (offered_voice + lost)
    # Reproducible.
    again = run(sc, seed=4, log=True).contacts
    assert again.equals(df)


# ------------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("outage", "message"),
    [
        ({"moved_to": "chat", "moved_share": 0.7, "retry_share": 0.5, "retry_after": "10min"}, "sum to at most 1"),
        ({"retry_share": 0.5}, "needs retry_after"),
        ({"moved_share": 0.5}, "needs moved_to"),
        ({"moved_to": "voice", "moved_share": 0.5}, "another channel"),
        ({"notice": {"at": _at(50), "moved_share": 0.0}}, "inside the outage"),
    ],
)
def test_bad_outages_are_refused_with_the_reason(outage, message):
    if isinstance(outage.get("retry_after"), str):
        outage["retry_after"] = {"dist": "fixed", "value": outage["retry_after"]}
    with pytest.raises(ValidationError, match=message):
        two_channel({"start": _at(100), "end": _at(200), **outage})


def test_overlapping_outages_of_one_channel_are_refused_with_their_path():
    sc = two_channel({"start": _at(100), "end": _at(200)})
    data = sc.model_dump()
    data["arrivals"]["outages"].append({"channel": "voice", "start": _at(150), "end": _at(300)})
    with pytest.raises(ValidationError) as info:
        type(sc).model_validate(data)
    raised = info.value.errors()[0]["ctx"]["error"]
    assert isinstance(raised, ScenarioProblemsError)
    assert any(p.path == ("arrivals", "outages", 1) and "overlaps" in p.message for p in raised.problems)
