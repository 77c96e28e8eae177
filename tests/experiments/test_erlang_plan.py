"""``ccsim erlang``: Erlang requirements per queue and interval, the cheapest shift cover, the override file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from experiments import load_scenario
from experiments.cli import main
from experiments.erlang_plan import ErlangPlanError, default_shrinkage, erlang_plan, write_plan
from experiments.overrides import apply_overrides, read_overrides
from sim.budget import shift_coverage
from sim.config import Scenario
from sim.erlang import erlang_c, staff_for_service_level

HOUR = 3600.0

# One live voice queue, Erlang C (no abandonment), no breaks, absences or rest days: the plan is checkable by hand.
TOY: dict[str, Any] = {
    "name": "toy",
    "start": "2026-11-09T00:00",
    "horizon": "1d",
    "channels": {"voice": {"patience": {"dist": "none"}}},
    "intents": {"general": {"handle": {"dist": "exponential", "mean": "3min"}}},
    "arrivals": {
        "kind": "generated",
        "channels": {"voice": {"daily_volume": 2400, "intent_mix": {"general": 1}, "intraday": "flat"}},
    },
    "shifts": {
        "early": {"start": "06:00", "length": "8h"},
        "late": {"start": "10:00", "length": "8h"},
        "long": {"start": "06:00", "length": "12h"},
        "night": {"start": "18:00", "length": "12h"},
    },
    "groups": {
        "agents": {
            "channels": ["voice"],
            "skills": {"general": 1.0},
            "languages": ["en"],
            "hourly_cost": 20,
            "staffing": {"early": 3, "late": 3},
        }
    },
    "targets": [{"name": "voice 80/20", "channel": "voice", "threshold": "20s", "level": 0.8}],
    "reporting": {"interval": "1h", "sl_convention": "ignore_abandons"},
}


def _toy(**changes: Any) -> Scenario:
    data = copy.deepcopy(TOY)
    data.update(changes)
    return Scenario.model_validate(data)


def _window(first_hour: int, last_hour: int) -> list[float]:
    """An hourly intraday profile with the same weight in ``[first_hour, last_hour)`` and 0 elsewhere."""
    return [1.0 if first_hour <= h < last_hour else 0.0 for h in range(24)]


def _arrivals(intraday: list[float] | str, volume: float = 2400) -> dict[str, Any]:
    return {
        "kind": "generated",
        "channels": {"voice": {"daily_volume": volume, "intent_mix": {"general": 1}, "intraday": intraday}},
    }


# --------------------------------------------------------------------------------------------- requirements


def test_textbook_requirement_is_the_erlang_c_answer():
    # 200 calls/h, 3 min exponential handle, 80% in 20 s: 13 agents give 79.56%, 14 give 88.84% (Erlang C).
    assert (
        erlang_c(200 / HOUR, 180.0, 13).service_level(20.0) < 0.8 <= erlang_c(200 / HOUR, 180.0, 14).service_level(20.0)
    )
    scenario, _ = load_scenario("erlang_c_textbook")
    plan = erlang_plan(scenario)
    req = plan.requirements
    assert plan.shrinkage == 0.0  # no breaks, no absenteeism in the scenario
    assert set(req["model"]) == {"erlang_c"}
    assert set(req["target"]) == {"voice 80/20"}
    np.testing.assert_allclose(req["arrival_rate_per_s"], 200 / HOUR)
    assert set(req["agents"]) == {14.0}
    assert set(req["requirement"]) == {14.0}
    assert plan.staffing == {"agents": {"always": 14}}
    assert plan.weekly_cost == pytest.approx(14 * 30 * 24 * 7)


def test_shrinkage_grosses_the_requirement_up():
    scenario, _ = load_scenario("erlang_c_textbook")
    plan = erlang_plan(scenario, shrinkage=0.3)
    assert set(plan.requirements["requirement"].round(9)) == {20.0}  # 14 / 0.7
    assert plan.staffing == {"agents": {"always": 20}}


def test_default_shrinkage_is_breaks_and_absences():
    scenario, _ = load_scenario("ecommerce_24x7")
    # 1 h of breaks in every 8 h shift, 5% absenteeism in every group.
    assert default_shrinkage(scenario) == pytest.approx(1 - 0.95 * (1 - 1 / 8))


def test_abandonment_uses_erlang_a_and_needs_fewer_agents():
    patient = erlang_plan(_toy(arrivals=_arrivals("flat", 4800)), interval_s=HOUR)
    impatient = erlang_plan(
        _toy(
            arrivals=_arrivals("flat", 4800), channels={"voice": {"patience": {"dist": "exponential", "mean": "1min"}}}
        ),
        interval_s=HOUR,
    )
    assert set(patient.requirements["model"]) == {"erlang_c"}
    assert set(impatient.requirements["model"]) == {"erlang_a"}
    expected = staff_for_service_level(200 / HOUR, 180.0, 20.0, 0.8, mean_patience_s=60.0, convention="ignore_abandons")
    assert set(impatient.requirements["agents"]) == {float(expected)}
    assert expected < patient.requirements["agents"].max()


def test_chat_slots_are_shared_by_concurrency_with_inflation():
    chat = {"chat": {"concurrency": 3, "inflation": 0.2, "patience": {"dist": "none"}}}
    data = copy.deepcopy(TOY)
    data["channels"] = chat
    data["arrivals"]["channels"] = {"chat": data["arrivals"]["channels"]["voice"]}
    data["groups"]["agents"]["channels"] = ["chat"]
    data["targets"][0]["channel"] = "chat"
    data["shifts"] = {"always": {"start": "00:00", "length": "24h"}}
    data["groups"]["agents"]["staffing"] = {"always": 1}
    plan = erlang_plan(Scenario.model_validate(data), interval_s=HOUR)
    slots = staff_for_service_level(100 / HOUR, 180.0 * 1.4, 20.0, 0.8)  # a chat takes 1.4x with 3 at once
    assert set(plan.requirements["slots"]) == {float(slots)}
    assert set(plan.requirements["agents"]) == {float(-(-slots // 3))}


def test_deferrable_work_is_load_over_occupancy():
    data = copy.deepcopy(TOY)
    data["channels"] = {"email": {"kind": "deferrable"}}
    data["arrivals"]["channels"] = {"email": data["arrivals"]["channels"]["voice"]}
    data["groups"]["agents"]["channels"] = ["email"]
    data["targets"] = [{"name": "email 1 day", "channel": "email", "threshold": "24h", "level": 1.0}]
    plan = erlang_plan(Scenario.model_validate(data), interval_s=HOUR, occupancy=0.8)
    # 100 emails/h x 3 min = 5 agents' worth of work, at 80% occupancy
    np.testing.assert_allclose(plan.requirements["agents"], 5.0 / 0.8)
    assert set(plan.requirements["model"]) == {"workload"}


def test_bot_escalations_only_reach_the_agents():
    data = copy.deepcopy(TOY)
    data["bots"] = {"voice": {"resolution": {"general": 0.6}, "abandon": 0.1, "silent_failure": 0.1, "handoff": "0s"}}
    data["policies"] = {"deflection": {"name": "bot_intents", "params": {"intents": ["general"]}}}
    plan = erlang_plan(Scenario.model_validate(data), interval_s=HOUR)
    np.testing.assert_allclose(plan.requirements["arrival_rate_per_s"], 0.2 * 100 / HOUR)
    data["policies"] = {"deflection": {"name": "none"}}
    plan = erlang_plan(Scenario.model_validate(data), interval_s=HOUR)
    np.testing.assert_allclose(plan.requirements["arrival_rate_per_s"], 100 / HOUR)


# ------------------------------------------------------------------------------------------------- cover


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ((6, 14), {"early": 1, "late": 0, "long": 0, "night": 0}),  # one 8 h shift covers it
        ((10, 18), {"early": 0, "late": 1, "long": 0, "night": 0}),
        ((6, 18), {"early": 0, "late": 0, "long": 1, "night": 0}),  # 12 h beats early + late (16 h)
        ((19, 23), {"early": 0, "late": 0, "long": 0, "night": 1}),
    ],
)
def test_cover_picks_the_cheapest_shifts_known_by_hand(window, expected):
    scenario = _toy(arrivals=_arrivals(_window(*window)))
    plan = erlang_plan(scenario, interval_s=HOUR)
    n = int(plan.requirements["agents"].max())
    rate = 2400 / (window[1] - window[0]) / HOUR
    assert n == staff_for_service_level(rate, 180.0, 20.0, 0.8)
    assert plan.staffing == {"agents": {s: n * k for s, k in expected.items()}}
    assert plan.status == "optimal"


def test_cover_counts_partial_intervals_by_the_share_covered():
    # Demand 06:00-08:00 only, planned in one 2 h interval: a shift from 06:00 covers it whole; one from 07:00 covers
    # half of it, so it takes twice the agents.
    def plan_with(start: str) -> dict[str, int]:
        data = copy.deepcopy(TOY)
        data["shifts"] = {"early": {"start": start, "length": "8h"}}
        data["groups"]["agents"]["staffing"] = {"early": 1}
        data["arrivals"] = _arrivals(_window(6, 8))
        plan = erlang_plan(Scenario.model_validate(data), interval_s=2 * HOUR)
        n = int(plan.requirements["agents"].max())
        return {"n": n, "early": plan.staffing["agents"]["early"]}

    whole, half = plan_with("06:00"), plan_with("07:00")
    assert whole["early"] == whole["n"]
    assert half["early"] == 2 * half["n"]


def test_cheaper_group_takes_a_shared_queue_and_a_group_is_not_counted_twice():
    data = copy.deepcopy(TOY)
    data["shifts"] = {"always": {"start": "00:00", "length": "24h"}}
    data["channels"]["chat"] = {"patience": {"dist": "none"}}
    data["arrivals"]["channels"]["chat"] = copy.deepcopy(data["arrivals"]["channels"]["voice"])
    base = {"skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 1}}
    data["groups"] = {
        "cheap": {**base, "channels": ["voice", "chat"], "hourly_cost": 10},
        "dear": {**base, "channels": ["voice"], "hourly_cost": 50},
    }
    data["targets"] = [{"name": "all 80/20", "threshold": "20s", "level": 0.8}]
    plan = erlang_plan(Scenario.model_validate(data), interval_s=HOUR)
    per_queue = staff_for_service_level(100 / HOUR, 180.0, 20.0, 0.8)
    # voice and chat are two queues ({cheap, dear} and {cheap}); the cheap group serves both, once each.
    assert plan.staffing == {"cheap": {"always": 2 * per_queue}, "dear": {"always": 0}}


def test_rest_days_are_covered_in_expectation():
    data = copy.deepcopy(TOY)
    data["shifts"] = {"always": {"start": "00:00", "length": "24h"}}
    data["groups"]["agents"].update(rest_days=2, staffing={"always": 1})
    plan = erlang_plan(Scenario.model_validate(data), shrinkage=0.0, interval_s=HOUR)
    n = plan.requirements["agents"].max()
    assert plan.staffing["agents"]["always"] == int(np.ceil(n * 7 / 5 - 1e-9))


def test_a_need_no_shift_covers_is_a_clear_error():
    data = copy.deepcopy(TOY)
    data["shifts"] = {"day": {"start": "08:00", "length": "8h"}}
    data["groups"]["agents"]["staffing"] = {"day": 1}
    data["arrivals"] = _arrivals(_window(2, 4))
    with pytest.raises(ErlangPlanError, match="no shift template is on duty"):
        erlang_plan(Scenario.model_validate(data), interval_s=HOUR)


def test_bad_parameters_and_replay_are_refused():
    scenario, _ = load_scenario("erlang_c_textbook")
    with pytest.raises(ErlangPlanError, match="shrinkage"):
        erlang_plan(scenario, shrinkage=1.0)
    with pytest.raises(ErlangPlanError, match="occupancy"):
        erlang_plan(scenario, occupancy=0.0)
    with pytest.raises(ErlangPlanError, match="divide a day"):
        erlang_plan(scenario, interval_s=7 * 60.0)
    replay, _ = load_scenario("technion_bank_week")
    with pytest.raises(ErlangPlanError, match="generated arrivals"):
        erlang_plan(replay)


# ----------------------------------------------------------------------------------------- override file


def test_override_file_round_trips_and_validates(tmp_path: Path):
    data = copy.deepcopy(TOY)
    data["groups"]["chat.en"] = data["groups"].pop("agents")  # a name that needs brackets in a dotted path
    data["policies"] = {"staffing": {"name": "erlang_a"}}  # ignores the headcounts: the file switches to fixed
    scenario = Scenario.model_validate(data)
    plan = erlang_plan(scenario, interval_s=HOUR)
    path = write_plan(plan, tmp_path / "plan.yaml")
    overrides = read_overrides(path)
    assert overrides["policies.staffing"] == {"name": "fixed"}
    changed = apply_overrides(scenario, overrides, label=str(path))
    assert changed.policies.staffing.name == "fixed"
    planned = {s: n for s, n in plan.staffing["chat.en"].items() if n}
    assert changed.groups["chat.en"].staffing == planned
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_plans_writes_and_run_accepts_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    plan_file = tmp_path / "plan.yaml"
    assert main(["erlang", "erlang_c_textbook", "--out", str(plan_file)]) == 0
    out = capsys.readouterr().out
    for word in ("erlang_c", "voice 80/20", "optimal", "14"):
        assert word in out
    assert read_overrides(plan_file) == {"groups.agents.staffing": {"always": 14}}
    run_dir = tmp_path / "run"
    argv = ["run", "erlang_c_textbook", "--overrides", str(plan_file), "-r", "2", "--set", "horizon=1d"]
    assert main([*argv, "--workers", "1", "--no-progress", "--out", str(run_dir)]) == 0
    ran = json.loads((run_dir / "scenario.json").read_text())
    assert ran["groups"]["agents"]["staffing"] == {"always": 14}


def test_cli_errors_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["erlang", "technion_bank_week", "--out", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert "generated arrivals" in err
    assert "Traceback" not in err
    assert not (tmp_path / "p.yaml").exists()
    for bad in (["--shrinkage", "1"], ["--occupancy", "0"], ["--interval", "7"]):
        assert main(["erlang", "erlang_c_textbook", *bad]) == 2


# ---------------------------------------------------------------------------------------------- flagship


@pytest.mark.slow
def test_flagship_plan_covers_every_queue_in_every_interval():
    scenario, _ = load_scenario("ecommerce_24x7")
    plan = erlang_plan(scenario)
    assert plan.status == "optimal"
    assert set(plan.by_channel()["channel"]) == set(scenario.channels)
    # Per queue, the agents of its groups on duty (expected rest days) reach its requirement; where a group serves
    # several queues (tech), the sum of their requirements must fit in the group's agents.
    req = plan.requirements
    starts = np.sort(req["interval_start_s"].unique())
    cover = shift_coverage(scenario, np.append(starts, scenario.horizon))
    on_duty = {
        g: sum(cover[s] * n for s, n in counts.items()) * (7 - scenario.groups[g].rest_days) / 7
        for g, counts in plan.staffing.items()
    }
    need = req.pivot_table(index="interval_start_s", columns="groups", values="requirement", aggfunc="sum").fillna(0)
    for groups, column in need.items():
        members = str(groups).split("+")
        assert (sum(on_duty[g] for g in members) >= column.to_numpy() - 1e-6).all(), groups
    tech = [c for c in need.columns if "tech" in str(c).split("+")]
    assert (on_duty["tech"] >= need[tech].sum(axis=1).to_numpy() - 1e-6).all()
