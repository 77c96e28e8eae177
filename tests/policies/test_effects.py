"""Each policy's effect, in the direction a WFM analyst predicts, shown by a paired test on common random numbers.

For every effect, replication ``r`` of policy A and of policy B run on the same ``(seed, r)``, so they see the
same customers (arrivals, handle times, patience, bot and approval draws). The statistic is computed per
replication for both, and the Student-t interval of the ``R`` paired differences ``A - B`` must exclude 0 on the
predicted side. No tolerance is hand-picked: the only threshold is 0 and the width comes from the data. Each
check is one of the suite's family (``tests.stats_family``): its two-sided interval has confidence
``1 - ALPHA`` with ``ALPHA = FAMILY_ALPHA / N_CHECKS`` (Bonferroni), so for a fresh seed the chance that a policy
without its effect passes any of these checks is below 1%. Seeds are fixed, so a pass is reproducible.

Each test prints the means of A and B, ``mean difference [CI]`` and the smallest effect the check detects with 80%
power (run ``pytest -s`` to see the figures).
Scenarios are small 24/7 centres simulated for one day (one hour of warm-up) with ``log=False`` unless a figure
needs the contact log (per-intent service level, bot-escalated contacts).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from experiments.measure import replication_metrics
from policies.registry import make
from sim import Scenario, run
from sim.metrics import service_level, service_level_from_contacts
from sim.result import RunResult
from tests.stats_family import ALPHA, check_alpha, detectable, t_interval

pytestmark = pytest.mark.slow

R = 30
SEED = 20261109

Spec = Mapping[str, Any]
Measure = Callable[[RunResult, Scenario], dict[str, float]]


# ------------------------------------------------------------------------------------------------------ helpers


def paired_ci(diff: np.ndarray, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Mean of the paired differences and its two-sided ``1 - alpha`` Student-t interval."""
    return t_interval(diff, alpha)


@dataclass
class Paired:
    """Per-replication values of A and B and their differences ``A - B``, per key."""

    a: dict[str, np.ndarray]
    b: dict[str, np.ndarray]

    @property
    def diff(self) -> dict[str, np.ndarray]:
        return {k: self.a[k] - self.b[k] for k in self.a}


def assert_effect(p: Paired, key: str, sign: int, what: str) -> tuple[float, float, float]:
    """Print the paired difference of ``key`` and require its CI to exclude 0 on the side of ``sign`` (+1, -1)."""
    diff = p.diff[key]
    mean, lo, hi = paired_ci(diff, check_alpha())
    arrow = "rises" if sign > 0 else "falls"
    print(
        f"  {what} ({arrow}): A {p.a[key].mean():.4g} vs B {p.b[key].mean():.4g}; "
        f"diff {mean:+.4g}  CI [{lo:+.4g}, {hi:+.4g}]  R={len(diff)}  s={diff.std(ddof=1):.4g}  "
        f"detectable effect (80% power) {detectable(diff):.4g}"
    )
    ci = f"the {1 - ALPHA:.4%} CI of the difference is [{lo:.4g}, {hi:.4g}]"
    if sign > 0:
        assert lo > 0.0, f"{what}: predicted to rise, but {ci}"
    else:
        assert hi < 0.0, f"{what}: predicted to fall, but {ci}"
    return mean, lo, hi


def policies(**slots: Spec | str) -> dict[str, object]:
    """Policy objects for ``run`` keyword arguments, built once (``bind`` is called by every run)."""
    return {slot: make(slot, spec) for slot, spec in slots.items()}


def compare(
    sc: Scenario,
    a: Mapping[str, object],
    b: Mapping[str, object],
    measure: Measure,
    *,
    log: bool = False,
    reps: int = R,
    sc_b: Scenario | None = None,
) -> Paired:
    """``measure`` of A and of B per replication, paired by ``(SEED, replication)``.

    ``sc_b`` (default ``sc``) lets B differ from A in a scenario field rather than a policy (e.g. a bot's
    ``context``); the named random streams keep the customers identical.
    """
    va: dict[str, list[float]] = {}
    vb: dict[str, list[float]] = {}
    variants = ((va, sc, a), (vb, sc if sc_b is None else sc_b, b))
    for rep in range(reps):
        for values, scen, kwargs in variants:
            for key, value in measure(run(scen, seed=SEED, replication=rep, log=log, **kwargs), scen).items():
                values.setdefault(key, []).append(value)
    out = Paired({k: np.asarray(v) for k, v in va.items()}, {k: np.asarray(v) for k, v in vb.items()})
    for key, values in out.diff.items():
        assert not np.isnan(values).any(), f"{key}: undefined in some replication"
    return out


