"""Log files on disk: where they are (``${CCSIM_DATA}``) and reading them within limits.

The needed columns of a CSV (plain or compressed) or Parquet log are read, and a malformed or hostile file is
refused with the line and column.

:mod:`experiments.replay` checks what is read against a scenario; calibration reads the same way.
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import gzip
import io
import lzma
import operator
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from sim.arrivals import ReplayError
from sim.arrivals.replay import EXAMPLE_ROWS, QUOTE_CHARS, quote

__all__ = ["LIMITS", "LogRows", "ReadLimits", "data_dir", "log_format", "read_log", "read_log_rows", "resolve_log_path"]


def data_dir() -> Path:
    """The data folder that ``${CCSIM_DATA}`` in a replay path stands for.

    Rule: the ``CCSIM_DATA`` environment variable if it is set (``~`` expanded; a relative value is relative
    to the current directory), else ``shared/data`` next to the repository checkout, i.e.
    ``Path(experiments/log_files.py).resolve().parents[2] / "shared" / "data"`` (``/work/shared/data`` for a checkout
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


def log_format(path: Path, configured: str = "auto") -> str:
    """A log's format: ``configured`` unless ``"auto"``, else from the suffix (``.parquet``, ``.csv[.gz...]``)."""
    if configured != "auto":
        return configured
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if re.search(r"\.(csv|txt)(\.(gz|bz2|xz|zst|zip))?$", name):
        return "csv"
    raise ReplayError(f"{path}: cannot tell the format from the suffix; use .csv, .csv.gz or .parquet, or set format")


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on a replay log, checked before or while it is read, so that a huge or hostile file is refused early.

    Nothing beyond these bounds is read into memory: a CSV line is read at most ``max_line_bytes + 1`` bytes at a
    time, and reading stops at the first line or row over a limit. See "Limits" in ``docs/replay.md``.

    Attributes:
        max_bytes: Most bytes of log data after decompression (CSV), or of uncompressed column data as the
            Parquet footer states it: 2 GiB. A file larger than this on disk is refused before it is opened.
        max_rows: Most data rows: 5,000,000 (the Technion Jan-Oct log has 360,364). Parquet is checked against its
            footer before reading, CSV while reading.
        max_line_bytes: Longest line of a CSV log, newline included: 1 MiB (the Technion lines have about
            110 bytes). One cell of a quoted multi-line record is bounded by Python's ``csv.field_size_limit()``
            (131,072 characters).
    """

    max_bytes: int = 2 * 1024**3
    max_rows: int = 5_000_000
    max_line_bytes: int = 1024**2


LIMITS = ReadLimits()
"""The limits :func:`load_replay_log` applies unless it is given others."""


@dataclass
class LogRows:
    """The needed columns of a log as read from disk, with what messages and checks need to know about each row."""

    frame: pd.DataFrame
    """The needed columns (CSV cells as strings), in file order."""
    row_label: str
    """``"line"`` (CSV) or ``"row"`` (Parquet)."""
    row_numbers: np.ndarray
    """The file line where each CSV record starts (the header is line 1), or the 1-based Parquet row."""
    row_keys: np.ndarray
    """A hash of each whole record (every column), to find duplicated rows."""


def read_log(path: Path, fmt: str, needed: list[str], limits: ReadLimits | None = None) -> pd.DataFrame:
    """Read the needed columns of a log (CSV cells as strings), checking that they exist (see :func:`read_log_rows`)."""
    return read_log_rows(path, fmt, needed, limits).frame


def read_log_rows(path: Path, fmt: str, needed: list[str], limits: ReadLimits | None = None) -> LogRows:
    """Read the needed columns of a log, refusing files that are not well-formed logs within ``limits``.

    Args:
        path: The log file.
        fmt: ``"csv"`` (plain or ``.gz``/``.bz2``/``.xz``/``.zip``/``.zst`` compressed) or ``"parquet"``.
        needed: The columns to keep (:func:`sim.arrivals.needed_columns`).
        limits: Size bounds (default :data:`LIMITS`).

    Returns:
        The columns with the line (or row) number and a whole-record hash of every row.

    Raises:
        ReplayError: The file is missing, a folder, empty, over a limit, not text in UTF-8, truncated or corrupt,
            has rows whose field count differs from the header's, lacks a needed column, or has no data rows. The
            message names the file and the line (or row) and column where it can.
    """
    limits = limits if limits is not None else LIMITS
    if path.is_dir():
        raise ReplayError(f"{path}: is a folder, not a log file (give one .csv, .csv.gz or .parquet file)")
    if not path.is_file():
        if path.exists():
            raise ReplayError(f"{path}: is not a regular file (a device or a pipe?); give a .csv or .parquet file")
        hint = " (set CCSIM_DATA to the data folder)" if str(data_dir()) in str(path) else ""
        raise ReplayError(f"{path}: replay log not found{hint}")
    size = path.stat().st_size
    if size == 0:
        raise ReplayError(f"{path}: the file is empty (no header line)")
    if size > limits.max_bytes:
        raise ReplayError(
            f"{path}: {size:,} bytes on disk, over the limit of {limits.max_bytes:,} bytes of log data "
            "(see Limits in docs/replay.md); replay a shorter window cut from it"
        )
    if fmt == "parquet":
        return _read_parquet(path, needed, limits)
    return _read_csv(path, needed, limits)


def _limit_hint() -> str:
    return "see Limits in docs/replay.md; replay a shorter window cut from it"


# ------------------------------------------------------------------------------------------------------- CSV

_MAGIC = {b"PAR1": "a Parquet file", b"\x1f\x8b": "gzip-compressed", b"PK\x03\x04": "a zip archive"}
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst")


def _open_csv(path: Path, stack: contextlib.ExitStack) -> BinaryIO:
    """The decompressed byte stream of a CSV log (by suffix), closed with ``stack``."""
    name = path.name.lower()
    if not name.endswith(_COMPRESSED_SUFFIXES):
        with path.open("rb") as fh:
            head = fh.read(4)
        for magic, what in _MAGIC.items():
            if head.startswith(magic):
                raise ReplayError(
                    f"{path}: the file is {what}, not CSV text; give it the matching suffix (.parquet, .csv.gz, .zip)"
                )
    if name.endswith(".gz"):
        return stack.enter_context(gzip.open(path, "rb"))
    if name.endswith(".bz2"):
        return stack.enter_context(bz2.open(path, "rb"))
    if name.endswith(".xz"):
        return stack.enter_context(lzma.open(path, "rb"))
    if name.endswith(".zip"):
        archive = stack.enter_context(zipfile.ZipFile(path))
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise ReplayError(f"{path}: a zipped log must hold exactly one file; it holds {len(members)}")
        return stack.enter_context(archive.open(members[0]))
    if name.endswith(".zst"):
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ReplayError(f"{path}: reading .zst needs the zstandard package; or decompress the file") from exc
        return stack.enter_context(zstandard.open(path, "rb"))
    return stack.enter_context(path.open("rb"))


def _gzip_size(path: Path) -> int | None:
    """The uncompressed size a gzip file's trailer states (modulo 4 GiB; garbage if the file is truncated)."""
    if not path.name.lower().endswith(".gz"):
        return path.stat().st_size if not path.name.lower().endswith(_COMPRESSED_SUFFIXES) else None
    with path.open("rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return int.from_bytes(fh.read(4), "little")


_BLOCK_BYTES = 1024**2
"""A CSV log is read and checked in blocks of about this many bytes (plus the partial line before the block)."""


@dataclass
class _Lines:
    """The lines of a CSV byte stream, checked (line length, total size, NUL, UTF-8) block by block, decoded.

    No more than a block plus ``max_line_bytes`` is held at a time, so a huge line is refused without being read.
    """

    stream: BinaryIO
    path: Path
    limits: ReadLimits
    n_lines: int = 0
    """Complete lines checked so far."""
    n_bytes: int = 0
    first_line: bytes = b""

    def __iter__(self) -> Iterator[str]:
        pending = b""
        while True:
            chunk = self.stream.read(_BLOCK_BYTES)
            data = pending + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            pending = data[cut:]
            if len(pending) > self.limits.max_line_bytes:
                self._too_long(self.n_lines + data.count(b"\n", 0, cut) + 1, pending)
            if cut:
                yield from io.StringIO(self._checked(data[:cut]), newline="\n")
            if not chunk:
                return

    def _checked(self, block: bytes) -> str:
        """One block of whole lines, checked and decoded."""
        if not self.first_line:
            self.first_line = block[: block.find(b"\n") + 1 or len(block)]
        self.n_bytes += len(block)
        if self.n_bytes > self.limits.max_bytes:
            last_line = self.n_lines + block.count(b"\n")
            estimate = _gzip_size(self.path)
            about = (
                f"; the file states about {estimate:,} bytes" if estimate and estimate > self.limits.max_bytes else ""
            )
            raise ReplayError(
                f"{self.path}: more than {self.limits.max_bytes:,} bytes of log data (the limit) by line "
                f"{last_line:,}{about} ({_limit_hint()})"
            )
        lines = block.split(b"\n")
        if max(map(len, lines)) + 1 > self.limits.max_line_bytes:
            longest = next(k for k, line in enumerate(lines) if len(line) + 1 > self.limits.max_line_bytes)
            self._too_long(self.n_lines + longest + 1, lines[longest])
        nul = block.find(b"\x00")
        if nul >= 0:
            line, at = self._locate(block, nul)
            raise ReplayError(
                f"{self.path}: line {line}{at} holds a NUL byte: not CSV text (a binary file, or text in UTF-16?)"
            )
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, at = self._locate(block, exc.start)
            raise ReplayError(
                f"{self.path}: line {line}{at}: byte 0x{block[exc.start : exc.start + 1].hex()} is not UTF-8 text "
                "(is the file in another encoding, such as Latin-1 or cp1252? convert it to UTF-8)"
            ) from None
        if self.n_lines == 0:
            text = text.removeprefix("\ufeff")
        self.n_lines += block.count(b"\n")
        return text

    def _too_long(self, line: int, start: bytes) -> None:
        raise ReplayError(
            f"{self.path}: line {line:,} is longer than {self.limits.max_line_bytes:,} bytes, the limit for one line "
            f"of a CSV log ({_limit_hint()}); it starts {quote(start[:QUOTE_CHARS].decode('utf-8', 'replace'))}"
        )

    def _locate(self, block: bytes, offset: int) -> tuple[int, str]:
        """The file line of byte ``offset`` of ``block``, and ``", column 'c', cell '...'"`` for its cell."""
        begin = block.rfind(b"\n", 0, offset) + 1
        end = block.find(b"\n", offset)
        line = block[begin : end if end >= 0 else len(block)]
        number = self.n_lines + block.count(b"\n", 0, offset) + 1
        if number == 1:
            return number, " (the header)"
        header = next(csv.reader([self.first_line.decode("utf-8", "replace").rstrip("\r\n")]), [])
        index = max(len(next(csv.reader([line[: offset - begin].decode("utf-8", "replace")]), [""])) - 1, 0)
        cells = next(csv.reader([line.decode("utf-8", "replace").rstrip("\r")]), [""])
        cell = f", cell {quote(cells[index])}" if 0 <= index < len(cells) else ""
        name = f"column {quote(header[index])}" if 0 <= index < len(header) else f"field {index + 1}"
        return number, f", {name}{cell}"


def _read_csv(path: Path, needed: list[str], limits: ReadLimits) -> LogRows:
    with contextlib.ExitStack() as stack:
        try:
            lines = _Lines(_open_csv(path, stack), path, limits)
            return _parse_csv(path, lines, needed, limits)
        except (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as exc:
            where = f" after line {lines.n_lines:,}" if "lines" in locals() and lines.n_lines else ""
            raise ReplayError(
                f"{path}: cannot read the file{where}: it is truncated or corrupt ({quote(str(exc), 200)})"
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_csv(path: Path, lines: _Lines, needed: list[str], limits: ReadLimits) -> LogRows:
    """Parse the checked lines: a header, then records of the header's width, keeping the needed columns."""
    reader = csv.reader(lines)
    end = 0
    try:
        header: list[str] = []
        while not header:  # leading blank lines are skipped
            header = next(reader, None) or []
            if not header and reader.line_num == end:
                raise ReplayError(f"{path}: the file is empty (no header line)")
            end = reader.line_num
        index = _header_index(path, header, needed)
        pick = operator.itemgetter(*index) if len(index) > 1 else (lambda record: (record[index[0]],))
        width, picked, numbers, keys = len(header), [], [], []
        width_problems: list[str] = []
        n_width, repeated_header = 0, []
        for record in reader:
            start, end = end + 1, reader.line_num
            if len(record) != width:
                if record:  # not a blank line
                    n_width += 1
                    if len(width_problems) < EXAMPLE_ROWS:
                        span = f"line {start}" if end == start else f"lines {start}-{end} (an unclosed quote?)"
                        width_problems.append(f"{span} has {len(record)}")
                continue
            if record == header:
                repeated_header.append(start)
                continue
            picked.append(pick(record))
            numbers.append(start)
            keys.append(hash(tuple(record)))
            if len(numbers) > limits.max_rows:
                raise ReplayError(
                    f"{path}: more than {limits.max_rows:,} data rows, the limit{_row_estimate(path, lines)} "
                    f"({_limit_hint()})"
                )
    except csv.Error as exc:
        raise ReplayError(f"{path}: line {reader.line_num}: not valid CSV: {quote(str(exc), 200)}") from None
    problems = []
    if n_width:
        problems.append(
            f"{n_width} row(s) whose number of fields differs from the header's {width}; first: "
            + ", ".join(width_problems)
        )
    if repeated_header:
        shown = ", ".join(f"line {n}" for n in repeated_header[:EXAMPLE_ROWS])
        problems.append(
            f"{len(repeated_header)} row(s) repeat the header (logs concatenated with their headers?): {shown}"
        )
    if problems:
        raise ReplayError(f"{path}: malformed CSV:\n  " + "\n  ".join(problems))
    if not numbers:
        raise ReplayError(f"{path}: the file has a header but no data rows")
    columns = list(zip(*picked, strict=True))
    frame = pd.DataFrame({name: pd.Series(values, dtype=str) for name, values in zip(needed, columns, strict=True)})
    return LogRows(frame, "line", np.asarray(numbers, dtype=np.int64), np.asarray(keys, dtype=np.int64))


def _header_index(path: Path, header: list[str], needed: list[str]) -> list[int]:
    """Position of each needed column in the header; a missing or repeated column is an error."""
    absent = [c for c in needed if c not in header]
    if absent:
        raise ReplayError(f"{path}: column(s) {absent} not in the file; it has {_some(header)}")
    repeated = [c for c in needed if header.count(c) > 1]
    if repeated:
        raise ReplayError(f"{path}: column(s) {repeated} appear more than once in the header; which one is meant?")
    return [header.index(c) for c in needed]


def _some(names: list[str], n: int = 30) -> str:
    """A list of column names for a message: at most ``n``, each quoted and cut (a header can be huge)."""
    shown = ", ".join(quote(name) for name in names[:n])
    return f"[{shown}{f', ... ({len(names):,} columns)' if len(names) > n else ''}]"


def _row_estimate(path: Path, lines: _Lines) -> str:
    total = _gzip_size(path)
    if not total or total < lines.n_bytes:
        return ""
    return f"; the file has about {int(total / (lines.n_bytes / lines.n_lines)):,} lines by its size"


# --------------------------------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, needed: list[str], limits: ReadLimits) -> LogRows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    errors = (OSError, ValueError, pa.ArrowException)
    try:
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
    except errors as exc:
        raise ReplayError(f"{path}: not a readable Parquet file: {quote(str(exc), 200)}") from None
    meta = parquet.metadata
    if meta.num_rows > limits.max_rows:
        raise ReplayError(
            f"{path}: {meta.num_rows:,} rows (from the Parquet footer), over the limit of {limits.max_rows:,} "
            f"({_limit_hint()})"
        )
    data_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if data_bytes > limits.max_bytes:
        raise ReplayError(
            f"{path}: {data_bytes:,} bytes of uncompressed column data (from the Parquet footer), over the limit "
            f"of {limits.max_bytes:,} ({_limit_hint()})"
        )
    schema = parquet.schema_arrow
    _header_index(path, list(schema.names), needed)
    unreadable = [
        f"{quote(f.name)} ({quote(str(f.type), 40)})" for f in schema if f.name in needed and not _plain(f.type)
    ]
    if unreadable:
        raise ReplayError(
            f"{path}: column(s) {', '.join(unreadable)} are not text, numbers, booleans or times; replay cannot "
            "read them (binary data has no text encoding)"
        )
    if meta.num_rows == 0:
        raise ReplayError(f"{path}: the file has no data rows")
    plain = [f.name for f in schema if _plain(f.type)]
    tables, first_row = [], 1
    for group in range(meta.num_row_groups):
        n = meta.row_group(group).num_rows
        try:
            tables.append(parquet.read_row_group(group, columns=plain))
        except errors as exc:
            raise ReplayError(
                f"{path}: rows {first_row:,}-{first_row + n - 1:,} (row group {group}"
                f"{_bad_column(parquet, group, plain, errors)}) cannot be read: the file is corrupt or truncated "
                f"({quote(str(exc), 200)})"
            ) from None
        first_row += n
    try:
        everything = pa.concat_tables(tables).to_pandas()
    except errors as exc:
        raise ReplayError(f"{path}: cannot convert the Parquet data: {quote(str(exc), 200)}") from None
    keys = pd.util.hash_pandas_object(everything, index=False).to_numpy()
    frame = everything[needed].reset_index(drop=True)
    return LogRows(frame, "row", np.arange(1, len(frame) + 1, dtype=np.int64), keys)


def _plain(arrow_type: Any) -> bool:
    """Whether replay can read a Parquet column of this type as text (not binary, not nested)."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return _plain(arrow_type.value_type)
    binary = (
        pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
        or pa.types.is_fixed_size_binary(arrow_type)
        or pa.types.is_binary_view(arrow_type)
    )
    return not (binary or pa.types.is_nested(arrow_type))


def _bad_column(parquet: Any, group: int, columns: list[str], errors: tuple[type[Exception], ...]) -> str:
    """``", column 'c'"`` for the first column of a row group that cannot be read on its own."""
    for name in columns:
        try:
            parquet.read_row_group(group, columns=[name])
        except errors:
            return f", column {quote(name)}"
    return ""
