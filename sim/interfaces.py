"""Policy contracts (one small base class per slot) and the read-only view policies see.

The engine makes two routing decisions, as in the ContactCenters library: when a contact arrives,
:meth:`RoutingPolicy.select_agent` picks one of the available eligible agents the view offers (or none: the contact
queues); when an agent frees capacity, :meth:`RoutingPolicy.select_contact` picks one of the waiting contacts the
view offers (or none). Policies never see the SimPy environment and must not modify what they are shown: the
``ContactInfo`` / ``AgentInfo`` protocols list the attributes they may read.

Deflection decides which contacts a channel's bot answers first; staffing decides who is on duty (a roster, and
optionally reserve agents called in at run time); empowerment decides, for a contact that needs an approval,
whether the agent approves it in the contact or escalates it. The defaults live in :mod:`sim.defaults`
(:class:`~sim.defaults.LongestIdleRouting` and the null objects :class:`~sim.defaults.NoDeflection` and
:class:`~sim.defaults.NoEmpowerment`).

Every hook the engine may call is declared on the slot's base class, with a default that does nothing
(:meth:`RoutingPolicy.bind`, :meth:`StaffingPolicy.call_in`, :meth:`EmpowermentPolicy.training_cost`, ...): a
policy subclasses the base, implements the abstract methods and overrides the hooks it needs. The engine calls
them unconditionally and never probes for attributes.

Codes: a policy sees integers where the scenario has names. Channel, intent, language and group codes are the
positions of the names in the scenario's dicts (``list(scenario.channels).index("chat")``); priority 0 = normal,
1 = urgent; tier 0 = regular, 1 = vip. A policy that needs names resolves them once in its
``bind(scenario)`` hook, which the engine calls before the run and the registry calls at load time (so a wrong
name in ``params`` fails when the scenario is loaded); ``bind`` raises ``ValueError`` naming the parameter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol

__all__ = [
    "AgentInfo",
    "AgentShifts",
    "ContactInfo",
    "DeflectionPolicy",
    "EmpowermentPolicy",
    "QueueInfo",
    "RoutingPolicy",
    "ServiceAdjustment",
    "StaffingPolicy",
    "SystemView",
    "fifo_key",
]


class ContactInfo(Protocol):
    """What a policy may read of a contact (seconds from the scenario start; codes index the scenario dicts).

    Every member is read-only: a policy never changes what it is shown.
    """

    @property
    def id(self) -> int:
        """Contact id (arrival order; a repeat contact's is its predecessor's + 2**40)."""
        ...

    @property
    def channel(self) -> int:
        """Channel code."""
        ...

    @property
    def intent(self) -> int:
        """Intent code (the skill it needs)."""
        ...

    @property
    def priority(self) -> int:
        """0 normal, 1 urgent."""
        ...

    @property
    def tier(self) -> int:
        """0 regular, 1 VIP."""
        ...

    @property
    def language(self) -> int:
        """Language code."""
        ...

    @property
    def customer_id(self) -> int:
        """Customer id (repeat contacts and last-agent routing)."""
        ...

    @property
    def arrival_s(self) -> float:
        """Arrival time (seconds)."""
        ...

    @property
    def deadline_s(self) -> float:
        """Time the contact abandons if still waiting (``arrival_s + patience``; ``inf`` never)."""
        ...

    @property
    def queue(self) -> int:
        """Index of the queue the contact waits in."""
        ...

    @property
    def queued_s(self) -> float:
        """Time the contact joined the human queue (``arrival_s``, or the end of the bot hand-off)."""
        ...

    @property
    def amount(self) -> float:
        """Amount of the approval the contact needs (currency; 0 when it needs none)."""
        ...

    @property
    def repeat(self) -> int:
        """1 for a repeat contact (a customer coming back after a silent bot failure or an async escalation)."""
        ...

    @property
    def parent(self) -> ContactInfo | None:
        """For the second service of a transfer: the contact it continues; ``None`` otherwise.

        The second service has the same ``id``, the target intent, and ``arrival_s`` = ``queued_s`` = the transfer
        time.
        """
        ...



class AgentInfo(Protocol):
    """What a policy may read of an agent."""

    @property
    def id(self) -> int:
        """Agent id."""
        ...

    @property
    def group(self) -> int:
        """Group code."""
        ...

    @property
    def index(self) -> int:
        """Position of the agent in its group (0 .. group size - 1); reserve agents come after the roster."""
        ...

    @property
    def n_active(self) -> int:
        """Contacts in hand."""
        ...

    @property
    def active_channel(self) -> int:
        """Channel of the contacts in hand (-1 when idle)."""
        ...



class QueueInfo(Protocol):
    """What a policy may read of a queue (one per channel x intent x language)."""

    @property
    def index(self) -> int:
        """Queue index."""
        ...

    @property
    def channel(self) -> int:
        """Channel code."""
        ...

    @property
    def intent(self) -> int:
        """Intent code."""
        ...

    @property
    def language(self) -> int:
        """Language code."""
        ...

    @property
    def priority(self) -> int:
        """0 normal, 1 urgent."""
        ...

    @property
    def tier(self) -> int:
        """0 regular, 1 VIP."""
        ...

    @property
    def deferrable(self) -> bool:
        """Whether the queue holds deferrable work (email, social)."""
        ...

    @property
    def groups(self) -> Sequence[int]:
        """Groups whose agents may serve this queue (channel, skill and language)."""
        ...

    @property
    def fallback_groups(self) -> Sequence[int]:
        """Groups with the channel and the skill but not the language (only a language-fallback policy uses them)."""
        ...



class SystemView(Protocol):
    """Read-only view of the center at the current time."""

    @property
    def now(self) -> float:
        """Current simulation time in seconds."""
        ...

    def queue(self, index: int) -> QueueInfo:
        """Queue by index."""
        ...

    @property
    def queues(self) -> Sequence[QueueInfo]:
        """Every queue (one per channel x intent x language x priority x tier that can occur), by index."""
        ...

    def logged_in(self, group: int) -> int:
        """Agents of ``group`` logged in now (working, on break or finishing contacts)."""
        ...

    def busy(self, group: int) -> int:
        """Agents of ``group`` with at least one contact in hand."""
        ...

    def group_size(self, group: int) -> int:
        """Agents on the roster of ``group`` (reserve agents not included)."""
        ...

    def is_available(self, agent: AgentInfo, channel: int) -> bool:
        """Whether ``agent`` can take a contact of ``channel`` now."""
        ...

    def is_logged_in(self, agent: AgentInfo) -> bool:
        """Whether ``agent`` is on duty now (working, on break, or finishing contacts before a break or logout)."""
        ...

    def last_agent(self, customer_id: int) -> AgentInfo | None:
        """Agent who last served this customer, or ``None``.

        Kept when ``customers.population`` is set or the routing policy sets ``uses_last_agent = True``.
        """
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

    def heads(self, queues: Iterable[int]) -> Sequence[ContactInfo]:
        """The :meth:`head` of each of ``queues`` that has one, in that order (``contact.queue`` says whose).

        One call for a scan over many queues (an agent's live queues), where most are empty.
        """
        ...

    def waiting(self, queue: int) -> Iterator[ContactInfo]:
        """Contacts still waiting in ``queue``, in arrival order."""
        ...

    def queue_length(self, queue: int, limit: int | None = None) -> int:
        """Number of contacts still waiting in ``queue`` (exact; O(length)), or ``limit`` if there are more.

        A policy that only compares the length with a bound passes it as ``limit`` to stop counting there.
        """
        ...

    def live_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Live queues the agent may take a contact from now (respects the channel of contacts in hand)."""
        ...

    def deferrable_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Deferrable queues the agent may take work from now (empty unless idle and under the occupancy cap)."""
        ...

    def fallback_queues(self, agent: AgentInfo) -> Sequence[int]:
        """Live queues the agent has the channel and skill for but not the language (for language fallback)."""
        ...

    def can_blend(self, agent: AgentInfo) -> bool:
        """Whether an idle agent may take deferrable work without pushing its group over the occupancy cap."""
        ...

    def request_review(self, at_s: float) -> None:
        """Ask the engine to offer every available agent to :meth:`RoutingPolicy.select_contact` at ``at_s``.

        Time-based rules (overflow after a wait threshold, priority aging) use this to be re-consulted.
        """
        ...


fifo_key: Callable[[ContactInfo], float] = attrgetter("queued_s")
"""The order of "first in, first out" across queues: the time the contact joined the human queue (seconds).

Within a queue, contacts wait in queue-join order; comparing heads across queues by the same key makes the union of
an agent's queues one FIFO queue. (A bot-escalated contact joins at the end of its hand-off, a transfer's second
service at the transfer; for everyone else it is the arrival time.) The default routing and every policy that
takes "the oldest" use this key, e.g. ``min(view.heads(queues), key=fifo_key, default=None)`` (an ``attrgetter``:
the hot path of every freed agent's choice stays in C).
"""


class RoutingPolicy(ABC):
    """Decides which agent gets an arriving contact and which contact a freed agent takes.

    Subclass it and implement :meth:`select_agent` and :meth:`select_contact`. The engine checks every agent or
    contact a routing policy returns (a wrong one raises ``sim.engine.RoutingError``).
    """

    uses_last_agent: bool = False
    """``True``: the engine keeps each customer's last agent for :meth:`SystemView.last_agent`.

    A class sets it, or an instance in ``__init__`` when its parameters decide (a composed policy with a sticky
    rule); the engine reads it once, when it is built."""
    language_fallback: bool = False
    """``True``: the policy may give a contact to an agent of one of its queue's ``fallback_groups`` (set like
    :attr:`uses_last_agent`)."""

    def bind(self, scenario: Any) -> None:  # noqa: B027 (a no-op hook by design)
        """Resolve names in the parameters against the scenario (raise ``ValueError`` naming the parameter)."""

    @abstractmethod
    def select_agent(self, contact: ContactInfo, view: SystemView) -> AgentInfo | None:
        """Return one of the agents ``view.available(...)`` offers for the contact's queue groups, or ``None``."""

    @abstractmethod
    def select_contact(self, agent: AgentInfo, view: SystemView) -> ContactInfo | None:
        """Return a contact from ``view.live_queues(agent)`` or ``view.deferrable_queues(agent)``, or ``None``."""


