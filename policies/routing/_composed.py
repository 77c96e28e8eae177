"""Composed routing: an order for queued contacts, an agent choice for arrivals, and eligibility rules.

A routing policy answers two questions (:class:`sim.interfaces.RoutingPolicy`). :class:`ComposedRouting` splits
them into three parts that combine freely:

* **order** (``order``): which waiting contact a freed agent takes first among those it may take: ``fifo`` (the
  earliest ``queued_s``), ``strict_priority`` (urgent before normal, VIP before regular, then FIFO),
  ``priority_aging`` (a contact scores its wait plus a head start for urgent and VIP contacts; the highest score
  first, so a long wait outranks any priority) or ``skill`` (the intents the agent's group handles fastest first,
  then FIFO).
* **agent choice** (``agents``): which available agent gets an arriving contact: ``longest_idle`` (the agent
  available the longest) or ``least_loaded`` (the fewest contacts in hand, ties to the longest available).
* **eligibility rules** (``eligibility``, a list): which agents may take a contact, and when. ``overflow`` (only
  primary groups until the contact has waited ``after``), ``rebalancing`` (backup groups only while the queue is
  hot, and hot queues first), ``sticky_last_agent`` (a returning customer is held for their last agent up to
  ``timeout``, and a freed agent takes its own returning customers first) and ``language_fallback`` (agents
  without the language may take a contact once it has waited ``after``, after every contact in their own
  languages).

How the parts combine:

* A contact may go to an agent only if **every** rule allows it (the rules restrict in turn; language fallback is
  the one rule that widens the eligible groups, to those without the language, after its wait). Overflow and
  rebalancing together: a backup group takes a contact once it has waited ``after`` *and* its queue is hot.
* A freed agent ranks the contacts it may take by the preferences the rules state, in the order the rules are
  listed (rebalancing: hot queues first; sticky: the agent's own returning customers first), then by the order,
  then by ``queued_s``; the first of equals wins. Live work comes first, then (with ``language_fallback``) the
  live contacts of languages the agent lacks, then deferrable work; ``sticky_last_agent`` and
  ``language_fallback`` apply to live work only, ``overflow`` and ``rebalancing`` to deferrable work too.
* On arrival the agent choice picks among the agents of the groups every rule admits at once (overflow and
  rebalancing: the primary groups); a returning customer held by ``sticky_last_agent`` goes to their last agent
  or waits. If the contact waits, each rule asks the engine to re-offer the available agents when its condition
  can change (:meth:`~sim.interfaces.SystemView.request_review`).

With one part set and the others at their defaults, a composed policy decides exactly as the single-rule policy
of the same name (``priority`` = order ``priority_aging``, ``overflow``, ``rebalancing``, ``last_agent`` =
``sticky_last_agent``, ``language_fallback``, ``least_loaded``, and ``longest_idle`` = all defaults); tests check
that the frames are identical.

Example (YAML)::

    policies:
      routing:
        name: composed
        params:
          order: {name: priority_aging, urgent_boost: 5min, vip_boost: 2min}
          eligibility:
            - {name: overflow, after: 30s, primary: {billing: [billing_team]}}
            - {name: sticky_last_agent, timeout: 1min}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.config import Scenario
from sim.interfaces import AgentInfo, ContactInfo, QueueInfo, RoutingPolicy, SystemView
from sim.units import MODEL_CONFIG, Duration, PositiveDuration

from ._common import EPS_S, INF, longest_available, primary_table, unknown

__all__ = [
    "AgentChoice",
    "ComposedRouting",
    "FifoOrder",
    "LanguageFallbackRule",
    "LeastLoadedAgents",
    "LongestIdleAgents",
    "Order",
    "OverflowRule",
    "PriorityAgingOrder",
    "RebalancingRule",
    "Rule",
    "SkillOrder",
    "StickyLastAgentRule",
    "StrictPriorityOrder",
]

SKIP = -1
"""Verdict of a rule on one waiting contact: this agent may not take it; a later contact of the queue may do."""
STOP = -2
"""Verdict: this agent may take neither this contact nor any later one of its queue (they joined later)."""


# ------------------------------------------------------------------------------------------------------ the order


class FifoOrder(BaseModel):
    """First in, first out: the earliest ``queued_s`` first."""

    model_config = MODEL_CONFIG
    name: Literal["fifo"]


class StrictPriorityOrder(BaseModel):
    """Urgent before normal and VIP before regular (urgent VIP, urgent, normal VIP, normal), then FIFO; no aging."""

    model_config = MODEL_CONFIG
    name: Literal["strict_priority"]


class PriorityAgingOrder(BaseModel):
    """Priority with aging: the highest ``wait + urgent_boost * urgent + vip_boost * vip`` first (seconds)."""

    model_config = MODEL_CONFIG
    name: Literal["priority_aging"]
    urgent_boost: Duration = Field(300.0, description="Head start of an urgent contact (default 5min).")
    vip_boost: Duration = Field(120.0, description="Head start of a VIP contact (default 2min).")


class SkillOrder(BaseModel):
    """The intents the agent's group handles fastest (lowest proficiency multiplier) first, then FIFO."""

    model_config = MODEL_CONFIG
    name: Literal["skill"]


