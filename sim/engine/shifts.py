"""Agents' shifts: the roster made into individual agents with plans (login, breaks, logout), and call-ins.

Semantics (DESIGN §3): at a break or at the shift end an agent first finishes the contacts in hand (draining),
then takes the break or logs out; time past the shift end is overtime. Breaks are cut at the shift end.
Absenteeism: each scheduled agent-day is missed with the group's probability, one uniform per (agent, day) drawn
whatever the probability, so other groups are unaffected. Reserve agents (reactive staffing) stay off until the
staffing policy calls them in, after its delay and for its length, paid at the overtime premium.

A contingency plan may switch the staffing policy mid-run (:meth:`Shifts.switch`): only its reactive part changes
(reviews, triggers, delay, length, step, reserve sizes); the roster stays the one drawn at the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.engine.staffing_table import table_roster
from sim.entities import BREAK, DRAINING, OFF, ON, Agent
from sim.interfaces import StaffingPolicy
from sim.log import LOGGED_IN, ON_BREAK
from sim.roster import day_zero_offset_s, night_seconds, template_roster
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["Shifts", "merge_blocks"]

# Plan actions of an agent.
_LOGIN, _BREAK, _LOGOUT = 0, 1, 2


class Shifts:
    """Builds the agents of a replication and runs their plans on the center's dispatcher.

    Args:
        center: The contact center (its clock, dispatcher and routing of freed agents).
        staffing: The staffing policy, or ``None`` for the scenario's template rosters.
        streams: Named random streams of this replication (absences).
        plan_staffing: Staffing policies that contingency plans switch to (bound); their reserves size the pool of
            reserve agents, their rosters are never used.
    """

    def __init__(
        self,
        center: ContactCenter,
        staffing: StaffingPolicy | None,
        streams: Streams,
        plan_staffing: Sequence[StaffingPolicy] = (),
    ) -> None:
        self.c = center
        self.staffing = staffing
        sc = center.scenario
        self.horizon_s = sc.horizon
        groups = center.groups
        roster = staffing.roster(sc) if staffing is not None else template_roster(sc)
        # Groups' staffing tables add their agents on top of the roster (sim.engine.staffing_table).
        table_agents, factors = table_roster(sc)
        roster = [*roster, *table_agents] if table_agents else roster
        self.table_pay_factor = [factors.get(g, 1.0) for g in groups]
        """Per group, paid / scheduled time of its staffing-table agents (1.0 without a table)."""
        g_index = {g: i for i, g in enumerate(groups)}
        by_group: list[list] = [[] for _ in groups]
        for entry in roster:
            if entry.group not in g_index:
                raise ValueError(f"staffing roster names unknown group {entry.group!r}; known: {groups}")
            by_group[g_index[entry.group]].append(entry)
        max_day = max((b[0] for e in roster for b in e.blocks), default=0)
        # Same shape as the template roster's day range (-1 .. n_days - 1), so absences are stable across policies.
        n_days = max(max_day + 1, math.ceil((day_zero_offset_s(sc) + self.horizon_s) / 86400.0) + 1)
        n_channels = len(center.channels)
        self.agents: list[Agent] = []
        self.group_size = [len(entries) for entries in by_group]
        """Agents on each group's roster (reserve agents not included)."""
        for gi, gname in enumerate(groups):
            group = sc.groups[gname]
            absent_u = streams.get(f"absence/{gname}").random((len(by_group[gi]), n_days + 1))
            for k, entry in enumerate(by_group[gi]):
                agent = Agent(len(self.agents), gi, entry.shift, n_channels, k)
                blocks = []
                for day, start, end, breaks in entry.blocks:
                    if end <= 0.0 or start >= self.horizon_s:
                        continue
                    # Days before the start's eve share the eve's draw (only whether the block runs matters).
                    if absent_u[k, max(day, -1) + 1] < group.absenteeism:
                        agent.absent_shifts += 1
                        continue
                    blocks.append([start, end, list(breaks)])
                agent.plan = self._plan(blocks)
                merged = merge_blocks(blocks)
                agent.scheduled_s = sum(min(e, self.horizon_s) - max(s, 0.0) for s, e, _ in merged)
                if group.night_premium:
                    agent.night_s = sum(night_seconds(sc, max(s, 0.0), min(e, self.horizon_s)) for s, e, _ in merged)
                self.agents.append(agent)
        self.past_plans: list[tuple[Agent, list[tuple[float, int, float]]]] = []
        """Plans a call-in replaced (a reserve agent's plan is its latest call-in): with each agent's ``plan``,
        every block an agent was scheduled for (see :meth:`blocks`)."""
        # Reserve agents of reactive staffing policies: off until called in. A group's pool is the largest reserve
        # over the scenario's policy and the plans' (the scenario's groups first, in its order: without plans that
        # switch staffing, the same agents as with the scenario's policy alone).
        self.reserve: list[list[Agent]] = [[] for _ in groups]
        """Per group, the pool of reserve agents (ids after the roster's)."""
        self._reactive = staffing is not None and staffing.review_s > 0.0
        self._g_index = g_index
        pool: dict[str, int] = {}
        for policy in (staffing, *plan_staffing):
            for gname, n in self._reserve_of(policy).items():
                pool[gname] = max(pool.get(gname, 0), n)
        for gname, n in pool.items():
            gi = g_index[gname]
            for j in range(n):
                agent = Agent(len(self.agents), gi, "reserve", n_channels, self.group_size[gi] + j)
                agent.reserve = True
                self.agents.append(agent)
                self.reserve[gi].append(agent)
        self._limit = self._limits(staffing)
        """Per group, how many of the pool the policy in force may use (its own reserve: the pool's first ones)."""
        self._generation = 0
        """Bumped at each switch: a pending review of the replaced policy's chain then does nothing."""

    def start(self) -> None:
        """Schedule every agent's plan, and the first staffing review of a reactive policy."""
        for agent in self.agents:
            if agent.plan:
                self._schedule_plan(agent)
        if self._reactive:
            assert self.staffing is not None
            self.c.after(self.staffing.review_s, self._on_review, self._generation)

    def blocks(self) -> tuple[dict[int, set[tuple[float, float]]], dict[int, set[tuple[float, float]]]]:
        """Every on-duty block ``(login_s, block_end_s)`` and break ``(at_s, length_s)`` planned, by agent id.

        Absent days are not in them; reserve agents' blocks are their call-ins. For checks and traces.
        """
        logins: dict[int, set[tuple[float, float]]] = {a.id: set() for a in self.agents}
        breaks: dict[int, set[tuple[float, float]]] = {a.id: set() for a in self.agents}
        for agent, plan in [*self.past_plans, *((a, a.plan) for a in self.agents)]:
            for at, action, arg in plan:
                if action == _LOGIN:
                    logins[agent.id].add((at, arg))
                elif action == _BREAK:
                    breaks[agent.id].add((at, arg))
        return logins, breaks

    def _plan(self, blocks: list) -> list[tuple[float, int, float]]:
        plan: list[tuple[float, int, float]] = []
        for start, end, breaks in merge_blocks(blocks):
            end_c = min(end, self.horizon_s)
            plan.append((max(start, 0.0), _LOGIN, end))
            for at, length in sorted(breaks):
                if 0.0 <= at < end_c:
                    plan.append((at, _BREAK, length))
            if end < self.horizon_s:
                plan.append((end, _LOGOUT, 0.0))
        return plan

    # ----------------------------------------------------------------------------------------------- plans

    def _schedule_plan(self, agent: Agent) -> None:
        at = agent.plan[agent.plan_i][0]
        event_s = self.c.event_s
        self.c.at(at if at > event_s else event_s, self._on_plan, agent)  # plans run on SimPy events only

    def _on_plan(self, agent: Agent) -> None:
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

    def _login(self, agent: Agent, block_end_s: float) -> None:
        c = self.c
        if agent.state != OFF:
            # Still finishing the previous block's contacts (overtime) when the next block starts.
            self._close_overtime(agent)
            agent.block_end_s = block_end_s
            agent.pending = 0
            agent.state = ON
            c.pull(agent)
            return
        agent.block_end_s = block_end_s
        agent.state = ON
        agent.login_s = c.now
        c.g_logged[agent.group] += 1
        c.pull(agent)

    def _break_due(self, agent: Agent, length_s: float) -> None:
        if agent.state != ON:
            return
        if agent.n_active == 0:
            self._start_break(agent, length_s)
        else:
            agent.state = DRAINING
            agent.pending = _BREAK
            agent.break_since_s = length_s  # remembered length until the break can start
            self.c.refresh(agent)

    def _start_break(self, agent: Agent, length_s: float) -> None:
        c = self.c
        now = c.now
        end = min(now + length_s, agent.block_end_s)
        if end <= now:
            agent.state = ON
            c.pull(agent)
            return
        agent.state = BREAK
        agent.break_since_s = now
        agent.epoch += 1
        c.refresh(agent)
        c.at(end, self._on_break_end, (agent, agent.epoch))

    def _on_break_end(self, arg: tuple[Agent, int]) -> None:
        agent, epoch = arg
        if agent.state == BREAK and agent.epoch == epoch:
            self._end_break(agent)
            agent.state = ON
            self.c.pull(agent)

    def _end_break(self, agent: Agent) -> None:
        now = self.c.now
        agent.break_s += now - agent.break_since_s
        self.c.recorder.add_period(ON_BREAK, agent.group, agent.break_since_s, now)

    def _logout_due(self, agent: Agent) -> None:
        if agent.state == BREAK:
            self._end_break(agent)
            agent.state = ON
        if agent.n_active == 0:
            self._logout(agent)
        else:
            agent.state = DRAINING
            agent.pending = _LOGOUT
            self.c.refresh(agent)

    def drained(self, agent: Agent) -> None:
        """A draining agent finished its last contact: take the pending break, or log out."""
        if agent.pending == _BREAK:
            agent.pending = 0
            self._start_break(agent, agent.break_since_s)
        else:
            self._close_overtime(agent)
            self._logout(agent)

    def _close_overtime(self, agent: Agent) -> None:
        if agent.pending == _LOGOUT:
            agent.overtime_s += self.c.now - agent.block_end_s

    def _logout(self, agent: Agent) -> None:
        c = self.c
        now = c.now
        agent.state = OFF
        agent.pending = 0
        c.refresh(agent)
        agent.logged_in_s += now - agent.login_s
        c.g_logged[agent.group] -= 1
        c.recorder.add_period(LOGGED_IN, agent.group, agent.login_s, now)

    # -------------------------------------------------------------------------------------- reactive staffing

    def _reserve_of(self, policy: StaffingPolicy | None) -> dict[str, int]:
        """A reactive policy's reserve per group name (``{}`` for ``None`` or a policy that is not reactive)."""
        if policy is None or policy.review_s <= 0.0:
            return {}
        reserve = dict(policy.reserve(self.c.scenario))
        for gname in reserve:
            if gname not in self._g_index:
                raise ValueError(f"staffing reserve names unknown group {gname!r}; known: {self.c.groups}")
        return reserve

    def _limits(self, policy: StaffingPolicy | None) -> list[int]:
        limit = [0] * len(self.reserve)
        for gname, n in self._reserve_of(policy).items():
            limit[self._g_index[gname]] = n
        return limit

    def switch(self, policy: StaffingPolicy | None) -> StaffingPolicy | None:
        """Put ``policy``'s reactive part in force now (a plan starts or ends); return the policy it replaces.

        The replaced policy's review chain stops (its pending review does nothing). If ``policy`` is reactive, it
        reviews at once: at this time, after the other events already due now and before arrivals at this time
        (so when one plan ends as another starts, only the policy that ends up in force reviews), then every
        ``review_s`` seconds. It calls in at most its own ``reserve`` of a group: only the first ``reserve[g]``
        agents of the group's pool, so no more than that many of them are on call at once. A policy that is not
        reactive calls nobody in. Agents already called in stay for the length they were called for. The roster
        is not touched; ``policy`` must be bound.
        """
        old = self.staffing
        self.staffing = policy
        self._generation += 1
        self._limit = self._limits(policy)
        if policy is not None and policy.review_s > 0.0:
            self.c.at(self.c.now, self._on_review, self._generation)
        return old

    def _on_review(self, generation: int) -> None:
        if generation != self._generation:
            return  # the review chain of a policy a plan switched out (or back out)
        c = self.c
        now = c.now
        policy = self.staffing
        assert policy is not None
        calls = policy.call_in(c.view)
        if c.stale:
            c.compact()
        limit = self._limit
        for g, n in calls.items():
            for agent in self.reserve[g][: limit[g]]:
                if n <= 0:
                    break
                if agent.state == OFF and agent.plan_i >= len(agent.plan):
                    start = now + policy.delay_s
                    end = start + policy.length_s
                    if start >= self.horizon_s:
                        break
                    if agent.plan:
                        self.past_plans.append((agent, agent.plan))
                    agent.plan = [(start, _LOGIN, end)] + ([(end, _LOGOUT, 0.0)] if end < self.horizon_s else [])
                    agent.plan_i = 0
                    agent.callin_s += min(end, self.horizon_s) - start
                    self._schedule_plan(agent)
                    n -= 1
        c.after(policy.review_s, self._on_review, generation)

    # ---------------------------------------------------------------------------------------------- horizon

    def close(self, agent: Agent, horizon_s: float) -> None:
        """Close the agent's open break and login periods at the horizon (the center closes its busy time)."""
        rec = self.c.recorder
        if agent.state == BREAK:
            agent.break_s += horizon_s - agent.break_since_s
            rec.add_period(ON_BREAK, agent.group, agent.break_since_s, horizon_s)
        if agent.state != OFF:
            if agent.pending == _LOGOUT:
                agent.overtime_s += horizon_s - agent.block_end_s
            agent.logged_in_s += horizon_s - agent.login_s
            rec.add_period(LOGGED_IN, agent.group, agent.login_s, horizon_s)


def merge_blocks(blocks: list) -> list:
    """Merge overlapping or touching on-duty blocks ``[start, end, breaks]`` (e.g. 24h shifts every day)."""
    merged: list = []
    for start, end, breaks in sorted(blocks, key=lambda b: b[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = merged[-1][2] + breaks
        else:
            merged.append([start, end, list(breaks)])
    return merged
