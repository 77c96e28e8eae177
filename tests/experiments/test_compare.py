"""Compare and sweep: common random numbers, paired differences, Holm's correction, sequential replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.compare import Variant, compare, holm, read_grid, read_variants, sweep_variants
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from tests.conftest import TINY_SCENARIO

MORE = Variant("three agents", {"groups.agents.staffing.always": 3})


@pytest.fixture(scope="module")
def tiny():
    return scenario_from_dict(TINY_SCENARIO)


def test_holm_by_hand():
    # Sorted p: 0.01 (x3), 0.03 (x2), 0.04 (x1) -> 0.03, 0.06, 0.06 (monotone), in the input order.
    assert holm([0.01, 0.04, 0.03]).round(6).tolist() == [0.03, 0.06, 0.06]
    assert np.isnan(holm([np.nan, 0.2])[0])
    assert holm([np.nan, 0.2])[1] == 0.2  # NaN is not in the family


def test_holm_controls_the_family_wise_error_rate():
    """20 true null hypotheses per family, 4,000 families: the share of families with any rejection at 0.05
    stays at most 0.05 (plus 3 binomial standard errors); uncorrected it would be about 1 - 0.95**20 = 64%."""
    rng = np.random.default_rng(7)
    p = rng.uniform(size=(4000, 20))
    any_rejected = np.array([(holm(row) < 0.05).any() for row in p])
    assert any_rejected.mean() <= 0.05 + 3 * (0.05 * 0.95 / 4000) ** 0.5
    assert (p < 0.05).any(axis=1).mean() > 0.5


def test_a_variant_that_changes_nothing_differs_by_exactly_zero(tiny):
    same = Variant("same", {"description": "another text, same center"})
    result = compare(tiny, [same, MORE], n_replications=3, workers=1, progress=False)
    diffs = result.differences.set_index(["variant", "metric", "scope"])
    same_rows = diffs.loc["same"]
    assert (same_rows["diff"] == 0).all()  # common random numbers: the same contacts, the same outcomes
    assert not same_rows["significant"].any()
    more = diffs.loc[("three agents", "asa_s", "channel=voice")]
    assert more["diff"] < 0
    assert more["ci_high"] < 0
    assert more["significant"]
    assert set(result.results) == {"baseline", "same", "three agents"}
    assert result.replications == 3


def test_paired_difference_is_the_mean_of_per_replication_differences(tiny):
    result = compare(tiny, [MORE], n_replications=4, workers=1, progress=False, family=[("asa_s", "all")])
    a = result.results["three agents"].metrics
    b = result.results["baseline"].metrics
    pick = lambda m: m[(m.metric == "asa_s") & (m.scope == "all")].set_index("replication")["value"]  # noqa: E731
    diff = pick(a) - pick(b)
    row = result.differences.iloc[0]
    assert row["diff"] == pytest.approx(diff.mean())
    assert row["n"] == 4
    assert row["ci_low"] < row["diff"] < row["ci_high"]


def test_sequential_mode_adds_replications_until_the_half_width(tiny):
    wanted = 2.0  # seconds of ASA difference
    result = compare(
        tiny, [MORE], n_replications=2, workers=1, progress=False,
        family=[("asa_s", "all")], half_widths={("asa_s", "all"): wanted}, max_replications=30,
    )
    row = result.differences.iloc[0]
    assert result.replications > 2
    assert row["ci_half"] <= wanted or result.replications == 30


def test_variants_are_all_validated_before_anything_runs(tiny, tmp_path):
    bad = [Variant("typo", {"groups.agents.stafing.always": 3}), Variant("shift", {"groups.agents.staffing.x": 1})]
    with pytest.raises(ScenarioError) as info:
        compare(tiny, bad, n_replications=2, out_dir=tmp_path / "c", progress=False)
    assert len(info.value.problems) == 2
    assert not (tmp_path / "c").exists()
    with pytest.raises(ValueError, match="distinct"):
        compare(tiny, [MORE, MORE], n_replications=2, progress=False)


def test_reading_variants_and_grids(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("baseline: now\nvariants:\n  more: {groups.agents.staffing.always: 3}\n")
    assert read_variants(path) == ("now", [MORE.__class__("more", {"groups.agents.staffing.always": 3})])
    path.write_text("more: {groups.agents.staffing.always: 3}\n")
    assert read_variants(path)[0] == "baseline"
    path.write_text("baseline: x\nvariants: {x: {horizon: 1d}}\n")
    with pytest.raises(ScenarioError, match="the baseline's"):
        read_variants(path)
    path.write_text("variants: {a: 3}\n")
    with pytest.raises(ScenarioError, match="mapping of dotted paths"):
        read_variants(path)
    grid = tmp_path / "g.yaml"
    grid.write_text("groups.agents.staffing.always: [2, 3]\nchannels.voice.concurrency: [1]\n")
    variants = sweep_variants(read_grid(grid))
    assert [v.name for v in variants] == ["always=2, concurrency=1", "always=3, concurrency=1"]
    grid.write_text("horizon: []\n")
    with pytest.raises(ScenarioError, match="non-empty list"):
        read_grid(grid)


def test_cli_compare_and_sweep(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(TINY_SCENARIO, sort_keys=False))
    variants = tmp_path / "v.yaml"
    variants.write_text("variants:\n  three: {groups.agents.staffing.always: 3}\n")
    out = tmp_path / "cmp"
    args = ["compare", str(scenario), str(variants), "-r", "3", "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "difference from baseline" in printed
    assert "*" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["variant"]) == {"three"}
    assert {"diff", "ci_low", "ci_high", "p_value", "p_holm", "significant"} <= set(table.columns)
    assert (out / "baseline" / "manifest.json").is_file()
    assert (out / "three" / "manifest.json").is_file()
    grid = tmp_path / "g.yaml"
    grid.write_text("groups.agents.staffing.always: [3, 4]\n")
    sweep = ["sweep", str(scenario), str(grid), "-r", "2", "--workers", "1", "--no-progress", "--out", str(tmp_path / "s")]
    assert main(sweep) == 0
    assert "always=4" in capsys.readouterr().out
    variants.write_text("variants:\n  bad: {groups.agents.stafing.always: 3}\n")
    assert main([*args[:-1], str(tmp_path / "bad")]) == 2
    assert "unknown key 'stafing'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def _fake_result(name: str, weekly: list[float], one_off: float):
    from experiments.results import ExperimentResult

    rows = [(r, "recurring_cost_per_week", "all", v) for r, v in enumerate(weekly)]
    rows += [(r, "one_off_cost", "all", one_off) for r in range(len(weekly))]
    metrics = pd.DataFrame(rows, columns=["replication", "metric", "scope", "value"])
    return ExperimentResult(None, 0, tuple(range(len(weekly))), metrics, pd.DataFrame(), {})  # type: ignore[arg-type]


def test_payback_of_a_one_off_investment():
    """A bot costing 60,000 once that saves 1,000 +- a little a week pays back in about 60 weeks."""
    from experiments.compare import Comparison

    results = {
        "now": _fake_result("now", [10_000, 10_500, 9_800, 10_200], 0.0),
        "bot": _fake_result("bot", [9_000, 9_480, 8_820, 9_200], 60_000.0),
        "same": _fake_result("same", [10_000, 10_500, 9_800, 10_200], 0.0),
        "dearer": _fake_result("dearer", [10_100, 10_600, 9_900, 10_300], 5_000.0),
    }
    comparison = Comparison("now", (), results, pd.DataFrame(), (), None)
    table = comparison.payback().set_index("variant")
    assert list(table.index) == ["bot", "dearer"]  # no extra one-off cost, no payback row
    bot = table.loc["bot"]
    assert bot["extra_one_off_cost"] == 60_000
    assert bot["saving_per_week"] == pytest.approx(1_000.0)
    assert bot["payback_weeks"] == pytest.approx(60.0)
    assert bot["payback_low_weeks"] < 60 < bot["payback_high_weeks"]
    assert table.loc["dearer", "payback_weeks"] == float("inf")


def test_default_sl_is_the_shortest_threshold_and_old_sl_names_still_work(tiny, tmp_path):
    import copy

    from experiments.compare import default_family

    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"] = [{"name": "voice 5 min", "channel": "voice", "threshold": "5min", "level": 0.8}]
    data["reporting"]["sl_thresholds"] = ["1min", "15min"]
    scenario = scenario_from_dict(data)
    names = ["sl_15min", "sl_1min", "sl_5min", "asa_s"]  # "sl_15min" sorts first as text; 1 min is the shortest
    metrics = pd.DataFrame({"metric": names, "scope": "channel=voice", "value": 0.5})
    assert [m for m, _ in default_family(scenario, metrics) if m.startswith("sl_")] == ["sl_1min"]
    # A metric named as before SL labels had units (sl_300s) is compared under its current name (sl_5min).
    result = compare(
        tiny, [MORE], seed=0, n_replications=2, out_dir=tmp_path, workers=1, progress=False,
        family=[("sl_300s", "channel=voice")], half_widths={("sl_300s", "channel=voice"): 0.5},
    )
    assert list(result.family) == [("sl_5min", "channel=voice")]
    assert result.differences["metric"].tolist() == ["sl_5min"]
