"""Arrival streams: generated (non-homogeneous Poisson with busyness, day-of-week, promotions, outages) or replayed.

CONTRACT (the engine relies on it):
    iter_arrivals(scenario, streams, *, base_dir=None) -> Iterator[ArrivalBatch]
yields batches in time order (each batch sorted by ``time_s``; batches do not overlap; typically one per day),
covering arrivals in [0, scenario.horizon). Handle time and patience are drawn here, at arrival, from their own
named streams, so compared policies see the same customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ArrivalBatch"]


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
