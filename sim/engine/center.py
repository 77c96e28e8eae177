"""The contact center: arrivals, queues, routing decisions and service, on the :class:`Dispatcher`.

Semantics (DESIGN §3):

* Queues: one per channel x intent x language x priority x tier that can occur (:mod:`sim.engine.queues`), in
  queue-join order; routing decides across queues.
* Abandonment needs no timer: a contact's patience is drawn at arrival, so it abandons at ``deadline_s =
  arrival_s + patience_s`` unless an agent takes it first. A waiting contact whose deadline has passed is never
  offered to an agent, and is recorded as abandoned (at its deadline) when it reaches the front of its queue or at
  the horizon. This is exactly the reneging of a timer-based model with fewer events (the oracle test compares
  it with a process-per-customer SimPy model, contact by contact).
* Agents: individuals of a group; available for a channel when logged in, not on break or draining, and either
  idle or holding fewer than the channel's concurrency of contacts of that same channel. Per group and channel,
  the available agents are kept in order of availability (a dict used as an ordered set).
* Handle time = base draw x group proficiency for the intent x (1 + inflation x other contacts in hand).
* Deferrable work is taken only by idle agents while the group's busy share stays within its occupancy cap.
* Routing guard: every agent or contact a policy other than the default returns is checked (eligibility,
  availability, occupancy cap; :mod:`sim.engine.guards`); a violation raises ``RoutingError``.
* Fast paths: with the default routing, where its choice is trivial (one group for a queue, one queue for a
  group), the engine takes it itself; ``fast_paths=False`` always asks the policy (same results, tested).

* Arrival hooks (wrap-up draws, log rows, mechanics draws, demand-shifting plans, outages) are installed once at
  set-up by :func:`sim.engine.hooks.install_arrival_hooks`, none when unused; its docstring holds the invariant.

Lines, a maximum queue time, balking, retrials and callbacks are in :mod:`sim.engine.mechanics` (they hook in at
set-up only when a channel uses them). Shifts are in :mod:`sim.engine.shifts`; the bot, team leads, transfers,
repeats and what they add to a service's start and end in :mod:`sim.engine.stages`; the per-contact stage
draws in :mod:`sim.engine.draws`; the policies' view in :mod:`sim.engine.view`; closing at the horizon, the
output frames and costs in :mod:`sim.engine.output`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from heapq import heappush
from itertools import repeat
from types import MethodType
from typing import cast

import numpy as np

from sim.arrivals import ArrivalBatch
from sim.config import Scenario
from sim.defaults import LongestIdleRouting, NoDeflection, NoEmpowerment
from sim.engine import resolution as r
from sim.engine.arrival_tags import SourceRows
from sim.engine.dispatch import Dispatcher
from sim.engine.draws import StageDraws
from sim.engine.guards import check_agent, check_contact
from sim.engine.hooks import install_arrival_hooks
from sim.engine.mechanics import Mechanics
from sim.engine.outages import Outages, has_outages
from sim.engine.output import close_at_horizon, result
from sim.engine.plain import arrive_plain, is_plain, release_plain
from sim.engine.plans import Plans, plan_staffing
from sim.engine.queues import QueueLayout, queue_key
from sim.engine.shifts import Shifts
from sim.engine.stages import BotStage, Repeats, ServiceStages, TeamLeads, Transfers
from sim.engine.view import CenterView
from sim.engine.wrapup import WrapUp
from sim.entities import (
    APPROVAL_TEAM_LEAD,
    DONE,
    DRAINING,
    ON,
    SERVING,
    WAITING,
    Agent,
    Contact,
    StageContact,
)
from sim.interfaces import DeflectionPolicy, EmpowermentPolicy, RoutingPolicy, StaffingPolicy
from sim.log import BUSY, STREAM_PACK, Recorder
from sim.result import RunResult
from sim.schema import OUTCOMES, PRIORITIES, TIERS
from sim.streams import Streams

__all__ = ["ContactCenter"]

_SERVED, _ABANDONED, _CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")
_ESC_ASYNC = OUTCOMES.index("escalated_async")


class ContactCenter(Dispatcher):
    """One replication of a scenario, ready to run.

    Args:
        scenario: The validated scenario.
        streams: Named random streams of this replication.
        arrivals: Arrival batches in time order (see :func:`sim.arrivals.iter_arrivals`).
        routing: Routing policy (default :class:`~sim.defaults.LongestIdleRouting`).
        log: Keep the contact log (``contacts`` frame); otherwise only aggregates are kept.
        eager_arrivals: Process an arrival inside the callback of the event before it when no scheduled event
            precedes it, and keep service ends on the dispatcher's own heap (the default, and the fast path);
            ``False`` gives every arrival and every service end its own SimPy event. Both give the same results (a
            test checks it).
        fast_paths: Let the engine take the default routing's decision itself where it is trivial (one group
            for a queue, one queue for a group), and run a plain center on its own arrival and service end
            (:meth:`_plain`); ``False`` always asks the policy. Same results (tested).
        deflection: Which contacts go to the channel's bot first (default: none).
        staffing: The roster, and reserve agents for reactive call-ins (default: the scenario's rosters).
        empowerment: Who approves what (default: approvals take no extra time and are never escalated).
        plan_policies: Per contingency plan name, per slot (``routing``, ``deflection``, ``empowerment``,
            ``staffing``), the policy object the plan puts in that slot while in force (:mod:`sim.engine.plans`).
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        arrivals: Iterator[ArrivalBatch],
        *,
        routing: RoutingPolicy | None = None,
        log: bool = False,
        eager_arrivals: bool = True,
        fast_paths: bool = True,
        deflection: DeflectionPolicy | None = None,
        staffing: StaffingPolicy | None = None,
        empowerment: EmpowermentPolicy | None = None,
        plan_policies: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        super().__init__(arrivals, eager=eager_arrivals)
        for slot, policy, base in (
            ("routing", routing, RoutingPolicy),
            ("deflection", deflection, DeflectionPolicy),
            ("staffing", staffing, StaffingPolicy),
            ("empowerment", empowerment, EmpowermentPolicy),
        ):
            if policy is not None and not isinstance(policy, base):
                raise TypeError(
                    f"the {slot} policy {type(policy).__name__} must subclass sim.interfaces.{base.__name__}, "
                    "which declares every hook the engine calls"
                )
        self.scenario = scenario
        self.routing = routing if routing is not None else LongestIdleRouting()
        self.deflection = deflection if deflection is not None else NoDeflection()
        self.empowerment = empowerment if empowerment is not None else NoEmpowerment()
        for policy in (self.routing, self.deflection, staffing, self.empowerment):
            if policy is not None:
                policy.bind(scenario)
        self.channels = list(scenario.channels)
        self.intents = list(scenario.intents)
        self.languages = list(scenario.customers.languages)
        self.groups = list(scenario.groups)
        self.horizon_s = scenario.horizon
        self.measure_s = scenario.measure_start_s
        """Start of measurement (the end of the warm-up, on an interval boundary), seconds."""
        sc = scenario
        self._inflation = [sc.channels[c].inflation for c in self.channels]
        # Per group: channel codes, concurrency per channel, proficiency per intent, occupancy cap.
        self._g_channels = [[self.channels.index(c) for c in sc.groups[g].channels] for g in self.groups]
        self._cap = [
            [sc.concurrency(g, c) if c in sc.groups[g].channels else 0 for c in self.channels] for g in self.groups
        ]
        self._prof = [[sc.groups[g].skills.get(i, math.nan) for i in self.intents] for g in self.groups]
        self._occ_cap = [sc.groups[g].occupancy_cap for g in self.groups]
        self.multi_slot = [max(caps) > 1 for caps in self._cap]
        self.avail: list[list[dict[Agent, None]]] = [[{} for _ in self.channels] for _ in self.groups]
        """Per group and channel: the available agents, longest available first (a dict as an ordered set)."""
        self.g_busy = [0] * len(self.groups)
        """Agents of each group with at least one contact in hand."""
        self.g_logged = [0] * len(self.groups)
        """Agents of each group logged in."""
        self.layout = QueueLayout(sc, language_fallback=self.routing.language_fallback)
        self.queues = self.layout.queues
        self.waiting: list[deque[Contact]] = [deque() for _ in self.queues]
        """Per queue: contacts in queue-join order; served or expired ones are removed lazily from the front."""
        self.stale: list[int] = []
        """Queues the view found stale entries in (served or expired contacts at the front), compacted by
        :meth:`compact` after each policy decision."""
        self.recorder = Recorder(
            n_channels=len(self.channels),
            n_groups=len(self.groups),
            interval_s=sc.reporting.interval,
            horizon_s=sc.horizon,
            thresholds_s=sc.sl_thresholds_s(),
            short_abandon_s=[sc.channels[c].short_abandon for c in self.channels],
            keep_log=log,
            single_slot_groups=[g for g, multi in enumerate(self.multi_slot) if not multi],
            measure_start_s=sc.measure_start_s,
        )
        self.finish = self.recorder.record_log if log else self.recorder.record_stream
        """Record a finished contact."""
        # Without the log, a plain service end appends its row to the recorder's buffer itself (the hot path).
        self._stream_buf = None if log else self.recorder.buf
        self._stream_limit = self.recorder.limit
        self.res = r.new_counters(len(self.channels))
        """Resolution counters per segment (see :mod:`sim.engine.resolution`)."""
        self.view = CenterView(self)
        # Policies other than the built-in default are checked on every decision (see _check_agent).
        kind = type(self.routing)
        default = (
            kind.select_agent is LongestIdleRouting.select_agent
            and kind.select_contact is LongestIdleRouting.select_contact
        )
        self._guard = not default
        # Typed as the engine's own objects: the view offers only those, and a policy's answer is checked (the
        # guard) unless the policy is the default; no cast costs a call per decision on the hot path.
        self._select_agent: Callable[[Contact, CenterView], Agent | None] = self.routing.select_agent  # type: ignore[assignment]
        self._select_contact: Callable[[Agent, CenterView], Contact | None] = self.routing.select_contact  # type: ignore[assignment]
        # Fast paths of the default routing, where its choice is trivially the same (see _fast_paths).
        self._q_fast = [-1] * len(self.queues)
        self._g_fast = [-1] * len(self.groups)
        self._g_simple = [-1] * len(self.groups)
        if default and fast_paths:
            self._fast_paths()
        self._release = self.release  # bound once: nearly every contact's service end
        self._next_id = 0
        self.n_arrivals = 0
        # Staffing policies of plans size the reserve pool (bound here, once); none without plans.
        self.shifts = Shifts(self, staffing, streams, plan_staffing(sc, plan_policies) if sc.plans else ())
        self.agents = self.shifts.agents
        self.bot = BotStage(self)
        self.team_leads = TeamLeads(self)
        self.transfers = Transfers(self)
        self.repeats = Repeats(self)
        self.draws = StageDraws(sc, streams, self.transfers.to)
        self.service_stages = ServiceStages(self)
        self._service_stages = self.service_stages  # the hot path reads it once per service
        self._extras = self.bot.active or bool(sc.approvals) or bool(sc.transfers)
        self._track_last = self.service_stages.track_last
        self.last: dict[int, Agent] = {}
        """Each customer's last agent (kept when the population is finite or the routing uses it)."""
        # Calibration features, hooked in at setup only when used (nothing changes on the hot path otherwise).
        self.wrap_up = WrapUp(self, streams) if sc.has_wrap_up else None
        self.source_rows = SourceRows(self) if log and sc.arrivals.kind == "replay" else None
        self.outages: Outages | None = None
        """Channel outages applied as contacts arrive (:mod:`sim.engine.outages`); ``None`` without outages."""
        if has_outages(self):
            self.outages = Outages(self, streams)
        self.plans: Plans | None = None
        """Contingency plans (:mod:`sim.engine.plans`); ``None`` without plans."""
        if sc.plans:
            self.plans = Plans(self, streams, plan_policies)
            self.plans.start()
        self.mechanics = Mechanics(self)
        """Lines, maximum queue time, balking, retrials, callbacks (:mod:`sim.engine.mechanics`)."""
        if self.mechanics.active:  # set-up only: it takes over some hooks; nothing changes when unused
            self.mechanics.install(streams)
        install_arrival_hooks(self)
        if is_plain(self):
            self._release = MethodType(release_plain, self)
            self._arrive = MethodType(arrive_plain, self)  # type: ignore[method-assign]
        self.shifts.start()

    def _fast_paths(self) -> None:
        """Shortcuts equal to :class:`LongestIdleRouting` for the simplest shapes (checked by a test).

        A live queue served by one group: the longest-available agent is the first of that group's list. A group
        with one live queue and no deferrable work: the oldest waiting contact is that queue's head. If its agents
        also hold one contact of one channel at a time, availability is simply "on and idle".
        """
        layout = self.layout
        for q in self.queues:
            if len(q.groups) == 1 and not q.deferrable:
                self._q_fast[q.index] = q.groups[0]
        for g in range(len(self.groups)):
            if len(layout.g_live[g]) == 1 and not layout.g_deferrable[g]:
                self._g_fast[g] = layout.g_live[g][0]
                channels = self._g_channels[g]
                if len(channels) == 1 and self._cap[g][channels[0]] == 1:
                    # Such an agent is available exactly when it is on and idle.
                    self._g_simple[g] = layout.g_live[g][0]

    # ------------------------------------------------------------------------------------------------ running

    def run(self) -> None:
        """Run until the horizon, then close every open record."""
        self.run_until(self.horizon_s)
        close_at_horizon(self)

    def result(self, replication: int, seed: int, wall_s: float) -> RunResult:
        """The output frames of this replication (after :meth:`run`)."""
        return result(self, replication, seed, wall_s)

    def _rows(self, batch: ArrivalBatch) -> list[tuple]:
        """Arrival rows: the batch's columns transposed once, each contact's queue looked up for the whole batch.

        A row is ``(time_s, channel, intent, priority, tier, language, customer, handle_s, patience_s, draws,
        queue)``, unpacked in one place, :meth:`_arrive` (a tuple: this is the hottest loop of the engine).
        """
        layout = self.layout
        ch, intent, lang, prio, tier = (
            a.astype(np.int64) for a in (batch.channel, batch.intent, batch.language, batch.priority, batch.tier)
        )
        key = queue_key(ch, intent, lang, prio, tier, layout.n_intents, layout.n_languages)
        qi = layout.index[key]
        if (qi < 0).any():
            k = int((qi < 0).argmax())
            self._no_queue(int(batch.channel[k]), int(batch.intent[k]), int(batch.priority[k]), int(batch.tier[k]))
        return list(
            zip(
                batch.time_s.tolist(),
                batch.channel.tolist(),
                batch.intent.tolist(),
                batch.priority.tolist(),
                batch.tier.tolist(),
                batch.language.tolist(),
                batch.customer_id.tolist(),
                batch.handle_s.tolist(),
                batch.patience_s.tolist(),
                self.draws.batch(batch) if self._extras else repeat(None, len(batch)),
                qi.tolist(),
                strict=True,
            )
        )

    def _arrive(self, row: tuple) -> None:
        _, ch, intent, prio, tier, lang, cust, handle, patience, x, qi = row
        self.n_arrivals += 1
        if x is None:
            contact = Contact(self._next_id, self.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
            self._next_id += 1
            g = self._q_fast[qi]
            if g < 0:
                self.enqueue(contact)
                return
            # Fast path of enqueue (one group for the queue, default routing), inline: it runs for most arrivals.
            d = self.avail[g][ch]
            if d:
                agent = next(iter(d))
                self._start(agent, contact)
                if self._g_simple[g] >= 0:  # one slot, one channel: the agent is now full
                    del d[agent]
                else:
                    self.refresh(agent)
            else:
                self.waiting[qi].append(contact)
        else:
            contact = StageContact(
                self._next_id, self.now, ch, intent, prio, tier, lang, cust, handle, patience, qi,
                x=x, amount=x.amount,
            )  # fmt: skip
            self._next_id += 1
            self.route_new(contact)

    def _bind_row(self, row: tuple) -> None:
        """Give the values drawn for ``row`` to the contact about to be created from it outside :meth:`_arrive`.

        The contact gets id ``_next_id`` (a row a plan loses). Replaced at set-up when some :class:`RowHook` keeps
        such values; nothing to do otherwise.
        """

    def _no_queue(self, channel: int, intent: int, priority: int, tier: int) -> None:
        raise ValueError(
            f"a contact of channel {self.channels[channel]!r}, intent {self.intents[intent]!r} is "
            f"{PRIORITIES[priority]}/{TIERS[tier]}, but the scenario has no urgent_share for the intent "
            "(or no vip_share), so there is no such queue"
        )

    # ------------------------------------------------------------------------------------------------ service

    def route_new(self, contact: StageContact) -> None:
        """A new contact: to its channel's bot if the deflection policy offers it one, else to the human queue."""
        if not self.bot.try_start(contact):
            self.enqueue(contact)

    def enqueue(self, contact: Contact) -> None:
        """Give a contact reaching the human queue to an agent now, or queue it."""
        qi = contact.queue
        g = self._q_fast[qi]
        if g >= 0:
            d = self.avail[g][contact.channel]
            if d:
                agent = next(iter(d))
                self._start(agent, contact)
                if self._g_simple[g] >= 0:  # one slot, one channel: the agent is now full
                    del d[agent]
                else:
                    self.refresh(agent)
            else:
                self.waiting[qi].append(contact)
            return
        picked = self._select_agent(contact, self.view)
        if self.stale:
            self.compact()
        if picked is None:
            self.waiting[qi].append(contact)
        else:
            # The default routing returns the engine's own agents; any other policy's answer is checked.
            agent = check_agent(self, picked, contact) if self._guard else picked
            self._start(agent, contact)
            self.refresh(agent)

    def _start(self, agent: Agent, contact: Contact) -> None:
        now = self.now
        k = agent.n_active
        if k == 0:
            agent.busy_since_s = now
            self.g_busy[agent.group] += 1
        agent.n_active = k + 1
        agent.active_channel = contact.channel
        agent.hand.append(contact)
        handle = contact.handle_base_s * self._prof[agent.group][contact.intent]
        if k:
            handle *= 1.0 + self._inflation[contact.channel] * k
        # At the end of the handle time the service ends, or, for a team-lead approval, the agent holds the
        # customer until a team lead approves: an own-heap event (self.at_heap, inlined: nearly every contact's).
        handler = self._release
        if contact.x is not None or self._track_last:
            handle = self._service_stages.start(agent, contact, handle)
            if contact.approval == APPROVAL_TEAM_LEAD:  # only a contact with stages has an approval route
                handler = self._hold
        contact.state = SERVING
        contact.agent = agent
        contact.start_s = now
        contact.handle_s = handle
        if self._eager:
            base = self.event_s
            heappush(self._heap, (base + (now + handle - base), next(self._seq), handler, contact))
        else:
            self.at(now + handle, handler, contact)

    def _hold(self, contact: Contact) -> None:
        self.team_leads.hold(cast(StageContact, contact))

    def release(self, contact: Contact) -> None:
        """End a service: record the contact, free the agent's slot and give it more work."""
        now = self.now
        agent = contact.agent
        contact.end_s = now
        contact.state = DONE
        contact.outcome = _SERVED
        to = -1
        if contact.x is not None or self._track_last:
            to = self._service_stages.end(contact, agent)
            if to == -1:
                self.finish(contact)
        elif (buf := self._stream_buf) is not None:
            # Recorder.record_stream, inlined (the fields of sim.log.STREAM_FIELDS): nearly every contact's row.
            buf.frombytes(
                STREAM_PACK(contact.seg, contact.arrival_s, _SERVED, contact.start_s, now, contact.handle_s,
                            contact.patience_s, agent.group, contact.queued_s)
            )  # fmt: skip
            if len(buf) >= self._stream_limit:
                self.recorder.flush()
        else:
            self.finish(contact)
        agent.handled += 1
        agent.hand.remove(contact)
        n = agent.n_active = agent.n_active - 1
        if n == 0:
            agent.active_channel = -1
            g = agent.group
            agent.busy_s += now - agent.busy_since_s
            self.g_busy[g] -= 1
            if self.multi_slot[g]:  # otherwise busy agents = contacts in service, known from the contacts
                self.recorder.add_period(BUSY, g, agent.busy_since_s, now)
            if agent.state == DRAINING:
                self.shifts.drained(agent)
            elif (q := self._g_simple[agent.group]) >= 0:
                # One slot, one channel, one queue, default routing: take the head or become available.
                dq = self.waiting[q]
                nxt = dq[0] if dq else None
                if nxt is not None and (nxt.state != WAITING or nxt.deadline_s <= now):
                    nxt = self.head(q)  # stale or expired entries at the front (head, inlined for a live one)
                if nxt is None:
                    c = self._g_channels[agent.group][0]
                    self.avail[agent.group][c][agent] = None
                    agent.since[c] = now
                else:
                    dq.popleft()
                    self._start(agent, nxt)
            else:
                self.pull(agent)
        elif agent.state != DRAINING:
            self.pull(agent)
        if to >= 0:  # the customer now holds for the other skill (the agent's slot is free again)
            self.transfers.start(cast(StageContact, contact), to)

    def head(self, queue: int) -> Contact | None:
        """Oldest contact still waiting in ``queue``; contacts whose patience ran out are recorded as abandoned."""
        dq = self.waiting[queue]
        now = self.now
        while dq:
            c = dq[0]
            if c.state != WAITING:
                dq.popleft()
            elif c.deadline_s <= now:
                dq.popleft()
                self.abandon(c)
            else:
                return c
        return None

    def compact(self) -> None:
        """Drop the stale front entries of the queues the view noted, recording expired contacts as abandoned."""
        head = self.head
        for q in self.stale:
            head(q)
        self.stale.clear()

    def pull(self, agent: Agent) -> None:
        """Offer a freed agent waiting work until it is full or nothing fits; then update its availability."""
        g = agent.group
        cap = self._cap[g]
        single = self._g_fast[g]
        view = self.view
        while agent.state == ON and (agent.n_active == 0 or agent.n_active < cap[agent.active_channel]):
            if single >= 0:
                picked = self.head(single)
            else:
                picked = self._select_contact(agent, view)
                if self.stale:
                    self.compact()
            if picked is None:
                break
            contact = check_contact(self, agent, picked) if self._guard else picked
            dq = self.waiting[contact.queue]
            if dq and dq[0] is contact:
                dq.popleft()
            self._start(agent, contact)
        self.refresh(agent)

    def refresh(self, agent: Agent) -> None:
        """Put the agent in (at the back) or take it out of the availability list of each of its channels."""
        g = agent.group
        channels = self._g_channels[g]
        if len(channels) == 1:
            c = channels[0]
            d = self.avail[g][c]
            # With one channel, active_channel is c or -1, so "idle or c with room" is n_active < cap.
            if agent.state == ON and agent.n_active < self._cap[g][c]:
                if agent not in d:
                    d[agent] = None
                    agent.since[c] = self.now
            elif agent in d:
                del d[agent]
            return
        on = agent.state == ON
        n = agent.n_active
        avail = self.avail[g]
        cap = self._cap[g]
        for c in channels:
            d = avail[c]
            if on and (n == 0 or (agent.active_channel == c and n < cap[c])):
                if agent not in d:
                    d[agent] = None
                    agent.since[c] = self.now
            elif agent in d:
                del d[agent]

    def can_blend(self, group: int) -> bool:
        """Whether one more busy agent keeps the group's busy share within its occupancy cap."""
        return self.g_busy[group] + 1 <= self._occ_cap[group] * self.g_logged[group] + 1e-9

    def request_review(self, at_s: float) -> None:
        """Offer every available agent to the routing policy again at ``at_s`` (seconds)."""
        event_s = self.event_s
        self.at(at_s if at_s > event_s else event_s, self._review)

    def _review(self, _arg: object) -> None:
        for agent in self.agents:
            cap = self._cap[agent.group]
            if agent.state == ON and (agent.n_active == 0 or agent.n_active < cap[agent.active_channel]):
                self.pull(agent)

    # ------------------------------------------------------------------------------------------------ horizon

    def abandon(self, contact: Contact) -> None:
        """Record a waiting contact whose patience ran out (at its deadline)."""
        self.unserved(contact, _ABANDONED)

    def unserved(self, contact: Contact, outcome: int) -> None:
        """Record a contact that leaves without (further) human service, with ``outcome``."""
        if contact.parent is not None:  # an unanswered transfer: the contact itself was answered before
            self.transfers.unanswered(cast(StageContact, contact), outcome)
            return
        contact.state = DONE
        contact.outcome = outcome
        contact.start_s = contact.end_s = contact.handle_s = math.nan
        self.finish(contact)
