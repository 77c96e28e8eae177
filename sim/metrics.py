"""Pure KPI functions over the output frames of :mod:`sim.schema` (no SimPy, no I/O).

Every function takes the frames and its parameters explicitly, never mutates its inputs, and works on empty
frames: counts and sums of nothing are 0, ratios of nothing are NaN. Everything is vectorised (frames can hold
millions of contacts).

Definitions (DESIGN §4), shared by the contact-log and the streaming (intervals) paths:

* A contact belongs to the interval of its arrival, ``floor(arrival_s / interval_s)``.
* *Offered* = reached the human queue: outcome ``served`` (*answered*), ``abandoned`` or ``censored`` (still
  waiting at the horizon, ``wait_s = horizon - arrival``). Bot outcomes are not offered (see
  :data:`QUEUE_OUTCOMES`).
* *Short abandon*: abandoned with ``wait_s < short_abandon_s`` of its channel. *Delayed*: answered or abandoned with
  ``wait_s > 0``.
* For an SL threshold ``T``: *answered within T* = answered with ``first_response_s <= T``; *abandoned within T* =
  abandoned with ``wait_s <= T``; *censored over T* = censored with ``wait_s > T``.
* Service level, with A = answered, Ab = abandoned, Ab_s = short abandons, Cz = censored over T (a contact still
  waiting beyond T has missed the target, so it joins every denominator and no numerator):

  =============================== ==================================
  ``ignore_abandons``             A<=T / (A + Cz)
  ``abandons_bad``                A<=T / (A + Ab + Cz)
  ``short_abandons_excluded``     A<=T / (A + Ab - Ab_s + Cz)
  ``abandons_good``               (A<=T + Ab<=T) / (A + Ab + Cz)
  =============================== ==================================

  Always volume-weighted: counts are summed over the selected rows, then divided.
* ASA = mean wait of answered contacts (zeros included); mean wait of all = (wait of answered + wait of
  abandoned) / (A + Ab); P(wait > 0) = delayed / (A + Ab); abandonment rate = Ab / offered.
* Occupancy = busy / (logged in - on break); utilization = (logged in - on break) / paid: the share of paid
  time (overtime included) an agent was available to take or working on contacts. DESIGN §4 says "logged-in /
  paid"; agents here are logged in for their whole paid shift, so that ratio would always be 1. Breaks are
  the part of paid time agents are logged out of the queues, as in an ACD report.

Example:
    >>> import pandas as pd
    >>> contacts = pd.DataFrame({
    ...     "replication": 0, "channel": "voice", "priority": "normal", "tier": "regular",
    ...     "arrival_s": [10.0, 20.0, 30.0], "outcome": ["served", "served", "abandoned"],
    ...     "first_response_s": [0.0, 45.0, float("nan")], "wait_s": [0.0, 45.0, 3.0],
    ...     "service_end_s": [100.0, 200.0, float("nan")], "handle_s": [90.0, 135.0, float("nan")]})
    >>> iv = intervals_from_contacts(contacts, interval_s=1800.0, thresholds_s=[20.0], short_abandon_s=5.0,
    ...                              horizon_s=1800.0, channels=["voice"])
    >>> service_level(iv, 20.0, "short_abandons_excluded"), service_level(iv, 20.0, "abandons_bad")
    (0.5, 0.3333333333333333)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd

from sim.schema import PRIORITIES, TIERS, threshold_label

if TYPE_CHECKING:
    from sim.config import Scenario

__all__ = [
    "ABANDONED_OUTCOMES",
    "ANSWERED_OUTCOMES",
    "CENSORED_OUTCOMES",
    "COST_METRICS",
    "INTERVAL_KEYS",
    "METRICS",
    "QUEUE_OUTCOMES",
    "RESOLUTION_METRICS",
    "SL_CONVENTIONS",
    "RunFrames",
    "abandon_rate",
    "agent_table",
    "asa_s",
    "cost_per_contact",
    "filter_agents",
    "filter_contacts",
    "filter_frt_hist",
    "filter_intervals",
    "frt_max_s",
    "frt_quantiles",
    "frt_quantiles_from_hist",
    "interval_columns",
    "interval_table",
    "intervals_from_contacts",
    "labor_cost",
    "mean_wait_all_s",
    "measurement_window",
    "occupancy",
    "occupancy_from_staffing",
    "overtime_h",
    "p_wait",
    "replication_metrics",
    "service_level",
    "service_level_from_contacts",
    "short_abandons",
    "sl_metric",
    "slot_occupancy_from_staffing",
    "threshold_columns",
    "utilization",
]

SLConvention = Literal["ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good"]
SL_CONVENTIONS: tuple[str, ...] = ("ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good")
"""Abandonment conventions of service level (DESIGN §4); ``short_abandons_excluded`` is the scenario default."""

ANSWERED_OUTCOMES: tuple[str, ...] = ("served", "escalated_async")
"""Outcomes counted as answered by a human (they have a ``first_response_s``; an async escalation was answered,
then handed to the back office)."""
ABANDONED_OUTCOMES: tuple[str, ...] = ("abandoned",)
"""Outcomes counted as abandoned from the human queue."""
CENSORED_OUTCOMES: tuple[str, ...] = ("censored",)
"""Outcomes of contacts still waiting in the human queue at the horizon."""
QUEUE_OUTCOMES: tuple[str, ...] = ANSWERED_OUTCOMES + ABANDONED_OUTCOMES + CENSORED_OUTCOMES
"""Outcomes of contacts offered to the human queue. Bot outcomes (``bot_resolved``, ``bot_abandoned``,
``silent_failure``) never reached it; a bot-escalated contact that reached it ends as one of these."""

INTERVAL_KEYS: tuple[str, ...] = ("replication", "interval", "interval_start_s", "channel", "priority", "tier")
"""Key columns of the ``intervals`` frame, in order."""
_BASE_COUNTS: tuple[str, ...] = ("offered", "answered", "abandoned", "abandoned_short", "censored", "delayed")
_SUMS: tuple[str, ...] = ("wait_answered_s", "wait_abandoned_s", "handle_s")
_LEVELS: tuple[str, ...] = ("queue_len", "in_service")

RESOLUTION_METRICS: tuple[str, ...] = (
    "bot_offered",
    "bot_containment",
    "bot_deflection",
    "bot_escalation_rate",
    "bot_abandon_rate",
    "bot_silent_failure_rate",
    "bot_frt_mean_s",
    "bot_session_mean_s",
    "handoff_mean_s",
    "approvals",
    "escalation_rate",
    "approval_wait_mean_s",
    "fcr",
    "repeat_contacts",
    "same_agent_share",
    "transfers",
    "transfer_abandon_rate",
    "transfer_wait_mean_s",
)
"""Bot, approval and repeat-contact families (scopes as contacts), present when the run has a ``resolution`` frame."""
COST_METRICS: tuple[str, ...] = (
    "bot_cost",
    "training_cost",
    "leakage_cost",
    "team_lead_cost",
    "team_lead_occupancy",
    "total_cost",
)
"""Costs beyond agent pay, team-lead occupancy and total cost (scope ``all``), when the engine reports them."""

METRICS: tuple[str, ...] = (
    # contacts (scopes "all", "channel=<c>", "priority=<p>", "tier=<t>")
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "censored",
    "abandon_rate",
    "sl",  # one row per threshold, named sl_<label> (see sl_metric), e.g. "sl_20s"
    "asa_s",
    "mean_wait_all_s",
    "p_wait",
    "frt_p50_s",
    "frt_p90_s",
    "frt_max_s",
    # agents (scopes "all", "group=<g>")
    "occupancy",
    "slot_occupancy",
    "utilization",
    "paid_h",
    "overtime_h",
    "handled",
    "labor_cost",
    "cost_per_contact",
    *RESOLUTION_METRICS,
    *COST_METRICS,
    # targets (scope "target=<name>")
    "target_attainment",
    "target_met",
)
"""Metric families of :func:`replication_metrics`. Service level is a family: its rows are ``sl_<label>``."""


class RunFrames(Protocol):
    """What :func:`replication_metrics` reads from a replication's result (frames of :mod:`sim.schema`)."""

    intervals: pd.DataFrame
    staffing: pd.DataFrame | None
    agents: pd.DataFrame | None
    frt_hist: pd.DataFrame | None
    contacts: pd.DataFrame | None
    resolution: pd.DataFrame | None
    stats: dict[str, float]


