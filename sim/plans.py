"""Contingency plans: frozen config models (the scenario's ``plans:`` list) and their cross-reference checks.

A plan is in force inside a time ``window`` (start, end date-times) or while a ``trigger`` holds (an outage of a
channel is running; a queue's length or oldest wait is over a limit, checked every ``check_every``), and its
actions are reverted when it ends. The engine side is :mod:`sim.engine.plans`.

Example (YAML)::

    plans:
      - name: evening_reserve
        window: {start: 2026-11-11T19:00, end: 2026-11-11T22:00}
        actions:
          call_in: [{group: chat_agents, agents: 10}]
      - name: voice_takes_chat
        trigger: {outage: voice}
        actions:
          move_agents: [{group: voice_agents, from: voice, to: chat, after_wait: 1min}]
      - name: come_back_later
        trigger: {queue: {channel: chat, oldest_wait_over: 10min}}
        actions:
          shift_demand: {channels: [chat], share: 0.3, after: "22:00", spread: 1h}
      - name: evening_call_ins      # the reactive call-ins switched: reserve 12, call when a chat waits 1 min
        window: {start: 2026-11-11T19:00, end: 2026-11-11T23:00}
        actions:
          policies:
            staffing: {name: reactive_overtime, params: {reserve: {chat_agents: 12}, max_wait: 1min}}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.problems import Problem
from sim.units import MODEL_CONFIG, DateTime, Duration, PositiveDuration, TimeOfDay

if TYPE_CHECKING:
    from sim.config import Scenario

__all__ = [
    "SWITCHABLE_SLOTS",
    "CallIn",
    "MoveAgents",
    "Plan",
    "PlanActions",
    "PlanTrigger",
    "PlanWindow",
    "QueueTrigger",
    "ShiftDemand",
    "plan_problems",
]

PolicySlot = Literal["routing", "deflection", "empowerment", "staffing"]
"""Policy slots a plan can switch mid-run.

``staffing`` switches only the policy's *reactive* part (its reserve call-ins: trigger parameters, review period,
call-in delay and length, step, reserve sizes); the roster is drawn once at the start of the run from the
scenario's staffing policy and is not re-drawn, so the plan's policy's roster is never used. A switch to a policy
that is not reactive (e.g. ``fixed``) means "no call-ins while the plan is in force". To add a fixed number of
agents for the plan's whole time in force use its ``call_in`` action instead.
"""

SWITCHABLE_SLOTS: tuple[str, ...] = ("routing", "deflection", "empowerment", "staffing")
"""The slots :attr:`PlanActions.policies` accepts."""


class _Frozen(BaseModel):
    model_config = MODEL_CONFIG


class PlanWindow(_Frozen):
    """A plan's time window ``[start, end)``."""

    start: DateTime
    end: DateTime

    @model_validator(mode="after")
    def _ordered(self) -> PlanWindow:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class QueueTrigger(_Frozen):
    """A queue condition on the contacts waiting for ``channel`` (and ``intent``, if given).

    It holds when they are more than ``length_over``, or the oldest of them has waited more than
    ``oldest_wait_over`` (seconds).

    Checked every ``check_every`` seconds from the start: the plan starts at the first check where the condition
    holds and ends at the first check where it no longer does.
    """

    channel: str
    intent: str | None = None
    length_over: int | None = Field(None, ge=0)
    oldest_wait_over: Duration | None = None
    check_every: PositiveDuration = 60.0

    @model_validator(mode="after")
    def _one_limit(self) -> QueueTrigger:
        if (self.length_over is None) == (self.oldest_wait_over is None):
            raise ValueError("give exactly one of length_over (contacts) or oldest_wait_over (a duration)")
        return self


class PlanTrigger(_Frozen):
    """What starts and ends a plan.

    ``outage`` (a channel name: in force while an outage of that channel runs) or ``queue`` (a
    :class:`QueueTrigger`).
    """

    outage: str | None = None
    queue: QueueTrigger | None = None

    @model_validator(mode="after")
    def _one(self) -> PlanTrigger:
        if (self.outage is None) == (self.queue is None):
            raise ValueError("give exactly one of outage (a channel) or queue (a queue condition)")
        return self


