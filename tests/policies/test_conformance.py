"""Conformance suite: every registered policy of every slot, run on the conformance scenario.

The checks themselves ship in :mod:`policies.testing` (so a policy written elsewhere can run them); this module
parametrizes them over the registry (like Optuna's ``BasicSamplerTestCase`` or sklearn's ``parametrize_with_checks``),
so a newly registered policy is checked without touching this file; it only needs an example in
``tests/policies/examples.py``. Each policy runs in its slot with the other slots at their defaults, and must
keep the engine's invariants: conservation of contacts, service only by eligible agents on shift, concurrency,
reproducibility, and the same results whether built as an object or by name from a scenario's ``policies``.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from experiments.runner import simulate_scenario
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from policies.registry import SLOTS, available, make
from policies.testing import (
    SEED,
    ConformanceRun,
    assert_same_results,
    check_concurrency,
    check_conservation,
    check_eligibility,
    check_equivalent_paths,
    check_policy,
    check_reproducible,
    conformance_scenario,
    fast_path_scenario,
    frames_digest,
    run_policy,
)
from sim.config import PolicySpec
from sim.defaults import LongestIdleRouting
from sim.engine import RoutingError, run
from tests.policies.examples import BASE, examples

CASES = [pytest.param(slot, name, id=f"{slot}-{name}") for slot in SLOTS for name in available(slot)]
FIELD_CASES = [
    pytest.param(slot, name, field, id=f"{slot}-{name}-{field}")
    for slot, registry in SLOTS.items()
    for name in sorted(registry)
    for field in registry[name].Params.model_fields
]


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    return examples(tmp_path_factory.mktemp("examples"))


def build(slot, name, specs):
    assert name in specs[slot], f"{slot} policy {name!r} has no example in tests/policies/examples.py"
    return make(slot, PolicySpec(name=name, params=specs[slot][name]))


@dataclass
class Case:
    """A registered policy's conformance run, and how to build the policy afresh."""

    name: str
    run: ConformanceRun
    factory: Callable[[], object]


@pytest.fixture(scope="module", params=[pytest.param(c.values, id=c.id) for c in CASES])
def case(request, specs):
    slot, name = request.param
    return Case(name, run_policy(slot, build(slot, name, specs)), lambda: build(slot, name, specs))


# ------------------------------------------------------- the checks of policies.testing, on every registered policy


def test_every_arrival_has_exactly_one_outcome_and_repeats_have_a_cause(case):
    check_conservation(case.run)
    assert (case.run.result.contacts.transfer.astype(str) != "").sum() > 0  # transfers happen: not vacuous


def test_agents_serve_only_what_they_may_and_only_on_duty(case):
    check_eligibility(case.run)
    agents = case.run.result.agents.set_index("agent_id")
    if "reserve" in set(agents["shift"]):
        reserve_ids = agents.index[agents["shift"] == "reserve"]
        assert agents.loc[reserve_ids, "handled"].sum() > 0, "reserve agents were never called in"


def test_concurrency_is_never_exceeded_and_channels_never_mix(case):
    check_concurrency(case.run)


def test_same_seed_same_frames_and_another_replication_differs(case):
    check_reproducible(case.run, case.factory)


def test_eager_arrivals_and_fast_paths_change_nothing(case):
    check_equivalent_paths(case.run, case.factory)


@pytest.mark.parametrize("stages", [True, False])
def test_the_fast_path_scenario_engages_the_fast_paths(stages):
    """Without fast paths the default routing is asked more often: there, fast_paths=False is a real check."""

    def decisions(fast_paths: bool) -> int:
        routing = LongestIdleRouting()
        asked = [0]
        for name in ("select_agent", "select_contact"):
            method = getattr(routing, name)

            def counted(*args, _method=method):
                asked[0] += 1
                return _method(*args)

            setattr(routing, name, counted)  # on the instance: the engine still sees the default class
        run_policy("routing", routing, scenario=fast_path_scenario(stages=stages), fast_paths=fast_paths)
        return asked[0]

    assert decisions(fast_paths=True) < decisions(fast_paths=False)