def kpis(result: RunResult, sc: Scenario, wanted: list[tuple[str, str]]) -> dict[str, float]:
    """``{"metric@scope": value}`` of :func:`experiments.measure.replication_metrics` for the wanted pairs."""
    table = replication_metrics(result, sc).set_index(["metric", "scope"])["value"]
    return {f"{m}@{s}": float(table[(m, s)]) for m, s in wanted}


def scenario(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


def center(**overrides: Any) -> dict[str, Any]:
    """A 24/7 voice centre, one intent, one group on a 24-hour shift; keyword arguments replace top-level keys."""
    data: dict[str, Any] = {
        "name": "effects",
        "start": "2026-11-09T00:00",
        "horizon": "1d",
        "warmup": "1h",
        "channels": {"voice": {"patience": {"dist": "exponential", "mean": "5min"}}},
        "intents": {"general": {"handle": {"dist": "exponential", "mean": "4min"}}},
        "arrivals": {
            "kind": "generated",
            "channels": {"voice": {"daily_volume": 3000, "intent_mix": {"general": 1}}},
        },
        "shifts": {"always": {"start": "00:00", "length": "24h"}},
        "groups": {
            "agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"],
                       "staffing": {"always": 10}},
        },
        "reporting": {"interval": "1h", "sl_thresholds": ["20s", "1min"]},
    }  # fmt: skip
    data.update(copy.deepcopy(overrides))
    return data


# ------------------------------------------------------------------------------------------------------ routing


def test_priority_routing_serves_urgent_and_vip_first_at_the_expense_of_normal():
    """Priority (urgent +5 min, VIP +2 min) vs longest-idle FIFO on one loaded voice queue (~93% occupancy).

    Predicted: urgent and VIP ASA fall and their SL(20 s) rises; normal contacts wait longer (ASA rises).
    """
    data = center()
    data["intents"]["general"]["urgent_share"] = 0.15
    data["customers"] = {"vip_share": 0.1}
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 3350
    sc = scenario(data)
    wanted = [(m, s) for m in ("asa_s", "sl_20s") for s in ("priority=urgent", "tier=vip", "priority=normal")]
    d = compare(
        sc,
        policies(routing={"name": "priority", "params": {"urgent_boost": "5min", "vip_boost": "2min"}}),
        policies(routing="longest_idle"),
        lambda r, s: kpis(r, s, wanted),
    )
    assert_effect(d, "asa_s@priority=urgent", -1, "urgent ASA (s)")
    assert_effect(d, "sl_20s@priority=urgent", +1, "urgent SL 20s")
    assert_effect(d, "asa_s@tier=vip", -1, "VIP ASA (s)")
    assert_effect(d, "sl_20s@tier=vip", +1, "VIP SL 20s")
    assert_effect(d, "asa_s@priority=normal", +1, "normal ASA (s)")


def _strict() -> dict[str, object]:
    """Overflow whose threshold is past any horizon here: backup groups never serve (strict skill groups)."""
    return policies(routing={"name": "overflow", "params": {"after": "30d"}})


def _billing_tech_center() -> dict[str, Any]:
    """Billing's own team is short-staffed; the tech team has billing as a slower second skill."""
    return center(
        intents={"billing": {"handle": {"dist": "exponential", "mean": "4min"}},
                 "tech": {"handle": {"dist": "exponential", "mean": "6min"}}},
        arrivals={"kind": "generated",
                  "channels": {"voice": {"daily_volume": 3000, "intent_mix": {"billing": 1, "tech": 1}}}},
        groups={
            "billing_team": {"channels": ["voice"], "skills": {"billing": 1.0}, "languages": ["en"],
                             "staffing": {"always": 4}},
            "tech_team": {"channels": ["voice"], "skills": {"tech": 1.0, "billing": 1.4}, "languages": ["en"],
                          "staffing": {"always": 9}},
        },
    )  # fmt: skip


