"""Replay logs: a scenario's log read and checked once per run, and arrivals written as a replayable log.

:func:`load_replay_log` checks the rows against the scenario; reading the file itself (formats, limits) is
:mod:`experiments.log_files`.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.log_files import (
    LIMITS,
    LogRows,
    ReadLimits,
    data_dir,
    log_format,
    read_log,
    read_log_rows,
    resolve_log_path,
)
from sim.arrivals import ArrivalBatch, ReplayLog, arrival_frame, needed_columns, prepare_replay
from sim.arrivals.batch import empty_batch
from sim.config import ReplayArrivals, Scenario

__all__ = [
    "LIMITS", "LogRows", "ReadLimits", "data_dir", "load_replay_log", "read_log", "read_log_rows", "replay_report",
    "resolve_log_path", "scenario_replay", "write_arrival_log",
]  # fmt: skip


def load_replay_log(
    scenario: Scenario, base_dir: str | os.PathLike[str] | None = None, *, limits: ReadLimits | None = None
) -> ReplayLog:
    """Read a replayed scenario's log from disk and check it: once per run, then every replication replays it.

    Args:
        scenario: A scenario with ``arrivals.kind == "replay"``.
        base_dir: Folder against which a relative log path is resolved (the scenario file's folder; default: the
            current directory).
        limits: Size bounds of the log (default :data:`LIMITS`).

    Returns:
        The checked rows (see :func:`sim.arrivals.prepare_replay`); ``.report`` says what happened to every row.

    Raises:
        ReplayError: The log is missing, malformed or does not match the mapping (file, column, rows, values).
    """
    cfg = scenario.arrivals
    if not isinstance(cfg, ReplayArrivals):
        raise ValueError("load_replay_log needs a scenario with arrivals.kind: replay")
    path = resolve_log_path(cfg.path, base_dir)
    fmt = log_format(path, cfg.format)
    rows = read_log_rows(path, fmt, needed_columns(cfg), limits)
    return prepare_replay(
        rows.frame,
        scenario,
        source=str(path),
        row_label=rows.row_label,
        row_numbers=rows.row_numbers,
        row_keys=rows.row_keys,
    )


def scenario_replay(scenario: Scenario, base_dir: str | os.PathLike[str] | None = None) -> ReplayLog | None:
    """The scenario's checked replay log (:func:`load_replay_log`), or ``None`` for generated arrivals."""
    return load_replay_log(scenario, base_dir) if isinstance(scenario.arrivals, ReplayArrivals) else None


def replay_report(scenario: Scenario, base_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Check a replay log and count what happens to its rows (for the CLI).

    Returns:
        ``path``, ``rows_read``, ``replayed`` (rows in ``[0, horizon)`` that become arrivals), ``skipped``
        (count per reason: ``drop <column>=<value>``, ``require <column>``, ``require_any [...]``,
        ``before window``, ``after window``), ``skipped_total``, ``drawn`` (per field, replayed rows whose
        value is drawn from the scenario) and replayed counts ``by_channel`` and ``by_intent``.

    Raises:
        ReplayError: As :func:`load_replay_log`.
    """
    return load_replay_log(scenario, base_dir).report


def write_arrival_log(batches: Iterable[ArrivalBatch], scenario: Scenario, path: str | os.PathLike[str]) -> int:
    """Write arrivals as a replayable log, one row per contact, streaming batch by batch.

    Columns: ``arrival`` (timestamp: scenario start + ``arrival_s``, ns precision), ``arrival_s`` (exact float
    seconds from the scenario start), ``channel``, ``intent``, ``priority`` (``urgent``/``normal``), ``tier``
    (``vip``/``regular``), ``language`` (scenario names), ``customer_id``, ``handle_s``, ``patience_s``
    (``inf`` = never abandons). The format follows the suffix: ``.parquet`` or CSV (``.csv``, ``.csv.gz``).
    The file is written under a temporary name and renamed, so a crash never leaves a half-written log.
    :func:`sim.arrivals.replay_config_for_log` gives the matching replay config, which reproduces the batches exactly.

    Args:
        batches: Arrival batches, e.g. ``iter_arrivals(scenario, streams)``.
        scenario: The scenario the codes refer to.
        path: Output file.

    Returns:
        The number of rows written.
    """
    path = Path(path)
    fmt = log_format(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    start = pd.Timestamp(scenario.start).as_unit("ns")
    n_rows = 0
    try:
        if fmt == "parquet":
            n_rows = _write_parquet(batches, scenario, start, tmp)
        else:
            opener = gzip.open if path.name.lower().endswith(".gz") else open
            with opener(tmp, "wt", newline="") as fh:
                header = True
                for batch in batches:
                    arrival_frame(batch, scenario, start).to_csv(fh, header=header, index=False)
                    header, n_rows = False, n_rows + len(batch)
                if header:
                    arrival_frame(empty_batch(), scenario, start).to_csv(fh, index=False)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n_rows


def _write_parquet(batches: Iterable[ArrivalBatch], scenario: Scenario, start: pd.Timestamp, tmp: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    text, number = pa.string(), pa.float64()
    schema = pa.schema(
        [
            ("arrival", pa.timestamp("ns", tz=None if start.tzinfo is None else str(start.tzinfo))),
            ("arrival_s", number),
            ("channel", text),
            ("intent", text),
            ("priority", text),
            ("tier", text),
            ("language", text),
            ("customer_id", pa.int64()),
            ("handle_s", number),
            ("patience_s", number),
        ]
    )
    n_rows = 0
    with pq.ParquetWriter(tmp, schema, write_page_checksum=True) as writer:
        for batch in batches:
            table = pa.Table.from_pandas(arrival_frame(batch, scenario, start), schema=schema, preserve_index=False)
            writer.write_table(table)
            n_rows += len(batch)
    return n_rows
