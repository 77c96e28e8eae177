"""Oracle test: ccsim and the textbook process-per-customer SimPy model agree contact by contact.

This is the honest answer to "a SimPy model": ccsim's engine has no process per contact (one scheduled event per
contact, abandonment decided lazily from a deadline drawn at arrival; see :mod:`sim.engine`), so here it is run
side by side with the formulation every SimPy tutorial writes: one ``simpy.Environment``, the agents as one
``simpy.Resource(env, capacity=c)`` (``simpy.PriorityResource`` for priorities), a source process that waits each
inter-arrival gap and starts a customer process, and a customer that does ``yield req | env.timeout(patience)``:
served (service start = ``env.now``, then ``yield env.timeout(handle)``) if the request was granted, abandoned (the
request cancelled) otherwise. Both models get exactly the same customers: the arrival gaps, handle times and
patiences are drawn once here with ``np.random.default_rng(seed)``, the SimPy model reads them from arrays and
ccsim replays them from a Parquet log (``kind: replay``, ``arrival_format: seconds``) through the public scenario
loader and ``experiments.simulate_scenario``. Every contact must get the same outcome and the same service start.

Outcomes at the horizon (``env.run(until=horizon)`` in SimPy; ``ContactCenter._finalize`` in ccsim): a contact in
service is ``served`` with its service start (ccsim leaves ``service_end_s`` NaN); one still waiting is
``censored``; one whose patience ran out before the horizon is ``abandoned`` in both (ccsim records it at the
horizon, lazily, but by its deadline ``< horizon``; a deadline exactly at the horizon is censored in both, since
SimPy's ``until`` event precedes every other event at that time).

Priority: ccsim's ``priority`` routing (:class:`policies.routing.PriorityRouting`) gives a freed agent the waiting
head with the smallest ``queued_s - urgent_boost * urgent`` (ties: earlier ``queued_s``), where urgent and normal
contacts of one channel x intent x language wait in two FIFO queues. That key is fixed per contact, so the
discipline is exactly SimPy's ``PriorityResource``, whose queue is sorted by ``(priority, request time)``:

* with ``urgent_boost`` longer than the horizon no normal contact can outrank an urgent one: strict two-class
  priority, FIFO within class, i.e. the textbook ``request(priority=0 if urgent else 1)``;
* with a short boost (aging: a normal contact that has waited longer than the boost beats a fresh urgent one)
  the same holds with ``request(priority=arrival_s - boost * urgent)``, a float priority.

Which agent takes a contact (ccsim: the one idle the longest) is not compared: the agents are identical (one
channel, one contact at a time, proficiency 1), so the choice changes no service start.

Ties: the draws are continuous, so simultaneous events have probability zero; the test checks that no two of the
run's arrivals, ends of patience and ends of service lie within 1 µs of each other, so no tie-breaking rule is
exercised. Two rules would differ. ccsim lets a contact whose patience ends exactly when an agent frees abandon
(``CenterView.head``: ``deadline_s <= now`` has abandoned) and processes a service end before an arrival at the same
instant (the eager arrival pump stops at ``env.peek()``); SimPy breaks both ties by the order in which the two
events were scheduled. Arrivals: the SimPy source accumulates the gaps in ``env.now`` one addition at a time, which
is ``np.cumsum`` of the same float64 gaps bit for bit (checked), and those sums are what ccsim replays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml

from experiments import load_scenario, simulate_scenario
from sim.units import parse_duration

# Service starts are sums of the same float64 arrival and handle times, but not always in the same order of
# operations: SimPy schedules a service end at ``env.now + handle``; ccsim at ``env.now + ((now + handle) - env.now)``
# (``now``, its logical clock, runs ahead of ``env.now`` while an arrival is processed eagerly). The two are equal
# whenever ``now + handle <= 2 * env.now`` (the subtraction is then exact, by Sterbenz's lemma), i.e. everywhere but
# in the first minutes of a run. An ulp of difference there is passed on (a queued contact starts at the end it
# follows), not amplified. (On these seeds every service start is in fact bit-identical.) 1e-12 relative (some 4,500 ulps) and 1e-9 s
# absolute allow that and nothing a behavioural difference could produce.
REL_TOL, ABS_TOL = 1e-12, 1e-9
TIE_GAP_S = 1e-6
"""Events closer than this (arrival, end of patience, end of service) would count as a tie (see the module doc)."""


@dataclass(frozen=True)
class Case:
    """One oracle comparison: a single queue of ``agents`` identical agents over ``horizon_h`` hours."""

    agents: int
    load: float
    """Offered load per agent (arrival rate x mean handle / agents)."""
    handle_mean_s: float
    patience_mean_s: float
    horizon_h: float
    handle_cv: float | None = None
    """None: exponential handle times; else lognormal with this coefficient of variation."""
    never_abandon: float = 0.0
    """Share of contacts with infinite patience (they can only be served or censored)."""
    urgent_share: float = 0.0
    urgent_boost: str | None = None
    """PriorityRouting's urgent_boost (None: the default longest-idle FIFO routing)."""
    min_abandoned: float = 0.0
    """Smallest share of abandoned contacts for the case to be a real test of patience."""
    min_censored: int = 0


