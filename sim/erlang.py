"""Analytic queueing formulas: Erlang B, Erlang C (M/M/n), Erlang A (M/M/n+M) and M/M/n/K (with balking).

They give the textbook baseline the simulator is validated against and the warm start of staffing searches.
Rates are per second and times in seconds throughout.

* **Erlang C** (no abandonment) uses the numerically stable Erlang B recursion
  ``B(k) = a B(k-1) / (k + a B(k-1))`` instead of factorials, so it works for thousands of agents.
* **Erlang A** (exponential patience, Palm's model) solves the birth-death chain on the number of contacts in the
  system, with birth rate ``lambda`` and death rate ``min(k, n) mu + max(k - n, 0) theta`` in state ``k``, in log
  space, truncated where the stationary tail is below ``1e-18`` of the mode. The waiting-time distribution comes
  from the tagged-customer chain: an arrival that finds ``k >= n`` contacts has ``j = k - n`` contacts ahead of it;
  the count ahead falls at rate ``n mu + j theta`` (a service completion or an abandonment ahead) and the tagged
  customer abandons at rate ``theta``. Each stage therefore lasts ``Exp(n mu + (j + 1) theta)`` whichever way it
  ends, so answer/abandon probabilities and mean waits are closed-form products and sums, and the time to leave
  stage ``j`` satisfies ``exp(-theta H_j) ~ Beta(n mu / theta + 1, j + 1)``: the probabilities of being answered
  or abandoning within ``T`` are regularized incomplete beta functions, exact for any ``T``.
* **M/M/n/K** (``K`` trunk lines: at most ``K`` contacts in the system, an arrival finding ``K`` is blocked), with
  optional balking (an arrival who would have to wait leaves at once with probability ``share + per_waiting x
  waiting``): the finite birth-death chain on ``0..K`` solved exactly; arrivals see the stationary distribution
  (PASTA). ``K = n`` is Erlang B.

Example:
    >>> res = erlang_c(100 / 1800, 180.0, 14)
    >>> round(res.service_level(20.0), 4), round(res.p_wait, 4), round(res.asa_s, 2)
    (0.8884, 0.1741, 7.84)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "MMnKResult",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "mmnk",
    "staff_for_service_level",
]

SLConvention = Literal["ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good"]
_CONVENTIONS = ("ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good")
_TAIL_LOG = -41.5  # truncate the birth-death chain where pi_k / max(pi) < exp(-41.5) ~ 1e-18
_MAX_STATES = 5_000_000


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_agents(n_agents: int) -> int:
    if isinstance(n_agents, bool) or int(n_agents) != n_agents or n_agents < 0:
        raise ValueError(f"n_agents must be a non-negative integer, got {n_agents!r}")
    return int(n_agents)


def erlang_b(offered_load: float, n_agents: int) -> float:
    """Blocking probability of an M/M/n/n loss system (Erlang B).

    Args:
        offered_load: Offered load ``a = lambda / mu`` in Erlangs (> 0).
        n_agents: Number of servers (>= 0).

    Returns:
        ``B(n, a)``, computed with the stable recursion ``B(k) = a B(k-1) / (k + a B(k-1))``.
    """
    _check_positive(offered_load=offered_load)
    n = _check_agents(n_agents)
    b = 1.0
    for k in range(1, n + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


# --------------------------------------------------------------------------------------------------- Erlang C


@dataclass(frozen=True)
class ErlangCResult:
    """Steady state of an M/M/n queue (no abandonment).

    Attributes:
        arrival_rate_per_s: Poisson arrival rate (per second).
        mean_handle_s: Mean exponential handle time (seconds).
        n_agents: Number of agents.
        offered_load: ``a = lambda * mean_handle`` (Erlangs).
        p_wait: Probability that an arrival waits (``P(W > 0)``, the Erlang C formula); 1 if unstable.
        asa_s: Mean wait of all arrivals, equal to the mean wait of answered ones (seconds); ``inf`` if unstable.
        occupancy: Share of agent time busy, ``min(a / n, 1)``.
        mean_queue_len: Mean number of waiting contacts (``lambda * asa``).
        stable: ``a < n``.
    """

    arrival_rate_per_s: float
    mean_handle_s: float
    n_agents: int
    offered_load: float
    p_wait: float
    asa_s: float
    occupancy: float
    mean_queue_len: float
    stable: bool

    def service_level(self, threshold_s: float) -> float:
        """``P(W <= T) = 1 - C exp(-(n mu - lambda) T)`` (all conventions agree without abandonment).

        Args:
            threshold_s: Threshold ``T`` in seconds (>= 0).

        Returns:
            Share of arrivals answered within ``threshold_s``; 0 if the queue is unstable.
        """
        if threshold_s < 0:
            raise ValueError(f"threshold_s must be >= 0, got {threshold_s!r}")
        if not self.stable:
            return 0.0
        mu = 1.0 / self.mean_handle_s
        return 1.0 - self.p_wait * math.exp(-(self.n_agents * mu - self.arrival_rate_per_s) * threshold_s)


def erlang_c(arrival_rate_per_s: float, mean_handle_s: float, n_agents: int) -> ErlangCResult:
    """Erlang C: M/M/n with an infinite queue and no abandonment.

    Args:
        arrival_rate_per_s: Poisson arrival rate (per second, > 0).
        mean_handle_s: Mean exponential handle time (seconds, > 0).
        n_agents: Number of agents (>= 0). With ``n_agents <= load`` the queue is unstable: ``p_wait = 1``,
            ``asa_s = inf``, service level 0.

    Returns:
        The steady-state figures; see :class:`ErlangCResult`.

    Example:
        >>> round(erlang_c(100 / 1800, 180.0, 13).service_level(20.0), 4)
        0.7956
    """
    _check_positive(arrival_rate_per_s=arrival_rate_per_s, mean_handle_s=mean_handle_s)
    n = _check_agents(n_agents)
    a = arrival_rate_per_s * mean_handle_s
    if n <= a:
        return ErlangCResult(arrival_rate_per_s, mean_handle_s, n, a, 1.0, math.inf, 1.0, math.inf, False)
    b = erlang_b(a, n)
    c = n * b / (n - a * (1.0 - b))
    asa = c * mean_handle_s / (n - a)
    return ErlangCResult(arrival_rate_per_s, mean_handle_s, n, a, c, asa, a / n, arrival_rate_per_s * asa, True)


# --------------------------------------------------------------------------------------------------- Erlang A


def _birth_death_log_terms(lam: float, mu: float, theta: float, n: int) -> np.ndarray:
    """``log(pi_k / pi_0)`` for ``k = 0..N``, with ``N`` grown until the tail is negligible."""
    size = max(2 * n + 64, 256)
    while True:
        k = np.arange(1, size + 1, dtype=float)
        death = np.minimum(k, n) * mu + np.maximum(k - n, 0.0) * theta
        with np.errstate(divide="ignore"):
            steps = math.log(lam) - np.log(death)
        logt = np.concatenate(([0.0], np.cumsum(steps)))
        # Stop once terms decrease (death rate above lambda) and the last one is negligible against the mode.
        if death[-1] > lam and logt[-1] - logt.max() < _TAIL_LOG:
            return logt
        if size >= _MAX_STATES:
            raise ValueError(
                f"Erlang A chain needs more than {_MAX_STATES} states (load {lam / mu:g} Erlangs, {n} agents, "
                f"patience {1 / theta if theta > 0 else math.inf:g} s): the queue is (nearly) unstable"
            )
        size = min(2 * size, _MAX_STATES)


@dataclass(frozen=True, eq=False)
class ErlangAResult:
    """Steady state of an M/M/n+M queue (Erlang A: exponential patience, FCFS).

    All probabilities are per arrival (PASTA). "Answered" means served by an agent; an arrival that finds an
    idle agent is answered with wait 0.

    Attributes:
        arrival_rate_per_s: Poisson arrival rate (per second).
        mean_handle_s: Mean exponential handle time (seconds).
        mean_patience_s: Mean exponential patience (seconds; ``inf`` = no abandonment).
        n_agents: Number of agents.
        p_wait: ``P(W > 0)``: the arrival finds all agents busy (answered later or abandons).
        p_abandon: Probability that an arrival abandons, ``1 - P(answered)``; equals ``theta * mean_wait_s``.
        mean_wait_s: Mean wait of all arrivals (until answer or abandonment; seconds), ``E[Lq] / lambda``.
        mean_wait_answered_s: Mean wait of answered arrivals (ASA, zeros included; seconds).
        mean_wait_abandoned_s: Mean time to abandon of those who abandon (seconds; NaN if none abandon).
        mean_queue_len: Mean number of waiting contacts.
        occupancy: Share of agent time busy: ``lambda (1 - p_abandon) mean_handle / n``.
    """

    arrival_rate_per_s: float
    mean_handle_s: float
    mean_patience_s: float
    n_agents: int
    p_wait: float
    p_abandon: float
    mean_wait_s: float
    mean_wait_answered_s: float
    mean_wait_abandoned_s: float
    mean_queue_len: float
    occupancy: float
    _p_immediate: float = field(repr=False)
    _p_ahead: np.ndarray = field(repr=False)
    """``_p_ahead[j]`` = P(an arrival finds all agents busy and ``j`` contacts waiting)."""
    _share: np.ndarray = field(repr=False)
    """``_share[i]`` = P(stage ``i`` of a waiting customer ends by advancing rather than abandoning)."""
    _p_answer_given_j: np.ndarray = field(repr=False)
    """``_p_answer_given_j[j]`` = P(answered | ``j`` contacts ahead at arrival) = ``prod(_share[:j + 1])``."""

    @property
    def p_answered(self) -> float:
        """Probability that an arrival is answered (``1 - p_abandon``)."""
        return 1.0 - self.p_abandon

    def _absorbed_by(self, threshold_s: float) -> tuple[float, float]:
        """``(P(answered and W <= T), P(abandoned and W <= T))`` among arrivals that find all agents busy."""
        if threshold_s < 0:
            raise ValueError(f"threshold_s must be >= 0, got {threshold_s!r}")
        m = len(self._p_ahead)
        if threshold_s == 0 or m == 0:
            return 0.0, 0.0
        mu, n = 1.0 / self.mean_handle_s, self.n_agents
        theta = 0.0 if math.isinf(self.mean_patience_s) else 1.0 / self.mean_patience_s
        # Stage i (i contacts ahead) lasts Exp(c_i), c_i = n mu + (i + 1) theta, whether it ends by advancing or by
        # abandoning; H_i = time to leave stage i from the start = sum of the first i + 1 stages. Because
        # prod_{l=1..k} (b + l) / (b + l + x) = E[U^x] for U ~ Beta(b + 1, k), b = n mu / theta, we have
        # exp(-theta H_i) ~ Beta(b + 1, i + 1): P(H_i <= T) = I_{1 - exp(-theta T)}(i + 1, b + 1), exact for all T
        # (no matrix exponential, no cancellation). Without abandonment H_i ~ Gamma(i + 1, n mu).
        from scipy import special  # here, not at import: ccsim's start-up does without scipy

        stages = np.arange(1, m + 1, dtype=float)
        if theta == 0.0:
            cdf = special.gammainc(stages, n * mu * threshold_s)
        else:
            cdf = special.betainc(stages, n * mu / theta + 1.0, -math.expm1(-theta * threshold_s))
        reach = np.concatenate(([1.0], self._p_answer_given_j[:-1]))  # P(reach stage i)
        abandon_at = reach * (1.0 - self._share)  # P(abandon in stage i | reached stage 0)
        tail = np.cumsum(self._p_ahead[::-1])[::-1]  # P(j >= i ahead at arrival)
        answered = float(np.dot(self._p_ahead, self._p_answer_given_j * cdf))
        abandoned = float(np.dot(tail, abandon_at * cdf))
        return answered, abandoned

    def p_answered_within(self, threshold_s: float) -> float:
        """``P(answered and W <= T)`` among all arrivals (immediate answers included).

        Args:
            threshold_s: Threshold ``T`` in seconds (>= 0).
        """
        return self._p_immediate + self._absorbed_by(threshold_s)[0]

    def p_abandoned_within(self, threshold_s: float) -> float:
        """``P(abandoned and W <= T)`` among all arrivals.

        Args:
            threshold_s: Threshold ``T`` in seconds (>= 0).
        """
        return self._absorbed_by(threshold_s)[1]

    def service_level(
        self,
        threshold_s: float,
        convention: SLConvention = "abandons_bad",
        short_abandon_s: float = 0.0,
    ) -> float:
        """Service level at threshold ``T`` under one of the abandonment conventions of DESIGN §4.

        With ``A<T = P(answered, W <= T)``, ``A = P(answered)``, ``Ab = P(abandoned)``,
        ``Ab<T = P(abandoned, W <= T)`` and ``Ab<s = P(abandoned, W < short_abandon_s)``:

        * ``abandons_bad`` (default; the usual Erlang-A figure "answered within T among all arrivals"):
          ``A<T / (A + Ab) = A<T``;
        * ``ignore_abandons`` ("among answered"): ``A<T / A``;
        * ``short_abandons_excluded``: ``A<T / (1 - Ab<s)``;
        * ``abandons_good``: ``A<T + Ab<T``.

        Args:
            threshold_s: Threshold ``T`` in seconds (>= 0).
            convention: Abandonment convention.
            short_abandon_s: Abandons faster than this are excluded by ``short_abandons_excluded`` (seconds).

        Returns:
            The service level in ``[0, 1]``.
        """
        if convention not in _CONVENTIONS:
            raise ValueError(f"convention must be one of {list(_CONVENTIONS)}, got {convention!r}")
        answered_t, abandoned_t = self._absorbed_by(threshold_s)
        answered_t += self._p_immediate
        if convention == "abandons_bad":
            return answered_t
        if convention == "ignore_abandons":
            return answered_t / self.p_answered if self.p_answered > 0 else math.nan
        if convention == "abandons_good":
            return answered_t + abandoned_t
        denominator = 1.0 - self.p_abandoned_within(short_abandon_s)
        return answered_t / denominator if denominator > 0 else math.nan


def erlang_a(arrival_rate_per_s: float, mean_handle_s: float, mean_patience_s: float, n_agents: int) -> ErlangAResult:
    """Erlang A: M/M/n+M (Palm's model) with exponential patience, solved exactly on a truncated chain.

    Args:
        arrival_rate_per_s: Poisson arrival rate (per second, > 0).
        mean_handle_s: Mean exponential handle time (seconds, > 0).
        mean_patience_s: Mean exponential patience (seconds, > 0); ``math.inf`` means no abandonment (then the
            queue must be stable, ``load < n_agents``, and the figures equal Erlang C's).
        n_agents: Number of agents (>= 0; Erlang A is stable for any ``n`` when patience is finite).

    Returns:
        The steady-state figures; see :class:`ErlangAResult`.

    Raises:
        ValueError: On non-positive inputs, or without abandonment when the queue is unstable.

    Example:
        >>> res = erlang_a(100 / 1800, 180.0, 300.0, 13)
        >>> round(res.p_wait, 3), round(res.p_abandon, 3), round(res.mean_wait_s, 1)
        (0.226, 0.025, 7.5)
    """
    from scipy import special  # here, not at import: ccsim's start-up does without scipy

    _check_positive(arrival_rate_per_s=arrival_rate_per_s, mean_handle_s=mean_handle_s)
    if not mean_patience_s > 0:
        raise ValueError(f"mean_patience_s must be > 0 (math.inf for no abandonment), got {mean_patience_s!r}")
    n = _check_agents(n_agents)
    lam, mu = arrival_rate_per_s, 1.0 / mean_handle_s
    theta = 0.0 if math.isinf(mean_patience_s) else 1.0 / mean_patience_s
    if theta == 0.0 and lam >= n * mu:
        raise ValueError(f"without abandonment the queue is unstable: load {lam / mu:g} Erlangs >= {n} agents")
    logt = _birth_death_log_terms(lam, mu, theta, n)
    pi = np.exp(logt - special.logsumexp(logt))
    p_immediate = float(pi[:n].sum())
    p_ahead = pi[n:]
    j = np.arange(len(p_ahead), dtype=float)
    mean_queue_len = float(np.dot(j, p_ahead))
    mean_wait = mean_queue_len / lam  # Little's law on the queue (waits of answered and abandoned alike)

    # Tagged customer with j ahead: stage i = 0..j has rate n mu + i theta to advance and theta to abandon, so
    # the time in stage i is Exp(n mu + (i + 1) theta) whatever happens, and P(answered | j) = prod of the
    # advance shares. These closed forms avoid the catastrophic cancellation of hypoexponential densities.
    advance = n * mu + j * theta
    leave = advance + theta
    share = np.divide(advance, leave, out=np.zeros_like(advance), where=leave > 0)
    p_answer_given_j = np.cumprod(share)
    time_given_answer = np.cumsum(1.0 / leave)
    p_answered_late = float(np.dot(p_ahead, p_answer_given_j))
    wait_answered_total = float(np.dot(p_ahead, p_answer_given_j * time_given_answer))
    p_answered = p_immediate + p_answered_late
    p_abandon = max(0.0, 1.0 - p_answered)
    mean_wait_answered = wait_answered_total / p_answered if p_answered > 0 else math.nan
    mean_wait_abandoned = (mean_wait - wait_answered_total) / p_abandon if p_abandon > 1e-15 else math.nan
    occupancy = lam * p_answered / (n * mu) if n > 0 else math.nan
    return ErlangAResult(
        arrival_rate_per_s=lam,
        mean_handle_s=mean_handle_s,
        mean_patience_s=float(mean_patience_s),
        n_agents=n,
        p_wait=min(1.0, float(p_ahead.sum())),
        p_abandon=p_abandon,
        mean_wait_s=mean_wait,
        mean_wait_answered_s=mean_wait_answered,
        mean_wait_abandoned_s=mean_wait_abandoned,
        mean_queue_len=mean_queue_len,
        occupancy=occupancy,
        _p_immediate=p_immediate,
        _p_ahead=p_ahead,
        _share=share,
        _p_answer_given_j=p_answer_given_j,
    )


# ------------------------------------------------------------------------------------------------ M/M/n/K


@dataclass(frozen=True, eq=False)
class MMnKResult:
    """Steady state of an M/M/n/K queue (``K`` lines), FCFS, no abandonment, optional balking.

    Attributes:
        arrival_rate_per_s: Poisson arrival rate (per second).
        mean_handle_s: Mean exponential handle time (seconds).
        n_agents: Number of agents ``n``.
        capacity: Lines ``K >= n``: contacts in the system (in service or waiting) at most.
        p_block: Share of arrivals that find all ``K`` lines busy (blocked).
        p_balk: Share of arrivals that would have to wait and leave at once instead (balked).
        p_wait: Share of arrivals that join the queue and wait (``P(W > 0)`` among all arrivals).
        asa_s: Mean wait of the arrivals that are answered (all of those that join; no abandonment), seconds.
        mean_queue_len: Time-average number of waiting contacts.
        occupancy: Time-average share of agents busy.
        probs: Stationary probabilities of ``0..K`` contacts in the system.
    """

    arrival_rate_per_s: float
    mean_handle_s: float
    n_agents: int
    capacity: int
    p_block: float
    p_balk: float
    p_wait: float
    asa_s: float
    mean_queue_len: float
    occupancy: float
    probs: np.ndarray = field(repr=False)
    _join: np.ndarray = field(repr=False)

    def service_level(self, threshold_s: float) -> float:
        """Share of *answered* contacts answered within ``threshold_s`` seconds (``P(W <= T | joined)``).

        An arrival that joins with ``k >= n`` in the system waits for ``k - n + 1`` completions at rate ``n mu``:
        an Erlang(``k - n + 1``, ``n mu``) wait.
        """
        if threshold_s < 0:
            raise ValueError(f"threshold_s must be >= 0, got {threshold_s!r}")
        n = self.n_agents
        joined = self.probs * self._join  # per state k: arrivals that join
        total = joined.sum()
        if total <= 0:
            return math.nan
        x = n / self.mean_handle_s * threshold_s
        late = 0.0
        # P(Erlang(j + 1, n mu) > T) = P(Poisson(x) <= j), j = k - n contacts ahead.
        term, cdf = math.exp(-x), 0.0
        for j, k in enumerate(range(n, self.capacity)):
            cdf += term
            term *= x / (j + 1)
            late += joined[k] * cdf
        return float(1.0 - late / total)


def mmnk(
    arrival_rate_per_s: float,
    mean_handle_s: float,
    n_agents: int,
    capacity: int,
    *,
    balk_share: float = 0.0,
    balk_per_waiting: float = 0.0,
) -> MMnKResult:
    """M/M/n/K: ``n`` agents, ``K`` lines (at most ``K`` contacts in the system), no abandonment.

    With ``balk_share`` / ``balk_per_waiting``, an arrival that finds every agent busy and ``j`` contacts waiting
    leaves at once with probability ``min(1, balk_share + balk_per_waiting * j)``, as the engine's channel
    ``balk`` does. ``capacity == n_agents`` gives Erlang B (``p_block == erlang_b(a, n)``).

    Args:
        arrival_rate_per_s: Poisson arrival rate (per second, > 0).
        mean_handle_s: Mean exponential handle time (seconds, > 0).
        n_agents: Number of agents (>= 1).
        capacity: Lines ``K >= n_agents``.
        balk_share: Balking probability of an arrival that would wait behind nobody (0 to 1).
        balk_per_waiting: Added balking probability per contact already waiting (>= 0).

    Example:
        >>> res = mmnk(1 / 60, 120.0, 2, 2)
        >>> round(res.p_block, 6) == round(erlang_b(2.0, 2), 6)
        True
    """
    _check_positive(arrival_rate_per_s=arrival_rate_per_s, mean_handle_s=mean_handle_s)
    n = _check_agents(n_agents)
    if n < 1:
        raise ValueError(f"n_agents must be >= 1, got {n_agents!r}")
    if isinstance(capacity, bool) or int(capacity) != capacity or capacity < n:
        raise ValueError(f"capacity must be an integer >= n_agents ({n}), got {capacity!r}")
    if not 0.0 <= balk_share <= 1.0 or balk_per_waiting < 0:
        raise ValueError(
            f"balk_share must be in [0, 1] and balk_per_waiting >= 0, got {balk_share!r}, {balk_per_waiting!r}"
        )
    cap = int(capacity)
    lam, mu = arrival_rate_per_s, 1.0 / mean_handle_s
    k = np.arange(cap + 1)
    balk = np.where(k >= n, np.minimum(1.0, balk_share + balk_per_waiting * np.maximum(k - n, 0)), 0.0)
    join = np.where(k < cap, 1.0 - balk, 0.0)
    # pi_{k+1} / pi_k = lam * join_k / (min(k + 1, n) mu), in log space.
    with np.errstate(divide="ignore"):
        steps = np.log(lam * join[:-1]) - np.log(np.minimum(k[1:], n) * mu)
    logt = np.concatenate(([0.0], np.cumsum(steps)))
    probs = np.exp(logt - logt.max())
    probs /= probs.sum()
    waiting = np.maximum(k - n, 0)
    p_block = float(probs[cap])
    p_balk = float((probs * np.where(k < cap, balk, 0.0)).sum())
    wait_states = (k >= n) & (k < cap)
    p_wait = float((probs * join)[wait_states].sum())
    joined = probs * join
    # Mean wait given joining in state k >= n: (k - n + 1) / (n mu).
    mean_wait = float((joined[wait_states] * (waiting[wait_states] + 1) / (n * mu)).sum() / joined.sum())
    return MMnKResult(
        arrival_rate_per_s=lam,
        mean_handle_s=mean_handle_s,
        n_agents=n,
        capacity=cap,
        p_block=p_block,
        p_balk=p_balk,
        p_wait=p_wait,
        asa_s=mean_wait,
        mean_queue_len=float((probs * waiting).sum()),
        occupancy=float((probs * np.minimum(k, n)).sum() / n),
        probs=probs,
        _join=join,
    )


# --------------------------------------------------------------------------------------------------- staffing


def staff_for_service_level(
    arrival_rate_per_s: float,
    mean_handle_s: float,
    threshold_s: float,
    target: float,
    *,
    mean_patience_s: float | None = None,
    convention: SLConvention = "abandons_bad",
    short_abandon_s: float = 0.0,
    max_agents: int = 1_000_000,
) -> int:
    """Smallest number of agents whose analytic service level at ``threshold_s`` reaches ``target``.

    Uses Erlang C when ``mean_patience_s`` is ``None`` (conventions coincide), Erlang A otherwise. The service
    level is increasing in the number of agents, so the search doubles a step above a lower bound and then
    bisects (``O(log n)`` evaluations).

    Args:
        arrival_rate_per_s: Poisson arrival rate (per second, > 0).
        mean_handle_s: Mean handle time (seconds, > 0).
        threshold_s: Service-level threshold ``T`` (seconds, >= 0).
        target: Required service level in ``(0, 1]``.
        mean_patience_s: Mean exponential patience (seconds) for Erlang A; ``None`` for Erlang C.
        convention: Abandonment convention of the Erlang A service level (see :meth:`ErlangAResult.service_level`).
        short_abandon_s: Short-abandon threshold for ``short_abandons_excluded`` (seconds).
        max_agents: Give up above this many agents.

    Returns:
        The number of agents.

    Raises:
        ValueError: If the target is out of range or not met with ``max_agents`` agents.

    Example:
        >>> staff_for_service_level(100 / 1800, 180.0, 20.0, 0.8)
        14
    """
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must be in (0, 1], got {target!r}")

    def meets(n: int) -> bool:
        if mean_patience_s is None:
            return erlang_c(arrival_rate_per_s, mean_handle_s, n).service_level(threshold_s) >= target
        res = erlang_a(arrival_rate_per_s, mean_handle_s, mean_patience_s, n)
        return res.service_level(threshold_s, convention, short_abandon_s) >= target

    load = arrival_rate_per_s * mean_handle_s
    # Erlang C fails whenever n <= load; with abandonment nothing is known below, start from 0.
    lo = math.floor(load) if mean_patience_s is None else 0  # invariant: lo fails (or is 0 agents)
    if mean_patience_s is not None and meets(0):
        return 0
    step = 1
    hi = lo + step
    while not meets(hi):
        if hi >= max_agents:
            raise ValueError(f"service level {target:g} at {threshold_s:g}s not reached with {max_agents} agents")
        lo, step = hi, step * 2
        hi = min(lo + step, max_agents)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi
