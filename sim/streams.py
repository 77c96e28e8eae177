"""Named random streams: one independent ``np.random.Generator`` per source of randomness.

Each stream is seeded from ``SeedSequence(seed, spawn_key=(replication, crc32(name)))``, so adding a stream never
shifts another one, and two policies run on the same seed and replication see the same customers (common random
numbers). ``zlib.crc32`` is used because Python's ``hash()`` of a string changes between processes.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """Factory and cache of named generators for one replication.

    Args:
        seed: Base seed of the experiment (non-negative int).
        replication: Replication index (non-negative int).

    Example:
        >>> s = Streams(seed=7, replication=0)
        >>> a = s.get("handle/voice/refund").random()
        >>> b = Streams(seed=7, replication=0).get("handle/voice/refund").random()
        >>> a == b
        True
    """

    def __init__(self, seed: int, replication: int = 0) -> None:
        if int(seed) < 0 or int(replication) < 0:
            raise ValueError(f"seed and replication must be >= 0, got seed={seed!r}, replication={replication!r}")
        self.seed = int(seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """Return the generator for ``name`` (created on first use, then the same object)."""
        rng = self._cache.get(name)
        if rng is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, zlib.crc32(name.encode("utf-8"))))
            rng = self._cache[name] = np.random.Generator(np.random.PCG64(seq))
        return rng

    def fresh(self, name: str) -> np.random.Generator:
        """Return a new generator for ``name`` positioned at the start of its stream (not cached)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, zlib.crc32(name.encode("utf-8"))))
        return np.random.Generator(np.random.PCG64(seq))
