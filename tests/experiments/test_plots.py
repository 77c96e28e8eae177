"""Plots: axes, units and titles; every drawn figure checked against an independent computation from the frames.

The bands are checked to be 95% Student-t intervals over replications (recomputed here with scipy.stats) that
enclose the plotted mean; target lines sit at the target's level; bars and lines are counted.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from scipy import stats as st

from experiments.compare import Variant, compare
from experiments.optimize import OptimizationResult
from experiments.plots import (
    channel_thresholds,
    metric_unit,
    plot_agent_occupancy,
    plot_cost_breakdown,
    plot_forest,
    plot_pareto_front,
    plot_queue_and_agents,
    plot_sim_vs_actual,
    plot_sl_heatmap,
    plot_target_by_interval,
    plot_variants_by_interval,
)
from experiments.runner import run_experiment
from sim.config import Scenario
from sim.metrics import filter_intervals, service_level
from tests.conftest import TINY_SCENARIO

N = 4


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    data = copy.deepcopy(TINY_SCENARIO)
    data["groups"]["agents"]["staffing"]["always"] = 3  # some queueing, few empty intervals
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 900
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def result(scenario):
    return run_experiment(scenario, seed=3, n_replications=N, workers=1, progress=False)


def _t_half(values) -> float:
    x = np.asarray(values, dtype=float)
    return float(st.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def _band_at(ax, x: float) -> tuple[float, float]:
    """Vertical extent of the axis' first confidence band at abscissa ``x``."""
    band = next(c for c in ax.collections if isinstance(c, PolyCollection))
    ys = [v[1] for path in band.get_paths() for v in path.vertices if abs(v[0] - x) < 1e-9]
    return min(ys), max(ys)


def _line(ax, label: str):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def _assert_band_encloses(ax, line) -> int:
    checked = 0
    for x, y in line.get_xydata():
        if not np.isnan(y):
            low, high = _band_at(ax, x)
            assert low - 1e-9 <= y <= high + 1e-9
            checked += 1
    return checked


# ------------------------------------------------------------------------------------------------ per interval


def test_target_by_interval_draws_the_sl_and_frt_with_t_bands_and_the_target_line(scenario, result):
    target = scenario.targets[0]  # voice 80/20
    fig = plot_target_by_interval(result.intervals, scenario, target.name)
    assert isinstance(fig, Figure)
    ax_sl, ax_frt = fig.axes
    title = fig._suptitle.get_text()
    assert "voice 80/20" in title
    assert "tiny" in title
    assert f"{N} replications" in title
    assert ax_sl.get_ylabel() == "service level within 20s (%)"
    assert ax_frt.get_ylabel() in ("mean FRT of answered (s)", "mean FRT of answered (min)")
    assert "interval start" in ax_frt.get_xlabel()
    assert len(ax_sl.get_lines()) == 2
    assert len(ax_frt.get_lines()) == 2
    assert list(_line(ax_sl, "target 80%").get_ydata()) == [80.0, 80.0]
    scale = 1.0 if ax_frt.get_ylabel().endswith("(s)") else 60.0
    assert list(_line(ax_frt, "threshold 20s").get_ydata()) == [20.0 / scale] * 2

    # Independent: each replication's SL per interval from the raw counts, then the mean and t interval.
    measured = filter_intervals(result.intervals, warmup_s=scenario.measure_start_s, horizon_s=scenario.horizon)
    per_rep = measured.groupby(["interval_start_s", "replication"]).apply(
        lambda g: service_level(g, 20.0, scenario.reporting.sl_convention), include_groups=False
    )
    mean = _line(ax_sl, "SL within 20s")
    xs = date2num(pd.Timestamp(scenario.start) + pd.to_timedelta(per_rep.index.levels[0], unit="s"))
    assert len(mean.get_xydata()) == scenario.n_intervals - 1  # the warm-up hour is left out
    for x, start_s in zip(xs, per_rep.index.levels[0], strict=True):
        values = per_rep.loc[start_s].dropna()
        plotted = mean.get_xydata()[np.isclose(mean.get_xydata()[:, 0], x, rtol=0, atol=1e-6)][0, 1]
        assert plotted == pytest.approx(values.mean() * 100.0)
        low, high = _band_at(ax_sl, x)
        half = _t_half(values) * 100.0
        assert low == pytest.approx(max(values.mean() * 100.0 - half, 0.0), abs=1e-9)
        assert high == pytest.approx(min(values.mean() * 100.0 + half, 100.0), abs=1e-9)
    assert _assert_band_encloses(ax_frt, _line(ax_frt, "mean FRT of answered")) > 0


