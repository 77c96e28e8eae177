"""Arrival streams: generated (non-homogeneous Poisson: busyness, weekday, promotions, outages) or replayed.

CONTRACT (the engine relies on it):
    iter_arrivals(scenario, streams, *, base_dir=None) -> Iterator[ArrivalBatch]
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
``outage/<c>/<i>``                 moved-or-dropped decision of each arrival of ``c`` inside an outage
``handle/<dest>/<i>/moved``        handle time of a contact moved to ``dest`` by an outage
``patience/<dest>/<i>/moved``      patience of a contact moved to ``dest`` by an outage
=================================  ==========================================================================

One stream per attribute means no share (0 or otherwise) shifts the draws of another attribute or another
(channel, intent): e.g. changing the urgent share of one intent changes no arrival time nor handle time. Every
attribute is drawn for every generated arrival, also for those an outage later drops, so arrivals outside an
outage are identical with and without it. Without a population, customer ids are unique and increasing in
arrival order over the whole run. Replay draws a field that the log lacks from the same streams, per (channel,
intent) in time order (log order for ties).
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import WEEKDAYS, GeneratedArrivals, ReplayArrivals, Scenario
from sim.streams import Streams
from sim.units import parse_duration

__all__ = [
    "ArrivalBatch",
    "ReplayError",
    "data_dir",
    "iter_arrivals",
    "replay_config_for_log",
    "replay_report",
    "resolve_log_path",
    "write_arrival_log",
]

DAY_S = 86400.0
"""Length of a calendar day in seconds (the scenario calendar has no DST jumps)."""

PRIORITY_NAMES: tuple[str, ...] = ("normal", "urgent")
TIER_NAMES: tuple[str, ...] = ("regular", "vip")


@dataclass(frozen=True)
class ArrivalBatch:
    """A time-sorted chunk of arrivals as parallel numpy arrays (one row per contact).

    Codes index the scenario's dicts in declaration order: ``channel`` into ``list(scenario.channels)``,
    ``intent`` into ``list(scenario.intents)``, ``language`` into ``list(scenario.customers.languages)``.

    Attributes:
        time_s: Arrival times in seconds from the scenario start (float64, ascending).
        channel: Channel codes (int16).
        intent: Intent codes (int16).
        priority: 1 = urgent, 0 = normal (int8).
        tier: 1 = vip, 0 = regular (int8).
        language: Language codes (int16).
        customer_id: Customer ids (int64).
        handle_s: Base handle time in seconds at proficiency 1.0, before chat inflation (float64).
        patience_s: Patience in seconds; ``inf`` never abandons (float64).
    """

    time_s: np.ndarray
    channel: np.ndarray
    intent: np.ndarray
    priority: np.ndarray
    tier: np.ndarray
    language: np.ndarray
    customer_id: np.ndarray
    handle_s: np.ndarray
    patience_s: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)


_DTYPES: dict[str, Any] = {
    "time_s": np.float64,
    "channel": np.int16,
    "intent": np.int16,
    "priority": np.int8,
    "tier": np.int8,
    "language": np.int16,
    "customer_id": np.int64,
    "handle_s": np.float64,
    "patience_s": np.float64,
}


class ReplayError(ValueError):
    """A replay log cannot be used as configured (missing file or column, bad rows, unmapped values)."""


# ---------------------------------------------------------------------------------------------- entry point


def iter_arrivals(
    scenario: Scenario, streams: Streams, *, base_dir: str | os.PathLike[str] | None = None
) -> Iterator[ArrivalBatch]:
    """Arrivals of one replication, one time-sorted batch per calendar day.

    A replay log is read and checked when this is called (so a bad log fails before the run starts); the
    batches themselves, and every random draw, are produced lazily day by day.

    Args:
        scenario: The scenario; ``scenario.arrivals.kind`` selects generated or replayed arrivals.
        streams: Named random streams of this replication.
        base_dir: Folder against which a relative replay ``path`` is resolved (the scenario file's folder;
            default: the current directory).

    Returns:
        An iterator of :class:`ArrivalBatch`, one per calendar day overlapping ``[0, horizon)`` seconds (the
        first and last may be partial days), in time order, each sorted by ``time_s``.

    Raises:
        ReplayError: If a replay log is missing, malformed or does not match the mapping.

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
        return _generated_batches(scenario, streams)
    log = _load_replay(scenario, base_dir)
    return _replay_batches(scenario, streams, log)


# ------------------------------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Day:
    """One calendar day of the scenario, in simulation seconds."""

    date: dt.date
    midnight_s: float  # may be negative: the first day when the scenario starts mid-day
    lo_s: float  # covered part of the day: [lo_s, hi_s) = [midnight, midnight + 1 day) ∩ [0, horizon)
    hi_s: float


