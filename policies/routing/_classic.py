"""The single-rule routing policies: each makes both decisions its own way (see :mod:`policies.routing`).

Each policy makes the two decisions of :class:`sim.interfaces.RoutingPolicy` over the read-only
:class:`~sim.interfaces.SystemView`. Policies that refer to names in their parameters (groups, intents, channels)
resolve them once in ``bind(scenario)`` into code tables (attributes with a trailing ``_``), so the per-decision
work stays a few lookups. Waits are measured from ``queued_s`` (when the contact joined the human queue), and every
rule that fires after a wait asks the engine to re-offer the available agents at that time
(:meth:`~sim.interfaces.SystemView.request_review`). Live work always comes before deferrable work.

The engine's default, longest-idle agent with FIFO contacts, is :class:`sim.defaults.LongestIdleRouting`.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.config import Scenario
from sim.defaults import oldest_head
from sim.interfaces import AgentInfo, ContactInfo, RoutingPolicy, SystemView
from sim.units import MODEL_CONFIG, Duration, PositiveDuration

from ._common import (
    DEFAULT,
    EPS_S,
    INF,
    check_intent_groups,
    live_then_deferrable,
    longest_available,
    oldest_waited,
    primary_table,
    split_groups,
    unknown,
)

__all__ = [
    "ChannelPoolingRouting",
    "LanguageFallbackRouting",
    "LastAgentRouting",
    "LeastLoadedRouting",
    "OverflowRouting",
    "PriorityRouting",
    "SkillBasedRouting",
    "ThresholdRebalancing",
]

# ------------------------------------------------------------------------------------------------------ policies


class SkillBasedRouting(RoutingPolicy):
    """Skill-based routing: preferred groups per intent first; freed agents take the intents they handle fastest.

    On arrival, the contact goes to the first group in its intent's order that has an available agent (that
    group's longest-available agent). The order is ``group_order[intent]`` when given (eligible groups not listed
    follow, in the default order); by default the groups with the skill sorted by proficiency multiplier
    ascending (a lower multiplier is a shorter handle time), ties in scenario order. When an agent frees
    capacity it ranks its live queues by its group's proficiency for their intent and takes the oldest head
    (earliest ``queued_s``) among the best-ranked queues that have a contact waiting; deferrable work the same
    way, only when no live contact waits.
    """

    class Params(BaseModel):
        """Parameters of :class:`SkillBasedRouting`."""

        model_config = MODEL_CONFIG

        group_order: dict[str, list[str]] = Field(
            default_factory=dict,
            description="Intent -> groups in order of preference (unlisted eligible groups come after them).",
        )

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``group_order`` into group codes per intent code and read the proficiency table.

        Raises:
            ValueError: An unknown intent or group in ``group_order``, or a group without the intent's skill.
        """
        check_intent_groups(scenario, "params.group_order", self.params.group_order)
        g_code = {name: i for i, name in enumerate(scenario.groups)}
        order = []
        for intent in scenario.intents:
            skill_of = {g: spec.skills[intent] for g, spec in scenario.groups.items() if intent in spec.skills}
            by_skill = sorted(skill_of, key=skill_of.__getitem__)  # stable: ties keep the groups' order
            listed = list(dict.fromkeys(self.params.group_order.get(intent, ())))
            order.append(tuple(g_code[g] for g in listed + [g for g in by_skill if g not in listed]))
        self.order_: list[tuple[int, ...]] = order
        """Group codes in order of preference per intent code."""
        self.proficiency_: list[list[float]] = [
            [spec.skills.get(intent, INF) for intent in scenario.intents] for spec in scenario.groups.values()
        ]
        """Handle-time multiplier per group code and intent code (``inf`` without the skill)."""

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available agent of the first group in the intent's order that has one, or ``None``."""
        queue = view.queue(contact.queue)
        groups, channel, deferrable = queue.groups, contact.channel, queue.deferrable
        for group in self.order_[contact.intent]:
            if group not in groups:
                continue
            agent = view.first_available(group, channel)
            if agent is not None and (not deferrable or view.can_blend(agent)):
                return agent
        return None

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest head among the live queues of the agent's best intent, else the same over deferrable queues."""
        prof = self.proficiency_[agent.group]
        return live_then_deferrable(view, agent, lambda queues: self._best(view, queues, prof))

    @staticmethod
    def _best(view: SystemView, queues: Iterable[int], prof: list[float]) -> ContactInfo | None:
        best, best_p = None, INF
        for head in view.heads(queues):
            p = prof[head.intent]
            if best is None or p < best_p or (p == best_p and head.queued_s < best.queued_s):
                best, best_p = head, p
        return best


