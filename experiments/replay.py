"""Replay logs on disk: where they are, reading them once per run, and writing arrival logs."""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.arrivals import ArrivalBatch, ReplayError, ReplayLog, arrival_frame, needed_columns, prepare_replay
from sim.arrivals.batch import empty_batch
from sim.config import ReplayArrivals, Scenario

__all__ = [
    "data_dir", "load_replay_log", "read_log", "replay_report", "resolve_log_path", "scenario_replay",
    "write_arrival_log",
]  # fmt: skip


def data_dir() -> Path:
    """The data folder that ``${CCSIM_DATA}`` in a replay path stands for.

    Rule: the ``CCSIM_DATA`` environment variable if it is set (``~`` expanded; a relative value is relative
    to the current directory), else ``shared/data`` next to the repository checkout, i.e.
    ``Path(experiments/replay.py).resolve().parents[2] / "shared" / "data"`` (``/work/shared/data`` for a checkout
    at ``/work/main``).

    Returns:
        The folder (it may not exist).
    """
    env = os.environ.get("CCSIM_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def resolve_log_path(path: str, base_dir: str | os.PathLike[str] | None = None) -> Path:
    """Expand ``${CCSIM_DATA}`` (see :func:`data_dir`) and resolve a relative path against ``base_dir``.

    Args:
        path: The ``path`` of a replay config.
        base_dir: The scenario file's folder (default: the current directory).

    Returns:
        The log file's path.
    """
    data = str(data_dir())
    expanded = path.replace("${CCSIM_DATA}", data).replace("$CCSIM_DATA", data)
    resolved = Path(expanded).expanduser()
    if not resolved.is_absolute():
        resolved = Path(base_dir if base_dir is not None else Path.cwd()) / resolved
    return resolved


def _log_format(path: Path, configured: str = "auto") -> str:
    if configured != "auto":
        return configured
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if re.search(r"\.(csv|txt)(\.(gz|bz2|xz|zst|zip))?$", name):
        return "csv"
    raise ReplayError(f"{path}: cannot tell the format from the suffix; use .csv, .csv.gz or .parquet, or set format")



def read_log(path: Path, fmt: str, needed: list[str]) -> pd.DataFrame:
    """Read the needed columns of a log (CSV cells as strings), checking that they exist."""
    if not path.is_file():
        hint = " (set CCSIM_DATA to the data folder)" if str(data_dir()) in str(path) else ""
        raise ReplayError(f"{path}: replay log not found{hint}")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            available = list(pq.read_schema(path).names)
        else:
            available = list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError as exc:
        raise ReplayError(f"{path}: the file is empty (no header line)") from exc
    except Exception as exc:
        raise ReplayError(f"{path}: cannot read as {fmt}: {exc}") from exc
    absent = [c for c in needed if c not in available]
    if absent:
        raise ReplayError(f"{path}: column(s) {absent} not in the file; it has {available}")
    if fmt == "parquet":
        frame = pd.read_parquet(path, columns=needed)
    else:
        frame = pd.read_csv(path, usecols=needed, dtype=str, keep_default_na=False)
    if frame.empty:
        raise ReplayError(f"{path}: the file has a header but no data rows")
    return frame.reset_index(drop=True)



def load_replay_log(scenario: Scenario, base_dir: str | os.PathLike[str] | None = None) -> ReplayLog:
    """Read a replayed scenario's log from disk and check it: once per run, then every replication replays it.

    Args:
        scenario: A scenario with ``arrivals.kind == "replay"``.
        base_dir: Folder against which a relative log path is resolved (the scenario file's folder; default: the
            current directory).

    Returns:
        The checked rows (see :func:`sim.arrivals.prepare_replay`); ``.report`` says what happened to every row.

    Raises:
        ReplayError: The log is missing, malformed or does not match the mapping (file, column, rows, values).
    """
    cfg = scenario.arrivals
    if not isinstance(cfg, ReplayArrivals):
        raise ValueError("load_replay_log needs a scenario with arrivals.kind: replay")
    path = resolve_log_path(cfg.path, base_dir)
    fmt = _log_format(path, cfg.format)
    frame = read_log(path, fmt, needed_columns(cfg))
    return prepare_replay(frame, scenario, source=str(path), row_label="row" if fmt == "parquet" else "line")


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
    fmt = _log_format(path)
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
    with pq.ParquetWriter(tmp, schema) as writer:
        for batch in batches:
            table = pa.Table.from_pandas(arrival_frame(batch, scenario, start), schema=schema, preserve_index=False)
            writer.write_table(table)
            n_rows += len(batch)
    return n_rows


