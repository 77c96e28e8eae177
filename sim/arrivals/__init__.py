"""Arrival streams: generated (non-homogeneous Poisson: busyness, weekday, promotions, outages) or replayed.

CONTRACT (the engine relies on it):
    iter_arrivals(scenario, streams, *, replay=None) -> Iterator[ArrivalBatch]
yields batches in time order (each batch sorted by ``time_s``; batches do not overlap; one per calendar day of
the scenario, possibly empty), covering arrivals in [0, scenario.horizon). Handle time and patience are drawn
here, at arrival, from their own named streams, so compared policies see the same customers.

Generated arrivals are a true non-homogeneous Poisson process per (channel, intent): the rate is piecewise
constant (intraday slices, promotion windows), and each day draws ``N ~ Poisson(∫λ)`` and places the ``N``
points by inverting the integrated rate. Days are produced lazily, so memory stays flat in the horizon.

Named streams (``sim.streams.Streams``; ``<c>`` channel, ``<i>`` intent; each consumed in arrival order,
day by day):

=================================  ==========================================================================
``busyness``                       one gamma day factor per calendar day (none when ``busyness_cv`` is 0)
``arrivals/<c>/<i>``               the day's Poisson count, then its uniforms (generated mode only)
``handle/<c>/<i>``                 handle time (``scenario.intents[i].handle_for(c)``)
``patience/<c>/<i>``               patience (``scenario.patience_for(c, i)``)
``priority/<c>/<i>``               urgent with probability ``intent.urgent_share`` (no draw at share 0 or 1)
``tier/<c>/<i>``                   vip with probability ``customers.vip_share`` (no draw at share 0 or 1)
``language/<c>/<i>``               language by ``customers.languages`` shares (no draw for a single language)
``customer/<c>/<i>``               customer id uniform in ``[0, population)`` (no draw without a population)
``patience/<c>/<i>/rule<k>``       patience of the contacts matching the intent's ``patience_by`` rule ``k``
``wrap/<c>/<i>``                   wrap-up of each arrival (drawn by the engine, ``sim.engine.wrapup``)
=================================  ==========================================================================

One stream per attribute means no share (0 or otherwise) shifts the draws of another attribute or another
(channel, intent): e.g. changing the urgent share of one intent changes no arrival time nor handle time. Every
attribute is drawn for every generated arrival. Outages are applied by the engine as contacts arrive
(:mod:`sim.engine.outages`), so the arrivals are identical with and without them. Without a population, customer
ids are unique and increasing in
arrival order over the whole run. Replay draws a field that the log lacks from the same streams, per (channel,
intent) in time order (log order for ties).

Modules: :mod:`~sim.arrivals.batch` (batches, calendar, attribute draws), :mod:`~sim.arrivals.generated` (the
Poisson model and its expected rates), :mod:`~sim.arrivals.replay` (a log's rows checked and replayed). Reading
and writing log files is disk I/O and lives in ``experiments.replay``.
"""

from __future__ import annotations

from collections.abc import Iterator

from sim.arrivals.batch import DAY_S, PRIORITY_NAMES, TIER_NAMES, ArrivalBatch
from sim.arrivals.generated import expected_rates, generated_batches
from sim.arrivals.replay import (
    LOG_COLUMNS,
    ReplayError,
    ReplayLog,
    arrival_frame,
    needed_columns,
    prepare_replay,
    replay_batches,
    replay_config_for_log,
)
from sim.config import GeneratedArrivals, Scenario
from sim.streams import Streams

__all__ = [
    "DAY_S", "LOG_COLUMNS", "PRIORITY_NAMES", "TIER_NAMES", "ArrivalBatch", "ReplayError", "ReplayLog",
    "arrival_frame", "expected_rates", "iter_arrivals", "needed_columns", "prepare_replay", "replay_config_for_log",
]  # fmt: skip


def iter_arrivals(scenario: Scenario, streams: Streams, *, replay: ReplayLog | None = None) -> Iterator[ArrivalBatch]:
    """Arrivals of one replication, one time-sorted batch per calendar day.

    The batches, and every random draw, are produced lazily day by day.

    Args:
        scenario: The scenario; ``scenario.arrivals.kind`` selects generated or replayed arrivals.
        streams: Named random streams of this replication.
        replay: The checked log of a replayed scenario (``experiments.replay.load_replay_log`` reads it once per
            run); required for ``kind: replay``.

    Returns:
        An iterator of :class:`ArrivalBatch`, one per calendar day overlapping ``[0, horizon)`` seconds (the
        first and last may be partial days), in time order, each sorted by ``time_s``.

    Raises:
        ValueError: A replayed scenario without its log.

    Example:
        >>> import yaml
        >>> from pathlib import Path
        >>> from sim.config import Scenario
        >>> from sim.streams import Streams
        >>> text = Path("experiments/scenarios/erlang_c_textbook.yaml").read_text()
        >>> sc = Scenario.model_validate(yaml.safe_load(text))  # 4,800 calls a day for 5 days
        >>> batches = list(iter_arrivals(sc, Streams(seed=1)))
        >>> len(batches), all(b.time_s[0] < b.time_s[-1] for b in batches)
        (5, True)
    """
    if isinstance(scenario.arrivals, GeneratedArrivals):
        return generated_batches(scenario, streams)
    if replay is None:
        raise ValueError(
            "a replayed scenario needs its checked log: pass replay=experiments.replay.load_replay_log(scenario, "
            "base_dir), or run it with experiments.simulate_scenario"
        )
    return replay_batches(scenario, streams, replay)
