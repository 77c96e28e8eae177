"""Outages as they happen: what a contact arriving on a failed channel does.

A channel outage (``scenario.arrivals.outages``) is applied by the engine at the moment a contact arrives, so the
same rule covers every way a customer reaches the channel: a generated or replayed arrival, a repeat after a
silent bot failure, a chaser of an async escalation, and a retry of an earlier outage victim. While channel ``c``
is down (``start <= now < end``; where outages of a channel overlap, the first listed applies), an arriving
contact, with one uniform draw from the stream ``outage/<c>``:

* moves to ``moved_to`` with probability ``moved_share``: it arrives there at once with a handle time and
  patience of the destination channel (streams ``handle/<dest>/<i>/moved`` and ``patience/<dest>/<i>/moved``);
  if the destination is down too, the contact is lost;
* retries channel ``c`` after a ``retry_after`` delay with probability ``retry_share`` (stream
  ``outage/<c>/retry``): the same contact (same id, same handle time and patience) arrives again then, with its
  arrival time reset, and meets the same rule if the channel is still down; a retry due at or after the horizon
  is recorded as lost (the customer is not back within the run);
* is lost otherwise: recorded at once with outcome ``lost`` (:data:`sim.schema.OUTCOMES`), never offered to a
  human queue, counted in the ``lost`` column of the ``intervals`` frame.

From an outage notice's ``at`` time to the end of the outage, the notice's shares apply instead. Each contact is
recorded once, whatever its detours, so conservation holds: arrivals = served + abandoned + censored + bot
endings + lost.

Per-arrival draws made when a batch is read (wrap-up, mechanics draws, a replayed row's log row) are bound to
the contact before this hook runs, whichever way the contact then goes (see the arrival hooks in
:mod:`sim.engine.center`): a lost or retried contact keeps its own and takes no other contact's. A moved contact
keeps its mechanics draws and its log row; its wrap-up is the destination channel's (:meth:`WrapUp.moved
<sim.engine.wrapup.WrapUp.moved>`), like its handle time and patience.

Cost when no outage is configured: nothing (the center installs this only for a scenario with outages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.arrivals.batch import Draws, sim_seconds
from sim.config import GeneratedArrivals, OutageShares
from sim.distributions import Distribution
from sim.entities import WAITING, Contact, StageContact
from sim.schema import OUTCOMES
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["LOST", "Outages", "has_outages"]

LOST = OUTCOMES.index("lost")


class _Phase(NamedTuple):
    """The shares in force over ``[start_s, end_s)`` of one outage (its own, or its notice's)."""

    start_s: float
    end_s: float
    moved_to: int  # channel code, -1 if none
    moved_share: float
    retry_share: float
    retry_after: Distribution | None


def _phase(start_s: float, end_s: float, moved_to: int, shares: OutageShares) -> _Phase:
    return _Phase(start_s, end_s, moved_to, shares.moved_share, shares.retry_share, shares.retry_after)


class Outages:
    """The outages of a scenario, applied to each contact arriving on a failed channel.

    Args:
        center: The contact center (its scenario has at least one outage).
        streams: The replication's named streams.

    Attributes:
        n_lost: Contacts lost (recorded with outcome ``lost``).
        n_moved: Moves to another channel.
        n_retries: Retries scheduled (a contact may retry more than once).
    """

    def __init__(self, center: ContactCenter, streams: Streams) -> None:
        self.c = center
        sc = center.scenario
        arrivals = sc.arrivals
        assert isinstance(arrivals, GeneratedArrivals)
        codes = {name: k for k, name in enumerate(sc.channels)}
        self.phases: list[list[_Phase]] = [[] for _ in sc.channels]
        """Per channel code: the phases of its outages, first listed first (a notice's phase before its own)."""
        for o in arrivals.outages:
            start, end = sim_seconds(sc, o.start), sim_seconds(sc, o.end)
            dest = codes[o.moved_to] if o.moved_to is not None else -1
            phases = self.phases[codes[o.channel]]
            if o.notice is not None:
                at = sim_seconds(sc, o.notice.at)
                phases.append(_phase(at, end, dest, o.notice))
                phases.append(_phase(start, at, dest, o))
            else:
                phases.append(_phase(start, end, dest, o))
        self._u = [streams.get(f"outage/{name}") for name in sc.channels]
        self._delay = [streams.get(f"outage/{name}/retry") for name in sc.channels]
        self._draws = Draws(sc, streams)
        self.n_lost = 0
        self.n_moved = 0
        self.n_retries = 0
        self._arrive = center._arrive  # the plain arrival (the center's own; set by its arrival hooks)

    def down(self, channel: int, at_s: float) -> _Phase | None:
        """The outage phase in force on ``channel`` at ``at_s`` seconds, or ``None`` when the channel is up."""
        for p in self.phases[channel]:
            if p.start_s <= at_s < p.end_s:
                return p
        return None

    def is_down(self, channel: int, at_s: float) -> bool:
        """Whether ``channel`` is down at ``at_s`` seconds."""
        return self.down(channel, at_s) is not None

    # ------------------------------------------------------------------------------------------------ arrivals

    def arrive(self, row: tuple) -> None:
        """An arrival row (see ``ContactCenter._rows``): the plain path unless its channel is down now."""
        c = self.c
        ch = row[1]
        if not self.phases[ch] or self.down(ch, c.now) is None:
            self._arrive(row)
            return
        _, ch, intent, prio, tier, lang, cust, handle, patience, x, qi = row
        c.n_arrivals += 1
        args = (c._next_id, c.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
        contact = Contact(*args) if x is None else StageContact(*args, x=x, amount=x.amount)
        c._next_id += 1
        self.admit(contact)

    def intercept(self, contact: Contact) -> bool:
        """For a repeat or chaser about to be routed: ``True`` if an outage took it over (do not route it)."""
        if self.down(contact.channel, self.c.now) is None:
            return False
        self.admit(contact)
        return True

    def admit(self, contact: Contact) -> None:
        """Apply the outage rule to a contact arriving now (its channel may be up again: a retry)."""
        c = self.c
        now = c.now
        phase = self.down(contact.channel, now)
        if phase is None:
            self._route(contact)
            return
        u = float(self._u[contact.channel].random())
        if u < phase.moved_share:
            self.n_moved += 1
            dest = phase.moved_to
            if self.down(dest, now) is not None:
                self._lose(contact)
                return
            self._move(contact, dest)
            self._route(contact)
        elif u < phase.moved_share + phase.retry_share:
            assert phase.retry_after is not None
            delay = float(phase.retry_after.sample(self._delay[contact.channel], 1)[0])
            if now + delay >= c.horizon_s:
                self._lose(contact)
                return
            self.n_retries += 1
            c.at(now + delay, self._retry, contact)
        else:
            self._lose(contact)

    def _retry(self, contact: Contact) -> None:
        now = self.c.now
        contact.arrival_s = contact.queued_s = now
        contact.deadline_s = now + contact.patience_s
        self.admit(contact)

    def _move(self, contact: Contact, dest: int) -> None:
        c = self.c
        names, intents = c.channels, c.intents
        d, i = names[dest], intents[contact.intent]
        contact.channel = dest
        contact.seg = (dest * 2 + contact.priority) * 2 + contact.tier
        contact.handle_base_s = float(self._draws.handle(d, i, 1, moved=True)[0])
        contact.patience_s = float(
            self._draws.patience_at(
                d, i, np.array([contact.arrival_s]), np.array([contact.priority]), moved=True
            )[0]
        )
        contact.deadline_s = contact.arrival_s + contact.patience_s
        if c.wrap_up is not None:
            c.wrap_up.moved(contact)
        qi = c.layout.key(dest, contact.intent, contact.language, contact.priority, contact.tier)
        if qi < 0:
            c._no_queue(dest, contact.intent, contact.priority, contact.tier)
        contact.queue = qi

    def _route(self, contact: Contact) -> None:
        c = self.c
        contact.state = WAITING
        if isinstance(contact, StageContact):
            c.route_new(contact)
        else:
            c.enqueue(contact)

    def _lose(self, contact: Contact) -> None:
        self.n_lost += 1
        self.c.unserved(contact, LOST)


def has_outages(center: ContactCenter) -> bool:
    """Whether the center's scenario has outages (generated arrivals only)."""
    arrivals = center.scenario.arrivals
    return isinstance(arrivals, GeneratedArrivals) and bool(arrivals.outages)

