"""After-contact work (wrap-up): the agent stays busy, unavailable, for a while after each service.

Semantics: at the end of the handle time the customer leaves (the contact is recorded then: its service end,
FRT and wait do not change); the agent's slot stays taken for the contact's wrap-up, drawn at arrival, and only
then is it freed (and the agent takes the next contact, a pending break or logs out). Occupancy counts the
wrap-up as busy time (``busy_s`` of the agents frame, ``busy`` of the staffing frame); ``busy_slots`` and
``in_service`` count contacts in service only. An agent still wrapping up at the horizon is busy until it.

Draws: the wrap-up of an arriving contact comes from the stream ``wrap/<channel>/<intent>``, in batch order
per (channel, intent), made when its arrival batch is read (:meth:`WrapUp.register`), so no other stream moves.
The draw belongs to the arrival row, not to a place in a queue: it is kept by the row's identity and bound to the
contact created from that row when it is created (:meth:`WrapUp.bind`, called by the center, see the arrival
hooks in :mod:`sim.engine.center`), so a row that a ``shift_demand`` plan re-schedules keeps its own draw, and an
outage that loses a contact takes no other contact's. A contact an outage moves to another channel gets that
channel's wrap-up instead (as it gets that channel's handle time and patience): drawn when it moves from the
stream ``wrap/<destination>/<intent>/moved`` (0 if the destination has none). Contacts that are not arrivals
(repeat contacts, the second service of a transfer) draw theirs at service end from
``wrap/<channel>/<intent>/later``. The distribution is the intent's ``wrap_up``, else the channel's.

:class:`WrapUp` is installed on the center at setup only when some channel or intent has a wrap-up; it then
replaces the center's service-end handler (``release``), so a scenario without wrap-up runs the engine's own
code, unchanged. Its agent part mirrors :meth:`sim.engine.center.ContactCenter.release`: keep them in step.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, cast

import numpy as np

from sim.arrivals import ArrivalBatch
from sim.entities import DONE, DRAINING, Agent, Contact, StageContact
from sim.log import BUSY, SERVED
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["WrapUp"]


class WrapUp:
    """Draws wrap-ups at arrival and keeps agents busy through them (installed on the center when configured).

    Args:
        center: The contact center (built, before it runs).
        streams: Named random streams of this replication.
    """

    def __init__(self, center: ContactCenter, streams: Streams) -> None:
        sc = center.scenario
        self.c = center
        self._streams = streams
        self._channels, self._intents = center.channels, center.intents
        self.dists = [[sc.wrap_up_for(ch, it) for it in self._intents] for ch in self._channels]
        self._wrap: dict[int, float] = {}
        """Wrap-up (seconds) of each arrived contact not yet served, by contact id."""
        self._pending: dict[int, float] = {}
        """Wrap-up (seconds) of each arrival row read but not yet arrived, by ``id(row)`` (a pending row is alive)."""
        self.done_ids = array("q")
        """Contact ids of the services followed by a wrap-up (> 0), in service-end order."""
        self.done_wrap = array("d")
        """Their wrap-ups (seconds)."""
        # Busy agents are no longer the contacts in service: every group records its busy periods.
        center.multi_slot = [True] * len(center.groups)
        center.recorder.single_slot_groups = []
        center.release = center._release = self.release  # type: ignore[method-assign]

    # ------------------------------------------------------------------------------------------------ draws

    def register(self, batch: ArrivalBatch, rows: list[tuple]) -> None:
        """Draw the wrap-ups of a batch's rows (``rows`` is ``batch`` as the center's rows, in the same order)."""
        wrap = np.zeros(len(batch))
        get = self._streams.get
        for ci, ch in enumerate(self._channels):
            in_channel = batch.channel == ci
            if not in_channel.any():
                continue
            for ii, it in enumerate(self._intents):
                dist = self.dists[ci][ii]
                if dist is None:
                    continue
                m = in_channel & (batch.intent == ii)
                k = int(m.sum())
                if k:
                    wrap[m] = dist.sample(get(f"wrap/{ch}/{it}"), k)
        self._pending.update(zip(map(id, rows), wrap.tolist(), strict=True))

    def bind(self, row: tuple, contact_id: int) -> None:
        """The contact ``contact_id`` is being created from ``row``: it takes the row's wrap-up."""
        self._wrap[contact_id] = self._pending.pop(id(row))

    def moved(self, contact: Contact) -> None:
        """An outage moved ``contact`` to another channel (already set): the wrap-up of that channel instead."""
        dist = self.dists[contact.channel][contact.intent]
        if dist is None:
            self._wrap[contact.id] = 0.0
            return
        rng = self._streams.get(f"wrap/{self._channels[contact.channel]}/{self._intents[contact.intent]}/moved")
        self._wrap[contact.id] = float(dist.sample(rng, 1)[0])

    def _later(self, contact: Contact) -> float:
        dist = self.dists[contact.channel][contact.intent]
        if dist is None:
            return 0.0
        rng = self._streams.get(f"wrap/{self._channels[contact.channel]}/{self._intents[contact.intent]}/later")
        return float(dist.sample(rng, 1)[0])

    # ---------------------------------------------------------------------------------------------- service

    def release(self, contact: Contact) -> None:
        """End a service: the customer leaves now (recorded); the agent's slot frees after the wrap-up."""
        c = self.c
        now = c.now
        agent = contact.agent
        contact.end_s = now
        contact.state = DONE
        contact.outcome = SERVED
        to = -1
        if contact.x is not None or c._track_last:
            to = c.service_stages.end(contact, agent)
            if to == -1:
                c.finish(contact)
        else:
            c.finish(contact)
        agent.handled += 1
        agent.hand.remove(contact)  # the slot stays taken (n_active) until the wrap-up ends
        wrap = self._wrap.pop(contact.id, None)
        if wrap is None:
            wrap = self._later(contact)
        if wrap > 0.0:
            self.done_ids.append(contact.id)
            self.done_wrap.append(wrap)
            if c._eager:
                c.at_heap(now + wrap, self.free, agent)
            else:
                c.at(now + wrap, self.free, agent)
        else:
            self.free(agent)
        if to >= 0:  # the customer now holds for the other skill
            c.transfers.start(cast(StageContact, contact), to)

    def free(self, agent: Agent) -> None:
        """A wrap-up ended: free the slot, close the busy period, and give the agent more work (or let it go)."""
        c = self.c
        now = c.now
        n = agent.n_active = agent.n_active - 1
        if n == 0:
            agent.active_channel = -1
            g = agent.group
            agent.busy_s += now - agent.busy_since_s
            c.g_busy[g] -= 1
            c.recorder.add_period(BUSY, g, agent.busy_since_s, now)
            if agent.state == DRAINING:
                c.shifts.drained(agent)
            else:
                c.pull(agent)
        elif agent.state != DRAINING:
            c.pull(agent)