class CallIn(_Frozen):
    """Call in ``agents`` extra agents of ``group`` while the plan is in force.

    They are paid for the time called in at the group's overtime premium, and appear in the ``agents`` frame as
    reserve agents with shift ``plan:<name>``.
    """

    group: str
    agents: int = Field(ge=1)


class MoveAgents(_Frozen):
    """Agents of ``group`` (who work ``from``) also take contacts of channel ``to`` while the plan is in force.

    An idle agent of the group takes the oldest contact of ``to`` that has waited at least ``after_wait``
    seconds and that the group has the skill and language for, one contact at a time; the group's own work
    keeps its routing, and what an agent holds when the plan ends is finished.
    """

    model_config = ConfigDict(**MODEL_CONFIG, serialize_by_alias=True)  # dumps ``from``, which loads back

    group: str
    from_: str = Field(alias="from")
    to: str
    after_wait: Duration = 0.0


class ShiftDemand(_Frozen):
    """Ask a share of non-urgent customers to come back later ("please contact us after 22:00").

    A normal-priority contact arriving on one of ``channels`` (all, if omitted) while the plan is in force is,
    with probability ``share``, re-scheduled to arrive uniformly in ``[after, after + spread)`` of the next
    time the clock reads ``after`` (a time of day). A contact that would come back after the horizon is
    recorded as ``lost``.
    """

    channels: list[str] | None = None
    share: float = Field(ge=0.0, le=1.0)
    after: TimeOfDay
    spread: Duration = 3600.0


class PlanActions(_Frozen):
    """What a plan does while in force (every field optional; at least one action)."""

    call_in: list[CallIn] = Field(default_factory=list)
    move_agents: list[MoveAgents] = Field(default_factory=list)
    shift_demand: ShiftDemand | None = None
    policies: dict[str, dict] = Field(default_factory=dict)
    """Policy slots switched while in force, as ``{slot: {name: ..., params: {...}}}`` (built by the runner
    with the registry; the engine swaps the slot's policy object and swaps it back at the end). A parameter
    change is a switch to the same policy name with other ``params``. Slots: ``routing``, ``deflection``,
    ``empowerment``, ``staffing`` (:data:`SWITCHABLE_SLOTS`; ``staffing``: the reactive call-ins only, the roster
    is not re-drawn)."""

    @field_validator("policies")
    @classmethod
    def _slots(cls, policies: dict[str, dict]) -> dict[str, dict]:
        for slot in policies:
            if slot not in SWITCHABLE_SLOTS:
                raise ValueError(f"unknown policy slot {slot!r}; a plan can switch {list(SWITCHABLE_SLOTS)}")
        return policies

    @model_validator(mode="after")
    def _some(self) -> PlanActions:
        if not (self.call_in or self.move_agents or self.shift_demand or self.policies):
            raise ValueError("a plan needs at least one action (call_in, move_agents, shift_demand, policies)")
        return self


class Plan(_Frozen):
    """A contingency plan: a ``window`` or a ``trigger``, and ``actions`` reverted when it ends."""

    name: str = Field(min_length=1)
    window: PlanWindow | None = None
    trigger: PlanTrigger | None = None
    actions: PlanActions

    @model_validator(mode="after")
    def _when(self) -> Plan:
        if (self.window is None) == (self.trigger is None):
            raise ValueError("a plan needs exactly one of window (start, end) or trigger (outage or queue)")
        return self


def _unknown(path: tuple[str | int, ...], kind: str, value: str, known: Iterable[str]) -> Problem:
    known = sorted(known)
    return Problem(path, f"unknown {kind} {value!r}; known: {known}", value=value, expected=f"one of {known}")