class DeflectionPolicy(ABC):
    """Decides which contacts are offered to a bot first.

    The engine asks only for contacts arriving on a channel that has a bot (``scenario.bots``) with a free bot
    session; a contact the policy declines goes straight to the human queues.
    """

    def bind(self, scenario: Any) -> None:  # noqa: B027 (a no-op hook by design)
        """Resolve names in the parameters against the scenario (raise ``ValueError`` naming the parameter)."""

    @abstractmethod
    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """Return ``True`` to send the contact to the bot stage."""


@dataclass(frozen=True, slots=True)
class AgentShifts:
    """One agent of a roster and its on-duty blocks before absenteeism.

    Attributes:
        group: Group name.
        shift: Label for reports (a shift template name, or ``"schedule"``).
        blocks: ``(day, start_s, end_s, breaks)`` with ``breaks`` a tuple of ``(at_s, length_s)``; seconds from
            the scenario start; ``day`` is the calendar day index (0 = the start's date), which keys absenteeism.
    """

    group: str
    shift: str
    blocks: tuple[tuple[int, float, float, tuple[tuple[float, float], ...]], ...]


class StaffingPolicy(ABC):
    """Decides who is on duty: the roster of individual agents (like Ciw's ``Schedule``, per agent).

    A reactive policy also sets :attr:`review_s` above 0 and implements :meth:`reserve` and :meth:`call_in`: the
    engine calls ``call_in`` every ``review_s`` seconds; a called-in reserve agent logs in ``delay_s`` later for
    ``length_s``, paid at the group's overtime premium.

    A contingency plan may put another staffing policy in force mid-run: only its reactive part is used then
    (:meth:`reserve`, :meth:`call_in` and the three durations); its :meth:`roster` is never called, since the roster
    is drawn once at the start from the scenario's policy.
    """

    @property
    def review_s(self) -> float:
        """Seconds between call-in reviews (0: not reactive; the engine never calls :meth:`call_in`)."""
        return 0.0

    @property
    def delay_s(self) -> float:
        """Seconds from a call-in to the reserve agent's login."""
        return 0.0

    @property
    def length_s(self) -> float:
        """Seconds a called-in agent stays."""
        return 0.0

    def bind(self, scenario: Any) -> None:  # noqa: B027 (a no-op hook by design)
        """Resolve names in the parameters against the scenario (raise ``ValueError`` naming the parameter)."""

    @abstractmethod
    def roster(self, scenario: Any) -> Sequence[AgentShifts]:
        """Every agent of the run with its blocks (the engine applies absenteeism per agent and day)."""

    def reserve(self, scenario: Any) -> Mapping[str, int]:
        """Reserve agents per group name, off until called in (none by default)."""
        return {}

    def call_in(self, view: SystemView) -> Mapping[int, int]:
        """Reserve agents to call in now, per group code (none by default)."""
        return {}


