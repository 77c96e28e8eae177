"""Runtime state of contacts and agents (mutable, owned by the engine; policies only read them), and queues.

The integer codes below are the engine's; the names they stand for in the output frames are in
:mod:`sim.log` (``BOT_OUTCOMES``, ``APPROVALS``, ``TRANSFERS``) at the same positions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = [
    "BREAK", "DONE", "DRAINING", "IN_BOT", "NO_AGENT", "OFF", "ON", "SERVING", "WAITING", "Agent", "Contact",
    "ContactDraws", "Queue", "StageContact",
]  # fmt: skip

# Contact states (IN_BOT: in a bot session or its hand-off, not yet in a human queue).
WAITING, SERVING, DONE, IN_BOT = 0, 1, 2, 3
# Agent states: logged out, working, on break, finishing the contacts in hand before a break or logout.
OFF, ON, BREAK, DRAINING = 0, 1, 2, 3
# Bot endings (Contact.bot; 0: not offered to a bot).
BOT_RESOLVED, BOT_ABANDONED, BOT_SILENT, BOT_ESCALATED = 1, 2, 3, 4
# Approval routes (Contact.approval; 0: no approval needed).
APPROVAL_SELF, APPROVAL_TEAM_LEAD, APPROVAL_BACK_OFFICE = 1, 2, 3
# Transfer outcomes (Contact.transfer; 0: not transferred).
TRANSFER_ANSWERED, TRANSFER_ABANDONED, TRANSFER_CENSORED = 1, 2, 3


class ContactDraws(NamedTuple):
    """Per-contact draws made at arrival for the bot, approval, transfer and repeat stages.

    Each field comes from its own named stream (or, for a repeat contact, from a generator seeded by its
    predecessor's ``repeat_seed``), so two policies on one seed see the same customers (common random numbers).
    """

    bot_u: float
    """Uniform deciding the bot ending (resolved, abandoned, silent failure, escalated)."""
    session_s: float
    """Bot session length (seconds; an abandoning customer leaves part-way through)."""
    amount: float
    """Approval amount (currency; 0 when the contact needs no approval)."""
    team_lead_s: float
    """A team lead's time on the approval (seconds)."""
    recontact_u: float
    """Uniform deciding whether an async-escalated customer chases the back office."""
    recontact_delay_s: float
    """Delay before that chaser (seconds)."""
    return_u: float
    """Uniform deciding whether (and on which channel) a silent bot failure comes back."""
    return_delay_s: float
    """Delay before that return (seconds)."""
    back_office_delay_s: float
    """Time the back office takes to answer an async escalation (seconds)."""
    transfer_u: float
    """Uniform deciding whether the contact is transferred to another skill."""
    transfer_handle_s: float
    """Handle time of the transfer's second service (seconds, before proficiency)."""
    transfer_patience_s: float
    """Patience while holding for the transfer (seconds)."""
    repeat_seed: int
    """Seed of the generator that draws this customer's repeat contact, if one happens."""


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

    # Set by the engine at service start and end (NaN when the contact leaves unserved).
    start_s: float
    end_s: float
    handle_s: float
    """The agent's time on the contact (seconds): handle time with proficiency, inflation and approval work."""

    # Stage attributes of a plain contact (read-only defaults; a StageContact has them as slots).
    x: ContactDraws | None = None
    """Per-contact draws made at arrival for the bot, approval, transfer and repeat stages."""
    amount = 0.0
    repeat = 0
    bot = 0
    """Bot ending code (0: no bot; ``BOT_*``)."""
    bot_end_s = math.nan
    approval = 0
    """Approval route (0: none, 1: self-approved, 2: team lead, 3: back office)."""
    approval_wait_s = math.nan
    parent: StageContact | None = None
    """For the second service of a transfer: the contact it continues (its row is recorded at the end)."""
    transfer = 0
    """Transfer outcome (0: none, 1: answered, 2: abandoned, 3: still waiting at the horizon)."""
    transfer_wait_s = math.nan
    retrial = 0
    """Attempt number of a retrial (0: a first attempt; see :mod:`sim.engine.mechanics`)."""
    cb = 0
    """Callback state (0: none; 1: request waiting; 2: call back answered; 3: call back unanswered)."""

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
        # leaves unserved.

    def __repr__(self) -> str:
        return f"Contact(id={self.id}, arrival_s={self.arrival_s:.1f}, channel={self.channel}, state={self.state})"


class StageContact(Contact):
    """A contact with its draws ``x`` for the bot, approval, transfer and repeat stages (see :class:`Contact`)."""

    __slots__ = (
        "amount", "approval", "approval_wait_s", "bot", "bot_end_s", "cb", "cb_tries", "line", "mu", "parent",
        "repeat", "retrial", "timeout", "transfer", "transfer_wait_s", "x",
    )  # fmt: skip

    def __init__(self, *args, x: ContactDraws, amount: float = 0.0) -> None:
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
        # Channel mechanics (sim.engine.mechanics): attempt, callback state, line held, timeout, draws.
        self.retrial = 0
        self.cb = 0
        self.cb_tries = 0
        self.line = False
        self.timeout = False
        self.mu: tuple[float, float, int] | None = None


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


class Queue:
    """One queue: channel x intent x language x priority x tier, and who may serve it (read-only after set-up).

    The engine keeps the waiting contacts apart (policies read them through the view, never the container).
    """

    __slots__ = (
        "channel", "deferrable", "fallback_groups", "groups", "index", "intent", "language", "priority", "tier",
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
        """Groups whose agents may serve this queue (channel, skill and language)."""
        self.fallback_groups = fallback_groups
        """Groups with the channel and the skill but not the language."""

    def __repr__(self) -> str:
        return f"Queue(index={self.index}, channel={self.channel}, intent={self.intent}, groups={self.groups})"
