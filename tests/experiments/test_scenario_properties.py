"""Property: any scenario dictionary either fails validation with a clean message or runs to the end.

Hypothesis mutates the tiny scenario: it replaces values at random paths with hostile values (non-finite and huge
numbers, booleans, wrong types, negative or unit-less durations, control characters, empty containers), deletes
keys and adds unknown ones. Each result must either raise :class:`ScenarioError` whose every line names the
source, is bounded in length and carries no traceback, or validate, fit the limits and run through the engine
and the metrics.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from experiments.measure import replication_metrics
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from sim.budget import LIMITS, estimate
from sim.engine import run
from tests.conftest import TINY_SCENARIO

HOSTILE = st.one_of(
    st.sampled_from(
        [
            0, 1, -1, 2, 0.5, -0.5, 1e-300, 1e300, math.inf, -math.inf, math.nan, True, False, None, "", "x",
            "5min", "-5min", "0s", "1e400s", "99999d", "25:00", "16:30", "\x00", "\x1b[2J", "é", [], {}, [1], {"a": 1},
            {"dist": "exponential", "mean": "1min"}, {"dist": "lognormal", "mean": "1min", "cv": 1e200},
            {"dist": "none"}, "voice", "general", "en", "always",
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in the scenario data (mapping keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


PATHS = _paths(TINY_SCENARIO)


def _plausible(original: Any) -> st.SearchStrategy[Any]:
    """A value of the original's kind: another number of its magnitude, another duration, a shuffled mapping."""
    if isinstance(original, bool):
        return st.booleans()
    if isinstance(original, int):
        return st.integers(0, max(3 * original, 3))
    if isinstance(original, float):
        return st.floats(0.0, max(3 * original, 1.0))
    if isinstance(original, str) and original[:1].isdigit() and original[-1:].isalpha():
        return st.builds("{}{}".format, st.integers(0, 600), st.sampled_from(["s", "min", "h", "d", "ms"]))
    return st.just(original)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(TINY_SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(st.one_of(HOSTILE, _plausible(parent[path[-1]])))
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "Horizon", "", "\x07"]))] = draw(HOSTILE)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
    return data


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_scenario_is_refused_cleanly_or_runs_to_the_end(data: dict[str, Any]) -> None:
    try:
        scenario = scenario_from_dict(data, label="prop.yaml")
    except ScenarioError as exc:
        event("refused")
        message = str(exc)
        assert message
        assert "Traceback" not in message
        for line in message.splitlines():
            assert line.startswith("prop.yaml"), line
            assert len(line) < 1_000, line
        return
    event("ran")
    est = estimate(scenario)
    assert est.memory_bytes() <= LIMITS.memory_bytes
    assert est.contacts is None or est.contacts <= LIMITS.contacts
    result = run(scenario, seed=1, replication=0)
    metrics = replication_metrics(result, scenario)
    assert len(metrics) > 0
    offered = result.intervals["offered"].sum()
    counted = result.intervals[["answered", "abandoned", "censored"]].sum().sum()
    assert offered == counted  # conservation of contacts, whatever the input
