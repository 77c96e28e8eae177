""":func:`experiments.measure.replication_metrics`: one replication's long table, checked by hand on tiny frames."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from experiments.measure import replication_metrics
from sim import metrics as m
from sim.config import Scenario
from tests.sim.test_metrics import make_agents, make_contacts

SCENARIO = {
    "name": "tiny",
    "horizon": "2h",
    "warmup": "20min",  # rounded up to the 30-minute interval boundary: the window is [1800, 7200)
    "channels": {"voice": {"short_abandon": "5s"}, "chat": {"short_abandon": "10s"}},
    "intents": {"general": {}, "refund": {}},
    "arrivals": {
        "kind": "generated",
        "channels": {"voice": {"daily_volume": 100, "intent_mix": {"general": 1, "refund": 1}}},
    },
    "shifts": {"day": {"start": "00:00", "length": "8h"}},
    "groups": {
        "a": {
            "channels": ["voice", "chat"],
            "skills": {"general": 1, "refund": 1},
            "languages": ["en"],
            "staffing": {"day": 2},
        },
        "b": {"channels": ["chat"], "skills": {"general": 1}, "languages": ["en"], "staffing": {"day": 1}},
    },
    "targets": [
        {"name": "voice 20s", "channel": "voice", "threshold": "20s", "level": 0.8},
        {"name": "urgent 5min", "priority": "urgent", "threshold": "5min", "level": 0.9},
        {"name": "refund", "intent": "refund", "threshold": "20s", "level": 0.5},
        {
            "name": "voice 1min every half-hour",
            "channel": "voice",
            "threshold": "1min",
            "level": 0.5,
            "aggregation": "every_interval",
            "window": {"start": "00:30", "end": "02:00"},
        },
    ],
    "reporting": {"interval": "30min", "sl_convention": "abandons_bad", "sl_thresholds": ["20s", "1min"]},
}


@pytest.fixture
def run():
    scenario = Scenario.model_validate(SCENARIO)
    contacts = make_contacts(
        [
            (100, "served", 1.0),  # in the warm-up: excluded everywhere
            (1900, "served", 10.0, {"intent": "refund"}),
            (2000, "served", 40.0),
            (2100, "abandoned", 3.0, {"channel": "chat", "priority": "urgent", "tier": "vip"}),
            (4000, "served", 400.0, {"priority": "urgent"}),
            (5000, "censored", 2200.0, {"intent": "refund"}),
        ]
    )
    thresholds = scenario.sl_thresholds_s()
    intervals = m.intervals_from_contacts(
        contacts,
        interval_s=1800.0,
        thresholds_s=thresholds,
        short_abandon_s={"voice": 5.0, "chat": 10.0},
        horizon_s=7200.0,
        channels=list(scenario.channels),
    )
    staffing = pd.DataFrame(
        {
            "replication": 0,
            "interval": [0, 1, 2, 3] * 2,
            "interval_start_s": [0.0, 1800.0, 3600.0, 5400.0] * 2,
            "group": ["a"] * 4 + ["b"] * 4,
            "logged_in": [2.0] * 4 + [1.0] * 4,
            "busy": [0.0, 1.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.5],
            "on_break": 0.0,
            "busy_slots": 0.0,
        }
    )
    result = SimpleNamespace(
        intervals=intervals, staffing=staffing, agents=make_agents(), frt_hist=None, contacts=contacts
    )
    return scenario, result


def test_replication_metrics_by_hand(run):
    scenario, result = run
    out = replication_metrics(result, scenario)
    assert list(out.columns) == ["metric", "scope", "value"]
    assert not out.duplicated(["metric", "scope"]).any()
    value = out.set_index(["metric", "scope"])["value"]
    assert value[("offered", "all")] == 5
    assert value[("answered", "all")] == 3
    assert value[("censored", "all")] == 1
    assert value[("abandoned_short", "all")] == 1  # chat abandon of 3 s < 10 s
    # abandons_bad with censored over T: 20 s -> 1 / (3 + 1 + 1); 60 s -> 2 / 5.
    assert value[("sl_20s", "all")] == pytest.approx(1 / 5)
    assert value[("sl_1min", "all")] == pytest.approx(2 / 5)
    assert value[("asa_s", "all")] == pytest.approx(450 / 3)
    assert value[("frt_max_s", "all")] == 400.0
    assert value[("frt_p50_s", "all")] == 40.0  # exact, from contacts (no histogram)
    assert value[("offered", "channel=chat")] == 1
    assert value[("abandon_rate", "tier=vip")] == 1.0
    assert math.isnan(value[("asa_s", "tier=vip")])
    assert value[("answered", "priority=urgent")] == 1
    # Targets: voice 20 s (1 of 3 answered + 1 censored over), urgent 5 min (400 s answered; chat abandon bad).
    assert value[("target_attainment", "target=voice 20s")] == pytest.approx(1 / 4)
    assert value[("target_met", "target=voice 20s")] == 0.0
    assert value[("target_attainment", "target=urgent 5min")] == 0.0
    assert value[("target_attainment", "target=refund")] == pytest.approx(1 / 2)  # from contacts
    assert value[("target_met", "target=refund")] == 1.0
    # Every half-hour of 00:30-02:00 (abandons_bad, 1 min): 1800: 10 s and 40 s answered -> 1; 3600: 400 s
    # answered and a censored wait of 2200 s -> 0; 5400: no voice contact -> left out. Pooled 2/4 meets 50%.
    every = "target=voice 1min every half-hour"
    assert value[("target_attainment", every)] == pytest.approx(2 / 4)
    assert value[("target_worst_interval", every)] == 0.0
    assert value[("target_worst_interval_start_s", every)] == 3600.0
    assert value[("target_interval_share", every)] == pytest.approx(1 / 2)
    assert value[("target_met", every)] == 0.0
    # Per-day attainment for every target, scope target=<name>@<date>; none of the pooled-only figures.
    assert value[("target_day_attainment", every + "@2026-11-09")] == pytest.approx(2 / 4)
    assert value[("target_day_attainment", "target=voice 20s@2026-11-09")] == pytest.approx(1 / 4)
    assert value[("target_day_attainment", "target=refund@2026-11-09")] == pytest.approx(1 / 2)
    assert ("target_worst_interval", "target=voice 20s") not in value.index
    # Agents: occupancy from staffing after the warm-up; the rest from the agents frame.
    assert value[("occupancy", "group=a")] == pytest.approx(0.5)
    assert value[("occupancy", "all")] == pytest.approx(0.5)
    assert value[("labor_cost_per_week", "all")] == 750.0 * 84  # over the 2 h horizon: x 7 days / 2 h
    assert value[("handled", "group=a")] == 130
    assert value[("paid_h", "group=b")] == 8.0
    families = {"sl" if name.startswith("sl_") else name for name in out["metric"]}
    # A hand-built result without a resolution frame or cost stats has every family but the bot/approval ones
    # (and, without outages, the lost ones), and a scenario without lines, max_wait, balking, retrials or
    # callbacks has no channel-mechanics rows.
    assert families == (
        set(m.METRICS) - set(m.RESOLUTION_METRICS) - set(m.COST_METRICS) - set(m.OUTAGE_METRICS)
        - set(m.MECHANICS_METRICS)
    )
    scopes = set(out["scope"])
    assert {"all", "channel=voice", "channel=chat", "priority=urgent", "tier=vip", "group=b"} <= scopes


def test_replication_metrics_without_contact_log_uses_histogram(run):
    scenario, result = run
    hist = pd.DataFrame(
        {
            "replication": 0,
            "channel": "voice",
            "priority": "normal",
            "tier": "regular",
            "bin_lo_s": [10.0, 40.0],
            "bin_hi_s": [11.0, 41.0],
            "count": [1, 1],
        }
    )
    streamed = SimpleNamespace(**{**vars(result), "contacts": None, "frt_hist": hist})
    value = replication_metrics(streamed, scenario).set_index(["metric", "scope"])["value"]
    assert value[("frt_p50_s", "all")] == pytest.approx(11.0)
    assert math.isnan(value[("target_attainment", "target=refund")])
    assert math.isnan(value[("target_met", "target=refund")])
    assert value[("sl_20s", "all")] == pytest.approx(1 / 5)


def test_replication_metrics_on_empty_frames(run):
    scenario, _ = run
    empty = SimpleNamespace(
        intervals=m.intervals_from_contacts(
            None,
            interval_s=1800.0,
            thresholds_s=scenario.sl_thresholds_s(),
            short_abandon_s=5.0,
            horizon_s=7200.0,
            channels=["voice", "chat"],
        ),
        staffing=None,
        agents=None,
        frt_hist=None,
        contacts=None,
    )
    value = replication_metrics(empty, scenario).set_index(["metric", "scope"])["value"]
    assert value[("offered", "all")] == 0
    assert math.isnan(value[("sl_20s", "all")])
    assert math.isnan(value[("occupancy", "all")])
    assert math.isnan(value[("target_attainment", "target=voice 20s")])


@pytest.mark.parametrize("name", ["voice 80/20", "a@b", "odd@2026-11-11", "ends@2026-11-1", ""])
def test_target_scope_round_trips_any_name(name):
    import datetime as dt

    from experiments.measure import parse_target_scope, target_scope

    assert parse_target_scope(target_scope(name)) == (name, None)
    assert parse_target_scope(target_scope(name, dt.date(2026, 11, 11)), day=True) == (name, "2026-11-11")
