"""Bundled policy examples: ``base:`` inheritance of scenario files, one example per slot, each runs and uses its
policy, and the README's policy catalogue matches the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.runner import simulate_scenario
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import list_scenarios, load_scenario
from policies.registry import SLOTS, catalogue_markdown
from sim.config import PolicySpec

README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULTS = {"routing": "longest_idle", "deflection": "none", "staffing": "fixed", "empowerment": "none"}


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- base: inheritance


def test_base_merges_mappings_and_replaces_policy_specs_lists_and_empty_mappings(tmp_path: Path):
    child = write(
        tmp_path / "child.yaml",
        {
            "base": "ecommerce_24x7",
            "name": "child",
            "groups": {"chat_zh": {"staffing": {"night": 9}}},  # merged: other keys of chat_zh stay
            "bots": {},  # an empty mapping removes the base's bots
            "targets": [{"name": "only one", "channel": "voice", "threshold": "20s", "level": 0.8}],
            "policies": {"routing": {"name": "overflow", "params": {"after": "30s"}}, "deflection": {"name": "none"}},
        },
    )
    base, _ = load_scenario("ecommerce_24x7")
    sc, folder = load_scenario(child)
    assert folder == tmp_path
    assert sc.name == "child"
    assert sc.groups["chat_zh"].staffing == {"night": 9, "day": 10, "evening": 14}
    assert sc.groups["chat_zh"].concurrency == base.groups["chat_zh"].concurrency == 3
    assert sc.bots == {}
    assert [t.name for t in sc.targets] == ["only one"]
    # The policy spec replaced the base's whole spec: no priority params leak into overflow.
    assert sc.policies.routing == PolicySpec(name="overflow", params={"after": "30s"})
    assert sc.approvals == base.approvals
    assert sc.channels == base.channels


def test_base_chain_relative_paths_and_errors(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    csv = "agent,group,start,end\na,agents,2026-11-09T00:00,2026-11-09T08:00\n"
    (tmp_path / "sub" / "plan.csv").write_text(csv, encoding="utf-8")
    write(
        tmp_path / "sub" / "middle.yaml",
        {"base": "erlang_c_textbook", "policies": {"staffing": {"name": "schedule_csv", "params": {"path": "plan.csv"}}}},
    )
    top = write(tmp_path / "top.yaml", {"base": "sub/middle.yaml", "name": "top", "horizon": "1d"})
    sc, _ = load_scenario(top)
    assert sc.name == "top"
    assert sc.horizon == 86400
    assert Path(sc.policies.staffing.params["path"]) == tmp_path / "sub" / "plan.csv"  # relative to middle.yaml
    write(tmp_path / "a.yaml", {"base": "b.yaml"})
    write(tmp_path / "b.yaml", {"base": "a.yaml"})
    with pytest.raises(ScenarioError, match=r"base: a cycle or a chain longer than 8: a.yaml -> b.yaml -> a.yaml"):
        load_scenario(tmp_path / "a.yaml")
    write(tmp_path / "bad.yaml", {"base": "no_such_scenario"})
    with pytest.raises(ScenarioError, match=r"no_such_scenario: no such file or bundled scenario"):
        load_scenario(tmp_path / "bad.yaml")
    write(tmp_path / "typo.yaml", {"base": "erlang_c_textbook", "groups": {"agents": {"skils": {}}}})
    with pytest.raises(ScenarioError, match=r"typo.yaml.*unknown key 'skils' at groups.agents"):
        load_scenario(tmp_path / "typo.yaml")


# ------------------------------------------------------------------------------------------------ the examples


def bundled_policies() -> dict[str, dict[str, str]]:
    return {name: {slot: getattr(load_scenario(name)[0].policies, slot).name for slot in SLOTS} for name, _ in list_scenarios()}


def test_every_slot_has_a_bundled_example_with_a_non_default_policy():
    used = bundled_policies()
    for slot, default in DEFAULTS.items():
        names = {policies[slot] for policies in used.values()} - {default}
        assert names, f"no bundled scenario uses a non-default {slot} policy"
    flagship = used["ecommerce_24x7"]
    assert flagship["routing"] != DEFAULTS["routing"]
    assert flagship["deflection"] != DEFAULTS["deflection"]
    assert flagship["empowerment"] != DEFAULTS["empowerment"]
    assert used["ecommerce_fifo"] == DEFAULTS


def one_day(name: str):
    sc, base_dir = load_scenario(name)
    if sc.horizon > 2 * 86400:
        # Day 3 holds the flagship's 11.11 promotion: run Monday to Wednesday midnight.
        sc = sc.model_copy(update={"horizon": 3 * 86400.0})
    return sc, simulate_scenario(sc, seed=2, log=True, base_dir=base_dir)


@pytest.mark.parametrize(
    "name", [n for n, _ in list_scenarios() if n.startswith(("ecommerce_", "textbook_")) and n != "ecommerce_24x7"]
)
def test_each_example_runs_and_its_policy_acts(name: str):
    _sc, result = one_day(name)
    contacts = result.contacts
    assert len(contacts) == result.stats["n_arrivals"] > 1000
    served = contacts[contacts["outcome"] == "served"]
    agents = result.agents
    if name in ("ecommerce_overflow", "ecommerce_priority_overflow"):  # the front line takes technical contacts
        tech = served[served["intent"] == "technical"]  # only after the threshold (45 s; chat 2 min)
        backup = tech[tech["group"] != "tech"]
        assert len(backup) > 0
        after = np.where(backup["channel"].astype(str) == "chat", 120.0, 45.0)
        assert (backup["service_start_s"] - backup["queued_s"] >= after - 1e-6).all()
        if name == "ecommerce_priority_overflow":  # the order changes who is served when (the paired effect on
            _sc_fifo, fifo = one_day("ecommerce_overflow")  # urgent waits is tests/policies/test_effects.py's)
            assert not contacts[["agent_id", "service_start_s"]].equals(fifo.contacts[["agent_id", "service_start_s"]])
    elif name == "ecommerce_pooled_chat":  # a silo agent serves one channel only
        tech = served[served["group"] == "tech"]
        assert (tech.groupby("agent_id")["channel"].nunique() == 1).all()
    elif name == "ecommerce_bot_on_wait":
        _sc_flag, flag = one_day("ecommerce_24x7")
        assert 0 < result.resolution["bot_offered"].sum() < flag.resolution["bot_offered"].sum()
    elif name == "ecommerce_erlang_staffing":
        base, _ = load_scenario("ecommerce_24x7")
        assert len(agents) != sum(sum(g.staffing.values()) for g in base.groups.values())
    elif name == "ecommerce_overtime":  # the promotion evening backs up a queue: reserve agents are called in
        reserve = agents[agents["shift"] == "reserve"]
        assert (reserve["callin_s"] > 0).any()
        assert (reserve["paid_s"] == reserve["callin_s"] + reserve["overtime_s"]).all()
    elif name == "ecommerce_no_authority":
        r = result.resolution.sum(numeric_only=True)
        assert r["approvals"] > 0
        assert r["self_approved"] == 0
    elif name == "ecommerce_tiered_authority":
        routes = set(contacts["approval"].astype(str)) - {""}
        assert routes == {"self", "team_lead", "back_office"}
    elif name == "ecommerce_fifo":
        assert result.resolution["bot_offered"].sum() == 0
        assert result.stats["bot_cost"] == 0
        assert result.stats["bot_setup_cost"] == 0  # the bot is configured but never used: no set-up either
    elif name == "textbook_schedule":
        # 45 agents in the CSV, each on one 8-hour block a day for both days, with a 30-minute break in each.
        assert len(agents) == 45
        np.testing.assert_allclose(agents["paid_s"] - agents["overtime_s"], 2 * 8 * 3600.0)  # plus overtime
        np.testing.assert_allclose(agents["break_s"], 2 * 1800.0)


def test_flagship_uses_its_bot_priorities_and_authority():
    _sc, result = one_day("ecommerce_24x7")
    contacts = result.contacts
    bot = contacts[contacts["bot_outcome"].astype(str) != ""]
    assert set(bot["channel"].astype(str)) == {"chat"}
    assert set(bot["intent"].astype(str)) == {"order_status", "product_question"}
    assert set(contacts["approval"].astype(str)) >= {"self", "team_lead"}
    chat = contacts[(contacts["channel"] == "chat") & contacts["first_response_s"].notna()]
    mean_frt = chat.groupby(chat["priority"].astype(str))["first_response_s"].mean()
    assert mean_frt["urgent"] < mean_frt["normal"]


# ------------------------------------------------------------------------------------------------ README


def test_readme_policy_catalogue_matches_the_registry():
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- policy-catalogue:start -->", "<!-- policy-catalogue:end -->"
    assert start in text, "README needs the generated policy catalogue between the catalogue markers"
    block = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert block == catalogue_markdown(), "README catalogue is stale: paste the output of `ccsim policies --markdown`"


def test_catalogue_lists_every_policy_once():
    rows = [line for line in catalogue_markdown().splitlines()[2:]]
    assert len(rows) == sum(len(r) for r in SLOTS.values())
    assert pd.Series(rows).is_unique


def test_policy_errors_name_the_line_of_the_slot_in_the_file_that_wrote_it(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("base: ecommerce_24x7\nname: x\npolicies:\n  routing: {name: vip_first}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].startswith(f"{path}:4: policies.routing: unknown routing policy 'vip_first'")
    # Removing the bots breaks the inherited deflection policy: the problem has no line in this file.
    path.write_text("base: ecommerce_24x7\nname: x\nbots: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"{path}: policies.deflection: params.channels: channel 'chat' has no bot; channels with a bot: []"
    ]
