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
    * Bot stage (``scenario.bots``, offered by the deflection policy): a session ends resolved, abandoned, as a
      silent failure (the customer may come back later as a repeat contact) or escalated (after the hand-off
      delay the contact joins the human queue with scaled handle time and less patience left).
    * Approvals (``scenario.approvals``): the empowerment policy decides at service start whether the agent
      approves (extra handle time) or escalates: synchronously (at the end of its handle time the agent and the
      customer wait while a team lead of the finite pool approves; the pool has its own FIFO queue) or
      asynchronously (the contact ends ``escalated_async``; a share of customers contact again later).
    * Transfers (``scenario.transfers``): after the first service, a share of an intent's contacts waits for a
      second service by another skill (its queue, same channel, language, priority and tier). That second
      service is not a contact of its own: the contact's row (FRT, first agent) is recorded when it ends, with
      the transfer outcome and wait; its queueing and service count in the time-weighted levels.
    * Reserve agents (reactive staffing): called in when the policy asks, after a delay, for a fixed length,
      paid at the overtime premium.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice, repeat
from pathlib import Path

import numpy as np
import simpy

from sim.arrivals import ArrivalBatch
from sim.config import ReplayArrivals, Scenario
from sim.entities import (
    BREAK,
    DONE,
    DRAINING,
    IN_BOT,
    OFF,
    ON,
    SERVING,
    WAITING,
    Agent,
    Contact,
    QueueState,
    StageContact,
)
from sim.interfaces import (
    AgentInfo,
    ContactInfo,
    DeflectionPolicy,
    EmpowermentPolicy,
    NoDeflection,
    NoEmpowerment,
    RoutingPolicy,
    StaffingPolicy,
)  # fmt: skip
from sim.log import BUSY, LOGGED_IN, ON_BREAK, Recorder
from sim.result import RunResult
from sim.routing import LongestIdleRouting
from sim.schema import OUTCOMES, PRIORITIES, TIERS
from sim.staffing import day_zero_offset_s, night_seconds, template_roster
from sim.streams import Streams

__all__ = ["RESOLUTION_FIELDS", "ContactCenter", "RoutingError", "run"]

_SERVED, _ABANDONED, _CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")
_ESC_ASYNC, _BOT_RESOLVED = OUTCOMES.index("escalated_async"), OUTCOMES.index("bot_resolved")
_BOT_ABANDONED, _SILENT = OUTCOMES.index("bot_abandoned"), OUTCOMES.index("silent_failure")
_IN_BOT = OUTCOMES.index("in_bot")
# Plan actions of an agent.
_LOGIN, _BREAK, _LOGOUT = 0, 1, 2
# Bot endings (Contact.bot) and approval routes (Contact.approval); names in sim.log.BOT_OUTCOMES / APPROVALS.
_B_RESOLVED, _B_ABANDONED, _B_SILENT, _B_ESCALATED = 1, 2, 3, 4
_A_SELF, _A_SYNC, _A_ASYNC = 1, 2, 3
# Transfer outcomes (Contact.transfer); names in sim.log.TRANSFERS.
_T_ANSWERED, _T_ABANDONED, _T_CENSORED = 1, 2, 3
# Fields of Contact.x, drawn at arrival from their own streams (common random numbers across policies).
(
    _X_BOT_U, _X_SESSION, _X_AMOUNT, _X_TL, _X_RECONTACT_U, _X_RECONTACT_DELAY, _X_RETURN_U, _X_RETURN_DELAY,
    _X_BO_DELAY, _X_TRANSFER_U, _X_TRANSFER_HANDLE, _X_TRANSFER_PATIENCE, _X_REPEAT_SEED,
) = range(13)  # fmt: skip
_REPEAT_ID_STEP = 1 << 40
"""A repeat contact's id is its predecessor's id plus this, so first contacts keep their arrival-order ids under
every policy (a contact has at most one repeat: a silent bot failure or a back-office chaser)."""

