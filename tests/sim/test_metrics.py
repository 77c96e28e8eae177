import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import metrics as m
from sim.engine import RESOLUTION_FIELDS
from sim.schema import OUTCOMES

NAN = math.nan


def make_contacts(rows, replication=0):
    """Contacts frame from (arrival_s, outcome, wait_s, **overrides) tuples; FRT = wait of answered contacts."""
    records = []
    for i, row in enumerate(rows):
        arrival, outcome, wait, *rest = row
        extra = rest[0] if rest else {}
        served = outcome in m.ANSWERED_OUTCOMES
        rec = {
            "replication": replication,
            "contact_id": i,
            "channel": "voice",
            "intent": "general",
            "priority": "normal",
            "tier": "regular",
            "arrival_s": float(arrival),
            "outcome": outcome,
            "first_response_s": float(wait) if served else NAN,
            "wait_s": float(wait) if outcome in m.QUEUE_OUTCOMES else NAN,
            "service_start_s": arrival + wait if served else NAN,
            "service_end_s": arrival + wait + 100.0 if served else NAN,
            "handle_s": 100.0 if served else NAN,
        }
        rec.update(extra)
        records.append(rec)
    columns = list(make_contacts_columns())
    return pd.DataFrame(records, columns=columns)


def make_contacts_columns():
    return [
        "replication",
        "contact_id",
        "channel",
        "intent",
        "priority",
        "tier",
        "arrival_s",
        "outcome",
        "first_response_s",
        "wait_s",
        "service_start_s",
        "service_end_s",
        "handle_s",
    ]


def to_intervals(contacts, thresholds=(20.0,), short=5.0, horizon=3600.0, channels=("voice",), **kw):
    return m.intervals_from_contacts(
        contacts,
        interval_s=1800.0,
        thresholds_s=list(thresholds),
        short_abandon_s=short,
        horizon_s=horizon,
        channels=list(channels),
        **kw,
    )


# Answered: 10 (FRT <= 20 s: 8, two exactly at 20 s; two at 0 s); abandoned: 4 (one short < 5 s, two <= 20 s);
# censored: 2 (one over 20 s); one bot-resolved contact that never reached the queue.
CONVENTION_ROWS = [
    *[(t, "served", w) for t, w in zip(range(10, 110, 10), [0, 0, 5, 10, 15, 20, 20, 3, 25, 60], strict=True)],
    (200, "abandoned", 2),
    (210, "abandoned", 10),
    (220, "abandoned", 30),
    (230, "abandoned", 50),
    (300, "censored", 10),
    (310, "censored", 100),
    (320, "bot_resolved", NAN),
]


@pytest.fixture
def conv_intervals():
    return to_intervals(make_contacts(CONVENTION_ROWS))


# ------------------------------------------------------------------------------------- intervals_from_contacts


def test_interval_counts_by_hand(conv_intervals):
    iv = conv_intervals
    assert list(iv.columns) == m.interval_columns([20.0])
    assert len(iv) == 2 * 1 * 2 * 2  # intervals x channels x priorities x tiers, full grid
    row = iv[(iv["interval"] == 0) & (iv["priority"] == "normal") & (iv["tier"] == "regular")].iloc[0]
    expected = {
        "offered": 16,
        "answered": 10,
        "abandoned": 4,
        "abandoned_short": 1,
        "censored": 2,
        "delayed": 12,
        "answered_within_20s": 8,
        "abandoned_within_20s": 2,
        "censored_over_20s": 1,
        "wait_answered_s": 158.0,
        "wait_abandoned_s": 92.0,
        "handle_s": 1000.0,
        "max_wait_answered_s": 60.0,
    }
    assert {k: row[k] for k in expected} == expected
    others = iv.drop(index=row.name)
    assert (others[["offered", "answered", "wait_answered_s", "max_wait_answered_s"]] == 0).all().all()
    assert iv["queue_len"].isna().all()
    assert iv["in_service"].isna().all()
    assert iv["offered"].dtype == np.int64


