"""A replication's output: open records closed at the horizon, the frames, and the costs beyond agent pay.

The frames are those of :mod:`sim.schema`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import pandas as pd

from sim.engine.arrival_tags import tag_contacts
from sim.engine.resolution import resolution_frame
from sim.engine.staffing_table import TABLE_SHIFT
from sim.entities import TRANSFER_ANSWERED, WAITING, StageContact
from sim.log import BUSY
from sim.result import RunResult
from sim.schema import OUTCOMES

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["close_at_horizon", "result"]

_AGENT_COLUMNS = [
    "replication", "agent_id", "group", "shift", "paid_s", "logged_in_s", "busy_s", "break_s", "idle_s",
    "overtime_s", "callin_s", "night_s", "handled", "absent_shifts", "cost",
]  # fmt: skip


_SERVED, _ABANDONED, _CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")


def close_at_horizon(center: ContactCenter) -> None:
    """Record what is still open at the horizon.

    Contacts in a bot session or hand-off end ``in_bot``; team-lead holds get their wait so far; waiting contacts
    end abandoned (deadline before the horizon) or censored; contacts in service are served with no end time;
    agents' busy, break and login periods close at the horizon.
    """
    horizon = center.horizon_s
    center.bot.close(horizon)
    center.team_leads.close(horizon)
    center.mechanics.close(horizon)
    for dq in center.waiting:
        for c in dq:
            if c.state == WAITING:
                center.unserved(c, _ABANDONED if c.deadline_s < horizon else _CENSORED)
        dq.clear()
    rec = center.recorder
    if center.plans is not None:
        center.plans.close(horizon)
    for agent in center.agents:
        for c in agent.hand:
            c.outcome = _SERVED
            c.end_s = math.nan
            if c.parent is not None:
                center.transfers.done(cast(StageContact, c), TRANSFER_ANSWERED, in_service=True)
            else:
                center.finish(c)
        if agent.n_active:
            agent.busy_s += horizon - agent.busy_since_s
            if center.multi_slot[agent.group]:
                rec.add_period(BUSY, agent.group, agent.busy_since_s, horizon)
        center.shifts.close(agent, horizon)
    rec.flush()


def result(center: ContactCenter, replication: int, seed: int, wall_s: float) -> RunResult:
    """Collect the output frames of a replication that has run."""
    rec = center.recorder
    stats = {"n_arrivals": float(center.n_arrivals), "n_recorded": float(rec.n_recorded), "wall_s": wall_s}
    stats.update(costs(center))
    contacts = rec.contacts_frame(replication, center.channels, center.intents, center.languages, center.groups)
    if contacts is not None:
        tag_contacts(center, contacts)
    if center.outages is not None:
        o = center.outages
        stats.update({"n_lost": float(o.n_lost), "n_moved": float(o.n_moved), "n_retries": float(o.n_retries)})
    return RunResult(
        replication=replication,
        seed=seed,
        intervals=rec.intervals_frame(replication, center.channels),
        staffing=rec.staffing_frame(replication, center.groups),
        agents=agents_frame(center, replication),
        frt_hist=rec.frt_hist_frame(replication, center.channels),
        contacts=contacts,
        resolution=resolution_frame(center.res, center.channels, replication),
        stats=stats,
    )


def costs(center: ContactCenter) -> dict[str, float]:
    """Costs beyond agent pay (scenario currency), and team-lead load after the warm-up (seconds).

    Recurring (``bot_cost``, ``leakage_cost``, ``team_lead_cost``): totals over the whole horizon, warm-up
    included, like the agents' pay. One-off (``training_cost``, ``bot_setup_cost``): paid once, whatever the
    horizon; a bot's set-up counts when the bots are in use (a deflection policy offers contacts), as its fees do.
    """
    sc = center.scenario
    training_cost = 0.0
    if center.scenario.approvals:
        training = center.empowerment.training_cost if center.plans is None else center.plans.training_cost
        training_cost = sum(training(g) * center.shifts.group_size[gi] for gi, g in enumerate(center.groups))
    bot = center.bot
    setup_cost = sum(b.setup_cost for b in bot.bots if b is not None) if bot.active else 0.0
    team_leads = sc.team_leads.count if sc.approvals else 0
    return {
        "n_repeats": float(center.repeats.n),
        "bot_cost": bot.cost(center.horizon_s / 86400.0),
        "training_cost": float(training_cost),
        "bot_setup_cost": float(setup_cost),
        "leakage_cost": center.service_stages.leakage,
        "team_lead_cost": team_leads * center.horizon_s / 3600.0 * sc.team_leads.hourly_cost,
        "team_lead_busy_s": center.team_leads.busy_s,
        "team_lead_paid_s": team_leads * (center.horizon_s - center.measure_s),
    }


def agents_frame(center: ContactCenter, replication: int) -> pd.DataFrame:
    """The ``agents`` frame: per agent, paid, logged-in, busy, break, idle and overtime seconds, and cost."""
    sc = center.scenario
    rows = []
    pay_factor = center.shifts.table_pay_factor
    for a in center.agents:
        g = sc.groups[center.groups[a.group]]
        rate = g.hourly_cost / 3600.0
        # A staffing table's agents are paid for the tabled headcount, not only the available share of it.
        f = pay_factor[a.group] if a.shift == TABLE_SHIFT else 1.0
        scheduled, night = a.scheduled_s * f, a.night_s * f
        cost = rate * (scheduled + night * g.night_premium + (a.overtime_s + a.callin_s) * g.overtime_premium)
        rows.append(
            (replication, a.id, center.groups[a.group], a.shift, scheduled + a.overtime_s + a.callin_s,
             a.logged_in_s, a.busy_s, a.break_s, a.logged_in_s - a.busy_s - a.break_s, a.overtime_s,
             a.callin_s, night, a.handled, a.absent_shifts, cost)
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=_AGENT_COLUMNS)
    frame["group"] = pd.Categorical(frame["group"], categories=center.groups)
    return frame
