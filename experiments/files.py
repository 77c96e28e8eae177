"""Atomic file writes: an output file appears complete or not at all.

Every output file goes through :func:`write_atomic` (temp file in the same folder, fsync, ``os.replace``), so a
crash or Ctrl-C never leaves a half-written result. :func:`write_parquet`, :func:`write_csv` and
:func:`write_json` wrap it; :func:`read_json` reads back what :func:`write_json` wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["read_json", "write_atomic", "write_csv", "write_json", "write_parquet"]


def write_atomic(path: str | os.PathLike[str], writer: Callable[[Path], object]) -> Path:
    """Write a file so that it either appears complete or not at all.

    ``writer`` is called with a temporary path in the same folder; the temp file is then fsynced and renamed
    over ``path`` with ``os.replace`` (atomic on POSIX and Windows). On any error or interrupt the temp file is
    removed and ``path`` is left as it was.

    Args:
        path: Final file path (its folder is created if needed).
        writer: Writes the content to the path it is given (e.g. ``lambda p: df.to_parquet(p)``).

    Returns:
        The final path.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; results should be as readable as any new file
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)
    return final


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    with contextlib.suppress(OSError):  # some filesystems refuse directory fsync; the rename is done anyway
        _fsync(folder)


def write_parquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a frame to Parquet (pyarrow, no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=False))


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a frame to CSV (no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON (indented, keys sorted, UTF-8) atomically."""

    def writer(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", "utf-8")

    return write_atomic(path, writer)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
