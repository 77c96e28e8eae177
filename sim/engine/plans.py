"""Contingency plans in the engine: when each plan is in force, and what its actions change (see :mod:`sim.plans`).

When: a ``window`` plan starts at its start and ends at its end (SimPy events; at equal times an event comes
before an arrival, so a contact arriving exactly at the start sees the plan, one arriving exactly at the end does
not). An ``outage`` plan is in force during each outage of its channel. A ``queue`` plan is checked every
``check_every`` seconds from time 0: it starts at the first check where its condition holds and ends at the
first check where it does not. Every start and end is logged in :attr:`Plans.events` (time, plan, on/off).

What:

* ``call_in``: extra agents of a group (created at setup, off) log in when the plan starts and log out when it
  ends, finishing what they hold; the time called in is their ``callin_s`` (paid at the overtime premium).
* ``move_agents``: an idle agent of the group (holding nothing) takes the oldest contact of the ``to`` channel
  that has waited at least ``after_wait`` and that the group has the skill and language for; checked when such
  an agent becomes free, when a contact joins a ``to`` queue (and again ``after_wait`` later), and when the plan
  starts. The engine's fast paths are off in a scenario with moves (same results, tested, a little slower).
* ``shift_demand``: a normal-priority arrival on the listed channels is, with probability ``share`` (stream
  ``plan/<name>/shift``), re-scheduled to the next ``after`` time of day plus a uniform ``spread``; it arrives
  then as a new arrival (an outage then applies to it), the same arrival row with its own per-arrival draws
  (wrap-up, mechanics draws, log row: bound when its contact is created, see :mod:`sim.engine.center`); one due
  after the horizon is recorded ``lost`` at once.
* ``policies``: the slot's policy object (built by the runner, passed as ``plan_policies``) replaces the
  scenario's while in force (``routing``, ``deflection``, ``empowerment`` or ``staffing``; a parameter change is
  the same name with other params). Staffing: only the reactive part is switched (:meth:`Shifts.switch
  <sim.engine.shifts.Shifts.switch>`), the roster drawn at the start stays: the replaced policy's review chain
  stops, and a reactive policy put in force reviews at once (at the plan's start; the scenario's again at its end;
  an event at that time, so of two switches at one time only the last one's policy reviews), then every
  ``review_s``; it calls in at most its own ``reserve`` per group (the first agents of the group's pool,
  which holds, from setup, the largest reserve over the scenario's policy and the plans'); a policy that is not
  reactive (e.g. ``fixed``) calls nobody in while in force. Agents already called in stay for their called length;
  cooldowns are per policy object. The plans' staffing policies are bound once at setup
  (:func:`plan_staffing`). Empowerment: a service that starts while the plan is in force is adjusted by the plan's
  policy (its approval route, extra handle time and leakage are fixed at that service start, so leakage is
  charged by the policy that approved); the one-off training cost per group is the largest over the scenario's
  policy and the plans' policies that came into force during the run (:meth:`Plans.training_cost`).

Cost when no plan is configured: nothing (the center builds this only for a scenario with plans).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sim.arrivals.batch import DAY_S, sim_seconds
from sim.defaults import NoEmpowerment
from sim.engine.outages import LOST
from sim.entities import ON, WAITING, Agent, Contact, StageContact
from sim.interfaces import StaffingPolicy
from sim.plans import MoveAgents, Plan
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["Plans", "plan_staffing"]


def plan_staffing(
    scenario: Any, plan_policies: Mapping[str, Mapping[str, Any]] | None
) -> list[StaffingPolicy]:
    """The staffing policies the scenario's plans switch to, in plan order, each bound to ``scenario`` once.

    The center passes them to :class:`~sim.engine.shifts.Shifts`, which sizes the reserve pool from them. A plan
    whose policy is missing is reported by :class:`Plans`.

    Raises:
        TypeError: A plan's staffing policy does not subclass :class:`~sim.interfaces.StaffingPolicy`.
    """
    out: list[StaffingPolicy] = []
    for plan in scenario.plans:
        policy = (plan_policies or {}).get(plan.name, {}).get("staffing")
        if "staffing" not in plan.actions.policies or policy is None:
            continue
        if not isinstance(policy, StaffingPolicy):
            raise TypeError(
                f"plan {plan.name!r}: the staffing policy {type(policy).__name__} must subclass "
                "sim.interfaces.StaffingPolicy"
            )
        policy.bind(scenario)
        out.append(policy)
    return out


class _Move:
    """A ``move_agents`` action, resolved to codes."""

    def __init__(self, center: ContactCenter, move: MoveAgents) -> None:
        sc = center.scenario
        self.group = center.groups.index(move.group)
        self.to = center.channels.index(move.to)
        self.after_wait_s = move.after_wait
        langs = set(sc.groups[move.group].languages)
        skills = sc.groups[move.group].skills
        self.queues = tuple(
            q.index
            for q in center.layout.queues
            if q.channel == self.to
            and center.intents[q.intent] in skills
            and center.languages[q.language] in langs
        )
        """The ``to`` queues this group can take (skill and language)."""
        self.own = tuple(center._g_channels[self.group])


class _PlanState:
    def __init__(self, index: int, plan: Plan) -> None:
        self.index = index
        self.plan = plan
        self.active = False
        self.callin: list[Agent] = []
        self.callin_on_s: list[float] = []
        self.moves: list[_Move] = []
        self.saved: dict[str, Any] = {}


class Plans:
    """The scenario's plans, running on one center.

    Args:
        center: The center (its scenario has plans).
        streams: The replication's named streams.
        plan_policies: Per plan name, per slot, the policy object to use while the plan is in force.
    """

    def __init__(
        self, center: ContactCenter, streams: Streams, plan_policies: Mapping[str, Mapping[str, Any]] | None
    ) -> None:
        self.c = center
        sc = center.scenario
        self.events: list[tuple[float, str, bool]] = []
        """``(time_s, plan name, True on / False off)`` in the order they happened."""
        self.states = [_PlanState(k, p) for k, p in enumerate(sc.plans)]
        self.policies = plan_policies or {}
        for st in self.states:
            missing = set(st.plan.actions.policies) - set(self.policies.get(st.plan.name, {}))
            if missing:
                raise ValueError(
                    f"plan {st.plan.name!r} switches {sorted(missing)}: pass the policy objects as plan_policies "
                    "(experiments.simulate_scenario builds them from the scenario)"
                )
        n_channels = len(center.channels)
        shifts = center.shifts
        for st in self.states:
            for call in st.plan.actions.call_in:
                g = center.groups.index(call.group)
                for _ in range(call.agents):
                    index = shifts.group_size[g] + sum(1 for a in center.agents if a.group == g and a.reserve)
                    agent = Agent(len(center.agents), g, f"plan:{st.plan.name}", n_channels, index)
                    agent.reserve = True
                    center.agents.append(agent)
                    st.callin.append(agent)
            st.moves = [_Move(center, m) for m in st.plan.actions.move_agents]
        self._moving = any(st.moves for st in self.states)
        self.moves_by_group: list[list[_Move]] = [[] for _ in center.groups]
        """Active moves per group."""
        self.moves_by_channel: list[list[_Move]] = [[] for _ in center.channels]
        """Active moves per ``to`` channel."""
        self._shift_rng = {
            st.plan.name: streams.get(f"plan/{st.plan.name}/shift")
            for st in self.states
            if st.plan.actions.shift_demand is not None
        }
        self._shifting: list[_PlanState] = []
        self._switch_routing = any("routing" in st.plan.actions.policies for st in self.states)
        # Hooks, installed once: the engine's own methods are used when no plan needs them.
        if self._moving or self._switch_routing:
            center._q_fast = [-1] * len(center._q_fast)
            center._g_fast = [-1] * len(center._g_fast)
            center._g_simple = [-1] * len(center._g_simple)
        if self._moving:
            self._pull, self._enqueue, self._refresh = center.pull, center.enqueue, center.refresh
            center.pull = self.pull  # type: ignore[method-assign]
            center.enqueue = self.enqueue  # type: ignore[method-assign]
            center.refresh = self.refresh  # type: ignore[method-assign]
        self.shifts_demand = bool(self._shift_rng)
        """Whether a plan shifts demand: then the center installs :meth:`arrive` as its outermost arrival hook."""
        self._arrive = center._arrive  # the arrival inside this hook (set by the center's arrival hooks)
        self.empowerment_used: list[Any] = []
        """Empowerment policies a plan put in force during the run (for the one-off training cost)."""
        self.base_empowerment = center.empowerment
        """The scenario's empowerment policy (``center.empowerment`` may be a plan's while one is in force)."""
        if any("deflection" in st.plan.actions.policies for st in self.states):
            center.bot.active = any(b is not None for b in center.bot.bots)
            center._extras = center._extras or center.bot.active

    def start(self) -> None:
        """Schedule every plan's starts and ends (call after the center is built)."""
        c = self.c
        sc = c.scenario
        horizon = c.horizon_s
        for st in self.states:
            plan = st.plan
            spans: list[tuple[float, float]] = []
            if plan.window is not None:
                spans.append((sim_seconds(sc, plan.window.start), sim_seconds(sc, plan.window.end)))
            elif plan.trigger is not None and plan.trigger.outage is not None:
                spans += [
                    (sim_seconds(sc, o.start), sim_seconds(sc, o.end))
                    for o in getattr(sc.arrivals, "outages", [])
                    if o.channel == plan.trigger.outage
                ]
            else:
                c.at(0.0, self._check, st)
            for lo, hi in spans:
                if hi <= 0.0 or lo >= horizon:
                    continue
                c.at(max(lo, 0.0), self._on, st)
                if hi < horizon:
                    c.at(hi, self._off, st)

    # ------------------------------------------------------------------------------------------------ on / off

    def _check(self, st: _PlanState) -> None:
        trig = st.plan.trigger
        assert trig is not None
        assert trig.queue is not None
        q = trig.queue
        holds = self._queue_over(q.channel, q.intent, q.length_over, q.oldest_wait_over)
        if holds and not st.active:
            self._on(st)
        elif not holds and st.active:
            self._off(st)
        self.c.after(q.check_every, self._check, st)

    def _queue_over(self, channel: str, intent: str | None, length: int | None, wait_s: float | None) -> bool:
        c = self.c
        now = c.now
        ch = c.channels.index(channel)
        ii = c.intents.index(intent) if intent is not None else -1
        n = 0
        oldest = math.inf
        for q in c.layout.queues:
            if q.channel != ch or (ii >= 0 and q.intent != ii):
                continue
            for contact in c.waiting[q.index]:
                if contact.state == WAITING and contact.deadline_s > now:
                    n += 1
                    oldest = min(oldest, contact.queued_s)
        if length is not None:
            return n > length
        assert wait_s is not None
        return n > 0 and now - oldest > wait_s

    def _on(self, st: _PlanState) -> None:
        if st.active:
            return
        c = self.c
        st.active = True
        self.events.append((c.now, st.plan.name, True))
        for slot in st.plan.actions.policies:
            st.saved[slot] = self._swap(slot, self.policies[st.plan.name][slot])
        if st.plan.actions.shift_demand is not None:
            self._shifting.append(st)
        for agent in st.callin:
            st.callin_on_s.append(c.now)
            c.shifts._login(agent, c.horizon_s)  # also when still finishing the last call-in's contacts
        for move in st.moves:
            self.moves_by_group[move.group].append(move)
            self.moves_by_channel[move.to].append(move)
        if st.moves:
            self._sweep(st.moves)

    def _off(self, st: _PlanState) -> None:
        if not st.active:
            return
        c = self.c
        now = c.now
        st.active = False
        self.events.append((now, st.plan.name, False))
        for slot, saved in st.saved.items():
            self._swap(slot, saved)
        st.saved.clear()
        if st in self._shifting:
            self._shifting.remove(st)
        for agent, on_s in zip(st.callin, st.callin_on_s, strict=True):
            agent.callin_s += now - on_s
            agent.block_end_s = now
            c.shifts._logout_due(agent)
        st.callin_on_s.clear()
        for move in st.moves:
            self.moves_by_group[move.group].remove(move)
            self.moves_by_channel[move.to].remove(move)

    def close(self, horizon_s: float) -> None:
        """Count the call-in time of plans still in force at the horizon."""
        for st in self.states:
            if st.active:
                for agent, on_s in zip(st.callin, st.callin_on_s, strict=True):
                    agent.callin_s += horizon_s - on_s

    def _swap(self, slot: str, policy: Any) -> Any:
        """Put ``policy`` in ``slot``; return the one it replaces."""
        c = self.c
        old: Any
        if slot == "staffing":  # bound once at setup (plan_staffing): a bind would reset its cooldowns
            return c.shifts.switch(policy)
        if slot == "routing":
            old = c.routing
            policy.bind(c.scenario)
            c.routing = policy
            c._select_agent = policy.select_agent
            c._select_contact = policy.select_contact
            c._guard = True
            # The new rule asks for its own review times for the contacts already waiting (e.g. overflow's
            # ``queued_s + after``); its answer is not used here: the review now offers every available agent the
            # waiting work under the new rule at once.
            view, now = c.view, c.now
            for dq in c.waiting:
                for contact in list(dq):
                    if contact.state == WAITING and contact.deadline_s > now:
                        policy.select_agent(contact, view)
            if c.stale:
                c.compact()
            c.request_review(now)
            return old
        if slot == "empowerment":
            old = c.empowerment
            policy.bind(c.scenario)
            c.empowerment = policy
            stages = c.service_stages
            stages._adjust = policy.adjust
            stages._empower = bool(c.scenario.approvals) and not isinstance(policy, NoEmpowerment)
            if policy is not self.base_empowerment and policy not in self.empowerment_used:
                self.empowerment_used.append(policy)
            return old
        old = c.deflection
        policy.bind(c.scenario)
        c.deflection = policy
        c.bot._offer = policy.offer
        return old

    def training_cost(self, group: str) -> float:
        """One-off training cost per agent of ``group`` (currency).

        The largest over the scenario's empowerment policy and every one a plan put in force during the run: an
        agent is trained once, for the widest authority it is given.
        """
        return max(p.training_cost(group) for p in (self.base_empowerment, *self.empowerment_used))

    # ------------------------------------------------------------------------------------------ move agents

    def pull(self, agent: Agent) -> None:
        """The center's ``pull``, then work of a channel the agent's group was moved to."""
        self._pull(agent)
        if self.moves_by_group[agent.group] and agent.state == ON and agent.n_active == 0:
            self._take(agent)

    def refresh(self, agent: Agent) -> None:
        """The center's ``refresh``; an agent holding a moved contact is available for nothing else."""
        self._refresh(agent)
        c = self.c
        if agent.n_active and agent.active_channel not in c._g_channels[agent.group]:
            for d in c.avail[agent.group]:
                d.pop(agent, None)

    def enqueue(self, contact: Contact) -> None:
        """The center's ``enqueue``; a contact left waiting on a ``to`` channel may go to a moved agent."""
        self._enqueue(contact)
        if contact.state == WAITING and self.moves_by_channel[contact.channel]:
            self._waiting(contact)

    def _waiting(self, contact: Contact) -> None:
        c = self.c
        for move in self.moves_by_channel[contact.channel]:
            if contact.queue not in move.queues:
                continue
            due = contact.queued_s + move.after_wait_s
            if due > c.now:
                c.at(due, self._due, contact)
            elif self._give(contact, move):
                return

    def _due(self, contact: Contact) -> None:
        if contact.state != WAITING or contact.deadline_s <= self.c.now:
            return
        for move in self.moves_by_channel[contact.channel]:
            waited = self.c.now - contact.queued_s >= move.after_wait_s - 1e-9
            if contact.queue in move.queues and waited and self._give(contact, move):
                return

    def _give(self, contact: Contact, move: _Move) -> bool:
        """Give a waiting contact to the longest-available idle agent of the moved group, if any."""
        c = self.c
        for ch in move.own:
            for agent in c.avail[move.group][ch]:
                if agent.n_active == 0 and agent.state == ON:
                    c._start(agent, contact)
                    c.refresh(agent)
                    return True
        return False

    def _take(self, agent: Agent) -> bool:
        """An idle agent of a moved group takes the oldest eligible contact that has waited long enough."""
        c = self.c
        now = c.now
        best: Contact | None = None
        for move in self.moves_by_group[agent.group]:
            for q in move.queues:
                head = c.head(q)
                if head is None or now - head.queued_s < move.after_wait_s - 1e-9:
                    continue
                if best is None or head.queued_s < best.queued_s:
                    best = head
        if best is None:
            return False
        dq = c.waiting[best.queue]
        if dq and dq[0] is best:
            dq.popleft()
        c._start(agent, best)
        c.refresh(agent)
        return True

    def _sweep(self, moves: list[_Move]) -> None:
        """At a plan's start: idle agents of the moved groups take what qualifies; the rest get due checks."""
        c = self.c
        for move in moves:
            for ch in move.own:
                for agent in list(c.avail[move.group][ch]):
                    if agent.n_active == 0 and agent.state == ON:
                        self._take(agent)
            for q in move.queues:
                for contact in c.waiting[q]:
                    if contact.state == WAITING and contact.queued_s + move.after_wait_s > c.now:
                        c.at(contact.queued_s + move.after_wait_s, self._due, contact)

    # ----------------------------------------------------------------------------------------- shift demand

    def arrive(self, row: tuple) -> None:
        """An arrival row: asked to come back later while a ``shift_demand`` plan is in force, else as usual."""
        c = self.c
        for st in self._shifting:
            shift = st.plan.actions.shift_demand
            assert shift is not None
            ch, prio = row[1], row[3]
            if prio != 0 or (shift.channels is not None and c.channels[ch] not in shift.channels):
                continue
            rng = self._shift_rng[st.plan.name]
            if rng.random() >= shift.share:
                continue
            at = self._next_time_of_day(shift.after) + shift.spread * rng.random()
            if at < c.horizon_s:
                c.at(at, self._arrive, row)
            else:
                self._lose(row)
            return
        self._arrive(row)

    def _next_time_of_day(self, time_of_day_s: float) -> float:
        """Simulation seconds of the next moment (now or later) the clock reads ``time_of_day_s``."""
        c = self.c
        start = c.scenario.start
        offset = start.hour * 3600.0 + start.minute * 60.0 + start.second
        clock = (offset + c.now) % DAY_S
        wait = (time_of_day_s - clock) % DAY_S
        return c.now + wait

    def _lose(self, row: tuple) -> None:
        c = self.c
        c._bind_row(row)  # the row's per-arrival values (wrap-up, log row, mechanics draws) go to this contact
        _, ch, intent, prio, tier, lang, cust, handle, patience, x, qi = row
        c.n_arrivals += 1
        args = (c._next_id, c.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
        contact = Contact(*args) if x is None else StageContact(*args, x=x, amount=x.amount)
        c._next_id += 1
        c.unserved(contact, LOST)
