"""The dispatcher: the one place that runs event handlers, and arrivals without events of their own.

Invariants (each held here, by structure, not by the handlers):

* **One entry point.** Every scheduled event is a :class:`Wakeup` (a ``simpy.Timeout`` built with SimPy's public
  constructor, carrying its handler) whose only callback is :meth:`Dispatcher._dispatch`. It sets the logical
  clock to the event's time, calls the handler with its argument, then pumps the arrivals. A handler never sets
  the clock and never pumps.
* **Arrivals in order.** When an event at time T fires, every arrival before T has been processed. An arrival
  at time t < T (the next scheduled event) cannot be affected by anything else, so it is processed at once with
  the logical clock :attr:`Dispatcher.now` set to t (``env.now`` may still be earlier): an arrival costs no SimPy
  event ("eager" arrivals). With ``eager=False`` every arrival gets its own event instead, which gives the same
  results (a test checks it) and is the textbook formulation.
* **Logical time never runs backwards.** ``env.now <= now``; whatever a handler schedules lies at or after
  ``now``, so :meth:`Dispatcher.at` never asks SimPy for a negative delay.

A contact therefore costs one SimPy event (its service end); agents' shift plans, bot sessions, hand-offs,
team-lead approvals, repeat contacts, staffing reviews and routing reviews are events too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import simpy

from sim.arrivals import ArrivalBatch

__all__ = ["Dispatcher", "Wakeup"]

Handler = Callable[[Any], None]


class Wakeup(simpy.Timeout):
    """A ``simpy.Timeout`` (built with its public constructor) that carries the handler the dispatcher calls.

    ``handler(arg)`` is what :meth:`Dispatcher._dispatch`, its only callback, runs.
    """

    handler: Handler
    arg: Any


class Dispatcher:
    """Clock, event scheduling and the arrival stream of one replication.

    Subclasses implement :meth:`_rows` (an arrival batch as rows) and :meth:`_arrive` (one row).

    Args:
        arrivals: Arrival batches in time order.
        eager: Process arrivals without events of their own (see the module docstring).
    """

    def __init__(self, arrivals: Iterator[ArrivalBatch], *, eager: bool = True) -> None:
        self.env = simpy.Environment()
        self.now = 0.0
        """Logical time in seconds: ``env.now``, or the arrival time while an arrival is being processed."""
        self._arrivals = arrivals
        self._batch: list[tuple] = []
        self._bi = 0
        self._bn = 0
        self._eager = eager
        self._arrival_pending = False
        self._dispatch_ = self._dispatch  # bound once: every event's only callback

    # --------------------------------------------------------------------------------------------- scheduling

    def at(self, time_s: float, handler: Handler, arg: Any = None) -> None:
        """Call ``handler(arg)`` at ``time_s`` (seconds; not before the logical now)."""
        env = self.env
        event = Wakeup(env, time_s - env.now)
        event.handler = handler
        event.arg = arg
        event.callbacks.append(self._dispatch_)

    def after(self, delay_s: float, handler: Handler, arg: Any = None) -> None:
        """Call ``handler(arg)`` ``delay_s`` seconds after ``env.now`` (the time of the event being handled)."""
        event = Wakeup(self.env, delay_s)
        event.handler = handler
        event.arg = arg
        event.callbacks.append(self._dispatch_)

    def _dispatch(self, event: Wakeup) -> None:
        """The only SimPy callback: set the clock, run the handler, pump the arrivals that are due."""
        env = self.env
        self.now = env.now
        event.handler(event.arg)
        bi = self._bi
        # The pump is a no-op unless an arrival (or a new batch) comes before the next event: skip the call.
        if not self._eager or bi >= self._bn or self._batch[bi][0] < env.peek():
            self._pump()

    def run_until(self, horizon_s: float) -> None:
        """Process events and arrivals up to ``horizon_s``; then the logical clock reads ``horizon_s``."""
        self.at(0.0, _nothing)
        self.env.run(until=horizon_s)
        self.now = horizon_s

    # ----------------------------------------------------------------------------------------------- arrivals

    def _pump(self) -> None:
        """Process every arrival that no scheduled event precedes (eager), or schedule the next one's event."""
        env = self.env
        if not self._eager:
            if not self._arrival_pending and (self._bi < self._bn or self._next_batch()):
                row = self._batch[self._bi]
                self._bi += 1
                self._arrival_pending = True
                self.at(row[0] if row[0] > env.now else env.now, self._on_arrival_event, row)
            return
        peek = env.peek
        arrive = self._arrive
        batch, bi, bn = self._batch, self._bi, self._bn
        while True:
            if bi >= bn:
                self._bi = bi
                if not self._next_batch():
                    return
                batch, bi, bn = self._batch, 0, self._bn
            row = batch[bi]
            t = row[0]
            if t >= peek():
                self._bi = bi
                return
            bi += 1
            self._bi = bi
            self.now = t
            arrive(row)

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


def _nothing(_arg: object) -> None:
    """The first event: only pumps the arrivals due before anything else."""
