"""Fitting the pieces of a scenario from a :class:`~experiments.calibration.mapping.CallLog`.

Every function here is pure (a frame in, numbers out) so each piece can be tested on a synthetic log whose truth is
known. Units: every time is in seconds; counts are calls per interval of ``interval_s`` seconds.

* :func:`fit_arrivals`: mean calls per interval by day type, daily volume and the gamma "busyness" dispersion.
* :func:`fit_handle`: talk time per intent; exponential, lognormal and gamma candidates ranked by KS distance.
* :func:`fit_patience`: patience per intent and priority from censored waits (Kaplan-Meier, then maximum
  likelihood on :class:`scipy.stats.CensoredData`), compared by AIC and by the largest gap to Kaplan-Meier.
* :func:`fit_staffing`: agents seen working per group and interval (from the service spans of the server column)
  and the availability factor.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from experiments.calibration.mapping import CalibrationMapping
from sim.config import WEEKDAYS

__all__ = [
    "ArrivalFit",
    "DistFit",
    "PatienceFit",
    "StaffingFit",
    "availability_by_hour",
    "day_type_of",
    "fit_arrivals",
    "fit_handle",
    "fit_patience",
    "fit_patience_windows",
    "fit_staffing",
    "interval_index",
]

MIN_ABANDONS = 30
"""Fewest abandons for a patience fit of its own; a cell with fewer falls back to its intent, then to all calls."""

GAP_QUANTILE = 0.95
"""The gap between a parametric patience fit and Kaplan-Meier is measured up to this quantile of the waits."""

_CANDIDATES = ("exponential", "lognormal", "gamma")


def interval_index(times: pd.Series, interval_s: float) -> np.ndarray:
    """Interval of the day (0-based) of each timestamp."""
    sec = (times - times.dt.normalize()).dt.total_seconds().to_numpy()
    return np.minimum((sec // interval_s).astype(int), int(86400 // interval_s) - 1)


def day_type_of(dates: pd.Series, mapping: CalibrationMapping) -> pd.Series:
    """Day type name of each date (``mapping.day_types``)."""
    lookup = {WEEKDAYS.index(d): name for name, days in mapping.day_types.items() for d in days}
    return dates.dt.day_of_week.map(lookup)


# ------------------------------------------------------------------------------------------------ arrivals


@dataclass
class ArrivalFit:
    """Arrival profile of one day type.

    Attributes:
        day_type: Its name.
        n_days: Days of this type in the data.
        daily_mean: Mean calls a day.
        daily_std: Standard deviation of calls a day between days.
        busyness_cv: CV of the gamma day factor: ``sqrt(max(0, (var - mean) / mean^2))`` (a Poisson day with a
            gamma-distributed rate multiplier has variance ``mean + cv^2 mean^2``).
        profile: Mean calls per interval (length ``86400 / interval_s``).
        intent_mix: Share of calls per intent.
    """

    day_type: str
    n_days: int
    daily_mean: float
    daily_std: float
    busyness_cv: float
    profile: list[float]
    intent_mix: dict[str, float]


def fit_arrivals(calls: pd.DataFrame, mapping: CalibrationMapping) -> list[ArrivalFit]:
    """Arrival profiles by interval and day type, with the daily busyness dispersion.

    Days are the calendar dates from the first to the last call; a date with no call counts as a zero day
    (a closed day is real data).
    """
    n_slots = int(86400 // mapping.interval)
    dates = pd.date_range(calls["date"].min(), calls["date"].max(), freq="D")
    slot = interval_index(calls["queue_arrival"], mapping.interval)
    counts = (
        pd.DataFrame({"date": calls["date"].to_numpy(), "slot": slot})
        .groupby(["date", "slot"]).size().unstack(fill_value=0)
        .reindex(index=dates, columns=range(n_slots), fill_value=0)
    )
    types = day_type_of(pd.Series(dates), mapping).to_numpy()
    out = []
    for name in mapping.day_types:
        rows = counts[types == name]
        if rows.empty:
            continue
        daily = rows.sum(axis=1).to_numpy(dtype=float)
        m = float(daily.mean())
        v = float(daily.var(ddof=1)) if len(daily) > 1 else 0.0
        cv = math.sqrt(max(0.0, (v - m) / m**2)) if m > 0 else 0.0
        in_type = np.isin(calls["date"].to_numpy(), rows.index.to_numpy())
        mix = calls.loc[in_type, "intent"].value_counts(normalize=True)
        out.append(ArrivalFit(
            name, len(rows), m, math.sqrt(v), cv, [float(x) for x in rows.mean(axis=0)],
            {str(k): float(x) for k, x in mix.items()},
        ))
    return out


# ------------------------------------------------------------------------------------------------ handle


@dataclass
class DistFit:
    """One fitted candidate distribution.

    Attributes:
        dist: ``exponential``, ``lognormal`` or ``gamma``.
        mean_s: Its mean (seconds).
        cv: Its coefficient of variation.
        ks: Kolmogorov-Smirnov distance to the data; for patience, the largest gap to Kaplan-Meier up to the
            :data:`GAP_QUANTILE` quantile of the waits.
        aic: Akaike information criterion (censored log-likelihood for patience).
        frozen: The scipy frozen distribution (for plots).
    """

    dist: str
    mean_s: float
    cv: float
    ks: float
    aic: float
    frozen: Any = field(repr=False, default=None)

    def scenario(self) -> dict[str, Any]:
        """The distribution in scenario YAML form."""
        if self.dist == "exponential":
            return {"dist": "exponential", "mean": f"{self.mean_s:.1f}s"}
        return {"dist": self.dist, "mean": f"{self.mean_s:.1f}s", "cv": round(float(min(max(self.cv, 0.001), 100)), 3)}

    def summary(self) -> dict[str, Any]:
        """Numbers only (for JSON)."""
        return {"dist": self.dist, "mean_s": self.mean_s, "cv": self.cv, "ks": self.ks, "aic": self.aic}


def _frozen(name: str, params: tuple[float, ...]) -> Any:
    if name == "exponential":
        return stats.expon(loc=0, scale=params[-1])
    if name == "lognormal":
        return stats.lognorm(params[0], loc=0, scale=params[-1])
    return stats.gamma(params[0], loc=0, scale=params[-1])


def _scipy(name: str) -> Any:
    return {"exponential": stats.expon, "lognormal": stats.lognorm, "gamma": stats.gamma}[name]


def _moments(frozen: Any) -> tuple[float, float]:
    mean, var = (float(x) for x in frozen.stats(moments="mv"))
    return mean, math.sqrt(var) / mean


def fit_handle(calls: pd.DataFrame, *, max_talk_s: float = 4 * 3600.0) -> dict[str, list[DistFit]]:
    """Talk-time candidates per intent, best (smallest KS distance) first.

    Uses served calls with a talk time in ``(0, max_talk_s]``; longer talks (the Technion log has one of 10 h)
    are left out of the fit and counted in the report by the caller.
    """
    out: dict[str, list[DistFit]] = {}
    talk = calls[calls["talk_s"].notna() & (calls["talk_s"] > 0) & (calls["talk_s"] <= max_talk_s)]
    for intent, x in talk.groupby("intent")["talk_s"]:
        values = x.to_numpy(dtype=float)
        if len(values) < 2:
            continue
        fits = []
        for name in _CANDIDATES:
            dist = _scipy(name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                params = dist.fit(values, floc=0)
            frozen = _frozen(name, params)
            mean, cv = _moments(frozen)
            ks = float(stats.kstest(values, frozen.cdf).statistic)
            k = 1 if name == "exponential" else 2
            aic = float(2 * k - 2 * np.sum(frozen.logpdf(values)))
            fits.append(DistFit(name, mean, cv, ks, aic, frozen))
        out[str(intent)] = sorted(fits, key=lambda f: f.ks)
    return out


# ------------------------------------------------------------------------------------------------ patience


@dataclass
class PatienceFit:
    """Patience of one cell (an intent and priority, an intent, or all calls) from censored waits.

    Attributes:
        cell: ``(intent, priority)``; ``None`` parts mean "pooled".
        n: Calls that waited (wait > 0).
        n_abandoned: Of them, abandoned (uncensored).
        km_times_s: Kaplan-Meier step times (seconds).
        km_survival: Kaplan-Meier survival just after each time.
        exp_mean_s: Censored maximum-likelihood mean of an exponential (total wait / abandons).
        exp_ci_s: Its 95% interval: ``chi2`` interval for an exponential with ``n_abandoned`` events.
        fits: Parametric candidates, best (lowest AIC) first.
    """

    cell: tuple[str | None, str | None]
    n: int
    n_abandoned: int
    km_times_s: np.ndarray = field(repr=False)
    km_survival: np.ndarray = field(repr=False)
    exp_mean_s: float
    exp_ci_s: tuple[float, float]
    fits: list[DistFit]

    def survival_table(self, points: int = 12) -> dict[str, Any]:
        """Kaplan-Meier as a ``{dist: survival}`` table at about ``points`` quantile times (piecewise linear)."""
        t, s = self.km_times_s, self.km_survival
        targets = np.linspace(1.0, float(s[-1]), points + 1)[1:]
        times, surv = [0.0], [1.0]
        for q in targets:
            i = int(np.searchsorted(-s, -q, side="left"))
            i = min(i, len(t) - 1)
            if t[i] > times[-1]:
                times.append(float(t[i]))
                surv.append(min(float(s[i]), surv[-1]))
        return {"dist": "survival", "times": [f"{x:.0f}s" for x in times], "survival": [round(x, 4) for x in surv]}

    def summary(self) -> dict[str, Any]:
        """Numbers only (for JSON)."""
        return {
            "intent": self.cell[0], "priority": self.cell[1], "n_waited": self.n, "n_abandoned": self.n_abandoned,
            "exponential_mean_s": self.exp_mean_s, "exponential_mean_ci95_s": list(self.exp_ci_s),
            "km_median_s": _km_quantile(self.km_times_s, self.km_survival, 0.5),
            "fits": [f.summary() for f in self.fits],
        }  # fmt: skip


def _km_quantile(t: np.ndarray, s: np.ndarray, q: float) -> float | None:
    below = np.flatnonzero(s <= q)
    return float(t[below[0]]) if len(below) else None


def _censored_loglik(frozen: Any, events: np.ndarray, censored: np.ndarray) -> float:
    return float(np.sum(frozen.logpdf(events)) + np.sum(frozen.logsf(censored)))


def _censored_mle(name: str, events: np.ndarray, censored: np.ndarray) -> Any:
    """Maximum-likelihood lognormal or gamma (location 0) on right-censored data.

    The same likelihood as ``scipy.stats.<dist>.fit(CensoredData(...), floc=0)``, but over the distinct values
    with their counts (logs record whole seconds, so a month of waits has a few thousand distinct values): about
    20 times faster on the Technion log. ``tests/experiments/test_calibration.py`` checks that both agree.
    """
    ev, ev_n = np.unique(events, return_counts=True)
    ce, ce_n = np.unique(censored, return_counts=True)
    ev = np.maximum(ev, 1e-3)  # a zero wait abandon: the density at 0 can be infinite
    dist = _scipy(name)
    both = np.r_[events, censored]
    m, v = float(both.mean()), float(both.var()) or 1.0
    if name == "lognormal":
        sigma0 = math.sqrt(math.log1p(v / m**2))
        x0 = np.array([math.log(sigma0), math.log(m) - sigma0**2 / 2])
    else:
        x0 = np.array([math.log(max(m**2 / v, 0.05)), math.log(v / m)])

    def nll(x: np.ndarray) -> float:
        shape, scale = math.exp(x[0]), math.exp(x[1])
        value = -(ev_n @ dist.logpdf(ev, shape, scale=scale) + ce_n @ dist.logsf(ce, shape, scale=scale))
        return float(value) if np.isfinite(value) else 1e300

    res = optimize.minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000})
    return _frozen(name, (math.exp(res.x[0]), 0.0, math.exp(res.x[1])))


def patience_cell(waits: np.ndarray, abandoned: np.ndarray, cell: tuple[str | None, str | None]) -> PatienceFit:
    """Fit one cell: waits (seconds, > 0) and whether each call abandoned (else it is right-censored)."""
    events, censored = waits[abandoned], waits[~abandoned]
    data = stats.CensoredData(uncensored=events, right=censored)
    km = stats.ecdf(data).sf
    t, s = np.asarray(km.quantiles, dtype=float), np.asarray(km.probabilities, dtype=float)
    n_ab = len(events)
    exp_mean = float(waits.sum() / n_ab) if n_ab else math.inf
    if n_ab:
        lo = 2 * waits.sum() / stats.chi2.ppf(0.975, 2 * n_ab)
        hi = 2 * waits.sum() / stats.chi2.ppf(0.025, 2 * n_ab)
        ci = (float(lo), float(hi))
    else:
        ci = (math.inf, math.inf)
    fits: list[DistFit] = []
    if n_ab >= 2:
        # the gap is measured where the data are: up to the 95th percentile of all waits (beyond it Kaplan-Meier
        # rests on a handful of callers still at risk)
        last = min(float(events.max()), float(np.quantile(waits, GAP_QUANTILE)))
        grid_t = t[t <= last]
        grid_s = s[t <= last]
        for name in _CANDIDATES:
            frozen = stats.expon(scale=exp_mean) if name == "exponential" else _censored_mle(name, events, censored)
            mean, cv = _moments(frozen)
            k = 1 if name == "exponential" else 2
            aic = 2 * k - 2 * _censored_loglik(frozen, events, censored)
            gap = float(np.max(np.abs(frozen.sf(grid_t) - grid_s))) if len(grid_t) else math.nan
            fits.append(DistFit(name, mean, cv, gap, aic, frozen))
        fits.sort(key=lambda f: f.aic)
    return PatienceFit(cell, len(waits), n_ab, t, s, exp_mean, ci, fits)


def fit_patience(calls: pd.DataFrame) -> dict[tuple[str | None, str | None], PatienceFit]:
    """Patience per intent and priority, per intent, and pooled, from calls that waited.

    A served call's patience is only known to exceed its wait (right-censored); an abandoned call's patience is
    its wait. Calls that did not wait carry no information on patience and are left out.
    """
    waited = calls[calls["wait_s"] > 0]
    out: dict[tuple[str | None, str | None], PatienceFit] = {}
    w, a = waited["wait_s"].to_numpy(dtype=float), waited["abandoned"].to_numpy(dtype=bool)
    out[(None, None)] = patience_cell(w, a, (None, None))
    for intent, g in waited.groupby("intent"):
        w, a = g["wait_s"].to_numpy(dtype=float), g["abandoned"].to_numpy(dtype=bool)
        if a.sum() >= 2:
            out[(str(intent), None)] = patience_cell(w, a, (str(intent), None))
        for prio, h in g.groupby("priority"):
            w, a = h["wait_s"].to_numpy(dtype=float), h["abandoned"].to_numpy(dtype=bool)
            if a.sum() >= MIN_ABANDONS:
                out[(str(intent), str(prio))] = patience_cell(w, a, (str(intent), str(prio)))
    return out


def _windows(bounds_s: list[float]) -> list[tuple[float, float]]:
    b = sorted(bounds_s)
    return [(b[i], b[(i + 1) % len(b)]) for i in range(len(b))]


def fit_patience_windows(
    calls: pd.DataFrame, bounds_s: list[float]
) -> dict[tuple[str, str, tuple[float, float]], PatienceFit]:
    """Patience per intent, priority and time-of-day window (by the local time the call reached the queue).

    ``bounds_s`` are the windows' start times (seconds after midnight); the last window wraps to the first
    (``[07:00, 17:00, 20:00]`` gives 07-17, 17-20 and 20-07). Cells with fewer than :data:`MIN_ABANDONS` abandons
    are left out (their calls take the intent-and-priority fit).
    """
    out: dict[tuple[str, str, tuple[float, float]], PatienceFit] = {}
    if not bounds_s:
        return out
    waited = calls[calls["wait_s"] > 0]
    tod = (waited["queue_arrival"] - waited["queue_arrival"].dt.normalize()).dt.total_seconds().to_numpy()
    for lo, hi in _windows(bounds_s):
        inside = (tod >= lo) & (tod < hi) if lo < hi else (tod >= lo) | (tod < hi)
        for (intent, prio), h in waited[inside].groupby(["intent", "priority"]):
            w, a = h["wait_s"].to_numpy(dtype=float), h["abandoned"].to_numpy(dtype=bool)
            if a.sum() >= MIN_ABANDONS:
                out[(str(intent), str(prio), (lo, hi))] = patience_cell(w, a, (str(intent), str(prio)))
    return out


# ------------------------------------------------------------------------------------------------ staffing


@dataclass
class StaffingFit:
    """Agents seen working per group and interval, and each group's availability.

    Attributes:
        table: Columns ``group``, ``start`` (interval start, Timestamp), ``seen`` (distinct agents with service
            time in the interval), ``present`` (agents on duty: the seconds of the interval covered by the agents'
            on-duty spans, divided by its length; a span runs from a service start to the end of the last
            service that follows with gaps of at most ``mapping.presence_gap``), ``busy_s`` (their talk seconds
            in it), ``queue_s`` (seconds waited in the
            queue inside the interval by the group's calls, i.e. the time-average queue length times the
            interval length).
        agent_group: Agent name -> group.
        skills: Group -> intents its agents served (share >= ``min_skill_share``).
        availability: Group -> share of the present headcount that is taking calls: talk time / (present x
            interval length) over the congested intervals (mean queue length >= ``congested_queue``), where every
            available agent should be busy.
        congested: Group -> number of congested intervals the factor is estimated from.
        profile: Group -> hour of the day (0-23) -> relative availability in (0, 1] (the hour's estimate divided
            by the group's largest), with ``mapping.availability_by: hour``; empty otherwise. The agents
            available in an interval are ``present x profile[hour] x availability``.
        hourly: Group -> the estimate per hour behind ``profile`` (:func:`availability_by_hour`), for the
            report.
    """

    table: pd.DataFrame
    agent_group: dict[str, str]
    skills: dict[str, list[str]]
    availability: dict[str, float]
    congested: dict[str, int]
    profile: dict[str, dict[int, float]] = field(default_factory=dict)
    hourly: dict[str, dict[str, Any]] = field(default_factory=dict)


def _spread(starts: np.ndarray, ends: np.ndarray, interval_s: float, keys: np.ndarray) -> pd.DataFrame:
    """Split spans ``[start, end)`` (seconds since an epoch) into interval pieces: (key, slot, seconds)."""
    first = np.floor(starts / interval_s).astype(np.int64)
    last = np.floor(np.maximum(ends - 1e-9, starts) / interval_s).astype(np.int64)
    n = (last - first + 1).astype(np.int64)
    rep = np.repeat(np.arange(len(starts)), n)
    slot = first[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n))
    lo = np.maximum(starts[rep], slot * interval_s)
    hi = np.minimum(ends[rep], (slot + 1) * interval_s)
    return pd.DataFrame({"key": keys[rep], "slot": slot, "seconds": np.maximum(hi - lo, 0.0)})


def _presence(start: np.ndarray, end: np.ndarray, key: np.ndarray, gap_s: float) -> tuple[np.ndarray, ...]:
    """On-duty spans per agent: its services merged when the gap between them is at most ``gap_s`` seconds."""
    order = np.lexsort((start, key))
    s, e, k = start[order], end[order], key[order]
    out_s, out_e, out_k = [], [], []
    for i in range(len(s)):
        if out_k and out_k[-1] == k[i] and s[i] - out_e[-1] <= gap_s:
            out_e[-1] = max(out_e[-1], e[i])
        else:
            out_s.append(s[i])
            out_e.append(e[i])
            out_k.append(k[i])
    return np.asarray(out_s, dtype=float), np.asarray(out_e, dtype=float), np.asarray(out_k, dtype=object)


def assign_groups(calls: pd.DataFrame, mapping: CalibrationMapping) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each agent's group (the mapping group holding most of its calls) and each group's served intents."""
    served = calls[calls["server"] != ""]
    intent_group = {i: g for g, members in mapping.groups.items() for i in members}
    order = list(mapping.groups)
    by_agent = served.assign(group=served["intent"].map(intent_group)).groupby(["server", "group"]).size()
    agent_group: dict[str, str] = {}
    for agent, g in by_agent.groupby(level=0):
        counts = {k[1]: int(v) for k, v in g.items()}
        agent_group[str(agent)] = max(order, key=lambda name: (counts.get(name, 0), -order.index(name)))
    skills: dict[str, list[str]] = {}
    with_group = served.assign(group=served["server"].map(agent_group))
    staffed = [g for g in order if g in set(agent_group.values())]
    for group in order:
        share = with_group.loc[with_group["group"] == group, "intent"].value_counts(normalize=True)
        skills[group] = sorted(str(i) for i, x in share.items() if x >= mapping.min_skill_share)
    # an intent no staffed group serves goes to its mapping group if staffed, else to the first staffed group
    for intent in sorted(str(i) for i in calls["intent"].unique()):
        if staffed and not any(intent in skills[g] for g in staffed):
            home = intent_group.get(intent)
            skills[home if home in staffed else staffed[0]].append(intent)
    return agent_group, skills


HOURLY_PRIOR_S = 3600.0
"""Seconds of waiting behind an hour's availability estimate at which it gets half the weight (the rest goes to
the group's overall estimate): an hour with little queueing is shrunk towards the whole day."""

RING_S = 2.0
"""The last seconds of each logged wait (s) are not counted as queueing: the hand-over to the agent, whose talk
starts a moment later in a log of whole seconds."""


def _counts(starts: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """How many of the spans ``[start, end)`` (whole seconds) cover each second of ``[0, length)``."""
    diff = np.zeros(length + 1, dtype=np.int64)
    s = np.clip(np.floor(starts).astype(np.int64), 0, length)
    e = np.clip(np.ceil(ends).astype(np.int64), 0, length)
    keep = e > s
    np.add.at(diff, s[keep], 1)
    np.add.at(diff, e[keep], -1)
    return np.cumsum(diff[:-1])


def availability_by_hour(
    busy: tuple[np.ndarray, np.ndarray], present: tuple[np.ndarray, np.ndarray],
    queue: tuple[np.ndarray, np.ndarray], length_s: int, *, prior_s: float = HOURLY_PRIOR_S,
) -> dict[str, Any]:
    """The share of on-duty agents available to take calls, per hour of the day, from the moments a caller waited.

    While a caller waits, every available agent of a work-conserving group is talking, so at such a second
    ``talking / on duty`` is the available share. Summed over the waiting seconds of each hour of the day
    (``sum talking / sum on duty``, the seconds since the window's midnight), shrunk towards the whole window's
    figure with weight ``n / (n + prior_s)`` for ``n`` waiting seconds in the hour.

    Args:
        busy: Service spans of the group's agents (start, end), seconds from the window's midnight.
        present: On-duty spans of the group's agents (start, end), seconds.
        queue: Waiting spans of the group's callers (start, end), seconds.
        length_s: Window length, seconds.
        prior_s: See above (seconds).

    Returns:
        ``by_hour`` (hour -> shrunk estimate), ``raw`` (hour -> unshrunk estimate or None), ``waiting_s`` (hour ->
        waiting seconds with an agent on duty), ``overall`` (whole-window estimate, None without waiting).
    """
    b = _counts(*busy, length_s)
    p = _counts(*present, length_s)
    q = _counts(*queue, length_s)
    mask = (q > 0) & (p > 0)
    hour = (np.nonzero(mask)[0] // 3600) % 24
    num = np.bincount(hour, weights=b[mask], minlength=24)
    den = np.bincount(hour, weights=p[mask], minlength=24)
    n = np.bincount(hour, minlength=24).astype(float)
    overall = float(num.sum() / den.sum()) if den.sum() > 0 else None
    raw = {h: (float(num[h] / den[h]) if den[h] > 0 else None) for h in range(24)}
    shrunk = {}
    for h in range(24):
        w = n[h] / (n[h] + prior_s)
        base = overall if overall is not None else 1.0
        shrunk[h] = float(min(1.0, w * (raw[h] or 0.0) + (1.0 - w) * base))
    return {"by_hour": shrunk, "raw": raw, "waiting_s": {h: int(n[h]) for h in range(24)}, "overall": overall}


def fit_staffing(
    calls: pd.DataFrame, mapping: CalibrationMapping, *, congested_queue: float = 1.0,
    availability: dict[str, float] | None = None, profile: dict[str, dict[int, float]] | None = None,
) -> StaffingFit:
    """Agents seen per group and interval from service spans, and the availability factor.

    Args:
        calls: The calls (a :class:`CallLog` frame).
        mapping: Groups and interval length.
        congested_queue: Mean queue length (calls) from which an interval counts as congested.
        availability: Use these factors instead of estimating them (a held-out window uses the fitted ones).
        profile: With ``mapping.availability_by: hour``, use these hourly profiles (group -> hour -> factor)
            instead of estimating them; a group not listed takes the mean of the listed ones.
    """
    interval_s = mapping.interval
    agent_group, skills = assign_groups(calls, mapping)
    epoch = calls["date"].min()
    spans = calls[(calls["server"] != "") & calls["service_start"].notna() & calls["service_end"].notna()]
    start = (spans["service_start"] - epoch).dt.total_seconds().to_numpy()
    end = (spans["service_end"] - epoch).dt.total_seconds().to_numpy()
    end = np.maximum(end, start + 1.0)  # a zero-length service still shows the agent at work
    servers = spans["server"].to_numpy()
    pieces = _spread(start, end, interval_s, servers)
    pieces["group"] = pieces["key"].map(agent_group)
    seen = pieces.groupby(["group", "slot"]).agg(seen=("key", "nunique"), busy_s=("seconds", "sum"))
    p_start, p_end, p_key = _presence(start, end, servers, mapping.presence_gap)
    present = _spread(p_start, p_end, interval_s, p_key)
    present["group"] = present["key"].map(agent_group)
    seen = seen.join(present.groupby(["group", "slot"])["seconds"].sum().div(interval_s).rename("present"),
                     how="outer")
    # queue time per group: waits of the calls of the intents the group serves (each intent to one group)
    intent_group: dict[str, str] = {}
    for group, intents in skills.items():
        for i in intents:
            intent_group.setdefault(i, group)
    waited = calls[calls["wait_s"] > 0]
    q0 = (waited["queue_arrival"] - epoch).dt.total_seconds().to_numpy()
    qp = _spread(q0, q0 + waited["wait_s"].to_numpy(), interval_s, waited["intent"].map(intent_group).to_numpy())
    queue = qp.groupby(["key", "slot"])["seconds"].sum().rename("queue_s")
    queue.index = queue.index.set_names(["group", "slot"])
    n_slots = int(np.ceil(((calls["queue_arrival"].max() - epoch).total_seconds() + 1) / interval_s))
    n_slots = max(n_slots, int(seen.index.get_level_values("slot").max()) + 1 if len(seen) else 0)
    full = pd.MultiIndex.from_product([list(mapping.groups), range(n_slots)], names=["group", "slot"])
    table = seen.join(queue, how="outer").reindex(full).fillna(0.0).reset_index()
    table["seen"] = table["seen"].astype(int)
    table["start"] = epoch + pd.to_timedelta(table["slot"] * interval_s, unit="s")
    table = table[["group", "start", "seen", "present", "busy_s", "queue_s"]]
    avail: dict[str, float] = {}
    congested: dict[str, int] = {}
    for group, g in table.groupby("group"):
        hot = g[(g["queue_s"] >= congested_queue * interval_s) & (g["present"] > 0)]
        congested[str(group)] = len(hot)
        if availability is not None and group in availability:
            avail[str(group)] = availability[str(group)]
        elif len(hot):
            avail[str(group)] = float(min(1.0, hot["busy_s"].sum() / (hot["present"].sum() * interval_s)))
        else:
            avail[str(group)] = 1.0
    prof: dict[str, dict[int, float]] = {}
    hourly: dict[str, dict[str, Any]] = {}
    if mapping.availability_by == "hour":
        if profile is not None:
            known = [v for v in profile.values() if v]
            mean = {h: float(np.mean([v[h] for v in known])) if known else 1.0 for h in range(24)}
            prof = {str(g): dict(profile.get(str(g)) or mean) for g in mapping.groups}
        else:
            length = n_slots * int(interval_s)
            span_group = pd.Series(servers).map(agent_group).to_numpy()
            p_group = pd.Series(p_key).map(agent_group).to_numpy()
            w_group = waited["intent"].map(intent_group).to_numpy()
            w_end = q0 + waited["wait_s"].to_numpy() - RING_S
            for group in mapping.groups:
                est = availability_by_hour(
                    (start[span_group == group], end[span_group == group]),
                    (p_start[p_group == group], p_end[p_group == group]),
                    (q0[w_group == group], w_end[w_group == group]), length,
                )
                hourly[str(group)] = est
                top = max(est["by_hour"].values())
                prof[str(group)] = {h: (v / top if top > 0 else 1.0) for h, v in est["by_hour"].items()}
    return StaffingFit(table, agent_group, skills, avail, congested, prof, hourly)