def test_target_by_interval_keeps_to_the_target_window_and_refuses_an_unknown_target(scenario, result):
    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"].append(
        {"name": "evening", "channel": "voice", "threshold": "20s", "level": 0.8,
         "window": {"start": "18:00", "end": "21:00"}, "aggregation": "every_interval"}
    )
    windowed = Scenario.model_validate(data)
    fig = plot_target_by_interval(result.intervals, windowed, "evening")
    line = _line(fig.axes[0], "SL within 20s")
    assert len(line.get_xydata()) == 3  # 18:00, 19:00, 20:00
    assert "window 18:00–21:00" in fig._suptitle.get_text()
    whole = plot_target_by_interval(result.intervals, windowed, "evening", whole_period=True)
    assert len(_line(whole.axes[0], "SL within 20s").get_xydata()) == scenario.n_intervals - 1
    with pytest.raises(ValueError, match="'nope' is not a target of scenario 'tiny'"):
        plot_target_by_interval(result.intervals, scenario, "nope")


def test_sl_heatmap_is_the_mean_interval_sl_per_channel(scenario, result):
    fig = plot_sl_heatmap(result.intervals, scenario)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    grid = np.asarray(mesh.get_array()).reshape(len(scenario.channels), -1)
    assert grid.shape == (1, scenario.n_intervals - 1)
    assert channel_thresholds(scenario) == {"voice": 20.0}
    measured = filter_intervals(result.intervals, warmup_s=scenario.measure_start_s, horizon_s=scenario.horizon)
    per_rep = measured.groupby(["interval_start_s", "replication"]).apply(
        lambda g: service_level(g, 20.0, scenario.reporting.sl_convention), include_groups=False
    )
    expected = per_rep.groupby(level=0).mean().to_numpy() * 100.0
    np.testing.assert_allclose(grid[0], expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["voice (20s)"]
    assert fig.axes[1].get_ylabel() == "service level (%)"  # the colour bar
    assert f"{N} replications" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match=r"not measured; measured thresholds \(s\): \[20.0, 300.0\]"):
        plot_sl_heatmap(result.intervals, scenario, 45.0)


def test_queue_and_agents_over_time(scenario, result):
    fig = plot_queue_and_agents(result.intervals, result.staffing, scenario)
    ax_q, ax_a = fig.axes
    assert [line.get_label() for line in ax_q.get_lines()] == ["voice"]
    assert [line.get_label() for line in ax_a.get_lines()] == ["agents logged in", "agents busy"]
    assert ax_q.get_ylabel() == "waiting contacts (time-weighted mean)"
    assert ax_a.get_ylabel() == "agents (time-weighted mean)"
    logged = _line(ax_a, "agents logged in").get_ydata()
    np.testing.assert_allclose(logged, 3.0)  # three agents on a 24 h shift, no breaks
    busy = _line(ax_a, "agents busy").get_ydata()
    staff = result.staffing[result.staffing["interval_start_s"] >= scenario.measure_start_s]
    np.testing.assert_allclose(busy, staff.groupby("interval_start_s")["busy"].mean().to_numpy())
    assert _assert_band_encloses(ax_q, _line(ax_q, "voice")) == scenario.n_intervals - 1
    assert "Queue length and agents" in fig._suptitle.get_text()


# ------------------------------------------------------------------------------------------------ agents, costs


def test_agent_occupancy_has_one_bar_per_agent(scenario, result):
    fig = plot_agent_occupancy(result.agents, scenario.name)
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    a = result.agents
    occ = (a["busy_s"] / (a["logged_in_s"] - a["break_s"])).groupby(a["agent_id"]).mean().sort_values() * 100.0
    np.testing.assert_allclose([p.get_height() for p in ax.patches], occ.to_numpy())
    assert ax.get_ylabel() == "occupancy (%)"
    assert f"tiny · {N} replications" in fig._suptitle.get_text()


