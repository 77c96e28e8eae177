"""Routing guards: every agent or contact a policy other than the default returns is checked before it is used.

A policy may only choose among what the view offers: an available agent of a group allowed to serve the contact's
queue (an idle one for deferrable work, within the group's occupancy cap), or a contact still waiting, whose
patience has not run out, in a queue the agent may serve now. Anything else raises :class:`RoutingError`, naming
the policy, the agent and the contact, instead of corrupting the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.entities import WAITING, Agent, Contact
from sim.interfaces import AgentInfo, ContactInfo

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["RoutingError", "check_agent", "check_contact"]


class RoutingError(RuntimeError):
    """A routing policy returned an agent or contact the view did not offer."""


def check_agent(center: ContactCenter, agent: AgentInfo, contact: Contact) -> Agent:
    """The agent ``select_agent`` returned for ``contact``, if the view offered it."""
    c = center
    if (
        not isinstance(agent, Agent)
        or agent.group not in c.layout.q_groups[contact.queue]
        or agent not in c.avail[agent.group][contact.channel]
    ):
        group = c.groups[agent.group] if 0 <= agent.group < len(c.groups) else agent.group
        raise RoutingError(
            f"{type(c.routing).__name__}.select_agent returned agent {agent.id} (group {group!r}), "
            f"which is not available for contact {contact.id} (channel {c.channels[contact.channel]!r}, "
            f"intent {c.intents[contact.intent]!r}, language {c.languages[contact.language]!r})"
        )
    if c.queues[contact.queue].deferrable and not c.can_blend(agent.group):
        raise RoutingError(f"agent {agent.id} was given deferrable work above its group's occupancy cap")
    return agent


def check_contact(center: ContactCenter, agent: Agent, contact: ContactInfo) -> Contact:
    """The contact ``select_contact`` returned for ``agent``, if the agent may take it now."""
    c = center
    ok = (
        isinstance(contact, Contact)
        and contact.state == WAITING
        and contact.deadline_s > c.now
        and agent.group in c.layout.q_groups[contact.queue]
    )
    if ok:
        if c.queues[contact.queue].deferrable:
            ok = agent.n_active == 0 and c.can_blend(agent.group)
        else:
            ok = agent.n_active == 0 or contact.channel == agent.active_channel
    if not ok:
        raise RoutingError(
            f"{type(c.routing).__name__}.select_contact returned contact {contact.id}, which agent {agent.id} "
            f"(group {c.groups[agent.group]!r}) may not take now"
        )
    assert isinstance(contact, Contact)
    return contact