def _calendar_days(scenario: Scenario) -> Iterator[_Day]:
    """Calendar days overlapping ``[0, horizon)``, from the day of ``scenario.start``."""
    start = scenario.start
    first_midnight = dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)
    offset_s = (first_midnight - start).total_seconds()
    k = 0
    while offset_s + k * DAY_S < scenario.horizon:
        midnight_s = offset_s + k * DAY_S
        yield _Day(
            date=start.date() + dt.timedelta(days=k),
            midnight_s=midnight_s,
            lo_s=max(0.0, midnight_s),
            hi_s=min(scenario.horizon, midnight_s + DAY_S),
        )
        k += 1


def _sim_seconds(scenario: Scenario, when: dt.datetime) -> float:
    """Seconds from the scenario start to ``when``."""
    return (when - scenario.start).total_seconds()


# ------------------------------------------------------------------------------------------ attribute draws


class _Draws:
    """Draws contact attributes from their named streams (see the module docstring for the names)."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        self.streams = streams
        shares = np.array(list(scenario.customers.languages.values()), dtype=float)
        self.language_cum = np.cumsum(shares / shares.sum())

    def handle(self, channel: str, intent: str, n: int, *, moved: bool = False) -> np.ndarray:
        """Handle times in seconds."""
        if n == 0:
            return np.empty(0)
        rng = self.streams.get(f"handle/{channel}/{intent}" + ("/moved" if moved else ""))
        return np.asarray(self.scenario.intents[intent].handle_for(channel).sample(rng, n), dtype=float)

    def patience(self, channel: str, intent: str, n: int, *, moved: bool = False) -> np.ndarray:
        """Patience in seconds (``inf``: never abandons)."""
        if n == 0:
            return np.empty(0)
        rng = self.streams.get(f"patience/{channel}/{intent}" + ("/moved" if moved else ""))
        return np.asarray(self.scenario.patience_for(channel, intent).sample(rng, n), dtype=float)

    def priority(self, channel: str, intent: str, n: int) -> np.ndarray:
        """Priority codes (1 = urgent)."""
        share = self.scenario.intents[intent].urgent_share
        return self._bernoulli(f"priority/{channel}/{intent}", share, n)

    def tier(self, channel: str, intent: str, n: int) -> np.ndarray:
        """Tier codes (1 = vip)."""
        return self._bernoulli(f"tier/{channel}/{intent}", self.scenario.customers.vip_share, n)

    def language(self, channel: str, intent: str, n: int) -> np.ndarray:
        """Language codes, by the normalised language shares."""
        if len(self.language_cum) == 1 or n == 0:
            return np.zeros(n, dtype=np.int16)
        u = self.streams.get(f"language/{channel}/{intent}").random(n)
        codes = np.searchsorted(self.language_cum, u, side="right")
        return np.minimum(codes, len(self.language_cum) - 1).astype(np.int16)

    def customer(self, channel: str, intent: str, n: int) -> np.ndarray:
        """Customer ids uniform in ``[0, population)``, or -1 (a new unique id is assigned later)."""
        population = self.scenario.customers.population
        if population is None or n == 0:
            return np.full(n, -1, dtype=np.int64)
        return self.streams.get(f"customer/{channel}/{intent}").integers(0, population, n, dtype=np.int64)

    def _bernoulli(self, name: str, share: float, n: int) -> np.ndarray:
        if share <= 0.0 or n == 0:
            return np.zeros(n, dtype=np.int8)
        if share >= 1.0:
            return np.ones(n, dtype=np.int8)
        return (self.streams.get(name).random(n) < share).astype(np.int8)


def _empty_batch() -> ArrivalBatch:
    return ArrivalBatch(**{name: np.empty(0, dtype=dtype) for name, dtype in _DTYPES.items()})


def _merge(parts: list[ArrivalBatch], next_customer: int) -> tuple[ArrivalBatch, int]:
    """Concatenate parts, sort stably by time and give customers marked -1 new unique ids.

    Returns:
        The merged batch and the next unused unique customer id.
    """
    if not parts:
        return _empty_batch(), next_customer
    cols = {
        name: np.concatenate([getattr(p, name) for p in parts]).astype(dtype, copy=False)
        for name, dtype in _DTYPES.items()
    }
    order = np.argsort(cols["time_s"], kind="stable")
    cols = {name: values[order] for name, values in cols.items()}
    new = cols["customer_id"] < 0
    n_new = int(new.sum())
    if n_new:
        cols["customer_id"][new] = np.arange(next_customer, next_customer + n_new, dtype=np.int64)
    return ArrivalBatch(**cols), next_customer + n_new


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
            _Window(_sim_seconds(scenario, p.start), _sim_seconds(scenario, p.end), p.factor)
            for p in arrivals.promotions
            if p.channels is None or name in p.channels
        )
        outages = tuple(
            _OutageRule(
                _sim_seconds(scenario, o.start),
                _sim_seconds(scenario, o.end),
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


def _rate_segments(plan: _ChannelPlan, day: _Day, factor: float) -> tuple[np.ndarray, np.ndarray]:
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


def _draw_part(draws: _Draws, plan: _ChannelPlan, intent: str, intent_code: int, times: np.ndarray) -> ArrivalBatch:
    """Attributes of the arrivals of one (channel, intent) on one day, in arrival order."""
    n = len(times)
    channel = plan.name
    return ArrivalBatch(
        time_s=times,
        channel=np.full(n, plan.code, dtype=np.int16),
        intent=np.full(n, intent_code, dtype=np.int16),
        priority=draws.priority(channel, intent, n),
        tier=draws.tier(channel, intent, n),
        language=draws.language(channel, intent, n),
        customer_id=draws.customer(channel, intent, n),
        handle_s=draws.handle(channel, intent, n),
        patience_s=draws.patience(channel, intent, n),
    )


def _apply_outages(part: ArrivalBatch, plan: _ChannelPlan, intent: str, draws: _Draws) -> ArrivalBatch:
    """Move a share of the arrivals inside an outage of the channel to another channel; drop the rest.

    Only arrivals still on their original channel are affected (a moved contact is not moved again). A moved
    contact keeps its time, intent, priority, tier, language and customer; its handle time and patience are
    drawn from the destination channel's distributions (``.../moved`` streams).
    """
    keep = np.ones(len(part), dtype=bool)
    for rule in plan.outages:
        hit = np.flatnonzero(
            keep & (part.channel == plan.code) & (part.time_s >= rule.start_s) & (part.time_s < rule.end_s)
        )
        if hit.size == 0:
            continue
        if 0.0 < rule.moved_share < 1.0:
            u = draws.streams.get(f"outage/{plan.name}/{intent}").random(hit.size)
            moved, dropped = hit[u < rule.moved_share], hit[u >= rule.moved_share]
        elif rule.moved_share >= 1.0:
            moved, dropped = hit, hit[:0]
        else:
            moved, dropped = hit[:0], hit
        keep[dropped] = False
        if moved.size and rule.moved_to is not None:
            part.channel[moved] = rule.moved_code
            part.handle_s[moved] = draws.handle(rule.moved_to, intent, moved.size, moved=True)
            part.patience_s[moved] = draws.patience(rule.moved_to, intent, moved.size, moved=True)
    if keep.all():
        return part
    return ArrivalBatch(**{name: getattr(part, name)[keep] for name in _DTYPES})


def _generated_batches(scenario: Scenario, streams: Streams) -> Iterator[ArrivalBatch]:
    arrivals = scenario.arrivals
    assert isinstance(arrivals, GeneratedArrivals)
    plans = _channel_plans(scenario, arrivals)
    draws = _Draws(scenario, streams)
    busyness_rng = streams.get("busyness")
    next_customer = 0
    for day in _calendar_days(scenario):
        day_factor = arrivals.day_of_week.get(WEEKDAYS[day.date.weekday()], 1.0)
        day_factor *= _busyness(busyness_rng, arrivals.busyness_cv)
        parts = []
        for plan in plans:
            if plan.daily_volume <= 0.0 or day_factor <= 0.0:
                continue
            edges, rates = _rate_segments(plan, day, plan.daily_volume * day_factor)
            for intent, intent_code, share in plan.intents:
                times = _nhpp_times(streams.get(f"arrivals/{plan.name}/{intent}"), edges, rates, share)
                part = _draw_part(draws, plan, intent, intent_code, times)
                if plan.outages and len(part):
                    part = _apply_outages(part, plan, intent, draws)
                parts.append(part)
        batch, next_customer = _merge(parts, next_customer)
        yield batch


# --------------------------------------------------------------------------------------------------- replay


def data_dir() -> Path:
    """The data folder that ``${CCSIM_DATA}`` in a replay path stands for.

    Rule: the ``CCSIM_DATA`` environment variable if it is set (``~`` expanded; a relative value is relative
    to the current directory), else ``shared/data`` next to the repository checkout, i.e.
    ``Path(sim/arrivals.py).resolve().parents[2] / "shared" / "data"`` (``/work/shared/data`` for a checkout
    at ``/work/main``).

    Returns:
        The folder (it may not exist).
    """
    env = os.environ.get("CCSIM_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def resolve_log_path(path: str, base_dir: str | os.PathLike[str] | None = None) -> Path:
    """Expand ``${CCSIM_DATA}`` (see :func:`data_dir`) and resolve a relative path against ``base_dir``.

    Args:
        path: The ``path`` of a replay config.
        base_dir: The scenario file's folder (default: the current directory).

    Returns:
        The log file's path.
    """
    data = str(data_dir())
    expanded = path.replace("${CCSIM_DATA}", data).replace("$CCSIM_DATA", data)
    resolved = Path(expanded).expanduser()
    if not resolved.is_absolute():
        resolved = Path(base_dir if base_dir is not None else Path.cwd()) / resolved
    return resolved


def _log_format(path: Path, configured: str = "auto") -> str:
    if configured != "auto":
        return configured
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if re.search(r"\.(csv|txt)(\.(gz|bz2|xz|zst|zip))?$", name):
        return "csv"
    raise ReplayError(f"{path}: cannot tell the format from the suffix; use .csv, .csv.gz or .parquet, or set format")


@dataclass
class _Problems:
    """Bad rows found while checking a log, reported together in one :class:`ReplayError`."""

    path: Path
    row_label: str  # "line" (CSV: header is line 1) or "row" (Parquet: first data row is row 1)
    items: list[str] = field(default_factory=list)

    def add(self, column: str, what: str, rows: np.ndarray, values: pd.Series) -> None:
        """Record ``rows`` (positions in the file) of ``column`` that are bad, with their ``values``."""
        if rows.size == 0:
            return
        offset = 2 if self.row_label == "line" else 1
        first = ", ".join(f"{self.row_label} {r + offset}: {values.iloc[r]!r}" for r in rows[:5])
        self.items.append(f"column {column!r}: {rows.size} row(s) with {what}; first: {first}")

    def raise_if_any(self) -> None:
        """Raise one :class:`ReplayError` listing every problem."""
        if self.items:
            raise ReplayError(f"{self.path}: bad data in replay log:\n  " + "\n  ".join(self.items))


@dataclass
class _ReplayLog:
    """Checked replay rows, sorted by arrival time; -1 / NaN / ``customer_known`` False mark "draw this"."""

    time_s: np.ndarray
    channel: np.ndarray
    intent: np.ndarray
    priority: np.ndarray
    tier: np.ndarray
    language: np.ndarray
    customer_id: np.ndarray
    customer_known: np.ndarray
    handle_s: np.ndarray
    patience_s: np.ndarray
    report: dict[str, Any]


def _text(series: pd.Series) -> pd.Series:
    """Cell values as stripped strings, ``""`` for empty/NA (integral floats print without ``.0``)."""
    if pd.api.types.is_float_dtype(series):
        finite = series.dropna()
        if len(finite) and bool(np.all(np.isfinite(finite)) and np.all(finite % 1 == 0)):
            series = series.astype("Int64")
    return series.astype("string").fillna("").astype(str).str.strip()


def _read_log(path: Path, fmt: str, needed: list[str]) -> pd.DataFrame:
    """Read the needed columns of a log (CSV cells as strings), checking that they exist."""
    if not path.is_file():
        hint = " (set CCSIM_DATA to the data folder)" if str(data_dir()) in str(path) else ""
        raise ReplayError(f"{path}: replay log not found{hint}")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            available = list(pq.read_schema(path).names)
        else:
            available = list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError as exc:
        raise ReplayError(f"{path}: the file is empty (no header line)") from exc
    except Exception as exc:
        raise ReplayError(f"{path}: cannot read as {fmt}: {exc}") from exc
    absent = [c for c in needed if c not in available]
    if absent:
        raise ReplayError(f"{path}: column(s) {absent} not in the file; it has {available}")
    if fmt == "parquet":
        frame = pd.read_parquet(path, columns=needed)
    else:
        frame = pd.read_csv(path, usecols=needed, dtype=str, keep_default_na=False)
    if frame.empty:
        raise ReplayError(f"{path}: the file has a header but no data rows")
    return frame.reset_index(drop=True)


def _needed_columns(cfg: ReplayArrivals) -> list[str]:
    names = list(cfg.columns.values())
    names += [cfg.columns.get(key, key) for key in cfg.drop]
    names += cfg.require + cfg.require_any
    return list(dict.fromkeys(names))


def _skip_rows(frame: pd.DataFrame, cfg: ReplayArrivals) -> tuple[np.ndarray, dict[str, int]]:
    """Rows kept after ``drop``, ``require`` and ``require_any``, with a count per skip reason."""
    keep = np.ones(len(frame), dtype=bool)
    skipped: dict[str, int] = {}

    def skip(reason: str, rows: np.ndarray) -> None:
        rows = keep & rows
        if rows.any():
            skipped[reason] = skipped.get(reason, 0) + int(rows.sum())
            keep[rows] = False

    for key, values in cfg.drop.items():
        column = cfg.columns.get(key, key)
        text = _text(frame[column]).to_numpy()
        for value in values:
            skip(f"drop {column}={value}", text == value)
    for column in cfg.require:
        skip(f"require {column}", (_text(frame[column]) == "").to_numpy())
    if cfg.require_any:
        empty = np.logical_and.reduce([(_text(frame[c]) == "").to_numpy() for c in cfg.require_any])
        skip(f"require_any {cfg.require_any}", empty)
    return keep, skipped


def _arrival_seconds(
    frame: pd.DataFrame, keep: np.ndarray, cfg: ReplayArrivals, scenario: Scenario, problems: _Problems
) -> np.ndarray:
    """Arrival times in simulation seconds (NaN for rows not kept); bad values go to ``problems``."""
    column = cfg.columns["arrival"]
    raw = frame[column]
    out = np.full(len(frame), np.nan)
    if cfg.arrival_format == "seconds":
        values = pd.to_numeric(raw.where(_text(raw) != "", None), errors="coerce").to_numpy(dtype=float)
        bad = keep & ~np.isfinite(values)
        problems.add(column, "an empty or non-numeric arrival time (seconds)", np.flatnonzero(bad), raw)
        out[keep & ~bad] = values[keep & ~bad] + cfg.time_offset
        return out
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = raw
    else:
        text = _text(raw)
        stamps = pd.to_datetime(text.where(text != "", None), format=cfg.timestamp_format or "ISO8601", errors="coerce")
    bad = keep & stamps.isna().to_numpy()
    what = f"an empty or unparseable timestamp (expected {cfg.timestamp_format or 'ISO 8601'})"
    problems.add(column, what, np.flatnonzero(bad), raw)
    window_start = cfg.window_start if cfg.window_start is not None else scenario.start
    try:
        seconds = (stamps - pd.Timestamp(window_start)).dt.total_seconds().to_numpy(dtype=float)
    except TypeError as exc:
        raise ReplayError(
            f"{problems.path}: column {column!r}: timestamps and window_start ({window_start}) must both be "
            f"timezone-aware or both naive: {exc}"
        ) from exc
    out[keep & ~bad] = seconds[keep & ~bad] + cfg.time_offset
    return out


def _allowed_names(field_name: str, scenario: Scenario) -> list[str]:
    """Scenario names of a categorical field, in code order."""
    if field_name == "channel":
        return list(scenario.channels)
    if field_name == "intent":
        return list(scenario.intents)
    if field_name == "language":
        return list(scenario.customers.languages)
    return list(PRIORITY_NAMES if field_name == "priority" else TIER_NAMES)


def _categorical_codes(
    field_name: str,
    frame: pd.DataFrame,
    rows: np.ndarray,
    cfg: ReplayArrivals,
    scenario: Scenario,
    problems: _Problems,
) -> np.ndarray:
    """Codes of a categorical field for ``rows`` (-1: drawn from the scenario)."""
    allowed = _allowed_names(field_name, scenario)
    code_of = {name: k for k, name in enumerate(allowed)}
    default = cfg.defaults.get(field_name)
    if default is not None and default not in code_of:
        raise ReplayError(f"defaults.{field_name}: unknown {field_name} {default!r}; known: {allowed}")
    default_code = code_of[default] if default is not None else -1
    column = cfg.columns.get(field_name)
    if column is None:
        return np.full(rows.size, default_code, dtype=np.int16)
    mapping = cfg.values.get(field_name)
    if mapping is None:
        mapping = {name: name for name in allowed}
    for log_value, name in mapping.items():
        if name not in code_of:
            raise ReplayError(
                f"values.{field_name}: log value {log_value!r} maps to unknown {field_name} {name!r}; known: {allowed}"
            )
    text = _text(frame[column]).iloc[rows]
    empty = text.isin(["", *cfg.missing.get(field_name, [])]).to_numpy()
    codes = text.map({value: code_of[name] for value, name in mapping.items()}).to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    unmapped = ~empty & np.isnan(codes)
    hint = f"no mapping in values.{field_name}" if field_name in cfg.values else f"an unknown {field_name} name"
    problems.add(column, f"{hint} (and not in drop)", rows[unmapped], frame[column])
    if field_name in ("channel", "intent") and default is None:
        problems.add(column, f"an empty {field_name} (and no defaults.{field_name})", rows[empty], frame[column])
    codes[empty] = default_code
    codes[unmapped] = -1
    return codes.astype(np.int16)


def _duration_values(
    field_name: str, frame: pd.DataFrame, rows: np.ndarray, cfg: ReplayArrivals, problems: _Problems
) -> np.ndarray:
    """Durations in seconds for ``rows`` (NaN: drawn from the scenario)."""
    default = parse_duration(cfg.defaults[field_name]) if field_name in cfg.defaults else np.nan
    column = cfg.columns.get(field_name)
    if column is None:
        return np.full(rows.size, default)
    raw = frame[column].iloc[rows]
    text = _text(raw)
    empty = text.str.lower().isin(["", "nan"]).to_numpy()
    numbers = pd.to_numeric(text.mask(text.str.lower().isin(["", "nan"])), errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan, copy=True)
    nonnumeric = ~empty & np.isnan(values)
    problems.add(column, f"a non-numeric {field_name} (seconds)", rows[nonnumeric], frame[column])
    negative = values < 0
    problems.add(column, f"a negative {field_name}", rows[negative], frame[column])
    if field_name == "handle":
        problems.add(column, "an infinite handle time", rows[np.isposinf(values)], frame[column])
    missing = [parse_duration(v) if re.search(r"[a-zA-Z]$", v) else float(v) for v in cfg.missing.get(field_name, [])]
    values[np.isin(values, missing) | empty | nonnumeric | negative] = np.nan
    values[np.isnan(values)] = default
    return values


def _customer_ids(frame: pd.DataFrame, rows: np.ndarray, cfg: ReplayArrivals) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids for ``rows`` and a mask of the known ones.

    Integer ids are used as they are when every non-empty value is an integer; otherwise every value is hashed
    with ``zlib.crc32`` of its UTF-8 text (stable across processes, unlike ``hash()``).
    """
    column = cfg.columns.get("customer")
    if column is None:
        return np.full(rows.size, -1, dtype=np.int64), np.zeros(rows.size, dtype=bool)
    text = _text(frame[column]).iloc[rows]
    known = ~text.isin(["", *cfg.missing.get("customer", [])]).to_numpy()
    ids = np.full(rows.size, -1, dtype=np.int64)
    values = text.to_numpy()[known]
    if values.size and all(re.fullmatch(r"-?\d+", v) for v in pd.unique(values)):
        ids[known] = values.astype(np.int64)
    else:
        lookup = {v: zlib.crc32(v.encode("utf-8")) for v in pd.unique(values)}
        ids[known] = np.fromiter((lookup[v] for v in values), dtype=np.int64, count=values.size)
    return ids, known


