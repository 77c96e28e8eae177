"""Duration distributions for handle times and patience, as frozen config models that sample in seconds.

Every model has ``mean_s`` (the mean in seconds, ``inf`` for no abandonment) and ``sample(rng, n)`` returning a
float64 array of ``n`` draws in seconds. They are selected in YAML by ``dist``::

    handle: {dist: lognormal, mean: 4min, cv: 0.8}
    patience: {dist: exponential, mean: 5min}
    patience: {dist: hyperexponential, means: [30s, 10min], probs: [0.4, 0.6]}
    handle: {dist: empirical, values: [2min, 3min, 7min]}
    delay: {dist: uniform, low: 1min, high: 3min}
    handle: {dist: triangular, low: 2min, mode: 3min, high: 8min}
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from sim.units import MODEL_CONFIG, Duration, PositiveDuration

__all__ = [
    "Distribution",
    "EmpiricalDist",
    "ExponentialDist",
    "FixedDist",
    "GammaDist",
    "HyperexponentialDist",
    "LognormalDist",
    "NoAbandonment",
    "TriangularDist",
    "UniformDist",
]

_FROZEN = MODEL_CONFIG


class ExponentialDist(BaseModel):
    """Exponential distribution with the given mean."""

    model_config = _FROZEN
    dist: Literal["exponential"] = "exponential"
    mean: PositiveDuration

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return self.mean

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        return rng.exponential(self.mean, n)


class LognormalDist(BaseModel):
    """Lognormal distribution given by its mean and coefficient of variation (std / mean)."""

    model_config = _FROZEN
    dist: Literal["lognormal"] = "lognormal"
    mean: PositiveDuration
    cv: float = Field(1.0, ge=0.001, le=100.0, description="coefficient of variation, std / mean (0.001 to 100)")

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return self.mean

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2.0
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class GammaDist(BaseModel):
    """Gamma distribution given by its mean and coefficient of variation."""

    model_config = _FROZEN
    dist: Literal["gamma"] = "gamma"
    mean: PositiveDuration
    cv: float = Field(1.0, ge=0.001, le=100.0, description="coefficient of variation, std / mean (0.001 to 100)")

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return self.mean

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, n)


class HyperexponentialDist(BaseModel):
    """Mixture of exponentials: with probability ``probs[i]`` the value is exponential with mean ``means[i]``."""

    model_config = _FROZEN
    dist: Literal["hyperexponential"] = "hyperexponential"
    means: list[PositiveDuration] = Field(min_length=1)
    probs: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> HyperexponentialDist:
        if len(self.means) != len(self.probs):
            raise ValueError(f"means and probs must have the same length, got {len(self.means)} and {len(self.probs)}")
        if any(p < 0 for p in self.probs) or not math.isclose(sum(self.probs), 1.0, abs_tol=1e-9):
            raise ValueError(f"probs must be >= 0 and sum to 1, got {self.probs}")
        return self

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return float(sum(m * p for m, p in zip(self.means, self.probs, strict=True)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        phase = rng.choice(len(self.means), size=n, p=self.probs)
        return rng.exponential(1.0, n) * np.asarray(self.means)[phase]


class EmpiricalDist(BaseModel):
    """Resample uniformly from observed values (durations with units)."""

    model_config = _FROZEN
    dist: Literal["empirical"] = "empirical"
    values: list[Duration] = Field(min_length=1)

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return float(np.mean(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        return np.asarray(self.values, dtype=float)[rng.integers(0, len(self.values), n)]


class FixedDist(BaseModel):
    """A constant duration (deterministic; useful for traces and tests)."""

    model_config = _FROZEN
    dist: Literal["fixed"] = "fixed"
    value: Duration

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` copies of the value (consumes no random numbers)."""
        return np.full(n, self.value, dtype=float)


class UniformDist(BaseModel):
    """Uniform distribution on ``[low, high]`` (durations with units); mean ``(low + high) / 2``."""

    model_config = _FROZEN
    dist: Literal["uniform"] = "uniform"
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> UniformDist:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low:g}s and high={self.high:g}s")
        return self

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return (self.low + self.high) / 2.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        return rng.uniform(self.low, self.high, n)


class TriangularDist(BaseModel):
    """Triangular distribution on ``[low, high]`` peaking at ``mode``; mean ``(low + mode + high) / 3``."""

    model_config = _FROZEN
    dist: Literal["triangular"] = "triangular"
    low: Duration
    mode: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDist:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"need low <= mode <= high and low < high, got low={self.low:g}s, mode={self.mode:g}s, "
                f"high={self.high:g}s"
            )
        return self

    @property
    def mean_s(self) -> float:
        """Mean in seconds."""
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds."""
        return rng.triangular(self.low, self.mode, self.high, n)


class NoAbandonment(BaseModel):
    """Infinite patience: the contact never abandons (deferrable work, or a textbook Erlang C queue)."""

    model_config = _FROZEN
    dist: Literal["none"] = "none"

    @property
    def mean_s(self) -> float:
        """Mean in seconds (infinite)."""
        return math.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` infinite patiences (consumes no random numbers)."""
        return np.full(n, math.inf)


Distribution = Annotated[
    ExponentialDist
    | LognormalDist
    | GammaDist
    | HyperexponentialDist
    | EmpiricalDist
    | FixedDist
    | UniformDist
    | TriangularDist
    | NoAbandonment,
    Field(discriminator="dist"),
]
"""Any duration distribution, selected by its ``dist`` key."""
