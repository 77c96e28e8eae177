"""Empowerment policies: the adjustment for each amount on fake agents and contacts, the route each approval
takes in the engine (with exact handle times), leakage and training costs, and bind-time checks.

Approval amounts are drawn by the engine from their own streams, so they are the same whatever the policy
(common random numbers): the engine tests read them from a first run and put the authority limits exactly on
drawn amounts, which checks the boundary (an amount equal to the limit is self-approved) inside the engine.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import scenario_from_dict
from policies.empowerment import AuthorityLimit, NoAuthority, TieredAuthority
from policies.registry import PolicyError, make
from sim.interfaces import ServiceAdjustment
from tests.sim.conftest import batch, scenario, simulate

HANDLE = 100.0
TL_S = 60.0


def _group(n):
    return {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": n}}


def approval_scenario(share=1.0, **top):
    """Voice, one intent (100 s fixed) needing approvals; ``agents`` (3) and ``seniors`` (2); one team lead (60 s)."""
    top.setdefault("groups", {"agents": _group(3), "seniors": _group(2)})
    top.setdefault("team_leads", {"count": 1, "handle": {"dist": "fixed", "value": "60s"}, "hourly_cost": 40})
    return scenario(
        intents={"general": {"handle": {"dist": "fixed", "value": "100s"}}},
        approvals={"general": {"share": share, "amount_mean": 80.0, "amount_cv": 1.0}},
        back_office={"recontact_share": 0.0},
        **top,
    )


def policy(name, sc=None, **params):
    p = make("empowerment", {"name": name, "params": params})
    p.bind(sc if sc is not None else approval_scenario())
    return p


def agent(group):
    return SimpleNamespace(group=group)


def contact(amount):
    return SimpleNamespace(amount=amount)


SPACED = np.arange(60) * 1000.0
"""Contacts 1000 s apart: nobody waits for an agent or a team lead."""


def run_with(p, times=SPACED, sc=None, **kw):
    res = simulate(sc if sc is not None else approval_scenario(), [batch(times)], empowerment=p, **kw)
    return res, res.contacts.sort_values("contact_id").reset_index(drop=True)


def amounts(times=SPACED, sc=None, group=None) -> np.ndarray:
    """The amounts the engine draws for these arrivals (the same under every policy), of contacts ``group`` served."""
    c = run_with(policy("no_authority"), times, sc)[1]
    return c.loc[c["group"] == group if group else slice(None), "amount"].to_numpy()


# ---------------------------------------------------------------------------------------------- no_authority


@pytest.mark.parametrize("synchronous", [True, False])
def test_no_authority_escalates_every_amount(synchronous):
    p = policy("no_authority", synchronous=synchronous, escalation_handle="2min")
    assert isinstance(p, NoAuthority)
    for amount in (0.01, 1.0, 1e6):
        assert p.adjust(agent(0), contact(amount)) == ServiceAdjustment(extra_handle_s=120.0, escalate=True, synchronous=synchronous)
    assert p.training_cost("agents") == 0.0


def test_no_authority_synchronous_holds_agent_and_customer_for_the_team_lead():
    p = policy("no_authority", synchronous=True, escalation_handle="1min")
    res, c = run_with(p, times=[0.0, 0.0, 0.0])
    # Each agent works 100 + 60 s, then the single team lead approves them one after the other (60 s each).
    assert (c["approval"] == "team_lead").all()
    np.testing.assert_allclose(sorted(c["approval_wait_s"]), [0.0, 60.0, 120.0])
    np.testing.assert_allclose(sorted(c["handle_s"]), [160.0 + 60.0, 160.0 + 120.0, 160.0 + 180.0])
    assert (c["outcome"] == "served").all()
    r = res.resolution.sum(numeric_only=True)
    assert (r["approvals"], r["escalated_sync"], r["self_approved"], r["escalated_async"]) == (3, 3, 0, 0)
    assert res.stats["leakage_cost"] == 0.0
    assert res.stats["training_cost"] == 0.0


def test_no_authority_asynchronous_sends_every_approval_to_the_back_office():
    p = policy("no_authority", synchronous=False, escalation_handle="45s")
    res, c = run_with(p)
    assert (c["approval"] == "back_office").all()
    assert (c["outcome"] == "escalated_async").all()
    np.testing.assert_allclose(c["handle_s"], HANDLE + 45.0)
    assert c["approval_wait_s"].isna().all()
    r = res.resolution.sum(numeric_only=True)
    assert (r["approvals"], r["escalated_async"], r["first_contact_resolved"]) == (60, 60, 0)


# -------------------------------------------------------------------------------------------- authority_limit


def test_authority_limit_self_approves_up_to_and_including_the_limit():
    p = policy("authority_limit", limits={"agents": 50, "seniors": 200}, leakage_share=0.1, approve_handle="30s",
               escalation_handle="90s", synchronous=False)  # fmt: skip
    assert isinstance(p, AuthorityLimit)
    assert p.adjust(agent(0), contact(50.0)) == ServiceAdjustment(extra_handle_s=30.0, escalate=False, leakage=5.0)
    assert p.adjust(agent(0), contact(50.000001)) == ServiceAdjustment(extra_handle_s=90.0, escalate=True, synchronous=False)
    assert p.adjust(agent(1), contact(200.0)) == ServiceAdjustment(extra_handle_s=30.0, leakage=20.0)
    assert p.adjust(agent(1), contact(201.0)).escalate
    sync = policy("authority_limit", limits={"agents": 50}, synchronous=True)
    assert sync.adjust(agent(0), contact(60.0)) == ServiceAdjustment(extra_handle_s=60.0, escalate=True, synchronous=True)
    assert sync.adjust(agent(1), contact(0.5)).escalate  # seniors: default_limit 0
    assert sync.adjust(agent(0), contact(10.0)) == ServiceAdjustment(extra_handle_s=60.0, leakage=0.0)


def test_authority_limit_default_limit_and_training_cost():
    p = policy("authority_limit", limits={"agents": 0}, default_limit=75, training_cost=120)
    assert p.adjust(agent(1), contact(75.0)).escalate is False  # seniors use default_limit
    assert p.adjust(agent(0), contact(0.01)).escalate is True  # agents have an explicit 0
    assert p.training_cost("agents") == 0.0
    assert p.training_cost("seniors") == 120.0


@pytest.mark.parametrize("synchronous", [False, True])
def test_authority_limit_in_the_engine_routes_by_group_limit_with_exact_handle_and_leakage(synchronous):
    sc = approval_scenario(share=0.6)
    drawn = amounts(sc=sc)
    assert 0 < (drawn > 0).sum() < len(drawn)
    by_agents = np.sort(amounts(sc=sc, group="agents"))
    limit = float(by_agents[by_agents > 0][len(by_agents[by_agents > 0]) // 2])  # exactly an amount 'agents' served
    p = policy("authority_limit", sc, limits={"agents": limit}, leakage_share=0.1, approve_handle="30s",
               escalation_handle="90s", synchronous=synchronous, training_cost=250)  # fmt: skip
    res, c = run_with(p, sc=sc)
    np.testing.assert_array_equal(c["amount"], drawn)  # the same customers under every policy
    group_limit = np.where(c["group"] == "agents", limit, 0.0)
    need = c["amount"] > 0
    own = need & (c["amount"] <= group_limit)
    assert ((c["amount"] == limit) & own).sum() == 1  # the boundary amount, self-approved by an agent of 'agents'
    assert (own & (c["group"] == "agents")).sum() > 0
    assert (need & ~own & (c["group"] == "agents")).sum() > 0
    assert (need & (c["group"] == "seniors")).sum() > 0
    escalated = "team_lead" if synchronous else "back_office"
    expected = np.where(~need, "", np.where(own, "self", escalated))
    assert list(c["approval"].astype(str)) == list(expected)
    np.testing.assert_allclose(c.loc[~need, "handle_s"], HANDLE)
    np.testing.assert_allclose(c.loc[own, "handle_s"], HANDLE + 30.0)
    tl = TL_S if synchronous else 0.0
    np.testing.assert_allclose(c.loc[need & ~own, "handle_s"], HANDLE + 90.0 + tl)
    leakage = 0.1 * c.loc[own, "amount"].sum()
    assert res.stats["leakage_cost"] == pytest.approx(leakage, rel=1e-12)
    r = res.resolution.sum(numeric_only=True)
    assert r["leakage"] == pytest.approx(leakage, rel=1e-12)
    assert r["approvals"] == need.sum()
    assert r["self_approved"] == own.sum()
    assert r["escalated_sync" if synchronous else "escalated_async"] == (need & ~own).sum()
    assert res.stats["training_cost"] == pytest.approx(250 * 3)  # the 3 agents of the only group with a limit > 0


def test_leakage_cost_covers_the_whole_run_and_the_resolution_frame_only_after_the_warmup():
    sc = approval_scenario(warmup="5h")
    p = policy("authority_limit", sc, default_limit=1e9, leakage_share=0.25)
    res, c = run_with(p, sc=sc)
    assert (c["approval"] == "self").all()
    assert res.stats["leakage_cost"] == pytest.approx(0.25 * c["amount"].sum(), rel=1e-12)
    measured = c["arrival_s"] >= 5 * 3600.0
    assert 0 < measured.sum() < len(c)
    assert res.resolution["leakage"].sum() == pytest.approx(0.25 * c.loc[measured, "amount"].sum(), rel=1e-12)


@pytest.mark.parametrize(
    ("params", "trained"),
    [({"limits": {"agents": 10}}, 3), ({"limits": {"seniors": 10}}, 2), ({"default_limit": 10}, 5),
     ({"limits": {"agents": 10, "seniors": 0}}, 3), ({}, 0)],
)  # fmt: skip
def test_training_cost_is_per_rostered_agent_of_groups_with_a_limit(params, trained):
    sc = approval_scenario()
    res, _ = run_with(policy("authority_limit", sc, training_cost=80, **params), times=[0.0], sc=sc)
    assert res.stats["training_cost"] == pytest.approx(80 * trained)
    tiered = {"agent_limits": params.get("limits", {}), "default_agent_limit": params.get("default_limit", 0)}
    res, _ = run_with(policy("tiered", sc, training_cost=80, **tiered), times=[0.0], sc=sc)
    assert res.stats["training_cost"] == pytest.approx(80 * trained)


def test_training_cost_needs_approvals_in_the_scenario():
    sc = scenario(groups={"agents": _group(4)})
    res = simulate(sc, [batch([0.0])], empowerment=policy("authority_limit", sc, default_limit=10, training_cost=80))
    assert res.stats["training_cost"] == 0.0


# ---------------------------------------------------------------------------------------------------- tiered


def test_tiered_three_routes_on_exact_amounts():
    p = policy("tiered", agent_limits={"agents": 50}, team_lead_limit=200, approve_handle="20s", escalation_handle="40s",
               leakage_share=0.5)  # fmt: skip
    assert isinstance(p, TieredAuthority)
    self_ok = ServiceAdjustment(extra_handle_s=20.0, leakage=25.0)
    to_lead = ServiceAdjustment(extra_handle_s=40.0, escalate=True, synchronous=True)
    to_office = ServiceAdjustment(extra_handle_s=40.0, escalate=True, synchronous=False)
    assert p.adjust(agent(0), contact(50.0)) == self_ok
    assert p.adjust(agent(0), contact(50.01)) == to_lead
    assert p.adjust(agent(0), contact(200.0)) == to_lead
    assert p.adjust(agent(0), contact(200.01)) == to_office
    assert p.adjust(agent(1), contact(0.01)) == to_lead  # seniors: default_agent_limit 0
    assert p.adjust(agent(1), contact(1e5)) == to_office


def test_tiered_in_the_engine_routes_each_amount_with_exact_handle_times():
    sc = approval_scenario(share=0.8)
    drawn = amounts(sc=sc)
    drawn = np.sort(drawn[drawn > 0])
    by_agents = amounts(sc=sc, group="agents")
    by_agents = np.sort(by_agents[by_agents > 0])
    agent_limit, lead_limit = float(by_agents[len(by_agents) // 3]), float(drawn[2 * len(drawn) // 3])
    p = policy("tiered", sc, agent_limits={"agents": agent_limit}, team_lead_limit=lead_limit, approve_handle="20s",
               escalation_handle="40s", leakage_share=0.5)  # fmt: skip
    res, c = run_with(p, sc=sc)
    need = c["amount"] > 0
    own = need & (c["amount"] <= np.where(c["group"] == "agents", agent_limit, 0.0))
    lead = need & ~own & (c["amount"] <= lead_limit)
    office = need & ~own & ~lead
    assert ((c["amount"] == agent_limit) & own).sum() == 1  # the agent boundary is self-approved
    assert ((c["amount"] == lead_limit) & lead).sum() == 1  # the team-lead boundary stays with the team lead
    assert own.sum() > 0
    assert lead.sum() > 0
    assert office.sum() > 0
    expected = np.select([own, lead, office], ["self", "team_lead", "back_office"], "")
    assert list(c["approval"].astype(str)) == list(expected)
    np.testing.assert_allclose(c.loc[own, "handle_s"], HANDLE + 20.0)
    np.testing.assert_allclose(c.loc[lead, "handle_s"], HANDLE + 40.0 + TL_S)
    np.testing.assert_allclose(c.loc[lead, "approval_wait_s"], 0.0)
    np.testing.assert_allclose(c.loc[office, "handle_s"], HANDLE + 40.0)
    assert (c.loc[office, "outcome"] == "escalated_async").all()
    assert res.stats["leakage_cost"] == pytest.approx(0.5 * c.loc[own, "amount"].sum(), rel=1e-12)
    r = res.resolution.sum(numeric_only=True)
    assert (r["self_approved"], r["escalated_sync"], r["escalated_async"]) == (own.sum(), lead.sum(), office.sum())


# --------------------------------------------------------------------------------------------- bind and params


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("authority_limit", {"limits": {"agents": 10, "sales": 50}}, r"params\.limits: unknown group 'sales'; known: \['agents', 'seniors'\]"),
        ("tiered", {"agent_limits": {"sales": 50}}, r"params\.agent_limits: unknown group 'sales'; known: \['agents', 'seniors'\]"),
    ],
)
def test_unknown_group_fails_at_bind_and_at_load(name, params, message):
    p = make("empowerment", {"name": name, "params": params})
    with pytest.raises(ValueError, match=message):
        p.bind(approval_scenario())
    data = approval_scenario().model_dump(mode="json")
    data["policies"]["empowerment"] = {"name": name, "params": params}
    with pytest.raises(ScenarioError, match=r"x\.yaml: policies\.empowerment: " + message):
        scenario_from_dict(data, label="x.yaml")


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("authority_limit", {"leakage_share": 1.5}, "leakage_share"),
        ("authority_limit", {"limits": {"agents": -1}}, r"limits\.agents"),
        ("authority_limit", {"approve_handle": 30}, "approve_handle"),
        ("tiered", {"team_lead_limit": -5}, "team_lead_limit"),
        ("tiered", {"synchronous": False}, "synchronous"),
        ("no_authority", {"escalation_handle": "-1min"}, "escalation_handle"),
    ],
)
def test_bad_params_name_the_parameter(name, params, field):
    with pytest.raises(PolicyError, match=rf"bad parameters for empowerment policy '{name}': {field}"):
        make("empowerment", {"name": name, "params": params})


@pytest.mark.parametrize(
    ("name", "params", "param"),
    [("no_authority", {}, "synchronous"), ("authority_limit", {"default_limit": 50}, "synchronous"),
     ("tiered", {"default_agent_limit": 50, "team_lead_limit": 200}, "team_lead_limit")],
)  # fmt: skip
def test_synchronous_escalation_without_team_leads_fails_at_bind_and_at_load(name, params, param):
    sc = approval_scenario(team_leads={"count": 0})
    message = rf"params\.{param}: approvals escalated synchronously wait for a team lead, but team_leads\.count is 0"
    with pytest.raises(ValueError, match=message):
        make("empowerment", {"name": name, "params": params}).bind(sc)
    data = sc.model_dump(mode="json")
    data["policies"]["empowerment"] = {"name": name, "params": params}
    with pytest.raises(ScenarioError, match=r"policies\.empowerment: " + message):
        scenario_from_dict(data, label="x.yaml")


@pytest.mark.parametrize(
    ("name", "params"),
    [("no_authority", {"synchronous": False}), ("authority_limit", {"synchronous": False}),
     ("tiered", {"default_agent_limit": 500, "team_lead_limit": 200})],
)  # fmt: skip
def test_escalations_that_never_reach_a_team_lead_need_none(name, params):
    sc = approval_scenario(team_leads={"count": 0})
    make("empowerment", {"name": name, "params": params}).bind(sc)
    # Without approvals in the scenario, the team-lead pool does not matter either.
    make("empowerment", "no_authority").bind(scenario(team_leads={"count": 0}))


def test_approval_wait_of_a_contact_still_waiting_for_a_team_lead_at_the_horizon():
    sc = approval_scenario(team_leads={"count": 1, "handle": {"dist": "fixed", "value": "10min"}}, groups={"agents": _group(5)})
    _, c = run_with(policy("no_authority", sc, escalation_handle="1min"), times=np.full(5, 84000.0), sc=sc)
    # All request approval at 84160 s; the team lead takes them at 84160, 84760, 85360, 85960; the fifth still waits
    # at the horizon: its wait is censored there (86400 - 84160 s), as for a customer still in the queue.
    np.testing.assert_allclose(c["approval_wait_s"], [0.0, 600.0, 1200.0, 1800.0, 86400.0 - 84160.0])
