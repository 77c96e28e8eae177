"""The SimPy model: a central dispatcher driven by SimPy events.

There is no SimPy process per contact. Each contact costs two scheduled events (its arrival and its service end);
agents' shift plans (login, breaks, logout) are events too. Abandonment needs no timer: a contact's patience is
drawn at arrival, so it abandons at ``deadline_s = arrival_s + patience_s`` unless an agent takes it first; a
waiting contact whose deadline has passed is never offered to an agent, and is recorded as abandoned (at its
deadline) when it reaches the front of its queue or at the horizon. This is exactly the reneging of a timer-based
model, with fewer events.

Semantics (see DESIGN §3):
    * Queues: one per channel x intent x language, FIFO; routing decides across queues.
    * Agents: individuals of a group; available for a channel when logged in, not on break or draining, and
      either idle or holding fewer than the channel's concurrency of contacts of that same channel.
    * Handle time = base draw x group proficiency for the intent x (1 + inflation x other contacts in hand).
    * Shift end / break: the agent finishes the contacts in hand (draining), then logs out / takes the break;
      time past the shift end is overtime. Breaks are cut at the shift end.
    * Deferrable work is taken only by idle agents while the group's busy share stays within its occupancy cap.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator
from pathlib import Path

import simpy

from sim.arrivals import ArrivalBatch
from sim.config import WEEKDAYS, Scenario
from sim.entities import BREAK, DONE, DRAINING, OFF, ON, SERVING, WAITING, Agent, Contact, QueueState
from sim.interfaces import AgentInfo, ContactInfo, RoutingPolicy
from sim.log import BUSY, LOGGED_IN, ON_BREAK, Recorder
from sim.result import RunResult
from sim.routing import LongestIdleRouting
from sim.schema import OUTCOMES
from sim.streams import Streams

__all__ = ["ContactCenter", "RoutingError", "run"]

_SERVED, _ABANDONED, _CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")
# Plan actions of an agent.
_LOGIN, _BREAK, _LOGOUT = 0, 1, 2


class _Call(simpy.Event):
    """An event that is already scheduled ``delay`` seconds ahead with one callback (a lean ``Timeout``)."""

    def __init__(self, env: simpy.Environment, delay: float, callback, value: object) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, simpy.events.NORMAL, delay)


class RoutingError(RuntimeError):
    """A routing policy returned an agent or contact the view did not offer."""


class ContactCenter:
    """One replication of a scenario, ready to run.

    Args:
        scenario: The validated scenario.
        streams: Named random streams of this replication.
        arrivals: Arrival batches in time order (see :func:`sim.arrivals.iter_arrivals`).
        routing: Routing policy (default :class:`~sim.routing.LongestIdleRouting`).
        log: Keep the contact log (``contacts`` frame); otherwise only aggregates are kept.
        eager_arrivals: Process an arrival inside the callback of the event before it when no scheduled event
            precedes it (the default, and the fast path); ``False`` gives every arrival its own SimPy event. Both
            give the same results (a test checks it).
        fast_paths: Let the engine take the default routing's decision itself where it is trivial (one group
            for a queue, one queue for a group); ``False`` always asks the policy. Same results (tested).
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
    ) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.routing = routing if routing is not None else LongestIdleRouting()
        self.channels = list(scenario.channels)
        self.intents = list(scenario.intents)
        self.languages = list(scenario.customers.languages)
        self.groups = list(scenario.groups)
        self.horizon_s = scenario.horizon
        n_ch, n_int, n_lang = len(self.channels), len(self.intents), len(self.languages)
        self._inflation = [scenario.channels[c].inflation for c in self.channels]
        self._deferrable = [scenario.channels[c].kind == "deferrable" for c in self.channels]
        self._build_groups()
        self._build_queues(n_ch, n_int, n_lang)
        self.recorder = Recorder(
            n_channels=n_ch,
            n_groups=len(self.groups),
            interval_s=scenario.reporting.interval,
            horizon_s=scenario.horizon,
            thresholds_s=scenario.sl_thresholds_s(),
            short_abandon_s=[scenario.channels[c].short_abandon for c in self.channels],
            keep_log=log,
            single_slot_groups=[g for g, multi in enumerate(self._g_multi) if not multi],
            measure_start_s=scenario.measure_start_s,
        )
        self._finish = self._finish_log if log else self._finish_stream
        self.view = CenterView(self)
        # Policies other than the built-in default are checked on every decision (see _check_agent).
        kind = type(self.routing)
        default = (
            kind.select_agent is LongestIdleRouting.select_agent
            and kind.select_contact is LongestIdleRouting.select_contact
        )
        self._guard = not default
        self._select_agent = self.routing.select_agent
        if default and fast_paths:
            self._fast_paths()
        self._select_contact = self.routing.select_contact
        self._arrivals = arrivals
        self._batch: list[list] = []
        self._bi = 0
        self._bn = 0
        self._next_id = 0
        self.n_arrivals = 0
        self.now = 0.0
        """Logical time in seconds: ``env.now``, or the arrival time while an arrival is being processed."""
        self._eager = eager_arrivals
        self._arrival_pending = False
        self._build_agents(streams)

    # ------------------------------------------------------------------------------------------------ set-up

    def _build_groups(self) -> None:
        sc = self.scenario
        ch_index = {c: i for i, c in enumerate(self.channels)}
        in_index = {c: i for i, c in enumerate(self.intents)}
        self._g_channels = [[ch_index[c] for c in sc.groups[g].channels] for g in self.groups]
        self._cap = [
            [sc.concurrency(g, c) if c in sc.groups[g].channels else 0 for c in self.channels] for g in self.groups
        ]
        self._prof = [[sc.groups[g].skills.get(i, math.nan) for i in self.intents] for g in self.groups]
        self._occ_cap = [sc.groups[g].occupancy_cap for g in self.groups]
        self._g_multi = [max(caps) > 1 for caps in self._cap]
        self._avail: list[list[dict[Agent, None]]] = [[{} for _ in self.channels] for _ in self.groups]
        self._g_busy = [0] * len(self.groups)
        self._g_logged = [0] * len(self.groups)
        del ch_index, in_index

    def _build_queues(self, n_ch: int, n_int: int, n_lang: int) -> None:
        sc = self.scenario
        self.queues: list[QueueState] = []
        for ci, ch in enumerate(self.channels):
            for ii, intent in enumerate(self.intents):
                for li, lang in enumerate(self.languages):
                    groups = tuple(self.groups.index(g) for g in sc.eligible_groups(ch, intent, lang))
                    q = QueueState(len(self.queues), ci, ii, li, self._deferrable[ci], groups)
                    self.queues.append(q)
        self._n_int, self._n_lang = n_int, n_lang
        # Per group: live queues by channel, all live queues, deferrable queues (stable order by index).
        self._g_live_by_ch: list[list[tuple[int, ...]]] = []
        self._g_live: list[tuple[int, ...]] = []
        self._g_deferrable: list[tuple[int, ...]] = []
        for g in range(len(self.groups)):
            mine = [q for q in self.queues if g in q.groups]
            self._g_live_by_ch.append(
                [tuple(q.index for q in mine if q.channel == c and not q.deferrable) for c in range(n_ch)]
            )
            self._g_live.append(tuple(q.index for q in mine if not q.deferrable))
            self._g_deferrable.append(tuple(q.index for q in mine if q.deferrable))
        self._q_groups = [frozenset(q.groups) for q in self.queues]
        # Fast paths of the default routing, where its choice is trivially the same (see _fast_paths).
        self._q_fast = [-1] * len(self.queues)
        self._g_fast = [-1] * len(self.groups)
        self._g_simple = [-1] * len(self.groups)

    def _build_agents(self, streams: Streams) -> None:
        sc = self.scenario
        t0 = sc.start
        day0 = dt.datetime.combine(t0.date(), dt.time())
        offset0 = (t0 - day0).total_seconds()  # seconds from midnight of day 0 to the scenario start
        n_days = math.ceil((offset0 + self.horizon_s) / 86400.0) + 1
        self.agents: list[Agent] = []
        for gi, gname in enumerate(self.groups):
            group = sc.groups[gname]
            roster = [(shift, k, n) for shift, n in group.staffing.items() for k in range(n)]
            # One uniform per (agent, day), drawn whatever the absenteeism so that other groups are unaffected.
            absent_u = streams.get(f"absence/{gname}").random((len(roster), n_days + 1))
            for ri, (shift_name, k, n_on_shift) in enumerate(roster):
                agent = Agent(len(self.agents), gi, shift_name, len(self.channels))
                shift = sc.shifts[shift_name]
                blocks = []
                for d in range(-1, n_days):
                    day = day0 + dt.timedelta(days=d)
                    weekday = WEEKDAYS[day.weekday()]
                    if weekday not in shift.days:
                        continue
                    if group.rest_days and (day.weekday() - k) % 7 < group.rest_days:
                        continue
                    start = d * 86400.0 + shift.start - offset0
                    end = start + shift.length
                    if end <= 0.0 or start >= self.horizon_s:
                        continue
                    if absent_u[ri, d + 1] < group.absenteeism:
                        agent.absent_shifts += 1
                        continue
                    offset = shift.break_stagger * k / n_on_shift
                    breaks = [(start + b.after + offset, b.length) for b in shift.breaks]
                    blocks.append([start, end, breaks])
                agent.plan = self._plan(blocks)
                agent.scheduled_s = sum(min(e, self.horizon_s) - max(s, 0.0) for s, e, _ in _merge(blocks))
                self.agents.append(agent)
                if agent.plan:
                    self._schedule_plan(agent)

    def _plan(self, blocks: list) -> list[tuple[float, int, float]]:
        plan: list[tuple[float, int, float]] = []
        for start, end, breaks in _merge(blocks):
            end_c = min(end, self.horizon_s)
            plan.append((max(start, 0.0), _LOGIN, end))
            for at, length in sorted(breaks):
                if 0.0 <= at < end_c:
                    plan.append((at, _BREAK, length))
            if end < self.horizon_s:
                plan.append((end, _LOGOUT, 0.0))
        return plan

    def _fast_paths(self) -> None:
        """Shortcuts equal to :class:`LongestIdleRouting` for the simplest shapes (checked by a test).

        A live queue served by one group: the longest-available agent is the first of that group's list. A group
        with one live queue and no deferrable work: the oldest waiting contact is that queue's head. If its agents
        also hold one contact of one channel at a time, availability is simply "on and idle".
        """
        for q in self.queues:
            if len(q.groups) == 1 and not q.deferrable:
                self._q_fast[q.index] = q.groups[0]
        for g in range(len(self.groups)):
            if len(self._g_live[g]) == 1 and not self._g_deferrable[g]:
                self._g_fast[g] = self._g_live[g][0]
                channels = self._g_channels[g]
                if len(channels) == 1 and self._cap[g][channels[0]] == 1:
                    # Such an agent is available exactly when it is on and idle.
                    self._g_simple[g] = self._g_live[g][0]

    # ------------------------------------------------------------------------------------------------ running

    def run(self) -> None:
        """Run until the horizon, then close every open record."""
        _Call(self.env, 0.0, self._on_wakeup, None)
        self.env.run(until=self.horizon_s)
        self.now = self.horizon_s
        self._finalize()

    def _on_wakeup(self, _event: simpy.Event) -> None:
        self.now = self.env.now
        self._pump()

    def _pump(self) -> None:
        """Process every arrival that no scheduled event precedes; then make sure the next one will be reached.

        Invariant: when an event at time T fires, every arrival before T has been processed. An arrival at time
        t that comes before the next scheduled event cannot be affected by anything else, so it is processed now
        with the logical clock set to t (``env.now`` may still be earlier); what it schedules lies after t.
        """
        env = self.env
        if not self._eager:
            if not self._arrival_pending and (self._bi < self._bn or self._next_batch()):
                row = self._batch[self._bi]
                self._bi += 1
                self._arrival_pending = True
                _Call(env, row[0] - env.now if row[0] > env.now else 0.0, self._on_arrival_event, row)
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

    def _on_arrival_event(self, event: simpy.Event) -> None:
        self._arrival_pending = False
        self.now = self.env.now
        self._arrive(event._value)
        self._pump()

    def _next_batch(self) -> bool:
        for batch in self._arrivals:
            if len(batch):
                self._batch = list(
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
                        strict=True,
                    )
                )
                self._bi, self._bn = 0, len(batch)
                return True
        return False

    def _arrive(self, row: tuple) -> None:
        _, ch, intent, prio, tier, lang, cust, handle, patience = row
        qi = (ch * self._n_int + intent) * self._n_lang + lang
        contact = Contact(self._next_id, self.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
        self._next_id += 1
        self.n_arrivals += 1
        g = self._q_fast[qi]
        if g >= 0:
            d = self._avail[g][ch]
            if d:
                agent = next(iter(d))
                self._start(agent, contact)
                if self._g_simple[g] >= 0:  # one slot, one channel: the agent is now full
                    del d[agent]
                else:
                    self._refresh(agent)
            else:
                self.queues[qi].contacts.append(contact)
            return
        agent = self._select_agent(contact, self.view)
        if agent is None:
            self.queues[qi].contacts.append(contact)
        else:
            if self._guard:
                self._check_agent(agent, contact)
            self._start(agent, contact)
            self._refresh(agent)

    def _start(self, agent: Agent, contact: Contact) -> None:
        now = self.now
        k = agent.n_active
        if k == 0:
            agent.busy_since_s = now
            self._g_busy[agent.group] += 1
        agent.n_active = k + 1
        agent.active_channel = contact.channel
        agent.hand.append(contact)
        handle = contact.handle_base_s * self._prof[agent.group][contact.intent]
        if k:
            handle *= 1.0 + self._inflation[contact.channel] * k
        contact.state = SERVING
        contact.agent = agent
        contact.start_s = now
        contact.handle_s = handle
        env = self.env
        _Call(env, now + handle - env.now, self._on_end, contact)

    def _on_end(self, event: simpy.Event) -> None:
        env = self.env
        now = self.now = env.now
        contact: Contact = event._value
        agent = contact.agent
        contact.end_s = now
        contact.state = DONE
        contact.outcome = _SERVED
        self._finish(contact)
        agent.handled += 1
        agent.hand.remove(contact)
        n = agent.n_active = agent.n_active - 1
        if n == 0:
            agent.active_channel = -1
            g = agent.group
            agent.busy_s += now - agent.busy_since_s
            self._g_busy[g] -= 1
            if self._g_multi[g]:  # otherwise busy agents = contacts in service, known from the contacts
                self.recorder.add_period(BUSY, g, agent.busy_since_s, now)
            if agent.state == DRAINING:
                self._drained(agent)
            elif (q := self._g_simple[agent.group]) >= 0:
                # One slot, one channel, one queue, default routing: take the head or become available.
                nxt = self.view.head(q)
                if nxt is None:
                    c = self._g_channels[agent.group][0]
                    self._avail[agent.group][c][agent] = None
                    agent.since[c] = now
                else:
                    self.queues[q].contacts.popleft()
                    self._start(agent, nxt)
            else:
                self._pull(agent)
        elif agent.state != DRAINING:
            self._pull(agent)
        bi = self._bi
        if bi >= self._bn or self._batch[bi][0] < env.peek():  # an arrival (or a new batch) is due
            self._pump()

    # Both append the fields of sim.log.STREAM_FIELDS (then LOG_FIELDS) in that order.
    def _finish_stream(self, c: Contact) -> None:
        rec = self.recorder
        rec.buf.extend((c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, c.agent.group))
        if len(rec.buf) >= rec.limit:
            rec.flush()

    def _finish_log(self, c: Contact) -> None:
        rec = self.recorder
        a = c.agent
        rec.buf.extend(
            (c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, a.group,
             c.id, c.channel, c.intent, c.priority, c.tier, c.language, c.customer_id, a.id)
        )  # fmt: skip
        if len(rec.buf) >= rec.limit:
            rec.flush()

    def _pull(self, agent: Agent) -> None:
        """Offer a freed agent waiting work until it is full or nothing fits; then update its availability."""
        g = agent.group
        cap = self._cap[g]
        single = self._g_fast[g]
        view = self.view
        while agent.state == ON and (agent.n_active == 0 or agent.n_active < cap[agent.active_channel]):
            contact = view.head(single) if single >= 0 else self._select_contact(agent, view)
            if contact is None:
                break
            if self._guard:
                self._check_contact(agent, contact)
            dq = self.queues[contact.queue].contacts
            if dq and dq[0] is contact:
                dq.popleft()
            self._start(agent, contact)
        self._refresh(agent)

    def _refresh(self, agent: Agent) -> None:
        """Put the agent in (at the back) or take it out of the availability list of each of its channels."""
        g = agent.group
        channels = self._g_channels[g]
        if len(channels) == 1:
            c = channels[0]
            d = self._avail[g][c]
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
        avail = self._avail[g]
        cap = self._cap[g]
        for c in channels:
            d = avail[c]
            if on and (n == 0 or (agent.active_channel == c and n < cap[c])):
                if agent not in d:
                    d[agent] = None
                    agent.since[c] = self.now
            elif agent in d:
                del d[agent]

    # ------------------------------------------------------------------------------------- policy guards

    def _check_agent(self, agent: AgentInfo, contact: Contact) -> None:
        a: Agent = agent  # type: ignore[assignment]
        if a.group not in self._q_groups[contact.queue] or a not in self._avail[a.group][contact.channel]:
            raise RoutingError(
                f"{type(self.routing).__name__}.select_agent returned agent {a.id} (group {self.groups[a.group]!r}), "
                f"which is not available for contact {contact.id} (channel {self.channels[contact.channel]!r}, "
                f"intent {self.intents[contact.intent]!r}, language {self.languages[contact.language]!r})"
            )
        if self.queues[contact.queue].deferrable and not self.view.can_blend(a):
            raise RoutingError(f"agent {a.id} was given deferrable work above its group's occupancy cap")

    def _check_contact(self, agent: Agent, contact: ContactInfo) -> None:
        c: Contact = contact  # type: ignore[assignment]
        ok = c.state == WAITING and c.deadline_s > self.now and agent.group in self._q_groups[c.queue]
        if ok:
            if self.queues[c.queue].deferrable:
                ok = agent.n_active == 0 and self.view.can_blend(agent)
            else:
                ok = agent.n_active == 0 or (c.channel == agent.active_channel)
        if not ok:
            raise RoutingError(
                f"{type(self.routing).__name__}.select_contact returned contact {c.id}, which agent {agent.id} "
                f"(group {self.groups[agent.group]!r}) may not take now"
            )

    # ----------------------------------------------------------------------------------------- agents' plans

    def _schedule_plan(self, agent: Agent) -> None:
        at = agent.plan[agent.plan_i][0]
        _Call(self.env, max(at - self.env.now, 0.0), self._on_plan, agent)  # plans run on real events only

    def _on_plan(self, event: simpy.Event) -> None:
        self.now = self.env.now
        agent: Agent = event._value
        _, action, arg = agent.plan[agent.plan_i]
        agent.plan_i += 1
        if agent.plan_i < len(agent.plan):
            self._schedule_plan(agent)
        if action == _LOGIN:
            self._login(agent, arg)
        elif action == _BREAK:
            self._break_due(agent, arg)
        else:
            self._logout_due(agent)
        self._pump()

    def _login(self, agent: Agent, block_end_s: float) -> None:
        if agent.state != OFF:
            # Still finishing the previous block's contacts (overtime) when the next block starts.
            self._close_overtime(agent)
            agent.block_end_s = block_end_s
            agent.pending = 0
            agent.state = ON
            self._pull(agent)
            return
        agent.block_end_s = block_end_s
        agent.state = ON
        agent.login_s = self.now
        self._g_logged[agent.group] += 1
        self._pull(agent)

    def _break_due(self, agent: Agent, length_s: float) -> None:
        if agent.state != ON:
            return
        if agent.n_active == 0:
            self._start_break(agent, length_s)
        else:
            agent.state = DRAINING
            agent.pending = _BREAK
            agent.break_since_s = length_s  # remembered length until the break can start
            self._refresh(agent)

    def _start_break(self, agent: Agent, length_s: float) -> None:
        now = self.now
        end = min(now + length_s, agent.block_end_s)
        if end <= now:
            agent.state = ON
            self._pull(agent)
            return
        agent.state = BREAK
        agent.break_since_s = now
        agent.epoch += 1
        self._refresh(agent)
        _Call(self.env, end - self.env.now, self._on_break_end, (agent, agent.epoch))

    def _on_break_end(self, event: simpy.Event) -> None:
        self.now = self.env.now
        agent, epoch = event._value
        if agent.state == BREAK and agent.epoch == epoch:
            self._end_break(agent)
            agent.state = ON
            self._pull(agent)
        self._pump()

    def _end_break(self, agent: Agent) -> None:
        now = self.now
        agent.break_s += now - agent.break_since_s
        self.recorder.add_period(ON_BREAK, agent.group, agent.break_since_s, now)

    def _logout_due(self, agent: Agent) -> None:
        if agent.state == BREAK:
            self._end_break(agent)
            agent.state = ON
        if agent.n_active == 0:
            self._logout(agent)
        else:
            agent.state = DRAINING
            agent.pending = _LOGOUT
            self._refresh(agent)

    def _drained(self, agent: Agent) -> None:
        if agent.pending == _BREAK:
            agent.pending = 0
            self._start_break(agent, agent.break_since_s)
        else:
            self._close_overtime(agent)
            self._logout(agent)

    def _close_overtime(self, agent: Agent) -> None:
        if agent.pending == _LOGOUT:
            agent.overtime_s += self.now - agent.block_end_s

    def _logout(self, agent: Agent) -> None:
        now = self.now
        agent.state = OFF
        agent.pending = 0
        self._refresh(agent)
        agent.logged_in_s += now - agent.login_s
        self._g_logged[agent.group] -= 1
        self.recorder.add_period(LOGGED_IN, agent.group, agent.login_s, now)

    # ------------------------------------------------------------------------------------------------ horizon

    def _finalize(self) -> None:
        horizon = self.horizon_s
        for q in self.queues:
            for c in q.contacts:
                if c.state == WAITING:
                    self._unserved(c, _ABANDONED if c.deadline_s < horizon else _CENSORED)
            q.contacts.clear()
        for agent in self.agents:
            for c in agent.hand:
                c.outcome = _SERVED
                c.end_s = math.nan
                self._finish(c)
            if agent.n_active:
                agent.busy_s += horizon - agent.busy_since_s
                if self._g_multi[agent.group]:
                    self.recorder.add_period(BUSY, agent.group, agent.busy_since_s, horizon)
            if agent.state == BREAK:
                agent.break_s += horizon - agent.break_since_s
                self.recorder.add_period(ON_BREAK, agent.group, agent.break_since_s, horizon)
            if agent.state != OFF:
                if agent.pending == _LOGOUT:
                    agent.overtime_s += horizon - agent.block_end_s
                agent.logged_in_s += horizon - agent.login_s
                self.recorder.add_period(LOGGED_IN, agent.group, agent.login_s, horizon)
        self.recorder.flush()

    def _abandon(self, contact: Contact) -> None:
        self._unserved(contact, _ABANDONED)

    def _unserved(self, contact: Contact, outcome: int) -> None:
        contact.state = DONE
        contact.outcome = outcome
        contact.start_s = contact.end_s = contact.handle_s = math.nan
        self._finish(contact)

    # ------------------------------------------------------------------------------------------------ output

    def result(self, replication: int, seed: int, wall_s: float) -> RunResult:
        """Collect the output frames of this replication."""
        rec = self.recorder
        return RunResult(
            replication=replication,
            seed=seed,
            intervals=rec.intervals_frame(replication, self.channels),
            staffing=rec.staffing_frame(replication, self.groups),
            agents=self._agents_frame(replication),
            frt_hist=rec.frt_hist_frame(replication, self.channels),
            contacts=rec.contacts_frame(replication, self.channels, self.intents, self.languages, self.groups),
            stats={"n_arrivals": float(self.n_arrivals), "n_recorded": float(rec.n_recorded), "wall_s": wall_s},
        )

    def _agents_frame(self, replication: int):
        import pandas as pd

        sc = self.scenario
        rows = []
        for a in self.agents:
            g = sc.groups[self.groups[a.group]]
            cost = (a.scheduled_s * g.hourly_cost + a.overtime_s * g.hourly_cost * g.overtime_premium) / 3600.0
            rows.append(
                (replication, a.id, self.groups[a.group], a.shift, a.scheduled_s + a.overtime_s, a.logged_in_s,
                 a.busy_s, a.break_s,
                 a.logged_in_s - a.busy_s - a.break_s, a.overtime_s, a.handled, a.absent_shifts, cost)
            )  # fmt: skip
        cols = [
            "replication", "agent_id", "group", "shift", "paid_s", "logged_in_s", "busy_s", "break_s", "idle_s",
            "overtime_s", "handled", "absent_shifts", "cost",
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=cols)
        frame["group"] = pd.Categorical(frame["group"], categories=self.groups)
        return frame


class CenterView:
    """Read-only view of a :class:`ContactCenter` handed to policies (see :class:`sim.interfaces.SystemView`)."""

    __slots__ = ("_c",)

    def __init__(self, center: ContactCenter) -> None:
        self._c = center

    @property
    def now(self) -> float:
        """Current simulation time in seconds."""
        return self._c.now

    def queue(self, index: int) -> QueueState:
        """Queue by index."""
        return self._c.queues[index]

    def available(self, group: int, channel: int) -> Iterator[Agent]:
        """Agents of ``group`` available for ``channel``, longest available first."""
        return iter(self._c._avail[group][channel])

    def first_available(self, group: int, channel: int) -> Agent | None:
        """The agent of ``group`` available for ``channel`` the longest, or ``None``."""
        d = self._c._avail[group][channel]
        return next(iter(d)) if d else None

    def available_since(self, agent: AgentInfo, channel: int) -> float:
        """Time since which ``agent`` has been available for ``channel`` (seconds)."""
        return agent.since[channel]  # type: ignore[attr-defined]

    def head(self, queue: int) -> Contact | None:
        """Oldest contact still waiting in ``queue``; contacts whose patience ran out are recorded as abandoned."""
        dq = self._c.queues[queue].contacts
        now = self._c.now
        while dq:
            c = dq[0]
            if c.state != WAITING:
                dq.popleft()
            elif c.deadline_s <= now:
                dq.popleft()
                self._c._abandon(c)
            else:
                return c
        return None

    def waiting(self, queue: int) -> Iterator[Contact]:
        """Contacts still waiting in ``queue``, in arrival order."""
        now = self._c.now
        return (c for c in self._c.queues[queue].contacts if c.state == WAITING and c.deadline_s > now)

    def queue_length(self, queue: int) -> int:
        """Number of contacts still waiting in ``queue``."""
        return sum(1 for _ in self.waiting(queue))

    def live_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Live queues the agent may take a contact from now."""
        c = self._c
        if agent.n_active == 0:
            return c._g_live[agent.group]
        return c._g_live_by_ch[agent.group][agent.active_channel]

    def deferrable_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Deferrable queues the agent may take work from now (idle and under the occupancy cap only)."""
        if agent.n_active == 0 and self.can_blend(agent):
            return self._c._g_deferrable[agent.group]
        return ()

    def can_blend(self, agent: AgentInfo) -> bool:
        """Whether one more busy agent keeps the group's busy share within its occupancy cap."""
        c = self._c
        g = agent.group
        return c._g_busy[g] + 1 <= c._occ_cap[g] * c._g_logged[g] + 1e-9

    def request_review(self, at_s: float) -> None:
        """Offer every available agent to the routing policy again at ``at_s``."""
        env = self._c.env
        _Call(env, max(at_s - env.now, 0.0), self._review, None)  # at_s >= logical now >= env.now

    def _review(self, _event: simpy.Event) -> None:
        c = self._c
        c.now = c.env.now
        for agent in c.agents:
            cap = c._cap[agent.group]
            if agent.state == ON and (agent.n_active == 0 or agent.n_active < cap[agent.active_channel]):
                c._pull(agent)
        c._pump()


def _merge(blocks: list) -> list:
    """Merge overlapping or touching on-duty blocks ``[start, end, breaks]`` (e.g. 24h shifts every day)."""
    merged: list = []
    for start, end, breaks in sorted(blocks, key=lambda b: b[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] + breaks
        else:
            merged.append([start, end, list(breaks)])
    return merged


def run(
    scenario: Scenario,
    *,
    seed: int,
    replication: int = 0,
    log: bool = False,
    base_dir: Path | None = None,
    routing: RoutingPolicy | None = None,
) -> RunResult:
    """Simulate one replication of ``scenario``.

    Args:
        scenario: A validated scenario.
        seed: Base seed; with ``replication`` it determines every random number.
        replication: Replication index.
        log: Keep the per-contact log (``contacts`` frame).
        base_dir: Folder that relative paths in the scenario (replay logs) are resolved against.
        routing: Routing policy; default longest-idle FIFO.

    Returns:
        The replication's frames.

    Example:
        >>> from experiments.io import load_scenario  # doctest: +SKIP
        >>> result = run(load_scenario("erlang_c_textbook")[0], seed=1)  # doctest: +SKIP
    """
    from sim.arrivals import iter_arrivals

    wall = time.perf_counter()
    streams = Streams(seed, replication)
    center = ContactCenter(
        scenario, streams, iter_arrivals(scenario, streams, base_dir=base_dir), routing=routing, log=log
    )
    center.run()
    return center.result(replication, seed, time.perf_counter() - wall)

