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
