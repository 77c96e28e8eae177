"""Stages around the human service: the bot, team-lead approvals, transfers to another skill, repeat contacts.

Semantics (DESIGN §3):

* **Bot** (``scenario.bots``, offered by the deflection policy): a session ends resolved, abandoned, as a silent
  failure (the customer may come back later as a repeat contact, possibly on another channel) or escalated
  (after the hand-off delay the contact joins the human queue with scaled handle time and less patience left).
* **Team leads** (synchronous approvals): at the end of its handle time the agent and the customer wait while a
  team lead of the finite pool approves; the pool has its own FIFO queue. The agent's handle time includes the
  hold (as in ACD AHT).
* **Transfers** (``scenario.transfers``): after the first service, a share of an intent's contacts waits for a
  second service by another skill (its queue, same channel, language, priority and tier). That second service is
  not a contact of its own: the contact's row (FRT, first agent) is recorded when it ends, with the transfer
  outcome and wait; its queueing and service count in the time-weighted levels.
* **Repeat contacts**: a silent bot failure or a back-office chaser comes back as a new contact of the same
  customer, intent, priority, tier and language, with id = predecessor's id + 2**40 (first contacts keep their
  arrival-order ids under every policy; a contact has at most one repeat).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, cast

from sim.defaults import NoDeflection, NoEmpowerment
from sim.engine import resolution as r
from sim.entities import (
    APPROVAL_BACK_OFFICE,
    APPROVAL_SELF,
    APPROVAL_TEAM_LEAD,
    BOT_ABANDONED,
    BOT_ESCALATED,
    BOT_RESOLVED,
    BOT_SILENT,
    DONE,
    IN_BOT,
    TRANSFER_ABANDONED,
    TRANSFER_ANSWERED,
    TRANSFER_CENSORED,
    WAITING,
    Agent,
    Contact,
    StageContact,
)
from sim.schema import OUTCOMES

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["REPEAT_ID_STEP", "BotStage", "Repeats", "ServiceStages", "TeamLeads", "Transfers"]

_BOT_RESOLVED, _BOT_ABANDONED = OUTCOMES.index("bot_resolved"), OUTCOMES.index("bot_abandoned")
_SILENT, _IN_BOT, _ABANDONED = OUTCOMES.index("silent_failure"), OUTCOMES.index("in_bot"), OUTCOMES.index("abandoned")
_ESC_ASYNC = OUTCOMES.index("escalated_async")
REPEAT_ID_STEP = 1 << 40
"""A repeat contact's id is its predecessor's id plus this."""


class BotStage:
    """The bots in front of channels: sessions, their endings, hand-offs and fees."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        sc = center.scenario
        self.bots = [sc.bots.get(ch) for ch in center.channels]
        self.active = any(b is not None for b in self.bots) and not isinstance(center.deflection, NoDeflection)
        self._offer = center.deflection.offer
        self._busy = [0] * len(self.bots)
        self._cap = [(b.capacity or math.inf) if b is not None else 0 for b in self.bots]
        self._p = [
            [(b.resolution_for(i), b.abandon, b.silent_failure) for i in center.intents] if b is not None else []
            for b in self.bots
        ]
        self.sessions = [0] * len(self.bots)
        self.resolutions = [0] * len(self.bots)
        self._in_bot: dict[StageContact, None] = {}

    def try_start(self, contact: StageContact) -> bool:
        """Start a bot session if the channel has a bot with a free session and the deflection policy offers it."""
        ch = contact.channel
        if not (self.active and self.bots[ch] is not None and self._busy[ch] < self._cap[ch]):
            return False
        c = self.c
        offered = self._offer(contact, c.view)
        if c.stale:
            c.compact()
        if offered:
            self._start(contact)
        return offered

    def _start(self, contact: StageContact) -> None:
        c = self.c
        ch = contact.channel
        bot = self.bots[ch]
        assert bot is not None
        assert contact.x is not None
        self._busy[ch] += 1
        self.sessions[ch] += 1
        x = contact.x
        u = x.bot_u
        resolve, abandon, silent = self._p[ch][contact.intent]
        duration = x.session_s
        if u < resolve:
            kind = BOT_RESOLVED
        elif u < resolve + abandon:
            kind = BOT_ABANDONED
            duration *= (u - resolve) / abandon  # leaves part-way through (uniform given the draw)
        elif u < resolve + abandon + silent:
            kind = BOT_SILENT
        else:
            kind = BOT_ESCALATED
        contact.bot = kind
        contact.state = IN_BOT
        self._in_bot[contact] = None
        if c.now >= c.measure_s:
            res = c.res[contact.seg]
            res[r.BOT_OFFERED] += 1
            res[r.BOT_SESSION] += duration
            res[r.BOT_FRT] += min(bot.first_reply, duration)
        c.at(c.now + duration, self._on_end, contact)

    def _on_end(self, contact: StageContact) -> None:
        c = self.c
        now = c.now
        ch = contact.channel
        bot = self.bots[ch]
        assert bot is not None
        assert contact.x is not None
        self._busy[ch] -= 1
        contact.bot_end_s = now
        kind = contact.bot
        res = c.res[contact.seg] if contact.arrival_s >= c.measure_s else None
        if kind == BOT_ESCALATED:
            if res is not None:
                res[r.BOT_ESCALATED] += 1
            c.after(bot.handoff, self._on_handoff, contact)
            return
        del self._in_bot[contact]
        if kind == BOT_RESOLVED:
            self.resolutions[ch] += 1
            outcome, counter = _BOT_RESOLVED, r.BOT_RESOLVED
        elif kind == BOT_ABANDONED:
            outcome, counter = _BOT_ABANDONED, r.BOT_ABANDONED
        else:
            outcome, counter = _SILENT, r.BOT_SILENT
            u = contact.x.return_u
            if u < bot.return_share:
                channel = ch
                if bot.return_channels:
                    pick = u / bot.return_share * sum(bot.return_channels.values())
                    for name, weight in bot.return_channels.items():
                        channel = c.channels.index(name)
                        pick -= weight
                        if pick < 0.0:
                            break
                c.repeats.schedule(contact, now + contact.x.return_delay_s, channel, contact.amount)
        if res is not None:
            res[counter] += 1
            if kind != BOT_ABANDONED and not contact.repeat:
                res[r.FIRST] += 1
                res[r.FCR] += kind == BOT_RESOLVED
        c.unserved(contact, outcome)

    def _on_handoff(self, contact: StageContact) -> None:
        c = self.c
        now = c.now
        del self._in_bot[contact]
        bot = self.bots[contact.channel]
        assert bot is not None
        if bot.context:
            handle_f, patience_f = bot.context_handle_factor, bot.context_patience_factor
        else:
            handle_f, patience_f = bot.no_context_handle_factor, bot.no_context_patience_factor
        contact.handle_base_s *= handle_f * bot.escalated_handle_factor
        contact.queued_s = now
        contact.deadline_s = now + contact.patience_s * patience_f
        contact.patience_s = contact.deadline_s - contact.arrival_s  # abandonment wait is counted from arrival
        contact.state = WAITING
        c.enqueue(contact)

    def close(self, horizon_s: float) -> None:
        """Contacts in a session or its hand-off at the horizon never reached the human queue: ``in_bot``."""
        for contact in self._in_bot:
            contact.queued_s = horizon_s
            self.c.unserved(contact, _IN_BOT)
        self._in_bot.clear()

    def cost(self, days: float) -> float:
        """Bot fees over the run (currency): per session, per resolution, and the fixed fee per day."""
        if not self.active:
            return 0.0
        return sum(
            self.sessions[ci] * bot.cost_per_session
            + self.resolutions[ci] * bot.cost_per_resolution
            + bot.fixed_fee_per_day * days
            for ci, bot in enumerate(self.bots)
            if bot is not None
        )


