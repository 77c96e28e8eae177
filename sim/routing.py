"""The engine's default routing: longest-available agent for arrivals, oldest waiting contact for freed agents.

It lives in ``sim`` (like SimPy's FIFO default) so the engine runs without the policy layer; the policy registry
exposes it as ``longest_idle``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sim.interfaces import AgentInfo, ContactInfo, SystemView

__all__ = ["LongestIdleRouting"]


class LongestIdleRouting:
    """Longest-idle agent first; FIFO across the queues an agent serves, live before deferrable work.

    On arrival, the contact goes to the eligible agent that has been available for its channel the longest (across
    all groups that serve its queue). When an agent frees capacity, it takes the contact that arrived first among
    the heads of the live queues it serves; only when none waits, and the group is under its occupancy cap, the
    oldest deferrable item.
    """

    class Params(BaseModel):
        """No parameters."""

        model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

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
        best = _oldest_head(view, view.live_queues(agent))
        if best is None:
            best = _oldest_head(view, view.deferrable_queues(agent))
        return best


def _oldest_head(view: SystemView, queues) -> ContactInfo | None:
    best = None
    for head in view.heads(queues):
        if best is None or head.arrival_s < best.arrival_s:
            best = head
    return best
