"""Generated arrivals: a non-homogeneous Poisson process per (channel, intent).

The rate has busyness, weekday factors, promotions and outages; :func:`expected_rates` gives the same model's
expected rates without draws (for Erlang staffing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sim.arrivals.batch import DAY_S, ArrivalBatch, Day, Draws, calendar_days, merge_batches, sim_seconds
from sim.config import WEEKDAYS, GeneratedArrivals, Scenario
from sim.streams import Streams

__all__ = ["expected_rates", "generated_batches"]

# ------------------------------------------------------------------------------------------------ generated


@dataclass(frozen=True)
class _Window:
    """A time window in simulation seconds ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    factor: float = 1.0


@dataclass(frozen=True)
class _OutageRule:
    start_s: float
    end_s: float
    moved_to: str | None
    moved_code: int
    moved_share: float


@dataclass(frozen=True)
class _ChannelPlan:
    """What the generator needs per channel, precomputed once."""

    name: str
    code: int
    daily_volume: float
    weights: np.ndarray  # intraday slice weights (one weight for a flat day)
    intents: tuple[tuple[str, int, float], ...]  # (name, code, share) with share > 0
    promotions: tuple[_Window, ...]
    outages: tuple[_OutageRule, ...]


def _channel_plans(scenario: Scenario, arrivals: GeneratedArrivals) -> list[_ChannelPlan]:
    channel_codes = {name: k for k, name in enumerate(scenario.channels)}
    intent_codes = {name: k for k, name in enumerate(scenario.intents)}
    plans = []
    for name, spec in arrivals.channels.items():
        total = sum(spec.intent_mix.values())
        intents = tuple(
            (intent, intent_codes[intent], weight / total) for intent, weight in spec.intent_mix.items() if weight > 0
        )
        weights = np.ones(1) if spec.intraday == "flat" else np.asarray(spec.intraday, dtype=float)
        promotions = tuple(
            _Window(sim_seconds(scenario, p.start), sim_seconds(scenario, p.end), p.factor)
            for p in arrivals.promotions
            if p.channels is None or name in p.channels
        )
        outages = tuple(
            _OutageRule(
                sim_seconds(scenario, o.start),
                sim_seconds(scenario, o.end),
                o.moved_to,
                channel_codes[o.moved_to] if o.moved_to is not None else -1,
                o.moved_share if o.moved_to is not None else 0.0,
            )
            for o in arrivals.outages
            if o.channel == name
        )
        plans.append(_ChannelPlan(name, channel_codes[name], spec.daily_volume, weights, intents, promotions, outages))
    return plans


def _busyness(rng: np.random.Generator, cv: float) -> float:
    """A gamma day factor with mean 1 and coefficient of variation ``cv`` (exactly 1, no draw, at cv 0)."""
    if cv <= 0.0:
        return 1.0
    shape = 1.0 / (cv * cv)
    return float(rng.gamma(shape, 1.0 / shape))


