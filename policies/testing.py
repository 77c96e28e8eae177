"""Conformance checks for policies, and a static view to unit-test a routing policy without the engine.

Like ``optuna.testing`` or scikit-learn's ``check_estimator``, this ships the checks every registered policy
passes, so a policy written outside the project can be held to the same contract with one import::

    from policies.testing import check_policy

    def test_my_routing_conforms():
        check_policy("routing", MyRouting)  # a class or a zero-argument factory of fresh policy objects

:func:`check_policy` runs the policy in its slot (the other slots at their defaults) on
:func:`conformance_scenario`: three channels (chat behind a bot, with concurrency 3; deferrable email), two intents
(one needs approvals and is sometimes transferred), two languages and four overlapping groups with breaks,
absenteeism, a team-lead pool and a back office. It then checks the engine's invariants, each with a message that
says what broke:

* :func:`check_conservation`: every arrival has exactly one outcome, the intervals count what reached the queue,
  answered contacts were answered before their patience ran out by an agent, abandoned ones waited their patience;
  every repeat contact has a cause.
* :func:`check_eligibility`: agents serve only the channels, skills and languages they have (a language-fallback
  policy only after its wait), only while on duty and never during a break; reserve agents only when called in.
* :func:`check_concurrency`: no agent holds more contacts than its channel allows, and never two channels at once.
* :func:`check_reproducible`: the same seed gives the same frames with a fresh or a reused policy object, another
  replication differs.
* :func:`check_equivalent_paths`: the engine's shortcuts (eager arrivals and own-heap service ends, default-routing
  fast paths) change nothing for this policy (also on :func:`fast_path_scenario`, where the fast paths engage).

:class:`StaticView` (from :mod:`policies.static_view`) is a :class:`~sim.interfaces.SystemView` over fixed queues and
agents: build the situation, call ``select_agent`` / ``select_contact``, assert the choice.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from policies.static_view import StaticAgent, StaticContact, StaticView
from sim.arrivals import iter_arrivals
from sim.config import Scenario
from sim.engine import ContactCenter
from sim.interfaces import (
    DeflectionPolicy,
    EmpowermentPolicy,
    RoutingPolicy,
    StaffingPolicy,
)
from sim.result import RunResult
from sim.streams import Streams

__all__ = [
    "SCENARIO",
    "SEED",
    "ConformanceRun",
    "StaticAgent",
    "StaticContact",
    "StaticView",
    "check_concurrency",
    "check_conservation",
    "check_eligibility",
    "check_equivalent_paths",
    "check_policy",
    "check_reproducible",
    "conformance_scenario",
    "fast_path_scenario",
    "frames_digest",
    "run_policy",
]

Policy = RoutingPolicy | DeflectionPolicy | StaffingPolicy | EmpowermentPolicy
Factory = Callable[[], Policy]

SEED = 11
"""Base seed of the conformance runs."""
FRAMES = ("contacts", "intervals", "staffing", "agents", "frt_hist", "resolution")
_HUMAN_QUEUE = ("served", "escalated_async", "abandoned", "censored")
_ANSWERED = ("served", "escalated_async")
_BOT_ENDINGS = {"bot_resolved": "resolved", "bot_abandoned": "abandoned", "silent_failure": "silent_failure"}
_REPEAT_ID_STEP = 1 << 40
_EPS = 1e-6

SCENARIO: dict[str, Any] = {
    "name": "conformance",
    "start": "2026-11-09T06:00",
    "horizon": "1d",
    "warmup": "1h",
    "channels": {
        "voice": {"patience": {"dist": "exponential", "mean": "3min"}},
        "chat": {"concurrency": 3, "inflation": 0.3, "patience": {"dist": "lognormal", "mean": "4min", "cv": 1}},
        "email": {"kind": "deferrable"},
    },
    "intents": {
        "billing": {"handle": {"dist": "lognormal", "mean": "4min", "cv": 0.8}, "urgent_share": 0.2},
        "tech": {"handle": {"dist": "gamma", "mean": "7min", "cv": 1.2}},
    },
    "customers": {"languages": {"en": 0.6, "zh": 0.4}, "vip_share": 0.1, "population": 300},
    "arrivals": {
        "kind": "generated",
        "channels": {
            "voice": {"daily_volume": 700, "intent_mix": {"billing": 2, "tech": 1}, "intraday": [1] * 8 + [4] * 16},
            "chat": {"daily_volume": 600, "intent_mix": {"billing": 1, "tech": 1}},
            "email": {"daily_volume": 150, "intent_mix": {"billing": 1, "tech": 1}},
        },
    },
    "shifts": {
        "early": {"start": "06:00", "length": "8h", "breaks": [{"after": "2h", "length": "15min"}]},
        "late": {"start": "14:00", "length": "8h", "breaks": [{"after": "4h", "length": "30min"}]},
        "night": {"start": "22:00", "length": "8h"},
    },
    "groups": {
        "voice_en": {"channels": ["voice", "email"], "skills": {"billing": 1.0, "tech": 1.3}, "languages": ["en"],
                     "staffing": {"early": 3, "late": 3, "night": 1}, "occupancy_cap": 0.8, "absenteeism": 0.1},
        "voice_zh": {"channels": ["voice"], "skills": {"billing": 1.0, "tech": 1.2}, "languages": ["zh"],
                     "staffing": {"early": 2, "late": 2, "night": 1}},
        "generalists": {"channels": ["voice", "chat"], "skills": {"billing": 1.3, "tech": 1.4},
                        "languages": ["en", "zh"], "staffing": {"early": 1, "late": 1, "night": 0}},
        "chat_all": {"channels": ["chat", "email"], "skills": {"billing": 0.9, "tech": 1.0}, "languages": ["en", "zh"],
                     "staffing": {"early": 2, "late": 2, "night": 0}},
    },
    "bots": {
        "chat": {"resolution": {"billing": 0.5}, "default_resolution": 0.3, "abandon": 0.05, "silent_failure": 0.05,
                 "return_delay": {"dist": "exponential", "mean": "1h"}, "return_channels": {"voice": 1, "chat": 1},
                 "cost_per_session": 0.1, "fixed_fee_per_day": 10},
    },
    "approvals": {"billing": {"share": 0.3, "amount_mean": 80, "amount_cv": 1.0}},
    "transfers": {"billing": {"share": 0.1, "to": "tech"}},
    "team_leads": {"count": 1, "handle": {"dist": "exponential", "mean": "2min"}, "hourly_cost": 40},
    "back_office": {"recontact_share": 0.3, "recontact_delay": {"dist": "exponential", "mean": "2h"}},
    "reporting": {"interval": "30min", "sl_thresholds": ["20s", "5min"]},
}  # fmt: skip
"""The conformance scenario as a scenario file would say it. Three channels (chat with a bot, concurrency 3; email
deferrable), two intents (billing needs approvals), two languages, four groups that overlap in channels, skills and
languages (so overflow, language fallback, pooling and rebalancing have backups to use), a team-lead pool, a back
office, and transfers of 10% of billing contacts to tech. Nobody serves chat at night (22:00-06:00), so off-hours
deflection has hours to act in. Group codes: voice_en 0, voice_zh 1, generalists 2, chat_all 3."""


def conformance_scenario(**overrides: Any) -> Scenario:
    """The conformance scenario (:data:`SCENARIO`); keyword arguments replace its top-level keys."""
    data = copy.deepcopy(SCENARIO)
    data.update(overrides)
    return Scenario.model_validate(data)


def fast_path_scenario(*, stages: bool = True) -> Scenario:
    """The conformance scenario reshaped so that the engine's fast paths for the default routing engage.

    They never do on :func:`conformance_scenario` (every live queue has two eligible groups, every group serves
    several live queues), where ``fast_paths=False`` could therefore not differ. Without VIPs there is one tier,
    and voice_zh keeps only tech: voice_zh then has one live queue on one channel with one slot (both group
    shortcuts), and the zh voice billing queues have one eligible group, generalists (the queue shortcut; more
    generalists, so it often has several agents to choose from). ``stages=False`` also drops the bot, approvals
    and transfers, so arrivals take the engine's inline fast path for plain contacts.
    """
    groups = copy.deepcopy(SCENARIO["groups"])
    groups["voice_zh"]["skills"] = {"tech": 1.2}
    groups["generalists"]["staffing"] = {"early": 3, "late": 3, "night": 1}
    extra: dict[str, Any] = {} if stages else {"bots": {}, "approvals": {}, "transfers": {}}
    name = "fast_paths" if stages else "fast_paths_plain"
    return conformance_scenario(
        name=name, groups=groups, customers={**SCENARIO["customers"], "vip_share": 0.0}, **extra
    )


# ----------------------------------------------------------------------------------------------------- runs


@dataclass
class ConformanceRun:
    """One logged replication of a policy in its slot, with the blocks every agent was on duty for."""

    slot: str
    policy: Policy
    scenario: Scenario
    center: ContactCenter
    result: RunResult
    seed: int
    logins: dict[int, set[tuple[float, float]]] = field(default_factory=dict)
    """Per agent id: every ``(login_s, block_end_s)`` planned (reserve agents: their call-ins)."""
    breaks: dict[int, set[tuple[float, float]]] = field(default_factory=dict)
    """Per agent id: every ``(at_s, length_s)`` break planned."""


def _slot_of(policy: object) -> str:
    for slot, base in (
        ("routing", RoutingPolicy),
        ("deflection", DeflectionPolicy),
        ("staffing", StaffingPolicy),
        ("empowerment", EmpowermentPolicy),
    ):
        if isinstance(policy, base):
            return slot
    raise TypeError(f"{type(policy).__name__} subclasses none of the policy bases in sim.interfaces")


def run_policy(
    slot: str,
    policy: Policy,
    *,
    scenario: Scenario | None = None,
    seed: int = SEED,
    replication: int = 0,
    eager_arrivals: bool = True,
    fast_paths: bool = True,
) -> ConformanceRun:
    """Run one logged replication of ``policy`` in ``slot`` (the other slots at their defaults)."""
    if _slot_of(policy) != slot:
        raise TypeError(f"{type(policy).__name__} is a {_slot_of(policy)} policy, not a {slot} policy")
    sc = scenario if scenario is not None else conformance_scenario()
    streams = Streams(seed, replication)
    in_slot: dict[str, Any] = {slot: policy}
    center = ContactCenter(
        sc,
        streams,
        iter_arrivals(sc, streams),
        log=True,
        eager_arrivals=eager_arrivals,
        fast_paths=fast_paths,
        **in_slot,
    )
    center.run()
    logins, breaks = center.shifts.blocks()
    return ConformanceRun(slot, policy, sc, center, center.result(replication, seed, 0.0), seed, logins, breaks)


def frames_digest(result: RunResult) -> str:
    """SHA-256 of every output frame and stat (``wall_s`` excluded): equal digests, identical results."""
    h = hashlib.sha256()
    for name in FRAMES:
        h.update(pd.util.hash_pandas_object(getattr(result, name), index=False).values.tobytes())
    h.update(repr(sorted((k, v) for k, v in result.stats.items() if k != "wall_s")).encode())
    return h.hexdigest()


def assert_same_results(a: RunResult, b: RunResult, what: str) -> None:
    """Every frame and stat of ``a`` and ``b`` identical, or an AssertionError naming the first frame that differs."""
    for name in FRAMES:
        try:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
        except AssertionError as exc:
            raise AssertionError(f"{what}: the {name} frame differs: {exc}") from None
    sa = {k: v for k, v in a.stats.items() if k != "wall_s"}
    sb = {k: v for k, v in b.stats.items() if k != "wall_s"}
    assert sa == sb, f"{what}: stats differ: {sa} != {sb}"


# --------------------------------------------------------------------------------------------------- checks


def check_conservation(run: ConformanceRun) -> None:
    """Every arrival has exactly one outcome; the intervals count the contacts that reached the human queue."""
    center, res = run.center, run.result
    df = res.contacts
    assert df is not None, "the conformance run keeps the contact log"
    outcomes = df.outcome.astype(str)
    assert center.n_arrivals > 1000, f"only {center.n_arrivals} arrivals: the run is too small to check anything"
    assert len(df) == center.n_arrivals == res.stats["n_arrivals"] == res.stats["n_recorded"], (
        f"{center.n_arrivals} arrivals but {len(df)} contacts recorded"
    )
    assert df.outcome.notna().all(), "a contact has no outcome"
    # First contacts keep their arrival-order ids; a repeat's id is its predecessor's plus 2**40.
    assert df.contact_id.is_unique, "a contact was recorded twice"
    assert df[~df.repeat].contact_id.tolist() == list(range(int((~df.repeat).sum()))), "first contacts lost ids"
    assert df[df.repeat].contact_id.sub(_REPEAT_ID_STEP).isin(df.contact_id).all(), "a repeat has no predecessor"
    iv = res.intervals
    assert iv.offered.sum() == outcomes.isin(_HUMAN_QUEUE).sum(), "intervals' offered != contacts that queued"
    assert iv.answered.sum() == outcomes.isin(_ANSWERED).sum(), "intervals' answered != answered contacts"
    assert iv.abandoned.sum() == (outcomes == "abandoned").sum(), "intervals' abandoned != abandoned contacts"
    assert iv.censored.sum() == (outcomes == "censored").sum(), "intervals' censored != censored contacts"
    for outcome, ending in _BOT_ENDINGS.items():
        rows = df[outcomes == outcome]
        assert (rows.bot_outcome.astype(str) == ending).all(), f"{outcome} contacts without bot ending {ending!r}"
        assert (rows.agent_id == -1).all(), f"{outcome} contacts met an agent"
    answered = df[outcomes.isin(_ANSWERED)]
    assert (answered.agent_id >= 0).all(), "an answered contact has no agent"
    assert (answered.service_start_s >= answered.queued_s - _EPS).all(), "served before joining the queue"
    assert (answered.queued_s >= answered.arrival_s).all(), "joined the queue before arriving"
    late = answered[answered.service_start_s - answered.arrival_s >= answered.patience_s]
    assert late.empty, f"answered after their patience ran out: {late.contact_id.tolist()[:5]}"
    np.testing.assert_allclose(answered.first_response_s, answered.service_start_s - answered.arrival_s)
    assert (df[outcomes == "escalated_async"].approval.astype(str) == "back_office").all()
    ab = df[outcomes == "abandoned"]
    assert (ab.agent_id == -1).all(), "an abandoned contact met an agent"
    np.testing.assert_allclose(ab.wait_s, ab.patience_s, err_msg="abandoned contacts must wait their patience")
    # Agents also count the second services of transfers: every answered transfer, less those still in hand at
    # the horizon (at most one per slot).
    sc = run.scenario
    extra = res.agents.handled.sum() - answered.service_end_s.notna().sum()
    transfers = (df.transfer.astype(str) == "answered").sum()
    slots = sum(
        max(sc.concurrency(center.groups[a.group], ch) for ch in sc.groups[center.groups[a.group]].channels)
        for a in center.agents
    )
    assert transfers - slots <= extra <= transfers, "agents' handled counts do not match services"
    # Every repeat contact has a cause: a silent bot failure or an async escalation of the same customer.
    by_id = df.set_index("contact_id")
    repeats = df[df.repeat]
    assert len(repeats) == res.stats["n_repeats"], "repeat contacts and the repeat count differ"
    for row in repeats.itertuples(index=False):
        cause = by_id.loc[row.contact_id - _REPEAT_ID_STEP]
        assert str(cause.outcome) in ("silent_failure", "escalated_async"), f"repeat without a cause: {row}"
        assert cause.customer_id == row.customer_id, f"a repeat of another customer: {row}"
        assert cause.arrival_s < row.arrival_s, f"a repeat before its cause: {row}"


def check_eligibility(run: ConformanceRun) -> None:
    """Agents serve only their channels, skills and languages, only on duty, never on a break."""
    sc, center, res = run.scenario, run.center, run.result
    policy = run.policy
    fallback = isinstance(policy, RoutingPolicy) and policy.language_fallback
    after = _fallback_after_s(policy) if fallback else None
    agents = res.agents.set_index("agent_id")
    df = res.contacts
    assert df is not None
    answered = df[df.outcome.astype(str).isin(_ANSWERED)]
    assert len(answered) > 500, f"only {len(answered)} contacts answered: nothing to check"
    for row in answered.itertuples(index=False):
        group = sc.groups[str(row.group)]
        agent = center.agents[int(row.agent_id)]
        assert center.groups[agent.group] == str(row.group), row
        assert str(row.channel) in group.channels, f"served on a channel the group lacks: {row}"
        assert str(row.intent) in group.skills, f"served without the skill: {row}"
        if str(row.language) not in group.languages:
            assert fallback, f"served in a language the agent lacks: {row}"
            if after is not None:
                assert row.service_start_s - row.queued_s >= after - _EPS, f"language fallback too early: {row}"
        start = row.service_start_s
        blocks = run.logins[agent.id]
        assert any(s <= start < e for s, e in blocks), f"served off duty: {row} (blocks {sorted(blocks)})"
        for at, length in run.breaks[agent.id]:
            assert not at <= start < at + length, f"service started during a break at {at}: {row}"
    assert any(run.breaks.values()), "the scenario has breaks: the break check must not be vacuous"
    for agent_id, blocks in run.logins.items():
        if agents.loc[agent_id, "shift"] == "reserve":
            called = sum(min(e, sc.horizon) - s for s, e in blocks)
            assert math.isclose(called, agents.loc[agent_id, "callin_s"], rel_tol=1e-9), "call-in time mismatch"


def _fallback_after_s(policy: object) -> float | None:
    """Wait (seconds) before a language-fallback policy may serve a contact without its language, if it says."""
    after = getattr(policy, "fallback_after_s", None)  # ComposedRouting with a language_fallback rule
    if after is None:
        after = getattr(getattr(policy, "params", None), "after", None)  # LanguageFallbackRouting
    return after


def check_concurrency(run: ConformanceRun) -> None:
    """No agent holds more contacts than its channel's concurrency, and never contacts of two channels at once."""
    sc, res = run.scenario, run.result
    df = res.contacts
    assert df is not None
    served = df[df.outcome.astype(str).isin(_ANSWERED)].copy()
    served["end"] = served.service_end_s.fillna(sc.horizon)
    for agent_id, rows in served.groupby("agent_id"):
        group = str(rows.group.iloc[0])
        for channel, part in rows.groupby("channel", observed=True):
            starts = np.sort(part.service_start_s.to_numpy())
            ends = np.sort(part.end.to_numpy())
            # In hand just after each start = starts so far - ends so far (an end at the same time frees first).
            in_hand = np.arange(1, len(starts) + 1) - np.searchsorted(ends, starts, side="right")
            limit = sc.concurrency(group, str(channel))
            assert in_hand.max() <= limit, f"agent {agent_id} held {in_hand.max()} {channel} contacts (max {limit})"
        busy_until, busy_channel = -math.inf, None
        for r in rows.sort_values(["service_start_s", "end"]).itertuples(index=False):
            if r.service_start_s < busy_until:
                assert r.channel == busy_channel, f"agent {agent_id} mixed {busy_channel} and {r.channel}"
                busy_until = max(busy_until, r.end)
            else:
                busy_until, busy_channel = r.end, r.channel