class PriorityRouting(RoutingPolicy):
    """Urgent and VIP contacts first, with aging: a long enough wait outranks any priority.

    A waiting contact scores its wait (``now - queued_s``, seconds) plus ``urgent_boost`` if it is urgent and
    ``vip_boost`` if it is a VIP. A freed agent takes the live head with the highest score (ties: the earlier
    ``queued_s``), then deferrable heads the same way. A normal contact that has waited longer than the boost
    beats a fresh urgent one, so no class starves. On arrival, the contact goes to the longest-available agent.
    """

    class Params(BaseModel):
        """Parameters of :class:`PriorityRouting`."""

        model_config = MODEL_CONFIG

        urgent_boost: Duration = Field(300.0, description="Head start of an urgent contact (default 5min).")
        vip_boost: Duration = Field(120.0, description="Head start of a VIP contact (default 2min).")

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available eligible agent, or ``None``."""
        queue = view.queue(contact.queue)
        return longest_available(view, queue.groups, contact.channel, queue.deferrable)

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Highest-scoring live head, else the highest-scoring deferrable head, or ``None``."""
        return live_then_deferrable(view, agent, lambda queues: self._best(view, queues))

    def _best(self, view: SystemView, queues: Iterable[int]) -> ContactInfo | None:
        # Highest score = lowest queued_s - boost; a queue holds one priority and tier, so its boost is fixed.
        boost = self._boost(view)
        best, best_key = None, INF
        for head in view.heads(queues):
            key = head.queued_s - boost[head.queue]
            if key < best_key or (key == best_key and best is not None and head.queued_s < best.queued_s):
                best, best_key = head, key
        return best

    def _boost(self, view: SystemView) -> list[float]:
        """Head start of each queue's contacts (seconds), computed once per run (per view)."""
        if getattr(self, "view_", None) is not view:
            urgent, vip = self.params.urgent_boost, self.params.vip_boost
            self.boost_ = [urgent * q.priority + vip * q.tier for q in view.queues]
            self.view_ = view
        return self.boost_


