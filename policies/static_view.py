"""A static view: fixed queues, waiting contacts and agents, to unit-test a routing policy without the engine.

Build the situation, call ``select_agent`` / ``select_contact`` on it, assert the choice (see the README's "Writing
a policy"). :mod:`policies.testing` re-exports these names next to the conformance suite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sim.entities import Queue
from sim.interfaces import AgentInfo, ContactInfo, SystemView

__all__ = ["StaticAgent", "StaticContact", "StaticView"]


@dataclass
class StaticContact:
    """A waiting contact for :class:`StaticView` (codes as in the scenario; seconds)."""

    id: int
    queue: int = 0
    channel: int = 0
    intent: int = 0
    priority: int = 0
    tier: int = 0
    language: int = 0
    customer_id: int = 0
    arrival_s: float = 0.0
    queued_s: float = math.nan
    """Defaults to ``arrival_s``."""
    deadline_s: float = math.inf
    amount: float = 0.0
    repeat: int = 0
    parent: ContactInfo | None = None

    def __post_init__(self) -> None:
        if math.isnan(self.queued_s):
            self.queued_s = self.arrival_s


@dataclass(eq=False)
class StaticAgent:
    """An agent for :class:`StaticView`."""

    id: int
    group: int = 0
    index: int = 0
    n_active: int = 0
    active_channel: int = -1
    on_duty: bool = True
    available_since_s: float = 0.0


class StaticView(SystemView):
    """A fixed situation for unit tests of a routing policy: queues, who waits where, who is available.

    Args:
        queues: The queues (``sim.entities.Queue``: index, channel, intent, language, deferrable, groups, ...).
        waiting: Contacts waiting, in queue-join order, by queue index.
        agents: Every agent; those ``on_duty`` with room for a channel (``n_active`` 0, or of that channel below
            ``concurrency``) are available, longest available (smallest ``available_since_s``) first.
        now: The time of the decision (seconds).
        concurrency: Per channel code, contacts an agent may hold (default 1).
        last_agents: Per customer id, the agent who served them last.
        group_sizes: Agents on each group's roster (default: count of ``agents`` per group).

    Example:
        >>> from sim.defaults import LongestIdleRouting
        >>> from sim.entities import Queue
        >>> q = Queue(0, channel=0, intent=0, language=0, deferrable=False, groups=(0,))
        >>> a, b = StaticAgent(0, available_since_s=30.0), StaticAgent(1, available_since_s=10.0)
        >>> view = StaticView([q], {0: [StaticContact(7, arrival_s=5.0)]}, [a, b], now=60.0)
        >>> LongestIdleRouting().select_agent(StaticContact(8), view).id  # b has waited longer
        1
        >>> LongestIdleRouting().select_contact(a, view).id
        7
    """

    def __init__(
        self,
        queues: Sequence[Queue],
        waiting: Mapping[int, Sequence[StaticContact]],
        agents: Sequence[StaticAgent],
        *,
        now: float = 0.0,
        concurrency: Mapping[int, int] | None = None,
        last_agents: Mapping[int, StaticAgent] | None = None,
        group_sizes: Mapping[int, int] | None = None,
        occupancy_cap: float = 1.0,
    ) -> None:
        self._queues = list(queues)
        self._waiting = {q: list(cs) for q, cs in waiting.items()}
        self._agents = list(agents)
        self._now = now
        self._concurrency = dict(concurrency or {})
        self._last = dict(last_agents or {})
        self._sizes = dict(group_sizes) if group_sizes is not None else None
        self._occupancy_cap = occupancy_cap
        self.reviews: list[float] = []
        """Times the policy asked to be consulted again (:meth:`request_review`)."""

    @property
    def now(self) -> float:
        """The time of the decision (seconds)."""
        return self._now

    def queue(self, index: int) -> Queue:
        """Queue by index."""
        return self._queues[index]

    @property
    def queues(self) -> Sequence[Queue]:
        """Every queue, by index."""
        return self._queues

    def logged_in(self, group: int) -> int:
        """Agents of ``group`` on duty."""
        return sum(1 for a in self._agents if a.group == group and a.on_duty)

    def busy(self, group: int) -> int:
        """Agents of ``group`` with a contact in hand."""
        return sum(1 for a in self._agents if a.group == group and a.n_active > 0)

    def group_size(self, group: int) -> int:
        """Agents on the roster of ``group``."""
        if self._sizes is not None:
            return self._sizes.get(group, 0)
        return sum(1 for a in self._agents if a.group == group)

    def is_available(self, agent: AgentInfo, channel: int) -> bool:
        """Whether ``agent`` is on duty with room for a contact of ``channel``."""
        a = self._static(agent)
        if not a.on_duty:
            return False
        return a.n_active == 0 or (a.active_channel == channel and a.n_active < self._concurrency.get(channel, 1))

    def is_logged_in(self, agent: AgentInfo) -> bool:
        """Whether ``agent`` is on duty."""
        return self._static(agent).on_duty

    def last_agent(self, customer_id: int) -> AgentInfo | None:
        """Agent who last served this customer, or ``None``."""
        return self._last.get(customer_id)

    def available(self, group: int, channel: int) -> Iterator[AgentInfo]:
        """Agents of ``group`` available for ``channel``, longest available first."""
        found = [a for a in self._agents if a.group == group and self.is_available(a, channel)]
        return iter(sorted(found, key=lambda a: a.available_since_s))

    def first_available(self, group: int, channel: int) -> AgentInfo | None:
        """The agent of ``group`` available for ``channel`` the longest, or ``None``."""
        return next(self.available(group, channel), None)

    def available_since(self, agent: AgentInfo, channel: int) -> float:
        """Time since which ``agent`` has been available (seconds)."""
        return self._static(agent).available_since_s

    def _live(self, queue: int) -> list[StaticContact]:
        return [c for c in self._waiting.get(queue, []) if c.deadline_s > self._now]

    def head(self, queue: int) -> ContactInfo | None:
        """Oldest contact still waiting in ``queue`` (patience not run out), or ``None``."""
        live = self._live(queue)
        return live[0] if live else None

    def heads(self, queues: Iterable[int]) -> Sequence[ContactInfo]:
        """The head of each of ``queues`` that has one, in that order."""
        return [h for q in queues if (h := self.head(q)) is not None]

    def waiting(self, queue: int) -> Iterator[ContactInfo]:
        """Contacts still waiting in ``queue``, in queue-join order."""
        return iter(self._live(queue))

    def queue_length(self, queue: int, limit: int | None = None) -> int:
        """Contacts still waiting in ``queue`` (up to ``limit``)."""
        n = len(self._live(queue))
        return n if limit is None else min(n, limit)

    def live_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Live queues of the agent's group (of its active channel when it holds contacts)."""
        return self._live_for(agent, fallback=False)

    def deferrable_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Deferrable queues of the agent's group, when it is idle and may blend."""
        if agent.n_active or not self.can_blend(agent):
            return []
        return [q.index for q in self._queues if agent.group in q.groups and q.deferrable]

    def fallback_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Live queues whose fallback groups include the agent's group."""
        return self._live_for(agent, fallback=True)

    def _live_for(self, agent: AgentInfo, *, fallback: bool) -> list[int]:
        """Live queues the agent may take from now, by its group or (``fallback``) by the queues' fallback groups."""
        return [
            q.index
            for q in self._queues
            if agent.group in (q.fallback_groups if fallback else q.groups)
            and not q.deferrable
            and (agent.n_active == 0 or q.channel == agent.active_channel)
        ]

    def can_blend(self, agent: AgentInfo) -> bool:
        """Whether one more busy agent keeps the group within ``occupancy_cap``."""
        return self.busy(agent.group) + 1 <= self._occupancy_cap * self.logged_in(agent.group) + 1e-9

    def request_review(self, at_s: float) -> None:
        """Note the review time in :attr:`reviews`."""
        self.reviews.append(at_s)

    def _static(self, agent: AgentInfo) -> StaticAgent:
        if not isinstance(agent, StaticAgent):
            raise TypeError(f"StaticView only knows StaticAgent objects, got {type(agent).__name__}")
        return agent