def _load_replay(scenario: Scenario, base_dir: str | os.PathLike[str] | None) -> _ReplayLog:
    """Read, filter, check and map a replay log (see :class:`sim.config.ReplayArrivals`)."""
    cfg = scenario.arrivals
    assert isinstance(cfg, ReplayArrivals)
    path = resolve_log_path(cfg.path, base_dir)
    fmt = _log_format(path, cfg.format)
    frame = _read_log(path, fmt, _needed_columns(cfg))
    problems = _Problems(path, "row" if fmt == "parquet" else "line")
    keep, skipped = _skip_rows(frame, cfg)
    arrival_s = _arrival_seconds(frame, keep, cfg, scenario, problems)
    problems.raise_if_any()
    for reason, outside in (
        ("before window", arrival_s < 0),
        ("after window", arrival_s >= scenario.horizon),
    ):
        rows = keep & outside
        if rows.any():
            skipped[reason] = int(rows.sum())
            keep &= ~rows
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(arrival_s[rows], kind="stable")]
    codes = {f: _categorical_codes(f, frame, rows, cfg, scenario, problems) for f in ("channel", "intent")}
    codes |= {f: _categorical_codes(f, frame, rows, cfg, scenario, problems) for f in ("priority", "tier", "language")}
    durations = {f: _duration_values(f, frame, rows, cfg, problems) for f in ("handle", "patience")}
    problems.raise_if_any()
    customer_id, customer_known = _customer_ids(frame, rows, cfg)
    report = _report(path, len(frame), skipped, codes, durations, customer_known, scenario)
    if rows.size == 0:
        raise ReplayError(
            f"{path}: no row is replayed ({report['skipped']}); check window_start/time_offset against the "
            f"scenario start {scenario.start} and horizon {scenario.horizon:g}s"
        )
    return _ReplayLog(
        time_s=arrival_s[rows],
        channel=codes["channel"],
        intent=codes["intent"],
        priority=codes["priority"].astype(np.int8),
        tier=codes["tier"].astype(np.int8),
        language=codes["language"],
        customer_id=customer_id,
        customer_known=customer_known,
        handle_s=durations["handle"],
        patience_s=durations["patience"],
        report=report,
    )


