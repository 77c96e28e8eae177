"""An advisory lock on a folder, so that only one process writes into it at a time.

:class:`FolderLock` takes an exclusive ``fcntl.flock`` on a lock file inside the folder (:data:`LOCK_FILE`) and
records its holder there (pid, host, start time, command) so that a refused process can say who holds it. The
kernel drops a ``flock`` when its holder exits, however it exits (``kill -9`` included), so a crashed run never
leaves the folder locked: a stale lock file is simply locked again and its holder overwritten.

The lock file is deleted on release while still locked. A process that opened it just before may then lock the
deleted file; it sees that the file at the path is no longer the one it locked and starts over, so two holders
never coexist. The descriptor is opened close-on-exec, so worker processes never inherit the lock.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["LOCK_FILE", "FolderLock", "LockHeld", "describe_holder"]

LOCK_FILE = ".ccsim.lock"
"""Name of the lock file inside a locked folder."""

_LOCK_FORMAT = "ccsim-lock/1"


class LockHeld(Exception):  # noqa: N818 - it is a state, not a failure of this process
    """Another process holds the folder's lock; ``holder`` is what it recorded (may be empty)."""

    def __init__(self, folder: Path, holder: dict[str, Any]) -> None:
        super().__init__(folder, holder)
        self.folder = folder
        self.holder = holder

    def __str__(self) -> str:
        return f"{self.folder} is locked by {describe_holder(self.holder)}"


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 1234 on host h, started 2026-11-09T10:00:00+00:00`` from a lock file's record (parts may be unknown)."""
    pid = holder.get("pid")
    text = f"pid {pid}" if isinstance(pid, int) else "a process whose pid is not known yet"
    if holder.get("host") and holder.get("host") != socket.gethostname():
        text += f" on host {holder['host']}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    return text


class FolderLock:
    """Exclusive advisory lock on ``folder`` (which must exist), as a context manager.

    Args:
        folder: The folder to lock.
        wait: Block until the lock is free instead of raising :class:`LockHeld`.
        command: Command line recorded for other processes to see (default ``sys.argv``).

    Raises:
        LockHeld: On entry, when another process holds the lock and ``wait`` is false.
        OSError: The lock file cannot be created or written (read-only or full file system...).

    Example:
        >>> with FolderLock(Path("runs/demo")):  # doctest: +SKIP
        ...     ...  # only this process writes in runs/demo
    """

    def __init__(self, folder: str | os.PathLike[str], *, wait: bool = False, command: Sequence[str] | None = None):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.wait = wait
        self.command = list(sys.argv if command is None else command)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (see the class docstring)."""
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                    raise LockHeld(self.folder, _read_holder(fd)) from None
                if _same_file(fd, self.path):
                    try:
                        self._record(fd)
                    except BaseException:
                        self.path.unlink(missing_ok=True)  # we hold the lock: as in release()
                        raise
                    self._fd = fd
                    return
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the holder deleted the file as we locked it: lock the one now at the path

    def _record(self, fd: int) -> None:
        holder = {
            "format": _LOCK_FORMAT,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": self.command,
        }
        data = (json.dumps(holder, ensure_ascii=False) + "\n").encode("utf-8")
        os.ftruncate(fd, 0)
        if os.pwrite(fd, data, 0) != len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        os.fsync(fd)

    def release(self) -> None:
        """Delete the lock file and drop the lock (a no-op when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            self.path.unlink(missing_ok=True)  # while still locked: see the module docstring
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        at_path = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}  # the holder has not written its record yet
    return holder if isinstance(holder, dict) else {}
