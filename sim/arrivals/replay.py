"""Replayed arrivals: a log's rows checked, mapped to scenario codes and turned into day batches (no disk I/O).

``experiments.replay`` reads the file (CSV or Parquet) once per run and hands the frame to :func:`prepare_replay`;
the resulting :class:`ReplayLog` is what every replication replays. Fields the log lacks are drawn per
(channel, intent) in time order from the same named streams as generated arrivals.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from sim.arrivals.batch import (
    PRIORITY_NAMES,
    TIER_NAMES,
    ArrivalBatch,
    Draws,
    calendar_days,
    empty_batch,
    merge_batches,
)
from sim.config import ReplayArrivals, Scenario
from sim.streams import Streams
from sim.units import parse_duration

__all__ = [
    "LOG_COLUMNS", "ReplayError", "ReplayLog", "arrival_frame", "needed_columns", "prepare_replay", "replay_batches",
    "replay_config_for_log",
]  # fmt: skip


class ReplayError(ValueError):
    """A replay log cannot be used as configured (missing file or column, bad rows, unmapped values)."""



@dataclass
class _Problems:
    """Bad rows found while checking a log, reported together in one :class:`ReplayError`."""

    source: str
    """The log's name in messages (its path)."""
    row_label: str  # "line" (CSV: header is line 1) or "row" (Parquet: first data row is row 1)
    items: list[str] = field(default_factory=list)

    def add(self, column: str, what: str, rows: np.ndarray, values: pd.Series) -> None:
        """Record ``rows`` (positions in the file) of ``column`` that are bad, with their ``values``."""
        if rows.size == 0:
            return
        offset = 2 if self.row_label == "line" else 1
        first = ", ".join(f"{self.row_label} {r + offset}: {values.iloc[r]!r}" for r in rows[:5])
        self.items.append(f"column {column!r}: {rows.size} row(s) with {what}; first: {first}")

    def raise_if_any(self) -> None:
        """Raise one :class:`ReplayError` listing every problem."""
        if self.items:
            raise ReplayError(f"{self.source}: bad data in replay log:\n  " + "\n  ".join(self.items))


@dataclass
class ReplayLog:
    """Checked replay rows, sorted by arrival time; -1 / NaN / ``customer_known`` False mark "draw this".

    Built once per run (:func:`prepare_replay`) and replayed by every replication.
    """

    time_s: np.ndarray
    channel: np.ndarray
    intent: np.ndarray
    priority: np.ndarray
    tier: np.ndarray
    language: np.ndarray
    customer_id: np.ndarray
    customer_known: np.ndarray
    handle_s: np.ndarray
    patience_s: np.ndarray
    report: dict[str, Any]


def _text(series: pd.Series) -> pd.Series:
    """Cell values as stripped strings, ``""`` for empty/NA (integral floats print without ``.0``)."""
    if pd.api.types.is_float_dtype(series):
        finite = series.dropna()
        if len(finite) and bool(np.all(np.isfinite(finite)) and np.all(finite % 1 == 0)):
            series = series.astype("Int64")
    return series.astype("string").fillna("").astype(str).str.strip()



def needed_columns(cfg: ReplayArrivals) -> list[str]:
    """The log columns a replay config reads (mapped fields, ``drop`` keys, ``require`` and ``require_any``)."""
    names = list(cfg.columns.values())
    names += [cfg.columns.get(key, key) for key in cfg.drop]
    names += cfg.require + cfg.require_any
    return list(dict.fromkeys(names))


def _skip_rows(frame: pd.DataFrame, cfg: ReplayArrivals) -> tuple[np.ndarray, dict[str, int]]:
    """Rows kept after ``drop``, ``require`` and ``require_any``, with a count per skip reason."""
    keep = np.ones(len(frame), dtype=bool)
    skipped: dict[str, int] = {}

    def skip(reason: str, rows: np.ndarray) -> None:
        rows = keep & rows
        if rows.any():
            skipped[reason] = skipped.get(reason, 0) + int(rows.sum())
            keep[rows] = False

    for key, values in cfg.drop.items():
        column = cfg.columns.get(key, key)
        text = _text(frame[column]).to_numpy()
        for value in values:
            skip(f"drop {column}={value}", text == value)
    for column in cfg.require:
        skip(f"require {column}", (_text(frame[column]) == "").to_numpy())
    if cfg.require_any:
        empty = np.logical_and.reduce([(_text(frame[c]) == "").to_numpy() for c in cfg.require_any])
        skip(f"require_any {cfg.require_any}", empty)
    return keep, skipped