def test_convention_values_all_differ(conv_intervals):
    expected = {
        "ignore_abandons": 8 / (10 + 1),
        "abandons_bad": 8 / (10 + 4 + 1),
        "short_abandons_excluded": 8 / (10 + 4 - 1 + 1),
        "abandons_good": (8 + 2) / (10 + 4 + 1),
    }
    assert len(set(expected.values())) == 4
    for convention, value in expected.items():
        assert m.service_level(conv_intervals, 20.0, convention) == pytest.approx(value)
    with pytest.raises(ValueError, match="convention"):
        m.service_level(conv_intervals, 20.0, "abandons_ugly")


def test_censored_within_threshold_is_not_counted():
    # A contact still waiting but for less than T has not (yet) missed: it is left out of the denominator.
    contacts = make_contacts([(10, "served", 5), (20, "censored", 10), (30, "censored", 40)])
    iv = to_intervals(contacts, thresholds=(20.0, 60.0))
    assert m.service_level(iv, 20.0, "abandons_bad") == pytest.approx(1 / 2)
    assert m.service_level(iv, 60.0, "abandons_bad") == pytest.approx(1.0)


def test_other_queue_kpis_by_hand(conv_intervals):
    iv = conv_intervals
    assert m.asa_s(iv) == pytest.approx(15.8)
    assert m.mean_wait_all_s(iv) == pytest.approx((158 + 92) / 14)
    assert m.p_wait(iv) == pytest.approx(12 / 14)
    assert m.abandon_rate(iv) == pytest.approx(4 / 16)
    assert m.short_abandons(iv) == 1
    assert m.frt_max_s(iv) == 60.0


def test_interval_attribution_and_handle_of_unfinished_service():
    contacts = make_contacts(
        [
            (1799.9, "served", 1.0),
            (1800.0, "served", 2.0, {"service_end_s": NAN}),  # still in service at the horizon
            (3599.0, "abandoned", 7.0),
        ]
    )
    iv = to_intervals(contacts).groupby("interval")[["offered", "answered", "abandoned", "handle_s"]].sum()
    assert iv.loc[0].tolist() == [1, 1, 0, 100.0]
    assert iv.loc[1].tolist() == [2, 1, 1, 0.0]


def test_short_abandon_per_channel_and_grid_order():
    contacts = make_contacts(
        [(10, "abandoned", 8.0), (20, "abandoned", 8.0, {"channel": "chat", "priority": "urgent", "tier": "vip"})]
    )
    iv = to_intervals(contacts, short={"voice": 5.0, "chat": 10.0}, channels=("voice", "chat"), horizon=1800.0)
    assert iv[["channel", "priority", "tier"]].values.tolist() == [
        [c, p, t] for c in ("voice", "chat") for p in ("normal", "urgent") for t in ("regular", "vip")
    ]
    short = iv.set_index(["channel", "priority", "tier"])["abandoned_short"]
    assert short[("voice", "normal", "regular")] == 0
    assert short[("chat", "urgent", "vip")] == 1
    with pytest.raises(ValueError, match="short_abandon_s has no threshold"):
        to_intervals(contacts, short={"voice": 5.0}, channels=("voice", "chat"))


def test_bad_contacts_are_rejected():
    with pytest.raises(ValueError, match="outside"):
        to_intervals(make_contacts([(3600.0, "served", 1.0)]))
    with pytest.raises(ValueError, match="channel"):
        to_intervals(make_contacts([(10, "served", 1.0, {"channel": "fax"})]))
    with pytest.raises(ValueError, match="priority"):
        to_intervals(make_contacts([(10, "served", 1.0, {"priority": "asap"})]))


def test_empty_contacts_give_a_zero_grid_and_nan_kpis():
    for contacts in (None, make_contacts([])):
        iv = to_intervals(contacts, replication=3)
        assert len(iv) == 8
        assert (iv["replication"] == 3).all()
        assert iv["offered"].sum() == 0
        assert math.isnan(m.service_level(iv, 20.0))
        assert math.isnan(m.asa_s(iv))
        assert math.isnan(m.p_wait(iv))
        assert math.isnan(m.abandon_rate(iv))
        assert math.isnan(m.frt_max_s(iv))
    empty = pd.DataFrame()
    assert math.isnan(m.service_level(empty, 20.0))
    assert math.isnan(m.mean_wait_all_s(None))
    assert math.isnan(m.service_level_from_contacts(None, 20.0, "abandons_bad", 5.0))
    assert np.isnan(m.frt_quantiles(empty)).all()
    assert np.isnan(m.frt_quantiles_from_hist(None)).all()