def check_reproducible(run: ConformanceRun, factory: Factory) -> None:
    """Same seed, same frames (fresh or reused policy object); another replication, other frames."""
    fresh = run_policy(run.slot, factory(), scenario=run.scenario, seed=run.seed)
    assert_same_results(fresh.result, run.result, "a fresh policy object on the same seed")
    reused = run_policy(run.slot, run.policy, scenario=run.scenario, seed=run.seed)
    assert_same_results(reused.result, run.result, "the same policy object run again (state left from a run?)")
    other = run_policy(run.slot, factory(), scenario=run.scenario, seed=run.seed, replication=1)
    assert frames_digest(other.result) != frames_digest(run.result), "replication 1 gave replication 0's frames"


def check_equivalent_paths(run: ConformanceRun, factory: Factory) -> None:
    """One SimPy event per arrival and per service end (``eager_arrivals=False``) and no fast paths: same frames.

    Also on :func:`fast_path_scenario` (with and without stages) when ``run`` is on the conformance scenario,
    since the default routing's fast paths engage only there.
    """
    runs = [run]
    if run.scenario == conformance_scenario():
        for stages in (True, False):
            runs.append(run_policy(run.slot, factory(), scenario=fast_path_scenario(stages=stages), seed=run.seed))
    for base in runs:
        for flag in ("eager_arrivals", "fast_paths"):
            other = run_policy(base.slot, factory(), scenario=base.scenario, seed=base.seed, **{flag: False})
            assert_same_results(other.result, base.result, f"{flag}=False on {base.scenario.name}")


def check_policy(slot: str, factory: Factory, *, scenario: Scenario | None = None, seed: int = SEED) -> None:
    """Run every conformance check on a policy; raise ``AssertionError`` saying what broke.

    Args:
        slot: ``"routing"``, ``"deflection"``, ``"staffing"`` or ``"empowerment"``.
        factory: Makes a fresh policy object (a class with default parameters, or e.g.
            ``lambda: MyRouting(MyRouting.Params(after=60))``); it is called several times.
        scenario: Another scenario to run on (default :func:`conformance_scenario`).
        seed: Base seed.
    """
    run = run_policy(slot, factory(), scenario=scenario, seed=seed)
    check_conservation(run)
    check_eligibility(run)
    check_concurrency(run)
    check_reproducible(run, factory)
    check_equivalent_paths(run, factory)