def _report(
    path: Path,
    n_read: int,
    skipped: dict[str, int],
    codes: dict[str, np.ndarray],
    durations: dict[str, np.ndarray],
    customer_known: np.ndarray,
    scenario: Scenario,
) -> dict[str, Any]:
    replayed = len(customer_known)
    drawn = {f: int((codes[f] < 0).sum()) for f in ("priority", "tier", "language")}
    drawn |= {f: int(np.isnan(durations[f]).sum()) for f in ("handle", "patience")}
    drawn["customer"] = int((~customer_known).sum())
    names = {"channel": list(scenario.channels), "intent": list(scenario.intents)}
    return {
        "path": str(path),
        "rows_read": n_read,
        "replayed": replayed,
        "skipped": skipped,
        "skipped_total": n_read - replayed,
        "drawn": drawn,
        "by_channel": {
            names["channel"][k]: int(n) for k, n in enumerate(np.bincount(codes["channel"], minlength=0)) if n
        },
        "by_intent": {names["intent"][k]: int(n) for k, n in enumerate(np.bincount(codes["intent"], minlength=0)) if n},
    }


def replay_report(scenario: Scenario, base_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Check a replay log and count what happens to its rows (for the CLI).

    Args:
        scenario: A scenario with ``arrivals.kind == "replay"``.
        base_dir: Folder against which a relative log path is resolved (the scenario file's folder).

    Returns:
        ``path``, ``rows_read``, ``replayed`` (rows in ``[0, horizon)`` that become arrivals), ``skipped``
        (count per reason: ``drop <column>=<value>``, ``require <column>``, ``require_any [...]``,
        ``before window``, ``after window``), ``skipped_total``, ``drawn`` (per field, replayed rows whose
        value is drawn from the scenario) and replayed counts ``by_channel`` and ``by_intent``.

    Raises:
        ReplayError: As :func:`iter_arrivals`.
    """
    if not isinstance(scenario.arrivals, ReplayArrivals):
        raise ValueError("replay_report needs a scenario with arrivals.kind: replay")
    return _load_replay(scenario, base_dir).report


def _replay_batches(scenario: Scenario, streams: Streams, log: _ReplayLog) -> Iterator[ArrivalBatch]:
    draws = _Draws(scenario, streams)
    channels, intents = list(scenario.channels), list(scenario.intents)
    next_customer = int(log.customer_id[log.customer_known].max()) + 1 if log.customer_known.any() else 0
    for day in _calendar_days(scenario):
        lo, hi = np.searchsorted(log.time_s, [day.lo_s, day.hi_s], side="left")
        if hi == lo:
            yield _empty_batch()
            continue
        day_slice = slice(int(lo), int(hi))
        batch = ArrivalBatch(
            time_s=log.time_s[day_slice].copy(),
            channel=log.channel[day_slice].copy(),
            intent=log.intent[day_slice].copy(),
            priority=log.priority[day_slice].copy(),
            tier=log.tier[day_slice].copy(),
            language=log.language[day_slice].copy(),
            customer_id=log.customer_id[day_slice].copy(),
            handle_s=log.handle_s[day_slice].copy(),
            patience_s=log.patience_s[day_slice].copy(),
        )
        pair = batch.channel.astype(np.int64) * len(intents) + batch.intent
        for key in np.unique(pair):
            rows = np.flatnonzero(pair == key)
            _fill_missing(batch, rows, channels[key // len(intents)], intents[key % len(intents)], draws)
        merged, next_customer = _merge([batch], next_customer)
        yield merged


def _fill_missing(batch: ArrivalBatch, rows: np.ndarray, channel: str, intent: str, draws: _Draws) -> None:
    """Draw the fields the log lacks for ``rows`` (one channel and intent, in time order), in place."""
    for name, draw in (
        ("priority", draws.priority),
        ("tier", draws.tier),
        ("language", draws.language),
        ("customer_id", draws.customer),
    ):
        values = getattr(batch, name)
        todo = rows[values[rows] < 0]
        if todo.size:
            values[todo] = draw(channel, intent, todo.size)
    for name, draw in (("handle_s", draws.handle), ("patience_s", draws.patience)):
        values = getattr(batch, name)
        todo = rows[np.isnan(values[rows])]
        if todo.size:
            values[todo] = draw(channel, intent, todo.size)


# ---------------------------------------------------------------------------------------------- arrival log

_LOG_COLUMNS: dict[str, str] = {
    "arrival": "arrival_s",
    "channel": "channel",
    "intent": "intent",
    "handle": "handle_s",
    "patience": "patience_s",
    "priority": "priority",
    "tier": "tier",
    "language": "language",
    "customer": "customer_id",
}


def _batch_frame(batch: ArrivalBatch, scenario: Scenario, start: pd.Timestamp) -> pd.DataFrame:
    channels = np.array(list(scenario.channels), dtype=object)
    intents = np.array(list(scenario.intents), dtype=object)
    languages = np.array(list(scenario.customers.languages), dtype=object)
    return pd.DataFrame(
        {
            "arrival": start + pd.to_timedelta(np.rint(batch.time_s * 1e9).astype(np.int64), unit="ns"),
            "arrival_s": batch.time_s,
            "channel": channels[batch.channel],
            "intent": intents[batch.intent],
            "priority": np.array(PRIORITY_NAMES, dtype=object)[batch.priority],
            "tier": np.array(TIER_NAMES, dtype=object)[batch.tier],
            "language": languages[batch.language],
            "customer_id": batch.customer_id,
            "handle_s": batch.handle_s,
            "patience_s": batch.patience_s,
        }
    )


def write_arrival_log(batches: Iterable[ArrivalBatch], scenario: Scenario, path: str | os.PathLike[str]) -> int:
    """Write arrivals as a replayable log, one row per contact, streaming batch by batch.

    Columns: ``arrival`` (timestamp: scenario start + ``arrival_s``, ns precision), ``arrival_s`` (exact float
    seconds from the scenario start), ``channel``, ``intent``, ``priority`` (``urgent``/``normal``), ``tier``
    (``vip``/``regular``), ``language`` (scenario names), ``customer_id``, ``handle_s``, ``patience_s``
    (``inf`` = never abandons). The format follows the suffix: ``.parquet`` or CSV (``.csv``, ``.csv.gz``).
    The file is written under a temporary name and renamed, so a crash never leaves a half-written log.
    :func:`replay_config_for_log` gives the matching replay config, which reproduces the batches exactly.

    Args:
        batches: Arrival batches, e.g. ``iter_arrivals(scenario, streams)``.
        scenario: The scenario the codes refer to.
        path: Output file.

    Returns:
        The number of rows written.
    """
    path = Path(path)
    fmt = _log_format(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    start = pd.Timestamp(scenario.start).as_unit("ns")
    n_rows = 0
    try:
        if fmt == "parquet":
            n_rows = _write_parquet(batches, scenario, start, tmp)
        else:
            opener = gzip.open if path.name.lower().endswith(".gz") else open
            with opener(tmp, "wt", newline="") as fh:
                header = True
                for batch in batches:
                    _batch_frame(batch, scenario, start).to_csv(fh, header=header, index=False)
                    header, n_rows = False, n_rows + len(batch)
                if header:
                    _batch_frame(_empty_batch(), scenario, start).to_csv(fh, index=False)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n_rows


def _write_parquet(batches: Iterable[ArrivalBatch], scenario: Scenario, start: pd.Timestamp, tmp: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    text, number = pa.string(), pa.float64()
    schema = pa.schema(
        [
            ("arrival", pa.timestamp("ns", tz=None if start.tzinfo is None else str(start.tzinfo))),
            ("arrival_s", number),
            ("channel", text),
            ("intent", text),
            ("priority", text),
            ("tier", text),
            ("language", text),
            ("customer_id", pa.int64()),
            ("handle_s", number),
            ("patience_s", number),
        ]
    )
    n_rows = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        for batch in batches:
            table = pa.Table.from_pandas(_batch_frame(batch, scenario, start), schema=schema, preserve_index=False)
            writer.write_table(table)
            n_rows += len(batch)
    return n_rows


def replay_config_for_log(path: str | os.PathLike[str], *, exact_times: bool = True) -> ReplayArrivals:
    """The replay config of a log written by :func:`write_arrival_log`.

    Every field is read from the log, so nothing is drawn: replaying it under the same scenario start and
    horizon gives the written batches exactly.

    Args:
        path: The log file.
        exact_times: Read ``arrival_s`` (exact float seconds) rather than the ``arrival`` timestamp (rounded
            to the nanosecond).

    Returns:
        A config for ``scenario.arrivals`` (``scenario.model_copy(update={"arrivals": cfg})``).
    """
    columns = dict(_LOG_COLUMNS)
    if not exact_times:
        columns["arrival"] = "arrival"
    return ReplayArrivals(path=str(path), columns=columns, arrival_format="seconds" if exact_times else "timestamp")


# ------------------------------------------------------------------------------------------- expected rates


def expected_rates(scenario: Scenario, slice_s: float) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Expected arrival rate per (channel, intent) and time slice of the generated-arrivals model, without draws.

    The rate is what the generator would use with a busyness factor of 1 (its mean): daily volume x day-of-week
    factor x intraday profile x promotion factors, with outages applied in expectation (inside an outage window
    the channel's rate drops to zero and ``moved_share`` of it is added to ``(moved_to, intent)``; where outages
    of a channel overlap, the first listed applies, as in the generator). Slices are aligned to midnight of the
    start date, so the first and last may be partial; the rate of a slice is the mean rate over its covered part.

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
    days = list(_calendar_days(scenario))
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