def test_cost_breakdown_adds_up_to_the_recurring_cost(scenario, result):
    fig = plot_cost_breakdown(result.summary, scenario.name, currency="EUR")
    ax = fig.axes[0]
    s = result.summary.set_index(["metric", "scope"])
    assert len(fig.axes) == 1  # no one-off cost in this scenario
    assert [t.get_text() for t in ax.get_yticklabels()] == ["labor: agents"]
    assert sum(p.get_width() for p in ax.patches) == pytest.approx(s.loc[("recurring_cost_per_week", "all"), "mean"])
    assert ax.get_xlabel() == "recurring cost (EUR per week)"
    assert "EUR/week" in fig._suptitle.get_text()


def test_cost_breakdown_shows_every_component_and_one_off_costs_apart():
    rows = {
        ("labor_cost_per_week", "group=a"): 100.0, ("labor_cost_per_week", "group=b"): 50.0,
        ("bot_cost_per_week", "all"): 10.0, ("team_lead_cost_per_week", "all"): 20.0,
        ("leakage_cost_per_week", "all"): 5.0, ("recurring_cost_per_week", "all"): 185.0,
        ("one_off_training_cost", "all"): 300.0, ("one_off_bot_setup_cost", "all"): 0.0,
    }
    summary = pd.DataFrame(
        [{"metric": m, "scope": sc, "mean": v, "ci_half": 1.0, "n": 5} for (m, sc), v in rows.items()]
    )
    fig = plot_cost_breakdown(summary, "demo", currency="CNY")
    recurring, one_off = fig.axes
    assert [t.get_text() for t in recurring.get_yticklabels()] == [
        "labor: a", "labor: b", "bot fees", "team leads", "leakage"
    ]
    assert sum(p.get_width() for p in recurring.patches) == 185.0
    assert [t.get_text() for t in one_off.get_yticklabels()] == ["training"]  # a zero set-up cost is left out
    assert one_off.get_xlabel() == "one-off cost (CNY, paid once)"
    assert "5 replications" in fig._suptitle.get_text()


# ------------------------------------------------------------------------------------------------ studies


def _trials() -> pd.DataFrame:
    # (cost, worst margin): the front is 100/-0.10, 120/0.02, 150/0.05; 130/0.01 and 160/0.04 are dominated.
    points = [(100, -0.10), (120, 0.02), (130, 0.01), (150, 0.05), (160, 0.04)]
    return pd.DataFrame(
        [{"trial": i, "state": "COMPLETE", "cost": c, "replications": 4, "worst_margin": m}
         for i, (c, m) in enumerate(points)]
        + [{"trial": 5, "state": "PRUNED", "cost": 90.0, "replications": 3, "worst_margin": -0.5}]
    )


def test_pareto_front_from_a_trials_table_and_from_a_result():
    fig = plot_pareto_front(_trials(), "tiny", currency="CNY")
    ax = fig.axes[0]
    front = _line(ax, "Pareto front")
    assert front.get_xydata().tolist() == [[100.0, -10.0], [120.0, 2.0], [150.0, 5.0]]
    assert list(_line(ax, "every target at its level").get_ydata()) == [0.0, 0.0]
    others = ax.collections[0].get_offsets()
    assert sorted(others[:, 0].tolist()) == [130.0, 160.0]  # the pruned trial is not drawn
    assert ax.get_xlabel() == "recurring cost (CNY per week)"
    assert ax.get_ylabel() == "worst target margin (percentage points)"
    assert "4 replications per trial" in fig._suptitle.get_text()
    assert "5 trials" in fig._suptitle.get_text()

    trials = _trials()
    given = trials[trials["trial"].isin([1, 3])]
    result = OptimizationResult("s", "sqlite://", trials, pd.DataFrame(), None, None, given, out_dir=None)  # type: ignore[arg-type]
    ax = plot_pareto_front(result, "tiny").axes[0]
    assert _line(ax, "Pareto front").get_xydata()[:, 0].tolist() == [120.0, 150.0]


def _differences() -> pd.DataFrame:
    rows = []
    for variant, d_asa, d_sl, sig in (("more", -5.0, 0.04, True), ("fewer", 2.0, -0.01, False)):
        rows.append({"variant": variant, "metric": "asa_s", "scope": "channel=voice", "diff": d_asa,
                     "ci_low": d_asa - 1.5, "ci_high": d_asa + 1.5, "n": 6, "significant": sig})
        rows.append({"variant": variant, "metric": "sl_20s", "scope": "channel=voice", "diff": d_sl,
                     "ci_low": d_sl - 0.02, "ci_high": d_sl + 0.02, "n": 6, "significant": sig})
    return pd.DataFrame(rows)


