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
    "EXAMPLE_ROWS", "LOG_COLUMNS", "PLAUSIBLE_DURATION_S", "QUOTE_CHARS", "ReplayError", "ReplayLog", "arrival_frame",
    "needed_columns", "prepare_replay", "quote", "replay_batches", "replay_config_for_log",
]  # fmt: skip

QUOTE_CHARS = 80
"""A value quoted in a message is cut to this many characters (with an ellipsis): a cell can be huge."""
EXAMPLE_ROWS = 5
"""A message lists at most this many example rows of one problem (it always gives the full count)."""
PLAUSIBLE_DURATION_S = 24 * 3600.0
"""A replayed handle time or patience above this (and finite) is reported as a warning: 24 h."""


class ReplayError(ValueError):
    """A replay log cannot be used as configured (missing file or column, bad rows, unmapped values)."""


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters with an ellipsis (a cell can be megabytes).

    Example:
        >>> quote("x" * 200, limit=10)
        "'xxxxxxxx…"
    """
    if isinstance(value, str | bytes) and len(value) > limit:
        value = value[:limit]  # never build the repr of a huge cell
        return repr(value)[: limit - 1] + "…"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Problems:
    """Bad rows found while checking a log, reported together in one :class:`ReplayError`."""

    source: str
    """The log's name in messages (its path)."""
    row_label: str  # "line" (CSV: header is line 1) or "row" (Parquet: first data row is row 1)
    row_numbers: np.ndarray
    """The file line (CSV) or 1-based row (Parquet) of each row of the frame."""
    items: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    """Suspicious but usable rows: ``{"check", "column", "count", "examples", "message"}`` each."""

    def examples(self, rows: np.ndarray, values: pd.Series | None = None) -> str:
        """The first :data:`EXAMPLE_ROWS` of ``rows`` (frame positions) by file line/row, with their values."""
        shown = rows[:EXAMPLE_ROWS]
        if values is None:
            return ", ".join(f"{self.row_label} {self.row_numbers[r]}" for r in shown)
        return ", ".join(f"{self.row_label} {self.row_numbers[r]}: {quote(values.iloc[r])}" for r in shown)

    def add(self, column: str, what: str, rows: np.ndarray, values: pd.Series) -> None:
        """Record ``rows`` (positions in the frame) of ``column`` that are bad, with their ``values``."""
        if rows.size == 0:
            return
        self.items.append(f"column {column!r}: {rows.size} row(s) with {what}; first: {self.examples(rows, values)}")

    def warn(self, check: str, column: str | None, what: str, rows: np.ndarray, values: pd.Series | None) -> None:
        """Record a warning about ``rows`` (positions in the frame); it goes to the report, the run goes on."""
        if rows.size == 0:
            return
        where = f"column {column!r}: " if column is not None else ""
        examples = self.examples(rows, values)
        self.warnings.append(
            {
                "check": check,
                "column": column,
                "count": int(rows.size),
                "examples": examples.split(", "),
                "message": f"{self.source}: {where}{rows.size} row(s) with {what}; first: {examples}",
            }
        )

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
    source_row: np.ndarray | None = None
    """0-based data row of the log file of each replayed row (int64), in the order above."""
    passthrough: dict[str, np.ndarray] = field(default_factory=dict)
    """Per ``passthrough`` column, the text of each replayed row (``""`` for an empty cell), in the order above."""


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
    names += cfg.passthrough
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


_UTC_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
"""A time of day followed by a UTC offset (``Z``, ``+02``, ``+02:00``, ``-0130``) at the end of a timestamp."""


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
        problems.add(column, "an empty, non-numeric or infinite arrival time (seconds)", np.flatnonzero(bad), raw)
        out[keep & ~bad] = values[keep & ~bad] + cfg.time_offset
        return out
    window_start = pd.Timestamp(cfg.window_start if cfg.window_start is not None else scenario.start)
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = raw
    else:
        stamps = _parse_timestamps(_text(raw), keep, column, cfg, window_start, problems)
    bad = keep & stamps.isna().to_numpy()
    what = f"an empty or unparseable timestamp (expected {quote(cfg.timestamp_format or 'ISO 8601')})"
    problems.add(column, what, np.flatnonzero(bad), raw)
    try:
        seconds = (stamps - window_start).dt.total_seconds().to_numpy(dtype=float)
    except TypeError as exc:
        raise ReplayError(
            f"{problems.source}: column {column!r}: timestamps and window_start ({window_start}) must both be "
            f"timezone-aware or both naive: {quote(str(exc), 200)}"
        ) from exc
    out[keep & ~bad] = seconds[keep & ~bad] + cfg.time_offset
    return out


