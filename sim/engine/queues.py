"""Queue layout: which queues exist, the one function that computes a queue's key, and who serves each queue.

There is one queue per channel x intent x language x priority x tier that can occur. Urgent queues exist for
intents with an ``urgent_share`` and VIP queues when there is a ``vip_share`` (and for a replayed log that maps a
priority or tier column or default), so a scenario without priorities keeps one queue per channel x intent x
language, and the engine's fast paths.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from sim.config import ReplayArrivals, Scenario
from sim.entities import Queue

__all__ = ["QueueLayout", "queue_key"]

Codes = TypeVar("Codes", int, np.ndarray)
"""One code (int) or a numpy array of codes (a whole arrival batch)."""


def queue_key(
    channel: Codes, intent: Codes, language: Codes, priority: Codes, tier: Codes, n_intents: int, n_languages: int
) -> Codes:
    """Position of a (channel, intent, language, priority, tier) combination in :attr:`QueueLayout.index`.

    Works on integers and, element-wise, on numpy integer arrays (a whole arrival batch at once).
    """
    return ((channel * n_intents + intent) * n_languages + language) * 4 + priority * 2 + tier


class QueueLayout:
    """The queues of a scenario and, per agent group, the queues it may take work from.

    Args:
        scenario: The validated scenario.
        language_fallback: The routing policy may give a contact to a group that lacks its language (then
            :attr:`q_groups` includes the fallback groups).
    """

    def __init__(self, scenario: Scenario, *, language_fallback: bool) -> None:
        sc = scenario
        self.channels = list(sc.channels)
        self.intents = list(sc.intents)
        self.languages = list(sc.customers.languages)
        self.groups = list(sc.groups)
        n_ch, n_int, n_lang = len(self.channels), len(self.intents), len(self.languages)
        self.n_intents, self.n_languages = n_int, n_lang
        deferrable = [sc.channels[c].kind == "deferrable" for c in self.channels]
        arrivals = sc.arrivals
        logged = {
            f
            for f in ("priority", "tier")
            if isinstance(arrivals, ReplayArrivals) and (f in arrivals.columns or f in arrivals.defaults)
        }
        tiers = (0, 1) if "tier" in logged or sc.customers.vip_share > 0 else (0,)
        self.queues: list[Queue] = []
        self.index = np.full(n_ch * n_int * n_lang * 4, -1, dtype=np.int64)
        """Queue index by :func:`queue_key` (-1: no such queue)."""
        for ci, ch in enumerate(self.channels):
            for ii, intent in enumerate(self.intents):
                prios = (0, 1) if "priority" in logged or sc.intents[intent].urgent_share > 0 else (0,)
                skilled = [
                    gi
                    for gi, g in enumerate(self.groups)
                    if ch in sc.groups[g].channels and intent in sc.groups[g].skills
                ]
                for li, lang in enumerate(self.languages):
                    groups = tuple(self.groups.index(g) for g in sc.eligible_groups(ch, intent, lang))
                    fallback = tuple(g for g in skilled if g not in groups)
                    for prio in prios:
                        for tier in tiers:
                            qi = len(self.queues)
                            self.queues.append(Queue(qi, ci, ii, li, deferrable[ci], groups, prio, tier, fallback))
                            self.index[queue_key(ci, ii, li, prio, tier, n_int, n_lang)] = qi
        self.qmap: list[int] = self.index.tolist()
        """:attr:`index` as a list (faster to index one key at a time)."""
        n_g = len(self.groups)
        # Per group: live queues by channel, all live queues, deferrable queues (stable order by index).
        self.g_live_by_ch: list[list[tuple[int, ...]]] = []
        self.g_live: list[tuple[int, ...]] = []
        self.g_deferrable: list[tuple[int, ...]] = []
        for g in range(n_g):
            mine = [q for q in self.queues if g in q.groups]
            self.g_live_by_ch.append(
                [tuple(q.index for q in mine if q.channel == c and not q.deferrable) for c in range(n_ch)]
            )
            self.g_live.append(tuple(q.index for q in mine if not q.deferrable))
            self.g_deferrable.append(tuple(q.index for q in mine if q.deferrable))
        # Language fallback: groups with the channel and skill but not the language, when the policy asks for it.
        self.g_fallback_by_ch: list[list[tuple[int, ...]]] = []
        self.g_fallback: list[tuple[int, ...]] = []
        for g in range(n_g):
            mine = [q for q in self.queues if g in q.fallback_groups and not q.deferrable]
            self.g_fallback_by_ch.append([tuple(q.index for q in mine if q.channel == c) for c in range(n_ch)])
            self.g_fallback.append(tuple(q.index for q in mine))
        self.q_groups = [
            frozenset(q.groups) | (frozenset(q.fallback_groups) if language_fallback else frozenset())
            for q in self.queues
        ]
        """Groups allowed to serve each queue (with the fallback groups when the policy uses them)."""

    def key(self, channel: int, intent: int, language: int, priority: int, tier: int) -> int:
        """The queue index of one combination (-1: no such queue)."""
        return self.qmap[queue_key(channel, intent, language, priority, tier, self.n_intents, self.n_languages)]
