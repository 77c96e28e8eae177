"""Run directories: the layout on disk, refusing to mix experiments, resuming, and the files written at the end.

Run directory (``out_dir``)::

    manifest.json                     scenario name + hash, seed, replications, versions, git sha, times, command
    scenario.json                     the scenario exactly as run (canonical dump; loads with load_scenario)
    replications/rep-0007/            one folder per replication, written as soon as it finishes:
        intervals.parquet staffing.parquet agents.parquet frt_hist.parquet [contacts.parquet]
        metrics.parquet               written last: its presence marks the replication complete
    metrics.parquet                   long table over replications 0..n-1
    summary.csv                       mean, std, 95% CI per metric x scope
    intervals.parquet staffing.parquet agents.parquet frt_hist.parquet [contacts.parquet]   all replications

Re-running into the same directory with the same scenario hash and seed runs only the missing replications
(raising ``n_replications`` adds more); a different scenario or seed is refused, never mixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import read_json, write_csv, write_parquet
from experiments.provenance import manifest
from experiments.results import interval_summary
from sim.config import Scenario
from sim.result import RunResult

__all__ = [
    "MANIFEST_JSON",
    "METRICS_PARQUET",
    "SCENARIO_JSON",
    "RunDirError",
    "RunRecord",
    "check_run_dir",
    "collect_from_disk",
    "done_replications",
    "rep_name",
    "replication_dir",
    "save_results",
    "write_replication",
]

MANIFEST_JSON, SCENARIO_JSON, METRICS_PARQUET = "manifest.json", "scenario.json", "metrics.parquet"
"""File names at the top of a run directory (``metrics.parquet`` also in each replication's folder)."""


class RunDirError(ValueError):
    """The output directory holds something this run must not overwrite or mix with."""


def rep_name(replication: int) -> str:
    """Name of a replication's folder: ``rep-0007``."""
    return f"rep-{replication:04d}"


def replication_dir(out_dir: str | os.PathLike[str], replication: int) -> Path:
    """Folder of one replication in a run directory: ``out_dir/replications/rep-0007``."""
    return Path(out_dir) / "replications" / rep_name(replication)


def write_replication(folder: Path, result: RunResult, metrics: pd.DataFrame) -> None:
    """Write a replication's frames, then its metrics (the completion marker), each atomically."""
    for name in RunResult.FRAMES:
        frame = getattr(result, name)
        if frame is not None:
            write_parquet(folder / f"{name}.parquet", frame)
    write_parquet(folder / METRICS_PARQUET, metrics)


def done_replications(out_dir: Path, log: bool) -> set[int]:
    """Replications with a complete folder (metrics written; contacts too when ``log``)."""
    done = set()
    for folder in (out_dir / "replications").glob("rep-*"):
        suffix = folder.name.removeprefix("rep-")
        if not suffix.isdigit() or not (folder / METRICS_PARQUET).is_file():
            continue
        if log and not (folder / "contacts.parquet").is_file():
            continue  # asked for the contact log now; re-run (identically) to add it
        done.add(int(suffix))
    return done


def check_run_dir(out_dir: Path, scenario_sha: str, seed: int) -> dict[str, Any] | None:
    """Refuse a directory that holds another experiment's results; return its manifest if it is ours."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"{out_dir} exists and is not a folder; choose another --out")
    if not out_dir.exists():
        return None
    path = out_dir / MANIFEST_JSON
    if not path.is_file():
        if any(out_dir.iterdir()):
            raise RunDirError(
                f"{out_dir} is not empty and is not a ccsim run directory (no {MANIFEST_JSON}); choose another --out"
            )
        return None
    try:
        previous = read_json(path)
    except ValueError as exc:
        raise RunDirError(f"{path} is unreadable ({exc}); choose another --out") from None
    if not done_replications(out_dir, log=False):
        return None  # no results yet (e.g. the first replication failed): nothing to mix, start afresh
    if previous.get("scenario_hash") != scenario_sha:
        raise RunDirError(
            f"{out_dir} holds results of a different scenario ({previous.get('scenario')!r}, hash "
            f"{str(previous.get('scenario_hash'))[:12]}; this one is {scenario_sha[:12]}); results are never "
            "mixed: choose another --out, or delete the folder to start over"
        )
    if previous.get("seed") != seed:
        raise RunDirError(
            f"{out_dir} holds results for seed {previous.get('seed')}, not {seed}; results are never mixed: "
            "choose another --out, or use the same --seed to resume"
        )
    return previous


def _read_frames(out_dir: Path, replications: Sequence[int], names: Iterable[str]) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in names:
        paths = [replication_dir(out_dir, r) / f"{name}.parquet" for r in replications]
        if paths and not all(p.exists() for p in paths):
            continue  # a frame the engine did not produce (e.g. written by an older version or a stub)
        parts = [pd.read_parquet(p) for p in paths]
        frames[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return frames


@dataclasses.dataclass
class RunRecord:
    """What the manifest of this invocation records besides the replications."""

    scenario: Scenario
    seed: int
    started: dt.datetime
    argv: Sequence[str] | None
    extra: dict[str, Any]

    def manifest(self, replications: Iterable[int], status: str, finished: dt.datetime | None = None) -> dict:
        """The manifest with these replications and status (see :func:`experiments.provenance.manifest`)."""
        return manifest(
            scenario=self.scenario,
            seed=self.seed,
            replications=replications,
            started=self.started,
            finished=finished,
            argv=self.argv,
            status=status,
            extra=self.extra,
        )


def collect_from_disk(
    out_dir: Path, reps: Sequence[int], names: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Long metrics and concatenated frames read back from the replication folders, in replication order."""
    metrics = pd.concat(
        [pd.read_parquet(replication_dir(out_dir, r) / METRICS_PARQUET) for r in reps], ignore_index=True
    )
    return metrics, _read_frames(out_dir, reps, names)


def save_results(
    out_dir: Path, scenario: Scenario, metrics: pd.DataFrame, summary: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> None:
    """Write the results over all replications at the top of the run directory (see the module docstring)."""
    write_parquet(out_dir / METRICS_PARQUET, metrics)
    write_csv(out_dir / "summary.csv", summary)
    for name, frame in frames.items():
        write_parquet(out_dir / f"{name}.parquet", frame)
    from sim.metrics import interval_columns

    intervals = frames.get("intervals")
    # Engines stubbed in tests may write partial frames; the table needs the full intervals schema.
    if intervals is not None and set(interval_columns(scenario.sl_thresholds_s())) <= set(intervals.columns):
        write_csv(out_dir / "interval_table.csv", interval_summary(intervals, scenario))
