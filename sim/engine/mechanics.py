"""Channel mechanics: trunk lines, a maximum queue time, balking, retrials and callbacks (virtual hold).

Semantics (per live channel, ``scenario.channels.<c>``; README "Channel mechanics"):

* **Lines** (``lines: K``): a contact of the channel holds a line from its arrival until it ends (bot session,
  hand-off, queue, service, team-lead hold and a transfer's second service included). An arrival that finds all
  ``K`` lines held is ``blocked``: recorded at once with wait 0, never queued.
* **Maximum queue time** (``max_wait``, per channel, or per intent on live channels): a contact still waiting in
  the human queue ``max_wait`` after it joined it (and before its patience runs out) is sent to a message:
  ``timed_out`` at that time, not an abandonment. Not applied to a transfer's second service or to callback requests.
* **Balking** (``balk``): a caller who would have to wait (no agent takes the contact when it joins the queue)
  leaves at once with probability ``share + per_waiting x contacts already waiting in its queue`` (``balked``,
  wait 0). Only first joins of a contact (not bot hand-offs, transfers or callback re-queues).
* **Retrials** (``retrial``): a contact that ended ``blocked``, ``abandoned`` or ``balked`` (``after``) is followed,
  with ``probability``, by a new contact of the same customer, intent, priority, tier and language on the same
  channel after ``delay`` (from its arrival when blocked or balked, from the end of its wait otherwise), marked
  ``retrial = k`` (the k-th retrial) and with id = predecessor's id + 2**40 (like repeat contacts).
* **Callbacks** (``callback``): a caller who would have to wait, whose predicted wait exceeds ``threshold``, leaves a
  callback request with probability ``share`` (after the balking check) and keeps its place in the queue; it no
  longer abandons or times out, and hangs up: its line is free again (call backs are outbound and hold no
  inbound line). Predicted wait = (contacts waiting ahead in its queue + 1) x mean handle time of
  its (channel, intent) / max(1, channel slots of the logged-in agents of the groups that serve the queue). When
  an agent takes the request, it calls the customer: answered with probability ``answer`` (the service is the
  contact's handle time), otherwise the agent spends ``no_answer`` and the request rejoins the back of the queue
  ``retry_delay`` later, until ``attempts`` calls were made; then it is dropped (``callback_unanswered``). The
  outcome of an answered request is ``callback_answered``; its ``wait_s`` and ``first_response_s`` are the wait until
  called (arrival -> the agent's call back), reported apart from inbound waits (not in ASA, SL or the FRT
  histogram); a request pending at the horizon is ``callback_censored``.

Abandonment is exact in time here: with any mechanic on, every waiting contact with a finite deadline gets an
own-heap event at its deadline (lines are released and retrials scheduled then), instead of the lazy recording of
:mod:`sim.engine.center` (same outcomes and times).

Zero cost when unused: :class:`Mechanics` is inactive unless a channel sets one of these, and only then replaces
(once, at set-up) the center's ``route_new``, ``enqueue``, ``finish``, ``unserved`` and service-stage hooks with
its own and joins the center's arrival hooks (:meth:`Mechanics.register`, :meth:`Mechanics.bind`); every contact
is then a :class:`~sim.entities.StageContact`.

Randomness (common random numbers): each first contact gets two uniforms (balking, callback choice) and a seed from
the named streams ``mechanics/balk``, ``mechanics/callback`` and ``mechanics/seed``, drawn per arrival batch in
batch order; the draws belong to the arrival row (kept by its identity) and are bound to the contact created from
it, by contact id, when it is created, so a contact an outage loses, delays or moves, or a row a ``shift_demand``
plan re-schedules, keeps its own draws and leaves every other contact's alone. A retrial's or repeat's come from a
generator seeded by its own ``repeat_seed``. The retrial decision and delay, and the answers to call backs, come
from generators seeded by the contact's seed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np

from sim.arrivals import ArrivalBatch
from sim.engine.stages import REPEAT_ID_STEP
from sim.entities import DONE, NO_AGENT, WAITING, Agent, Contact, StageContact
from sim.schema import OUTCOMES

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["Mechanics"]

_SERVED, _ABANDONED, _CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")
_BLOCKED, _BALKED, _TIMED_OUT = OUTCOMES.index("blocked"), OUTCOMES.index("balked"), OUTCOMES.index("timed_out")
_CB_ANSWERED = OUTCOMES.index("callback_answered")
_CB_UNANSWERED = OUTCOMES.index("callback_unanswered")
_CB_CENSORED = OUTCOMES.index("callback_censored")
# Callback states (Contact.cb).
CB_WAITING, CB_ANSWERED, CB_UNANSWERED = 1, 2, 3


class Mechanics:
    """Lines, maximum queue time, balking, retrials and callbacks of one replication (see the module docstring)."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        sc = center.scenario
        specs = [sc.channels[ch] for ch in center.channels]
        self.active = sc.has_mechanics
        """Whether any channel uses a mechanic (otherwise nothing here runs)."""
        self.n_retrials = 0
        """Retrials that arrived."""
        if not self.active:
            return
        self.lines = [s.lines for s in specs]
        self.used = [0] * len(specs)
        """Lines held per channel code."""
        self.max_wait = [[sc.max_wait_for(ch, i) for i in center.intents] for ch in center.channels]
        self.balk = [s.balk for s in specs]
        self.retrial = [s.retrial for s in specs]
        self.retry_after = [
            frozenset(OUTCOMES.index(o) for o in s.retrial.after) if s.retrial is not None else frozenset()
            for s in specs
        ]
        self.callback = [s.callback for s in specs]
        self.mean_handle = [[sc.intents[i].handle_for(ch).mean_s for i in center.intents] for ch in center.channels]
        self._pending: dict[int, tuple[float, float, int]] = {}
        """Draws of the arrival rows read but not yet arrived, by ``id(row)`` (a pending row is alive)."""
        self._bound: dict[int, tuple[float, float, int]] = {}
        """Draws of the first contacts created but not yet routed (an outage may delay them), by contact id."""
        self._requeue: dict[StageContact, None] = {}
        """Callback requests between an unanswered call and their return to the queue."""
        self._streams = None

    def install(self, streams) -> None:
        """Take over the center's hooks (called once at set-up, only when :attr:`active`)."""
        c = self.c
        self._streams = streams
        c._extras = True  # every contact carries stage draws (a StageContact)
        self._route_new, c.route_new = c.route_new, self.route_new  # type: ignore[method-assign]
        self._enqueue, c.enqueue = c.enqueue, self.enqueue  # type: ignore[method-assign]
        self._finish, c.finish = c.finish, self.finish  # type: ignore[assignment]
        self._unserved, c.unserved = c.unserved, self.unserved  # type: ignore[method-assign]
        self._stages = c._service_stages
        c._service_stages = self  # type: ignore[assignment]

    # ------------------------------------------------------------------------------------------- arrivals

    def register(self, batch: ArrivalBatch, rows: list[tuple]) -> None:
        """Draw the mechanics draws of a batch's rows (``rows`` is ``batch`` as the center's rows, same order)."""
        n = len(batch)
        assert self._streams is not None
        get = self._streams.get
        draws = zip(
            get("mechanics/balk").random(n).tolist(),
            get("mechanics/callback").random(n).tolist(),
            get("mechanics/seed").integers(0, 1 << 62, n).tolist(),
            strict=True,
        )
        self._pending.update(zip(map(id, rows), draws, strict=True))

    def bind(self, row: tuple, contact_id: int) -> None:
        """The contact ``contact_id`` is being created from ``row``: it takes the row's draws."""
        self._bound[contact_id] = self._pending.pop(id(row))

    def route_new(self, contact: StageContact) -> None:
        """A new contact (first, repeat or retrial): blocked if every line is held, else it takes one."""
        if contact.mu is None:
            if contact.repeat or contact.retrial:
                contact.mu = _derived_draws(contact)
            else:
                contact.mu = self._bound.pop(contact.id)
        ch = contact.channel
        lines = self.lines[ch]
        if lines is not None:
            if self.used[ch] >= lines:
                self._leave(contact, _BLOCKED)
                return
            self.used[ch] += 1
            contact.line = True
        self._route_new(contact)

    def _leave(self, contact: StageContact, outcome: int) -> None:
        """Record a contact that leaves at once (blocked or balked), with wait 0."""
        contact.state = DONE
        contact.outcome = outcome
        contact.start_s = contact.handle_s = math.nan
        contact.end_s = self.c.now
        self.finish(contact)

    # ------------------------------------------------------------------------------------------- queue

    def enqueue(self, contact: Contact) -> None:
        """The center's enqueue; then, for a contact that has to wait: balking, callback offer, time limits."""
        self._enqueue(contact)
        if contact.state != WAITING:  # an agent took it
            return
        c = self.c
        contact = cast(StageContact, contact)
        ch = contact.channel
        if contact.parent is None and not contact.cb:
            if not contact.bot:  # the caller's own first join: may balk or ask for a call back
                assert contact.mu is not None
                balk = self.balk[ch]
                if balk is not None:
                    p = balk.share
                    if balk.per_waiting:
                        p += balk.per_waiting * self._ahead(contact)
                    if contact.mu[0] < p:
                        self._leave(contact, _BALKED)  # its queue entry is now stale, dropped lazily
                        return
                cb = self.callback[ch]
                if cb is not None and contact.mu[1] < cb.share and self.predicted_wait_s(contact) > cb.threshold:
                    contact.cb = CB_WAITING
                    contact.deadline_s = math.inf  # keeps its place; no longer abandons or times out
                    if contact.line:  # the caller hangs up: the line is free (the call back is outbound)
                        contact.line = False
                        self.used[ch] -= 1
                    return
            limit = self.max_wait[ch][contact.intent]
            if limit is not None and contact.queued_s + limit < contact.deadline_s:
                contact.deadline_s = contact.queued_s + limit
                contact.timeout = True
        if contact.deadline_s < math.inf:
            c.at_heap(contact.deadline_s, self._expire, contact)

    def _ahead(self, contact: Contact) -> int:
        """Contacts waiting in ``contact``'s queue before it (it has just joined at the back)."""
        now = self.c.now
        n = sum(1 for x in self.c.waiting[contact.queue] if x.state == WAITING and x.deadline_s > now)
        return n - 1

    def predicted_wait_s(self, contact: Contact) -> float:
        """(Contacts ahead + 1) x mean handle of the (channel, intent) / max(1, slots of logged-in agents), s."""
        c = self.c
        ch = contact.channel
        slots = sum(c.g_logged[g] * c._cap[g][ch] for g in c.queues[contact.queue].groups)
        return (self._ahead(contact) + 1) * self.mean_handle[ch][contact.intent] / max(1, slots)

    def _expire(self, contact: Contact) -> None:
        """At a waiting contact's deadline: it abandons (or times out) now."""
        if contact.state == WAITING and contact.deadline_s <= self.c.now:
            self.c.abandon(contact)

    def unserved(self, contact: Contact, outcome: int) -> None:
        """The center's ``unserved``, with a time-out and a pending callback request told apart."""
        if outcome == _ABANDONED and cast(StageContact, contact).timeout:  # every contact is one here
            contact.state = DONE
            contact.outcome = _TIMED_OUT
            contact.start_s = contact.handle_s = math.nan
            contact.end_s = contact.deadline_s
            self.finish(contact)
            return
        if outcome == _CENSORED and contact.cb:
            outcome = _CB_CENSORED
        self._unserved(contact, outcome)

    # ------------------------------------------------------------------------------------------- service

    def start(self, agent: Agent, contact: Contact, handle: float) -> float:
        """Service start: a callback request becomes the agent's outbound call (answered or not)."""
        if contact.cb:
            contact = cast(StageContact, contact)
            cb = self.callback[contact.channel]
            assert cb is not None
            assert contact.mu is not None
            rng = np.random.default_rng((contact.mu[2], 1))
            answers = rng.random(contact.cb_tries + 1)
            if answers[contact.cb_tries] < cb.answer:
                contact.cb = CB_ANSWERED
            else:
                contact.cb = CB_UNANSWERED
                return cb.no_answer
        return self._stages.start(agent, contact, handle)

    def end(self, contact: Contact, agent: Agent) -> int:
        """Service end (see :meth:`sim.engine.stages.ServiceStages.end`); an unanswered call back is retried."""
        if contact.cb == CB_UNANSWERED:
            contact = cast(StageContact, contact)
            c = self.c
            cb = self.callback[contact.channel]
            assert cb is not None
            contact.cb_tries += 1
            if contact.cb_tries < cb.attempts:
                # Only the queue and the agent's time of this attempt count (levels); the contact goes on.
                c.recorder.add_leg(contact.seg, agent.group, contact.queued_s, contact.start_s, c.now, True)
                contact.state = DONE  # neither waiting nor in service until it rejoins the queue
                self._requeue[contact] = None
                c.at(c.now + cb.retry_delay, self._rejoin, contact)
                return -2
            contact.outcome = _CB_UNANSWERED
            self.finish(contact)
            return -2
        if contact.cb == CB_ANSWERED:
            contact.outcome = _CB_ANSWERED
        return self._stages.end(contact, agent)

    def _rejoin(self, contact: StageContact) -> None:
        del self._requeue[contact]
        contact.state = WAITING
        contact.cb = CB_WAITING
        contact.agent = NO_AGENT
        contact.queued_s = self.c.now
        self._enqueue(contact)

    # ------------------------------------------------------------------------------------------- ending

    def finish(self, contact: Contact) -> None:
        """Record a finished contact, release its line, and maybe schedule its customer's retrial."""
        if contact.cb and contact.outcome == _SERVED:  # in service at the horizon
            contact.outcome = _CB_ANSWERED if contact.cb == CB_ANSWERED else _CB_CENSORED
        self._finish(contact)
        if contact.parent is not None:  # a transfer's second service: the contact it continues holds the line
            return
        contact = cast(StageContact, contact)
        ch = contact.channel
        if contact.line:
            contact.line = False
            self.used[ch] -= 1
        if contact.mu is None:  # never routed (an outage or a plan lost it): its draws go unused
            self._bound.pop(contact.id, None)
            return
        rule = self.retrial[ch]
        out = contact.outcome
        if rule is None or out not in self.retry_after[ch]:
            return
        if rule.max_retrials is not None and contact.retrial >= rule.max_retrials:
            return
        assert contact.mu is not None
        rng = np.random.default_rng((contact.mu[2], 0))
        if rng.random() >= rule.probability:
            return
        delay = float(rule.delay.sample(rng, 1)[0])
        # Blocked or balked: at arrival; abandoned or timed out: at the end of the wait (its deadline).
        ended_s = contact.arrival_s if out in (_BLOCKED, _BALKED) else contact.deadline_s
        at_s = ended_s + delay
        c = self.c
        if at_s < c.horizon_s and c.now < c.horizon_s:  # nothing is scheduled once the run has ended
            c.at(max(at_s, c.now), self._retry, contact)

    def _retry(self, orig: StageContact) -> None:
        """The customer of ``orig`` tries again: a new contact, marked as a retrial."""
        c = self.c
        assert orig.x is not None
        ch, intent = orig.channel, orig.intent
        handle, patience, x = c.draws.repeat(ch, intent, orig.amount, orig.x.repeat_seed)
        lang, prio, tier = orig.language, orig.priority, orig.tier
        qi = c.layout.key(ch, intent, lang, prio, tier)
        contact = StageContact(
            orig.id + REPEAT_ID_STEP, c.now, ch, intent, prio, tier, lang, orig.customer_id, handle, patience, qi,
            x=x, amount=orig.amount,
        )  # fmt: skip
        contact.retrial = orig.retrial + 1
        contact.repeat = orig.repeat
        c.n_arrivals += 1
        self.n_retrials += 1
        c.route_new(contact)

    def close(self, horizon_s: float) -> None:
        """Callback requests waiting to rejoin the queue at the horizon: ``callback_censored``."""
        if not self.active:
            return
        for contact in self._requeue:
            contact.queued_s = horizon_s
            self._unserved(contact, _CB_CENSORED)
        self._requeue.clear()


def _derived_draws(contact: StageContact) -> tuple[float, float, int]:
    """Mechanics draws of a repeat or retrial: from a generator seeded by its own ``repeat_seed``."""
    assert contact.x is not None
    rng = np.random.default_rng((contact.x.repeat_seed, 2))
    return float(rng.random()), float(rng.random()), int(rng.integers(0, 1 << 62))