# ----------------------------------------------------------------------------------------------------- helpers


def sl_metric(threshold_s: float) -> str:
    """Metric name of the service level at ``threshold_s`` seconds, e.g. ``20.0 -> "sl_20s"``."""
    return f"sl_{threshold_label(threshold_s)}"


def threshold_columns(threshold_s: float) -> tuple[str, str, str]:
    """``(answered_within_T, abandoned_within_T, censored_over_T)`` column names for threshold ``T`` seconds."""
    label = threshold_label(threshold_s)
    return f"answered_within_{label}", f"abandoned_within_{label}", f"censored_over_{label}"


def interval_columns(thresholds_s: Iterable[float]) -> list[str]:
    """All columns of the ``intervals`` frame, in schema order, for the given SL thresholds (seconds)."""
    per_threshold = [c for t in thresholds_s for c in threshold_columns(t)]
    return [*INTERVAL_KEYS, *_BASE_COUNTS, *per_threshold, *_SUMS, "max_wait_answered_s", *_LEVELS]


def _is_empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {missing}; it has {list(frame.columns)}")


def _sums(frame: pd.DataFrame | None, columns: Sequence[str], what: str = "intervals") -> dict[str, float]:
    """Column totals; zeros for an empty (or ``None``) frame."""
    if _is_empty(frame):
        return dict.fromkeys(columns, 0.0)
    _require(frame, columns, what)
    totals = frame[list(columns)].to_numpy(dtype=float).sum(axis=0)
    return dict(zip(columns, totals.tolist(), strict=True))


def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray | float:
    """``num / den`` with NaN where ``den <= 0``; a float for scalar inputs."""
    num_a, den_a = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast_shapes(num_a.shape, den_a.shape), np.nan)
    np.divide(num_a, den_a, out=out, where=den_a > 0)
    return out if out.ndim else float(out)


def _check_convention(convention: str) -> None:
    if convention not in SL_CONVENTIONS:
        raise ValueError(f"convention must be one of {list(SL_CONVENTIONS)}, got {convention!r}")


def _sl_from_counts(
    answered_within: np.ndarray | float,
    abandoned_within: np.ndarray | float,
    censored_over: np.ndarray | float,
    answered: np.ndarray | float,
    abandoned: np.ndarray | float,
    abandoned_short: np.ndarray | float,
    convention: str,
) -> np.ndarray | float:
    _check_convention(convention)
    if convention == "ignore_abandons":
        return _ratio(answered_within, np.add(answered, censored_over))
    if convention == "abandons_bad":
        return _ratio(answered_within, np.add(np.add(answered, abandoned), censored_over))
    if convention == "short_abandons_excluded":
        den = np.add(np.subtract(np.add(answered, abandoned), abandoned_short), censored_over)
        return _ratio(answered_within, den)
    return _ratio(np.add(answered_within, abandoned_within), np.add(np.add(answered, abandoned), censored_over))


def _mask(frame: pd.DataFrame, column: str, value: str | Sequence[str] | None) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frame[column].eq(value).to_numpy(dtype=bool)
    return frame[column].isin(list(value)).to_numpy(dtype=bool)


def _select(frame: pd.DataFrame | None, **equal: str | Sequence[str] | None) -> pd.DataFrame | None:
    """Rows whose columns match every non-``None`` filter (a value or a collection of values)."""
    if frame is None:
        return None
    keep = np.ones(len(frame), dtype=bool)
    for column, value in equal.items():
        mask = _mask(frame, column, value)
        if mask is not None:
            keep &= mask
    return frame if keep.all() else frame.loc[keep]


# ------------------------------------------------------------------------------------------------- filters


