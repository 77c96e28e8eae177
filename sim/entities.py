"""Runtime state of contacts, agents and queues (mutable, owned by the engine; policies only read them)."""

from __future__ import annotations

import math
from collections import deque

__all__ = [
    "BREAK", "DONE", "DRAINING", "IN_BOT", "NO_AGENT", "OFF", "ON", "SERVING", "WAITING", "Agent", "Contact",
    "QueueState", "StageContact",
]  # fmt: skip

# Contact states (IN_BOT: in a bot session or its hand-off, not yet in a human queue).
WAITING, SERVING, DONE, IN_BOT = 0, 1, 2, 3
# Agent states: logged out, working, on break, finishing the contacts in hand before a break or logout.
OFF, ON, BREAK, DRAINING = 0, 1, 2, 3


class Contact:
    """One customer contact. Times are seconds from the scenario start.

    ``outcome`` is an index into :data:`sim.schema.OUTCOMES` once the contact is done. A plain contact (no bot,
    approval, transfer or repeat stage configured) keeps only what the core needs; the stage attributes below
    read as class-level defaults. :class:`StageContact` carries them as its own.
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
        "queued_s",
        "seg",
        "start_s",
        "state",
        "tier",
    )

    # Stage attributes of a plain contact (read-only defaults; a StageContact has them as slots).
    x: tuple | None = None
    """Per-contact draws made at arrival for the bot, approval, transfer and repeat stages (see ``sim.center``)."""
    amount = 0.0
    repeat = 0
    bot = 0
    """Bot ending code (0: no bot; see ``sim.center``)."""
    bot_end_s = math.nan
    approval = 0
    """Approval route (0: none, 1: self-approved, 2: team lead, 3: back office)."""
    approval_wait_s = math.nan
    parent: Contact | None = None
    """For the second service of a transfer: the contact it continues (its row is recorded at the end)."""
    transfer = 0
    """Transfer outcome (0: none, 1: answered, 2: abandoned, 3: still waiting at the horizon)."""
    transfer_wait_s = math.nan

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
        self.queued_s = arrival_s
        # start_s, end_s, handle_s are set by the engine: at service start and end, or NaN when the contact
        # leaves unserved (see ContactCenter._unserved).

    def __repr__(self) -> str:
        return f"Contact(id={self.id}, arrival_s={self.arrival_s:.1f}, channel={self.channel}, state={self.state})"


class StageContact(Contact):
    """A contact with its draws ``x`` for the bot, approval, transfer and repeat stages (see :class:`Contact`)."""

    __slots__ = (
        "amount", "approval", "approval_wait_s", "bot", "bot_end_s", "parent", "repeat", "transfer",
        "transfer_wait_s", "x",
    )  # fmt: skip

    def __init__(self, *args, x: tuple, amount: float = 0.0) -> None:
        """Same arguments as :class:`Contact`, plus the draws ``x`` and the approval ``amount`` (currency)."""
        super().__init__(*args)
        self.x = x
        self.amount = amount
        self.repeat = 0
        self.bot = 0
        self.bot_end_s = math.nan
        self.approval = 0
        self.approval_wait_s = math.nan
        self.parent = None
        self.transfer = 0
        self.transfer_wait_s = math.nan


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
        "callin_s",
        "epoch",
        "group",
        "hand",
        "handled",
        "id",
        "index",
        "logged_in_s",
        "login_s",
        "n_active",
        "night_s",
        "overtime_s",
        "pending",
        "plan",
        "plan_i",
        "reserve",
        "scheduled_s",
        "shift",
        "since",
        "state",
    )

    def __init__(self, id: int, group: int, shift: str, n_channels: int, index: int = 0) -> None:
        self.id = id
        self.group = group
        self.index = index
        self.reserve = False
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
        self.night_s = 0.0
        self.callin_s = 0.0
        self.handled = 0
        self.absent_shifts = 0

    def __repr__(self) -> str:
        return f"Agent(id={self.id}, group={self.group}, state={self.state}, n_active={self.n_active})"


NO_AGENT = Agent(-1, -1, "", 0)
"""Placeholder agent of contacts nobody served (id and group -1)."""


class QueueState:
    """Waiting contacts of one channel x intent x language x priority x tier, in queue-join order.

    Contacts that were served from the middle of the deque or whose patience ran out stay in it until they reach
    the front (lazy removal): readers skip any contact whose ``state`` is not ``WAITING`` or whose deadline passed.
    """

    __slots__ = (
        "channel", "contacts", "deferrable", "fallback_groups", "groups", "index", "intent", "language", "priority",
        "tier",
    )  # fmt: skip

    def __init__(
        self,
        index: int,
        channel: int,
        intent: int,
        language: int,
        deferrable: bool,
        groups: tuple[int, ...],
        priority: int = 0,
        tier: int = 0,
        fallback_groups: tuple[int, ...] = (),
    ) -> None:
        self.index = index
        self.channel = channel
        self.intent = intent
        self.language = language
        self.priority = priority
        self.tier = tier
        self.deferrable = deferrable
        self.groups = groups
        self.fallback_groups = fallback_groups
        self.contacts: deque[Contact] = deque()
