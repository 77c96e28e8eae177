"""One example spec per registered policy, for the conformance scenario of :mod:`policies.testing`.

The conformance suite (``test_conformance.py``) runs every registered policy on
:func:`policies.testing.conformance_scenario`; a policy added to the registry without an entry in :func:`examples`
fails ``test_every_policy_has_an_example``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies.testing import SCENARIO, conformance_scenario

__all__ = ["BASE", "COMBINATIONS", "SCHEDULE_CSV", "conformance_scenario", "examples"]

BASE = SCENARIO
"""The conformance scenario's data (:data:`policies.testing.SCENARIO`)."""

SCHEDULE_CSV = """agent,group,start,end,breaks
a1,voice_en,2026-11-09T06:00,2026-11-09T14:00,2h/15min
a2,voice_en,2026-11-09T10:00,2026-11-09T18:00,
a3,voice_en,2026-11-09T14:00,2026-11-09T22:00,4h/30min
a4,voice_en,2026-11-09T22:00,2026-11-10T06:00,
z1,voice_zh,2026-11-09T06:00,2026-11-09T14:00,
z2,voice_zh,2026-11-09T14:00,2026-11-10T06:00,
g1,generalists,2026-11-09T06:00,2026-11-10T06:00,
c1,chat_all,2026-11-09T06:00,2026-11-09T14:00,2h/15min
c2,chat_all,2026-11-09T08:00,2026-11-09T16:00,
c3,chat_all,2026-11-09T14:00,2026-11-10T06:00,
"""
"""A per-agent schedule for :data:`BASE` (a 16-hour block is allowed: a schedule is what it says)."""


_PRIORITY = {"name": "priority_aging", "urgent_boost": "5min", "vip_boost": "2min"}
_OVERFLOW = {"name": "overflow", "after": "30s", "after_by_channel": {"chat": "1min"},
             "primary": {"billing": ["voice_en", "chat_all"]}}  # fmt: skip
_STICKY = {"name": "sticky_last_agent", "timeout": "1min"}
_REBALANCING = {"name": "rebalancing", "max_queue": 4, "max_wait": "1min"}
_FALLBACK = {"name": "language_fallback", "after": "1min"}

COMBINATIONS: dict[str, dict[str, Any]] = {
    "priority+overflow+sticky": {"order": _PRIORITY, "eligibility": [_OVERFLOW, _STICKY]},
    "priority+overflow": {"order": _PRIORITY, "eligibility": [_OVERFLOW]},
    "priority+rebalancing": {"order": _PRIORITY, "eligibility": [_REBALANCING]},
    "sticky+priority": {"order": _PRIORITY, "eligibility": [_STICKY]},
    "strict_priority+language_fallback+overflow": {"order": "strict_priority", "eligibility": [_FALLBACK, _OVERFLOW]},
    "skill+least_loaded+rebalancing+sticky": {
        "order": "skill", "agents": "least_loaded", "eligibility": [_REBALANCING, _STICKY]},
    "priority+all_rules": {"order": _PRIORITY, "eligibility": [_STICKY, _REBALANCING, _OVERFLOW, _FALLBACK]},
}  # fmt: skip
"""Params of the ``composed`` routing policy for the conformance scenario: each combination of an order, an agent
choice and eligibility rules that the conformance suite runs (``test_composed.py``)."""


def examples(tmp_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Example params per slot and policy name for :func:`conformance_scenario` (files written to ``tmp_dir``)."""
    schedule = tmp_dir / "schedule.csv"
    schedule.write_text(SCHEDULE_CSV, encoding="utf-8")
    return {
        "routing": {
            "longest_idle": {},
            "skill_based": {"group_order": {"tech": ["chat_all", "generalists"]}},
            "priority": {"urgent_boost": "5min", "vip_boost": "2min"},
            "overflow": {"after": "30s", "after_by_channel": {"chat": "1min"}},
            "last_agent": {"timeout": "1min"},
            "least_loaded": {},
            "language_fallback": {"after": "1min"},
            "pooling": {"mode": "silos", "split": {"generalists": {"voice": 1, "chat": 1}}},
            "rebalancing": {"max_queue": 4, "max_wait": "1min"},
            "composed": COMBINATIONS["priority+overflow+sticky"],
        },
        "deflection": {
            "none": {},
            "bot_first": {"skip_urgent": True},
            "bot_intents": {"intents": ["billing"]},
            "bot_on_wait": {"threshold": "30s"},
            "bot_off_hours": {},
        },
        "staffing": {
            "fixed": {},
            "schedule_csv": {"path": str(schedule)},
            "erlang_a": {"service_level": 0.8, "threshold": "20s", "shrinkage": 0.3},
            "reactive_overtime": {"reserve": {"voice_en": 3, "chat_all": 2}, "max_wait": "1min", "delay": "10min"},
        },
        "empowerment": {
            "none": {},
            "no_authority": {"synchronous": True},
            "authority_limit": {"limits": {"voice_en": 50, "chat_all": 100}, "leakage_share": 0.05},
            "tiered": {"agent_limits": {"voice_en": 50}, "team_lead_limit": 200},
        },
    }