class OverflowRouting(RoutingPolicy):
    """Time-based overflow: primary groups first; backup groups once a contact has waited a threshold.

    A contact is offered only to its queue's primary groups (``primary[intent]``; by default the eligible groups
    with the best proficiency multiplier for the intent). If none has an available agent, the contact waits and
    the engine is asked to review at ``queued_s + after``: from then on, agents of the other eligible (backup)
    groups may take it. A freed agent takes the oldest head among the queues it is primary for and the queues
    whose head has waited at least ``after`` (seconds; per channel with ``after_by_channel``); deferrable work
    the same way, only when no live contact is acceptable.
    """

    class Params(BaseModel):
        """Parameters of :class:`OverflowRouting`."""

        model_config = MODEL_CONFIG

        primary: dict[str, list[str]] = Field(
            default_factory=dict,
            description="Intent -> primary groups (default: the eligible groups with the best proficiency).",
        )
        after: PositiveDuration = Field(60.0, description="Wait after which backup groups may take a contact.")
        after_by_channel: dict[str, PositiveDuration] = Field(
            default_factory=dict, description="Channel -> overflow threshold, overriding ``after``."
        )

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve the primary groups per queue kind and the threshold per channel.

        Raises:
            ValueError: An unknown intent, group or channel in the parameters, or a group without the skill.
        """
        self.primary_ = primary_table(scenario, self.params.primary, "params.primary")
        """Primary group codes per ``[channel][intent][language]`` code."""
        for channel in self.params.after_by_channel:
            if channel not in scenario.channels:
                raise unknown("params.after_by_channel", "channel", channel, scenario.channels)
        self.after_: list[float] = [self.params.after_by_channel.get(c, self.params.after) for c in scenario.channels]
        """Overflow threshold per channel code (seconds)."""

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available agent of a primary group; else ``None`` and a review when the threshold is reached."""
        queue = view.queue(contact.queue)
        primary = self.primary_[queue.channel][queue.intent][queue.language]
        agent = longest_available(view, split_groups(queue.groups, primary, True), contact.channel, queue.deferrable)
        if agent is None and len(queue.groups) > len(primary):  # a backup group exists
            view.request_review(contact.queued_s + self.after_[contact.channel])
        return agent

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest acceptable live head (primary queue, or waited ``after``), else deferrable, or ``None``."""
        return live_then_deferrable(view, agent, lambda queues: self._best(view, queues, agent.group))

    def _best(self, view: SystemView, queues: Iterable[int], group: int) -> ContactInfo | None:
        now = view.now + EPS_S
        primary, after = self.primary_, self.after_
        best = None
        for head in view.heads(queues):
            if best is not None and head.queued_s >= best.queued_s:
                continue
            if group in primary[head.channel][head.intent][head.language] or head.queued_s + after[head.channel] <= now:
                best = head
        return best


class LastAgentRouting(RoutingPolicy):
    """Sticky routing: a returning customer waits up to ``timeout`` for the agent who served them last.

    On arrival, if the customer's last agent is logged in and belongs to a group that serves the contact's queue,
    the contact goes to that agent when it is available; otherwise it waits for that agent, and the engine is
    asked to review at ``queued_s + timeout``, after which any eligible agent may take it. A returning customer
    whose last agent cannot serve the queue or is off duty (or a new customer) goes to the longest-available
    agent. A freed agent first takes the
    oldest waiting contact whose last agent it is (from anywhere in its live queues, not only the heads), else
    the oldest contact not reserved for another agent; deferrable work as the default routing.
    """

    uses_last_agent = True

    class Params(BaseModel):
        """Parameters of :class:`LastAgentRouting`."""

        model_config = MODEL_CONFIG

        timeout: PositiveDuration = Field(
            120.0, description="Longest a returning customer is held for their last agent (default 2min)."
        )

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """The customer's last agent if it can serve now; ``None`` (with a review) while it is busy; else FIFO."""
        queue = view.queue(contact.queue)
        channel = contact.channel
        # A transfer's second service is not a return: its "last agent" is the one who just transferred it.
        last = view.last_agent(contact.customer_id) if contact.parent is None else None
        if last is not None and last.group in queue.groups and view.is_logged_in(last):
            if view.is_available(last, channel) and (not queue.deferrable or view.can_blend(last)):
                return last
            view.request_review(contact.queued_s + self.params.timeout)
            return None
        return longest_available(view, queue.groups, channel, queue.deferrable)

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest contact of this agent's returning customers, else the oldest unreserved one, else deferrable."""
        me = agent.id
        limit = view.now + EPS_S - self.params.timeout  # queued_s above this: still reserved for its last agent
        mine = free = None
        for q in view.live_queues(agent):
            groups = None
            for c in view.waiting(q):
                if mine is not None and c.queued_s >= mine.queued_s:
                    break  # waiting() is in queue order: nothing older follows
                last = view.last_agent(c.customer_id) if c.parent is None else None
                if last is not None and last.id == me:
                    mine = c
                    break
                if free is not None and c.queued_s >= free.queued_s:
                    continue  # only a contact of mine further on could still matter
                if last is not None and c.queued_s > limit:
                    if groups is None:
                        groups = view.queue(q).groups
                    if last.group in groups and view.is_logged_in(last):
                        continue  # reserved for another agent, who is on duty
                free = c
        if mine is not None:
            return mine
        if free is not None:
            return free
        return oldest_head(view, view.deferrable_queues(agent))


