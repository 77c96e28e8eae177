"""Scenario features for calibration (issue 10.1): staffing tables, wrap-up, patience rules, survival tables,
replayed rows' identity. Exact traces for the mechanics, theory for the stochastic parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from sim import run
from sim.arrivals.batch import Draws
from sim.config import Scenario, StaffingTable
from sim.distributions import SurvivalDist
from sim.engine.staffing_table import available_headcounts, table_roster
from sim.streams import Streams
from tests.sim.conftest import batch, scenario, simulate
from tests.stats_family import assert_covers, check_alpha

H = 3600.0
GROUP = {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"]}


def table(agents: dict[str, float], interval: str = "1h", availability: float = 1.0) -> dict:
    return {"interval": interval, "availability": availability, "agents": agents}


def table_scenario(agents: dict[str, float], availability: float = 1.0, **overrides) -> Scenario:
    group = {**GROUP, "staffing": {}, "staffing_table": table(agents, availability=availability)}
    return scenario(shifts={}, groups={"agents": group}, **overrides)


# ------------------------------------------------------------------------------------------ staffing tables


def test_staffing_table_logs_agents_in_and_out_at_interval_boundaries():
    # 2 agents 08-09, 3 agents 09-10, none from 10:00; fixed handle 100 s, nobody abandons.
    sc = table_scenario({"2026-11-09T08:00": 2, "2026-11-09T09:00": 3, "2026-11-09T10:00": 0})
    t = [7.5 * H, 7.5 * H + 60, 7.5 * H + 120, 9 * H + 10, 9 * H + 20, 9 * H + 30, 9 * H + 40, 10 * H - 10, 10 * H + 10]
    res = simulate(sc, [batch(t)])
    df = res.contacts.set_index("contact_id")
    # Before 08:00 nobody is on: the first two start at 08:00, the third when agent 0 frees at 08:01:40.
    assert df.service_start_s.tolist()[:3] == [8 * H, 8 * H, 8 * H + 100]
    assert df.agent_id.tolist()[:3] == [0, 1, 0]
    # 09:00 agent 2 logs in. Longest available first: agent 1 (since 08:01:40), agent 0 (08:03:20), agent 2
    # (09:00); the fourth contact of the hour waits for agent 1 (free at 09:01:50).
    assert df.agent_id.tolist()[3:7] == [1, 0, 2, 1]
    assert df.service_start_s.tolist()[3:7] == [9 * H + 10, 9 * H + 20, 9 * H + 30, 9 * H + 110]
    # The contact at 09:59:50 is taken (by agent 0, available longest) and finished in overtime; the one at
    # 10:00:10 finds nobody and waits until the horizon.
    assert df.agent_id.iloc[7] == 0
    assert df.service_end_s.iloc[7] == 10 * H + 90
    assert df.outcome.iloc[8] == "censored"
    agents = res.agents.set_index("agent_id")
    assert agents["shift"].tolist() == ["table"] * 3
    assert agents.logged_in_s.tolist() == [2 * H + 90, 2 * H, H]
    assert agents.overtime_s.tolist() == [90.0, 0.0, 0.0]
    assert agents.paid_s.tolist() == [2 * H + 90, 2 * H, H]  # availability 1: paid = the table + overtime
    staffing = res.staffing.set_index("interval")
    assert staffing.logged_in.loc[[7, 8, 9]].tolist() == [0.0, 2.0, 3.0]
    assert staffing.logged_in.loc[10] == pytest.approx(90 / H)


def test_availability_rounds_by_carrying_the_remainder_and_pays_the_tabled_headcount():
    agents = {"2026-11-09T08:00": 3.0, "2026-11-09T09:00": 3.0, "2026-11-09T10:00": 3.0}
    _starts, n, _tabled = available_headcounts(StaffingTable.model_validate(table(agents, availability=0.5)))
    assert n.tolist() == [2, 1, 2]  # 1.5 a slot: running sums 1.5, 3, 4.5 round to 2, 3, 5
    sc = table_scenario(agents, availability=0.5)
    sc = sc.model_copy(update={"groups": {"agents": sc.groups["agents"].model_copy(update={"hourly_cost": 10.0})}})
    res = simulate(sc, [batch([])])
    ag = res.agents.set_index("agent_id")
    assert ag.logged_in_s.tolist() == [3 * H, 2 * H]  # agent 1 only in the 1-agent-short slots' complement
    assert res.staffing.set_index("interval").logged_in.loc[[8, 9, 10]].tolist() == [2.0, 1.0, 2.0]
    # Paid: the tabled 9 agent-hours (availability is paid but not on the phones), shared in proportion.
    assert ag.paid_s.sum() == pytest.approx(9 * H)
    assert ag.cost.sum() == pytest.approx(90.0)
    assert ag.paid_s.tolist() == pytest.approx([9 * H * 3 / 5, 9 * H * 2 / 5])


def test_running_rounding_keeps_the_mean_headcount():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 20, 200).round(1)
    agents = {(pd.Timestamp("2026-11-09") + pd.Timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M"): float(v)
              for k, v in enumerate(x)}  # fmt: skip
    _, n, _ = available_headcounts(StaffingTable.model_validate(table(agents, "30min", 0.85)))
    exact = x * 0.85
    assert np.all((n == np.floor(exact + 1e-9)) | (n == np.ceil(exact - 1e-9)))
    assert abs(n.sum() - exact.sum()) <= 0.5 + 1e-9


def test_constant_staffing_table_equals_the_shift_based_scenario():
    """Oracle: 14 agents tabled every half-hour of 3 days give the same run as a 24 h shift of 14 agents."""
    from sim.config import single_queue

    shift_sc = single_queue(arrival_rate_per_s=100 / 1800, mean_handle_s=180, n_agents=14, horizon="3d")
    agents = {(pd.Timestamp("2026-11-09") + pd.Timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M"): 14.0
              for k in range(3 * 48)}  # fmt: skip
    group = shift_sc.groups["agents"].model_copy(
        update={"staffing": {}, "staffing_table": StaffingTable.model_validate(table(agents, "30min"))}
    )
    table_sc = shift_sc.model_copy(update={"groups": {"agents": group}})
    a = run(shift_sc, seed=5, log=True)
    b = run(table_sc, seed=5, log=True)
    pd.testing.assert_frame_equal(a.contacts, b.contacts)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.staffing, b.staffing)
    cols = ["logged_in_s", "busy_s", "paid_s", "handled", "cost"]
    pd.testing.assert_frame_equal(a.agents[cols], b.agents[cols])


R_TABLE = 60


@pytest.mark.slow
def test_constant_staffing_table_meets_erlang_c():
    """M/M/14 staffed by a table (14 agents every half-hour): SL(20 s), P(wait > 0) and ASA are Erlang C's."""
    from sim.config import single_queue
    from sim.erlang import erlang_c

    rate, handle = 100 / 1800, 180.0
    base = single_queue(arrival_rate_per_s=rate, mean_handle_s=handle, n_agents=14, horizon="3d", warmup="2h",
                        interval="1h", sl_convention="ignore_abandons")  # fmt: skip
    agents = {(pd.Timestamp("2026-11-09") + pd.Timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M"): 14.0
              for k in range(3 * 48)}  # fmt: skip
    group = base.groups["agents"].model_copy(
        update={"staffing": {}, "staffing_table": StaffingTable.model_validate(table(agents, "30min"))}
    )
    sc = base.model_copy(update={"groups": {"agents": group}, "shifts": {}})
    sl, p_wait, asa = [], [], []
    for rep in range(R_TABLE):
        iv = run(sc, seed=23, replication=rep).intervals
        iv = iv[iv.interval_start_s >= sc.warmup]
        ans = iv.answered.sum()
        sl.append(iv["answered_within_20s"].sum() / ans)
        p_wait.append(iv.delayed.sum() / ans)
        asa.append(iv.wait_answered_s.sum() / ans)
    theory = erlang_c(rate, handle, 14)
    assert_covers(np.asarray(sl), theory.service_level(20), "table M/M/14: SL(20 s)")
    assert_covers(np.asarray(p_wait), theory.p_wait, "table M/M/14: P(wait > 0)")
    assert_covers(np.asarray(asa), theory.asa_s, "table M/M/14: ASA (s)")


def test_table_roster_is_empty_without_tables():
    assert table_roster(scenario()) == ([], {})


@pytest.mark.parametrize(
    ("bad", "where", "says"),
    [
        (table({"2026-11-09T09:00": 1, "2026-11-09T08:00": 1}), "staffing_table", "times must strictly increase"),
        (table({"2026-11-09T08:00": 1, "2026-11-09T08:00:00": 1}), "staffing_table", "is the same time as"),
        (table({"2026-11-09T08:00": -2}), "staffing_table.agents.2026-11-09T08:00", "greater than or equal to 0"),
        (table({}, interval="7min"), "staffing_table", "does not divide the day"),
        (table({"2026-11-09T08:10": 1}, interval="30min"), "staffing_table", "not on the 30min grid"),
        (table({}, availability=0.0), "staffing_table.availability", "greater than 0"),
        (table({}, availability=1.5), "staffing_table.availability", "less than or equal to 1"),
        (table({"09:00": 1}), "staffing_table", "not a local date and time"),
    ],
)
def test_bad_staffing_tables_are_refused_with_the_field_path(bad, where, says):
    with pytest.raises(ValidationError) as err:
        scenario(shifts={}, groups={"agents": {**GROUP, "staffing": {}, "staffing_table": bad}})
    text = str(err.value)
    assert f"groups.agents.{where}" in text
    assert says in text


def test_a_group_needs_shifts_or_a_table():
    with pytest.raises(ValidationError, match=r"needs staffing \(agents per shift\) or a staffing_table"):
        scenario(shifts={}, groups={"agents": {**GROUP, "staffing": {}}})


# ------------------------------------------------------------------------------------------------ wrap-up


def wrap_scenario(wrap: str = "30s", **overrides) -> Scenario:
    return scenario(
        channels={"voice": {"patience": {"dist": "none"}, "wrap_up": {"dist": "fixed", "value": wrap}}}, **overrides
    )


def test_wrap_up_delays_the_next_start_by_exactly_the_wrap():
    res = simulate(wrap_scenario("30s"), [batch([0, 10, 20])])
    df = res.contacts
    # One agent, handle 100 s, wrap 30 s: services 0-100, 130-230, 260-360; waits unaffected by the wrap
    # beyond the agent being busy (FRT = start - arrival).
    assert df.service_start_s.tolist() == [0.0, 130.0, 260.0]
    assert df.service_end_s.tolist() == [100.0, 230.0, 360.0]
    assert df.handle_s.tolist() == [100.0, 100.0, 100.0]
    assert df.wrap_s.tolist() == [30.0, 30.0, 30.0]
    assert df.first_response_s.tolist() == [0.0, 120.0, 240.0]
    agent = res.agents.iloc[0]
    assert agent.busy_s == pytest.approx(390.0)  # handle + wrap: occupancy counts the wrap-up
    assert agent.handled == 3
    busy = res.staffing.set_index("interval").busy.loc[0]
    assert busy == pytest.approx(390.0 / H)


def test_intent_wrap_overrides_the_channel_and_no_wrap_means_the_old_engine():
    sc = wrap_scenario("30s", intents={"general": {"handle": {"dist": "fixed", "value": "100s"},
                                                   "wrap_up": {"dist": "fixed", "value": "5s"}}})  # fmt: skip
    assert simulate(sc, [batch([0, 10])]).contacts.service_start_s.tolist() == [0.0, 105.0]
    plain = simulate(scenario(), [batch([0, 10])]).contacts
    assert plain.service_start_s.tolist() == [0.0, 100.0]
    assert plain.wrap_s.tolist() == [0.0, 0.0]


def test_a_wrap_up_that_never_ends_is_refused():
    with pytest.raises(ValidationError, match=r"channels\.voice\n[\s\S]*wrap_up must be a finite duration"):
        scenario(channels={"voice": {"wrap_up": {"dist": "none"}}})
    with pytest.raises(ValidationError, match=r"intents\.general\n[\s\S]*wrap_up must be a finite duration"):
        scenario(intents={"general": {"wrap_up": {**SURV, "tail": "none"}}})


def test_logout_waits_for_the_wrap_up_and_it_is_overtime():
    sc = wrap_scenario(
        "60s",
        shifts={"day": {"start": "08:00", "length": "1h"}},
        groups={"agents": {**GROUP, "staffing": {"day": 1}}},
    )
    res = simulate(sc, [batch([9 * H - 50])])
    agent = res.agents.iloc[0]
    assert res.contacts.service_end_s.iloc[0] == 9 * H + 50
    assert agent.overtime_s == pytest.approx(110.0)  # 50 s of handle + 60 s of wrap-up past 09:00
    assert agent.logged_in_s == pytest.approx(H + 110.0)


def test_wrap_up_at_the_horizon_keeps_the_agent_busy_until_it():
    res = simulate(wrap_scenario("300s", horizon="1000s"), [batch([800])])
    assert res.contacts.outcome.iloc[0] == "served"
    assert res.contacts.service_end_s.iloc[0] == 900.0
    assert res.agents.busy_s.iloc[0] == pytest.approx(200.0)


def test_wrap_up_draws_leave_the_other_streams_alone():
    base = {"kind": "generated", "channels": {"voice": {"daily_volume": 2000, "intent_mix": {"general": 1}}}}
    handle = {"dist": "exponential", "mean": "2min"}
    plain = scenario(arrivals=base, intents={"general": {"handle": handle}})
    channels = {"voice": {"patience": {"dist": "none"}, "wrap_up": {"dist": "exponential", "mean": "20s"}}}
    wrapped = Scenario.model_validate({**plain.model_dump(mode="json"), "channels": channels})
    a = run(plain, seed=3, log=True).contacts
    b = run(wrapped, seed=3, log=True).contacts
    # Same customers: arrival times and handle draws (proficiency 1) are identical; only the agents differ.
    assert a.arrival_s.tolist() == b.arrival_s.tolist()
    finished = (b.outcome == "served") & b.service_end_s.notna()
    assert finished.sum() > 100
    assert (b.wrap_s[finished] > 0).all()
    assert (b.wrap_s[~finished] == 0).all()
    # One agent, FIFO: the wrapped run serves a prefix of the same customers with the same handle times.
    ha, hb = a.handle_s.to_numpy(), b.handle_s.to_numpy()
    ha, hb = ha[np.isfinite(ha)], hb[np.isfinite(hb)]
    assert 0 < len(hb) < len(ha)
    np.testing.assert_array_equal(ha[: len(hb)], hb)


R_WRAP = 40


WRAP_SC = {
    "name": "mmc_wrap",
    "horizon": "2d",
    "warmup": "2h",
    "channels": {"voice": {"patience": {"dist": "none"}, "short_abandon": "0s",
                           "wrap_up": {"dist": "fixed", "value": "60s"}}},
    "intents": {"general": {"handle": {"dist": "exponential", "mean": "3min"}}},
    "arrivals": {"kind": "generated", "channels": {"voice": {"daily_volume": 2400, "intent_mix": {"general": 1}}}},
    "shifts": {"always": {"start": "00:00", "length": "24h"}},
    "groups": {"agents": {**GROUP, "staffing": {"always": 8}}},
    "reporting": {"interval": "1h"},
}  # fmt: skip


def test_wrap_up_busy_time_is_every_service_plus_its_wrap_up():
    """Occupancy accounting, exact: the agents' busy time is the sum of (service + wrap-up) cut at the horizon."""
    sc = Scenario.model_validate({**WRAP_SC, "horizon": "6h", "warmup": "0s"})
    res = run(sc, seed=1, log=True)
    c = res.contacts[res.contacts.outcome == "served"]
    end = np.where(c.service_end_s.notna(), c.service_end_s + c.wrap_s, sc.horizon)
    busy = np.minimum(end, sc.horizon) - c.service_start_s
    assert len(c) > 500
    assert (c.wrap_s[c.service_end_s.notna()] == 60.0).all()
    assert res.agents.busy_s.sum() == pytest.approx(busy.sum(), rel=1e-12)
    measured = (res.staffing.busy * 3600.0).sum()  # time-weighted busy agents, hour by hour
    assert measured == pytest.approx(busy.sum(), rel=1e-9)


@pytest.mark.slow
def test_wrap_up_busy_agents_obey_littles_law():
    """M/M/8 with a fixed 60 s wrap-up: mean busy agents = arrival rate x (mean handle + wrap) (Little's law)."""
    sc = Scenario.model_validate(WRAP_SC)
    busy = []
    for rep in range(R_WRAP):
        st = run(sc, seed=17, replication=rep).staffing
        busy.append(st[st.interval_start_s >= sc.warmup].busy.mean())  # equal 1 h intervals after warm-up
    expected = 2400 / 86400 * (180.0 + 60.0)  # 6.67 of 8 agents busy: the queue is stable (0.83)
    assert_covers(np.asarray(busy), expected, "M/M/8 + 60 s wrap: mean busy agents vs lambda (E[S] + w)")


# ---------------------------------------------------------------------------------------- patience rules

RULES = [
    {"priority": "urgent", "from": "07:00", "to": "12:00", "patience": {"dist": "fixed", "value": "10s"}},
    {"priority": "normal", "patience": {"dist": "fixed", "value": "20s"}},
]


def rules_scenario(**overrides) -> Scenario:
    intent = {"handle": {"dist": "fixed", "value": "100s"}, "patience": {"dist": "fixed", "value": "30s"},
              "patience_by": RULES, "urgent_share": 0.5}  # fmt: skip
    return scenario(channels={"voice": {"patience": {"dist": "fixed", "value": "40s"}}}, intents={"general": intent},
                    **overrides)  # fmt: skip


def test_patience_by_picks_the_first_matching_rule_at_11_59_vs_12_00():
    sc = rules_scenario()
    draws = Draws(sc, Streams(1))
    t = np.array([11 * H + 59 * 60, 12 * H, 11 * H + 59 * 60, 12 * H, 6 * H + 59 * 60 + 59])
    prio = np.array([1, 1, 0, 0, 1])
    assert draws.patience_at("voice", "general", t, prio).tolist() == [10.0, 30.0, 20.0, 20.0, 30.0]


def test_patience_by_wraps_past_midnight_and_uses_local_time():
    night = [{"from": "22:00", "to": "02:00", "patience": {"dist": "fixed", "value": "5s"}}]
    intent = {"patience": {"dist": "fixed", "value": "30s"}, "patience_by": night}
    sc = scenario(start="2026-11-09T20:00", intents={"general": intent})  # sim time 0 is 20:00 local
    draws = Draws(sc, Streams(1))
    t = np.array([2 * H - 1, 2 * H, 6 * H - 1, 6 * H])  # 21:59:59, 22:00, 01:59:59, 02:00
    assert draws.patience_at("voice", "general", t, np.zeros(4, dtype=np.int8)).tolist() == [30.0, 5.0, 5.0, 30.0]


def test_generated_contacts_get_their_rule_s_patience():
    arrivals = {"kind": "generated", "channels": {"voice": {"daily_volume": 3000, "intent_mix": {"general": 1}}}}
    res = run(rules_scenario(arrivals=arrivals), seed=2, log=True)
    c = res.contacts
    tod = c.arrival_s % 86400.0
    urgent = c.priority == "urgent"
    expected = np.where(urgent & (tod >= 7 * H) & (tod < 12 * H), 10.0, np.where(urgent, 30.0, 20.0))
    assert len(c) > 2000
    assert urgent.any()
    assert (~urgent).any()
    np.testing.assert_array_equal(c.patience_s.to_numpy(), expected)


def test_patience_by_draws_leave_the_other_streams_alone():
    arrivals = {"kind": "generated", "channels": {"voice": {"daily_volume": 500, "intent_mix": {"general": 1}}}}
    intent = {"handle": {"dist": "exponential", "mean": "2min"}, "urgent_share": 0.3,
              "patience": {"dist": "exponential", "mean": "5min"}}  # fmt: skip
    plain = scenario(arrivals=arrivals, intents={"general": intent})
    ruled = scenario(arrivals=arrivals, intents={"general": {**intent, "patience_by": [
        {"priority": "urgent", "patience": {"dist": "exponential", "mean": "1min"}}]}})  # fmt: skip
    a = run(plain, seed=4, log=True).contacts
    b = run(ruled, seed=4, log=True).contacts
    assert a.arrival_s.tolist() == b.arrival_s.tolist()
    assert a.priority.tolist() == b.priority.tolist()
    normal = (a.priority == "normal").to_numpy()
    # Contacts no rule matches draw from the intent's stream in arrival order: the normal ones take its first
    # draws, so they match the plain run's draws up to their count.
    plain_draws = Draws(plain, Streams(4)).patience("voice", "general", int(normal.sum()))
    np.testing.assert_allclose(np.sort(b.patience_s.to_numpy()[normal]), np.sort(plain_draws))


# -------------------------------------------------------------------------------------------- survival table

SURV = {"dist": "survival", "times": ["0s", "30s", "2min", "10min"], "survival": [1.0, 0.93, 0.8, 0.5]}


def test_survival_table_sampling_matches_its_curve_by_a_ks_test():
    d = SurvivalDist.model_validate(SURV)
    x = d.sample(np.random.default_rng(8), 20_000)
    result = stats.kstest(x, lambda t: 1.0 - d.survival_at(t))
    # The KS statistic's p-value: the curve is rejected at the suite's per-check level only by chance.
    assert result.pvalue > check_alpha(), f"KS D = {result.statistic:.4f}, p = {result.pvalue:.3g}"


def test_survival_table_inverse_and_mean_are_exact():
    d = SurvivalDist.model_validate(SURV)
    assert d.quantile_s(np.array([0.93, 0.865, 0.8, 0.65, 0.5])).tolist() == pytest.approx([30, 75, 120, 360, 600])
    h = math.log(0.8 / 0.5) / 480.0
    assert d.tail_hazard_per_s == pytest.approx(h)
    assert float(d.quantile_s(0.25)) == pytest.approx(600 + math.log(2) / h)
    area = 30 * (1 + 0.93) / 2 + 90 * (0.93 + 0.8) / 2 + 480 * (0.8 + 0.5) / 2
    assert d.mean_s == pytest.approx(area + 0.5 / h)
    none_tail = SurvivalDist.model_validate({**SURV, "tail": "none"})
    assert math.isinf(float(none_tail.quantile_s(0.2)))
    assert math.isinf(none_tail.mean_s)
    ends = SurvivalDist.model_validate({"dist": "survival", "times": ["0s", "1min"], "survival": [1.0, 0.0]})
    assert ends.mean_s == pytest.approx(30.0)
    assert float(ends.quantile_s(0.25)) == pytest.approx(45.0)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"survival": [1.0, 0.93, 0.95, 0.5]}, "survival must not increase"),
        ({"times": ["0s", "2min", "30s", "10min"]}, "times must strictly increase"),
        ({"times": ["0s", "30s", "30s", "10min"]}, "times must strictly increase"),
        ({"times": ["5s", "30s", "2min", "10min"]}, "times must start at 0s"),
        ({"survival": [0.9, 0.8, 0.7, 0.5]}, "survival must start at 1.0"),
        ({"survival": [1.0, 0.9, 0.5, 0.5]}, "exponential tail needs a last segment that falls"),
        ({"survival": [1.0, 0.9, 0.8]}, "same length"),
        ({"survival": [1.0, 0.9, 0.8, 1.2]}, "less than or equal to 1"),
    ],
)
def test_bad_survival_tables_are_refused_with_the_field_path(change, says):
    intent = {"patience": {**SURV, **change}}
    with pytest.raises(ValidationError) as err:
        scenario(intents={"general": intent})
    text = str(err.value)
    assert "intents.general.patience" in text
    assert says in text


