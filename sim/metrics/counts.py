"""From a contact log to the count and sum columns of the ``intervals`` frame (DESIGN §4 definitions).

:func:`classify_contacts` is the one place that says, contact by contact, what is offered, answered, abandoned,
short, censored, delayed, or within / over an SL threshold; the streaming engine counts the same things as it
goes, and :func:`intervals_from_contacts` gives the same grid from a kept contact log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.metrics.frames import is_empty, require_columns
from sim.metrics.names import (
    ABANDONED_OUTCOMES,
    ANSWERED_OUTCOMES,
    CENSORED_OUTCOMES,
    INTERVAL_KEYS,
    LEVEL_COLUMNS,
    LOST_OUTCOMES,
    SUM_COLUMNS,
    interval_columns,
    threshold_columns,
)
from sim.schema import PRIORITIES, TIERS

__all__ = ["classify_contacts", "intervals_from_contacts"]


def _short_thresholds(contacts: pd.DataFrame, short_abandon_s: Mapping[str, float] | float) -> np.ndarray | float:
    if not isinstance(short_abandon_s, Mapping):
        return float(short_abandon_s)
    codes, uniques = pd.factorize(contacts["channel"], use_na_sentinel=False)
    per_channel = np.array([short_abandon_s.get(str(u), np.nan) for u in uniques], dtype=float)
    if np.isnan(per_channel).any():
        unknown = sorted(str(u) for u, v in zip(uniques, per_channel, strict=True) if np.isnan(v))
        raise ValueError(f"short_abandon_s has no threshold for channel(s) {unknown}; it has {sorted(short_abandon_s)}")
    return per_channel[codes]


def classify_contacts(
    contacts: pd.DataFrame, thresholds_s: Sequence[float], short_abandon_s: Mapping[str, float] | float
) -> dict[str, np.ndarray]:
    """Per-contact indicator (bool) and summand (float) arrays of every intervals count / sum column."""
    require_columns(contacts, ("outcome", "wait_s", "first_response_s"), "contacts")
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
        "lost": outcome.isin(LOST_OUTCOMES).to_numpy(dtype=bool),
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
        require_columns(contacts, ("service_end_s", "handle_s"), "contacts")
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
    log = None if is_empty(contacts) else contacts  # None: no contacts, whether given as None or as no rows
    if channels is None:
        channels = [] if log is None else sorted(log["channel"].astype(str).unique())
    chans = list(channels)
    if replication is not None:
        reps = [int(r) for r in np.atleast_1d(replication)]
    elif log is not None and "replication" in log.columns:
        reps = sorted(int(r) for r in log["replication"].unique())
    else:
        reps = [0]
    shape = (len(reps), n_int, len(chans), len(PRIORITIES), len(TIERS))
    size = math.prod(shape)
    columns = interval_columns(thresholds)

    flags: dict[str, np.ndarray] = {}
    codes = np.zeros(0, dtype=np.int64)
    if log is not None:
        flags = classify_contacts(log, thresholds, short_abandon_s)
        offered = flags["offered"] | flags["lost"]  # lost contacts are counted in their own column only
        flags = {name: values[offered] for name, values in flags.items()}
        arrival = log["arrival_s"].to_numpy(dtype=float)[offered]
        outside = ~((arrival >= 0) & (arrival < horizon_s))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} offered contact(s) arrive outside [0, {horizon_s:g}) s, "
                f"e.g. at {arrival[outside][:3].tolist()}"
            )
        interval = np.floor(arrival / interval_s).astype(np.int64)
        if (interval >= n_int).any():
            raise ValueError(f"contacts arrive after the last of {n_int} intervals of {interval_s:g} s")
        rep_values = log["replication"] if "replication" in log.columns else np.zeros(len(log), dtype=np.int64)
        codes = np.ravel_multi_index(
            (
                _codes(rep_values, reps, "replication", offered),
                interval,
                _codes(log["channel"], chans, "channel", offered),
                _codes(log["priority"], PRIORITIES, "priority", offered),
                _codes(log["tier"], TIERS, "tier", offered),
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
        if name in LEVEL_COLUMNS:
            out[name] = np.full(size, np.nan)
        elif name == "max_wait_answered_s":
            top = np.zeros(size)
            if len(codes):
                np.maximum.at(top, codes, flags[name])
            out[name] = top
        elif name in SUM_COLUMNS:
            out[name] = np.bincount(codes, weights=flags[name], minlength=size) if len(codes) else np.zeros(size)
        else:
            hits = codes[flags[name]] if len(codes) else codes
            out[name] = np.bincount(hits, minlength=size).astype(np.int64)
    return pd.DataFrame(out, columns=columns)
