"""A small scenario that exercises every policy slot, and one example spec per registered policy.

The conformance suite (``test_conformance.py``) runs every registered policy on :func:`conformance_scenario`;
a policy added to the registry without an entry in :data:`EXAMPLES` fails ``test_every_policy_has_an_example``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sim.config import Scenario

BASE: dict[str, Any] = {
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
}
"""Three channels (chat with a bot, concurrency 3; email deferrable), two intents (billing needs approvals),
two languages, four groups that overlap in channels, skills and languages (so overflow, language fallback,
pooling and rebalancing have backups to use), a team-lead pool, a back office, and transfers of 10% of billing
contacts to tech. Nobody serves chat at night
(22:00-06:00), so off-hours deflection has hours to act in."""

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


def conformance_scenario(**overrides: Any) -> Scenario:
    """The conformance scenario; keyword arguments replace top-level keys of :data:`BASE`."""
    data = copy.deepcopy(BASE)
    data.update(overrides)
    return Scenario.model_validate(data)


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