def test_several_replications_stay_apart():
    contacts = pd.concat([make_contacts([(10, "served", 1.0)], 0), make_contacts([(10, "served", 30.0)] * 2, 1)])
    iv = to_intervals(contacts)
    assert sorted(iv["replication"].unique()) == [0, 1]
    assert iv.groupby("replication")["offered"].sum().tolist() == [1, 2]
    with pytest.raises(ValueError, match="replication"):
        to_intervals(contacts, replication=0)


# ---------------------------------------------------------------------------------- volume weighting, filters


def test_volume_weighted_not_mean_of_interval_sls():
    # Interval 0: 1 of 1 within T (SL 1); interval 1: 1 of 4 (SL 0.25). Mean of SLs 0.625; pooled 2 / 5.
    contacts = make_contacts([(10, "served", 1.0)] + [(1810, "served", w) for w in (1.0, 30.0, 40.0, 50.0)])
    iv = to_intervals(contacts)
    per_interval = [m.service_level(iv[iv["interval"] == i], 20.0) for i in (0, 1)]
    assert per_interval == [1.0, 0.25]
    assert m.service_level(iv, 20.0) == pytest.approx(0.4)
    table = m.interval_table(iv, [20.0], "abandons_bad")
    assert table["sl_20s"].tolist() == [1.0, 0.25]


def test_filter_intervals_by_segment_and_window():
    contacts = make_contacts(
        [(10, "served", 1.0), (1810, "served", 30.0, {"priority": "urgent"}), (3000, "served", 2.0)]
    )
    iv = to_intervals(contacts)
    assert m.filter_intervals(iv, warmup_s=1800.0)["answered"].sum() == 2
    assert m.filter_intervals(iv, horizon_s=1800.0)["answered"].sum() == 1
    assert m.filter_intervals(iv, priority="urgent")["answered"].sum() == 1
    assert m.filter_intervals(iv, priority=["urgent", "normal"], tier="regular")["answered"].sum() == 3
    assert m.service_level(m.filter_intervals(iv, priority="urgent"), 20.0) == 0.0


def test_service_level_from_contacts_matches_intervals_and_filters_intent(conv_intervals):
    contacts = make_contacts(CONVENTION_ROWS)
    for convention in m.SL_CONVENTIONS:
        assert m.service_level_from_contacts(contacts, 20.0, convention, 5.0) == pytest.approx(
            m.service_level(conv_intervals, 20.0, convention)
        )
    contacts.loc[contacts["wait_s"] > 20, "intent"] = "refund"
    assert m.service_level_from_contacts(contacts, 20.0, "abandons_bad", 5.0, intent="refund") == 0.0
    assert m.service_level_from_contacts(contacts, 20.0, "abandons_bad", 5.0, intent="general") == 0.8
    assert math.isnan(m.service_level_from_contacts(contacts, 20.0, "abandons_bad", 5.0, warmup_s=1800.0))


# -------------------------------------------------------------------------------------------------------- FRT


def test_frt_quantiles_from_hist_interpolate_within_bins():
    hist = pd.DataFrame(
        {
            "replication": 0,
            "channel": ["voice", "voice", "chat"],
            "priority": "normal",
            "tier": "regular",
            "bin_lo_s": [1.0, 0.0, 0.0],
            "bin_hi_s": [2.0, 1.0, 1.0],
            "count": [2, 1, 1],
        }
    )
    # Merged: [0, 1) holds 2, [1, 2) holds 2. p50 at cumulative 2 -> 1.0; p90 at 3.6 -> 1 + 1.6 / 2.
    assert m.frt_quantiles_from_hist(hist, (0.0, 0.5, 0.9, 1.0)) == pytest.approx([0.0, 1.0, 1.8, 2.0])
    voice = m.filter_frt_hist(hist, channel="voice")
    assert m.frt_quantiles_from_hist(voice, (0.5,)) == pytest.approx([1 + 0.5 / 2])
    with pytest.raises(ValueError, match="quantiles"):
        m.frt_quantiles_from_hist(hist, (1.5,))


