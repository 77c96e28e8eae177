"""The dispatcher: the one place that runs event handlers, and arrivals without events of their own.

Two kinds of scheduled events, one order:

* **SimPy events.** :meth:`Dispatcher.at` and :meth:`Dispatcher.after` schedule a :class:`Wakeup` (a
  ``simpy.Timeout`` built with SimPy's public constructor, carrying its handler) whose only callback is
  :meth:`Dispatcher._dispatch`. Shift plans, breaks, bot sessions, hand-offs, team-lead approvals, repeat contacts,
  staffing and routing reviews, and the horizon (``env.run(until=...)``) are SimPy events.
* **Own-heap events.** :meth:`Dispatcher.at_heap` puts ``(time_s, seq, handler, arg)`` on the dispatcher's own
  ``heapq``: the end of a service, the one event nearly every contact has, costs a tuple and a heap push instead of
  a SimPy event (about 1 µs less per contact). The pump merges them with SimPy's next event (``env.peek()``).

Invariants (each held here, by structure, not by the handlers):

* **One entry point.** Every handler, of either kind, and every arrival run in this module only, which sets the
  logical clock :attr:`Dispatcher.now` first (and :attr:`Dispatcher.event_s` for events), and pumps after. A
  handler never sets the clock and never pumps.
* **One order, SimPy's.** Every event gets a sequence number from one counter when it is scheduled (SimPy's own
  event ids grow in the same order). Events run in ``(time, seq)`` order whatever their kind, which is exactly the
  order of SimPy's queue had every event been a SimPy event: at equal times, the one scheduled first runs first,
  whichever heap it is on. The pump runs own-heap events strictly before SimPy's next event time; one at the same
  time as a SimPy event is left to that event's dispatch, which runs the own-heap events of its time with a smaller
  ``seq`` before its handler. Nothing runs at or after the horizon (SimPy's ``until`` event comes first).
* **Arrivals in order, after events.** An arrival at time t is processed once every event before or at t has run
  and before any event after t: it cannot be affected by anything else, so it needs no event of its own ("eager"
  arrivals). At equal times events come first.
* **Times as SimPy computes them.** SimPy schedules at ``env.now + delay``. The engine asks for a time ``t``; the
  event lands at ``event_s + (t - event_s)`` in float64 arithmetic, where :attr:`Dispatcher.event_s` is the time
  of the event being handled, which is what ``env.now`` reads when every event is a SimPy event. Own-heap events
  store that time; SimPy events get a delay from the real ``env.now`` (earlier while own-heap events run) that
  lands on it exactly. So the results do not depend on which events are SimPy's (bit for bit).
* **Logical time never runs backwards.** ``env.now <= event_s <= now``; whatever a handler schedules lies at or
  after ``now``, so SimPy never gets a negative delay.

With ``eager=False`` every arrival and every service end is a SimPy event of its own (:meth:`at_heap` is
:meth:`at`): the textbook formulation, which gives the same results (tested for every policy).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from itertools import count
from typing import Any

import simpy

from sim.arrivals import ArrivalBatch

__all__ = ["GC_YOUNG_THRESHOLD", "Dispatcher", "Wakeup"]

GC_YOUNG_THRESHOLD = 100_000
"""Net allocations of container objects between two young-generation garbage collections during a run
(CPython's default: 700; see :meth:`Dispatcher.run_until`)."""

Handler = Callable[[Any], None]


class Wakeup(simpy.Timeout):
    """A ``simpy.Timeout`` (built with its public constructor) that carries the handler the dispatcher calls.

    ``handler(arg)`` is what :meth:`Dispatcher._dispatch`, its only callback, runs; ``seq`` is its place in the
    dispatcher's scheduling order.
    """

    handler: Handler
    arg: Any
    seq: int


class Dispatcher:
    """Clock, event scheduling and the arrival stream of one replication.

    Subclasses implement :meth:`_rows` (an arrival batch as rows) and :meth:`_arrive` (one row).

    Args:
        arrivals: Arrival batches in time order.
        eager: Process arrivals without events of their own and keep own-heap events off SimPy (see the module
            docstring); ``False`` makes every arrival and every event a SimPy event.
    """

    def __init__(self, arrivals: Iterator[ArrivalBatch], *, eager: bool = True) -> None:
        self.env = simpy.Environment()
        self.now = 0.0
        """Logical time in seconds: the time of the event being handled, or of the arrival being processed."""
        self.event_s = 0.0
        """Time of the event being handled (or last handled), seconds: ``env.now`` of the all-SimPy formulation."""
        self._arrivals = arrivals
        self._batch: list[tuple] = []
        self._bi = 0
        self._bn = 0
        self._eager = eager
        self._arrival_pending = False
        self._seq = count()
        """Scheduling order of every event, SimPy or own-heap (ties at equal times: smaller first)."""
        self._heap: list[tuple[float, int, Handler, Any]] = []
        """Own-heap events ``(time_s, seq, handler, arg)``."""
        self._limit = 0.0
        """Time of SimPy's next event while the pump runs (seconds): own-heap events and arrivals stop before it."""
        self._dispatch_ = self._dispatch  # bound once: every SimPy event's only callback
        if not eager:
            self.at_heap = self.at  # type: ignore[method-assign]

    # --------------------------------------------------------------------------------------------- scheduling

    def at(self, time_s: float, handler: Handler, arg: Any = None) -> None:
        """SimPy event: call ``handler(arg)`` at ``time_s`` (seconds; not before the logical now)."""
        base = self.event_s
        self._simpy_event(base + (time_s - base), handler, arg)

    def after(self, delay_s: float, handler: Handler, arg: Any = None) -> None:
        """SimPy event: call ``handler(arg)`` ``delay_s`` seconds after :attr:`event_s` (the event being handled)."""
        self._simpy_event(self.event_s + delay_s, handler, arg)

    def at_heap(self, time_s: float, handler: Handler, arg: Any = None) -> None:
        """Own-heap event: call ``handler(arg)`` at ``time_s`` (seconds; not before the logical now).

        Same order and times as :meth:`at`, cheaper; for frequent events that need nothing of SimPy.
        """
        base = self.event_s
        heappush(self._heap, (base + (time_s - base), next(self._seq), handler, arg))

    def _simpy_event(self, t: float, handler: Handler, arg: Any) -> None:
        """Schedule a :class:`Wakeup` at exactly ``t`` (seconds) from SimPy's real ``env.now``."""
        env = self.env
        env_now = env.now
        delay = t - env_now
        if env_now + delay != t:  # env.now is behind event_s (an own-heap event runs) and the sum rounds off
            delay = _exact_delay(env_now, t)
        event = Wakeup(env, delay)
        event.handler = handler
        event.arg = arg
        event.seq = next(self._seq)
        event.callbacks.append(self._dispatch_)
        if t < self._limit:
            self._limit = t

    def _dispatch(self, event: Wakeup) -> None:
        """The only SimPy callback: earlier own-heap events of its time, then its handler, then the pump."""
        t = self.env.now
        heap = self._heap
        if heap and heap[0][0] <= t:  # own-heap events at this very time, scheduled before this event
            seq = event.seq
            while heap and heap[0][0] <= t and heap[0][1] < seq:
                _, _, handler, arg = heappop(heap)
                self.now = self.event_s = t
                handler(arg)
        self.now = self.event_s = t
        event.handler(event.arg)
        # The pump is a no-op unless an own-heap event or an arrival (or a new batch) comes before the next
        # SimPy event: skip the call then (SimPy events are frequent when bots and shifts are modelled).
        limit = self.env.peek()
        bi = self._bi
        if (heap and heap[0][0] < limit) or bi >= self._bn or self._batch[bi][0] < limit or not self._eager:
            self._pump(limit)

    def run_until(self, horizon_s: float) -> None:
        """Process events and arrivals up to ``horizon_s``; then the logical clock reads ``horizon_s``.

        The cyclic garbage collector's first threshold is raised to :data:`GC_YOUNG_THRESHOLD` for the run (and
        restored after): a contact, its heap entry and its arrival row are freed by reference counting as soon
        as they are done, so with CPython's default of 700 most collections only walk the contacts still waiting
        (about 7% of a core M/M/c+M run's CPU time). Cyclic garbage, if a policy makes any, is still collected,
        every :data:`GC_YOUNG_THRESHOLD` net allocations.
        """
        self.at(0.0, _nothing)
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)
        try:
            self.env.run(until=horizon_s)
        finally:
            gc.set_threshold(young, *older)
        self.now = horizon_s

    # ----------------------------------------------------------------------------------------------- arrivals

    def _pump(self, limit: float) -> None:
        """Run the own-heap events and arrivals due before SimPy's next event, at ``limit`` (seconds).

        Not eager: schedule the next arrival's event instead.
        """
        if not self._eager:
            if not self._arrival_pending and (self._bi < self._bn or self._next_batch()):
                row = self._batch[self._bi]
                self._bi += 1
                self._arrival_pending = True
                self.at(row[0] if row[0] > self.event_s else self.event_s, self._on_arrival_event, row)
            return
        self._limit = limit
        heap = self._heap
        arrive = self._arrive
        batch, bi, bn = self._batch, self._bi, self._bn
        if bi >= bn and self._next_batch():
            batch, bi, bn = self._batch, 0, self._bn
        ta = batch[bi][0] if bi < bn else math.inf
        while True:
            if heap and heap[0][0] <= ta:  # at equal times the event first
                t = heap[0][0]
                if t >= self._limit:
                    break
                _, _, handler, arg = heappop(heap)
                self.now = self.event_s = t
                handler(arg)
            else:
                if ta >= self._limit:
                    break
                row = batch[bi]
                bi += 1
                self.now = ta
                arrive(row)
                if bi < bn:
                    ta = batch[bi][0]
                else:
                    self._bi = bi
                    if self._next_batch():
                        batch, bi, bn = self._batch, 0, self._bn
                        ta = batch[0][0]
                    else:
                        ta = math.inf
        self._bi = bi

    def _on_arrival_event(self, row: tuple) -> None:
        self._arrival_pending = False
        self._arrive(row)

    def _next_batch(self) -> bool:
        for batch in self._arrivals:
            if len(batch):
                self._batch = self._rows(batch)
                self._bi, self._bn = 0, len(batch)
                return True
        return False

    def _rows(self, batch: ArrivalBatch) -> list[tuple]:
        """The batch as rows whose first field is the arrival time (seconds)."""
        raise NotImplementedError

    def _arrive(self, row: tuple) -> None:
        """Process one arrival row at the logical time ``row[0]``."""
        raise NotImplementedError


def _exact_delay(env_now: float, t: float) -> float:
    """A delay (seconds) with ``env_now + delay == t`` in float64, so that SimPy schedules at exactly ``t``.

    Stepping the delay by one unit in the last place moves the rounded sum by at most one step of ``t``'s grid;
    a few steps from ``t - env_now`` find it (the nearest delay is kept if they do not: SimPy's own rounding).
    """
    delay = t - env_now
    for _ in range(8):
        s = env_now + delay
        if s == t:
            return delay
        delay = math.nextafter(delay, math.inf if s < t else -math.inf)
    return t - env_now


def _nothing(_arg: object) -> None:
    """The first event: only pumps the arrivals due before anything else."""
