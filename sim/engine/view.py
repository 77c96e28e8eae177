"""The read-only view of the center that policies see (implements :class:`sim.interfaces.SystemView`).

Nothing a policy calls here changes the simulation. Queues drop served and expired contacts lazily (see
:mod:`sim.engine.center`); when :meth:`CenterView.head` or :meth:`CenterView.heads` has to look past such stale
entries, it notes the queue in the engine's ``stale`` list, and the engine removes them (recording the expired ones
as abandoned at their deadlines) after the policy's decision. Outcomes do not depend on when that happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from sim.entities import OFF, WAITING, Agent, Contact, Queue
from sim.interfaces import AgentInfo

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["CenterView"]


class CenterView:
    """Read-only view of a :class:`~sim.engine.ContactCenter` handed to policies."""

    __slots__ = ("_c", "_layout")

    def __init__(self, center: ContactCenter) -> None:
        self._c = center
        self._layout = center.layout

    @property
    def now(self) -> float:
        """Current simulation time in seconds."""
        return self._c.now

    def queue(self, index: int) -> Queue:
        """Queue by index."""
        return self._c.queues[index]

    @property
    def queues(self) -> list[Queue]:
        """Every queue, by index."""
        return self._c.queues

    def logged_in(self, group: int) -> int:
        """Agents of ``group`` logged in now."""
        return self._c.g_logged[group]

    def busy(self, group: int) -> int:
        """Agents of ``group`` with at least one contact in hand."""
        return self._c.g_busy[group]

    def group_size(self, group: int) -> int:
        """Agents on the roster of ``group`` (reserve agents not included)."""
        return self._c.shifts.group_size[group]

    def is_available(self, agent: AgentInfo, channel: int) -> bool:
        """Whether ``agent`` can take a contact of ``channel`` now."""
        return agent in self._c.avail[agent.group][channel]

    def is_logged_in(self, agent: AgentInfo) -> bool:
        """Whether ``agent`` is on duty now (working, on break, or finishing contacts)."""
        if TYPE_CHECKING:  # the view hands out the engine's agents (no cast call at run time)
            assert isinstance(agent, Agent)
        return agent.state != OFF

    def last_agent(self, customer_id: int) -> Agent | None:
        """Agent who last served this customer, or ``None``."""
        return self._c.last.get(customer_id)

    def fallback_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Live queues the agent has the channel and skill for but not the language."""
        layout = self._layout
        if agent.n_active == 0:
            return layout.g_fallback[agent.group]
        return layout.g_fallback_by_ch[agent.group][agent.active_channel]

    def available(self, group: int, channel: int) -> Iterator[Agent]:
        """Agents of ``group`` available for ``channel``, longest available first."""
        return iter(self._c.avail[group][channel])

    def first_available(self, group: int, channel: int) -> Agent | None:
        """The agent of ``group`` available for ``channel`` the longest, or ``None``."""
        d = self._c.avail[group][channel]
        return next(iter(d)) if d else None

    def available_since(self, agent: AgentInfo, channel: int) -> float:
        """Time since which ``agent`` has been available for ``channel`` (seconds)."""
        if TYPE_CHECKING:
            assert isinstance(agent, Agent)
        return agent.since[channel]

    def head(self, queue: int) -> Contact | None:
        """Oldest contact still waiting in ``queue`` (contacts whose patience ran out are skipped), or ``None``."""
        c = self._c
        now = c.now
        dq = c.waiting[queue]
        if not dq:
            return None
        h = dq[0]
        if h.state == WAITING and h.deadline_s > now:
            return h
        c.stale.append(queue)
        for h in islice(dq, 1, None):
            if h.state == WAITING and h.deadline_s > now:
                return h
        return None

    def heads(self, queues: Iterable[int]) -> list[Contact]:
        """The head of each of ``queues`` that has one (as :meth:`head`), in that order."""
        c = self._c
        waiting = c.waiting
        now = c.now
        out = []
        for q in queues:
            dq = waiting[q]
            if not dq:
                continue
            h = dq[0]
            if h.state == WAITING and h.deadline_s > now:
                out.append(h)
                continue
            c.stale.append(q)
            for h in islice(dq, 1, None):
                if h.state == WAITING and h.deadline_s > now:
                    out.append(h)
                    break
        return out

    def waiting(self, queue: int) -> Iterator[Contact]:
        """Contacts still waiting in ``queue``, in arrival order."""
        now = self._c.now
        return (c for c in self._c.waiting[queue] if c.state == WAITING and c.deadline_s > now)

    def queue_length(self, queue: int, limit: int | None = None) -> int:
        """Number of contacts still waiting in ``queue``, counting up to ``limit`` at most."""
        return sum(1 for _ in islice(self.waiting(queue), limit))

    def live_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Live queues the agent may take a contact from now."""
        layout = self._layout
        if agent.n_active == 0:
            return layout.g_live[agent.group]
        return layout.g_live_by_ch[agent.group][agent.active_channel]

    def deferrable_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Deferrable queues the agent may take work from now (idle and under the occupancy cap only)."""
        if agent.n_active == 0 and self._c.can_blend(agent.group):
            return self._layout.g_deferrable[agent.group]
        return ()

    def can_blend(self, agent: AgentInfo) -> bool:
        """Whether one more busy agent keeps the group's busy share within its occupancy cap."""
        return self._c.can_blend(agent.group)

    def request_review(self, at_s: float) -> None:
        """Offer every available agent to the routing policy again at ``at_s``."""
        self._c.request_review(at_s)