def test_bad_patience_rules_are_refused():
    bad = {"priority": "high", "patience": {"dist": "none"}}
    with pytest.raises(ValidationError, match=r"intents\.general\.patience_by\.0\.priority"):
        scenario(intents={"general": {"patience_by": [bad]}})
    with pytest.raises(ValidationError, match=r"intents\.general\.patience_by\.0\.from"):
        scenario(intents={"general": {"patience_by": [{"from": "25:00", "patience": {"dist": "none"}}]}})


def test_rules_and_tables_survive_a_dump_and_reload():
    sc = rules_scenario()
    sc = sc.model_copy(update={"groups": table_scenario({"2026-11-09T08:00": 2.5}, 0.8).groups})
    assert Scenario.model_validate(sc.model_dump(mode="json")) == sc
    assert sc.model_dump(mode="json")["intents"]["general"]["patience_by"][0]["from"] == "07:00"


# ------------------------------------------------------------------------------------------- reproducibility


def test_same_seed_same_frames_with_every_feature():
    agents = {(pd.Timestamp("2026-11-09") + pd.Timedelta(hours=k)).strftime("%Y-%m-%dT%H:%M"): 3.0 + (k % 5) * 0.7
              for k in range(24)}  # fmt: skip
    arrivals = {"kind": "generated", "channels": {"voice": {"daily_volume": 600, "intent_mix": {"general": 1}}}}
    sc = rules_scenario(arrivals=arrivals)
    group = table_scenario(agents, 0.85).groups
    channel = {"voice": {"patience": {"dist": "exponential", "mean": "2min"},
                         "wrap_up": {"dist": "lognormal", "mean": "20s", "cv": 0.5}}}  # fmt: skip
    sc = Scenario.model_validate({**sc.model_dump(mode="json"), "shifts": {}, "channels": channel,
                                  "groups": {k: v.model_dump(mode="json") for k, v in group.items()}})  # fmt: skip
    a, b = run(sc, seed=9, log=True), run(sc, seed=9, log=True)
    for name in ("contacts", "intervals", "staffing", "agents"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    c = run(sc, seed=10, log=True)
    assert not a.contacts.wrap_s.equals(c.contacts.wrap_s)


# --------------------------------------------------------------------------------------- replayed identities


def test_replayed_contacts_keep_their_log_row_and_passthrough_columns(tmp_path):
    from experiments.replay import load_replay_log

    # Rows out of time order, one outside the window, one dropped on purpose, an empty cell in a passthrough.
    log = pd.DataFrame(
        {
            "call_id": [101, 102, 103, 104, 105, 106],
            "when": ["2026-11-09 08:00:30", "2026-11-09 08:00:10", "2026-11-10 09:00:00", "2026-11-09 08:05:00",
                     "2026-11-09 08:01:00", "2026-11-09 08:02:00"],
            "vru_line": ["AA0101", "", "AA0103", "AA0104", "AA0105", "AA0106"],
            "ser_time": [30, 40, 50, 60, 70, 80],
            "outcome": ["AGENT", "AGENT", "AGENT", "AGENT", "PHANTOM", "HANG"],
        }
    )  # fmt: skip
    path = tmp_path / "calls.csv"
    log.to_csv(path, index=False)
    arrivals = {"kind": "replay", "path": str(path), "columns": {"arrival": "when", "handle": "ser_time"},
                "defaults": {"channel": "voice", "intent": "general"}, "drop": {"outcome": ["PHANTOM"]},
                "passthrough": ["call_id", "vru_line"]}  # fmt: skip
    sc = scenario(horizon="12h", arrivals=arrivals)
    replay = load_replay_log(sc)
    res = run(sc, seed=1, log=True, replay=replay)
    c = res.contacts.sort_values("arrival_s")
    # Replayed in time order: rows 1, 0, 5, 3 (row 2 is after the window, row 4 dropped).
    assert c.source_row.tolist() == [1, 0, 5, 3]
    assert c.log_call_id.tolist() == ["102", "101", "106", "104"]
    assert c.log_vru_line.tolist() == ["", "AA0101", "AA0106", "AA0104"]
    # One to one with the log: the arrival time and the handle time are those of the row it names.
    when = pd.to_datetime(log.when.iloc[c.source_row]) - pd.Timestamp("2026-11-09")
    np.testing.assert_array_equal(c.arrival_s.to_numpy(), when.dt.total_seconds().to_numpy())
    np.testing.assert_array_equal(c.handle_s.to_numpy(), log.ser_time.iloc[c.source_row].to_numpy(dtype=float))
    # Without the log kept, nothing is tagged; without passthrough, no log_ columns.
    assert run(sc, seed=1, replay=replay).contacts is None
    plain = sc.model_copy(update={"arrivals": sc.arrivals.model_copy(update={"passthrough": []})})
    cols = run(plain, seed=1, log=True, replay=load_replay_log(plain)).contacts.columns
    assert "source_row" in cols
    assert not any(str(col).startswith("log_") for col in cols)


def test_contacts_not_from_a_log_have_source_row_minus_one():
    res = simulate(scenario(), [batch([0.0, 5.0])])
    assert res.contacts.source_row.tolist() == [-1, -1]


def test_passthrough_names_must_be_distinct():
    arrivals = {"kind": "replay", "path": "x.csv", "columns": {"arrival": "t"}, "defaults": {"channel": "voice",
                "intent": "general"}, "passthrough": ["call_id", "call_id"]}  # fmt: skip
    with pytest.raises(ValidationError, match=r"arrivals\.replay\.passthrough[\s\S]*listed twice"):
        scenario(arrivals=arrivals)


def test_budget_counts_a_table_s_agents_on_duty():
    from sim import budget

    sc = table_scenario({"2026-11-09T08:00": 2, "2026-11-09T09:00": 3, "2026-11-09T10:00": 0})
    bounds = np.array([0, 8 * H, 8.5 * H, 9.5 * H, 10 * H, 24 * H])
    np.testing.assert_allclose(budget._on_duty(sc, bounds)["agents"], [0.0, 2.0, 2.5, 3.0, 0.0])
    assert budget.estimate(sc).agents == 3
    assert not any("0 agents on the roster" in w for w in budget.scenario_warnings(sc))


# ------------------------------------------------------------------------- invariants with every feature on


def mixed_with_features() -> Scenario:
    from tests.sim.test_invariants import mixed_scenario

    d = mixed_scenario(horizon="1d").model_dump(mode="json")
    d["channels"]["voice"]["wrap_up"] = {"dist": "lognormal", "mean": "30s", "cv": 0.5}
    d["channels"]["chat"]["wrap_up"] = {"dist": "exponential", "mean": "15s"}
    d["intents"]["billing"]["wrap_up"] = {"dist": "fixed", "value": "20s"}
    d["intents"]["billing"]["patience_by"] = [
        {"priority": "urgent", "from": "08:00", "to": "18:00", "patience": SURV},
    ]
    agents = {(pd.Timestamp("2026-11-09T06:00") + pd.Timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M"):
              2.0 + (k % 7) * 0.6 for k in range(48)}  # fmt: skip
    d["groups"]["voice_zh"]["staffing_table"] = table(agents, "30min", 0.8)
    d["groups"]["voice_zh"]["staffing"] = {"night": 1}
    return Scenario.model_validate(d)


def run_center(sc: Scenario, **kwargs):
    from sim.arrivals import iter_arrivals
    from sim.engine import ContactCenter

    streams = Streams(3, 0)
    center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=True, **kwargs)
    center.run()
    return center, center.result(0, 3, 0.0)


def test_with_every_feature_each_arrival_has_one_outcome_and_the_modes_agree():
    from sim.defaults import LongestIdleRouting

    sc = mixed_with_features()
    center, res = run_center(sc)
    c = res.contacts
    assert center.n_arrivals == (~c.repeat).sum()  # conservation: one row per arrival (plus repeat contacts)
    assert c.contact_id.is_unique
    assert (c.wrap_s[c.outcome == "served"] > 0).mean() > 0.9
    assert (res.agents["shift"] == "table").sum() > 0
    _, plain = run_center(sc, eager_arrivals=False)
    for col in ("contact_id", "outcome", "agent_id", "channel", "wrap_s"):
        assert (c[col] == plain.contacts[col]).all(), col
    for col in ("arrival_s", "service_start_s", "service_end_s", "wait_s"):
        np.testing.assert_allclose(c[col], plain.contacts[col], rtol=0, atol=1e-6, err_msg=col)
    _, generic = run_center(sc, routing=LongestIdleRouting(), fast_paths=False)
    pd.testing.assert_frame_equal(c, generic.contacts)
    streamed = run(sc, seed=3, replication=0, log=False)
    for name in ("intervals", "staffing", "agents"):
        pd.testing.assert_frame_equal(getattr(streamed, name), getattr(res, name), check_exact=False, rtol=1e-9)


def test_a_passthrough_column_missing_from_the_log_is_refused(tmp_path):
    from experiments.replay import load_replay_log
    from sim.arrivals import ReplayError

    path = tmp_path / "calls.csv"
    pd.DataFrame({"when": ["2026-11-09 08:00:00"], "x": [1]}).to_csv(path, index=False)
    arrivals = {"kind": "replay", "path": str(path), "columns": {"arrival": "when"},
                "defaults": {"channel": "voice", "intent": "general"}, "passthrough": ["call_id"]}  # fmt: skip
    with pytest.raises(ReplayError, match=r"column\(s\) \['call_id'\] not in the file"):
        load_replay_log(scenario(arrivals=arrivals))
