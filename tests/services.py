"""Real services for tests, started on loopback: a PostgreSQL server in a temporary folder.

The server comes from Debian's ``postgresql`` package (``.ci/run`` installs it). PostgreSQL refuses to run as root,
so when the tests run as root the server runs as the ``postgres`` user the package creates. Tests that need it
skip with the reason when the package is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["postgres_bin", "postgres_server"]


def postgres_bin() -> Path | None:
    """Folder of ``initdb`` and ``pg_ctl`` (Debian keeps them under /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server(database: str = "ccsim") -> Iterator[str]:
    """Start a throw-away PostgreSQL server on 127.0.0.1; yield a SQLAlchemy URL of a fresh database.

    The cluster, its socket and its log live in a new folder under the system's temporary folder (pytest's own
    are private to root, and the server may run as ``postgres``), removed afterwards.

    Args:
        database: Name of the database created for the caller.
    """
    folder = Path(tempfile.mkdtemp(prefix="ccsim-pg-"))
    try:
        yield from _serve(folder, database)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(folder: Path, database: str) -> Iterator[str]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
    as_user: list[str] = []
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        user = "postgres"
        as_user = ["runuser", "-u", user, "--"]
        os.chmod(folder, 0o777)
    data, log = folder / "data", folder / "server.log"
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    try:
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                [*as_user, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"createdb failed: {probe.stderr}\n{log.read_text() if log.exists() else ''}")
            time.sleep(0.3)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
