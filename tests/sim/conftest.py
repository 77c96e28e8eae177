"""Helpers for engine tests: small scenarios built in Python and hand-made arrival batches."""

from __future__ import annotations

import numpy as np

from sim.arrivals import ArrivalBatch
from sim.config import Scenario
from sim.engine import ContactCenter
from sim.streams import Streams


def scenario(**overrides) -> Scenario:
    """A one-channel, one-intent, one-group scenario; keyword arguments replace top-level keys."""
    base = {
        "name": "micro",
        "start": "2026-11-09T00:00",
        "horizon": "1d",
        "channels": {"voice": {"patience": {"dist": "none"}}},
        "intents": {"general": {"handle": {"dist": "fixed", "value": "100s"}}},
        "arrivals": {"kind": "generated", "channels": {"voice": {"daily_volume": 0, "intent_mix": {"general": 1}}}},
        "shifts": {"always": {"start": "00:00", "length": "24h"}},
        "groups": {
            "agents": {"channels": ["voice"], "skills": {"general": 1.0}, "languages": ["en"], "staffing": {"always": 1}}
        },
        "reporting": {"interval": "1h", "sl_thresholds": ["20s"]},
    }
    base.update(overrides)
    return Scenario.model_validate(base)


def batch(times, handle=100.0, patience=np.inf, channel=0, intent=0, priority=0, tier=0, language=0) -> ArrivalBatch:
    """An arrival batch with scalar or per-contact attributes."""
    t = np.asarray(times, dtype=float)
    n = len(t)

    def col(v, dtype):
        return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

    return ArrivalBatch(
        time_s=t,
        channel=col(channel, np.int16),
        intent=col(intent, np.int16),
        priority=col(priority, np.int8),
        tier=col(tier, np.int8),
        language=col(language, np.int16),
        customer_id=np.arange(n, dtype=np.int64),
        handle_s=col(handle, float),
        patience_s=col(patience, float),
    )


def simulate(sc: Scenario, batches, *, seed: int = 0, replication: int = 0, **kwargs):
    """Run ``sc`` on the given batches with the contact log; returns the RunResult."""
    center = ContactCenter(sc, Streams(seed, replication), iter(batches), log=True, **kwargs)
    center.run()
    return center.result(replication, seed, 0.0)