Order = Annotated[FifoOrder | StrictPriorityOrder | PriorityAgingOrder | SkillOrder, Field(discriminator="name")]
"""The order in which a freed agent takes the contacts it may take (``name`` selects it)."""


# --------------------------------------------------------------------------------------------- the agent choice


class LongestIdleAgents(BaseModel):
    """The agent available for the contact's channel the longest."""

    model_config = MODEL_CONFIG
    name: Literal["longest_idle"]


class LeastLoadedAgents(BaseModel):
    """The agent with the fewest contacts in hand (concurrent chat), ties to the one available the longest."""

    model_config = MODEL_CONFIG
    name: Literal["least_loaded"]


AgentChoice = Annotated[LongestIdleAgents | LeastLoadedAgents, Field(discriminator="name")]
"""Which available agent gets an arriving contact (``name`` selects it)."""


# --------------------------------------------------------------------------------------------------- the rules


class OverflowRule(BaseModel):
    """Primary groups first; the other eligible (backup) groups once the contact has waited ``after`` seconds."""

    model_config = MODEL_CONFIG
    name: Literal["overflow"]
    primary: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Intent -> primary groups (default: the eligible groups with the best proficiency).",
    )
    after: PositiveDuration = Field(60.0, description="Wait after which backup groups may take a contact.")
    after_by_channel: dict[str, PositiveDuration] = Field(
        default_factory=dict, description="Channel -> overflow threshold, overriding ``after``."
    )


class RebalancingRule(BaseModel):
    """Backup groups serve a queue only while it is hot (``max_queue`` waiting or a ``max_wait`` wait, seconds)."""

    model_config = MODEL_CONFIG
    name: Literal["rebalancing"]
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
    def _some_limit(self) -> RebalancingRule:
        if self.max_queue is None and self.max_wait is None:
            raise ValueError("max_queue and max_wait are both null: set at least one limit")
        return self


class StickyLastAgentRule(BaseModel):
    """A returning customer is held for the agent who served them last, up to ``timeout`` seconds."""

    model_config = MODEL_CONFIG
    name: Literal["sticky_last_agent"]
    timeout: PositiveDuration = Field(
        120.0, description="Longest a returning customer is held for their last agent (default 2min)."
    )


class LanguageFallbackRule(BaseModel):
    """Agents without the contact's language may take it once it has waited ``after`` seconds."""

    model_config = MODEL_CONFIG
    name: Literal["language_fallback"]
    after: PositiveDuration = Field(60.0, description="Wait after which agents without the language may serve.")


Rule = Annotated[
    OverflowRule | RebalancingRule | StickyLastAgentRule | LanguageFallbackRule, Field(discriminator="name")
]
"""An eligibility rule (``name`` selects it)."""


def _named(value: Any) -> Any:
    """A bare name (``fifo``) stands for ``{name: fifo}``."""
    return {"name": value} if isinstance(value, str) else value


# ------------------------------------------------------------------------------------------- rules at run time