def _sl_by_intent(result: RunResult, sc: Scenario) -> dict[str, float]:
    short = {name: ch.short_abandon for name, ch in sc.channels.items()}
    out = {}
    for intent in sc.intents:
        for t in (20.0, 60.0):
            out[f"sl_{t:g}s@intent={intent}"] = service_level_from_contacts(
                result.contacts, t, sc.reporting.sl_convention, short, intent=intent, warmup_s=sc.measure_start_s
            )
    return out


def test_overflow_to_a_backup_group_raises_the_short_staffed_skills_service_level():
    """Overflow after 30 s vs strict skill groups (overflow that never fires) when billing's team is short.

    Predicted: billing SL(20 s) and SL(60 s) rise (tech agents take billing calls that waited 30 s); tech SL falls.
    """
    sc = scenario(_billing_tech_center())
    d = compare(sc, policies(routing={"name": "overflow", "params": {"after": "30s"}}), _strict(), _sl_by_intent,
                log=True)  # fmt: skip
    assert_effect(d, "sl_20s@intent=billing", +1, "billing SL 20s")
    assert_effect(d, "sl_60s@intent=billing", +1, "billing SL 60s")
    assert_effect(d, "sl_20s@intent=tech", -1, "tech SL 20s")


def test_omnichannel_pooling_beats_channel_silos_at_equal_staff():
    """Pooled voice + chat agents vs the same agents split half voice, half chat (silos).

    Predicted: overall SL(20 s) rises and the mean wait of all arrivals falls (one pool of 10 vs two of 5).
    """
    data = center(
        channels={"voice": {"patience": {"dist": "exponential", "mean": "5min"}},
                  "chat": {"concurrency": 2, "inflation": 0.25, "patience": {"dist": "exponential", "mean": "5min"}}},
        arrivals={"kind": "generated",
                  "channels": {"voice": {"daily_volume": 1500, "intent_mix": {"general": 1}},
                               "chat": {"daily_volume": 2200, "intent_mix": {"general": 1}}}},
    )  # fmt: skip
    data["groups"]["agents"]["channels"] = ["voice", "chat"]
    sc = scenario(data)
    wanted = [("sl_20s", "all"), ("mean_wait_all_s", "all"), ("asa_s", "all")]
    d = compare(
        sc,
        policies(routing={"name": "pooling", "params": {"mode": "pooled"}}),
        policies(routing={"name": "pooling", "params": {"mode": "silos"}}),
        lambda r, s: kpis(r, s, wanted),
    )
    assert_effect(d, "sl_20s@all", +1, "overall SL 20s")
    assert_effect(d, "mean_wait_all_s@all", -1, "mean wait of all arrivals (s)")


def test_last_agent_routing_raises_the_same_agent_share_at_some_cost_in_wait():
    """Last-agent routing (hold 1 min for the previous agent) vs longest-idle, 300 customers calling ~10 times a day.

    Predicted: the share of returning customers served by their previous agent rises (from ~1/10); ASA rises.
    """
    sc = scenario(center(customers={"population": 300}))
    wanted = [("same_agent_share", "all"), ("asa_s", "all")]
    d = compare(
        sc,
        policies(routing={"name": "last_agent", "params": {"timeout": "1min"}}),
        policies(routing="longest_idle"),
        lambda r, s: kpis(r, s, wanted),
    )
    assert_effect(d, "same_agent_share@all", +1, "same-agent share")
    assert_effect(d, "asa_s@all", +1, "ASA (s)")


# --------------------------------------------------------------------------------------------------- deflection


