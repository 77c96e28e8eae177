"""One registry per policy slot: name -> class. Each class has a nested ``Params`` model.

``make(slot, spec)`` accepts a name, a :class:`~sim.config.PolicySpec` (name + params), a mapping, or an
instance, and raises with the list of valid names or the parameter that is wrong. :func:`check_scenario`
runs the same checks on a scenario's ``policies`` section at load time.

Example:
    >>> make("routing", "longest_idle")  # doctest: +ELLIPSIS
    <sim.routing.LongestIdleRouting object at ...>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from policies.staffing import FixedStaffing
from sim.config import PolicySpec, Scenario
from sim.interfaces import NoDeflection, NoEmpowerment
from sim.routing import LongestIdleRouting

__all__ = [
    "DEFLECTION", "EMPOWERMENT", "ROUTING", "SLOTS", "STAFFING", "PolicyError", "available", "check_scenario", "make",
]  # fmt: skip

ROUTING: dict[str, type] = {"longest_idle": LongestIdleRouting}
DEFLECTION: dict[str, type] = {"none": NoDeflection}
STAFFING: dict[str, type] = {"fixed": FixedStaffing}
EMPOWERMENT: dict[str, type] = {"none": NoEmpowerment}

SLOTS: dict[str, dict[str, type]] = {
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


def make(slot: str, spec: str | PolicySpec | Mapping[str, Any] | object) -> object:
    """Build the policy for ``slot`` from a name, a spec, a mapping ``{name, params}``, or return an instance.

    Raises:
        PolicyError: Unknown slot or name (valid names listed), or parameters the policy's ``Params`` rejects.
    """
    registry = _registry(slot)
    if isinstance(spec, str):
        spec = PolicySpec(name=spec)
    elif isinstance(spec, Mapping):
        spec = PolicySpec.model_validate(dict(spec))
    elif not isinstance(spec, PolicySpec):
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


def check_scenario(scenario: Scenario) -> list[str]:
    """Problems of a scenario's ``policies`` section, one line each with the field path (empty if fine)."""
    problems = []
    for slot in SLOTS:
        try:
            make(slot, getattr(scenario.policies, slot))
        except PolicyError as exc:
            problems.append(f"policies.{slot}: {exc}")
    return problems


def _registry(slot: str) -> dict[str, type]:
    if slot not in SLOTS:
        raise PolicyError(f"unknown policy slot {slot!r}; valid slots: {', '.join(SLOTS)}")
    return SLOTS[slot]
