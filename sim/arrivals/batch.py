"""Arrival batches, the scenario calendar, and the per-attribute draws shared by generated and replayed arrivals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.arrivals.patience import rule_index
from sim.config import Scenario
from sim.streams import Streams

__all__ = ["BATCH_FIELDS", "DAY_S", "PRIORITY_NAMES", "TIER_NAMES", "ArrivalBatch"]

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
        source_row: For replayed arrivals, the 0-based data row of the log file each contact comes from (int64);
            ``None`` for generated arrivals. Not in :data:`BATCH_FIELDS`: it rides along only where it exists.
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
    source_row: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_s)


BATCH_FIELDS: dict[str, Any] = {  # the storage type of each ArrivalBatch field
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



# ------------------------------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class Day:
    """One calendar day of the scenario, in simulation seconds."""

    date: dt.date
    midnight_s: float  # may be negative: the first day when the scenario starts mid-day
    lo_s: float  # covered part of the day: [lo_s, hi_s) = [midnight, midnight + 1 day) ∩ [0, horizon)
    hi_s: float


def calendar_days(scenario: Scenario) -> Iterator[Day]:
    """Calendar days overlapping ``[0, horizon)``, from the day of ``scenario.start``."""
    start = scenario.start
    first_midnight = dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)
    offset_s = (first_midnight - start).total_seconds()
    k = 0
    while offset_s + k * DAY_S < scenario.horizon:
        midnight_s = offset_s + k * DAY_S
        yield Day(
            date=start.date() + dt.timedelta(days=k),
            midnight_s=midnight_s,
            lo_s=max(0.0, midnight_s),
            hi_s=min(scenario.horizon, midnight_s + DAY_S),
        )
        k += 1


def sim_seconds(scenario: Scenario, when: dt.datetime) -> float:
    """Seconds from the scenario start to ``when``."""
    return (when - scenario.start).total_seconds()


# ------------------------------------------------------------------------------------------ attribute draws


class Draws:
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

    def patience_at(
        self, channel: str, intent: str, time_s: np.ndarray, priority: np.ndarray, *, moved: bool = False
    ) -> np.ndarray:
        """Patience in seconds of arrivals at ``time_s`` with ``priority`` codes, by the intent's ``patience_by``.

        Without rules this is :meth:`patience` (same stream, same draws). With rules, each contact takes the
        first rule that matches its priority and local time of day; the contacts of rule ``k`` draw, in arrival
        order, from the stream ``patience/<c>/<i>/rule<k>`` (``.../moved`` appended for moved contacts), and
        those no rule matches from ``patience/<c>/<i>`` with the intent's (or channel's) ``patience``.
        """
        rules = self.scenario.patience_rules_for(channel, intent)
        n = len(time_s)
        if not rules or n == 0:
            return self.patience(channel, intent, n, moved=moved)
        which = rule_index(rules, self.scenario, np.asarray(time_s, dtype=float), np.asarray(priority))
        out = np.empty(n)
        rest = which < 0
        out[rest] = self.patience(channel, intent, int(rest.sum()), moved=moved)
        suffix = "/moved" if moved else ""
        for k, rule in enumerate(rules):
            m = which == k
            if m.any():
                rng = self.streams.get(f"patience/{channel}/{intent}/rule{k}{suffix}")
                out[m] = rule.patience.sample(rng, int(m.sum()))
        return out

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


def empty_batch() -> ArrivalBatch:
    return ArrivalBatch(**{name: np.empty(0, dtype=dtype) for name, dtype in BATCH_FIELDS.items()})


def merge_batches(parts: list[ArrivalBatch], next_customer: int) -> tuple[ArrivalBatch, int]:
    """Concatenate parts, sort stably by time and give customers marked -1 new unique ids.

    Returns:
        The merged batch and the next unused unique customer id.
    """
    if not parts:
        return empty_batch(), next_customer
    cols = {
        name: np.concatenate([getattr(p, name) for p in parts]).astype(dtype, copy=False)
        for name, dtype in BATCH_FIELDS.items()
    }
    order = np.argsort(cols["time_s"], kind="stable")
    cols = {name: values[order] for name, values in cols.items()}
    new = cols["customer_id"] < 0
    n_new = int(new.sum())
    if n_new:
        cols["customer_id"][new] = np.arange(next_customer, next_customer + n_new, dtype=np.int64)
    source_row = None
    if all(p.source_row is not None for p in parts):
        source_row = np.concatenate([p.source_row for p in parts if p.source_row is not None])[order]
    return ArrivalBatch(**cols, source_row=source_row), next_customer + n_new


