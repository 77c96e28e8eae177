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