def _arrival_seconds(
    frame: pd.DataFrame, keep: np.ndarray, cfg: ReplayArrivals, scenario: Scenario, problems: _Problems
) -> np.ndarray:
    """Arrival times in simulation seconds (NaN for rows not kept); bad values go to ``problems``."""
    column = cfg.columns["arrival"]
    raw = frame[column]
    out = np.full(len(frame), np.nan)
    if cfg.arrival_format == "seconds":
        values = pd.to_numeric(raw.where(_text(raw) != "", None), errors="coerce").to_numpy(dtype=float)
        bad = keep & ~np.isfinite(values)
        problems.add(column, "an empty or non-numeric arrival time (seconds)", np.flatnonzero(bad), raw)
        out[keep & ~bad] = values[keep & ~bad] + cfg.time_offset
        return out
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = raw
    else:
        text = _text(raw)
        stamps = pd.to_datetime(text.where(text != "", None), format=cfg.timestamp_format or "ISO8601", errors="coerce")
    bad = keep & stamps.isna().to_numpy()
    what = f"an empty or unparseable timestamp (expected {cfg.timestamp_format or 'ISO 8601'})"
    problems.add(column, what, np.flatnonzero(bad), raw)
    window_start = cfg.window_start if cfg.window_start is not None else scenario.start
    try:
        seconds = (stamps - pd.Timestamp(window_start)).dt.total_seconds().to_numpy(dtype=float)
    except TypeError as exc:
        raise ReplayError(
            f"{problems.source}: column {column!r}: timestamps and window_start ({window_start}) must both be "
            f"timezone-aware or both naive: {exc}"
        ) from exc
    out[keep & ~bad] = seconds[keep & ~bad] + cfg.time_offset
    return out


def _allowed_names(field_name: str, scenario: Scenario) -> list[str]:
    """Scenario names of a categorical field, in code order."""
    if field_name == "channel":
        return list(scenario.channels)
    if field_name == "intent":
        return list(scenario.intents)
    if field_name == "language":
        return list(scenario.customers.languages)
    return list(PRIORITY_NAMES if field_name == "priority" else TIER_NAMES)


def _categorical_codes(
    field_name: str,
    frame: pd.DataFrame,
    rows: np.ndarray,
    cfg: ReplayArrivals,
    scenario: Scenario,
    problems: _Problems,
) -> np.ndarray:
    """Codes of a categorical field for ``rows`` (-1: drawn from the scenario)."""
    allowed = _allowed_names(field_name, scenario)
    code_of = {name: k for k, name in enumerate(allowed)}
    default = cfg.defaults.get(field_name)
    if default is not None and default not in code_of:
        raise ReplayError(f"defaults.{field_name}: unknown {field_name} {default!r}; known: {allowed}")
    default_code = code_of[default] if default is not None else -1
    column = cfg.columns.get(field_name)
    if column is None:
        return np.full(rows.size, default_code, dtype=np.int16)
    mapping = cfg.values.get(field_name)
    if mapping is None:
        mapping = {name: name for name in allowed}
    for log_value, name in mapping.items():
        if name not in code_of:
            raise ReplayError(
                f"values.{field_name}: log value {log_value!r} maps to unknown {field_name} {name!r}; known: {allowed}"
            )
    text = _text(frame[column]).iloc[rows]
    empty = text.isin(["", *cfg.missing.get(field_name, [])]).to_numpy()
    codes = text.map({value: code_of[name] for value, name in mapping.items()}).to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    unmapped = ~empty & np.isnan(codes)
    hint = f"no mapping in values.{field_name}" if field_name in cfg.values else f"an unknown {field_name} name"
    problems.add(column, f"{hint} (and not in drop)", rows[unmapped], frame[column])
    if field_name in ("channel", "intent") and default is None:
        problems.add(column, f"an empty {field_name} (and no defaults.{field_name})", rows[empty], frame[column])
    codes[empty] = default_code
    codes[unmapped] = -1
    return codes.astype(np.int16)


def _duration_values(
    field_name: str, frame: pd.DataFrame, rows: np.ndarray, cfg: ReplayArrivals, problems: _Problems
) -> np.ndarray:
    """Durations in seconds for ``rows`` (NaN: drawn from the scenario)."""
    default = parse_duration(cfg.defaults[field_name]) if field_name in cfg.defaults else np.nan
    column = cfg.columns.get(field_name)
    if column is None:
        return np.full(rows.size, default)
    raw = frame[column].iloc[rows]
    text = _text(raw)
    empty = text.str.lower().isin(["", "nan"]).to_numpy()
    numbers = pd.to_numeric(text.mask(text.str.lower().isin(["", "nan"])), errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan, copy=True)
    nonnumeric = ~empty & np.isnan(values)
    problems.add(column, f"a non-numeric {field_name} (seconds)", rows[nonnumeric], frame[column])
    negative = values < 0
    problems.add(column, f"a negative {field_name}", rows[negative], frame[column])
    if field_name == "handle":
        problems.add(column, "an infinite handle time", rows[np.isposinf(values)], frame[column])
    missing = [parse_duration(v) if re.search(r"[a-zA-Z]$", v) else float(v) for v in cfg.missing.get(field_name, [])]
    values[np.isin(values, missing) | empty | nonnumeric | negative] = np.nan
    values[np.isnan(values)] = default
    return values


