"""The dispatcher on its own: one entry point sets the clock and pumps; arrivals are processed in time order."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.arrivals import ArrivalBatch
from sim.engine.dispatch import Dispatcher, Wakeup


def batch(times):
    n = len(times)
    z = np.zeros(n, dtype=np.int16)
    return ArrivalBatch(
        time_s=np.asarray(times, dtype=float), channel=z, intent=z, priority=z.astype(np.int8),
        tier=z.astype(np.int8), language=z, customer_id=np.arange(n), handle_s=np.ones(n), patience_s=np.ones(n),
    )  # fmt: skip


class Trace(Dispatcher):
    """Each arrival schedules a 'done' event 2.5 s later; events and arrivals are logged with the clock."""

    def __init__(self, times, eager):
        super().__init__(iter([batch(times)]), eager=eager)
        self.log = []

    def _rows(self, batch):
        return [(t, i) for i, t in enumerate(batch.time_s.tolist())]

    def _arrive(self, row):
        self.log.append(("arrive", row[1], self.now))
        self.at(self.now + 2.5, self._done, row[1])

    def _done(self, i):
        self.log.append(("done", i, self.now))


@pytest.mark.parametrize("eager", [True, False])
def test_handlers_run_at_their_time_and_arrivals_in_order(eager):
    d = Trace([0.0, 1.0, 2.0, 6.0], eager)
    d.run_until(10.0)
    assert d.log == [
        ("arrive", 0, 0.0), ("arrive", 1, 1.0), ("arrive", 2, 2.0), ("done", 0, 2.5), ("done", 1, 3.5),
        ("done", 2, 4.5), ("arrive", 3, 6.0), ("done", 3, 8.5),
    ]  # fmt: skip
    assert d.now == 10.0


def test_eager_arrivals_cost_no_simpy_event():
    eager, plain = Trace([0.0, 1.0, 2.0, 6.0], True), Trace([0.0, 1.0, 2.0, 6.0], False)
    steps = {}
    for name, d in (("eager", eager), ("plain", plain)):
        count = [0]
        step = d.env.step

        def counted(step=step, count=count):
            count[0] += 1
            step()

        d.env.step = counted
        d.run_until(10.0)
        steps[name] = count[0]
    assert eager.log == plain.log
    assert steps["plain"] == steps["eager"] + 4  # one event per arrival more


def test_a_wakeup_is_a_public_timeout_that_carries_its_handler():
    d = Trace([], True)
    wakeup = Wakeup(d.env, 3.0)
    assert isinstance(wakeup, simpy.Timeout)
    d.at(4.0, d._done, 8)
    assert d.env.peek() == 3.0
    d.run_until(5.0)
    assert d.log == [("done", 8, 4.0)]  # the bare Timeout has no callback: only the dispatcher's event ran


class Ties(Dispatcher):
    """Each arrival schedules own-heap and SimPy events that tie with each other at equal times.

    Arrival times never equal an event time: there the two formulations differ by design (an eager arrival comes
    after the events of its time; an arrival event is ordered by when it was scheduled).
    """

    def __init__(self, times, eager):
        super().__init__(iter([batch(times)]), eager=eager)
        self.log = []

    def _rows(self, batch):
        return [(t, i) for i, t in enumerate(batch.time_s.tolist())]

    def _arrive(self, row):
        i = row[1]
        self.log.append(("arrive", i, self.now))
        # Alternate the kinds, so that equal times mix own-heap and SimPy events in both scheduling orders.
        first, second = (self.at_heap, self.at) if i % 2 else (self.at, self.at_heap)
        first(self.now + 2.0, self._done, (i, "a"))
        second(self.now + 2.0, self._done, (i, "b"))
        self.at_heap(self.now + 1.0, self._chain, i)

    def _chain(self, i):
        self.log.append(("chain", i, self.now))
        self.at(self.now + 1.0, self._done, (i, "c"))  # lands on the ends "a" and "b" of the same arrival
        self.at_heap(self.now, self._done, (i, "zero delay"))

    def _done(self, arg):
        self.log.append(("done", arg, self.now))


def test_own_heap_and_simpy_events_run_in_scheduling_order_at_equal_times():
    times = [0.0, 0.5, 1.25, 3.0, 3.0, 4.5]
    eager, plain = Ties(times, True), Ties(times, False)
    eager.run_until(6.5)
    plain.run_until(6.5)
    assert eager.log == plain.log  # every event a SimPy event: SimPy's own order
    assert eager.log[:10] == [
        ("arrive", 0, 0.0), ("arrive", 1, 0.5), ("chain", 0, 1.0), ("done", (0, "zero delay"), 1.0),
        ("arrive", 2, 1.25), ("chain", 1, 1.5), ("done", (1, "zero delay"), 1.5),
        ("done", (0, "a"), 2.0), ("done", (0, "b"), 2.0), ("done", (0, "c"), 2.0),
    ]  # fmt: skip
    assert eager.log[10:13] == [("chain", 2, 2.25), ("done", (2, "zero delay"), 2.25), ("done", (1, "a"), 2.5)]
    assert ("done", (4, "a"), 5.0) in eager.log
    assert all(t < 6.5 for *_, t in eager.log)  # nothing runs at the horizon


def test_own_heap_events_cost_no_simpy_event():
    d = Trace([], True)
    for t in (1.0, 2.0, 3.0):
        d.at_heap(t, d._done, int(t))
    d.at(2.0, d._done, 20)
    count = [0]
    step = d.env.step

    def counted():
        count[0] += 1
        step()

    d.env.step = counted
    d.run_until(10.0)
    assert d.log == [("done", 1, 1.0), ("done", 2, 2.0), ("done", 20, 2.0), ("done", 3, 3.0)]
    assert count[0] == 3  # the first event, the one SimPy event and the horizon


def test_a_simpy_event_scheduled_by_an_own_heap_event_lands_exactly():
    d = Trace([], True)
    times = []

    def schedule(_arg):
        d.at(d.now + 1e-3, lambda _a: times.append(d.now))  # env.now is 0.0 here: the delay is exact anyway

    t0 = 0.1 + 0.2  # an awkward float
    d.at_heap(t0, schedule)
    d.run_until(10.0)
    assert times == [t0 + 1e-3]


class _Failing(Trace):
    def _arrive(self, row):
        raise RuntimeError("a handler failed")


def test_the_young_gc_threshold_is_raised_during_the_run_and_restored_after():
    import gc

    from sim.engine.dispatch import GC_YOUNG_THRESHOLD

    before = gc.get_threshold()
    seen = []
    d = Trace([0.0, 1.0], True)
    d._done = lambda i: seen.append(gc.get_threshold())  # type: ignore[method-assign]
    d.run_until(10.0)
    assert seen == [(max(before[0], GC_YOUNG_THRESHOLD), *before[1:])] * 2
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="a handler failed"):
        _Failing([0.0], True).run_until(10.0)
    assert gc.get_threshold() == before  # restored when the run fails too