CASES = {
    # M/M/c+M at 1.2 x capacity: the queue holds because customers abandon (about 1 - 1/1.2 of them).
    "mmc_high_load": Case(
        agents=20, load=1.2, handle_mean_s=300.0, patience_mean_s=600.0, horizon_h=10.0, min_abandoned=0.10,
        min_censored=1,
    ),
    # M/M/c+M at 0.9: short queues, a few abandons.
    "mmc_rho_0.9": Case(agents=20, load=0.9, handle_mean_s=300.0, patience_mean_s=600.0, horizon_h=10.0),
    # M/G/c+G overloaded 1.5 x, lognormal handle (cv 1.5), a fifth of customers never abandon: the queue grows
    # until the horizon cuts it: waiting contacts are censored and every agent is in service at the horizon.
    "mgc_overload_cut": Case(
        agents=5, load=1.5, handle_mean_s=300.0, patience_mean_s=1200.0, horizon_h=4.0, handle_cv=1.5,
        never_abandon=0.2, min_abandoned=0.10, min_censored=10,
    ),
    # Two classes, strict priority (the boost outlasts the horizon), FIFO within class.
    "priority_strict": Case(
        agents=20, load=1.2, handle_mean_s=300.0, patience_mean_s=600.0, horizon_h=10.0, urgent_share=0.3,
        urgent_boost="30d", min_abandoned=0.10, min_censored=1,
    ),
    # Two classes with aging: a normal contact outranks every urgent one that arrived more than 2 min after it.
    "priority_aging": Case(
        agents=20, load=1.2, handle_mean_s=300.0, patience_mean_s=600.0, horizon_h=10.0, urgent_share=0.3,
        urgent_boost="2min", min_abandoned=0.10, min_censored=1,
    ),
}  # fmt: skip
SEED = 20261109


@dataclass(frozen=True)
class Contacts:
    """Pre-drawn customers, in arrival order (index = ccsim's contact_id)."""

    gap_s: np.ndarray
    arrival_s: np.ndarray
    handle_s: np.ndarray
    patience_s: np.ndarray
    urgent: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival_s)


@dataclass(frozen=True)
class Outcomes:
    """Per-contact outcome and service start, plus what the comparison checks besides them."""

    outcome: np.ndarray
    """Per contact: served, abandoned or censored."""
    start_s: np.ndarray
    """Service start (NaN if not served)."""
    in_service: int
    """Contacts still in service at the horizon."""


def draw_contacts(case: Case, seed: int) -> Contacts:
    """Arrivals (Poisson), handle times and patiences from one seeded generator; arrivals before the horizon."""
    rng = np.random.default_rng(seed)
    horizon_s = case.horizon_h * 3600.0
    rate = case.load * case.agents / case.handle_mean_s
    n_max = int(rate * horizon_s * 1.5) + 100
    gap = rng.exponential(1.0 / rate, n_max)
    if case.handle_cv is None:
        handle = rng.exponential(case.handle_mean_s, n_max)
    else:
        sigma2 = math.log1p(case.handle_cv**2)
        handle = rng.lognormal(math.log(case.handle_mean_s) - sigma2 / 2.0, math.sqrt(sigma2), n_max)
    patience = rng.exponential(case.patience_mean_s, n_max)
    patience[rng.random(n_max) < case.never_abandon] = np.inf
    urgent = rng.random(n_max) < case.urgent_share
    arrival = np.cumsum(gap)
    n = int(np.searchsorted(arrival, horizon_s))
    assert n < n_max, "draw more contacts"
    return Contacts(gap[:n], arrival[:n], handle[:n], patience[:n], urgent[:n])


# ------------------------------------------------------------------------------------------- the SimPy oracle


