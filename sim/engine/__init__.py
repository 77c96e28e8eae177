"""The engine: one replication of a scenario on SimPy, with the policies it is given.

Where each concept lives:

* :mod:`~sim.engine.dispatch`: the clock, the one place that runs event handlers, eager arrivals, service ends on
  an own heap next to SimPy's (invariants, and the order at equal times).
* :mod:`~sim.engine.center`: arrivals, queues, routing decisions, service (:class:`ContactCenter`).
* :mod:`~sim.engine.queues`: which queues exist and the one function that computes a queue key.
* :mod:`~sim.engine.draws`: per-contact draws for the stages (a named record, :class:`~sim.entities.ContactDraws`).
* :mod:`~sim.engine.shifts`: agents, their shifts and breaks, reserve call-ins.
* :mod:`~sim.engine.stages`: the bot, team-lead approvals, transfers, repeat contacts.
* :mod:`~sim.engine.view`: the read-only view policies see.
* :mod:`~sim.engine.outages`: what a contact arriving on a failed channel does (lost, moved, retried).
* :mod:`~sim.engine.plans`: contingency plans (windows, triggers, and their actions).
* :mod:`~sim.engine.resolution`, :mod:`~sim.engine.output`: counters, output frames and costs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from sim.arrivals import ReplayLog, iter_arrivals
from sim.config import Scenario
from sim.engine.arrival_tags import attach_passthrough
from sim.engine.center import ContactCenter
from sim.engine.guards import RoutingError
from sim.engine.output import result
from sim.engine.resolution import RESOLUTION_FIELDS
from sim.interfaces import DeflectionPolicy, EmpowermentPolicy, RoutingPolicy, StaffingPolicy
from sim.result import RunResult
from sim.streams import Streams

__all__ = ["RESOLUTION_FIELDS", "ContactCenter", "RoutingError", "run"]


def run(
    scenario: Scenario,
    *,
    seed: int,
    replication: int = 0,
    log: bool = False,
    replay: ReplayLog | None = None,
    routing: RoutingPolicy | None = None,
    deflection: DeflectionPolicy | None = None,
    staffing: StaffingPolicy | None = None,
    empowerment: EmpowermentPolicy | None = None,
    plan_policies: Mapping[str, Mapping[str, object]] | None = None,
) -> RunResult:
    """Simulate one replication of ``scenario`` with the given policy objects.

    The scenario's ``policies`` section is not read here (``sim`` does not import ``policies``): pass the
    objects, or use ``experiments.simulate_scenario``, which builds the ones the scenario names.

    Args:
        scenario: A validated scenario.
        seed: Base seed; with ``replication`` it determines every random number.
        replication: Replication index.
        log: Keep the per-contact log (``contacts`` frame).
        replay: The checked log of a replayed scenario (``experiments.replay.load_replay_log``).
        routing: Routing policy; default longest-idle FIFO.
        deflection: Deflection policy; default no bot.
        staffing: Staffing policy; default the scenario's rosters.
        empowerment: Empowerment policy; default approvals never escalated.
        plan_policies: Per contingency plan, per slot, the policy object it switches to (see
            :mod:`sim.engine.plans`).

    Returns:
        The replication's frames.

    Example:
        >>> from experiments import load_scenario  # doctest: +SKIP
        >>> result = run(load_scenario("erlang_c_textbook")[0], seed=1)  # doctest: +SKIP
    """
    wall = time.perf_counter()
    streams = Streams(seed, replication)
    center = ContactCenter(
        scenario,
        streams,
        iter_arrivals(scenario, streams, replay=replay),
        routing=routing,
        log=log,
        deflection=deflection,
        staffing=staffing,
        empowerment=empowerment,
        plan_policies=plan_policies,
    )
    center.run()
    out = result(center, replication, seed, time.perf_counter() - wall)
    attach_passthrough(out.contacts, replay)
    return out
