"""Policy contracts (small ``typing.Protocol`` classes) and the read-only view policies see.

The engine makes two routing decisions, as in the ContactCenters library: when a contact arrives,
:meth:`RoutingPolicy.select_agent` picks one of the available eligible agents the view offers (or none: the contact
queues); when an agent frees capacity, :meth:`RoutingPolicy.select_contact` picks one of the waiting contacts the
view offers (or none). Policies never see the SimPy environment and must not modify what they are shown: the
``ContactInfo`` / ``AgentInfo`` protocols list the attributes they may read.

Deflection, staffing and empowerment are declared here so that later policies plug into a fixed shape; their null
objects (:class:`NoDeflection`, :class:`NoEmpowerment`) are the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AgentInfo",
    "ContactInfo",
    "DeflectionPolicy",
    "EmpowermentPolicy",
    "NoDeflection",
    "NoEmpowerment",
    "QueueInfo",
    "RoutingPolicy",
    "ServiceAdjustment",
    "StaffingPolicy",
    "SystemView",
]


class ContactInfo(Protocol):
    """What a policy may read of a contact (seconds from the scenario start; codes index the scenario dicts)."""

    id: int
    channel: int
    intent: int
    priority: int
    tier: int
    language: int
    customer_id: int
    arrival_s: float
    deadline_s: float
    """Time the contact abandons if still waiting (``arrival_s + patience``; ``inf`` never)."""
    queue: int


class AgentInfo(Protocol):
    """What a policy may read of an agent."""

    id: int
    group: int
    n_active: int
    """Contacts in hand."""
    active_channel: int
    """Channel of the contacts in hand (-1 when idle)."""


class QueueInfo(Protocol):
    """What a policy may read of a queue (one per channel x intent x language)."""

    index: int
    channel: int
    intent: int
    language: int
    deferrable: bool
    groups: Sequence[int]
    """Groups whose agents may serve this queue."""


class SystemView(Protocol):
    """Read-only view of the center at the current time."""

    @property
    def now(self) -> float:
        """Current simulation time in seconds."""
        ...

    def queue(self, index: int) -> QueueInfo:
        """Queue by index."""
        ...

    def available(self, group: int, channel: int) -> Iterator[AgentInfo]:
        """Agents of ``group`` that can take a contact of ``channel`` now, longest available first."""
        ...

    def first_available(self, group: int, channel: int) -> AgentInfo | None:
        """The agent of ``group`` available for ``channel`` the longest, or ``None``."""
        ...

    def available_since(self, agent: AgentInfo, channel: int) -> float:
        """Time since which ``agent`` has been available for ``channel`` (seconds)."""
        ...

    def head(self, queue: int) -> ContactInfo | None:
        """Oldest contact still waiting in ``queue`` (contacts whose patience ran out are not offered)."""
        ...

    def waiting(self, queue: int) -> Iterator[ContactInfo]:
        """Contacts still waiting in ``queue``, in arrival order."""
        ...

    def queue_length(self, queue: int) -> int:
        """Number of contacts still waiting in ``queue`` (exact; O(length))."""
        ...

    def live_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Live queues the agent may take a contact from now (respects the channel of contacts in hand)."""
        ...

    def deferrable_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Deferrable queues the agent may take work from now (empty unless idle and under the occupancy cap)."""
        ...

    def can_blend(self, agent: AgentInfo) -> bool:
        """Whether an idle agent may take deferrable work without pushing its group over the occupancy cap."""
        ...

    def request_review(self, at_s: float) -> None:
        """Ask the engine to offer every available agent to :meth:`RoutingPolicy.select_contact` at ``at_s``.

        Time-based rules (overflow after a wait threshold, priority aging) use this to be re-consulted.
        """
        ...


@runtime_checkable
class RoutingPolicy(Protocol):
    """Decides which agent gets an arriving contact and which contact a freed agent takes."""

    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Return one of the agents ``view.available(...)`` offers for the contact's queue groups, or ``None``."""
        ...

    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Return a contact from ``view.live_queues(agent)`` or ``view.deferrable_queues(agent)``, or ``None``."""
        ...


@runtime_checkable
class DeflectionPolicy(Protocol):
    """Decides which contacts are offered to a bot first."""

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """Return ``True`` to send the contact to the bot stage."""
        ...


@runtime_checkable
class StaffingPolicy(Protocol):
    """Decides how many agents of each group are on duty (like Ciw's ``Schedule``)."""

    def staff(self, t_s: float) -> Mapping[str, int]:
        """Agents on duty per group name at time ``t_s``."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceAdjustment:
    """How empowerment changes one service: extra handle time, escalation, approval outcome."""

    extra_handle_s: float = 0.0
    escalate: bool = False
    synchronous: bool = True


@runtime_checkable
class EmpowermentPolicy(Protocol):
    """Decides whether an agent may resolve an approval in the same contact."""

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """Return the adjustment to apply to this service."""
        ...


class _NoParams(BaseModel):
    """No parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoDeflection:
    """Null object: no contact goes to a bot."""

    Params = _NoParams

    def __init__(self, params: _NoParams | None = None) -> None:
        self.params = params if params is not None else _NoParams()

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """Never deflect."""
        return False


class NoEmpowerment:
    """Null object: services are not adjusted."""

    Params = _NoParams

    def __init__(self, params: _NoParams | None = None) -> None:
        self.params = params if params is not None else _NoParams()

    _NONE = ServiceAdjustment()

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """No change."""
        return self._NONE

