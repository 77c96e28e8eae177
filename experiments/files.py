"""Atomic file writes: an output file appears complete or not at all.

Every output file goes through :func:`write_atomic` (temp file in the same folder, fsync, ``os.replace``), so a
crash or Ctrl-C never leaves a half-written result. :func:`write_parquet`, :func:`write_csv` and
:func:`write_json` wrap it; :func:`read_json` reads back what :func:`write_json` wrote.

Only a ``kill -9`` (or a power cut) can leave a temp file behind: ``.<name>.<8 random characters>.tmp`` next to
the file it was for. :func:`is_temp_file` recognises that name and :func:`remove_stale_temps` deletes such files
(the caller must know that no other writer is active in the folder, e.g. by holding the run directory's lock).
A write that fails (disk full, read-only file system...) raises :class:`OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.terminal import printable

__all__ = [
    "OutputError",
    "as_output_error",
    "is_temp_file",
    "os_reason",
    "read_json",
    "remove_stale_temps",
    "write_atomic",
    "write_csv",
    "write_json",
    "write_parquet",
]

_TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.(?P<final>.+)\.[a-z0-9_]{8}\.tmp$")
"""``tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")`` names: 8 characters of ``[a-z0-9_]`` in between."""


class OutputError(OSError):
    """An output file or folder could not be written (disk full, read-only or immutable folder...).

    ``filename`` is the path that could not be written and ``strerror`` the reason, as for any ``OSError``.
    """

    def __str__(self) -> str:
        return f"cannot write {printable(self.filename)}: {self.strerror}"


def os_reason(exc: BaseException) -> tuple[int | None, str]:
    """``(errno, reason)`` of an error raised while writing; pyarrow's ``OSError`` carries the errno in its text."""
    code = getattr(exc, "errno", None)
    if code is None and (found := re.search(r"\[errno (\d+)\]", str(exc), flags=re.IGNORECASE)):
        code = int(found.group(1))
    if code is not None:
        reason = os.strerror(code).lower()
        if code == errno_codes.EPERM:
            reason += " (an immutable folder? see lsattr)"
        return code, reason
    return None, str(exc) or type(exc).__name__


def as_output_error(exc: OSError, path: str | os.PathLike[str]) -> OutputError:
    """``exc`` as an :class:`OutputError` naming ``path`` (returned unchanged if it already is one)."""
    if isinstance(exc, OutputError):
        return exc
    code, reason = os_reason(exc)
    return OutputError(code or 0, reason, os.fspath(path))


def is_temp_file(name: str) -> bool:
    """Whether a file name is one of :func:`write_atomic`'s temp files (``.<name>.<random>.tmp``)."""
    return _TEMP_NAME.match(name) is not None


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete :func:`write_atomic`'s temp files left in ``folder`` (not its subfolders) by a killed writer.

    Only call this when no writer can be active in ``folder`` (hold its lock).

    Returns:
        The paths removed.
    """
    removed = []
    for path in Path(folder).glob(f".*{_TEMP_SUFFIX}"):
        if is_temp_file(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


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

    Raises:
        OutputError: The file could not be written (disk full, read-only...); nothing is left behind.
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise as_output_error(exc, final) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; results should be as readable as any new file
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise as_output_error(exc, final) from exc
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