def test_frt_quantiles_from_hist_zero_width_bin_of_immediate_answers():
    hist = pd.DataFrame({"bin_lo_s": [0.0, 3.0], "bin_hi_s": [0.0, 4.0], "count": [3, 1]})
    assert m.frt_quantiles_from_hist(hist, (0.5, 0.75, 0.875)) == pytest.approx([0.0, 0.0, 3.5])


def test_categorical_columns_like_the_engine_writes(conv_intervals):
    contacts = make_contacts(CONVENTION_ROWS)
    for col in ("channel", "priority", "tier", "outcome"):
        contacts[col] = contacts[col].astype("category")
    iv = to_intervals(contacts)
    pd.testing.assert_frame_equal(iv, conv_intervals)
    iv["channel"] = pd.Categorical(iv["channel"], categories=["voice", "chat"])
    assert m.service_level(m.filter_intervals(iv, channel="voice"), 20.0) == pytest.approx(8 / 14)
    assert len(m.interval_table(iv, [20.0])) == 2


def test_frt_quantiles_exact_from_contacts():
    contacts = make_contacts([(10, "served", w) for w in (0.0, 10.0, 20.0, 30.0, 40.0)] + [(5, "abandoned", 99.0)])
    assert m.frt_quantiles(contacts, (0.5, 0.9)) == pytest.approx([20.0, 36.0])


# ----------------------------------------------------------------------------------------------------- agents


def make_agents():
    """Agents frame: two agents in group a, one in group b (with overtime), one day shift."""
    return pd.DataFrame(
        {
            "replication": 0,
            "agent_id": [0, 1, 2],
            "group": ["a", "a", "b"],
            "shift": "day",
            "paid_s": [28800.0, 28800.0, 28800.0],
            "logged_in_s": [27000.0, 28800.0, 30600.0],
            "busy_s": [18000.0, 20000.0, 9000.0],
            "break_s": [1800.0, 1800.0, 3600.0],
            "idle_s": [7200.0, 7000.0, 18000.0],
            "overtime_s": [0.0, 0.0, 1800.0],
            "handled": [60, 70, 0],
            "absent_shifts": 0,
            "cost": [240.0, 240.0, 270.0],
        }
    )


@pytest.fixture
def agents():
    return make_agents()


def test_agent_kpis_by_hand(agents):
    assert m.occupancy(agents) == pytest.approx(47000 / (86400 - 7200))
    assert m.occupancy(m.filter_agents(agents, group="a")) == pytest.approx(38000 / (55800 - 3600))
    assert m.utilization(agents) == pytest.approx((86400 - 7200) / 86400)
    assert m.overtime_h(agents) == 0.5
    assert m.labor_cost(agents) == 750.0
    assert m.cost_per_contact(agents) == pytest.approx(750 / 130)
    assert math.isnan(m.cost_per_contact(m.filter_agents(agents, group="b")))
    table = m.agent_table(agents).set_index("group")
    assert table.loc["b", "occupancy"] == pytest.approx(9000 / 27000)
    assert table.loc["a", "handled"] == 130
    assert len(m.agent_table(agents, by="agent_id")) == 3
    assert math.isnan(m.occupancy(agents.iloc[:0]))
    assert m.labor_cost(None) == 0.0


def test_paid_hours_handled_and_costs_beyond_pay(agents):
    assert m.paid_h(agents) == 24.0
    assert m.handled(m.filter_agents(agents, group="a")) == 130
    assert m.paid_h(None) == 0.0
    assert m.cost_kpis({}, agents, 86400.0) == {}  # the engine reported no costs
    stats = {
        "bot_cost": 10.0,
        "training_cost": 20.0,
        "bot_setup_cost": 7.0,
        "leakage_cost": 5.0,
        "team_lead_cost": 15.0,
        "team_lead_busy_s": 900.0,
        "team_lead_paid_s": 3600.0,
    }
    costs = m.cost_kpis(stats, agents, 86400.0)  # a one-day horizon: recurring totals x 7
    assert list(costs) == list(m.COST_METRICS)
    assert costs["team_lead_occupancy"] == 0.25
    assert costs["bot_cost_per_week"] == 70.0
    assert costs["recurring_cost_per_week"] == (750.0 + 10.0 + 5.0 + 15.0) * 7
    assert costs["one_off_cost"] == 27.0  # training and set-up, never in the recurring total


