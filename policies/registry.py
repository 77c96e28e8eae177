"""One registry per policy slot: name -> class. Each class has a nested ``Params`` model.

``make(slot, spec)`` accepts a name, a :class:`~sim.config.PolicySpec` (name + params), a mapping, or an
instance, and raises with the list of valid names or the parameter that is wrong. :func:`check_scenario`
runs the same checks on a scenario's ``policies`` section at load time and returns the problems as
:class:`~sim.problems.Problem` objects (path ``("policies", slot)``), which the loader puts on their YAML lines.

Example:
    >>> make("routing", "longest_idle")  # doctest: +ELLIPSIS
    <sim.defaults.LongestIdleRouting object at ...>
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from policies.deflection import BotFirst, BotForIntents, BotOffHours, BotOnWait
from policies.empowerment import AuthorityLimit, NoAuthority, TieredAuthority
from policies.routing import (
    ChannelPoolingRouting,
    ComposedRouting,
    LanguageFallbackRouting,
    LastAgentRouting,
    LeastLoadedRouting,
    OverflowRouting,
    PriorityRouting,
    SkillBasedRouting,
    ThresholdRebalancing,
)
from policies.staffing import ErlangStaffing, FixedStaffing, ReactiveOvertime, ScheduleCsvStaffing
from sim.config import PolicySpec, Scenario
from sim.defaults import LongestIdleRouting, NoDeflection, NoEmpowerment
from sim.interfaces import DeflectionPolicy, EmpowermentPolicy, RoutingPolicy, StaffingPolicy
from sim.problems import Problem

__all__ = [
    "DEFLECTION", "EMPOWERMENT", "ROUTING", "SLOTS", "STAFFING", "PolicyError", "available", "catalogue",
    "catalogue_markdown", "check_scenario", "make",
]  # fmt: skip

# Policy classes of different slots share no base class; each has a nested ``Params`` model. (mypy cannot match a
# nested class against a Protocol member, so the registries hold ``type[Any]``.)
ROUTING: dict[str, type[Any]] = {
    "longest_idle": LongestIdleRouting,
    "skill_based": SkillBasedRouting,
    "priority": PriorityRouting,
    "overflow": OverflowRouting,
    "last_agent": LastAgentRouting,
    "least_loaded": LeastLoadedRouting,
    "language_fallback": LanguageFallbackRouting,
    "pooling": ChannelPoolingRouting,
    "rebalancing": ThresholdRebalancing,
    "composed": ComposedRouting,
}
DEFLECTION: dict[str, type[Any]] = {
    "none": NoDeflection,
    "bot_first": BotFirst,
    "bot_intents": BotForIntents,
    "bot_on_wait": BotOnWait,
    "bot_off_hours": BotOffHours,
}
STAFFING: dict[str, type[Any]] = {
    "fixed": FixedStaffing,
    "schedule_csv": ScheduleCsvStaffing,
    "erlang_a": ErlangStaffing,
    "reactive_overtime": ReactiveOvertime,
}
EMPOWERMENT: dict[str, type[Any]] = {
    "none": NoEmpowerment,
    "no_authority": NoAuthority,
    "authority_limit": AuthorityLimit,
    "tiered": TieredAuthority,
}

Policy = RoutingPolicy | DeflectionPolicy | StaffingPolicy | EmpowermentPolicy
"""A policy of any slot."""
BASES: dict[str, type[Policy]] = {
    "routing": RoutingPolicy,
    "deflection": DeflectionPolicy,
    "staffing": StaffingPolicy,
    "empowerment": EmpowermentPolicy,
}
"""The base class of each slot's policies (it declares every hook the engine calls)."""
SLOTS: dict[str, dict[str, type[Any]]] = {
    "routing": ROUTING,
    "deflection": DEFLECTION,
    "staffing": STAFFING,
    "empowerment": EMPOWERMENT,
}


class PolicyError(ValueError):
    """An unknown policy name or bad policy parameters."""


def available(slot: str) -> list[str]:
    """Registered names of a slot, sorted."""
    return sorted(_registry(slot))