def test_forest_plot_marks_significant_differences():
    fig = plot_forest(_differences(), scenario_name="tiny", baseline="base")
    ax_asa, ax_sl = fig.axes
    assert ax_asa.get_xlabel() == "difference in asa (s), channel=voice"
    assert ax_sl.get_xlabel() == "difference in sl_20s (%), channel=voice"
    assert [t.get_text() for t in ax_asa.get_yticklabels()] == ["more *", "fewer"]
    filled, hollow = ax_sl.collections[-2:]
    assert filled.get_offsets().tolist() == [[4.0, 0.0]]
    assert hollow.get_offsets().tolist() == [[-1.0, 1.0]]
    bars = next(c for c in ax_sl.collections if c.get_label() != "significant (Holm)" and len(c.get_segments()) == 2)
    spans = sorted((seg[0][0], seg[1][0]) for seg in bars.get_segments())
    assert spans == [pytest.approx((-3.0, 1.0)), pytest.approx((2.0, 6.0))]
    assert list(_line(ax_asa, ax_asa.get_lines()[-1].get_label()).get_xdata()) == [0.0, 0.0]
    title = fig._suptitle.get_text()
    assert "from base" in title
    assert "tiny · 6 replications" in title


def test_forest_plot_of_a_real_comparison(scenario):
    comparison = compare(scenario, [Variant("two agents", {"groups.agents.staffing.always": 2})],
                         n_replications=3, workers=1, progress=False, family=[("asa_s", "all"), ("occupancy", "all")])
    fig = plot_forest(comparison)
    assert len(fig.axes) == 2
    table = comparison.differences.set_index("metric")
    expected = table.loc["occupancy", "diff"] * 100.0
    assert fig.axes[1].collections[-2:][0 if table.loc["occupancy", "significant"] else 1].get_offsets()[0][0] == (
        pytest.approx(expected)
    )
    assert "from baseline" in fig._suptitle.get_text()
    assert "tiny · 3 replications" in fig._suptitle.get_text()


def test_sim_vs_actual_with_replications_and_a_missing_column():
    when = pd.date_range("2026-11-09 08:00", periods=6, freq="30min")
    rng = np.random.default_rng(1)
    simulated = pd.DataFrame(
        [{"replication": r, "interval_start": t, "sl_20s": rng.uniform(0.6, 0.9), "asa_s": rng.uniform(5, 30)}
         for r in range(5) for t in when]
    )
    actual = pd.DataFrame({"interval_start": when, "sl_20s": 0.8, "asa_s": 12.0})
    fig = plot_sim_vs_actual(simulated, actual, ["sl_20s", "asa_s"], "bank")
    ax_sl, ax_asa = fig.axes
    assert ax_sl.get_ylabel() == "sl_20s (%)"
    assert ax_asa.get_ylabel() == "asa (s)"
    assert [line.get_label() for line in ax_sl.get_lines()] == ["simulated", "actual"]
    np.testing.assert_allclose(_line(ax_sl, "actual").get_ydata(), 80.0)
    sim = _line(ax_asa, "simulated")
    np.testing.assert_allclose(sim.get_ydata(), simulated.groupby("interval_start")["asa_s"].mean().to_numpy())
    assert _assert_band_encloses(ax_asa, sim) == 6
    low, high = _band_at(ax_asa, sim.get_xydata()[0, 0])
    first = simulated[simulated["interval_start"] == when[0]]["asa_s"]
    assert high - low == pytest.approx(2 * _t_half(first))
    assert "bank · 5 replications" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match=r"actual frame lacks column\(s\) \['abandon_rate'\]"):
        plot_sim_vs_actual(simulated.assign(abandon_rate=0.1), actual, ["abandon_rate"], "bank")


def test_units_are_read_from_metric_names():
    assert metric_unit("frt_p90_s") == ("frt_p90", "s", 1.0)
    assert metric_unit("occupancy") == ("occupancy", "%", 100.0)
    assert metric_unit("target_attainment") == ("target_attainment", "%", 100.0)
    assert metric_unit("labor_cost_per_week", "CNY") == ("labor_cost_per_week", "CNY/week", 1.0)
    assert metric_unit("one_off_cost", "CNY") == ("one_off_cost", "CNY", 1.0)
    assert metric_unit("overtime_h") == ("overtime", "h", 1.0)
    assert metric_unit("offered") == ("offered", "count", 1.0)