def test_resolution_kpis_by_hand():
    counts = dict.fromkeys(RESOLUTION_FIELDS, 0.0)
    counts.update(bot_offered=10, bot_resolved=4, bot_escalated=4, bot_abandoned=1, bot_silent_failure=1)
    counts.update(approvals=5, escalated_sync=1, escalated_async=1, first_contacts=8, first_contact_resolved=6)
    keys = {"replication": 0, "channel": "chat", "priority": "normal", "tier": "regular"}
    resolution = pd.DataFrame([{**keys, **counts}])
    kpis = m.resolution_kpis(resolution, pd.DataFrame({"offered": [14]}))
    assert list(kpis) == list(m.RESOLUTION_METRICS)
    assert kpis["bot_containment"] == 0.4
    assert kpis["bot_deflection"] == pytest.approx(4 / (14 + 6))  # offered to the queue + ended in the bot
    assert kpis["escalation_rate"] == pytest.approx(2 / 5)
    assert kpis["fcr"] == 0.75
    assert math.isnan(kpis["transfer_abandon_rate"])  # no transfers
    assert m.resolution_kpis(None, None) == {}


def test_occupancy_from_staffing_weights_by_time_inside_horizon_after_warmup():
    staffing = pd.DataFrame(
        {
            "replication": 0,
            "interval": [0, 1, 2, 0, 1, 2],
            "interval_start_s": [0.0, 1800.0, 3600.0] * 2,
            "group": ["a"] * 3 + ["b"] * 3,
            "logged_in": [10.0, 10.0, 10.0, 5.0, 5.0, 5.0],
            "busy": [1.0, 8.0, 2.0, 4.0, 4.0, 4.0],
            "on_break": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            "busy_slots": 0.0,
        }
    )
    # Horizon 4500 s: interval 2 counts for 900 s. Warm-up 1800 s drops interval 0.
    got = m.occupancy_from_staffing(staffing, interval_s=1800.0, horizon_s=4500.0, group="a", warmup_s=1800.0)
    assert got == pytest.approx((8 * 1800 + 2 * 900) / (10 * 2700))
    overall = m.occupancy_from_staffing(staffing, interval_s=1800.0, horizon_s=4500.0)
    assert overall == pytest.approx((18000 + 4 * 4500) / (10 * 4500 + 4 * 4500))
    assert math.isnan(m.occupancy_from_staffing(None, interval_s=1800.0, horizon_s=4500.0))


# ---------------------------------------------------------------------------------------------- interval_table


def test_interval_table_merges_segments_per_channel():
    contacts = make_contacts(
        [(10, "served", 1.0), (20, "served", 30.0, {"tier": "vip"}), (40, "abandoned", 2.0, {"channel": "chat"})]
    )
    iv = to_intervals(contacts, thresholds=(20.0, 60.0), channels=("voice", "chat"))
    iv["queue_len"] = 0.5
    iv["in_service"] = 1.0
    table = m.interval_table(iv, [20.0, 60.0], "ignore_abandons")
    assert len(table) == 4  # 2 intervals x 2 channels
    voice = table[(table["interval"] == 0) & (table["channel"] == "voice")].iloc[0]
    assert voice["offered"] == 2
    assert voice["sl_20s"] == 0.5
    assert voice["sl_1min"] == 1.0
    assert voice["asa_s"] == pytest.approx(15.5)
    assert voice["queue_len"] == 2.0  # four priority x tier segments of 0.5
    chat = table[(table["interval"] == 0) & (table["channel"] == "chat")].iloc[0]
    assert math.isnan(chat["sl_20s"])
    assert chat["abandon_rate"] == 1.0
    assert table.loc[table["interval"] == 1, "sl_20s"].isna().all()