class TeamLeads:
    """The finite pool of team leads approving synchronous escalations, with its own FIFO queue."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        self._free = center.scenario.team_leads.count
        self._queue: deque[StageContact] = deque()
        self.busy_s = 0.0
        """Team-lead time spent on approvals after the warm-up (seconds)."""

    def hold(self, contact: StageContact) -> None:
        """The agent and the customer hold until a team lead approves (then the service ends)."""
        contact.approval_wait_s = self.c.now  # request time until a team lead takes it
        if self._free > 0:
            self._start(contact)
        else:
            self._queue.append(contact)

    def _start(self, contact: StageContact) -> None:
        c = self.c
        now = c.now
        assert contact.x is not None
        self._free -= 1
        contact.approval_wait_s = wait = now - contact.approval_wait_s
        duration = contact.x.team_lead_s
        if contact.arrival_s >= c.measure_s:
            res = c.res[contact.seg]
            res[r.APPROVAL_N] += 1
            res[r.APPROVAL_WAIT] += wait
        self.busy_s += max(0.0, min(now + duration, c.horizon_s) - max(now, c.measure_s))
        c.at(now + duration, self._on_end, contact)

    def _on_end(self, contact: StageContact) -> None:
        c = self.c
        self._free += 1
        if self._queue:
            self._start(self._queue.popleft())
        contact.handle_s = c.now - contact.start_s  # the agent's time includes the hold (as in ACD AHT)
        c.release(contact)

    def close(self, horizon_s: float) -> None:
        """Contacts still on hold at the horizon: their wait so far (censored)."""
        for contact in self._queue:
            contact.approval_wait_s = horizon_s - contact.approval_wait_s


class Transfers:
    """Second services by another skill: queued as a leg of the contact, recorded with it when they end."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        sc = center.scenario
        intents = center.intents
        self.to: list[tuple[float, int] | None] = [
            (sc.transfers[i].share, intents.index(sc.transfers[i].to)) if i in sc.transfers else None
            for i in intents
        ]
        """Per intent code: ``(share, target intent code)`` of its transfers, or ``None``."""

    def start(self, contact: StageContact, to: int) -> None:
        """Queue the second service of ``contact`` for intent ``to`` (the customer holds)."""
        c = self.c
        x = contact.x
        assert x is not None
        layout = c.layout
        prio, tier = contact.priority, contact.tier
        qi = layout.key(contact.channel, to, contact.language, prio, tier)
        if qi < 0:  # the target intent has no urgent queue: the transfer waits as normal
            qi = layout.key(contact.channel, to, contact.language, 0, tier)
        leg = StageContact(
            contact.id, c.now, contact.channel, to, prio, tier, contact.language, contact.customer_id,
            x.transfer_handle_s, x.transfer_patience_s, qi, x=x,
        )  # fmt: skip
        leg.parent = contact
        leg.repeat = contact.repeat
        c.enqueue(leg)

    def done(self, leg: StageContact, outcome: int, in_service: bool = False) -> None:
        """The second service ended (answered, abandoned or censored): record it and the contact it continues.

        ``in_service``: answered but still in service at the horizon. Then, and for a transfer still waiting at
        the horizon, the contact does not count as a first contact (resolved or not), like a first service still
        in hand.
        """
        c = self.c
        contact = leg.parent
        assert contact is not None
        answered = outcome == TRANSFER_ANSWERED
        # Answered: the second agent's answer; abandoned: the end of patience; censored: the horizon.
        answer_s = leg.start_s if answered else (leg.deadline_s if outcome == TRANSFER_ABANDONED else c.horizon_s)
        contact.transfer = outcome
        contact.transfer_wait_s = answer_s - leg.queued_s
        group = leg.agent.group if answered else 0
        c.recorder.add_leg(leg.seg, group, leg.queued_s, answer_s, leg.end_s if answered else math.nan, answered)
        if contact.arrival_s >= c.measure_s:
            res = c.res[contact.seg]
            res[r.TRANSFERS] += 1
            if answered:
                res[r.TRANSFER_ANSWERED] += 1
                res[r.TRANSFER_WAIT] += contact.transfer_wait_s
            elif outcome == TRANSFER_ABANDONED:
                res[r.TRANSFER_ABANDONED] += 1
            if not contact.repeat and not in_service and outcome != TRANSFER_CENSORED:  # undecided at the horizon
                res[r.FIRST] += 1
                res[r.FCR] += answered and contact.approval != APPROVAL_BACK_OFFICE
        c.finish(contact)

    def unanswered(self, leg: StageContact, outcome: int) -> None:
        """A leg left the queue unanswered (patience ran out, or the horizon): the contact was answered before."""
        leg.state = DONE
        self.done(leg, TRANSFER_ABANDONED if outcome == _ABANDONED else TRANSFER_CENSORED)


