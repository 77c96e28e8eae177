"""Provenance: what a run directory's ``manifest.json`` records so that its results can be reproduced.

The scenario's canonical dump and hash (equal scenarios give equal hashes), the seed and replications, the
versions of Python and the main packages, the git commit and dirty flag, the command line and the times, all
gathered by :func:`manifest`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.config import Scenario

__all__ = ["git_state", "manifest", "package_versions", "scenario_dict", "scenario_hash"]


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """Canonical JSON-ready dump of a scenario (durations as unit strings); it re-validates to an equal model."""
    return scenario.model_dump(mode="json")


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's canonical JSON (keys sorted): equal scenarios give equal hashes."""
    canonical = json.dumps(scenario_dict(scenario), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_PACKAGES = ("ccsim", "simpy", "numpy", "pandas", "pyarrow", "pydantic")


def package_versions(packages: Iterable[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` plus ``python`` (``"not installed"`` when missing)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(folder: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git repository holding ``folder`` (this package's by default).

    Returns:
        ``{"sha": ..., "dirty": ...}``, or ``{}`` when git or the repository is unavailable.
    """
    cwd = Path(folder) if folder is not None else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"sha": sha, "dirty": bool(status.strip())}


def manifest(
    *,
    scenario: Scenario,
    seed: int,
    replications: Iterable[int],
    started: dt.datetime,
    finished: dt.datetime | None = None,
    argv: Sequence[str] | None = None,
    status: str = "complete",
    extra: Mapping[str, Any] | None = None,
    versions: Mapping[str, str] | None = None,
    git: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``manifest.json`` of a run directory: everything needed to reproduce its results.

    Args:
        scenario: The scenario run.
        seed: Base seed.
        replications: Indices of the replications whose results the directory holds.
        started: Start time (timezone-aware preferred).
        finished: End time, ``None`` while running.
        argv: Command line; defaults to ``sys.argv``.
        status: ``"running"`` while replications are being added, ``"complete"`` at the end.
        extra: More fields to record.
        versions: Package versions, when already gathered (default :func:`package_versions`).
        git: Git state, when already gathered (default :func:`git_state`).

    Returns:
        A JSON-ready dict.
    """
    done = sorted(int(r) for r in replications)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": int(seed),
        "replications": done,
        "n_replications": len(done),
        "status": status,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds") if finished is not None else None,
        "command": list(sys.argv if argv is None else argv),
        "versions": dict(package_versions() if versions is None else versions),
        "git": dict(git_state() if git is None else git),
    }
    out.update(extra or {})
    return out