class _Gate:
    """An eligibility rule bound to a scenario.

    ``judge`` returns the rule's rank of a waiting contact for an agent (0 first, 1 after; a rule without a
    preference returns 0), or :data:`SKIP` / :data:`STOP`. A rule whose verdict depends on the contact itself,
    not only on its queue and its wait, sets ``per_contact`` (the policy then scans queues past their heads).
    """

    ranks = False
    """Whether the rule prefers some contacts (its ranks take part in the freed agent's choice)."""
    per_contact = False
    """Whether the verdict depends on more than the contact's queue and wait (then queues are scanned)."""
    deferrable = True
    """Whether the rule applies to deferrable work."""

    def admits(self, group: int, queue: QueueInfo) -> bool:
        """Whether agents of ``group`` may get a contact of ``queue`` on its arrival."""
        return True

    def queued(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> None:
        """The contact waits: ask for a review when this rule's verdict on it can change."""

    def judge(self, agent: AgentInfo, contact: ContactInfo, view: SystemView) -> int:
        """Rank of ``contact`` for ``agent`` (>= 0), or SKIP / STOP."""
        return 0


class _Overflow(_Gate):
    def __init__(self, spec: OverflowRule, scenario: Scenario, where: str) -> None:
        self.primary = primary_table(scenario, spec.primary, f"{where}.primary")
        for channel in spec.after_by_channel:
            if channel not in scenario.channels:
                raise unknown(f"{where}.after_by_channel", "channel", channel, scenario.channels)
        self.after = [spec.after_by_channel.get(c, spec.after) for c in scenario.channels]

    def admits(self, group: int, queue: QueueInfo) -> bool:
        return group in self.primary[queue.channel][queue.intent][queue.language]

    def queued(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> None:
        if len(queue.groups) > len(self.primary[queue.channel][queue.intent][queue.language]):  # a backup exists
            view.request_review(contact.queued_s + self.after[contact.channel])

    def judge(self, agent: AgentInfo, contact: ContactInfo, view: SystemView) -> int:
        c = contact
        if agent.group in self.primary[c.channel][c.intent][c.language]:
            return 0
        return 0 if c.queued_s + self.after[c.channel] <= view.now + EPS_S else STOP


class _Rebalancing(_Gate):
    ranks = True

    def __init__(self, spec: RebalancingRule, scenario: Scenario, where: str) -> None:
        self.primary = primary_table(scenario, spec.primary, f"{where}.primary")
        self.max_queue, self.max_wait = spec.max_queue, spec.max_wait

    def hot(self, head: ContactInfo | None, queue: int, view: SystemView, extra: int = 0) -> bool:
        """Whether ``queue`` is over a limit now (``extra``: contacts about to join it, counted in its length)."""
        if head is None and extra == 0:
            return False
        max_wait, max_queue = self.max_wait, self.max_queue
        if head is not None and max_wait is not None and head.queued_s + max_wait <= view.now + EPS_S:
            return True
        return max_queue is not None and view.queue_length(queue, max_queue) + extra >= max_queue

    def admits(self, group: int, queue: QueueInfo) -> bool:
        return group in self.primary[queue.channel][queue.intent][queue.language]

    def queued(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> None:
        # Backups take the oldest contacts of a hot queue, not this newcomer: a review now lets the available
        # backup agents pull contacts in the policy's order.
        if self.hot(view.head(contact.queue), contact.queue, view, extra=1):
            primary = self.primary[queue.channel][queue.intent][queue.language]
            backups = (g for g in queue.groups if g not in primary)
            if longest_available(view, backups, contact.channel, queue.deferrable) is not None:
                view.request_review(view.now)
        if self.max_wait is not None:
            view.request_review(contact.queued_s + self.max_wait)

    def judge(self, agent: AgentInfo, contact: ContactInfo, view: SystemView) -> int:
        c = contact
        head = view.head(c.queue)
        if self.hot(head, c.queue, view):
            return 0
        return 1 if agent.group in self.primary[c.channel][c.intent][c.language] else STOP


class _Sticky(_Gate):
    ranks = True
    per_contact = True
    deferrable = False

    def __init__(self, spec: StickyLastAgentRule) -> None:
        self.timeout = spec.timeout

    def reserved_for(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> AgentInfo | None:
        """The on-duty last agent a returning customer is held for (a group serving its queue), or ``None``."""
        # A transfer's second service is not a return: its "last agent" is the one who just transferred it.
        last = view.last_agent(contact.customer_id) if contact.parent is None else None
        if last is not None and last.group in queue.groups and view.is_logged_in(last):
            return last
        return None

    def judge(self, agent: AgentInfo, contact: ContactInfo, view: SystemView) -> int:
        c = contact
        last = view.last_agent(c.customer_id) if c.parent is None else None
        if last is None:
            return 1
        if last.id == agent.id:
            return 0
        if (
            c.queued_s > view.now + EPS_S - self.timeout
            and last.group in view.queue(c.queue).groups
            and view.is_logged_in(last)
        ):
            return SKIP  # still held for another agent, who is on duty
        return 1


class _Fallback(_Gate):
    """Gate of the language-fallback stage: a contact of a language the agent lacks, once it waited ``after``."""

    deferrable = False

    def __init__(self, spec: LanguageFallbackRule) -> None:
        self.after = spec.after

    def queued(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> None:
        if queue.fallback_groups:
            view.request_review(contact.queued_s + self.after)

    def judge(self, agent: AgentInfo, contact: ContactInfo, view: SystemView) -> int:
        return 0 if contact.queued_s <= view.now + EPS_S - self.after else STOP


# ------------------------------------------------------------------------------------------------------- policy

Key = Callable[[AgentInfo, ContactInfo, SystemView], float]


class ComposedRouting(RoutingPolicy):
    """Composed routing: an order for queued contacts, an agent choice, and eligibility rules that combine.

    ``order`` decides which waiting contact a freed agent takes first (``fifo``, ``strict_priority``,
    ``priority_aging``, ``skill``); ``agents`` which available agent gets an arriving contact (``longest_idle``,
    ``least_loaded``); ``eligibility`` lists rules that decide which agents may take a contact and when
    (``overflow``, ``rebalancing``, ``sticky_last_agent``, ``language_fallback``; each at most once). A contact
    goes to an agent only if every rule allows it; a freed agent ranks what it may take by the rules'
    preferences in their listed order, then by the order. See :mod:`policies.routing._composed` for the details.
    """

    class Params(BaseModel):
        """Parameters of :class:`ComposedRouting` (a bare name stands for ``{name: ...}``)."""

        model_config = MODEL_CONFIG

        order: Order = Field(
            default_factory=lambda: FifoOrder(name="fifo"),
            description="Which contact a freed agent takes first: fifo, strict_priority, priority_aging, skill.",
        )
        agents: AgentChoice = Field(
            default_factory=lambda: LongestIdleAgents(name="longest_idle"),
            description="Which available agent gets an arriving contact: longest_idle, least_loaded.",
        )
        eligibility: list[Rule] = Field(
            default_factory=list,
            description="Rules on who may take a contact: overflow, rebalancing, sticky_last_agent, "
            "language_fallback.",
        )

        @field_validator("order", "agents", mode="before")
        @classmethod
        def _bare_name(cls, value: Any) -> Any:
            return _named(value)

        @field_validator("eligibility", mode="before")
        @classmethod
        def _bare_names(cls, value: Any) -> Any:
            return [_named(v) for v in value] if isinstance(value, list) else value

        @field_validator("eligibility")
        @classmethod
        def _each_once(cls, value: list[Any]) -> list[Any]:
            names = [rule.name for rule in value]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"rule {twice[0]!r} is listed {names.count(twice[0])} times; list each rule once")
            return value

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()
        names = {rule.name for rule in self.params.eligibility}
        self.uses_last_agent = "sticky_last_agent" in names
        self.language_fallback = "language_fallback" in names

    @property
    def fallback_after_s(self) -> float | None:
        """Wait (seconds) after which agents without a contact's language may take it (``None``: never)."""
        for rule in self.params.eligibility:
            if isinstance(rule, LanguageFallbackRule):
                return rule.after
        return None

    def bind(self, scenario: Scenario) -> None:
        """Resolve the rules' names (groups, intents, channels) against the scenario.

        Raises:
            ValueError: An unknown intent, group or channel in a rule (named by its path, e.g.
                ``params.eligibility.0.primary.billing``), or a group without the intent's skill.
        """
        gates: list[_Gate] = []
        self.sticky_: _Sticky | None = None
        self.fallback_: _Fallback | None = None
        for i, rule in enumerate(self.params.eligibility):
            where = f"params.eligibility.{i}"
            if isinstance(rule, OverflowRule):
                gates.append(_Overflow(rule, scenario, where))
            elif isinstance(rule, RebalancingRule):
                gates.append(_Rebalancing(rule, scenario, where))
            elif isinstance(rule, StickyLastAgentRule):
                self.sticky_ = _Sticky(rule)
                gates.append(self.sticky_)
            else:
                self.fallback_ = _Fallback(rule)
        self.gates_: list[_Gate] = gates
        """The rules other than language fallback, in their listed order."""
        self.deferrable_gates_: list[_Gate] = [g for g in gates if g.deferrable]
        self.fallback_gates_: list[_Gate] = [*gates, self.fallback_] if self.fallback_ is not None else []
        self.scan_: bool = any(g.per_contact for g in gates)
        self.proficiency_: list[list[float]] = [
            [spec.skills.get(intent, INF) for intent in scenario.intents] for spec in scenario.groups.values()
        ]
        """Handle-time multiplier per group code and intent code (``inf`` without the skill)."""
        self.view_: SystemView | None = None

    # ---------------------------------------------------------------------------------------------- arrivals

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """An agent of a group every rule admits, by the agent choice; a held customer's last agent; or ``None``."""
        queue = view.queue(contact.queue)
        gates = self.gates_
        sticky = self.sticky_
        if sticky is not None:
            last = sticky.reserved_for(contact, queue, view)
            if last is not None:
                if (
                    view.is_available(last, contact.channel)
                    and (not queue.deferrable or view.can_blend(last))
                    and all(g.admits(last.group, queue) for g in gates)
                ):
                    return last
                view.request_review(contact.queued_s + sticky.timeout)
                self._queued(contact, queue, view)
                return None
        groups: Iterable[int] = queue.groups
        if gates:
            groups = [g for g in queue.groups if all(gate.admits(g, queue) for gate in gates)]
        if self.params.agents.name == "least_loaded":
            agent = self._least_loaded(view, groups, contact.channel, queue.deferrable)
        else:
            agent = longest_available(view, groups, contact.channel, queue.deferrable)
        if agent is None:
            self._queued(contact, queue, view)
        return agent

    def _queued(self, contact: ContactInfo, queue: QueueInfo, view: SystemView) -> None:
        for gate in self.gates_:
            if gate is not self.sticky_:
                gate.queued(contact, queue, view)
        if self.fallback_ is not None:
            self.fallback_.queued(contact, queue, view)

    @staticmethod
    def _least_loaded(view: SystemView, groups: Iterable[int], channel: int, deferrable: bool) -> AgentInfo | None:
        best, best_n, best_since = None, 0, INF
        for group in groups:
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

    # ------------------------------------------------------------------------------------------ freed agents

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """The first contact the agent may take, by the rules' preferences and the order; live work first."""
        key = self._key(view)
        best = self._best(agent, view, view.live_queues(agent), self.gates_, self.scan_, key)
        if best is None and self.fallback_ is not None:
            best = self._best(agent, view, view.fallback_queues(agent), self.fallback_gates_, self.scan_, key)
        if best is None:
            best = self._best(agent, view, view.deferrable_queues(agent), self.deferrable_gates_, False, key)
        return best

    def _key(self, view: SystemView) -> Key:
        """The order's key of a contact for an agent (lower first; ties by ``queued_s``), per run (per view)."""
        if self.view_ is not view:
            self.view_ = view
            order = self.params.order
            if isinstance(order, PriorityAgingOrder):
                boost = [order.urgent_boost * q.priority + order.vip_boost * q.tier for q in view.queues]
                self.key_: Key = lambda a, c, v: c.queued_s - boost[c.queue]
            elif isinstance(order, StrictPriorityOrder):
                rank = [-(2 * q.priority + q.tier) for q in view.queues]
                self.key_ = lambda a, c, v: rank[c.queue]
            elif isinstance(order, SkillOrder):
                prof = self.proficiency_
                self.key_ = lambda a, c, v: prof[a.group][c.intent]
            else:
                self.key_ = lambda a, c, v: c.queued_s
        return self.key_

    def _best(
        self,
        agent: AgentInfo,
        view: SystemView,
        queues: Sequence[int],
        gates: list[_Gate],
        scan: bool,
        key: Key,
    ) -> ContactInfo | None:
        """Best contact of ``queues`` for ``agent``: the least ``(ranks of the ranking rules, key, queued_s)``.

        Within a queue the key never falls from one contact to the next (one priority, tier and intent per queue,
        contacts in ``queued_s`` order), so a queue's first acceptable contact is its best, unless a rule ranks
        single contacts (sticky: the agent's own returning customers), whose first rank-0 contact then competes.
        """
        best: ContactInfo | None = None
        best_k: tuple = ()
        if not scan:
            for c in view.heads(queues):
                ranks = []
                for gate in gates:
                    verdict = gate.judge(agent, c, view)
                    if verdict < 0:
                        break
                    if gate.ranks:
                        ranks.append(verdict)
                else:
                    k = (*ranks, key(agent, c, view), c.queued_s)
                    if best is None or k < best_k:
                        best, best_k = c, k
            return best
        for q in queues:
            for c in view.waiting(q):
                ranks = []
                own = True  # every rule that ranks single contacts puts this one first
                for gate in gates:
                    verdict = gate.judge(agent, c, view)
                    if verdict < 0:
                        break
                    if gate.ranks:
                        ranks.append(verdict)
                        if gate.per_contact and verdict:
                            own = False
                else:
                    verdict = 0
                if verdict == STOP:
                    break
                if verdict == SKIP:
                    continue
                k = (*ranks, key(agent, c, view), c.queued_s)
                if best is None or k < best_k:
                    best, best_k = c, k
                if own:
                    break  # later contacts of this queue rank no better
        return best