class Repeats:
    """Customers coming back: a silent bot failure that returns, or a chaser of an async escalation."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        self.n = 0
        """Repeat contacts that arrived."""

    def schedule(self, contact: StageContact, at_s: float, channel: int, amount: float) -> None:
        """The customer of ``contact`` comes back at ``at_s`` on ``channel`` (if before the horizon)."""
        if at_s < self.c.horizon_s:
            self.c.at(at_s, self._on_repeat, (contact, channel, amount))

    def _on_repeat(self, arg: tuple[StageContact, int, float]) -> None:
        """A new contact with the same customer, intent, priority, tier and language."""
        c = self.c
        now = c.now
        orig, ch, amount = arg
        assert orig.x is not None
        intent = orig.intent
        handle, patience, x = c.draws.repeat(ch, intent, amount, orig.x.repeat_seed)
        lang, prio, tier = orig.language, orig.priority, orig.tier
        qi = c.layout.key(ch, intent, lang, prio, tier)
        contact = StageContact(
            orig.id + REPEAT_ID_STEP, now, ch, intent, prio, tier, lang, orig.customer_id, handle, patience, qi,
            x=x, amount=amount,
        )  # fmt: skip
        c.n_arrivals += 1
        self.n += 1
        contact.repeat = 1
        if now >= c.measure_s:
            c.res[contact.seg][r.REPEATS] += 1
        if c.outages is not None and c.outages.intercept(contact):
            return  # the channel is down: the outage rule moved, delayed or lost it
        c.route_new(contact)


class ServiceStages:
    """What the stages add to a service's start and end.

    Hand-off and returning-customer counts, approvals (empowerment), back-office chasers, transfers and
    first-contact resolution.
    """

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        sc = center.scenario
        self.track_last = sc.customers.population is not None or center.routing.uses_last_agent
        """Keep each customer's last agent (:attr:`ContactCenter.last`)."""
        self._empower = bool(sc.approvals) and not isinstance(center.empowerment, NoEmpowerment)
        self._adjust = center.empowerment.adjust
        self.leakage = 0.0
        """Expected cost of self-approvals a supervisor would have refused (currency)."""

    def start(self, agent: Agent, contact: Contact, handle: float) -> float:
        """Service start of a contact with draws or a customer history; returns the handle time (seconds)."""
        c = self.c
        now = c.now
        res = c.res[contact.seg] if contact.arrival_s >= c.measure_s else None
        if contact.bot and res is not None:
            res[r.HANDOFF_N] += 1
            res[r.HANDOFF_S] += now - contact.bot_end_s
        if self.track_last and contact.parent is None:  # a transfer's second service is not a return
            last = c.last.get(contact.customer_id)
            if last is not None and res is not None:
                res[r.RETURNING] += 1
                res[r.SAME_AGENT] += last is agent
        if contact.amount > 0.0 and self._empower and not contact.approval:
            contact = cast(StageContact, contact)  # only stage contacts need approvals
            adj = self._adjust(agent, contact)
            handle += adj.extra_handle_s
            if not adj.escalate:
                contact.approval, route = APPROVAL_SELF, r.SELF
                self.leakage += adj.leakage
            elif adj.synchronous:
                contact.approval, route = APPROVAL_TEAM_LEAD, r.SYNC
            else:
                contact.approval, route = APPROVAL_BACK_OFFICE, r.ASYNC
            if res is not None:
                res[r.APPROVALS] += 1
                res[route] += 1
                if route == r.SELF:
                    res[r.LEAKAGE] += adj.leakage
        return handle

    def end(self, contact: Contact, agent: Agent) -> int:
        """Service end of a contact with draws or a customer history.

        Returns:
            -1 to record the contact now; -2 when it is recorded later (the second service of a transfer ended,
            which records the contact it continues); an intent code to transfer the contact to once the agent's
            slot is free (recorded when that second service ends).
        """
        c = self.c
        if self.track_last:
            c.last[contact.customer_id] = agent
        x = contact.x
        if x is None:
            return -1
        contact = cast(StageContact, contact)  # a contact with draws
        if contact.parent is not None:
            c.transfers.done(contact, TRANSFER_ANSWERED)
            return -2
        if contact.approval == APPROVAL_BACK_OFFICE:
            contact.outcome = _ESC_ASYNC
            bo = c.scenario.back_office
            # The customer chases only if the back office has not answered by then.
            if x.recontact_u < bo.recontact_share and x.recontact_delay_s < x.back_office_delay_s:
                channel = c.channels.index(bo.recontact_channel) if bo.recontact_channel else contact.channel
                c.repeats.schedule(contact, c.now + x.recontact_delay_s, channel, 0.0)
        transfer = c.transfers.to[contact.intent]
        if transfer is not None and x.transfer_u < transfer[0]:
            return transfer[1]
        if contact.arrival_s >= c.measure_s and not contact.repeat:
            res = c.res[contact.seg]
            res[r.FIRST] += 1
            res[r.FCR] += contact.approval != APPROVAL_BACK_OFFICE
        return -1
