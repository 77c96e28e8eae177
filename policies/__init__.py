"""Pluggable policies (routing, deflection, staffing, empowerment) and their registry."""

from policies.registry import available, check_scenario, make

__all__ = ["available", "check_scenario", "make"]