def simpy_oracle(contacts: Contacts, agents: int, horizon_s: float, priority: str | None) -> tuple[Outcomes, list]:
    """The textbook SimPy model: a source process, a Resource of ``agents``, one process per customer.

    Args:
        contacts: The customers.
        agents: Capacity of the resource.
        horizon_s: ``env.run(until=...)``.
        priority: None (FIFO ``Resource``), ``"strict"`` (``PriorityResource``, urgent 0 before normal 1) or
            ``"aging:<boost seconds>"`` (``PriorityResource`` keyed by ``arrival_s - boost`` for urgent contacts).

    Returns:
        The outcomes, and the arrival time each customer process saw (``env.now``).
    """
    n = len(contacts)
    gaps, handles, patiences = contacts.gap_s.tolist(), contacts.handle_s.tolist(), contacts.patience_s.tolist()
    urgent = contacts.urgent.tolist()
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=agents) if priority is None else simpy.PriorityResource(env, agents)
    boost = float(priority.split(":")[1]) if priority is not None and priority.startswith("aging:") else None
    outcome = ["censored"] * n  # what a customer still waiting at the horizon remains
    start = [math.nan] * n
    seen = [math.nan] * n
    in_service = [False] * n

    def customer(i: int):
        seen[i] = env.now
        if priority is None:
            req = server.request()
        elif boost is None:
            req = server.request(priority=0 if urgent[i] else 1)
        else:
            req = server.request(priority=env.now - boost if urgent[i] else env.now)
        # As in SimPy's "bank renege" example: leaving the block cancels the request of a customer who gave up
        # (it leaves the queue) and releases the agent of one who was served.
        with req:
            got = yield req | env.timeout(patiences[i])
            if req in got:
                outcome[i], start[i] = "served", env.now
                in_service[i] = True
                yield env.timeout(handles[i])
                in_service[i] = False
            else:
                outcome[i] = "abandoned"

    def source():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run(until=horizon_s)
    return Outcomes(np.array(outcome), np.array(start), sum(in_service)), seen


# ------------------------------------------------------------------------------------------------- ccsim side


def scenario_data(case: Case, log_name: str) -> dict:
    """A one-queue scenario replaying ``log_name``: a 24/7 group of ``case.agents``, no warm-up, no absences."""
    columns = {"arrival": "arrival_s", "handle": "handle_s", "patience": "patience_s"}
    if case.urgent_boost is not None:
        columns["priority"] = "priority"
    data = {
        "name": "oracle_simpy",
        "start": "2026-11-09T00:00",
        "horizon": f"{case.horizon_h:g}h",
        "warmup": "0s",
        # Distributions only for fields a log leaves empty (none here: the test checks the replayed values).
        "channels": {"voice": {"kind": "live", "patience": {"dist": "exponential", "mean": "10min"}}},
        "intents": {"general": {"handle": {"dist": "exponential", "mean": "5min"}}},
        "arrivals": {
            "kind": "replay",
            "path": log_name,
            "arrival_format": "seconds",
            "columns": columns,
            "defaults": {"channel": "voice", "intent": "general"},
        },
        "shifts": {"always": {"start": "00:00", "length": "24h"}},
        "groups": {
            "agents": {
                "channels": ["voice"],
                "skills": {"general": 1.0},
                "languages": ["en"],
                "absenteeism": 0.0,
                "staffing": {"always": case.agents},
            }
        },
    }
    if case.urgent_boost is not None:
        data["policies"] = {
            "routing": {"name": "priority", "params": {"urgent_boost": case.urgent_boost, "vip_boost": "0s"}}
        }
    return data


def run_ccsim(case: Case, contacts: Contacts, tmp_path: Path) -> pd.DataFrame:
    """Write the contacts as a Parquet log and a scenario file, load it and simulate one replication."""
    log = pd.DataFrame(
        {
            "arrival_s": contacts.arrival_s,
            "handle_s": contacts.handle_s,
            "patience_s": contacts.patience_s,
            "priority": np.where(contacts.urgent, "urgent", "normal"),
        }
    )
    log.to_parquet(tmp_path / "contacts.parquet", index=False)
    path = tmp_path / "oracle.yaml"
    path.write_text(yaml.safe_dump(scenario_data(case, "contacts.parquet"), sort_keys=False), encoding="utf-8")
    scenario, base_dir = load_scenario(path)
    result = simulate_scenario(scenario, seed=SEED, log=True, base_dir=base_dir)
    return result.contacts.sort_values("contact_id").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- comparison