def _customer_ids(frame: pd.DataFrame, rows: np.ndarray, cfg: ReplayArrivals) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids for ``rows`` and a mask of the known ones.

    Integer ids are used as they are when every non-empty value is an integer; otherwise every value is hashed
    with ``zlib.crc32`` of its UTF-8 text (stable across processes, unlike ``hash()``).
    """
    column = cfg.columns.get("customer")
    if column is None:
        return np.full(rows.size, -1, dtype=np.int64), np.zeros(rows.size, dtype=bool)
    text = _text(frame[column]).iloc[rows]
    known = ~text.isin(["", *cfg.missing.get("customer", [])]).to_numpy()
    ids = np.full(rows.size, -1, dtype=np.int64)
    values = text.to_numpy()[known]
    if values.size and all(re.fullmatch(r"-?\d+", v) for v in pd.unique(values)):
        ids[known] = values.astype(np.int64)
    else:
        lookup = {v: zlib.crc32(v.encode("utf-8")) for v in pd.unique(values)}
        ids[known] = np.fromiter((lookup[v] for v in values), dtype=np.int64, count=values.size)
    return ids, known


def prepare_replay(frame: pd.DataFrame, scenario: Scenario, *, source: str, row_label: str = "line") -> ReplayLog:
    """Filter, check and map the rows of a replay log (see :class:`sim.config.ReplayArrivals`).

    Args:
        frame: The log's needed columns (:func:`needed_columns`), CSV cells as strings, in file order.
        scenario: A scenario with ``arrivals.kind == "replay"``.
        source: The log's name in messages (its path).
        row_label: ``"line"`` (CSV: the header is line 1) or ``"row"`` (Parquet: the first data row is row 1).

    Returns:
        The checked rows in time order, with the report of what happened to every row.

    Raises:
        ReplayError: Bad rows (every problem listed: column, count, first rows and values), or no row replayed.
    """
    cfg = scenario.arrivals
    assert isinstance(cfg, ReplayArrivals)
    problems = _Problems(source, row_label)
    keep, skipped = _skip_rows(frame, cfg)
    arrival_s = _arrival_seconds(frame, keep, cfg, scenario, problems)
    problems.raise_if_any()
    for reason, outside in (
        ("before window", arrival_s < 0),
        ("after window", arrival_s >= scenario.horizon),
    ):
        dropped = keep & outside
        if dropped.any():
            skipped[reason] = int(dropped.sum())
            keep &= ~dropped
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(arrival_s[rows], kind="stable")]
    codes = {f: _categorical_codes(f, frame, rows, cfg, scenario, problems) for f in ("channel", "intent")}
    codes |= {f: _categorical_codes(f, frame, rows, cfg, scenario, problems) for f in ("priority", "tier", "language")}
    durations = {f: _duration_values(f, frame, rows, cfg, problems) for f in ("handle", "patience")}
    problems.raise_if_any()
    customer_id, customer_known = _customer_ids(frame, rows, cfg)
    report = _report(source, len(frame), skipped, codes, durations, customer_known, scenario)
    if rows.size == 0:
        raise ReplayError(
            f"{source}: no row is replayed ({report['skipped']}); check window_start/time_offset against the "
            f"scenario start {scenario.start} and horizon {scenario.horizon:g}s"
        )
    return ReplayLog(
        time_s=arrival_s[rows],
        channel=codes["channel"],
        intent=codes["intent"],
        priority=codes["priority"].astype(np.int8),
        tier=codes["tier"].astype(np.int8),
        language=codes["language"],
        customer_id=customer_id,
        customer_known=customer_known,
        handle_s=durations["handle"],
        patience_s=durations["patience"],
        report=report,
    )


def _report(
    source: str,
    n_read: int,
    skipped: dict[str, int],
    codes: dict[str, np.ndarray],
    durations: dict[str, np.ndarray],
    customer_known: np.ndarray,
    scenario: Scenario,
) -> dict[str, Any]:
    replayed = len(customer_known)
    drawn = {f: int((codes[f] < 0).sum()) for f in ("priority", "tier", "language")}
    drawn |= {f: int(np.isnan(durations[f]).sum()) for f in ("handle", "patience")}
    drawn["customer"] = int((~customer_known).sum())
    names = {"channel": list(scenario.channels), "intent": list(scenario.intents)}
    return {
        "path": source,
        "rows_read": n_read,
        "replayed": replayed,
        "skipped": skipped,
        "skipped_total": n_read - replayed,
        "drawn": drawn,
        "by_channel": {
            names["channel"][k]: int(n) for k, n in enumerate(np.bincount(codes["channel"], minlength=0)) if n
        },
        "by_intent": {names["intent"][k]: int(n) for k, n in enumerate(np.bincount(codes["intent"], minlength=0)) if n},
    }


def replay_batches(scenario: Scenario, streams: Streams, log: ReplayLog) -> Iterator[ArrivalBatch]:
    """The replayed arrivals of one replication, one batch per calendar day, missing fields drawn."""
    draws = Draws(scenario, streams)
    channels, intents = list(scenario.channels), list(scenario.intents)
    next_customer = int(log.customer_id[log.customer_known].max()) + 1 if log.customer_known.any() else 0
    for day in calendar_days(scenario):
        lo, hi = np.searchsorted(log.time_s, [day.lo_s, day.hi_s], side="left")
        if hi == lo:
            yield empty_batch()
            continue
        day_slice = slice(int(lo), int(hi))
        batch = ArrivalBatch(
            time_s=log.time_s[day_slice].copy(),
            channel=log.channel[day_slice].copy(),
            intent=log.intent[day_slice].copy(),
            priority=log.priority[day_slice].copy(),
            tier=log.tier[day_slice].copy(),
            language=log.language[day_slice].copy(),
            customer_id=log.customer_id[day_slice].copy(),
            handle_s=log.handle_s[day_slice].copy(),
            patience_s=log.patience_s[day_slice].copy(),
        )
        pair = batch.channel.astype(np.int64) * len(intents) + batch.intent
        for key in np.unique(pair):
            rows = np.flatnonzero(pair == key)
            _fill_missing(batch, rows, channels[key // len(intents)], intents[key % len(intents)], draws)
        merged, next_customer = merge_batches([batch], next_customer)
        yield merged


def _fill_missing(batch: ArrivalBatch, rows: np.ndarray, channel: str, intent: str, draws: Draws) -> None:
    """Draw the fields the log lacks for ``rows`` (one channel and intent, in time order), in place."""
    for name, draw in (
        ("priority", draws.priority),
        ("tier", draws.tier),
        ("language", draws.language),
        ("customer_id", draws.customer),
    ):
        values = getattr(batch, name)
        todo = rows[values[rows] < 0]
        if todo.size:
            values[todo] = draw(channel, intent, todo.size)
    for name, draw in (("handle_s", draws.handle), ("patience_s", draws.patience)):
        values = getattr(batch, name)
        todo = rows[np.isnan(values[rows])]
        if todo.size:
            values[todo] = draw(channel, intent, todo.size)


# ---------------------------------------------------------------------------------------------- arrival log

LOG_COLUMNS: dict[str, str] = {
    "arrival": "arrival_s",
    "channel": "channel",
    "intent": "intent",
    "handle": "handle_s",
    "patience": "patience_s",
    "priority": "priority",
    "tier": "tier",
    "language": "language",
    "customer": "customer_id",
}


def arrival_frame(batch: ArrivalBatch, scenario: Scenario, start: pd.Timestamp) -> pd.DataFrame:
    """A batch as rows of an arrival log (the columns :func:`replay_config_for_log` maps), names for codes."""
    channels = np.array(list(scenario.channels), dtype=object)
    intents = np.array(list(scenario.intents), dtype=object)
    languages = np.array(list(scenario.customers.languages), dtype=object)
    return pd.DataFrame(
        {
            "arrival": start + pd.to_timedelta(np.rint(batch.time_s * 1e9).astype(np.int64), unit="ns"),
            "arrival_s": batch.time_s,
            "channel": channels[batch.channel],
            "intent": intents[batch.intent],
            "priority": np.array(PRIORITY_NAMES, dtype=object)[batch.priority],
            "tier": np.array(TIER_NAMES, dtype=object)[batch.tier],
            "language": languages[batch.language],
            "customer_id": batch.customer_id,
            "handle_s": batch.handle_s,
            "patience_s": batch.patience_s,
        }
    )


def replay_config_for_log(path: str | PathLike[str], *, exact_times: bool = True) -> ReplayArrivals:
    """The replay config of a log written by ``experiments.replay.write_arrival_log``.

    Every field is read from the log, so nothing is drawn: replaying it under the same scenario start and
    horizon gives the written batches exactly.

    Args:
        path: The log file.
        exact_times: Read ``arrival_s`` (exact float seconds) rather than the ``arrival`` timestamp (rounded
            to the nanosecond).

    Returns:
        A config for ``scenario.arrivals`` (``scenario.model_copy(update={"arrivals": cfg})``).
    """
    columns = dict(LOG_COLUMNS)
    if not exact_times:
        columns["arrival"] = "arrival"
    return ReplayArrivals(path=str(path), columns=columns, arrival_format="seconds" if exact_times else "timestamp")