def plan_problems(scenario: Scenario) -> list[Problem]:
    """Cross-reference problems of the scenario's plans (names, channels, groups, queues, overlaps on a slot)."""
    sc = scenario
    problems: list[Problem] = []
    channels, groups, intents = set(sc.channels), set(sc.groups), set(sc.intents)
    outage_channels = {o.channel for o in getattr(sc.arrivals, "outages", [])}
    seen: dict[str, int] = {}
    for i, plan in enumerate(sc.plans):
        at: tuple[str | int, ...] = ("plans", i)
        if plan.name in seen:
            problems.append(
                Problem((*at, "name"), f"plan name {plan.name!r} is also plan {seen[plan.name]}'s", value=plan.name,
                        expected="a unique name")
            )  # fmt: skip
        seen.setdefault(plan.name, i)
        trig = plan.trigger
        if trig is not None and trig.outage is not None:
            if trig.outage not in channels:
                problems.append(_unknown((*at, "trigger", "outage"), "channel", trig.outage, channels))
            elif trig.outage not in outage_channels:
                problems.append(
                    Problem((*at, "trigger", "outage"), f"channel {trig.outage!r} has no outage in arrivals.outages",
                            value=trig.outage, expected=f"a channel with an outage: {sorted(outage_channels)}")
                )  # fmt: skip
        if trig is not None and trig.queue is not None:
            q = trig.queue
            if q.channel not in channels:
                problems.append(_unknown((*at, "trigger", "queue", "channel"), "channel", q.channel, channels))
            if q.intent is not None and q.intent not in intents:
                problems.append(_unknown((*at, "trigger", "queue", "intent"), "intent", q.intent, intents))
        acts = plan.actions
        for j, call in enumerate(acts.call_in):
            if call.group not in groups:
                problems.append(_unknown((*at, "actions", "call_in", j, "group"), "group", call.group, groups))
        for j, move in enumerate(acts.move_agents):
            path = (*at, "actions", "move_agents", j)
            if move.group not in groups:
                problems.append(_unknown((*path, "group"), "group", move.group, groups))
                continue
            own = sc.groups[move.group].channels
            if move.from_ not in own:
                problems.append(
                    Problem((*path, "from"), f"group {move.group!r} does not work channel {move.from_!r}",
                            value=move.from_, expected=f"one of the group's channels {list(own)}")
                )  # fmt: skip
            if move.to not in channels:
                problems.append(_unknown((*path, "to"), "channel", move.to, channels))
            elif move.to in own:
                problems.append(
                    Problem((*path, "to"), f"group {move.group!r} already works channel {move.to!r}", value=move.to,
                            expected=f"a channel the group lacks, not one of {list(own)}")
                )  # fmt: skip
        if acts.shift_demand is not None:
            for ch in acts.shift_demand.channels or []:
                if ch not in channels:
                    problems.append(
                        _unknown((*at, "actions", "shift_demand", "channels"), "channel", ch, channels)
                    )
    problems += _slot_overlaps(sc)
    return problems


def _slot_overlaps(sc: Scenario) -> list[Problem]:
    """Two plans switching one policy slot must not be in force at once.

    Windows that overlap are refused, and a triggered plan may not share a slot with any other plan (when it fires
    is not known at load).
    """
    problems: list[Problem] = []
    for i, plan in enumerate(sc.plans):
        for j, other in enumerate(sc.plans[:i]):
            shared = sorted(set(plan.actions.policies) & set(other.actions.policies))
            if not shared:
                continue
            if plan.window is not None and other.window is not None:
                w, v = plan.window, other.window
                if not (w.start < v.end and v.start < w.end):
                    continue
                why = f"its window overlaps plan {j} ({other.name!r}), which also switches {shared}"
            else:
                why = f"it is triggered and plan {j} ({other.name!r}) also switches {shared}: they could overlap"
            problems.append(
                Problem(("plans", i, "actions", "policies"), why, value=shared,
                        expected="one plan at a time per policy slot")
            )  # fmt: skip
    return problems