def test_empty_inputs_give_a_clear_error_or_an_empty_front():
    empty = _differences().iloc[0:0]
    with pytest.raises(ValueError, match="no paired differences to plot"):
        plot_forest(empty, scenario_name="tiny", baseline="base")
    trials = _trials().iloc[0:0]
    ax = plot_pareto_front(trials, "tiny").axes[0]
    assert len(_line(ax, "Pareto front").get_xydata()) == 0


def test_variants_by_interval_draws_each_variant_the_target_line_and_the_outage(scenario, result):
    data = copy.deepcopy(TINY_SCENARIO)
    data["groups"]["agents"]["staffing"]["always"] = 3
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 900
    data["arrivals"]["outages"] = [{"channel": "voice", "start": "2026-11-09T12:00", "end": "2026-11-09T14:00"}]
    data["targets"].append(
        {"name": "evening", "channel": "voice", "threshold": "20s", "level": 0.8,
         "window": {"start": "11:00", "end": "16:00"}, "aggregation": "every_interval"}
    )
    outage = Scenario.model_validate(data)
    runs = {
        "no_plan": run_experiment(outage, seed=3, n_replications=N, workers=1, progress=False),
        "more_agents": run_experiment(outage.model_copy(update={"groups": {"agents": outage.groups["agents"].model_copy(
            update={"staffing": {"always": 4}})}}), seed=3, n_replications=N, workers=1, progress=False),
    }
    fig = plot_variants_by_interval(runs, outage, "evening")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "service level within 20s (%)"
    assert "interval start" in ax.get_xlabel()
    title = fig._suptitle.get_text()
    assert "'evening'" in title
    assert "window 11:00–16:00" in title
    assert f"tiny · {N} replications per variant" in title
    assert list(_line(ax, "target 80%").get_ydata()) == [80.0, 80.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no_plan", "more_agents", "target 80%",
                                                                     "voice outage"]
    # each variant's line is that variant's SL per interval, as plot_target_by_interval draws it (tested above)
    for name, run in runs.items():
        alone = _line(plot_target_by_interval(run.intervals, outage, "evening").axes[0], "SL within 20s")
        drawn = _line(ax, name)
        assert len(drawn.get_xydata()) == 5  # 11:00 ... 15:00
        np.testing.assert_allclose(drawn.get_xydata(), alone.get_xydata())
    # the first band is no_plan's CI; the outage hours have no voice contact, hence no SL: 3 points, not 5
    assert _assert_band_encloses(ax, _line(ax, "no_plan")) == 3
    # the outage is shaded over 12:00-14:00, inside the range shown
    (span,) = [p for p in ax.patches if p.get_label() == "voice outage"]
    xs = [span.get_x(), span.get_x() + span.get_width()]
    assert min(xs) == pytest.approx(date2num(pd.Timestamp("2026-11-09T12:00")))
    assert max(xs) == pytest.approx(date2num(pd.Timestamp("2026-11-09T14:00")))
    # an explicit range replaces the window; a range without the outage shades nothing
    late = plot_variants_by_interval({"no_plan": runs["no_plan"].intervals}, outage, "evening",
                                     start="2026-11-09T15:00", end="2026-11-09T18:00")
    assert len(_line(late.axes[0], "no_plan").get_xydata()) == 3
    assert not [p for p in late.axes[0].patches if p.get_label() == "voice outage"]
    assert "Mon 11-09 15:00–Mon 11-09 18:00" in late._suptitle.get_text()
    # a threshold in minutes (its SL column is named in the threshold's unit on newer trees): as drawn alone
    urgent = plot_variants_by_interval(runs, outage, "urgent 5 min", start="2026-11-09T15:00")
    alone = _line(plot_target_by_interval(runs["more_agents"].intervals, outage, "urgent 5 min").axes[0],
                  "SL within 5min")
    drawn = _line(urgent.axes[0], "more_agents").get_xydata()
    np.testing.assert_allclose(drawn, alone.get_xydata()[-len(drawn):])
    assert urgent.axes[0].get_ylabel() == "service level within 5min (%)"
    with pytest.raises(ValueError, match=r"variants \['nope'\] not in the results"):
        plot_variants_by_interval(runs, outage, "evening", variants=["nope"])
    with pytest.raises(ValueError, match="no interval of target 'evening' in the range shown"):
        plot_variants_by_interval(runs, outage, "evening", start="2026-11-20T00:00")
