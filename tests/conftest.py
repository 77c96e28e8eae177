"""Shared fixtures: a tiny scenario, and fake engine / metrics / stats backends for testing the experiments layer.

The fakes are module-level functions so that worker processes can unpickle them. They follow the contracts of
``sim.engine.run``, ``experiments.measure.replication_metrics`` and ``experiments.stats.summarize`` closely enough
for the runner and the CLI (column names per ``sim.schema``) and are deterministic in ``(seed, replication)``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.config import Scenario
from sim.result import RunResult
from sim.streams import Streams
from tests import stats_family

TINY_SCENARIO: dict[str, Any] = {
    "name": "tiny",
    "description": "One voice queue, one group, one day.",
    "start": "2026-11-09T00:00",
    "horizon": "1d",
    "warmup": "1h",
    "channels": {"voice": {"kind": "live", "patience": {"dist": "exponential", "mean": "5min"}}},
    "intents": {"general": {"handle": {"dist": "exponential", "mean": "3min"}, "urgent_share": 0.1}},
    "customers": {"languages": {"en": 1.0}, "vip_share": 0.05},
    "arrivals": {
        "kind": "generated",
        "channels": {"voice": {"daily_volume": 480, "intent_mix": {"general": 1.0}, "intraday": "flat"}},
    },
    "shifts": {"always": {"start": "00:00", "length": "24h"}},
    "groups": {
        "agents": {
            "channels": ["voice"],
            "skills": {"general": 1.0},
            "languages": ["en"],
            "hourly_cost": 30,
            "staffing": {"always": 2},
        }
    },
    "targets": [
        {"name": "voice 80/20", "channel": "voice", "threshold": "20s", "level": 0.8},
        {"name": "urgent 5 min", "priority": "urgent", "threshold": "5min", "level": 0.9},
    ],
    "reporting": {"interval": "1h"},
}
"""A small valid scenario as plain data (copy it before changing it)."""


@pytest.fixture
def tiny_scenario_data() -> dict[str, Any]:
    """A fresh copy of :data:`TINY_SCENARIO` to modify."""
    return copy.deepcopy(TINY_SCENARIO)


@pytest.fixture
def tiny_scenario() -> Scenario:
    """A validated one-queue, one-group, one-day scenario (about 480 calls, 2 agents, 2 targets)."""
    return Scenario.model_validate(copy.deepcopy(TINY_SCENARIO))


@pytest.fixture
def tiny_scenario_file(tmp_path: Path) -> Path:
    """The tiny scenario written as a YAML file."""
    return write_scenario(tmp_path / "tiny.yaml", TINY_SCENARIO)


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    """Write scenario data as YAML and return the path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ fakes


def fake_simulate(
    scenario: Scenario, *, seed: int, replication: int = 0, log: bool = False, replay: object = None
) -> RunResult:
    """Stand-in for ``sim.engine.run``: small schema-shaped frames drawn from ``Streams(seed, replication)``."""
    rng = Streams(seed, replication).get("fake")
    n_int = scenario.n_intervals
    channels = list(scenario.channels)
    grid = pd.MultiIndex.from_product(
        [range(n_int), channels, ["normal", "urgent"], ["regular", "vip"]],
        names=["interval", "channel", "priority", "tier"],
    ).to_frame(index=False)
    offered = rng.poisson(5.0, len(grid))
    answered = rng.binomial(offered, 0.9)
    intervals = grid.assign(
        replication=replication,
        interval_start_s=grid["interval"] * scenario.reporting.interval,
        offered=offered,
        answered=answered,
        abandoned=offered - answered,
        wait_answered_s=answered * rng.exponential(20.0, len(grid)),
    )
    groups = list(scenario.groups)
    staffing = pd.MultiIndex.from_product([range(n_int), groups], names=["interval", "group"]).to_frame(index=False)
    staffing = staffing.assign(
        replication=replication, logged_in=2.0, busy=rng.uniform(0, 2, len(staffing)), on_break=0.0, busy_slots=1.0
    )
    agents = pd.DataFrame(
        {
            "replication": replication,
            "agent_id": np.arange(2),
            "group": groups[0],
            "busy_s": rng.uniform(0, scenario.horizon, 2),
            "handled": rng.poisson(100, 2),
        }
    )
    frt_hist = pd.DataFrame(
        {
            "replication": replication,
            "channel": channels[0],
            "bin_lo_s": [0.0, 1.0],
            "bin_hi_s": [1.0, 2.0],
            "count": rng.poisson(50, 2),
        }
    )
    contacts = None
    if log:
        n = int(offered.sum())
        contacts = pd.DataFrame(
            {
                "replication": replication,
                "contact_id": np.arange(n),
                "channel": channels[0],
                "arrival_s": np.sort(rng.uniform(0, scenario.horizon, n)),
                "first_response_s": rng.exponential(20.0, n),
            }
        )
    return RunResult(replication, seed, intervals, staffing, agents, frt_hist, contacts, stats={"n_arrivals": 1.0})


