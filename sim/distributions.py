"""Duration distributions for handle times and patience, as frozen config models that sample in seconds.

Every model has ``mean_s`` (the mean in seconds, ``inf`` for no abandonment) and ``sample(rng, n)`` returning a
float64 array of ``n`` draws in seconds. They are selected in YAML by ``dist``::

    handle: {dist: lognormal, mean: 4min, cv: 0.8}
    patience: {dist: exponential, mean: 5min}
    patience: {dist: hyperexponential, means: [30s, 10min], probs: [0.4, 0.6]}
    handle: {dist: empirical, values: [2min, 3min, 7min]}
    patience: {dist: survival, times: [0s, 30s, 2min, 10min], survival: [1.0, 0.93, 0.8, 0.5]}
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
    "SurvivalDist",
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


class SurvivalDist(BaseModel):
    """A survival table: ``S(t) = P(X > t)`` piecewise linear through the points, with a tail beyond the last one.

    The usual way to give a patience fitted from censored waits (a Kaplan-Meier curve, smoothed): at ``times[k]``
    a share ``survival[k]`` of the customers is still willing to wait.

    Exact rule (sampling by inverse transform, one uniform ``u`` per draw, ``S(X) = u``):

    * ``times`` start at ``0s`` and strictly increase; ``survival`` starts at 1.0, does not increase and stays
      in ``[0, 1]``; both have the same length (at least 2).
    * Between two points ``S`` is linear, so ``u`` in ``[S(t[k+1]), S(t[k])]`` gives ``X`` by linear
      interpolation between ``t[k]`` and ``t[k+1]`` (on a flat part, whose probability is 0, the segment's start).
    * Beyond the last point (``u < S(t[-1])``), with ``tail: exponential`` (the default) ``S`` continues as
      ``S(t[-1]) * exp(-h * (t - t[-1]))`` with the last segment's average hazard
      ``h = ln(S(t[-2]) / S(t[-1])) / (t[-1] - t[-2])``: ``X = t[-1] + ln(S(t[-1]) / u) / h``. That needs a
      last segment that falls (``0 < survival[-1] < survival[-2]``) or ends at 0 (then there is no tail).
      With ``tail: none`` the remaining share ``S(t[-1])`` never abandons (infinite patience).
    * ``mean_s`` is the area under ``S``: the trapezoids, plus ``S(t[-1]) / h`` for the exponential tail
      (``inf`` for ``tail: none`` with ``S(t[-1]) > 0``).

    Example:
        >>> d = SurvivalDist.model_validate({"dist": "survival", "times": ["0s", "60s"], "survival": [1.0, 0.5]})
        >>> round(float(d.quantile_s(0.75)), 6), round(float(d.quantile_s(0.25)), 3)  # S(30s) = 0.75; tail
        (30.0, 120.0)
    """

    model_config = _FROZEN
    dist: Literal["survival"] = "survival"
    times: list[Duration] = Field(min_length=2)
    survival: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(min_length=2)
    tail: Literal["exponential", "none"] = "exponential"

    @model_validator(mode="after")
    def _check(self) -> SurvivalDist:
        t, s = self.times, self.survival
        if len(t) != len(s):
            raise ValueError(f"times and survival must have the same length, got {len(t)} and {len(s)}")
        if t[0] != 0.0:
            raise ValueError(f"times must start at 0s, got {t[0]:g}s")
        for k in range(1, len(t)):
            if t[k] <= t[k - 1]:
                raise ValueError(
                    f"times must strictly increase: times[{k}] = {t[k]:g}s is not after times[{k - 1}] = {t[k - 1]:g}s"
                )
        if s[0] != 1.0:
            raise ValueError(f"survival must start at 1.0 (everyone is still waiting at 0s), got {s[0]:g}")
        for k in range(1, len(s)):
            if s[k] > s[k - 1]:
                raise ValueError(
                    f"survival must not increase: survival[{k}] = {s[k]:g} is above survival[{k - 1}] = {s[k - 1]:g}"
                )
        if self.tail == "exponential" and s[-1] > 0.0 and s[-1] >= s[-2]:
            raise ValueError(
                f"an exponential tail needs a last segment that falls (survival[-2] = {s[-2]:g}, survival[-1] = "
                f"{s[-1]:g}): add a point, end at 0, or use tail: none (the last {s[-1]:g} never abandon)"
            )
        return self

    @property
    def tail_hazard_per_s(self) -> float:
        """Hazard of the exponential tail (per second); 0 when there is none."""
        s, t = self.survival, self.times
        if self.tail == "none" or s[-1] == 0.0:
            return 0.0
        return math.log(s[-2] / s[-1]) / (t[-1] - t[-2])

    @property
    def mean_s(self) -> float:
        """Mean in seconds (the area under ``S``; ``inf`` when a share never abandons)."""
        t, s = np.asarray(self.times), np.asarray(self.survival)
        area = float(np.sum((s[1:] + s[:-1]) / 2.0 * np.diff(t)))
        if s[-1] == 0.0:
            return area
        if self.tail == "none":
            return math.inf
        return area + float(s[-1]) / self.tail_hazard_per_s

    def survival_at(self, t_s: np.ndarray) -> np.ndarray:
        """``S(t)`` at the given times in seconds (the curve this distribution samples from)."""
        t_s = np.asarray(t_s, dtype=float)
        t, s = np.asarray(self.times), np.asarray(self.survival)
        inside = np.interp(t_s, t, s)
        h = self.tail_hazard_per_s
        beyond = t_s > t[-1]
        if s[-1] > 0.0 and h > 0.0:
            inside = np.where(beyond, s[-1] * np.exp(-h * np.clip(t_s - t[-1], 0.0, None)), inside)
        return inside

    def quantile_s(self, u: np.ndarray | float) -> np.ndarray:
        """The ``X`` with ``S(X) = u`` for uniforms ``u`` in ``(0, 1)`` (the inverse transform), seconds."""
        u = np.asarray(u, dtype=float)
        t, s = np.asarray(self.times), np.asarray(self.survival)
        # np.interp needs increasing x: S reversed is non-decreasing (flat parts have probability 0).
        x = np.interp(u, s[::-1], t[::-1])
        last = s[-1]
        if last > 0.0:
            h = self.tail_hazard_per_s
            tail = u < last
            if h > 0.0:
                x = np.where(tail, t[-1] + np.log(last / np.where(tail, u, last)) / h, x)
            else:
                x = np.where(tail, math.inf, x)
        return x

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in seconds (one uniform each, by inverse transform)."""
        u = rng.random(n)
        # random() is in [0, 1): u = 0 would be an infinite tail draw; map it to the smallest positive uniform.
        return self.quantile_s(np.where(u > 0.0, u, np.finfo(float).tiny))


Distribution = Annotated[
    ExponentialDist
    | LognormalDist
    | GammaDist
    | HyperexponentialDist
    | EmpiricalDist
    | FixedDist
    | NoAbandonment
    | SurvivalDist,
    Field(discriminator="dist"),
]
"""Any duration distribution, selected by its ``dist`` key."""
