"""Conformance suite: every registered policy of every slot, run on the conformance scenario.

Parametrized over the registry (like Optuna's ``BasicSamplerTestCase`` or sklearn's ``parametrize_with_checks``),
so a newly registered policy is checked without touching this file; it only needs an example in
``tests/policies/examples.py``. Each policy runs in its slot with the other slots at their defaults, and must
keep the engine's invariants: conservation of contacts, service only by eligible agents on shift, concurrency,
reproducibility, and the same results whether built as an object or by name from a scenario's ``policies``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.io import ScenarioError, scenario_from_dict
from experiments.runner import simulate_scenario
from policies.registry import SLOTS, available, make
from sim.arrivals import iter_arrivals
from sim.config import PolicySpec
from sim.engine import ContactCenter, run
from sim.streams import Streams
from tests.policies.examples import BASE, conformance_scenario, examples

SEED = 11
FRAMES = ("contacts", "intervals", "staffing", "agents", "frt_hist", "resolution")
HUMAN_QUEUE = ("served", "escalated_async", "abandoned", "censored")
"""Outcomes the intervals count as ``offered``: contacts that reached the human queue (one still in a bot session
or hand-off at the horizon is ``in_bot`` and never offered)."""
ANSWERED = ("served", "escalated_async")
BOT_ENDINGS = {"bot_resolved": "resolved", "bot_abandoned": "abandoned", "silent_failure": "silent_failure"}
_LOGIN, _BREAK = 0, 1  # plan actions of sim.engine (an agent's plan is a list of (at_s, action, arg))
EPS = 1e-6
REPEAT_ID_STEP = 1 << 40

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


def digest(result) -> str:
    h = hashlib.sha256()
    for name in FRAMES:
        h.update(pd.util.hash_pandas_object(getattr(result, name), index=False).values.tobytes())
    return h.hexdigest()


def assert_same_frames(a, b):
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert {k: v for k, v in a.stats.items() if k != "wall_s"} == {k: v for k, v in b.stats.items() if k != "wall_s"}


class Run:
    """One logged replication of a policy with the on-duty blocks of every agent, reserve call-ins included."""

    def __init__(self, slot, name, policy):
        self.slot, self.name, self.policy = slot, name, policy
        self.scenario = sc = conformance_scenario()
        streams = Streams(SEED, 0)
        center = ContactCenter(sc, streams, iter_arrivals(sc, streams), log=True, **{slot: policy})
        # A reserve agent's plan is replaced at each call-in, so record the blocks as the engine schedules them.
        self.logins = defaultdict(set)
        self.breaks = defaultdict(set)
        schedule = center.shifts._schedule_plan

        def recording(agent):
            self._note(agent)
            schedule(agent)

        center.shifts._schedule_plan = recording
        center.run()
        for agent in center.agents:
            self._note(agent)
        self.center = center
        self.result = center.result(0, SEED, 0.0)

    def _note(self, agent):
        for at, action, arg in agent.plan:
            if action == _LOGIN:
                self.logins[agent.id].add((at, arg))
            elif action == _BREAK:
                self.breaks[agent.id].add((at, arg))


@pytest.fixture(scope="module", params=[pytest.param(c.values, id=c.id) for c in CASES])
def case(request, specs):
    slot, name = request.param
    return Run(slot, name, build(slot, name, specs))


# ------------------------------------------------------------------------------------------- (a) conservation


def test_every_arrival_has_exactly_one_outcome(case):
    center, res = case.center, case.result
    df = res.contacts
    outcomes = df.outcome.astype(str)
    assert center.n_arrivals > 1000
    assert len(df) == center.n_arrivals == res.stats["n_arrivals"] == res.stats["n_recorded"]
    assert df.outcome.notna().all()
    # First contacts keep their arrival-order ids; a repeat's id is its predecessor's plus 2**40.
    assert df.contact_id.is_unique
    assert df[~df.repeat].contact_id.tolist() == list(range((~df.repeat).sum()))
    assert df[df.repeat].contact_id.sub(REPEAT_ID_STEP).isin(df.contact_id).all()
    # The intervals count exactly the contacts that reached the human queue, by outcome.
    iv = res.intervals
    assert iv.offered.sum() == outcomes.isin(HUMAN_QUEUE).sum()
    assert iv.answered.sum() == outcomes.isin(ANSWERED).sum()
    assert iv.abandoned.sum() == (outcomes == "abandoned").sum()
    assert iv.censored.sum() == (outcomes == "censored").sum()
    # Contacts that ended in the bot never met an agent and carry their bot ending.
    for outcome, ending in BOT_ENDINGS.items():
        rows = df[outcomes == outcome]
        assert (rows.bot_outcome.astype(str) == ending).all(), outcome
        assert (rows.agent_id == -1).all(), outcome
    # Answered contacts: an agent, after joining the queue, before their patience ran out; async escalations went
    # to the back office. Abandoned ones waited exactly their patience. Finished services are the agents' count.
    answered = df[outcomes.isin(ANSWERED)]
    assert (answered.agent_id >= 0).all()
    assert (answered.service_start_s >= answered.queued_s - EPS).all()
    assert (answered.queued_s >= answered.arrival_s).all()
    assert (answered.service_start_s - answered.arrival_s < answered.patience_s).all()
    np.testing.assert_allclose(answered.first_response_s, answered.service_start_s - answered.arrival_s)
    assert (df[outcomes == "escalated_async"].approval.astype(str) == "back_office").all()
    ab = df[outcomes == "abandoned"]
    assert (ab.agent_id == -1).all()
    np.testing.assert_allclose(ab.wait_s, ab.patience_s)
    # Agents also count the second services of transfers: every answered transfer, less those still in hand at
    # the horizon (at most one per slot).
    extra = res.agents.handled.sum() - answered.service_end_s.notna().sum()
    transfers = (df.transfer.astype(str) == "answered").sum()
    slots = sum(max(center._cap[agent.group]) for agent in center.agents)
    assert transfers - slots <= extra <= transfers
    assert (df.transfer.astype(str) != "").sum() > 0  # the scenario transfers some billing contacts


def test_repeat_contacts_are_counted_and_have_a_cause(case):
    res = case.result
    df = res.contacts
    repeats = df[df.repeat]
    assert len(repeats) == res.stats["n_repeats"]
    by_id = df.set_index("contact_id")
    for row in repeats.itertuples(index=False):
        cause = by_id.loc[row.contact_id - REPEAT_ID_STEP]  # the contact it follows
        assert str(cause.outcome) in ("silent_failure", "escalated_async"), row
        assert cause.customer_id == row.customer_id, row
        assert cause.arrival_s < row.arrival_s, row


# ------------------------------------------------------------------------------------ (b) who serves what, when


def test_agents_serve_only_what_they_may_and_only_on_duty(case):
    sc, center, res = case.scenario, case.center, case.result
    policy = case.policy
    fallback = getattr(policy, "language_fallback", False)
    after = getattr(getattr(policy, "params", None), "after", None) if fallback else None
    agents = res.agents.set_index("agent_id")
    df = res.contacts
    answered = df[df.outcome.astype(str).isin(ANSWERED)]
    assert len(answered) > 500
    off_language = 0
    for row in answered.itertuples(index=False):
        group = sc.groups[str(row.group)]
        agent = center.agents[int(row.agent_id)]
        assert center.groups[agent.group] == str(row.group)
        assert str(row.channel) in group.channels, row
        assert str(row.intent) in group.skills, row
        if str(row.language) not in group.languages:
            off_language += 1
            assert after is not None, f"served in a language the agent lacks: {row}"
            assert row.service_start_s - row.queued_s >= after - EPS, row
        start = row.service_start_s
        blocks = case.logins[agent.id]
        assert any(s <= start < e for s, e in blocks), (row, sorted(blocks))
        for at, length in case.breaks[agent.id]:
            assert not at <= start < at + length, ("service started during a break", row, at, length)
    assert off_language == 0 or after is not None
    assert any(case.breaks.values()), "the scenario has breaks: the break check must not be vacuous"
    # Reserve agents (shift "reserve") serve only inside their call-in blocks, and those blocks are all of them.
    for agent_id, blocks in case.logins.items():
        if agents.loc[agent_id, "shift"] == "reserve":
            called = sum(min(e, sc.horizon) - s for s, e in blocks)
            assert called == pytest.approx(agents.loc[agent_id, "callin_s"])
    if "reserve" in set(agents["shift"]):
        reserve_ids = agents.index[agents["shift"] == "reserve"]
        assert agents.loc[reserve_ids, "handled"].sum() > 0, "reserve agents were never called in"


# ------------------------------------------------------------------------------------------ (c) concurrency


def test_concurrency_is_never_exceeded_and_channels_never_mix(case):
    sc, res = case.scenario, case.result
    df = res.contacts
    served = df[df.outcome.astype(str).isin(ANSWERED)].copy()
    served["end"] = served.service_end_s.fillna(sc.horizon)
    for agent_id, rows in served.groupby("agent_id"):
        group = str(rows.group.iloc[0])
        for channel, part in rows.groupby("channel", observed=True):
            starts = np.sort(part.service_start_s.to_numpy())
            ends = np.sort(part.end.to_numpy())
            # In hand just after each start = starts so far - ends so far (an end at the same time frees first).
            in_hand = np.arange(1, len(starts) + 1) - np.searchsorted(ends, starts, side="right")
            assert in_hand.max() <= sc.concurrency(group, str(channel)), (agent_id, channel)
        order = rows.sort_values(["service_start_s", "end"])
        busy_until, busy_channel = -math.inf, None
        for r in order.itertuples(index=False):
            if r.service_start_s < busy_until:
                assert r.channel == busy_channel, (
                    f"agent {agent_id} mixed {busy_channel} and {r.channel} at {r.service_start_s}"
                )
                busy_until = max(busy_until, r.end)
            else:
                busy_until, busy_channel = r.end, r.channel


# --------------------------------------------------------------------------------------- (d) reproducibility


def test_same_seed_same_frames_and_another_replication_differs(case, specs):
    sc = case.scenario
    kwargs = {"seed": SEED, "log": True}
    fresh = run(sc, replication=0, **kwargs, **{case.slot: build(case.slot, case.name, specs)})
    assert_same_frames(fresh, case.result)
    assert digest(fresh) == digest(case.result)
    # A policy object carries no state from one run into the next.
    reused = run(sc, replication=0, **kwargs, **{case.slot: case.policy})
    assert digest(reused) == digest(case.result)
    other = run(sc, replication=1, **kwargs, **{case.slot: build(case.slot, case.name, specs)})
    assert digest(other) != digest(case.result)


def all_digests(tmp_dir: str) -> dict[str, str]:
    """Frame digest of every registered policy's run (also called in a subprocess)."""
    specs = examples(Path(tmp_dir))
    sc = conformance_scenario()
    return {
        f"{slot}-{name}": digest(run(sc, seed=SEED, log=True, **{slot: build(slot, name, specs)}))
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
    data = scenario_data(case.slot, {"name": case.name, "params": specs[case.slot][case.name]})
    sc = scenario_from_dict(data, label="conformance.yaml")
    assert getattr(sc.policies, case.slot).name == case.name
    res = simulate_scenario(sc, seed=SEED, replication=0, log=True)
    assert_same_frames(res, case.result)


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
