"""The engine's default policies: longest-idle FIFO routing, no bot, no empowerment.

They live in ``sim`` (like SimPy's FIFO default) so the engine runs without the policy layer; the policy registry
exposes them as ``longest_idle``, ``none`` (deflection) and ``none`` (empowerment).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from sim.interfaces import (
    AgentInfo,
    ContactInfo,
    DeflectionPolicy,
    EmpowermentPolicy,
    RoutingPolicy,
    ServiceAdjustment,
    SystemView,
    fifo_key,
)
from sim.units import MODEL_CONFIG

__all__ = ["LongestIdleRouting", "NoDeflection", "NoEmpowerment", "oldest_head"]


class _NoParams(BaseModel):
    """No parameters."""

    model_config = MODEL_CONFIG


class LongestIdleRouting(RoutingPolicy):
    """Longest-idle agent first; FIFO across the queues an agent serves, live before deferrable work.

    On arrival, the contact goes to the eligible agent that has been available for its channel the longest (across
    all groups that serve its queue). When an agent frees capacity, it takes the contact that arrived first among
    the heads of the live queues it serves; only when none waits, and the group is under its occupancy cap, the
    oldest deferrable item. "Oldest" is by :func:`sim.interfaces.fifo_key`.
    """

    Params = _NoParams

    def __init__(self, params: _NoParams | None = None) -> None:
        self.params = params if params is not None else _NoParams()

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Longest-available eligible agent, or ``None``."""
        queue = view.queue(contact.queue)
        channel = contact.channel
        best, best_since = None, float("inf")
        for group in queue.groups:
            agent = view.first_available(group, channel)
            if agent is None or (queue.deferrable and not view.can_blend(agent)):
                continue
            since = view.available_since(agent, channel)
            if since < best_since:
                best, best_since = agent, since
        return best

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Oldest waiting contact among the agent's live queues, else the oldest deferrable item, or ``None``."""
        best = oldest_head(view, view.live_queues(agent))
        if best is None:
            best = oldest_head(view, view.deferrable_queues(agent))
        return best


def oldest_head(view: SystemView, queues: Iterable[int]) -> ContactInfo | None:
    """The head of ``queues`` that is first by :data:`~sim.interfaces.fifo_key`, or ``None`` (first wins ties)."""
    return min(view.heads(queues), key=fifo_key, default=None)


class NoDeflection(DeflectionPolicy):
    """Null object: no contact goes to a bot."""

    Params = _NoParams

    def __init__(self, params: _NoParams | None = None) -> None:
        self.params = params if params is not None else _NoParams()

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """Never deflect."""
        return False


class NoEmpowerment(EmpowermentPolicy):
    """Null object: services are not adjusted (an approval needs no escalation and takes no extra time)."""

    Params = _NoParams
    _NONE = ServiceAdjustment()

    def __init__(self, params: _NoParams | None = None) -> None:
        self.params = params if params is not None else _NoParams()

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """No change."""
        return self._NONE