class LeastLoadedRouting(RoutingPolicy):
    """Least-loaded agent first: the eligible agent with the fewest contacts in hand, for concurrent chat.

    On arrival, the contact goes to the available eligible agent (across all groups that serve its queue) with
    the fewest contacts in hand (``n_active``); ties go to the agent available the longest. This spreads chats
    evenly, so fewer chats are slowed by concurrency inflation. A freed agent takes the oldest live head, else
    the oldest deferrable item, as the default routing does.
    """

    class Params(BaseModel):
        """No parameters."""

        model_config = MODEL_CONFIG

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Available eligible agent with the fewest contacts in hand (ties: longest available), or ``None``."""
        queue = view.queue(contact.queue)
        channel, deferrable = contact.channel, queue.deferrable
        best, best_n, best_since = None, 0, INF
        for group in queue.groups:
            for agent in view.available(group, channel):
                n = agent.n_active
                if best is not None and n > best_n:
                    continue
                if deferrable and not view.can_blend(agent):
                    continue
                since = view.available_since(agent, channel)
                if best is None or n < best_n or since < best_since:
                    best, best_n, best_since = agent, n, since
                if n == 0:
                    break  # later agents of this group were available for less time
        return best

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest live head, else the oldest deferrable head, or ``None``."""
        return live_then_deferrable(view, agent, lambda queues: oldest_head(view, queues))


class LanguageFallbackRouting(RoutingPolicy):
    """Language as a hard constraint, optionally relaxed to agents without the language after a wait.

    Contacts go to agents who speak their language (longest-available first; freed agents take the oldest live
    head). With ``after`` set, a contact that has waited that long may also go to an agent with the channel and
    the skill but not the language (its queue's ``fallback_groups``): the engine is asked to review at
    ``queued_s + after``, and a freed agent with no contact in its own languages takes the oldest such head.
    Deferrable work comes last, as in the default routing. ``after: null`` never falls back.
    """

    language_fallback = True

    class Params(BaseModel):
        """Parameters of :class:`LanguageFallbackRouting`."""

        model_config = MODEL_CONFIG

        after: PositiveDuration | None = Field(
            None, description="Wait after which agents without the language may serve (null: never)."
        )

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available agent speaking the language; else ``None`` and a review for the fallback time."""
        queue = view.queue(contact.queue)
        agent = longest_available(view, queue.groups, contact.channel, queue.deferrable)
        after = self.params.after
        if agent is None and after is not None and queue.fallback_groups:
            view.request_review(contact.queued_s + after)
        return agent

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest live head in the agent's languages, else the oldest fallback head that waited ``after``."""
        best = oldest_head(view, view.live_queues(agent))
        after = self.params.after
        if best is None and after is not None:
            best = oldest_waited(view, view.fallback_queues(agent), after)
        if best is None:
            best = oldest_head(view, view.deferrable_queues(agent))
        return best