@dataclass(frozen=True, slots=True)
class ServiceAdjustment:
    """How empowerment changes one service that needs an approval.

    Attributes:
        extra_handle_s: Extra handle time the agent spends on the approval (seconds).
        escalate: ``False``: the agent approves in the contact. ``True``: the approval is escalated.
        synchronous: For an escalation: ``True`` holds the customer (and the agent) while a team lead
            approves (a finite pool with its own queue); ``False`` sends it to the back office (the customer gets
            the answer later, which breaks first-contact resolution and may cause a repeat contact).
        leakage: Expected cost of a self-approval a supervisor would have refused (currency).
    """

    extra_handle_s: float = 0.0
    escalate: bool = False
    synchronous: bool = True
    leakage: float = 0.0


class EmpowermentPolicy(ABC):
    """Decides whether an agent may resolve an approval in the same contact.

    The engine calls :meth:`adjust` when a contact that needs an approval (``amount > 0``) starts service.
    """

    def bind(self, scenario: Any) -> None:  # noqa: B027 (a no-op hook by design)
        """Resolve names in the parameters against the scenario (raise ``ValueError`` naming the parameter)."""

    @abstractmethod
    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """Return the adjustment to apply to this service."""

    def training_cost(self, group: str) -> float:
        """One-off training cost per agent on the roster of ``group`` (currency; 0 by default)."""
        return 0.0