def make(slot: str, spec: str | PolicySpec | Mapping[str, Any] | Policy) -> Policy:
    """Build the policy for ``slot`` from a name, a spec, a mapping ``{name, params}``, or return an instance.

    Raises:
        PolicyError: Unknown slot or name (valid names listed), parameters the policy's ``Params`` rejects, or
            an object that is not a policy of the slot (it must subclass the slot's base in ``sim.interfaces``).
    """
    registry = _registry(slot)
    if isinstance(spec, str):
        spec = PolicySpec(name=spec)
    elif isinstance(spec, Mapping):
        spec = PolicySpec.model_validate(dict(spec))
    elif not isinstance(spec, PolicySpec):
        base = BASES[slot]
        if not isinstance(spec, base):
            kind = type(spec).__name__
            raise PolicyError(f"a {slot} policy must subclass sim.interfaces.{base.__name__}; got {kind}")
        return spec  # already a policy object
    cls = registry.get(spec.name)
    if cls is None:
        raise PolicyError(f"unknown {slot} policy {spec.name!r}; valid names: {', '.join(available(slot))}")
    try:
        params = cls.Params.model_validate(spec.params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}" for err in exc.errors()
        )
        raise PolicyError(f"bad parameters for {slot} policy {spec.name!r}: {problems}") from None
    return cls(params)


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Problems of a scenario's ``policies`` section, one per failing slot (empty if fine).

    Each policy is built and, if it has a ``bind`` hook, bound to the scenario, so names in ``params`` that the
    scenario does not define (a group, an intent, a channel without a bot) fail at load time. A problem's path is
    ``("policies", slot)``, its value the slot's :class:`~sim.config.PolicySpec`, and ``str(problem)`` reads
    ``policies.<slot>: <what is wrong>``. A plan's switched policies are checked the same way, with the path
    ``("plans", i, "actions", "policies", slot)``.
    """
    problems = []
    for slot in SLOTS:
        spec = getattr(scenario.policies, slot)
        try:
            make(slot, spec).bind(scenario)
        except (PolicyError, ValueError) as exc:
            problems.append(Problem(("policies", slot), str(exc), value=spec))
    for i, plan in enumerate(scenario.plans):
        for slot, plan_spec in plan.actions.policies.items():
            try:
                make(slot, plan_spec).bind(scenario)
            except (PolicyError, ValueError) as exc:
                problems.append(Problem(("plans", i, "actions", "policies", slot), str(exc), value=plan_spec))
    return problems


def catalogue() -> list[tuple[str, str, str, str]]:
    """One row per registered policy: slot, name, first docstring line, parameters with defaults.

    The README's policy catalogue is generated from this (``ccsim policies --markdown``) and a test checks that
    it matches, so it cannot drift.
    """
    rows = []
    for slot, registry in SLOTS.items():
        for name in sorted(registry):
            cls = registry[name]
            summary = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "`") if cls.__doc__ else ""
            params = []
            for field, info in cls.Params.model_fields.items():
                if info.is_required():
                    params.append(f"`{field}` (required)")
                else:
                    default = info.get_default(call_default_factory=True)
                    params.append(f"`{field}`={_show(info, default)}")
            rows.append((slot, name, summary, ", ".join(params) or "none"))
    return rows


def _show(info: FieldInfo, value: Any) -> str:
    """A default as it would be written in YAML (durations with their unit)."""
    # Built at run time from the field's type and constraints, so a type form only ``TypeAdapter`` can check.
    annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    try:
        shown = TypeAdapter(annotation).dump_python(value, mode="json")
    except Exception:
        shown = value
    return json.dumps(shown, ensure_ascii=False)


def catalogue_markdown() -> str:
    """The policy catalogue as a Markdown table."""
    lines = ["| slot | name | what it does | parameters (defaults) |", "|---|---|---|---|"]
    lines += [f"| {slot} | `{name}` | {summary} | {params} |" for slot, name, summary, params in catalogue()]
    return "\n".join(lines)


def _registry(slot: str) -> dict[str, type[Any]]:
    if slot not in SLOTS:
        raise PolicyError(f"unknown policy slot {slot!r}; valid slots: {', '.join(SLOTS)}")
    return SLOTS[slot]