class _AnyIdleAgent(LongestIdleRouting):
    """Breaks the contract: gives a contact to any available agent of the channel, skill or not."""

    def select_agent(self, contact, view):
        for group in range(4):
            agent = view.first_available(group, contact.channel)
            if agent is not None:
                return agent
        return None


class _LastQueueFirst(LongestIdleRouting):
    """A policy written outside the registry that keeps the contract (it takes the head of its last live queue)."""

    def select_contact(self, agent, view):
        heads = view.heads(view.live_queues(agent))
        return heads[-1] if heads else super().select_contact(agent, view)


def test_the_suite_catches_a_policy_that_breaks_the_contract():
    with pytest.raises(RoutingError, match="not available for contact"):
        check_policy("routing", _AnyIdleAgent)


def test_a_policy_written_outside_the_registry_passes_the_suite():
    check_policy("routing", _LastQueueFirst)


def all_digests(tmp_dir: str) -> dict[str, str]:
    """Frame digest of every registered policy's run (also called in a subprocess)."""
    specs = examples(Path(tmp_dir))
    sc = conformance_scenario()
    return {
        f"{slot}-{name}": frames_digest(run(sc, seed=SEED, log=True, **{slot: build(slot, name, specs)}))
        for slot in SLOTS
        for name in available(slot)
    }


def test_same_frames_in_another_process_with_another_hash_seed(tmp_path):
    here = all_digests(str(tmp_path))
    code = f"import json; from tests.policies.test_conformance import all_digests; print(json.dumps(all_digests({str(tmp_path)!r})))"
    env = {"PYTHONHASHSEED": "12345", "PATH": ""}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=root)
    assert json.loads(out.stdout) == here


# ------------------------------------------------------------------------------------- (e) built from a scenario


def scenario_data(slot, spec):
    data = copy.deepcopy(BASE)
    data["policies"] = {slot: spec}
    return yaml.safe_load(yaml.safe_dump(data, sort_keys=False))  # what a YAML file can say (dict order = codes)


def test_policy_named_in_the_scenario_gives_the_same_frames(case, specs):
    slot = case.run.slot
    data = scenario_data(slot, {"name": case.name, "params": specs[slot][case.name]})
    sc = scenario_from_dict(data, label="conformance.yaml")
    assert getattr(sc.policies, slot).name == case.name
    res = simulate_scenario(sc, seed=SEED, replication=0, log=True)
    assert_same_results(res, case.run.result, "the policy named in the scenario")


# ------------------------------------------------------------------------------------ load-time errors


@pytest.mark.parametrize("slot", list(SLOTS))
def test_unknown_name_fails_at_load_time_listing_the_valid_names(slot):
    data = scenario_data(slot, {"name": "no_such_policy"})
    valid = ", ".join(available(slot))
    expected = f"conformance.yaml: policies.{slot}: unknown {slot} policy 'no_such_policy'; valid names: {valid}"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, label="conformance.yaml")
    assert info.value.problems == [expected]


@pytest.mark.parametrize(("slot", "name"), CASES)
def test_unknown_parameter_fails_at_load_time_naming_it(slot, name, specs):
    params = {**specs[slot][name], "no_such_param": 1}
    data = scenario_data(slot, {"name": name, "params": params})
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, label="conformance.yaml")
    assert info.value.problems == [
        f"conformance.yaml: policies.{slot}: bad parameters for {slot} policy {name!r}: "
        "no_such_param: Extra inputs are not permitted"
    ]


@pytest.mark.parametrize(("slot", "name", "field"), FIELD_CASES)
def test_bad_parameter_value_fails_at_load_time_naming_the_field(slot, name, field, specs):
    params = {**specs[slot][name], field: [[["not a value"]]]}  # no parameter of any policy is a nested list
    data = scenario_data(slot, {"name": name, "params": params})
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, label="conformance.yaml")
    (problem,) = info.value.problems
    prefix = f"conformance.yaml: policies.{slot}: bad parameters for {slot} policy {name!r}: "
    assert problem.startswith(prefix), problem
    assert re.match(rf"{re.escape(field)}[.:]", problem[len(prefix) :]), problem