def _parse_timestamps(
    text: pd.Series,
    keep: np.ndarray,
    column: str,
    cfg: ReplayArrivals,
    window_start: pd.Timestamp,
    problems: _Problems,
) -> pd.Series:
    """Timestamps of a text column (NaT where unparseable).

    Several UTC offsets in one column are accepted when every timestamp has one (e.g. summer and winter time) and
    ``window_start`` has one too: the times are instants, compared in UTC. Timestamps with and without an offset in
    one column are an error: the naive ones have no instant.
    """
    fmt = cfg.timestamp_format or "ISO8601"
    values = text.where(text != "", None)
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce")
    except ValueError as exc:
        if "mixed time" not in str(exc).lower():
            raise ReplayError(
                f"{problems.source}: column {column!r}: cannot parse timestamps with format {quote(fmt)}: "
                f"{quote(str(exc), 200)}"
            ) from exc
    present = keep & (text != "").to_numpy()
    with_offset = present & text.str.contains(_UTC_OFFSET, regex=True).to_numpy()
    without = present & ~with_offset
    if without.any():
        raise ReplayError(
            f"{problems.source}: column {column!r}: timestamps with and without a UTC offset in one log "
            f"({int(with_offset.sum())} with, first: {problems.examples(np.flatnonzero(with_offset), text)}; "
            f"{int(without.sum())} without, first: {problems.examples(np.flatnonzero(without), text)}); "
            "a timestamp without an offset is no instant: give every timestamp an offset, or none"
        )
    if window_start.tzinfo is None:
        raise ReplayError(
            f"{problems.source}: column {column!r}: timestamps with different UTC offsets (first: "
            f"{problems.examples(np.flatnonzero(with_offset), text)}) but window_start ({window_start}, the scenario "
            "start by default) has none; set window_start with an offset (e.g. 1999-06-06T00:00+03:00) to place "
            "these instants on the clock"
        )
    return pd.to_datetime(values, format=fmt, errors="coerce", utc=True)


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
        raise ReplayError(f"defaults.{field_name}: unknown {field_name} {quote(default)}; known: {allowed}")
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
                f"values.{field_name}: log value {quote(log_value)} maps to unknown {field_name} {quote(name)}; "
                f"known: {allowed}"
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
    try:
        default = parse_duration(cfg.defaults[field_name]) if field_name in cfg.defaults else np.nan
    except ValueError as exc:
        raise ReplayError(f"defaults.{field_name}: {quote(str(exc), 200)}") from exc
    column = cfg.columns.get(field_name)
    if column is None:
        return np.full(rows.size, default)
    raw = frame[column].iloc[rows]
    text = _text(raw)
    empty = text.str.lower().isin(["", "nan"]).to_numpy()
    numbers = pd.to_numeric(text.mask(text.str.lower().isin(["", "nan"])), errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan, copy=True)
    markers = cfg.missing.get(field_name, [])
    marked = text.isin(markers).to_numpy() | np.isin(values, _marker_seconds(markers))
    nonnumeric = ~empty & ~marked & np.isnan(values)
    problems.add(column, f"a non-numeric {field_name} (seconds)", rows[nonnumeric], frame[column])
    negative = ~marked & (values < 0)
    problems.add(column, f"a negative {field_name}", rows[negative], frame[column])
    if field_name == "handle":
        problems.add(column, "an infinite handle time", rows[~marked & np.isposinf(values)], frame[column])
    # An infinite patience is deliberate ("never abandons"); a finite one beyond a day is likely a unit mix-up.
    implausible = ~marked & np.isfinite(values) & (values > PLAUSIBLE_DURATION_S)
    hours = f"{PLAUSIBLE_DURATION_S / 3600:g} h"
    what = f"a {field_name} over {hours} (implausible; the column should hold seconds)"
    problems.warn(f"{field_name} over {hours}", column, what, rows[implausible], frame[column])
    values[marked | empty | nonnumeric | negative] = np.nan
    values[np.isnan(values)] = default
    return values


def _marker_seconds(markers: list[str]) -> list[float]:
    """The ``missing`` markers of a duration that are numbers or durations, in seconds (others match as text)."""
    out = []
    for marker in markers:
        try:
            out.append(parse_duration(marker) if re.search(r"[a-zA-Z]$", marker) else float(marker))
        except ValueError:
            continue
    return out


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