def fake_measure(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """Stand-in for ``experiments.measure.replication_metrics``: a few metrics per scope, and target attainment."""
    iv = result.intervals
    rows = []
    for scope, part in [("all", iv), *((f"channel={ch}", g) for ch, g in iv.groupby("channel", sort=False))]:
        offered, answered = part["offered"].sum(), part["answered"].sum()
        rows += [
            ("offered", scope, float(offered)),
            ("abandon_rate", scope, float((offered - answered) / offered)),
            ("asa_s", scope, float(part["wait_answered_s"].sum() / answered)),
        ]
    share = float(iv["answered"].sum() / iv["offered"].sum())
    for i, target in enumerate(scenario.targets):
        rows.append(("target_attainment", f"target={target.name}", min(1.0, share - 0.05 * i)))
    return pd.DataFrame(rows, columns=["metric", "scope", "value"])


def fake_summarize(long: pd.DataFrame) -> pd.DataFrame:
    """Stand-in for ``experiments.stats.summarize``: mean, std and Student-t 95% CI per metric x scope."""
    from scipy import stats

    out = long.groupby(["metric", "scope"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    out = out.rename(columns={"count": "n"})
    t = out["n"].map(lambda n: stats.t.ppf(0.975, n - 1) if n > 1 else math.nan)
    out["ci_half"] = t * out["std"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["mean"] - out["ci_half"], out["mean"] + out["ci_half"]
    return out[["metric", "scope", "mean", "std", "ci_half", "ci_low", "ci_high", "n"]]


FAKES: dict[str, Any] = {"simulate": fake_simulate, "measure": fake_measure, "summarize": fake_summarize}
"""Keyword arguments that make ``run_experiment`` use the fakes."""


@pytest.fixture
def fake_backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make the runner's defaults (engine, metrics, stats) the fakes, for CLI tests; returns :data:`FAKES`."""
    import experiments.runner as runner

    monkeypatch.setattr(runner, "_default_simulate", lambda: fake_simulate)
    monkeypatch.setattr(runner, "_default_measure", lambda: fake_measure)
    monkeypatch.setattr(runner, "_default_summarize", lambda: fake_summarize)
    return dict(FAKES)


# ------------------------------------------------------------------------------------- statistical checks audit

_passed: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _passed.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a listed test that passed made another number of checks than ``stats_family.CHECKS``.

    A test is audited only when all its parameter sets ran and passed (a failed check stops a test early).
    """
    items: dict[str, list[str]] = {}
    for item in session.items:
        items.setdefault(stats_family.function_of(item.nodeid), []).append(item.nodeid)
    problems = []
    for function, listed in stats_family.CHECKS.items():
        nodeids = items.get(function, [])
        if nodeids and all(n in _passed for n in nodeids):
            made = sum(stats_family.made[n] for n in nodeids)
            if made != listed:
                problems.append(
                    f"{function}: {made} statistical checks made, {listed} listed in tests/stats_family.CHECKS"
                )
    if problems:
        writer = session.config.get_terminal_writer()
        writer.line()
        for problem in problems:
            writer.line(f"statistical checks audit: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