REQUIRED_CASES = [
    pytest.param(slot, name, field, id=f"{slot}-{name}-{field}")
    for slot, registry in SLOTS.items()
    for name in sorted(registry)
    for field, info in registry[name].Params.model_fields.items()
    if info.is_required()
]


@pytest.mark.parametrize(("slot", "name", "field"), REQUIRED_CASES)
def test_missing_required_parameter_fails_at_load_time_naming_it(slot, name, field, specs):
    params = {k: v for k, v in specs[slot][name].items() if k != field}
    data = scenario_data(slot, {"name": name, "params": params})
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, label="conformance.yaml")
    assert info.value.problems == [
        f"conformance.yaml: policies.{slot}: bad parameters for {slot} policy {name!r}: {field}: Field required"
    ]


def name_mutations(params, names, path=()):
    """Copies of ``params`` with one scenario name (a key or a value) replaced, and the path of its container."""
    if isinstance(params, dict):
        for key, value in params.items():
            if key in names:
                yield {("no_such_name" if k == key else k): v for k, v in params.items()}, path
            for mutated, where in name_mutations(value, names, (*path, key)):
                yield {**params, key: mutated}, where
    elif isinstance(params, list):
        for i, value in enumerate(params):
            if isinstance(value, str) and value in names:
                yield [*params[:i], "no_such_name", *params[i + 1 :]], path
            for mutated, where in name_mutations(value, names, (*path, i)) if isinstance(value, dict) else ():
                yield [*params[:i], mutated, *params[i + 1 :]], where
    elif isinstance(params, str) and params in names:
        yield "no_such_name", path


def _scenario_names() -> set[str]:
    sc = conformance_scenario()
    return {*sc.groups, *sc.intents, *sc.channels, *sc.customers.languages}


def _naming_cases() -> list:
    """The policies whose example params name groups, intents, channels or languages of the scenario."""
    with tempfile.TemporaryDirectory() as folder:
        specs = examples(Path(folder))
    names = _scenario_names()
    return [
        pytest.param(slot, name, id=f"{slot}-{name}")
        for slot in SLOTS
        for name in available(slot)
        if any(True for _ in name_mutations(specs[slot][name], names))
    ]


@pytest.mark.parametrize(("slot", "name"), _naming_cases())
def test_unknown_name_in_params_fails_at_load_time_with_the_field_path(slot, name, specs):
    mutations = list(name_mutations(specs[slot][name], _scenario_names()))
    assert mutations
    for params, path in mutations:
        data = scenario_data(slot, {"name": name, "params": params})
        with pytest.raises(ScenarioError) as info:
            scenario_from_dict(data, label="conformance.yaml")
        (problem,) = info.value.problems
        field = ".".join(["params", *map(str, path)])
        assert problem.startswith(f"conformance.yaml: policies.{slot}: {field}: "), (params, problem)
        assert "'no_such_name'" in problem, (params, problem)


@pytest.mark.parametrize(
    ("slot", "spec", "field", "message"),
    [
        (
            "routing",
            {"name": "overflow", "params": {"primary": {"billing": ["no_such_name"]}}},
            "params.primary.billing",
            "unknown group 'no_such_name'",
        ),
        (
            "routing",
            {"name": "rebalancing", "params": {"primary": {"no_such_name": ["voice_en"]}}},
            "params.primary",
            "unknown intent 'no_such_name'",
        ),
        (
            "routing",
            {"name": "pooling", "params": {"split": {"voice_zh": {"chat": 1}}}},
            "params.split.voice_zh",
            "channel 'chat' is not one of the group's channels",
        ),
        (
            "deflection",
            {"name": "bot_first", "params": {"channels": ["voice"]}},
            "params.channels",
            "channel 'voice' has no bot",
        ),
    ],
    ids=[
        "overflow-primary-group",
        "rebalancing-primary-intent",
        "pooling-foreign-channel",
        "bot-channel-without-bot",
    ],
)
def test_names_that_do_not_fit_the_scenario_fail_at_load_time(slot, spec, field, message):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(scenario_data(slot, spec), label="conformance.yaml")
    (problem,) = info.value.problems
    assert problem.startswith(f"conformance.yaml: policies.{slot}: {field}: {message}"), problem