RESOLUTION_FIELDS: tuple[str, ...] = (
    "bot_offered", "bot_resolved", "bot_escalated", "bot_abandoned", "bot_silent_failure",
    "bot_session_s", "bot_frt_s", "handoff_n", "handoff_s", "approvals", "self_approved", "escalated_sync",
    "escalated_async", "approval_n", "approval_wait_s", "leakage", "repeat_contacts", "first_contacts",
    "first_contact_resolved", "returning", "same_agent", "transfers", "transfer_answered", "transfer_abandoned",
    "transfer_wait_s",
)  # fmt: skip
"""Counters of the ``resolution`` frame (contacts arriving after the warm-up; see :mod:`sim.schema`)."""
(
    _R_BOT_OFFERED, _R_BOT_RESOLVED, _R_BOT_ESCALATED, _R_BOT_ABANDONED, _R_BOT_SILENT, _R_BOT_SESSION,
    _R_BOT_FRT, _R_HANDOFF_N, _R_HANDOFF_S, _R_APPROVALS, _R_SELF, _R_SYNC, _R_ASYNC, _R_APPROVAL_N, _R_APPROVAL_WAIT,
    _R_LEAKAGE, _R_REPEATS, _R_FIRST, _R_FCR, _R_RETURNING, _R_SAME_AGENT, _R_TRANSFERS, _R_TRANSFER_ANSWERED,
    _R_TRANSFER_ABANDONED, _R_TRANSFER_WAIT,
) = range(len(RESOLUTION_FIELDS))  # fmt: skip


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
        deflection: Which contacts go to the channel's bot first (default: none).
        staffing: The roster, and reserve agents for reactive call-ins (default: the scenario's rosters).
        empowerment: Who approves what (default: approvals take no extra time and are never escalated).
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
    ) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.routing = routing if routing is not None else LongestIdleRouting()
        self.deflection = deflection if deflection is not None else NoDeflection()
        self.staffing = staffing
        self.empowerment = empowerment if empowerment is not None else NoEmpowerment()
        for policy in (self.routing, self.deflection, self.staffing, self.empowerment):
            bind = getattr(policy, "bind", None)
            if bind is not None:
                bind(scenario)
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
        self._measure_s = scenario.measure_start_s
        self._res = [[0.0] * len(RESOLUTION_FIELDS) for _ in range(n_ch * 4)]
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
        self._build_stages(streams)

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
        """One queue per channel x intent x language x priority x tier that can occur.

        Urgent queues exist for intents with an ``urgent_share`` and VIP queues when there is a ``vip_share``
        (and for a replayed log that maps a priority or tier column or default), so a scenario without
        priorities keeps one queue per channel x intent x language and its fast paths.
        """
        sc = self.scenario
        arrivals = sc.arrivals
        replay = isinstance(arrivals, ReplayArrivals)
        logged = {f for f in ("priority", "tier") if replay and (f in arrivals.columns or f in arrivals.defaults)}
        tiers = (0, 1) if "tier" in logged or sc.customers.vip_share > 0 else (0,)
        self.queues: list[QueueState] = []
        self._qmap = [-1] * (n_ch * n_int * n_lang * 4)
        for ci, ch in enumerate(self.channels):
            for ii, intent in enumerate(self.intents):
                prios = (0, 1) if "priority" in logged or sc.intents[intent].urgent_share > 0 else (0,)
                skilled = [
                    gi
                    for gi, g in enumerate(self.groups)
                    if ch in sc.groups[g].channels and intent in sc.groups[g].skills
                ]
                for li, lang in enumerate(self.languages):
                    groups = tuple(self.groups.index(g) for g in sc.eligible_groups(ch, intent, lang))
                    fallback = tuple(g for g in skilled if g not in groups)
                    for prio in prios:
                        for tier in tiers:
                            qi = len(self.queues)
                            q = QueueState(qi, ci, ii, li, self._deferrable[ci], groups, prio, tier, fallback)
                            self.queues.append(q)
                            self._qmap[((ci * n_int + ii) * n_lang + li) * 4 + prio * 2 + tier] = qi
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
        # Language fallback: groups with the channel and skill but not the language, when the policy asks for it.
        self._g_fallback_by_ch: list[list[tuple[int, ...]]] = []
        self._g_fallback: list[tuple[int, ...]] = []
        for g in range(len(self.groups)):
            mine = [q for q in self.queues if g in q.fallback_groups and not q.deferrable]
            self._g_fallback_by_ch.append([tuple(q.index for q in mine if q.channel == c) for c in range(n_ch)])
            self._g_fallback.append(tuple(q.index for q in mine))
        if getattr(self.routing, "language_fallback", False):
            self._q_groups = [frozenset(q.groups) | frozenset(q.fallback_groups) for q in self.queues]
        # Fast paths of the default routing, where its choice is trivially the same (see _fast_paths).
        self._q_fast = [-1] * len(self.queues)
        self._g_fast = [-1] * len(self.groups)
        self._g_simple = [-1] * len(self.groups)

    def _build_agents(self, streams: Streams) -> None:
        sc = self.scenario
        roster = self.staffing.roster(sc) if self.staffing is not None else template_roster(sc)
        g_index = {g: i for i, g in enumerate(self.groups)}
        by_group: list[list] = [[] for _ in self.groups]
        for entry in roster:
            if entry.group not in g_index:
                raise ValueError(f"staffing roster names unknown group {entry.group!r}; known: {self.groups}")
            by_group[g_index[entry.group]].append(entry)
        max_day = max((b[0] for e in roster for b in e.blocks), default=0)
        # Same shape as the template roster's day range (-1 .. n_days - 1), so absences are stable across policies.
        n_days = max(max_day + 1, math.ceil((day_zero_offset_s(sc) + self.horizon_s) / 86400.0) + 1)
        self.agents: list[Agent] = []
        self._g_size = [len(entries) for entries in by_group]
        for gi, gname in enumerate(self.groups):
            group = sc.groups[gname]
            # One uniform per (agent, day), drawn whatever the absenteeism so that other groups are unaffected.
            absent_u = streams.get(f"absence/{gname}").random((len(by_group[gi]), n_days + 1))
            for k, entry in enumerate(by_group[gi]):
                agent = Agent(len(self.agents), gi, entry.shift, len(self.channels), k)
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
                merged = _merge(blocks)
                agent.scheduled_s = sum(min(e, self.horizon_s) - max(s, 0.0) for s, e, _ in merged)
                if group.night_premium:
                    agent.night_s = sum(night_seconds(sc, max(s, 0.0), min(e, self.horizon_s)) for s, e, _ in merged)
                self.agents.append(agent)
                if agent.plan:
                    self._schedule_plan(agent)
        # Reserve agents of a reactive staffing policy: off until called in.
        self._reserve: list[list[Agent]] = [[] for _ in self.groups]
        reserve = getattr(self.staffing, "reserve", None)
        if reserve is not None:
            for gname, n in reserve(sc).items():
                gi = g_index[gname]
                for j in range(n):
                    agent = Agent(len(self.agents), gi, "reserve", len(self.channels), self._g_size[gi] + j)
                    agent.reserve = True
                    self.agents.append(agent)
                    self._reserve[gi].append(agent)
            review = self.staffing.review_s  # type: ignore[union-attr]
            _Call(self.env, review, self._on_staff_review, None)

    def _build_stages(self, streams: Streams) -> None:
        """Bots, approvals, team leads, repeat contacts and last-agent memory (all off unless configured)."""
        sc = self.scenario
        self._streams = streams
        self._bots = [sc.bots.get(c) for c in self.channels]
        self._deflect = any(b is not None for b in self._bots) and not isinstance(self.deflection, NoDeflection)
        self._offer = self.deflection.offer
        self._bot_busy = [0] * len(self.channels)
        self._bot_cap = [(b.capacity or math.inf) if b is not None else 0 for b in self._bots]
        self._bot_p = [
            [(b.resolution_for(i), b.abandon, b.silent_failure) for i in self.intents] if b is not None else []
            for b in self._bots
        ]
        self._bot_sessions = [0] * len(self.channels)
        self._bot_resolutions = [0] * len(self.channels)
        self._in_bot: dict[Contact, None] = {}
        self._approvals = bool(sc.approvals)
        self._empower = self._approvals and not isinstance(self.empowerment, NoEmpowerment)
        self._adjust = self.empowerment.adjust
        self._transfer = [
            (sc.transfers[i].share, self.intents.index(sc.transfers[i].to)) if i in sc.transfers else None
            for i in self.intents
        ]
        self._extras = self._deflect or self._approvals or bool(sc.transfers)
        self._tl_free = sc.team_leads.count
        self._tl_queue: deque[Contact] = deque()
        self._tl_busy_s = 0.0
        self._leakage = 0.0
        self.n_repeats = 0
        self._track_last = sc.customers.population is not None or getattr(self.routing, "uses_last_agent", False)
        self._last: dict[int, Agent] = {}
        self._handle = [[sc.intents[i].handle_for(c) for i in self.intents] for c in self.channels]
        self._patience = [[sc.patience_for(c, i) for i in self.intents] for c in self.channels]
        amount = [sc.approvals.get(i) for i in self.intents]
        self._appr_share = np.array([a.share if a else 0.0 for a in amount])
        sigma2 = np.array([math.log1p(a.amount_cv**2) if a else 0.0 for a in amount])
        self._appr_mu = np.array([math.log(a.amount_mean) if a else 0.0 for a in amount]) - sigma2 / 2.0
        self._appr_sigma = np.sqrt(sigma2)

    def _draw_extras(self, batch: ArrivalBatch) -> list[tuple]:
        """Per-contact draws for the bot, approval and repeat stages, one stream each (CRN across policies)."""
        n = len(batch)
        get = self._streams.get
        sc = self.scenario
        session, ret_delay = np.zeros(n), np.zeros(n)
        for ci, bot in enumerate(self._bots):
            m = batch.channel == ci
            k = int(m.sum()) if bot is not None else 0
            if k:
                session[m] = bot.session.sample(get(f"bot/session/{self.channels[ci]}"), k)
                ret_delay[m] = bot.return_delay.sample(get(f"bot/return_delay/{self.channels[ci]}"), k)
        amount, tl = np.zeros(n), np.zeros(n)
        if self._approvals:
            need = get("approval/need").random(n)
            z = get("approval/amount").standard_normal(n)
            i = batch.intent
            amount = np.where(need < self._appr_share[i], np.exp(self._appr_mu[i] + self._appr_sigma[i] * z), 0.0)
            tl = sc.team_leads.handle.sample(get("approval/team_lead"), n)
        t_u, t_handle, t_patience = np.ones(n), np.zeros(n), np.zeros(n)
        if sc.transfers:
            t_u = get("transfer/need").random(n)
            to = np.array([t[1] if t is not None else -1 for t in self._transfer])[batch.intent]
            for ci in range(len(self.channels)):
                for ti in np.unique(to[(batch.channel == ci) & (to >= 0)]):
                    m = (batch.channel == ci) & (to == ti)
                    k = int(m.sum())
                    name = f"{self.channels[ci]}/{self.intents[ti]}"
                    t_handle[m] = self._handle[ci][ti].sample(get(f"transfer/handle/{name}"), k)
                    t_patience[m] = self._patience[ci][ti].sample(get(f"transfer/patience/{name}"), k)
        return list(
            zip(
                get("bot/outcome").random(n).tolist(),
                session.tolist(),
                amount.tolist(),
                tl.tolist(),
                get("back_office/recontact").random(n).tolist(),
                sc.back_office.recontact_delay.sample(get("back_office/recontact_delay"), n).tolist(),
                get("bot/return").random(n).tolist(),
                ret_delay.tolist(),
                sc.back_office.delay.sample(get("back_office/delay"), n).tolist(),
                t_u.tolist(),
                t_handle.tolist(),
                t_patience.tolist(),
                get("repeat/seed").integers(0, 1 << 62, n).tolist(),
                strict=True,
            )
        )

    def _draw_repeat(self, channel: int, intent: int, amount: float, seed: int) -> tuple[float, float, tuple]:
        """Handle time, patience and the draws of :meth:`_draw_extras` for a repeat contact.

        They come from a generator seeded by a number drawn at the predecessor's arrival, so a customer who comes
        back under two policies comes back with the same needs, whatever other repeats happened in between.
        """
        rng = np.random.default_rng(seed)
        handle = float(self._handle[channel][intent].sample(rng, 1)[0])
        patience = float(self._patience[channel][intent].sample(rng, 1)[0])
        sc = self.scenario
        bot = self._bots[channel]
        session = float(bot.session.sample(rng, 1)[0]) if bot is not None else 0.0
        ret_delay = float(bot.return_delay.sample(rng, 1)[0]) if bot is not None else 0.0
        tl = float(sc.team_leads.handle.sample(rng, 1)[0]) if self._approvals else 0.0
        rec_delay = float(sc.back_office.recontact_delay.sample(rng, 1)[0])
        bo_delay = float(sc.back_office.delay.sample(rng, 1)[0])
        t_u, t_handle, t_patience = 1.0, 0.0, 0.0
        transfer = self._transfer[intent]
        if transfer is not None:
            t_u = rng.random()
            t_handle = float(self._handle[channel][transfer[1]].sample(rng, 1)[0])
            t_patience = float(self._patience[channel][transfer[1]].sample(rng, 1)[0])
        x = (rng.random(), session, amount, tl, rng.random(), rec_delay, rng.random(), ret_delay, bo_delay)
        return handle, patience, (*x, t_u, t_handle, t_patience, int(rng.integers(0, 1 << 62)))

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
                        self._draw_extras(batch) if self._extras else repeat(None, len(batch)),
                        strict=True,
                    )
                )
                self._bi, self._bn = 0, len(batch)
                return True
        return False

    def _arrive(self, row: tuple) -> None:
        _, ch, intent, prio, tier, lang, cust, handle, patience, x = row
        qi = self._qmap[((ch * self._n_int + intent) * self._n_lang + lang) * 4 + prio * 2 + tier]
        if qi < 0:
            self._no_queue(ch, intent, prio, tier)
        self.n_arrivals += 1
        if x is None:
            contact = Contact(self._next_id, self.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
            self._next_id += 1
            g = self._q_fast[qi]
            if g < 0:
                self._enqueue(contact)
                return
            # Fast path of _enqueue (one group for the queue, default routing), inline: it runs for most arrivals.
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
        else:
            contact = StageContact(
                self._next_id, self.now, ch, intent, prio, tier, lang, cust, handle, patience, qi,
                x=x, amount=x[_X_AMOUNT],
            )  # fmt: skip
            self._next_id += 1
            self._route_new(contact)

    def _no_queue(self, channel: int, intent: int, priority: int, tier: int) -> None:
        raise ValueError(
            f"a contact of channel {self.channels[channel]!r}, intent {self.intents[intent]!r} is "
            f"{PRIORITIES[priority]}/{TIERS[tier]}, but the scenario has no urgent_share for the intent "
            "(or no vip_share), so there is no such queue"
        )

    def _route_new(self, contact: Contact) -> None:
        """Offer a new contact to its channel's bot if the deflection policy wants and a session is free."""
        ch = contact.channel
        bot_free = self._deflect and self._bots[ch] is not None and self._bot_busy[ch] < self._bot_cap[ch]
        if bot_free and self._offer(contact, self.view):
            self._bot_start(contact)
        else:
            self._enqueue(contact)

    def _enqueue(self, contact: Contact) -> None:
        """Give a contact reaching the human queue to an agent now, or queue it."""
        qi = contact.queue
        g = self._q_fast[qi]
        if g >= 0:
            d = self._avail[g][contact.channel]
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
        if contact.x is not None or self._track_last:
            handle = self._start_extra(agent, contact, handle)
        contact.state = SERVING
        contact.agent = agent
        contact.start_s = now
        contact.handle_s = handle
        env = self.env
        _Call(env, now + handle - env.now, self._on_end, contact)

    def _start_extra(self, agent: Agent, contact: Contact, handle: float) -> float:
        """Service start of a contact with a bot hand-off, an approval, or a customer history; returns the handle."""
        now = self.now
        res = self._res[contact.seg] if contact.arrival_s >= self._measure_s else None
        if contact.bot and res is not None:
            res[_R_HANDOFF_N] += 1
            res[_R_HANDOFF_S] += now - contact.bot_end_s
        if self._track_last and contact.parent is None:  # a transfer's second service is not a return
            last = self._last.get(contact.customer_id)
            if last is not None and res is not None:
                res[_R_RETURNING] += 1
                res[_R_SAME_AGENT] += last is agent
        if contact.amount > 0.0 and self._empower and not contact.approval:
            adj = self._adjust(agent, contact)
            handle += adj.extra_handle_s
            if not adj.escalate:
                contact.approval, route = _A_SELF, _R_SELF
                self._leakage += adj.leakage
            elif adj.synchronous:
                contact.approval, route = _A_SYNC, _R_SYNC
            else:
                contact.approval, route = _A_ASYNC, _R_ASYNC
            if res is not None:
                res[_R_APPROVALS] += 1
                res[route] += 1
                if route == _R_SELF:
                    res[_R_LEAKAGE] += adj.leakage
        return handle

    def _on_end(self, event: simpy.Event) -> None:
        env = self.env
        self.now = env.now
        contact: Contact = event._value
        if contact.approval == _A_SYNC:
            self._hold(contact)  # the agent keeps the customer on hold until a team lead approves
        else:
            self._release(contact)
        bi = self._bi
        if bi >= self._bn or self._batch[bi][0] < env.peek():  # an arrival (or a new batch) is due
            self._pump()

    def _release(self, contact: Contact) -> None:
        """End a service: record the contact, free the agent's slot and give it more work."""
        now = self.now
        agent = contact.agent
        contact.end_s = now
        contact.state = DONE
        contact.outcome = _SERVED
        to = -1
        if contact.x is not None or self._track_last:
            to = self._release_extra(contact, agent)
            if to == -1:
                self._finish(contact)
        else:
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
        if to >= 0:  # the customer now holds for the other skill (the agent's slot is free again)
            self._start_transfer(contact, to)

    def _release_extra(self, contact: Contact, agent: Agent) -> int:
        """Service end of a contact with draws or a history.

        Returns:
            -1 to record the contact now; -2 when it is recorded later (the second service of a transfer ended,
            which records the contact it continues); an intent code to transfer the contact to once the agent's
            slot is free (recorded when that second service ends).
        """
        if self._track_last:
            self._last[contact.customer_id] = agent
        x = contact.x
        if x is None:
            return -1
        if contact.parent is not None:
            self._transfer_done(contact, _T_ANSWERED)
            return -2
        if contact.approval == _A_ASYNC:
            contact.outcome = _ESC_ASYNC
            bo = self.scenario.back_office
            # The customer chases only if the back office has not answered by then.
            if x[_X_RECONTACT_U] < bo.recontact_share and x[_X_RECONTACT_DELAY] < x[_X_BO_DELAY]:
                channel = self.channels.index(bo.recontact_channel) if bo.recontact_channel else contact.channel
                self._schedule_repeat(contact, self.now + x[_X_RECONTACT_DELAY], channel, 0.0)
        transfer = self._transfer[contact.intent]
        if transfer is not None and x[_X_TRANSFER_U] < transfer[0]:
            return transfer[1]
        if contact.arrival_s >= self._measure_s and not contact.repeat:
            res = self._res[contact.seg]
            res[_R_FIRST] += 1
            res[_R_FCR] += contact.approval != _A_ASYNC
        return -1

    # ------------------------------------------------------------------------------------------------ transfers

    def _start_transfer(self, contact: Contact, to: int) -> None:
        """Queue the second service of ``contact`` for intent ``to`` (the customer holds)."""
        x = contact.x
        prio = contact.priority
        base = ((contact.channel * self._n_int + to) * self._n_lang + contact.language) * 4 + contact.tier
        qi = self._qmap[base + prio * 2]
        if qi < 0:  # the target intent has no urgent queue: the transfer waits as normal
            qi = self._qmap[base]
        leg = StageContact(
            contact.id, self.now, contact.channel, to, prio, contact.tier, contact.language, contact.customer_id,
            x[_X_TRANSFER_HANDLE], x[_X_TRANSFER_PATIENCE], qi, x=x,
        )  # fmt: skip
        leg.parent = contact
        leg.repeat = contact.repeat
        self._enqueue(leg)

    def _transfer_done(self, leg: Contact, outcome: int, in_service: bool = False) -> None:
        """The second service ended (answered, abandoned or censored): record it and the contact it continues.

        ``in_service``: answered but still in service at the horizon. Then, and for a transfer still waiting at
        the horizon, the contact does not count as a first contact (resolved or not), like a first service still
        in hand.
        """
        contact = leg.parent
        answered = outcome == _T_ANSWERED
        # Answered: the second agent's answer; abandoned: the end of patience; censored: the horizon.
        answer_s = leg.start_s if answered else (leg.deadline_s if outcome == _T_ABANDONED else self.horizon_s)
        contact.transfer = outcome
        contact.transfer_wait_s = answer_s - leg.queued_s
        group = leg.agent.group if answered else 0
        self.recorder.add_leg(leg.seg, group, leg.queued_s, answer_s, leg.end_s if answered else math.nan, answered)
        if contact.arrival_s >= self._measure_s:
            res = self._res[contact.seg]
            res[_R_TRANSFERS] += 1
            if answered:
                res[_R_TRANSFER_ANSWERED] += 1
                res[_R_TRANSFER_WAIT] += contact.transfer_wait_s
            elif outcome == _T_ABANDONED:
                res[_R_TRANSFER_ABANDONED] += 1
            if not contact.repeat and not in_service and outcome != _T_CENSORED:  # undecided at the horizon
                res[_R_FIRST] += 1
                res[_R_FCR] += answered and contact.approval != _A_ASYNC
        self._finish(contact)

    # ------------------------------------------------------------------------------------ approvals (team leads)

    def _hold(self, contact: Contact) -> None:
        contact.approval_wait_s = self.now  # request time until a team lead takes it
        if self._tl_free > 0:
            self._tl_start(contact)
        else:
            self._tl_queue.append(contact)

    def _tl_start(self, contact: Contact) -> None:
        now = self.now
        self._tl_free -= 1
        contact.approval_wait_s = wait = now - contact.approval_wait_s
        duration = contact.x[_X_TL]
        if contact.arrival_s >= self._measure_s:
            res = self._res[contact.seg]
            res[_R_APPROVAL_N] += 1
            res[_R_APPROVAL_WAIT] += wait
        self._tl_busy_s += max(0.0, min(now + duration, self.horizon_s) - max(now, self._measure_s))
        _Call(self.env, now + duration - self.env.now, self._on_tl_end, contact)

    def _on_tl_end(self, event: simpy.Event) -> None:
        self.now = self.env.now
        self._tl_free += 1
        if self._tl_queue:
            self._tl_start(self._tl_queue.popleft())
        contact: Contact = event._value
        contact.handle_s = self.now - contact.start_s  # the agent's time includes the hold (as in ACD AHT)
        self._release(contact)
        self._pump()

    # ------------------------------------------------------------------------------------------------ bot stage

    def _bot_start(self, contact: Contact) -> None:
        ch = contact.channel
        self._bot_busy[ch] += 1
        self._bot_sessions[ch] += 1
        x = contact.x
        u = x[_X_BOT_U]
        resolve, abandon, silent = self._bot_p[ch][contact.intent]
        duration = x[_X_SESSION]
        if u < resolve:
            kind = _B_RESOLVED
        elif u < resolve + abandon:
            kind = _B_ABANDONED
            duration *= (u - resolve) / abandon  # leaves part-way through (uniform given the draw)
        elif u < resolve + abandon + silent:
            kind = _B_SILENT
        else:
            kind = _B_ESCALATED
        contact.bot = kind
        contact.state = IN_BOT
        self._in_bot[contact] = None
        if self.now >= self._measure_s:
            res = self._res[contact.seg]
            res[_R_BOT_OFFERED] += 1
            res[_R_BOT_SESSION] += duration
            res[_R_BOT_FRT] += min(self._bots[ch].first_reply, duration)
        _Call(self.env, self.now + duration - self.env.now, self._on_bot_end, contact)

    def _on_bot_end(self, event: simpy.Event) -> None:
        now = self.now = self.env.now
        contact: Contact = event._value
        ch = contact.channel
        bot = self._bots[ch]
        self._bot_busy[ch] -= 1
        contact.bot_end_s = now
        kind = contact.bot
        res = self._res[contact.seg] if contact.arrival_s >= self._measure_s else None
        if kind == _B_ESCALATED:
            if res is not None:
                res[_R_BOT_ESCALATED] += 1
            _Call(self.env, bot.handoff, self._on_handoff, contact)
        else:
            del self._in_bot[contact]
            if kind == _B_RESOLVED:
                self._bot_resolutions[ch] += 1
                outcome, counter = _BOT_RESOLVED, _R_BOT_RESOLVED
            elif kind == _B_ABANDONED:
                outcome, counter = _BOT_ABANDONED, _R_BOT_ABANDONED
            else:
                outcome, counter = _SILENT, _R_BOT_SILENT
                u = contact.x[_X_RETURN_U]
                if u < bot.return_share:
                    channel = ch
                    if bot.return_channels:
                        pick = u / bot.return_share * sum(bot.return_channels.values())
                        for name, weight in bot.return_channels.items():
                            channel = self.channels.index(name)
                            pick -= weight
                            if pick < 0.0:
                                break
                    self._schedule_repeat(contact, now + contact.x[_X_RETURN_DELAY], channel, contact.amount)
            if res is not None:
                res[counter] += 1
                if kind != _B_ABANDONED and not contact.repeat:
                    res[_R_FIRST] += 1
                    res[_R_FCR] += kind == _B_RESOLVED
            self._unserved(contact, outcome)
        self._pump()

    def _on_handoff(self, event: simpy.Event) -> None:
        now = self.now = self.env.now
        contact: Contact = event._value
        del self._in_bot[contact]
        bot = self._bots[contact.channel]
        if bot.context:
            handle_f, patience_f = bot.context_handle_factor, bot.context_patience_factor
        else:
            handle_f, patience_f = bot.no_context_handle_factor, bot.no_context_patience_factor
        contact.handle_base_s *= handle_f * bot.escalated_handle_factor
        contact.queued_s = now
        contact.deadline_s = now + contact.patience_s * patience_f
        contact.patience_s = contact.deadline_s - contact.arrival_s  # abandonment wait is counted from arrival
        contact.state = WAITING
        self._enqueue(contact)
        self._pump()

    # ---------------------------------------------------------------------------------------- repeat contacts

    def _schedule_repeat(self, contact: Contact, at_s: float, channel: int, amount: float) -> None:
        if at_s < self.horizon_s:
            _Call(self.env, at_s - self.env.now, self._on_repeat, (contact, channel, amount))

    def _on_repeat(self, event: simpy.Event) -> None:
        """A customer comes back: a new contact with the same customer, intent, priority, tier and language."""
        now = self.now = self.env.now
        orig, ch, amount = event._value
        intent = orig.intent
        handle, patience, x = self._draw_repeat(ch, intent, amount, orig.x[_X_REPEAT_SEED])
        lang, prio, tier = orig.language, orig.priority, orig.tier
        qi = self._qmap[((ch * self._n_int + intent) * self._n_lang + lang) * 4 + prio * 2 + tier]
        contact = StageContact(
            orig.id + _REPEAT_ID_STEP, now, ch, intent, prio, tier, lang, orig.customer_id, handle, patience, qi,
            x=x, amount=amount,
        )  # fmt: skip
        self.n_arrivals += 1
        self.n_repeats += 1
        contact.repeat = 1
        if now >= self._measure_s:
            self._res[contact.seg][_R_REPEATS] += 1
        self._route_new(contact)
        self._pump()

    # ------------------------------------------------------------------------------------- reactive staffing

    def _on_staff_review(self, _event: simpy.Event) -> None:
        now = self.now = self.env.now
        policy = self.staffing
        for g, n in policy.call_in(self.view).items():  # type: ignore[union-attr]
            for agent in self._reserve[g]:
                if n <= 0:
                    break
                if agent.state == OFF and agent.plan_i >= len(agent.plan):
                    start = now + policy.delay_s  # type: ignore[union-attr]
                    end = start + policy.length_s  # type: ignore[union-attr]
                    if start >= self.horizon_s:
                        break
                    agent.plan = [(start, _LOGIN, end)] + ([(end, _LOGOUT, 0.0)] if end < self.horizon_s else [])
                    agent.plan_i = 0
                    agent.callin_s += min(end, self.horizon_s) - start
                    self._schedule_plan(agent)
                    n -= 1
        _Call(self.env, policy.review_s, self._on_staff_review, None)  # type: ignore[union-attr]
        self._pump()

    # Both append the fields of sim.log.STREAM_FIELDS (then LOG_FIELDS) in that order.
    def _finish_stream(self, c: Contact) -> None:
        rec = self.recorder
        rec.buf.extend(
            (c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, c.agent.group, c.queued_s)
        )
        if len(rec.buf) >= rec.limit:
            rec.flush()

    def _finish_log(self, c: Contact) -> None:
        rec = self.recorder
        a = c.agent
        rec.buf.extend(
            (c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, a.group, c.queued_s,
             c.id, c.channel, c.intent, c.priority, c.tier, c.language, c.customer_id, a.id,
             c.repeat, c.bot, c.bot_end_s, c.amount, c.approval, c.approval_wait_s, c.transfer, c.transfer_wait_s)
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
        for c in self._in_bot:  # in a bot session or its hand-off: never reached the human queue
            c.queued_s = horizon
            self._unserved(c, _IN_BOT)
        self._in_bot.clear()
        for c in self._tl_queue:  # still on hold for a team lead: the wait so far (censored at the horizon)
            c.approval_wait_s = horizon - c.approval_wait_s
        for q in self.queues:
            for c in q.contacts:
                if c.state == WAITING:
                    self._unserved(c, _ABANDONED if c.deadline_s < horizon else _CENSORED)
            q.contacts.clear()
        for agent in self.agents:
            for c in agent.hand:
                c.outcome = _SERVED
                c.end_s = math.nan
                if c.parent is not None:
                    self._transfer_done(c, _T_ANSWERED, in_service=True)
                else:
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
        if contact.parent is not None:  # an unanswered transfer: the contact itself was answered before
            contact.state = DONE
            self._transfer_done(contact, _T_ABANDONED if outcome == _ABANDONED else _T_CENSORED)
            return
        contact.state = DONE
        contact.outcome = outcome
        contact.start_s = contact.end_s = contact.handle_s = math.nan
        self._finish(contact)

    # ------------------------------------------------------------------------------------------------ output

    def result(self, replication: int, seed: int, wall_s: float) -> RunResult:
        """Collect the output frames of this replication."""
        rec = self.recorder
        stats = {"n_arrivals": float(self.n_arrivals), "n_recorded": float(rec.n_recorded), "wall_s": wall_s}
        stats.update(self._costs())
        return RunResult(
            replication=replication,
            seed=seed,
            intervals=rec.intervals_frame(replication, self.channels),
            staffing=rec.staffing_frame(replication, self.groups),
            agents=self._agents_frame(replication),
            frt_hist=rec.frt_hist_frame(replication, self.channels),
            contacts=rec.contacts_frame(replication, self.channels, self.intents, self.languages, self.groups),
            resolution=self._resolution_frame(replication),
            stats=stats,
        )

    def _costs(self) -> dict[str, float]:
        """Costs beyond agent pay over the whole run (currency), and team-lead load after the warm-up."""
        sc = self.scenario
        days = self.horizon_s / 86400.0
        bot_cost = 0.0
        if self._deflect:
            for ci, bot in enumerate(self._bots):
                if bot is not None:
                    bot_cost += (
                        self._bot_sessions[ci] * bot.cost_per_session
                        + self._bot_resolutions[ci] * bot.cost_per_resolution
                        + bot.fixed_fee_per_day * days
                    )
        training = getattr(self.empowerment, "training_cost", None)
        training_cost = 0.0
        if training is not None and self._approvals:
            training_cost = sum(training(g) * self._g_size[gi] for gi, g in enumerate(self.groups))
        team_leads = sc.team_leads.count if self._approvals else 0
        return {
            "n_repeats": float(self.n_repeats),
            "bot_cost": bot_cost,
            "training_cost": float(training_cost),
            "leakage_cost": self._leakage,
            "team_lead_cost": team_leads * self.horizon_s / 3600.0 * sc.team_leads.hourly_cost,
            "team_lead_busy_s": self._tl_busy_s,
            "team_lead_paid_s": team_leads * (self.horizon_s - self._measure_s),
        }

    def _resolution_frame(self, replication: int):
        import pandas as pd

        n_seg = len(self._res)
        seg = np.arange(n_seg)
        frame = {
            "replication": np.full(n_seg, replication, dtype=np.int64),
            "channel": pd.Categorical.from_codes(seg // 4, categories=self.channels),
            "priority": pd.Categorical.from_codes((seg // 2) % 2, categories=list(PRIORITIES)),
            "tier": pd.Categorical.from_codes(seg % 2, categories=list(TIERS)),
        }
        values = np.array(self._res, dtype=float).reshape(n_seg, len(RESOLUTION_FIELDS))
        for i, name in enumerate(RESOLUTION_FIELDS):
            frame[name] = values[:, i]
        return pd.DataFrame(frame)

    def _agents_frame(self, replication: int):
        import pandas as pd

        sc = self.scenario
        rows = []
        for a in self.agents:
            g = sc.groups[self.groups[a.group]]
            rate = g.hourly_cost / 3600.0
            cost = rate * (
                a.scheduled_s + a.night_s * g.night_premium + (a.overtime_s + a.callin_s) * g.overtime_premium
            )
            rows.append(
                (replication, a.id, self.groups[a.group], a.shift, a.scheduled_s + a.overtime_s + a.callin_s,
                 a.logged_in_s, a.busy_s, a.break_s, a.logged_in_s - a.busy_s - a.break_s, a.overtime_s,
                 a.callin_s, a.night_s, a.handled, a.absent_shifts, cost)
            )  # fmt: skip
        cols = [
            "replication", "agent_id", "group", "shift", "paid_s", "logged_in_s", "busy_s", "break_s", "idle_s",
            "overtime_s", "callin_s", "night_s", "handled", "absent_shifts", "cost",
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

    @property
    def queues(self) -> list[QueueState]:
        """Every queue, by index."""
        return self._c.queues

    def logged_in(self, group: int) -> int:
        """Agents of ``group`` logged in now."""
        return self._c._g_logged[group]

    def busy(self, group: int) -> int:
        """Agents of ``group`` with at least one contact in hand."""
        return self._c._g_busy[group]

    def group_size(self, group: int) -> int:
        """Agents on the roster of ``group`` (reserve agents not included)."""
        return self._c._g_size[group]

    def is_available(self, agent: AgentInfo, channel: int) -> bool:
        """Whether ``agent`` can take a contact of ``channel`` now."""
        return agent in self._c._avail[agent.group][channel]

    def is_logged_in(self, agent: AgentInfo) -> bool:
        """Whether ``agent`` is on duty now (working, on break, or finishing contacts)."""
        return agent.state != OFF  # type: ignore[attr-defined]

    def last_agent(self, customer_id: int) -> Agent | None:
        """Agent who last served this customer, or ``None``."""
        return self._c._last.get(customer_id)

    def fallback_queues(self, agent: AgentInfo) -> tuple[int, ...]:
        """Live queues the agent has the channel and skill for but not the language."""
        c = self._c
        if agent.n_active == 0:
            return c._g_fallback[agent.group]
        return c._g_fallback_by_ch[agent.group][agent.active_channel]

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

    def heads(self, queues: Iterable[int]) -> list[Contact]:
        """The head of each of ``queues`` that has one (as :meth:`head`), in that order."""
        c = self._c
        qs = c.queues
        now = c.now
        out = []
        for q in queues:
            dq = qs[q].contacts
            while dq:
                h = dq[0]
                if h.state != WAITING:
                    dq.popleft()
                elif h.deadline_s <= now:
                    dq.popleft()
                    c._abandon(h)
                else:
                    out.append(h)
                    break
        return out

    def waiting(self, queue: int) -> Iterator[Contact]:
        """Contacts still waiting in ``queue``, in arrival order."""
        now = self._c.now
        return (c for c in self._c.queues[queue].contacts if c.state == WAITING and c.deadline_s > now)

    def queue_length(self, queue: int, limit: int | None = None) -> int:
        """Number of contacts still waiting in ``queue``, counting up to ``limit`` at most."""
        return sum(1 for _ in islice(self.waiting(queue), limit))

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
    deflection: DeflectionPolicy | None = None,
    staffing: StaffingPolicy | None = None,
    empowerment: EmpowermentPolicy | None = None,
) -> RunResult:
    """Simulate one replication of ``scenario`` with the given policy objects.

    The scenario's ``policies`` section is not read here (``sim`` does not import ``policies``): pass the
    objects, or use ``experiments.simulate_scenario``, which builds the ones the scenario names.

    Args:
        scenario: A validated scenario.
        seed: Base seed; with ``replication`` it determines every random number.
        replication: Replication index.
        log: Keep the per-contact log (``contacts`` frame).
        base_dir: Folder that relative paths in the scenario (replay logs) are resolved against.
        routing: Routing policy; default longest-idle FIFO.
        deflection: Deflection policy; default no bot.
        staffing: Staffing policy; default the scenario's rosters.
        empowerment: Empowerment policy; default approvals never escalated.

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
        scenario,
        streams,
        iter_arrivals(scenario, streams, base_dir=base_dir),
        routing=routing,
        log=log,
        deflection=deflection,
        staffing=staffing,
        empowerment=empowerment,
    )
    center.run()
    return center.result(replication, seed, time.perf_counter() - wall)
