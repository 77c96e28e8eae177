"""Trunk lines and balking against closed forms: Erlang B (M/M/n/n), M/M/n/K, M/M/n/K with balking.

Each check is a Student-t interval over independent replications (level from :mod:`tests.stats_family`) that
must cover the analytic value of :func:`sim.erlang.erlang_b` / :func:`sim.erlang.mmnk`.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import Scenario, single_queue
from sim.engine import run
from sim.erlang import erlang_b, mmnk
from tests.stats_family import assert_covers

R = 60
HANDLE_S = 180.0


def lines_scenario(load: float, n_agents: int, lines: int, **mech) -> Scenario:
    """M/M/n (no abandonment) with ``lines`` trunk lines and optional channel mechanics, 1-day replications."""
    sc = single_queue(
        arrival_rate_per_s=load / HANDLE_S, mean_handle_s=HANDLE_S, n_agents=n_agents, horizon="1d", warmup="1h",
        interval="1h", sl_convention="ignore_abandons",
    )  # fmt: skip
    voice = sc.channels["voice"].model_copy(update={"lines": lines, **mech})
    return sc.model_copy(update={"channels": {"voice": voice}})


def per_replication(sc: Scenario, seed: int = 5) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {k: [] for k in ("block", "balk", "wait", "asa", "sl20")}
    for rep in range(R):
        iv = run(sc, seed=seed, replication=rep).intervals
        iv = iv[iv.interval_start_s >= sc.warmup]
        arrivals = iv.offered.sum() + iv.blocked.sum() + iv.balked.sum()
        out["block"].append(iv.blocked.sum() / arrivals)
        out["balk"].append(iv.balked.sum() / arrivals)
        out["wait"].append(iv.delayed.sum() / arrivals)
        out["asa"].append(iv.wait_answered_s.sum() / iv.answered.sum())
        out["sl20"].append(iv.answered_within_20s.sum() / iv.answered.sum())
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.slow
def test_lines_equal_to_agents_block_as_erlang_b():
    stats = per_replication(lines_scenario(8.0, 10, 10))
    assert stats["wait"].max() == 0.0  # a loss system: nobody waits
    assert_covers(stats["block"], erlang_b(8.0, 10), "M/M/10/10 (Erlang B, 8 Erlangs): blocking")


@pytest.mark.slow
def test_a_finite_queue_matches_m_m_n_k():
    theory = mmnk(9.0 / HANDLE_S, HANDLE_S, 10, 14)
    stats = per_replication(lines_scenario(9.0, 10, 14))
    assert_covers(stats["block"], theory.p_block, "M/M/10/14 (9 Erlangs): blocking")
    assert_covers(stats["wait"], theory.p_wait, "M/M/10/14: P(wait > 0)")
    assert_covers(stats["asa"], theory.asa_s, "M/M/10/14: ASA (s)")


@pytest.mark.slow
def test_balking_by_queue_length_matches_the_birth_death_chain():
    from sim.config import Balking

    balk = Balking(share=0.2, per_waiting=0.05)
    theory = mmnk(10.0 / HANDLE_S, HANDLE_S, 10, 40, balk_share=0.2, balk_per_waiting=0.05)
    stats = per_replication(lines_scenario(10.0, 10, 40, balk=balk))
    assert_covers(stats["balk"], theory.p_balk, "M/M/10/40 with balking (10 Erlangs): balking")
    assert_covers(stats["asa"], theory.asa_s, "M/M/10/40 with balking: ASA (s)")
    assert_covers(stats["sl20"], theory.service_level(20.0), "M/M/10/40 with balking: SL(20 s) of answered")
