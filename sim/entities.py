"""Runtime state of contacts, agents and queues (mutable, owned by the engine; policies only read them)."""

from __future__ import annotations

from collections import deque

__all__ = ["BREAK", "DONE", "DRAINING", "NO_AGENT", "OFF", "ON", "SERVING", "WAITING", "Agent", "Contact", "QueueState"]

# Contact states.
WAITING, SERVING, DONE = 0, 1, 2
# Agent states: logged out, working, on break, finishing the contacts in hand before a break or logout.
OFF, ON, BREAK, DRAINING = 0, 1, 2, 3


class Contact:
    """One customer contact. Times are seconds from the scenario start.

    ``outcome`` is an index into :data:`sim.schema.OUTCOMES` once the contact is done.
    """

    __slots__ = (
        "agent",
        "arrival_s",
        "channel",
        "customer_id",
        "deadline_s",
        "end_s",
        "handle_base_s",
        "handle_s",
        "id",
        "intent",
        "language",
        "outcome",
        "patience_s",
        "priority",
        "queue",
        "seg",
        "start_s",
        "state",
        "tier",
    )

    def __init__(
        self,
        id: int,
        arrival_s: float,
        channel: int,
        intent: int,
        priority: int,
        tier: int,
        language: int,
        customer_id: int,
        handle_base_s: float,
        patience_s: float,
        queue: int,
    ) -> None:
        self.id = id
        self.arrival_s = arrival_s
        self.channel = channel
        self.intent = intent
        self.priority = priority
        self.tier = tier
        self.language = language
        self.customer_id = customer_id
        self.handle_base_s = handle_base_s
        self.patience_s = patience_s
        self.deadline_s = arrival_s + patience_s
        self.queue = queue
        self.seg = (channel * 2 + priority) * 2 + tier
        self.state = WAITING
        self.agent: Agent = NO_AGENT
        self.outcome = -1
        # start_s, end_s, handle_s are set by the engine: at service start and end, or NaN when the contact
        # leaves unserved (see ContactCenter._unserved).

    def __repr__(self) -> str:
        return f"Contact(id={self.id}, arrival_s={self.arrival_s:.1f}, channel={self.channel}, state={self.state})"


class Agent:
    """One agent: identity, shift plan and running totals (seconds)."""

    __slots__ = (
        "absent_shifts",
        "active_channel",
        "block_end_s",
        "break_s",
        "break_since_s",
        "busy_s",
        "busy_since_s",
        "epoch",
        "group",
        "hand",
        "handled",
        "id",
        "logged_in_s",
        "login_s",
        "n_active",
        "overtime_s",
        "pending",
        "plan",
        "plan_i",
        "scheduled_s",
        "shift",
        "since",
        "state",
    )

    def __init__(self, id: int, group: int, shift: str, n_channels: int) -> None:
        self.id = id
        self.group = group
        self.shift = shift
        self.state = OFF
        self.n_active = 0
        self.active_channel = -1
        self.hand: list[Contact] = []
        self.since = [0.0] * n_channels
        self.plan: list[tuple[float, int, float]] = []
        self.plan_i = 0
        self.pending = 0
        self.epoch = 0
        self.block_end_s = 0.0
        self.login_s = 0.0
        self.busy_since_s = 0.0
        self.break_since_s = 0.0
        self.busy_s = 0.0
        self.logged_in_s = 0.0
        self.break_s = 0.0
        self.overtime_s = 0.0
        self.scheduled_s = 0.0
        self.handled = 0
        self.absent_shifts = 0

    def __repr__(self) -> str:
        return f"Agent(id={self.id}, group={self.group}, state={self.state}, n_active={self.n_active})"


NO_AGENT = Agent(-1, -1, "", 0)
"""Placeholder agent of contacts nobody served (id and group -1)."""


class QueueState:
    """Waiting contacts of one channel x intent x language, in arrival order.

    Contacts that were served from the middle of the deque or whose patience ran out stay in it until they reach
    the front (lazy removal): readers skip any contact whose ``state`` is not ``WAITING`` or whose deadline passed.
    """

    __slots__ = ("channel", "contacts", "deferrable", "groups", "index", "intent", "language")

    def __init__(
        self, index: int, channel: int, intent: int, language: int, deferrable: bool, groups: tuple[int, ...]
    ) -> None:
        self.index = index
        self.channel = channel
        self.intent = intent
        self.language = language
        self.deferrable = deferrable
        self.groups = groups
        self.contacts: deque[Contact] = deque()