def first_difference(contacts: Contacts, oracle: Outcomes, outcome: np.ndarray, start: np.ndarray) -> str | None:
    """Description of the first contact on which ccsim and the oracle differ, or None."""
    for i in range(len(contacts)):
        same_start = (math.isnan(start[i]) and math.isnan(oracle.start_s[i])) or math.isclose(
            start[i], oracle.start_s[i], rel_tol=REL_TOL, abs_tol=ABS_TOL
        )
        if outcome[i] != oracle.outcome[i] or not same_start:
            return (
                f"contact {i} (arrival {float(contacts.arrival_s[i])!r} s, handle {float(contacts.handle_s[i])!r} s, "
                f"patience {float(contacts.patience_s[i])!r} s, urgent {bool(contacts.urgent[i])}): ccsim "
                f"{outcome[i]} starting {float(start[i])!r} s, SimPy {oracle.outcome[i]} starting "
                f"{float(oracle.start_s[i])!r} s"
            )
    return None


def oracle_priority(case: Case) -> str | None:
    if case.urgent_boost is None:
        return None
    boost_s = parse_duration(case.urgent_boost)
    return "strict" if boost_s >= case.horizon_h * 3600.0 else f"aging:{boost_s!r}"


@pytest.mark.parametrize("name", list(CASES))
def test_ccsim_equals_textbook_simpy_model_contact_by_contact(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    contacts = draw_contacts(case, SEED)
    horizon_s = case.horizon_h * 3600.0
    priority = oracle_priority(case)
    oracle, seen = simpy_oracle(contacts, case.agents, horizon_s, priority)
    df = run_ccsim(case, contacts, tmp_path)

    # Same customers: every contact replayed, at the instant the SimPy source started it, with the same draws.
    assert len(df) == len(contacts)
    np.testing.assert_array_equal(df.contact_id.to_numpy(), np.arange(len(contacts)))
    np.testing.assert_array_equal(np.array(seen), contacts.arrival_s)
    np.testing.assert_array_equal(df.arrival_s.to_numpy(), contacts.arrival_s)
    np.testing.assert_array_equal(df.patience_s.to_numpy(), contacts.patience_s)
    served_df = df[df.outcome == "served"]
    np.testing.assert_array_equal(served_df.handle_s.to_numpy(), contacts.handle_s[served_df.contact_id.to_numpy()])
    np.testing.assert_array_equal((df.priority == "urgent").to_numpy(), contacts.urgent)

    outcome = df.outcome.astype(str).to_numpy()
    start = df.service_start_s.to_numpy(dtype=float)
    diff = first_difference(contacts, oracle, outcome, start)
    assert diff is None, f"{name}: ccsim and the SimPy model differ first on {diff}"

    # No simultaneous events, so no tie-breaking convention was exercised (see the module docstring).
    deadline = contacts.arrival_s + contacts.patience_s
    end = oracle.start_s + contacts.handle_s
    times = np.sort(np.concatenate([contacts.arrival_s, deadline[deadline < horizon_s], end[end < horizon_s]]))
    assert np.diff(times).min() > TIE_GAP_S

    # Non-trivial: customers abandon, the horizon cuts through a queue and through services.
    counts = {k: int((outcome == k).sum()) for k in ("served", "abandoned", "censored")}
    assert sum(counts.values()) == len(contacts), counts
    assert counts == {k: int((oracle.outcome == k).sum()) for k in counts}
    assert counts["abandoned"] >= case.min_abandoned * len(contacts), counts
    assert counts["censored"] >= case.min_censored, counts
    assert counts["served"] > 0.5 * len(contacts), counts
    in_service = int(np.isnan(df.service_end_s.to_numpy()[outcome == "served"]).sum())
    assert in_service == oracle.in_service > 0


@pytest.mark.parametrize("name", ["priority_strict", "priority_aging"])
def test_priority_cases_tell_the_disciplines_apart(name: str) -> None:
    """The priority cases are sharp: the oracle run with the other discipline disagrees on many contacts."""
    case = CASES[name]
    contacts = draw_contacts(case, SEED)
    horizon_s = case.horizon_h * 3600.0
    own = simpy_oracle(contacts, case.agents, horizon_s, oracle_priority(case))[0]
    others = [None, "strict"] if name == "priority_aging" else [None, "aging:120.0"]
    for other in others:
        alt = simpy_oracle(contacts, case.agents, horizon_s, other)[0]
        differ = int((alt.outcome != own.outcome).sum())
        assert differ >= 0.01 * len(contacts), (other, differ)
    # Urgent customers abandon far less than normal ones under either priority discipline.
    ab = own.outcome == "abandoned"
    assert ab[contacts.urgent].mean() < 0.5 * ab[~contacts.urgent].mean()
