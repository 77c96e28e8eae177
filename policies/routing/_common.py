"""Helpers shared by the routing policies: agent choice, queue scans, and name checks against the scenario."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from sim.config import Scenario
from sim.defaults import LongestIdleRouting
from sim.interfaces import AgentInfo, ContactInfo, SystemView

EPS_S = 1e-6
"""Slack (seconds) in wait-threshold comparisons: a review requested at ``queued_s + threshold`` must see the
threshold crossed even if the engine's clock lands one rounding step early."""

INF = math.inf
DEFAULT = LongestIdleRouting()
"""The engine's default routing: pooled mode and pooled (reserve) agents decide exactly as it does."""


# ------------------------------------------------------------------------------------------------ shared helpers


def longest_available(view: SystemView, groups: Iterable[int], channel: int, deferrable: bool) -> AgentInfo | None:
    """Agent available for ``channel`` the longest among ``groups`` (deferrable work: only if it may blend)."""
    best, best_since = None, INF
    for group in groups:
        agent = view.first_available(group, channel)
        if agent is None or (deferrable and not view.can_blend(agent)):
            continue
        since = view.available_since(agent, channel)
        if since < best_since:
            best, best_since = agent, since
    return best


def split_groups(groups: Iterable[int], primary: Sequence[int], want: bool) -> Iterator[int]:
    """The groups whose membership in ``primary`` is ``want`` (primary groups, or the backups)."""
    return (g for g in groups if (g in primary) is want)


def live_then_deferrable(
    view: SystemView, agent: AgentInfo, best: Callable[[Iterable[int]], ContactInfo | None]
) -> ContactInfo | None:
    """``best`` over the agent's live queues, else over its deferrable queues (live work always comes first)."""
    contact = best(view.live_queues(agent))
    return contact if contact is not None else best(view.deferrable_queues(agent))


def oldest_waited(view: SystemView, queues: Iterable[int], threshold_s: float) -> ContactInfo | None:
    """Oldest head among ``queues`` that has waited at least ``threshold_s`` seconds, or ``None``."""
    best = None
    limit = view.now + EPS_S - threshold_s
    for head in view.heads(queues):
        if head.queued_s <= limit and (best is None or head.queued_s < best.queued_s):
            best = head
    return best


def unknown(where: str, kind: str, value: str, known: Iterable[str]) -> ValueError:
    return ValueError(f"{where}: unknown {kind} {value!r}; known: {sorted(known)}")


def check_groups_for_intent(scenario: Scenario, where: str, intent: str, groups: Iterable[str]) -> list[str]:
    """Validate group names listed for ``intent`` (known, with the skill); returns them without duplicates."""
    out = []
    for name in dict.fromkeys(groups):
        if name not in scenario.groups:
            raise unknown(where, "group", name, scenario.groups)
        if intent not in scenario.groups[name].skills:
            skilled = [g for g, spec in scenario.groups.items() if intent in spec.skills]
            raise ValueError(f"{where}: group {name!r} has no skill {intent!r}; groups with it: {skilled}")
        out.append(name)
    return out


def check_intent_groups(scenario: Scenario, where: str, by_intent: Mapping[str, list[str]]) -> None:
    """Validate an ``intent -> groups`` parameter: known intents, known groups that have the intent's skill."""
    for intent, groups in by_intent.items():
        if intent not in scenario.intents:
            raise unknown(where, "intent", intent, scenario.intents)
        check_groups_for_intent(scenario, f"{where}.{intent}", intent, groups)


def primary_table(scenario: Scenario, primary: Mapping[str, list[str]], where: str) -> list[list[list[tuple]]]:
    """Primary group codes per ``[channel][intent][language]`` code.

    The primary groups of a queue are the eligible groups listed in ``primary[intent]``; when the intent is not
    listed, or none of the listed groups serves that channel and language, the eligible groups with the best
    (lowest) proficiency multiplier for the intent.
    """
    check_intent_groups(scenario, where, primary)
    g_code = {name: i for i, name in enumerate(scenario.groups)}
    table = []
    for channel in scenario.channels:
        by_intent = []
        for intent in scenario.intents:
            listed = set(primary.get(intent, ()))
            by_lang = []
            for language in scenario.customers.languages:
                eligible = scenario.eligible_groups(channel, intent, language)
                chosen = [g for g in eligible if g in listed]
                if not chosen and eligible:
                    best = min(scenario.groups[g].skills[intent] for g in eligible)
                    chosen = [g for g in eligible if scenario.groups[g].skills[intent] == best]
                by_lang.append(tuple(g_code[g] for g in chosen))
            by_intent.append(by_lang)
        table.append(by_intent)
    return table