def filter_intervals(
    intervals: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> pd.DataFrame:
    """Rows of an ``intervals`` frame for a segment and a time window.

    Args:
        intervals: ``intervals`` frame.
        channel: Channel name(s) to keep; ``None`` keeps all.
        priority: Priority name(s) to keep; ``None`` keeps all.
        tier: Tier name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds). Intervals are attributed by arrival,
            so pass a warm-up aligned on interval boundaries (see :func:`measurement_window`).
        horizon_s: Keep intervals starting before this time (seconds); ``None`` keeps all.

    Returns:
        The selected rows (the input itself when nothing is filtered out).
    """
    selected = _select(intervals, channel=channel, priority=priority, tier=tier)
    assert selected is not None
    return _in_window(selected, "interval_start_s", warmup_s, horizon_s)


def filter_contacts(
    contacts: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    intent: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> pd.DataFrame:
    """Rows of a ``contacts`` frame for a segment, arriving in ``[warmup_s, horizon_s)``.

    Args:
        contacts: ``contacts`` frame.
        channel: Channel name(s) to keep; ``None`` keeps all.
        priority: Priority name(s) to keep; ``None`` keeps all.
        tier: Tier name(s) to keep; ``None`` keeps all.
        intent: Intent name(s) to keep; ``None`` keeps all.
        warmup_s: Keep contacts arriving at or after this time (seconds).
        horizon_s: Keep contacts arriving before this time (seconds); ``None`` keeps all.

    Returns:
        The selected rows.
    """
    selected = _select(contacts, channel=channel, priority=priority, tier=tier, intent=intent)
    assert selected is not None
    return _in_window(selected, "arrival_s", warmup_s, horizon_s)


def _in_window(frame: pd.DataFrame, column: str, warmup_s: float, horizon_s: float | None) -> pd.DataFrame:
    """Rows whose ``column`` (seconds) lies in ``[warmup_s, horizon_s)`` (no upper bound when ``None``)."""
    if len(frame) == 0 or (warmup_s <= 0 and horizon_s is None):
        return frame
    t = frame[column].to_numpy(dtype=float)
    keep = t >= warmup_s
    if horizon_s is not None:
        keep &= t < horizon_s
    return frame if keep.all() else frame.loc[keep]


def filter_frt_hist(
    frt_hist: pd.DataFrame,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of a ``frt_hist`` frame for a segment (the histogram has no time dimension)."""
    selected = _select(frt_hist, channel=channel, priority=priority, tier=tier)
    assert selected is not None
    return selected


def filter_agents(agents: pd.DataFrame, *, group: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of an ``agents`` frame for one or several groups (``None`` keeps all)."""
    selected = _select(agents, group=group)
    assert selected is not None
    return selected


def measurement_window(scenario: Scenario) -> tuple[float, float]:
    """``(start_s, end_s)`` of the period every metric of a replication covers.

    The start is the warm-up rounded *up* to a reporting-interval boundary, so that interval-based figures
    (streaming mode) and contact-based ones cover exactly the same arrivals; the end is the horizon.
    """
    return scenario.measure_start_s, float(scenario.horizon)


# ----------------------------------------------------------------------------------- contacts -> interval counts


def _short_thresholds(contacts: pd.DataFrame, short_abandon_s: Mapping[str, float] | float) -> np.ndarray | float:
    if not isinstance(short_abandon_s, Mapping):
        return float(short_abandon_s)
    codes, uniques = pd.factorize(contacts["channel"], use_na_sentinel=False)
    per_channel = np.array([short_abandon_s.get(str(u), np.nan) for u in uniques], dtype=float)
    if np.isnan(per_channel).any():
        unknown = sorted(str(u) for u, v in zip(uniques, per_channel, strict=True) if np.isnan(v))
        raise ValueError(f"short_abandon_s has no threshold for channel(s) {unknown}; it has {sorted(short_abandon_s)}")
    return per_channel[codes]


def _classify(
    contacts: pd.DataFrame, thresholds_s: Sequence[float], short_abandon_s: Mapping[str, float] | float
) -> dict[str, np.ndarray]:
    """Per-contact indicator (bool) and summand (float) arrays of every intervals count / sum column."""
    _require(contacts, ("outcome", "wait_s", "first_response_s"), "contacts")
    outcome = contacts["outcome"]
    answered = outcome.isin(ANSWERED_OUTCOMES).to_numpy(dtype=bool)
    abandoned = outcome.isin(ABANDONED_OUTCOMES).to_numpy(dtype=bool)
    censored = outcome.isin(CENSORED_OUTCOMES).to_numpy(dtype=bool)
    wait = contacts["wait_s"].to_numpy(dtype=float)
    frt = contacts["first_response_s"].to_numpy(dtype=float)
    short = _short_thresholds(contacts, short_abandon_s) if abandoned.any() else 0.0
    flags: dict[str, np.ndarray] = {
        "offered": answered | abandoned | censored,
        "answered": answered,
        "abandoned": abandoned,
        "abandoned_short": abandoned & (wait < short),
        "censored": censored,
        "delayed": (answered | abandoned) & (wait > 0),
    }
    for t in thresholds_s:
        a_col, ab_col, c_col = threshold_columns(t)
        flags[a_col] = answered & (frt <= t)
        flags[ab_col] = abandoned & (wait <= t)
        flags[c_col] = censored & (wait > t)
    wait_answered = np.where(answered, wait, 0.0)
    flags["wait_answered_s"] = wait_answered
    flags["wait_abandoned_s"] = np.where(abandoned, wait, 0.0)
    if answered.any():
        _require(contacts, ("service_end_s", "handle_s"), "contacts")
        finished = answered & np.isfinite(contacts["service_end_s"].to_numpy(dtype=float))
        flags["handle_s"] = np.where(finished, contacts["handle_s"].to_numpy(dtype=float), 0.0)
    else:
        flags["handle_s"] = np.zeros(len(contacts))
    flags["max_wait_answered_s"] = wait_answered
    return flags


def _codes(values: pd.Series | np.ndarray, names: Sequence[object], what: str, rows: np.ndarray) -> np.ndarray:
    """Position in ``names`` of each selected value (factorized first: fast on millions of repeated strings)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    lookup = pd.Index(list(names)).get_indexer(uniques)
    out = lookup[codes[rows]]
    if (out < 0).any():
        bad = sorted({str(u) for u in np.asarray(uniques, dtype=object)[np.unique(codes[rows][out < 0])]})
        raise ValueError(f"contacts have {what} value(s) {bad[:10]} not in {list(names)}")
    return out


def intervals_from_contacts(
    contacts: pd.DataFrame | None,
    *,
    interval_s: float,
    thresholds_s: Sequence[float],
    short_abandon_s: Mapping[str, float] | float,
    horizon_s: float,
    n_intervals: int | None = None,
    channels: Sequence[str] | None = None,
    replication: int | Sequence[int] | None = None,
) -> pd.DataFrame:
    """Count and sum columns of the ``intervals`` frame, computed from a contact log.

    The result has one row per replication x interval x channel x priority x tier, the full grid in that order
    (channels in the given order, priorities and tiers in :data:`sim.schema.PRIORITIES` / ``TIERS`` order), with
    zeros where no contact arrived. The time-weighted levels ``queue_len`` and ``in_service`` cannot be derived
    from contacts alone (they need the queue's level records) and are NaN.

    Args:
        contacts: ``contacts`` frame (``None`` or empty gives an all-zero grid).
        interval_s: Reporting interval length (seconds).
        thresholds_s: SL thresholds (seconds); each adds ``answered_within_T``, ``abandoned_within_T`` and
            ``censored_over_T`` columns.
        short_abandon_s: Short-abandon threshold (seconds), one for all or per channel name.
        horizon_s: Simulated horizon (seconds); every offered contact must arrive in ``[0, horizon_s)``.
        n_intervals: Number of intervals; default ``ceil(horizon_s / interval_s)``.
        channels: Channels of the grid; default the sorted channels present in ``contacts``.
        replication: Replication(s) of the grid; default those present in ``contacts`` (0 if there are none).

    Returns:
        A frame with the columns of :func:`interval_columns` (``thresholds_s``).

    Raises:
        ValueError: If an offered contact lies outside the grid (arrival outside ``[0, horizon)``, unknown
            channel, priority, tier or replication).
    """
    if not interval_s > 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
    thresholds = [float(t) for t in thresholds_s]
    n_int = math.ceil(horizon_s / interval_s - 1e-9) if n_intervals is None else int(n_intervals)
    empty = _is_empty(contacts)
    if channels is None:
        channels = [] if empty else sorted(contacts["channel"].astype(str).unique())
    chans = list(channels)
    if replication is None:
        has_reps = not empty and "replication" in contacts.columns
        reps = sorted(int(r) for r in contacts["replication"].unique()) if has_reps else [0]
    else:
        reps = [int(replication)] if np.ndim(replication) == 0 else [int(r) for r in replication]
    shape = (len(reps), n_int, len(chans), len(PRIORITIES), len(TIERS))
    size = math.prod(shape)
    columns = interval_columns(thresholds)

    flags: dict[str, np.ndarray] = {}
    codes = np.zeros(0, dtype=np.int64)
    if not empty:
        flags = _classify(contacts, thresholds, short_abandon_s)
        offered = flags["offered"]
        flags = {name: values[offered] for name, values in flags.items()}
        arrival = contacts["arrival_s"].to_numpy(dtype=float)[offered]
        outside = ~((arrival >= 0) & (arrival < horizon_s))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} offered contact(s) arrive outside [0, {horizon_s:g}) s, "
                f"e.g. at {arrival[outside][:3].tolist()}"
            )
        interval = np.floor(arrival / interval_s).astype(np.int64)
        if (interval >= n_int).any():
            raise ValueError(f"contacts arrive after the last of {n_int} intervals of {interval_s:g} s")
        rep_values = contacts["replication"] if "replication" in contacts.columns else np.zeros(len(contacts), int)
        codes = np.ravel_multi_index(
            (
                _codes(rep_values, reps, "replication", offered),
                interval,
                _codes(contacts["channel"], chans, "channel", offered),
                _codes(contacts["priority"], PRIORITIES, "priority", offered),
                _codes(contacts["tier"], TIERS, "tier", offered),
            ),
            shape,
        )

    grid = np.unravel_index(np.arange(size), shape)
    out: dict[str, np.ndarray] = {
        "replication": np.asarray(reps, dtype=np.int64)[grid[0]],
        "interval": grid[1].astype(np.int64),
        "interval_start_s": grid[1] * float(interval_s),
        "channel": np.asarray(chans, dtype=object)[grid[2]],
        "priority": np.asarray(PRIORITIES, dtype=object)[grid[3]],
        "tier": np.asarray(TIERS, dtype=object)[grid[4]],
    }
    for name in columns[len(INTERVAL_KEYS) :]:
        if name in _LEVELS:
            out[name] = np.full(size, np.nan)
        elif name == "max_wait_answered_s":
            top = np.zeros(size)
            if len(codes):
                np.maximum.at(top, codes, flags[name])
            out[name] = top
        elif name in _SUMS:
            out[name] = np.bincount(codes, weights=flags[name], minlength=size) if len(codes) else np.zeros(size)
        else:
            hits = codes[flags[name]] if len(codes) else codes
            out[name] = np.bincount(hits, minlength=size).astype(np.int64)
    return pd.DataFrame(out, columns=columns)


# -------------------------------------------------------------------------------------------- queue KPIs


def service_level(
    intervals: pd.DataFrame | None, threshold_s: float, convention: SLConvention = "short_abandons_excluded"
) -> float:
    """Volume-weighted service level of the rows of an ``intervals`` frame.

    Filter first with :func:`filter_intervals` to get a per-interval, per-day, per-segment or overall figure:
    the counts of the selected rows are summed, then divided (never an average of interval SLs).

    Args:
        intervals: ``intervals`` frame (or a selection of its rows).
        threshold_s: SL threshold ``T`` (seconds); the frame must have its ``*_within_T`` columns.
        convention: Abandonment convention (see the module docstring).

    Returns:
        The service level in ``[0, 1]``; NaN when the denominator is 0.
    """
    a_col, ab_col, c_col = threshold_columns(threshold_s)
    s = _sums(intervals, (a_col, ab_col, c_col, "answered", "abandoned", "abandoned_short"))
    return float(
        _sl_from_counts(s[a_col], s[ab_col], s[c_col], s["answered"], s["abandoned"], s["abandoned_short"], convention)
    )


def service_level_from_contacts(
    contacts: pd.DataFrame | None,
    threshold_s: float,
    convention: SLConvention,
    short_abandon_s: Mapping[str, float] | float,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    intent: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> float:
    """Service level computed directly from a contact log (needed for filters intervals lack, e.g. intent).

    Same definitions and result as :func:`service_level` on the intervals of the same contacts.

    Args:
        contacts: ``contacts`` frame.
        threshold_s: SL threshold ``T`` (seconds).
        convention: Abandonment convention.
        short_abandon_s: Short-abandon threshold (seconds), one for all or per channel name.
        channel: Channel filter (see :func:`filter_contacts`).
        priority: Priority filter.
        tier: Tier filter.
        intent: Intent filter.
        warmup_s: Keep contacts arriving at or after this time (seconds).
        horizon_s: Keep contacts arriving before this time (seconds).

    Returns:
        The service level in ``[0, 1]``; NaN when the denominator is 0.
    """
    _check_convention(convention)
    if _is_empty(contacts):
        return math.nan
    sub = filter_contacts(
        contacts, channel=channel, priority=priority, tier=tier, intent=intent, warmup_s=warmup_s, horizon_s=horizon_s
    )
    if len(sub) == 0:
        return math.nan
    a_col, ab_col, c_col = threshold_columns(threshold_s)
    f = _classify(sub, [threshold_s], short_abandon_s)
    s = {k: float(np.count_nonzero(f[k])) for k in (a_col, ab_col, c_col, "answered", "abandoned", "abandoned_short")}
    return float(
        _sl_from_counts(s[a_col], s[ab_col], s[c_col], s["answered"], s["abandoned"], s["abandoned_short"], convention)
    )


def asa_s(intervals: pd.DataFrame | None) -> float:
    """Average speed of answer: mean wait of answered contacts, zeros included (seconds; NaN if none)."""
    s = _sums(intervals, ("wait_answered_s", "answered"))
    return float(_ratio(s["wait_answered_s"], s["answered"]))


def mean_wait_all_s(intervals: pd.DataFrame | None) -> float:
    """Mean wait of answered and abandoned contacts (seconds; NaN if none)."""
    s = _sums(intervals, ("wait_answered_s", "wait_abandoned_s", "answered", "abandoned"))
    return float(_ratio(s["wait_answered_s"] + s["wait_abandoned_s"], s["answered"] + s["abandoned"]))


def p_wait(intervals: pd.DataFrame | None) -> float:
    """P(wait > 0) = delayed / (answered + abandoned) (NaN if none)."""
    s = _sums(intervals, ("delayed", "answered", "abandoned"))
    return float(_ratio(s["delayed"], s["answered"] + s["abandoned"]))


def abandon_rate(intervals: pd.DataFrame | None) -> float:
    """Abandonment rate = abandoned / offered to the queue (NaN if nothing offered)."""
    s = _sums(intervals, ("abandoned", "offered"))
    return float(_ratio(s["abandoned"], s["offered"]))


def short_abandons(intervals: pd.DataFrame | None) -> int:
    """Number of short abandons (waited less than their channel's ``short_abandon``)."""
    return int(_sums(intervals, ("abandoned_short",))["abandoned_short"])


def frt_max_s(intervals: pd.DataFrame | None) -> float:
    """Longest first-response time of an answered contact (seconds; NaN if none was answered)."""
    if _is_empty(intervals):
        return math.nan
    _require(intervals, ("answered", "max_wait_answered_s"), "intervals")
    answered = intervals["answered"].to_numpy(dtype=float) > 0
    if not answered.any():
        return math.nan
    return float(intervals["max_wait_answered_s"].to_numpy(dtype=float)[answered].max())


def frt_quantiles_from_hist(frt_hist: pd.DataFrame | None, quantiles: Sequence[float] = (0.5, 0.9)) -> np.ndarray:
    """FRT quantiles of answered contacts from an ``frt_hist`` frame (seconds).

    Rows of several segments are merged bin by bin; within a bin the quantile is interpolated linearly (counts
    spread uniformly over ``[bin_lo_s, bin_hi_s)``): the ``q`` quantile is the point where the cumulative count
    reaches ``q * total``.

    Args:
        frt_hist: ``frt_hist`` frame (or a selection of its rows).
        quantiles: Probabilities in ``[0, 1]``.

    Returns:
        One value per probability (NaN for all if the histogram is empty).
    """
    q = np.asarray(quantiles, dtype=float)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantiles must be in [0, 1], got {list(quantiles)}")
    if _is_empty(frt_hist):
        return np.full(q.shape, np.nan)
    _require(frt_hist, ("bin_lo_s", "bin_hi_s", "count"), "frt_hist")
    bins = frt_hist.groupby(["bin_lo_s", "bin_hi_s"], sort=True)["count"].sum()
    bins = bins[bins > 0]
    if len(bins) == 0:
        return np.full(q.shape, np.nan)
    lo = bins.index.get_level_values(0).to_numpy(dtype=float)
    hi = bins.index.get_level_values(1).to_numpy(dtype=float)
    count = bins.to_numpy(dtype=float)
    cum = np.cumsum(count)
    rank = q * cum[-1]
    idx = np.minimum(np.searchsorted(cum, rank, side="left"), len(cum) - 1)
    before = cum[idx] - count[idx]
    return lo[idx] + (rank - before) / count[idx] * (hi[idx] - lo[idx])


def frt_quantiles(contacts: pd.DataFrame | None, quantiles: Sequence[float] = (0.5, 0.9)) -> np.ndarray:
    """Exact FRT quantiles of answered contacts from a contact log (seconds; ``numpy.quantile``, linear).

    Args:
        contacts: ``contacts`` frame (filter first, e.g. with :func:`filter_contacts`).
        quantiles: Probabilities in ``[0, 1]``.

    Returns:
        One value per probability (NaN for all if no contact was answered).
    """
    q = np.asarray(quantiles, dtype=float)
    if _is_empty(contacts):
        return np.full(q.shape, np.nan)
    answered = contacts["outcome"].isin(ANSWERED_OUTCOMES).to_numpy(dtype=bool)
    frt = contacts["first_response_s"].to_numpy(dtype=float)[answered]
    if len(frt) == 0:
        return np.full(q.shape, np.nan)
    return np.quantile(frt, q)


def _derive(sums: pd.DataFrame, thresholds_s: Sequence[float], convention: str) -> pd.DataFrame:
    """Derived queue KPIs, row by row, of a frame of summed interval counts (index preserved)."""
    col = {name: sums[name].to_numpy(dtype=float) for name in sums.columns}
    answered, abandoned = col["answered"], col["abandoned"]
    out: dict[str, np.ndarray] = {
        name: sums[name].to_numpy() for name in ("offered", "answered", "abandoned", "abandoned_short", "censored")
    }
    out["abandon_rate"] = _ratio(abandoned, col["offered"])
    for t in thresholds_s:
        a_col, ab_col, c_col = threshold_columns(t)
        out[sl_metric(t)] = _sl_from_counts(
            col[a_col], col[ab_col], col[c_col], answered, abandoned, col["abandoned_short"], convention
        )
    out["asa_s"] = _ratio(col["wait_answered_s"], answered)
    out["mean_wait_all_s"] = _ratio(col["wait_answered_s"] + col["wait_abandoned_s"], answered + abandoned)
    out["p_wait"] = _ratio(col["delayed"], answered + abandoned)
    out["frt_max_s"] = np.where(answered > 0, col["max_wait_answered_s"], np.nan)
    return pd.DataFrame(out, index=sums.index)


def interval_table(
    intervals: pd.DataFrame,
    thresholds_s: Sequence[float],
    convention: SLConvention = "short_abandons_excluded",
) -> pd.DataFrame:
    """Per interval x channel KPIs (priorities and tiers merged): the table analysts plot.

    Args:
        intervals: ``intervals`` frame (several replications stay apart: ``replication`` is a key).
        thresholds_s: SL thresholds (seconds); each gives an ``sl_<label>`` column.
        convention: Abandonment convention.

    Returns:
        Columns ``[replication,] interval, interval_start_s, channel, offered, answered, abandoned,
        abandoned_short, censored, abandon_rate, sl_<T>..., asa_s, mean_wait_all_s, p_wait, frt_max_s`` and
        the summed levels ``queue_len``, ``in_service`` when the frame has them.
    """
    _check_convention(convention)
    keys = [k for k in ("replication", "interval", "interval_start_s", "channel") if k in intervals.columns]
    counts = [*_BASE_COUNTS, *(c for t in thresholds_s for c in threshold_columns(t)), *_SUMS]
    _require(intervals, [*keys, *counts, "max_wait_answered_s"], "intervals")
    grouped = intervals.groupby(keys, sort=True, observed=True)
    sums = grouped[counts].sum()
    sums["max_wait_answered_s"] = grouped["max_wait_answered_s"].max()
    parts = [_derive(sums, thresholds_s, convention)]
    levels = [c for c in _LEVELS if c in intervals.columns]
    if levels:
        # Time-weighted means of disjoint segments add up to the channel's mean (NaN stays NaN).
        parts.append(grouped[levels].sum(min_count=1))
    return pd.concat(parts, axis=1).reset_index()


# -------------------------------------------------------------------------------------------------- agents


def occupancy(agents: pd.DataFrame | None) -> float:
    """Occupancy = busy / (logged in - break) over the agents given (NaN if no available time)."""
    s = _sums(agents, ("busy_s", "logged_in_s", "break_s"), "agents")
    return float(_ratio(s["busy_s"], s["logged_in_s"] - s["break_s"]))


def occupancy_from_staffing(
    staffing: pd.DataFrame | None,
    *,
    interval_s: float,
    horizon_s: float,
    group: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
) -> float:
    """Occupancy = busy / (logged in - on break) from the time-weighted ``staffing`` frame, after warm-up.

    Each interval's mean levels are weighted by the interval's length inside the horizon (the last interval may
    be shorter), so the result is a ratio of agent-seconds, like :func:`occupancy`.

    Args:
        staffing: ``staffing`` frame.
        interval_s: Reporting interval length (seconds).
        horizon_s: Simulated horizon (seconds).
        group: Group name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds).

    Returns:
        The occupancy (NaN if no available agent time).
    """
    if _is_empty(staffing):
        return math.nan
    sub = _select(staffing, group=group)
    assert sub is not None
    _require(sub, ("interval_start_s", "logged_in", "busy", "on_break"), "staffing")
    start = sub["interval_start_s"].to_numpy(dtype=float)
    weight = np.clip(horizon_s - start, 0.0, interval_s) * (start >= warmup_s)
    busy = float(np.dot(weight, sub["busy"].to_numpy(dtype=float)))
    available = float(np.dot(weight, sub["logged_in"].to_numpy(dtype=float) - sub["on_break"].to_numpy(dtype=float)))
    return float(_ratio(busy, available))


def slot_occupancy_from_staffing(
    staffing: pd.DataFrame | None,
    *,
    slots: Mapping[str, int],
    interval_s: float,
    horizon_s: float,
    group: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
) -> float:
    """Slot occupancy = contacts in service / (available agents x their slots), time-weighted, after warm-up.

    For chat agents who may hold ``k`` chats at once, occupancy (time with >= 1 chat) says little about spare
    capacity; slot occupancy is the share of chat slots in use. For one-slot agents both are the same.

    Args:
        staffing: ``staffing`` frame.
        slots: Slots per agent of each group (its largest channel concurrency).
        interval_s: Reporting interval length (seconds).
        horizon_s: Simulated horizon (seconds).
        group: Group name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds).

    Returns:
        The slot occupancy (NaN if no available agent time).
    """
    if _is_empty(staffing):
        return math.nan
    sub = _select(staffing, group=group)
    assert sub is not None
    _require(sub, ("interval_start_s", "group", "logged_in", "on_break", "busy_slots"), "staffing")
    start = sub["interval_start_s"].to_numpy(dtype=float)
    weight = np.clip(horizon_s - start, 0.0, interval_s) * (start >= warmup_s)
    per_agent = sub["group"].astype(str).map(slots).to_numpy(dtype=float)
    in_service = float(np.dot(weight, sub["busy_slots"].to_numpy(dtype=float)))
    available = sub["logged_in"].to_numpy(dtype=float) - sub["on_break"].to_numpy(dtype=float)
    return float(_ratio(in_service, float(np.dot(weight, available * per_agent))))


def utilization(agents: pd.DataFrame | None) -> float:
    """Utilization = (logged-in - break) time / paid time over the agents given (NaN if nothing paid)."""
    s = _sums(agents, ("logged_in_s", "break_s", "paid_s"), "agents")
    return float(_ratio(s["logged_in_s"] - s["break_s"], s["paid_s"]))


def overtime_h(agents: pd.DataFrame | None) -> float:
    """Overtime hours (after shift end, finishing the contact in hand) over the agents given."""
    return _sums(agents, ("overtime_s",), "agents")["overtime_s"] / 3600.0


def labor_cost(agents: pd.DataFrame | None) -> float:
    """Labor cost (the engine's ``cost`` column: paid hours x rate, overtime premiums) over the agents given."""
    return _sums(agents, ("cost",), "agents")["cost"]


def cost_per_contact(agents: pd.DataFrame | None) -> float:
    """Labor cost per contact handled by the agents given (NaN if none handled)."""
    s = _sums(agents, ("cost", "handled"), "agents")
    return float(_ratio(s["cost"], s["handled"]))


def agent_table(agents: pd.DataFrame, by: str | Sequence[str] = "group") -> pd.DataFrame:
    """Agent KPIs per group (default), per agent (``by="agent_id"``) or any other key columns.

    Returns:
        Key columns then ``paid_h, logged_in_h, busy_h, overtime_h, handled, labor_cost, occupancy,
        utilization, cost_per_contact``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    cols = ["paid_s", "logged_in_s", "busy_s", "break_s", "overtime_s", "handled", "cost"]
    _require(agents, [*keys, *cols], "agents")
    s = agents.groupby(keys, sort=True, observed=True)[cols].sum()
    out = pd.DataFrame(
        {
            "paid_h": s["paid_s"] / 3600.0,
            "logged_in_h": s["logged_in_s"] / 3600.0,
            "busy_h": s["busy_s"] / 3600.0,
            "overtime_h": s["overtime_s"] / 3600.0,
            "handled": s["handled"],
            "labor_cost": s["cost"],
            "occupancy": _ratio(s["busy_s"].to_numpy(float), (s["logged_in_s"] - s["break_s"]).to_numpy(float)),
            "utilization": _ratio((s["logged_in_s"] - s["break_s"]).to_numpy(float), s["paid_s"].to_numpy(float)),
            "cost_per_contact": _ratio(s["cost"].to_numpy(float), s["handled"].to_numpy(float)),
        },
        index=s.index,
    )
    return out.reset_index()


# ------------------------------------------------------------------------------------ one replication's KPIs


def _queue_rows(
    scope: str,
    intervals: pd.DataFrame,
    frt_source: tuple[str, pd.DataFrame | None],
    thresholds_s: Sequence[float],
    convention: str,
) -> list[tuple[str, str, float]]:
    sum_cols = [*_BASE_COUNTS, *(c for t in thresholds_s for c in threshold_columns(t)), *_SUMS]
    totals = _sums(intervals, sum_cols)
    frame = pd.DataFrame({k: [v] for k, v in totals.items()})
    frame["max_wait_answered_s"] = 0.0 if _is_empty(intervals) else intervals["max_wait_answered_s"].max()
    derived = _derive(frame, thresholds_s, convention).iloc[0]
    kind, frt_frame = frt_source
    if kind == "hist":
        p50, p90 = frt_quantiles_from_hist(frt_frame, (0.5, 0.9))
    else:
        p50, p90 = frt_quantiles(frt_frame, (0.5, 0.9))
    rows = [(name, scope, float(derived[name])) for name in derived.index if name != "frt_max_s"]
    rows += [("frt_p50_s", scope, float(p50)), ("frt_p90_s", scope, float(p90))]
    rows.append(("frt_max_s", scope, float(derived["frt_max_s"])))
    return rows


def _agent_rows(
    scope: str, agents: pd.DataFrame | None, staffing: pd.DataFrame | None, group: str | None, scenario: Scenario
) -> list[tuple[str, str, float]]:
    start_s, end_s = measurement_window(scenario)
    sub = None if _is_empty(agents) else filter_agents(agents, group=group)
    occ = occupancy_from_staffing(
        staffing, interval_s=scenario.reporting.interval, horizon_s=end_s, group=group, warmup_s=start_s
    )
    slots = {g: max(scenario.concurrency(g, c) for c in spec.channels) for g, spec in scenario.groups.items()}
    slot_occ = slot_occupancy_from_staffing(
        staffing, slots=slots, interval_s=scenario.reporting.interval, horizon_s=end_s, group=group, warmup_s=start_s
    )
    return [
        ("occupancy", scope, occ),
        ("slot_occupancy", scope, slot_occ),
        ("utilization", scope, utilization(sub)),
        ("paid_h", scope, _sums(sub, ("paid_s",), "agents")["paid_s"] / 3600.0),
        ("overtime_h", scope, overtime_h(sub)),
        ("handled", scope, _sums(sub, ("handled",), "agents")["handled"]),
        ("labor_cost", scope, labor_cost(sub)),
        ("cost_per_contact", scope, cost_per_contact(sub)),
    ]


def resolution_rows(
    scope: str, resolution: pd.DataFrame | None, intervals: pd.DataFrame | None
) -> list[tuple[str, str, float]]:
    """Bot, approval and repeat-contact KPIs of one scope from the ``resolution`` (and ``intervals``) frames.

    Containment = resolved / offered to the bot; deflection = resolved by the bot / all arrivals (those offered
    to the human queue plus those that ended in the bot); rates of the bot's other endings are per bot session.
    Escalation rate = escalated approvals / approvals; FCR = first contacts resolved without a repeat or an
    async escalation, a silent failure or an abandoned transfer / first contacts handled (served, bot-resolved
    or silent failure). Transfer abandon rate = transfers abandoned while holding for the second skill /
    transfers; transfer wait = hold until the second agent answers. NaN when undefined.
    """
    if _is_empty(resolution):
        return []
    r = {name: float(resolution[name].sum()) for name in resolution.columns if name not in _RES_KEYS}
    offered_queue = 0.0 if _is_empty(intervals) else float(intervals["offered"].sum())
    ended_in_bot = r["bot_resolved"] + r["bot_abandoned"] + r["bot_silent_failure"]
    bot = r["bot_offered"]
    return [
        ("bot_offered", scope, bot),
        ("bot_containment", scope, _ratio(r["bot_resolved"], bot)),
        ("bot_deflection", scope, _ratio(r["bot_resolved"], offered_queue + ended_in_bot)),
        ("bot_escalation_rate", scope, _ratio(r["bot_escalated"], bot)),
        ("bot_abandon_rate", scope, _ratio(r["bot_abandoned"], bot)),
        ("bot_silent_failure_rate", scope, _ratio(r["bot_silent_failure"], bot)),
        ("bot_frt_mean_s", scope, _ratio(r["bot_frt_s"], bot)),
        ("bot_session_mean_s", scope, _ratio(r["bot_session_s"], bot)),
        ("handoff_mean_s", scope, _ratio(r["handoff_s"], r["handoff_n"])),
        ("approvals", scope, r["approvals"]),
        ("escalation_rate", scope, _ratio(r["escalated_sync"] + r["escalated_async"], r["approvals"])),
        ("approval_wait_mean_s", scope, _ratio(r["approval_wait_s"], r["approval_n"])),
        ("fcr", scope, _ratio(r["first_contact_resolved"], r["first_contacts"])),
        ("repeat_contacts", scope, r["repeat_contacts"]),
        ("same_agent_share", scope, _ratio(r["same_agent"], r["returning"])),
        ("transfers", scope, r["transfers"]),
        ("transfer_abandon_rate", scope, _ratio(r["transfer_abandoned"], r["transfers"])),
        ("transfer_wait_mean_s", scope, _ratio(r["transfer_wait_s"], r["transfer_answered"])),
    ]


_RES_KEYS = ("replication", "channel", "priority", "tier")


def cost_rows(stats: Mapping[str, float], agents: pd.DataFrame | None) -> list[tuple[str, str, float]]:
    """Costs beyond agent pay (whole run, currency), team-lead occupancy (after warm-up) and the total cost."""
    if "bot_cost" not in stats:
        return []
    extra = {name: float(stats[name]) for name in ("bot_cost", "training_cost", "leakage_cost", "team_lead_cost")}
    labor = labor_cost(agents)
    rows = [(name, "all", value) for name, value in extra.items()]
    rows.append(("team_lead_occupancy", "all", _ratio(stats["team_lead_busy_s"], stats["team_lead_paid_s"])))
    rows.append(("total_cost", "all", labor + sum(extra.values())))
    return rows


def replication_metrics(result: RunFrames, scenario: Scenario) -> pd.DataFrame:
    """Every KPI of one replication as one long table with columns ``metric, scope, value``.

    Queue metrics cover contacts arriving in :func:`measurement_window` (warm-up rounded up to an interval
    boundary, to the horizon), read from ``result.intervals``; SL uses ``scenario.reporting.sl_convention`` at
    every threshold of ``scenario.sl_thresholds_s()``. Scopes: ``all``, ``channel=<c>`` (every scenario
    channel), ``priority=<p>``, ``tier=<t>``.

    FRT p50/p90 come from ``result.frt_hist`` when it is there (linear within a bin), so they do not depend on
    whether the contact log was kept; otherwise they are exact quantiles from ``result.contacts`` (filtered to the
    window); NaN when neither is available. The histogram has no time dimension; the engine counts only
    arrivals from ``Scenario.measure_start_s`` on, the start of :func:`measurement_window`.

    Agent metrics have scopes ``all`` and ``group=<g>``: occupancy from the time-weighted ``staffing`` frame
    after warm-up; utilization, paid and overtime hours, contacts handled, labor cost and cost per handled
    contact from the ``agents`` frame, which has no time dimension and so covers the whole run, warm-up
    included (cost per contact is consistent: cost and contacts over the same period).

    Each scenario target gives ``target_attainment`` (its SL at its threshold under the scenario's convention)
    and ``target_met`` (1.0 / 0.0; NaN when the attainment is NaN) with scope ``target=<name>``. A target with
    an ``intent`` filter needs the contact log (intervals have no intent); without one its rows are NaN.

    Args:
        result: One replication's frames (``intervals``, ``staffing``, ``agents``, ``frt_hist``, ``contacts``;
            any but ``intervals`` may be ``None``).
        scenario: The scenario that was run.

    Returns:
        A frame with columns ``metric`` (a :data:`METRICS` family; ``sl_<label>`` for service levels),
        ``scope`` and ``value`` (float).

    Raises:
        ValueError: If the frames hold more than one replication.
    """
    intervals = result.intervals
    if not _is_empty(intervals) and "replication" in intervals.columns and intervals["replication"].nunique() > 1:
        raise ValueError("replication_metrics takes the frames of one replication; filter by replication first")
    start_s, end_s = measurement_window(scenario)
    thresholds = scenario.sl_thresholds_s()
    convention = scenario.reporting.sl_convention
    short = {name: ch.short_abandon for name, ch in scenario.channels.items()}
    iv = intervals if _is_empty(intervals) else filter_intervals(intervals, warmup_s=start_s, horizon_s=end_s)
    contacts = result.contacts
    if not _is_empty(contacts):
        contacts = filter_contacts(contacts, warmup_s=start_s, horizon_s=end_s)
    hist = result.frt_hist

    scopes: list[tuple[str, dict[str, str]]] = [("all", {})]
    scopes += [(f"channel={c}", {"channel": c}) for c in scenario.channels]
    scopes += [(f"priority={p}", {"priority": p}) for p in PRIORITIES]
    scopes += [(f"tier={t}", {"tier": t}) for t in TIERS]
    rows: list[tuple[str, str, float]] = []
    for scope, flt in scopes:
        sub = iv if _is_empty(iv) else _select(iv, **flt)
        if hist is not None:
            frt_source = ("hist", None if _is_empty(hist) else _select(hist, **flt))
        else:
            frt_source = ("contacts", None if _is_empty(contacts) else _select(contacts, **flt))
        rows += _queue_rows(scope, sub, frt_source, thresholds, convention)

    resolution = getattr(result, "resolution", None)
    if not _is_empty(resolution):
        for scope, flt in scopes:
            rows += resolution_rows(scope, _select(resolution, **flt), _select(iv, **flt))
    rows += _agent_rows("all", result.agents, result.staffing, None, scenario)
    for group in scenario.groups:
        rows += _agent_rows(f"group={group}", result.agents, result.staffing, group, scenario)
    rows += cost_rows(getattr(result, "stats", None) or {}, result.agents)

    for target in scenario.targets:
        flt = {"channel": target.channel, "priority": target.priority, "tier": target.tier}
        if target.intent is not None:
            value = (
                math.nan
                if contacts is None
                else service_level_from_contacts(
                    contacts, target.threshold, convention, short, intent=target.intent, **flt
                )
            )
        else:
            value = service_level(None if _is_empty(iv) else _select(iv, **flt), target.threshold, convention)
        met = math.nan if math.isnan(value) else float(value >= target.level)
        scope = f"target={target.name}"
        rows += [("target_attainment", scope, value), ("target_met", scope, met)]

    out = pd.DataFrame(rows, columns=["metric", "scope", "value"])
    out["value"] = out["value"].astype(float)
    return out