class ChannelPoolingRouting(RoutingPolicy):
    """Omnichannel pooling versus channel silos: each agent serves any of its channels, or only a dedicated one.

    ``pooled`` is the default routing: any qualified agent takes any channel (longest-available agent, oldest
    contact). ``silos`` dedicates each rostered agent to one of its group's channels: with shares ``s_1..s_m``
    (``split[group]``, normalised; default equal over the group's channels, in the group's order), the roster
    is dealt out in turn: agent ``k`` serves the channel furthest below its share of agents ``0..k``, the
    largest ``(k + 1) * s_j - (agents before k dedicated to j)``, ties to the earlier channel. Every prefix of
    the roster is then split in the shares within one agent per channel, and every stretch of it within two;
    rosters list agents shift by shift, so every shift is split too (a split of the roster in blocks would
    put whole shifts on one channel). Reserve agents (``index >=`` the roster size) stay pooled. A silo agent
    is offered only contacts of its channel and takes only that channel's queues (live, then deferrable).
    """

    class Params(BaseModel):
        """Parameters of :class:`ChannelPoolingRouting`."""

        model_config = MODEL_CONFIG

        mode: Literal["pooled", "silos"] = Field("pooled", description="Pool all channels, or dedicate agents.")
        split: dict[str, dict[str, Annotated[float, Field(ge=0.0)]]] = Field(
            default_factory=dict,
            description="Group -> channel -> share of its agents dedicated to the channel in silos mode.",
        )

        @field_validator("split")
        @classmethod
        def _some_share(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
            for group, shares in value.items():
                if sum(shares.values()) <= 0:
                    raise ValueError(f"group {group!r}: shares must not all be zero")
            return value

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve the channel shares per group into weights over channel codes.

        Raises:
            ValueError: An unknown group in ``split``, or a channel the group does not handle.
        """
        c_code = {name: i for i, name in enumerate(scenario.channels)}
        for group, shares in self.params.split.items():
            if group not in scenario.groups:
                raise unknown("params.split", "group", group, scenario.groups)
            own = scenario.groups[group].channels
            for channel in shares:
                if channel not in own:
                    raise ValueError(
                        f"params.split.{group}: channel {channel!r} is not one of the group's channels {own}"
                    )
        weights = []
        for name, spec in scenario.groups.items():
            split = self.params.split.get(name)
            row = [(c_code[c], Fraction(split.get(c, 0.0) if split is not None else 1.0)) for c in spec.channels]
            weights.append(tuple(row))
        self.weights_: list[tuple[tuple[int, Fraction], ...]] = weights
        """Per group code: ``(channel code, weight)`` in the group's channel order (exact, for exact ties)."""
        self.channel_of_: list[list[int]] = [[] for _ in weights]
        """Per group code: the channel code of roster agents ``0, 1, ...`` dealt so far."""
        self.silos_: bool = self.params.mode == "silos"

    def dedicated(self, agent: AgentInfo, view: SystemView) -> int:
        """Channel code the agent is dedicated to in silos mode, or -1 (pooled: pooled mode or a reserve agent)."""
        if not self.silos_:
            return -1
        k = agent.index
        if k >= view.group_size(agent.group):
            return -1
        dealt = self.channel_of_[agent.group]
        if k >= len(dealt):
            self._deal(agent.group, k + 1)
        return dealt[k]

    def _deal(self, group: int, n: int) -> None:
        """Extend the dedicated channels of ``group`` to its first ``n`` roster agents."""
        weights = self.weights_[group]
        total = sum(w for _, w in weights)
        dealt = self.channel_of_[group]
        counts = {c: 0 for c, _ in weights}
        for c in dealt:
            counts[c] += 1
        while len(dealt) < n:
            k = len(dealt)
            # Deficit of channel c after agent k, times ``total``: (k + 1) * w - count * total. A channel with a
            # zero weight never has the largest deficit (the deficits sum to ``total`` > 0).
            best = max(weights, key=lambda cw: (k + 1) * cw[1] - counts[cw[0]] * total)[0]  # first of equals
            dealt.append(best)
            counts[best] += 1

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available eligible agent (silos: among those dedicated to the contact's channel), or ``None``."""
        queue = view.queue(contact.queue)
        channel, deferrable = contact.channel, queue.deferrable
        if not self.silos_:
            return DEFAULT.select_agent(contact, view)
        best, best_since = None, INF
        for group in queue.groups:
            for agent in view.available(group, channel):  # longest available first: the first match is the one
                if self.dedicated(agent, view) in (channel, -1):
                    if not deferrable or view.can_blend(agent):
                        since = view.available_since(agent, channel)
                        if since < best_since:
                            best, best_since = agent, since
                    break
        return best

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest live head (silos: of the agent's channel), else the oldest deferrable head, or ``None``."""
        channel = self.dedicated(agent, view)
        if channel < 0:
            return DEFAULT.select_contact(agent, view)
        return live_then_deferrable(
            view, agent, lambda queues: oldest_head(view, (q for q in queues if view.queue(q).channel == channel))
        )


class ThresholdRebalancing(RoutingPolicy):
    """Real-time rebalancing: backup groups join a queue while its length or oldest wait crosses a limit.

    Primary groups (``primary[intent]``, default as :class:`OverflowRouting`) serve their queues as usual. A queue
    is hot while at least ``max_queue`` contacts wait in it or its head has waited at least ``max_wait``
    (seconds); the other eligible (backup) groups serve it only while it is hot, and every agent takes hot
    queues' heads (oldest first) before non-hot ones. On arrival, the contact goes to the longest-available
    primary agent; if none, it queues and, when its queue is hot with a backup agent available, the engine is
    asked to review now so that backup agents take the oldest contacts first; with ``max_wait`` set, a review
    is also requested at ``queued_s + max_wait``.
    """

    class Params(BaseModel):
        """Parameters of :class:`ThresholdRebalancing`."""

        model_config = MODEL_CONFIG

        primary: dict[str, list[str]] = Field(
            default_factory=dict,
            description="Intent -> primary groups (default: the eligible groups with the best proficiency).",
        )
        max_queue: Annotated[int, Field(ge=1)] | None = Field(
            10, description="Contacts waiting in a queue that make it hot (null: no length limit)."
        )
        max_wait: PositiveDuration | None = Field(
            120.0, description="Wait of a queue's oldest contact that makes it hot (null: no wait limit)."
        )

        @model_validator(mode="after")
        def _some_limit(self) -> ThresholdRebalancing.Params:
            if self.max_queue is None and self.max_wait is None:
                raise ValueError("max_queue and max_wait are both null: set at least one limit")
            return self

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve the primary groups per queue kind.

        Raises:
            ValueError: An unknown intent or group in ``primary``, or a group without the skill.
        """
        self.primary_ = primary_table(scenario, self.params.primary, "params.primary")
        """Primary group codes per ``[channel][intent][language]`` code."""

    def is_hot(self, queue: int, view: SystemView, extra: int = 0) -> bool:
        """Whether ``queue`` is over a limit now (``extra``: contacts about to join it, counted in its length)."""
        return self._hot(view.head(queue), queue, view, extra)

    def _hot(self, head: ContactInfo | None, queue: int, view: SystemView, extra: int = 0) -> bool:
        if head is None and extra == 0:
            return False
        max_wait, max_queue = self.params.max_wait, self.params.max_queue
        if head is not None and max_wait is not None and head.queued_s + max_wait <= view.now + EPS_S:
            return True
        return max_queue is not None and view.queue_length(queue, max_queue) + extra >= max_queue

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available primary agent; else ``None``, with a review now if backups may take the hot queue."""
        queue = view.queue(contact.queue)
        channel, deferrable = contact.channel, queue.deferrable
        primary = self.primary_[queue.channel][queue.intent][queue.language]
        agent = longest_available(view, split_groups(queue.groups, primary, True), channel, deferrable)
        if agent is not None:
            return agent
        # Backups take the oldest contacts of a hot queue, not this newcomer: the contact queues, and a review
        # now lets the available backup agents pull heads in FIFO order.
        if (
            self.is_hot(contact.queue, view, extra=1)
            and longest_available(view, split_groups(queue.groups, primary, False), channel, deferrable) is not None
        ):
            view.request_review(view.now)
        if self.params.max_wait is not None:
            view.request_review(contact.queued_s + self.params.max_wait)
        return None

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest head of a hot queue, else of a queue it is primary for; live before deferrable; or ``None``."""
        return live_then_deferrable(view, agent, lambda queues: self._best(view, queues, agent.group))

    def _best(self, view: SystemView, queues: Iterable[int], group: int) -> ContactInfo | None:
        primary = self.primary_
        best, best_hot = None, False
        for head in view.heads(queues):
            older = best is None or head.queued_s < best.queued_s
            if best_hot and not older:
                continue  # cannot beat a hot head that joined earlier
            hot = self._hot(head, head.queue, view)
            if not hot and group not in primary[head.channel][head.intent][head.language]:
                continue  # a backup queue that is not hot
            if (hot and not best_hot) or (hot == best_hot and older):
                best, best_hot = head, hot
        return best
