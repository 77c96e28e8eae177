"""The scenario's cross-reference check raises its problems as data (sim.problems), not as one joined string."""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError

from sim.config import Scenario
from sim.problems import MISSING, Problem, ScenarioProblemsError
from tests.conftest import TINY_SCENARIO


def _problems(data: dict) -> tuple[Problem, ...]:
    """The problems of the one ``value_error`` that ``Scenario.model_validate(data)`` raises."""
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    (error,) = info.value.errors()
    assert error["type"] == "value_error"
    assert error["loc"] == ()
    raised = error["ctx"]["error"]  # pydantic keeps the exception the validator raised
    assert isinstance(raised, ScenarioProblemsError)
    return raised.problems


def test_two_cross_reference_problems_are_two_structured_problems():
    data = copy.deepcopy(TINY_SCENARIO)
    data["groups"]["agents"]["skills"]["billing"] = 1.0
    data["targets"][0]["channel"] = "chat"
    assert _problems(data) == (
        Problem(
            ("groups", "agents", "skills"),
            "unknown intent 'billing'; known: ['general']",
            value="billing",
            expected="one of ['general']",
        ),
        Problem(
            ("targets", 0, "channel"),
            "unknown channel 'chat'; known: ['voice']",
            value="chat",
            expected="one of ['voice']",
        ),
    )


def test_problems_print_one_per_line_and_survive_pickling():
    data = copy.deepcopy(TINY_SCENARIO)
    data["warmup"] = "2d"
    data["transfers"] = {"general": {"share": 0.1, "to": "general"}}
    problems = _problems(data)
    assert problems == (
        Problem(
            ("warmup",),
            "warmup (172800s) must be shorter than horizon (86400s)",
            value=172800.0,
            expected="less than horizon (86400s)",
            show_path=False,  # the message names its field; the path still finds the line
        ),
        Problem(
            ("transfers", "general", "to"),
            "a contact cannot be transferred to its own intent",
            value="general",
            expected="an intent other than 'general'",
        ),
    )
    err = ScenarioProblemsError(problems)
    assert str(err).splitlines() == [
        "warmup (172800s) must be shorter than horizon (86400s)",
        "transfers.general.to: a contact cannot be transferred to its own intent",
    ]
    assert pickle.loads(pickle.dumps(err)).problems == problems


def test_problem_without_a_value():
    problem = Problem(("bots",), "something")
    assert problem.value is MISSING
    assert problem.expected is None
    assert str(problem) == "bots: something"
    assert str(Problem((), "whole file")) == "(top level): whole file"


# ------------------------------------------------------------------------------------------ target windows


def _with_window(window: dict, **target: object) -> dict:
    data = copy.deepcopy(TINY_SCENARIO)
    data["targets"][0] = {**data["targets"][0], "window": window, **target}
    return data


def test_target_window_reads_dates_days_and_times_and_round_trips():
    import datetime as dt

    window = {"dates": ["2026-11-09"], "days": ["mon"], "start": "19:00", "end": "22:00"}
    sc = Scenario.model_validate(_with_window(window, aggregation="every_interval"))
    target = sc.targets[0]
    assert target.window is not None
    assert target.window.dates == [dt.date(2026, 11, 9)]
    assert (target.window.start, target.window.end) == (19 * 3600.0, 22 * 3600.0)
    assert target.aggregation == "every_interval"
    assert sc.targets[1].window is None
    assert sc.targets[1].aggregation == "pooled"
    assert Scenario.model_validate(sc.model_dump(mode="json")) == sc  # dates and times dump as text
    # YAML gives dates as datetime.date: accepted too; a bare number or a date-time is not a date.
    assert Scenario.model_validate(_with_window({"dates": [dt.date(2026, 11, 9)]})).targets[0].window == (
        Scenario.model_validate(_with_window({"dates": ["2026-11-09"]})).targets[0].window
    )
    for bad in (20261109, dt.datetime(2026, 11, 9, 12), "11.11"):
        with pytest.raises(ValidationError, match="calendar date"):
            Scenario.model_validate(_with_window({"dates": [bad]}))
    with pytest.raises(ValidationError, match="aggregation"):
        Scenario.model_validate(_with_window({}, aggregation="worst"))


def test_wrapping_window_belongs_to_the_day_it_opened_on():
    import datetime as dt

    from sim.config import TargetWindow

    friday_night = TargetWindow.model_validate({"days": ["fri"], "start": "22:00", "end": "02:00"})
    monday = dt.datetime(2026, 11, 9)  # a Monday
    fri, sat = 4 * 86400.0, 5 * 86400.0
    times = [fri + 21.5 * 3600, fri + 22 * 3600, sat + 1.5 * 3600, sat + 2 * 3600, sat + 23 * 3600, 0.5 * 3600]
    assert friday_night.window_day(times, monday).tolist() == [None, dt.date(2026, 11, 13), dt.date(2026, 11, 13)] + [
        None
    ] * 3
    # "00:00" as the end is midnight: the evening up to the end of the day.
    evening = TargetWindow.model_validate({"start": "20:00", "end": "00:00"})
    assert evening.bounds_s == (72000.0, 86400.0)
    assert evening.window_day([19.5 * 3600, 23.5 * 3600, 86400.0], monday).tolist() == [
        None,
        dt.date(2026, 11, 9),
        None,
    ]
    assert evening.describe() == "20:00–00:00"


def test_window_off_the_interval_grid_is_an_error_naming_the_target():
    (problem,) = _problems(_with_window({"start": "19:30", "end": "22:00"}))  # 1-hour intervals
    assert problem.path == ("targets", 0, "window")
    assert "target 'voice 80/20'" in problem.message
    assert "19:30" in problem.message
    assert "1h reporting intervals" in problem.message


def test_window_selecting_no_measured_interval_is_an_error_naming_the_target():
    # The scenario runs Monday 2026-11-09 only, with a 1-hour warm-up.
    for window in ({"dates": ["2026-11-11"]}, {"days": ["tue"]}, {"start": "00:00", "end": "01:00"}):
        (problem,) = _problems(_with_window(window))
        assert problem.path == ("targets", 0, "window")
        assert "target 'voice 80/20'" in problem.message
        assert "selects no measured interval" in problem.message
        assert "2026-11-09 01:00" in problem.message  # where the measured period starts
    # The last hour, a window wrapping into it, or the day the run covers: each selects something.
    for window in ({"start": "23:00"}, {"start": "23:00", "end": "01:00"}, {"days": ["mon"]}, {}):
        Scenario.model_validate(_with_window(window))
