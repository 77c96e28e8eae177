"""Routing policies: who gets an arriving contact, and which waiting contact a freed agent takes.

Two kinds of policy, both registered in :mod:`policies.registry`:

* The single-rule policies (:mod:`policies.routing._classic`): each makes both decisions its own way
  (``priority``, ``overflow``, ``last_agent``, ``rebalancing``, ...).
* :class:`ComposedRouting` (``composed``): an *order* in which queued contacts are taken (FIFO, strict priority,
  priority with aging, skill), an *agent choice* for arrivals (longest idle, least loaded), and a list of
  *eligibility rules* that decide which agents may take a contact and when (overflow, rebalancing, sticky last
  agent, language fallback), so that "priority with overflow" is one policy.

The engine's default, longest-idle agent with FIFO contacts, is :class:`sim.defaults.LongestIdleRouting`.
"""

from __future__ import annotations

from ._classic import (
    ChannelPoolingRouting,
    LanguageFallbackRouting,
    LastAgentRouting,
    LeastLoadedRouting,
    OverflowRouting,
    PriorityRouting,
    SkillBasedRouting,
    ThresholdRebalancing,
)
from ._composed import ComposedRouting

__all__ = [
    "ChannelPoolingRouting",
    "ComposedRouting",
    "LanguageFallbackRouting",
    "LastAgentRouting",
    "LeastLoadedRouting",
    "OverflowRouting",
    "PriorityRouting",
    "SkillBasedRouting",
    "ThresholdRebalancing",
]