def _bot_center(**bot: Any) -> dict[str, Any]:
    """A chat centre (2 chats per agent) loaded near capacity, with a bot that resolves 40% of what it sees."""
    spec = {
        "default_resolution": 0.4,
        "abandon": 0.05,
        "silent_failure": 0.05,
        "return_delay": {"dist": "exponential", "mean": "2h"},
        "context": True,
        "cost_per_session": 0.2,
    }
    spec.update(bot)
    return center(
        channels={"chat": {"concurrency": 2, "inflation": 0.2,
                           "patience": {"dist": "lognormal", "mean": "4min", "cv": 1}}},
        intents={"general": {"handle": {"dist": "lognormal", "mean": "6min", "cv": 0.8}, "urgent_share": 0.2}},
        arrivals={"kind": "generated", "channels": {"chat": {"daily_volume": 3000, "intent_mix": {"general": 1}}}},
        groups={"agents": {"channels": ["chat"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": 8}}},
        bots={"chat": spec},
    )  # fmt: skip


def _workload(result: RunResult, sc: Scenario) -> dict[str, float]:
    agents = result.agents
    out = kpis(result, sc, [("sl_20s", "priority=urgent"), ("sl_1min", "priority=urgent"), ("occupancy", "all")])
    out["busy_h"] = float(agents.busy_s.sum()) / 3600.0
    out["handled"] = float(agents.handled.sum())
    return out


def test_bot_first_with_context_cuts_human_workload_and_urgent_contacts_skipping_it_are_served_faster():
    """Bot first on chat (urgent contacts skip it, context hand-off) vs no bot.

    Predicted: agents' busy hours, contacts handled by humans and occupancy fall (the bot contains 40% of the
    normal contacts); urgent contacts go straight to agents, who are less loaded, so urgent SL(20 s) and
    SL(60 s) rise.
    """
    sc = scenario(_bot_center())
    d = compare(sc, policies(deflection={"name": "bot_first", "params": {"skip_urgent": True}}),
                policies(deflection="none"), _workload)  # fmt: skip
    assert_effect(d, "busy_h", -1, "agent busy hours")
    assert_effect(d, "handled", -1, "contacts handled by humans")
    assert_effect(d, "occupancy@all", -1, "agent occupancy")
    assert_effect(d, "sl_20s@priority=urgent", +1, "urgent SL 20s")
    assert_effect(d, "sl_1min@priority=urgent", +1, "urgent SL 60s")


def _escalated(result: RunResult, sc: Scenario) -> dict[str, float]:
    c = result.contacts
    c = c[(c.arrival_s >= sc.measure_start_s) & (c.bot_outcome == "escalated").to_numpy()]
    queued = c[c.outcome.isin(["served", "abandoned", "censored"]).to_numpy()]
    served = queued[(queued.outcome == "served").to_numpy()]
    return {
        "handle_s": float(served.handle_s.mean()),
        "abandon_rate": float((queued.outcome == "abandoned").mean()),
    }


def test_bot_hand_off_without_context_lengthens_escalated_handle_time_and_raises_their_abandonment():
    """Bot first with a context hand-off vs the same bot without context (the customer repeats everything).

    Predicted: escalated contacts' mean handle time rises (x1.15 instead of x0.85) and so does their abandonment
    (60% of their patience left instead of 90%, and longer queues).
    """
    sc_ctx = scenario(_bot_center(context=True))
    sc_none = scenario(_bot_center(context=False))
    bot = policies(deflection={"name": "bot_first", "params": {"skip_urgent": True}})
    d = compare(sc_none, bot, bot, _escalated, log=True, sc_b=sc_ctx)
    assert_effect(d, "handle_s", +1, "escalated contacts' handle time (s)")
    assert_effect(d, "abandon_rate", +1, "escalated contacts' abandonment rate")


def test_bot_on_wait_offers_fewer_sessions_than_bot_first_and_costs_less():
    """Bot only when the predicted wait exceeds 30 s vs bot first for every chat.

    Predicted: fewer bot sessions and a lower bot cost (per-session pricing).
    """
    sc = scenario(_bot_center())
    wanted = [("bot_offered", "all"), ("bot_cost_per_week", "all")]
    d = compare(sc, policies(deflection={"name": "bot_on_wait", "params": {"threshold": "30s"}}),
                policies(deflection="bot_first"), lambda r, s: kpis(r, s, wanted))  # fmt: skip
    assert_effect(d, "bot_offered@all", -1, "bot sessions")
    assert_effect(d, "bot_cost_per_week@all", -1, "bot cost per week")


# -------------------------------------------------------------------------------------------------- empowerment


def _approval_center() -> dict[str, Any]:
    """40% of calls need a refund approval (mean 80, cv 1); two team leads handle escalations (3 min each)."""
    return center(
        intents={"billing": {"handle": {"dist": "exponential", "mean": "5min"}}},
        arrivals={"kind": "generated",
                  "channels": {"voice": {"daily_volume": 1500, "intent_mix": {"billing": 1}}}},
        groups={"agents": {"channels": ["voice"], "skills": {"billing": 1.0}, "languages": ["en"],
                           "staffing": {"always": 9}}},
        approvals={"billing": {"share": 0.4, "amount_mean": 80, "amount_cv": 1.0}},
        team_leads={"count": 2, "handle": {"dist": "exponential", "mean": "3min"}, "hourly_cost": 40},
    )  # fmt: skip


def test_authority_limit_cuts_escalations_approval_wait_and_team_lead_load():
    """Agents approve up to 100 in the contact vs no authority (every approval goes to the team leads, on hold).

    Predicted: escalation rate, mean approval wait and team-lead occupancy all fall.
    """
    sc = scenario(_approval_center())
    wanted = [("escalation_rate", "all"), ("approval_wait_mean_s", "all"), ("team_lead_occupancy", "all")]
    d = compare(
        sc,
        policies(empowerment={"name": "authority_limit", "params": {"limits": {"agents": 100}}}),
        policies(empowerment={"name": "no_authority", "params": {"synchronous": True}}),
        lambda r, s: kpis(r, s, wanted),
    )
    assert_effect(d, "escalation_rate@all", -1, "escalation rate")
    assert_effect(d, "approval_wait_mean_s@all", -1, "approval wait (s)")
    assert_effect(d, "team_lead_occupancy@all", -1, "team-lead occupancy")


def _sync_share(result: RunResult, sc: Scenario) -> dict[str, float]:
    res = result.resolution
    return {"sync_share": float(res.escalated_sync.sum() / res.approvals.sum())}


def test_tiered_authority_sends_fewer_approvals_to_the_team_leads_than_no_authority():
    """Tiered (agents up to 50, team leads up to 200, back office above) vs no authority (all to team leads).

    Predicted: the share of approvals escalated synchronously to the team leads falls.
    """
    sc = scenario(_approval_center())
    d = compare(
        sc,
        policies(empowerment={"name": "tiered", "params": {"agent_limits": {"agents": 50}, "team_lead_limit": 200}}),
        policies(empowerment={"name": "no_authority", "params": {"synchronous": True}}),
        _sync_share,
    )
    assert_effect(d, "sync_share", -1, "share of approvals escalated to team leads")


# ----------------------------------------------------------------------------------------------------- staffing

_PEAK = ("2026-11-09T10:00", "2026-11-09T14:00")
_PEAK_S = (10 * 3600.0, 14 * 3600.0)


def _peak(result: RunResult, sc: Scenario) -> dict[str, float]:
    iv = result.intervals
    iv = iv[(iv.interval_start_s >= _PEAK_S[0]).to_numpy() & (iv.interval_start_s < _PEAK_S[1]).to_numpy()]
    out = kpis(result, sc, [("labor_cost_per_week", "all"), ("recurring_cost_per_week", "all")])
    out["peak_sl_20s"] = float(service_level(iv, 20.0, sc.reporting.sl_convention))
    out["callin_h"] = float(result.agents.callin_s.sum()) / 3600.0
    return out


def test_reactive_overtime_in_a_promotion_peak_raises_peak_service_level_and_cost():
    """Reserve agents (up to 6, called 2 at a time, 10 min notice, for 4 h at the 1.5 overtime premium) when a
    call has waited 2 min, vs the fixed roster of 10 agents at 30/h, during a 10:00-14:00 promotion that
    multiplies volume by 1.8 (7.2 -> 13 Erlang).

    Predicted: SL(20 s) during the peak rises, and so do labor and recurring cost (call-ins are paid).
    """
    data = center(arrivals={"kind": "generated",
                            "channels": {"voice": {"daily_volume": 2600, "intent_mix": {"general": 1}}},
                            "promotions": [{"start": _PEAK[0], "end": _PEAK[1], "factor": 1.8}]})  # fmt: skip
    data["groups"]["agents"]["hourly_cost"] = 30
    sc = scenario(data)
    reactive = {"reserve": {"agents": 6}, "max_wait": "2min", "review": "5min", "delay": "10min", "length": "4h",
                "step": 2}  # fmt: skip
    d = compare(sc, policies(staffing={"name": "reactive_overtime", "params": reactive}),
                policies(staffing="fixed"), _peak)  # fmt: skip
    assert_effect(d, "peak_sl_20s", +1, "SL 20s during the peak")
    assert_effect(d, "callin_h", +1, "call-in hours")
    assert_effect(d, "labor_cost_per_week@all", +1, "labor cost per week")
    assert_effect(d, "recurring_cost_per_week@all", +1, "recurring cost per week")


def test_erlang_a_staffing_meets_its_service_level_in_more_slices_than_a_flat_roster_of_equal_hours():
    """Erlang A staffing (80% in 20 s per 30-min slice, three 8-hour shifts; it puts 14/14/8 agents on the
    early/late/night shifts) vs a flat fixed roster of 12/12/12: the same 288 paid hours, short at the 12:00-18:00
    peak (14 needed).

    Predicted: the share of hourly intervals whose SL(20 s) reaches 80% rises (and is most of them).
    """
    data = center(
        arrivals={"kind": "generated",
                  "channels": {"voice": {"daily_volume": 2400, "intent_mix": {"general": 1},
                                         "intraday": [1] * 6 + [3] * 6 + [4] * 6 + [2] * 6}}},
        shifts={"early": {"start": "06:00", "length": "8h"}, "late": {"start": "14:00", "length": "8h"},
                "night": {"start": "22:00", "length": "8h"}},
    )  # fmt: skip
    data["groups"]["agents"]["staffing"] = {"early": 12, "late": 12, "night": 12}
    sc = scenario(data)

    def measure(result: RunResult, s: Scenario) -> dict[str, float]:
        iv = result.intervals
        iv = iv[(iv.interval_start_s >= s.measure_start_s).to_numpy()]
        per_interval = [service_level(part, 20.0, s.reporting.sl_convention) for _, part in iv.groupby("interval")]
        met = np.asarray(per_interval) >= 0.8
        return {"share_met": float(met.mean()), **kpis(result, s, [("sl_20s", "all"), ("paid_h", "all")])}

    erlang = policies(staffing={"name": "erlang_a", "params": {"service_level": 0.8, "threshold": "20s",
                                                               "shrinkage": 0.0}})  # fmt: skip
    d = compare(sc, erlang, policies(staffing="fixed"), measure)
    print(f"  paid hours: erlang_a {d.a['paid_h@all'].mean():.4g} vs fixed {d.b['paid_h@all'].mean():.4g}")
    assert_effect(d, "share_met", +1, "share of hourly intervals meeting 80/20")
    assert d.a["share_met"].mean() > 0.5, "erlang_a staffing should meet its target in most intervals"


# ------------------------------------------------------------------------------------- routing (further effects)


def test_least_loaded_spreads_chats_so_fewer_are_slowed_by_concurrency_inflation():
    """Least-loaded vs longest-idle for chat (3 at once, +50% handle time per extra chat) at moderate load.

    Longest-idle keeps giving chats to the agent available longest, who may already hold one or two; least-loaded
    gives them to an agent with none. Predicted: mean chat handle time falls, and so does ASA.
    """
    data = center(
        channels={"chat": {"concurrency": 3, "inflation": 0.5,
                           "patience": {"dist": "lognormal", "mean": "4min", "cv": 1}}},
        intents={"general": {"handle": {"dist": "lognormal", "mean": "5min", "cv": 0.8}}},
        arrivals={"kind": "generated", "channels": {"chat": {"daily_volume": 3300, "intent_mix": {"general": 1}}}},
        groups={"agents": {"channels": ["chat"], "skills": {"general": 1.0}, "languages": ["en"],
                           "staffing": {"always": 10}}},
    )  # fmt: skip
    sc = scenario(data)

    def measure(result: RunResult, s: Scenario) -> dict[str, float]:
        iv = result.intervals
        iv = iv[(iv.interval_start_s >= s.measure_start_s).to_numpy()]
        return {"handle_s": float(iv.handle_s.sum() / iv.answered.sum()),
                **kpis(result, s, [("asa_s", "channel=chat")])}  # fmt: skip

    d = compare(sc, policies(routing="least_loaded"), policies(routing="longest_idle"), measure)
    assert_effect(d, "handle_s", -1, "chat handle time (s)")
    assert_effect(d, "asa_s@channel=chat", -1, "chat ASA (s)")


def test_rebalancing_lets_the_other_team_absorb_a_spike_in_one_queue():
    """Threshold rebalancing (a queue is hot at 5 waiting or a 1-min wait) vs strict primaries, when a promotion
    doubles the sales line from 10:00 to 16:00 (8.3 Erlang on 6 sales agents); each team has the other's skill at a
    1.3 handle-time multiplier.

    Predicted: on the sales line, abandonment and the mean wait fall and SL(3 min) rises; the service line pays
    (its mean wait rises); overall abandonment falls. SL(20 s) of the sales line is not a good test: backups
    take only contacts of a hot queue, which have already waited about a minute.
    """
    patience = {"dist": "exponential", "mean": "5min"}
    both = ["sales_line", "service_line"]
    data = center(
        channels={"sales_line": {"patience": patience}, "service_line": {"patience": patience}},
        intents={"sales": {"handle": {"dist": "exponential", "mean": "4min"}},
                 "service": {"handle": {"dist": "exponential", "mean": "4min"}}},
        arrivals={"kind": "generated",
                  "channels": {"sales_line": {"daily_volume": 1500, "intent_mix": {"sales": 1}},
                               "service_line": {"daily_volume": 1500, "intent_mix": {"service": 1}}},
                  "promotions": [{"start": "2026-11-09T10:00", "end": "2026-11-09T16:00", "factor": 2.0,
                                  "channels": ["sales_line"]}]},
        groups={"sales_team": {"channels": both, "skills": {"sales": 1.0, "service": 1.3}, "languages": ["en"],
                               "staffing": {"always": 6}},
                "service_team": {"channels": both, "skills": {"service": 1.0, "sales": 1.3}, "languages": ["en"],
                                 "staffing": {"always": 6}}},
        reporting={"interval": "1h", "sl_thresholds": ["20s", "3min"]},
    )  # fmt: skip
    sc = scenario(data)
    sales, service = "channel=sales_line", "channel=service_line"
    wanted = [("abandon_rate", sales), ("mean_wait_all_s", sales), ("sl_3min", sales), ("sl_20s", sales),
              ("mean_wait_all_s", service), ("abandon_rate", "all")]  # fmt: skip
    d = compare(sc, policies(routing={"name": "rebalancing", "params": {"max_queue": 5, "max_wait": "1min"}}),
                _strict(), lambda r, s: kpis(r, s, wanted))  # fmt: skip
    assert_effect(d, f"abandon_rate@{sales}", -1, "sales line abandonment rate")
    assert_effect(d, f"mean_wait_all_s@{sales}", -1, "sales line mean wait (s)")
    assert_effect(d, f"sl_3min@{sales}", +1, "sales line SL 3min")
    assert_effect(d, f"mean_wait_all_s@{service}", +1, "service line mean wait (s)")
    assert_effect(d, "abandon_rate@all", -1, "overall abandonment rate")
    mean, lo, hi = paired_ci(d.diff[f"sl_20s@{sales}"])
    print(f"  (sales line SL 20s, not tested: diff {mean:+.4g}  CI [{lo:+.4g}, {hi:+.4g}])")


# -------------------------------------------------------------------------------------- composed routing


def _composed(order: Spec | str = "fifo", *rules: Spec | str) -> dict[str, object]:
    """A ``composed`` routing policy: ``order`` and eligibility ``rules``."""
    return policies(routing={"name": "composed", "params": {"order": order, "eligibility": list(rules)}})


_AGING = {"name": "priority_aging", "urgent_boost": "5min", "vip_boost": "2min"}
_NEVER = {"name": "overflow", "after": "30d"}
"""Overflow past any horizon here: strict skill groups (backup groups never serve)."""


def _idle_h(result: RunResult, group: str) -> float:
    agents = result.agents
    return float(agents.idle_s[(agents.group == group).to_numpy()].sum()) / 3600.0


def test_priority_with_overflow_serves_urgent_first_and_puts_the_backup_group_to_work():
    """Priority with aging plus overflow after 30 s, on the short-staffed billing team with the tech team as
    backup (20% urgent on both intents), against each part without the other.

    Predicted, vs FIFO with the same overflow: urgent ASA falls and urgent SL(20 s) rises. Vs the same priority
    with strict skill groups (overflow that never fires): the backup (tech) team's idle hours fall (it answers
    billing calls that waited 30 s) and billing SL(60 s) rises. (Against priority with every eligible group
    serving at once, overflow would *raise* the tech team's idle time: it holds billing calls back for 30 s.)
    """
    data = _billing_tech_center()
    for spec in data["intents"].values():
        spec["urgent_share"] = 0.2
    sc = scenario(data)
    overflow = {"name": "overflow", "after": "30s"}
    wanted = [("asa_s", "priority=urgent"), ("sl_20s", "priority=urgent")]
    d = compare(sc, _composed(_AGING, overflow), _composed("fifo", overflow), lambda r, s: kpis(r, s, wanted))
    assert_effect(d, "asa_s@priority=urgent", -1, "urgent ASA (s) vs FIFO + overflow")
    assert_effect(d, "sl_20s@priority=urgent", +1, "urgent SL 20s vs FIFO + overflow")

    def backup(result: RunResult, s: Scenario) -> dict[str, float]:
        return {"tech_idle_h": _idle_h(result, "tech_team"), **_sl_by_intent(result, s)}

    d = compare(sc, _composed(_AGING, overflow), _composed(_AGING, _NEVER), backup, log=True)
    assert_effect(d, "tech_idle_h", -1, "backup (tech) team idle hours vs priority with strict groups")
    assert_effect(d, "sl_60s@intent=billing", +1, "billing SL 60s vs priority with strict groups")


def test_sticky_with_priority_keeps_the_last_agent_share_and_still_serves_urgent_first():
    """Sticky last agent (hold 1 min) plus priority with aging, 300 customers calling ~10 times a day, 15% urgent,
    against each part alone.

    Predicted: vs priority alone, the share of returning customers served by their previous agent rises; vs
    sticky with FIFO, urgent ASA falls.
    """
    data = center(customers={"population": 300})
    data["intents"]["general"]["urgent_share"] = 0.15
    data["arrivals"]["channels"]["voice"]["daily_volume"] = 3350
    sc = scenario(data)
    sticky = {"name": "sticky_last_agent", "timeout": "1min"}
    wanted = [("same_agent_share", "all"), ("asa_s", "priority=urgent")]

    def measure(r: RunResult, s: Scenario) -> dict[str, float]:
        return kpis(r, s, wanted)

    d = compare(sc, _composed(_AGING, sticky), _composed(_AGING), measure)
    assert_effect(d, "same_agent_share@all", +1, "same-agent share vs priority alone")
    d = compare(sc, _composed(_AGING, sticky), _composed("fifo", sticky), measure)
    assert_effect(d, "asa_s@priority=urgent", -1, "urgent ASA (s) vs sticky with FIFO")


def test_priority_with_rebalancing_serves_urgent_first_and_absorbs_the_spike():
    """Priority with aging plus threshold rebalancing (hot at 5 waiting or a 1-min wait) in the sales-line spike
    of the rebalancing test (20% urgent), against each part without the other.

    Predicted: vs FIFO with the same rebalancing, urgent ASA falls; vs the same priority with strict skill
    groups, the sales line's abandonment rate falls (the service team absorbs part of the spike).
    """
    patience = {"dist": "exponential", "mean": "5min"}
    both = ["sales_line", "service_line"]
    data = center(
        channels={"sales_line": {"patience": patience}, "service_line": {"patience": patience}},
        intents={"sales": {"handle": {"dist": "exponential", "mean": "4min"}, "urgent_share": 0.2},
                 "service": {"handle": {"dist": "exponential", "mean": "4min"}, "urgent_share": 0.2}},
        arrivals={"kind": "generated",
                  "channels": {"sales_line": {"daily_volume": 1500, "intent_mix": {"sales": 1}},
                               "service_line": {"daily_volume": 1500, "intent_mix": {"service": 1}}},
                  "promotions": [{"start": "2026-11-09T10:00", "end": "2026-11-09T16:00", "factor": 2.0,
                                  "channels": ["sales_line"]}]},
        groups={"sales_team": {"channels": both, "skills": {"sales": 1.0, "service": 1.3}, "languages": ["en"],
                               "staffing": {"always": 6}},
                "service_team": {"channels": both, "skills": {"service": 1.0, "sales": 1.3}, "languages": ["en"],
                                 "staffing": {"always": 6}}},
    )  # fmt: skip
    sc = scenario(data)
    rebalancing = {"name": "rebalancing", "max_queue": 5, "max_wait": "1min"}
    wanted = [("asa_s", "priority=urgent"), ("abandon_rate", "channel=sales_line")]

    def measure(r: RunResult, s: Scenario) -> dict[str, float]:
        return kpis(r, s, wanted)

    d = compare(sc, _composed(_AGING, rebalancing), _composed("fifo", rebalancing), measure)
    assert_effect(d, "asa_s@priority=urgent", -1, "urgent ASA (s) vs FIFO + rebalancing")
    d = compare(sc, _composed(_AGING, rebalancing), _composed(_AGING, _NEVER), measure)
    assert_effect(d, "abandon_rate@channel=sales_line", -1, "sales line abandonment vs priority with strict groups")