def prepare_replay(
    frame: pd.DataFrame,
    scenario: Scenario,
    *,
    source: str,
    row_label: str = "line",
    row_numbers: np.ndarray | None = None,
    row_keys: np.ndarray | None = None,
) -> ReplayLog:
    """Filter, check and map the rows of a replay log (see :class:`sim.config.ReplayArrivals`).

    Args:
        frame: The log's needed columns (:func:`needed_columns`), CSV cells as strings, in file order.
        scenario: A scenario with ``arrivals.kind == "replay"``.
        source: The log's name in messages (its path).
        row_label: ``"line"`` (CSV: the header is line 1) or ``"row"`` (Parquet: the first data row is row 1).
        row_numbers: The file line (or row) of each frame row, for messages (default: consecutive from 2 for
            ``"line"``, from 1 for ``"row"``; give them when the file has blank or multi-line records).
        row_keys: One hash per row of the *whole* record (every column of the file), to find duplicated rows
            (default: a hash of ``frame``'s columns).

    Returns:
        The checked rows in time order, with the report of what happened to every row. ``report["warnings"]``
        lists suspicious rows that are still replayed (duplicated rows or a log repeated twice, durations over
        :data:`PLAUSIBLE_DURATION_S`).

    Raises:
        ReplayError: Bad rows (every problem listed: column, count, first rows and values), or no row replayed.
    """
    cfg = scenario.arrivals
    assert isinstance(cfg, ReplayArrivals)
    if row_numbers is None:
        row_numbers = np.arange(len(frame)) + (2 if row_label == "line" else 1)
    problems = _Problems(source, row_label, row_numbers)
    _check_nul(frame, problems)
    problems.raise_if_any()
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
    _check_duplicates(frame, row_keys, keep, problems)
    customer_id, customer_known = _customer_ids(frame, rows, cfg)
    report = _report(source, len(frame), skipped, codes, durations, customer_known, scenario)
    report["warnings"] = problems.warnings
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
        source_row=rows.astype(np.int64),
        passthrough={name: _text(frame[name].iloc[rows]).to_numpy(dtype=object) for name in cfg.passthrough},
    )


def _check_nul(frame: pd.DataFrame, problems: _Problems) -> None:
    """NUL characters in text cells are errors: no log writer puts them there on purpose (a binary or broken file)."""
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            nul = series.astype("string").str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
            problems.add(str(column), "a NUL character", np.flatnonzero(nul), series)


def _check_duplicates(frame: pd.DataFrame, row_keys: np.ndarray | None, keep: np.ndarray, problems: _Problems) -> None:
    """Warn about rows identical to an earlier row, and about a log that is the same rows twice in a row."""
    keys = row_keys if row_keys is not None else pd.util.hash_pandas_object(frame, index=False).to_numpy()
    codes, _ = pd.factorize(keys)
    _, first_of_code = np.unique(codes, return_index=True)
    first = first_of_code[codes]
    dup = first != np.arange(len(keys))
    if not dup.any():
        return
    rows = np.flatnonzero(dup)
    n_replayed = int((dup & keep).sum())
    start = int(rows[0])
    pairs = ", ".join(
        f"{problems.row_label} {problems.row_numbers[r]} = {problems.row_numbers[first[r]]}"
        for r in rows[:EXAMPLE_ROWS]
    )
    copied = len(keys) - start
    if copied == start and np.array_equal(keys[start:], keys[:copied]):  # every row, then every row again
        first_row, last_row = problems.row_numbers[0], problems.row_numbers[copied - 1]
        message = (
            f"{problems.source}: the log holds the same rows twice: {problems.row_label}s "
            f"{problems.row_numbers[start]}-{problems.row_numbers[-1]} repeat {problems.row_label}s "
            f"{first_row}-{last_row} ({copied} rows, {n_replayed} of the copies in the window and replayed); "
            "was the log concatenated with itself?"
        )
        check = "duplicated log"
    else:
        message = (
            f"{problems.source}: {rows.size} of {len(keys)} rows identical in every column to an earlier row "
            f"({n_replayed} of them in the window and replayed); first: {pairs}"
        )
        check = "duplicated rows"
    problems.warnings.append(
        {"check": check, "column": None, "count": int(rows.size), "examples": pairs.split(", "), "message": message}
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
            source_row=log.source_row[day_slice].copy() if log.source_row is not None else None,
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
    todo = rows[np.isnan(batch.handle_s[rows])]
    if todo.size:
        batch.handle_s[todo] = draws.handle(channel, intent, todo.size)
    todo = rows[np.isnan(batch.patience_s[rows])]
    if todo.size:
        batch.patience_s[todo] = draws.patience_at(channel, intent, batch.time_s[todo], batch.priority[todo])


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