def _rate_segments(plan: _ChannelPlan, day: Day, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant arrival rate of a channel over the covered part of a day.

    Args:
        plan: The channel.
        day: The day; only ``[day.lo_s, day.hi_s)`` is covered.
        factor: Contacts per day for the whole channel (daily volume × day-of-week × busyness).

    Returns:
        ``edges`` (K + 1 ascending times in seconds) and ``rates`` (K rates in contacts per second).
    """
    n_slices = len(plan.weights)
    slice_s = DAY_S / n_slices
    cuts = [day.midnight_s + slice_s * np.arange(1, n_slices)]
    cuts += [np.array([w.start_s, w.end_s]) for w in plan.promotions]
    inner = np.concatenate(cuts)
    inner = inner[(inner > day.lo_s) & (inner < day.hi_s)]
    edges = np.unique(np.concatenate(([day.lo_s, day.hi_s], inner)))
    mids = 0.5 * (edges[:-1] + edges[1:])
    slice_index = np.clip(((mids - day.midnight_s) // slice_s).astype(np.int64), 0, n_slices - 1)
    rates = plan.weights[slice_index] * (factor / (plan.weights.sum() * slice_s))
    for window in plan.promotions:
        rates[(mids >= window.start_s) & (mids < window.end_s)] *= window.factor
    return edges, rates


def _nhpp_times(rng: np.random.Generator, edges: np.ndarray, rates: np.ndarray, share: float) -> np.ndarray:
    """Points of a Poisson process with rate ``share × rates`` on ``[edges[0], edges[-1])``, ascending.

    Draws ``N ~ Poisson(Λ)`` with ``Λ = share × ∫rates``, then ``N`` sorted uniforms mapped through the
    inverse of the integrated rate (order statistics of the normalised intensity): exact for a
    piecewise-constant rate.
    """
    cum = np.concatenate(([0.0], np.cumsum(rates * np.diff(edges))))
    mass = share * cum[-1]
    if mass <= 0.0:
        return np.empty(0)
    n = int(rng.poisson(mass))
    if n == 0:
        return np.empty(0)
    y = np.sort(rng.random(n)) * cum[-1]
    # cum[k] <= y < cum[k + 1], so segment k has positive mass and rates[k] > 0.
    k = np.searchsorted(cum, y, side="right") - 1
    times = edges[k] + (y - cum[k]) / rates[k]
    return np.minimum(times, np.nextafter(edges[-1], -np.inf))


def _draw_part(draws: Draws, plan: _ChannelPlan, intent: str, intent_code: int, times: np.ndarray) -> ArrivalBatch:
    """Attributes of the arrivals of one (channel, intent) on one day, in arrival order."""
    n = len(times)
    channel = plan.name
    priority = draws.priority(channel, intent, n)
    return ArrivalBatch(
        time_s=times,
        channel=np.full(n, plan.code, dtype=np.int16),
        intent=np.full(n, intent_code, dtype=np.int16),
        priority=priority,
        tier=draws.tier(channel, intent, n),
        language=draws.language(channel, intent, n),
        customer_id=draws.customer(channel, intent, n),
        handle_s=draws.handle(channel, intent, n),
        patience_s=draws.patience_at(channel, intent, times, priority),
    )


def generated_batches(scenario: Scenario, streams: Streams) -> Iterator[ArrivalBatch]:
    """The generated arrivals of one replication, one batch per calendar day (see ``iter_arrivals``).

    Outages are not applied here: every arrival is generated on its own channel, and the engine decides, as it
    happens, what a contact arriving on a failed channel does (:mod:`sim.engine.outages`), the same way for
    generated arrivals, repeats, chasers and retries.
    """
    arrivals = scenario.arrivals
    assert isinstance(arrivals, GeneratedArrivals)
    plans = _channel_plans(scenario, arrivals)
    draws = Draws(scenario, streams)
    busyness_rng = streams.get("busyness")
    next_customer = 0
    for day in calendar_days(scenario):
        day_factor = arrivals.day_of_week.get(WEEKDAYS[day.date.weekday()], 1.0)
        day_factor *= _busyness(busyness_rng, arrivals.busyness_cv)
        parts = []
        for plan in plans:
            if plan.daily_volume <= 0.0 or day_factor <= 0.0:
                continue
            edges, rates = _rate_segments(plan, day, plan.daily_volume * day_factor)
            for intent, intent_code, share in plan.intents:
                times = _nhpp_times(streams.get(f"arrivals/{plan.name}/{intent}"), edges, rates, share)
                parts.append(_draw_part(draws, plan, intent, intent_code, times))
        batch, next_customer = merge_batches(parts, next_customer)
        yield batch



# ------------------------------------------------------------------------------------------- expected rates


def expected_rates(scenario: Scenario, slice_s: float) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Expected arrival rate per (channel, intent) and time slice of the generated-arrivals model, without draws.

    The rate is what the generator would use with a busyness factor of 1 (its mean): daily volume x day-of-week
    factor x intraday profile x promotion factors, with outages applied in expectation (inside an outage window
    the channel's rate drops to zero and ``moved_share`` of it is added to ``(moved_to, intent)``; where outages
    of a channel overlap, the first listed applies, as in the engine). Retries and an outage notice's shares are
    not modelled here (a retry's delay is random: its load lands after the window).
    Slices are aligned to midnight of the start date, so the first and last may be partial; the rate of a slice is
    the mean rate over its covered part.

    Args:
        scenario: A scenario with generated arrivals.
        slice_s: Slice length in seconds; must divide a day (e.g. 900, 1800, 3600).

    Returns:
        ``times_s``, the start of each slice in seconds from the scenario start (clipped to 0), and per
        ``(channel name, intent name)`` an array of mean arrival rates per second, one per slice. Every
        (channel, intent) of an ``intent_mix`` with positive weight is present, plus the destinations of outages.

    Raises:
        ValueError: For replayed arrivals, or a slice that does not divide a day.

    Example:
        >>> from sim.config import single_queue
        >>> times, rates = expected_rates(single_queue(arrival_rate_per_s=0.05, mean_handle_s=180, n_agents=12), 3600)
        >>> len(times), round(float(rates["voice", "general"][0]), 6)
        (72, 0.05)
    """
    arrivals = scenario.arrivals
    if not isinstance(arrivals, GeneratedArrivals):
        raise ValueError("expected rates need generated arrivals (scenario.arrivals.kind: generated)")
    per_day = DAY_S / slice_s if slice_s > 0 else 0.0
    if per_day < 1.0 or abs(per_day - round(per_day)) > 1e-9:
        raise ValueError(f"slice must divide a day (e.g. 15min, 30min, 1h), got {slice_s:g}s")
    start = scenario.start
    offset0 = (start - dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)).total_seconds()
    horizon = scenario.horizon
    k0 = int(np.floor(offset0 / slice_s + 1e-9))
    k1 = int(np.ceil((offset0 + horizon) / slice_s - 1e-9))
    bounds = np.clip(np.arange(k0, k1 + 1, dtype=float) * slice_s - offset0, 0.0, horizon)
    widths = np.diff(bounds)
    days = list(calendar_days(scenario))
    rates: dict[tuple[str, str], np.ndarray] = {}
    for plan in _channel_plans(scenario, arrivals):
        for intent, _, _ in plan.intents:
            rates.setdefault((plan.name, intent), np.zeros(len(widths)))
        for rule in plan.outages:
            if rule.moved_to is not None and rule.moved_share > 0.0:
                for intent, _, _ in plan.intents:
                    rates.setdefault((rule.moved_to, intent), np.zeros(len(widths)))
        segments = []
        for day in days:
            day_factor = arrivals.day_of_week.get(WEEKDAYS[day.date.weekday()], 1.0)
            if plan.daily_volume <= 0.0 or day_factor <= 0.0:
                continue
            edges, seg_rates = _rate_segments(plan, day, plan.daily_volume * day_factor)
            segments.append((edges[:-1], edges[1:], seg_rates))
        if not segments:
            continue
        lo, hi, rate = (np.concatenate(parts) for parts in zip(*segments, strict=True))
        cum_lo = np.concatenate(([0.0], np.cumsum(rate * (hi - lo))))[:-1]

        def integral(t: np.ndarray, lo=lo, hi=hi, rate=rate, cum_lo=cum_lo) -> np.ndarray:
            """Expected arrivals of the channel in ``[0, t)`` (piecewise-linear, exact between edges)."""
            k = np.clip(np.searchsorted(lo, t, side="right") - 1, 0, len(lo) - 1)
            return cum_lo[k] + rate[k] * np.clip(t - lo[k], 0.0, hi[k] - lo[k])

        cuts = [bounds] + [np.clip([r.start_s, r.end_s], 0.0, horizon) for r in plan.outages]
        points = np.unique(np.concatenate(cuts))
        mass = np.diff(integral(points))
        slot = np.clip(np.searchsorted(bounds, points[:-1], side="right") - 1, 0, len(widths) - 1)
        mids = 0.5 * (points[:-1] + points[1:])
        free = np.ones(len(mass), dtype=bool)
        for rule in plan.outages:
            hit = free & (mids >= rule.start_s) & (mids < rule.end_s)
            free &= ~hit
            if rule.moved_to is not None and rule.moved_share > 0.0:
                moved = np.bincount(slot[hit], weights=mass[hit] * rule.moved_share, minlength=len(widths))
                for intent, _, share in plan.intents:
                    rates[rule.moved_to, intent] += share * moved / widths
        kept = np.bincount(slot[free], weights=mass[free], minlength=len(widths))
        for intent, _, share in plan.intents:
            rates[plan.name, intent] += share * kept / widths
    return bounds[:-1].copy(), rates