def test_queue_kpis_pool_the_selection(conv_intervals):
    pooled = m.queue_kpis(conv_intervals, [20.0], "abandons_bad")
    assert pooled["offered"] == 16
    assert pooled["sl_20s"] == pytest.approx(m.service_level(conv_intervals, 20.0, "abandons_bad"))
    assert pooled["asa_s"] == pytest.approx(m.asa_s(conv_intervals))
    assert pooled["frt_max_s"] == m.frt_max_s(conv_intervals)
    empty = m.queue_kpis(None, [20.0])
    assert empty["offered"] == 0
    assert math.isnan(empty["sl_20s"])


def test_public_names_are_reexported():
    from sim.metrics import aggregate, counts, filters, kpis

    internal = {"sl_from_counts", "classify_contacts"}  # shared between the modules, not API
    for module in (aggregate, counts, filters, kpis):
        assert set(module.__all__) - internal <= set(m.__all__), module.__name__
    assert all(hasattr(m, name) for name in m.__all__)


# ----------------------------------------------------------------------------------------- property (hypothesis)

contact_rows = st.lists(
    st.tuples(
        st.floats(0, 3599.999, allow_nan=False),
        st.sampled_from(OUTCOMES),
        st.floats(0, 500, allow_nan=False),
        st.sampled_from(["voice", "chat"]),
        st.sampled_from(["normal", "urgent"]),
        st.sampled_from(["regular", "vip"]),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=contact_rows, threshold=st.sampled_from([0.0, 5.0, 20.0, 300.0]))
def test_interval_counts_are_consistent(rows, threshold):
    contacts = make_contacts([(a, o, w, {"channel": c, "priority": p, "tier": t}) for a, o, w, c, p, t in rows])
    iv = to_intervals(contacts, thresholds=[threshold], short={"voice": 5.0, "chat": 10.0}, channels=("voice", "chat"))
    queued = contacts["outcome"].isin(m.QUEUE_OUTCOMES).sum()
    assert iv["offered"].sum() == queued
    assert (iv["answered"] + iv["abandoned"] + iv["censored"] + iv["timed_out"] == iv["offered"]).all()
    a_col, ab_col, c_col = m.threshold_columns(threshold)
    assert (iv[a_col] <= iv["answered"]).all()
    assert (iv[ab_col] <= iv["abandoned"]).all()
    assert (iv[c_col] <= iv["censored"]).all()
    assert (iv["abandoned_short"] <= iv["abandoned"]).all()
    for convention in m.SL_CONVENTIONS:
        sl = m.service_level(iv, threshold, convention)
        assert math.isnan(sl) or 0.0 <= sl <= 1.0
        direct = m.service_level_from_contacts(contacts, threshold, convention, {"voice": 5.0, "chat": 10.0})
        assert (math.isnan(sl) and math.isnan(direct)) or sl == pytest.approx(direct)
        per_interval = m.interval_table(iv, [threshold], convention)[m.sl_metric(threshold)].dropna()
        assert ((per_interval >= 0) & (per_interval <= 1)).all()


def test_slot_occupancy_counts_chat_slots():
    staffing = pd.DataFrame(
        {
            "replication": 0,
            "interval": [0, 0],
            "interval_start_s": [0.0, 0.0],
            "group": ["chat", "voice"],
            "logged_in": [4.0, 2.0],
            "busy": [4.0, 1.0],
            "on_break": [0.0, 0.0],
            "busy_slots": [6.0, 1.0],
        }
    )
    kwargs = {"slots": {"chat": 3, "voice": 1}, "interval_s": 3600.0, "horizon_s": 3600.0}
    # 4 chat agents always busy but only 6 of 12 slots used; voice: 1 of 2 agents busy.
    assert m.occupancy_from_staffing(staffing, interval_s=3600.0, horizon_s=3600.0, group="chat") == 1.0
    assert m.slot_occupancy_from_staffing(staffing, group="chat", **kwargs) == pytest.approx(0.5)
    assert m.slot_occupancy_from_staffing(staffing, group="voice", **kwargs) == pytest.approx(0.5)
    assert m.slot_occupancy_from_staffing(staffing, **kwargs) == pytest.approx(7 / 14)
