"""Run directories: the layout on disk, who may write there, resuming, and the files written at the end.

Run directory (``out_dir``)::

    manifest.json                     ccsim's marker ("format": "ccsim-run/1"), scenario name + hash, seed,
                                      replications, status, versions, git sha, times, command
    scenario.json                     the scenario exactly as run (canonical dump; loads with load_scenario)
    replications/rep-0007/            one folder per replication, written as soon as it finishes:
        intervals.parquet staffing.parquet agents.parquet frt_hist.parquet [contacts.parquet]
        metrics.parquet               written last: its presence marks the replication complete
    metrics.parquet                   long table over the replications listed in the manifest's "aggregated"
    summary.csv                       mean, std, 95% CI per metric x scope
    intervals.parquet staffing.parquet agents.parquet frt_hist.parquet [contacts.parquet]   all replications
    .ccsim.lock                       only while a run writes here (see below)

Re-running into the same directory with the same scenario hash and seed runs only the missing replications
(raising ``n_replications`` adds more; a smaller one drops none: every complete replication is summarized); a
different scenario or seed is refused, never mixed. That check reads
the folder only, and comes before any work (the replay log, the replications).

Which folders ccsim writes into (:func:`check_run_dir`, :func:`open_run_dir`):

- A folder is a ccsim run only if its ``manifest.json`` carries ccsim's marker (``"format": "ccsim-run/1"``). A
  ``manifest.json`` without it belongs to someone else and is never overwritten; any other non-empty folder is
  refused too (an empty folder, or one holding only a killed run's lock file, is used).
- The path must be creatable: an ancestor that is a file, a dangling symbolic link, a read-only, immutable or full
  file system give a one-line :class:`RunDirError` or :class:`~experiments.files.OutputError` naming the path, and
  leave nothing behind (folders and files created for the run are removed again).
- One run at a time: :class:`~experiments.lock.FolderLock` (an ``flock`` on ``.ccsim.lock``, dropped by the kernel
  however the holder exits) makes a second run refuse with :class:`RunDirBusyError` naming the holder's pid and
  start time, or wait for it. The checks above are repeated under the lock, and temp files of a killed writer
  (``.<name>.<random>.tmp``) are deleted then.
- A scenario name used as the default folder (:func:`default_out_dir`) stays inside ``runs/``.

Consistency rule: what a reader may trust at any instant, even while a run is adding replications.
``manifest.json`` is only ever replaced atomically, and:

1. Every replication in ``replications`` has a complete folder: a folder is written (``metrics.parquet`` last)
   before the manifest lists it. Folders the manifest does not list are ignored: being written, or beyond the
   last ``-r``.
2. The top-level result files (``metrics.parquet``, ``summary.csv``, ``interval_table.csv`` and the frames) were
   computed from exactly the replications in ``aggregated``. Before they are rewritten the manifest says
   ``"aggregated": null``: while it does, they may disagree with each other and must not be read (read the
   listed replication folders instead). Afterwards it says ``"status": "complete"`` with ``aggregated`` equal to
   ``replications``.
3. ``revision`` grows with every manifest written. A reader that must not block a writer reads the manifest, then
   the top-level files, then the manifest again, and retries if ``revision`` changed.

``status`` is ``"running"`` from the start of a run until its top-level files are complete; a run that stopped
(crash, Ctrl-C, full disk) stays ``"running"`` with its finished replications listed, and resumes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import (
    as_output_error,
    is_temp_file,
    read_json,
    remove_stale_temps,
    write_csv,
    write_json,
    write_parquet,
)
from experiments.lock import LOCK_FILE, FolderLock, LockHeld, describe_holder
from experiments.provenance import git_state, manifest, package_versions, scenario_dict
from experiments.results import interval_summary
from experiments.terminal import printable
from sim.config import Scenario
from sim.result import RunResult

__all__ = [
    "MANIFEST_JSON",
    "METRICS_PARQUET",
    "RUN_FORMAT",
    "SCENARIO_JSON",
    "OpenRunDir",
    "RunDirBusyError",
    "RunDirError",
    "RunRecord",
    "check_run_dir",
    "collect_from_disk",
    "current_names",
    "default_out_dir",
    "done_replications",
    "open_run_dir",
    "rep_name",
    "replication_dir",
    "save_results",
    "write_replication",
]

MANIFEST_JSON, SCENARIO_JSON, METRICS_PARQUET = "manifest.json", "scenario.json", "metrics.parquet"
"""File names at the top of a run directory (``metrics.parquet`` also in each replication's folder)."""

RUN_FORMAT = "ccsim-run/1"
"""ccsim's marker: the ``format`` field of a run directory's ``manifest.json``."""

_NAME_MAX_BYTES = 255
"""Longest file name most file systems accept (ext4, xfs, btrfs, APFS, NTFS in UTF-16 units)."""


class RunDirError(ValueError):
    """The output directory cannot be used: it holds something this run must not overwrite or mix with."""


class RunDirBusyError(RunDirError):
    """Another ccsim run is writing into the output directory (it holds the directory's lock)."""


def _show(path: object) -> str:
    return printable(path)


def default_out_dir(name: str, root: str | os.PathLike[str] = "runs") -> Path:
    r"""The folder ``runs/<name>`` for a scenario name, always directly inside ``root``.

    Path separators (``/``, ``\``) and control or format characters become ``_``; leading dots and surrounding
    blanks are dropped (``..`` or ``.hidden`` never name a parent or a hidden folder). So ``Black Friday / peak``
    runs in ``runs/Black Friday _ peak``, ``../../etc`` in ``runs/_.._etc``.

    Raises:
        RunDirError: Nothing usable is left of the name, or it is too long for a folder name.
    """
    safe = "".join(
        "_"
        if char in "/\\" or unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp")
        else char
        for char in name
    )
    safe = safe.strip().lstrip(".").strip()
    root = Path(root)
    if not safe:
        raise RunDirError(
            f"scenario name {printable(repr(name))} cannot name a folder under {_show(root)}/; pass --out"
        )
    if len(safe.encode("utf-8")) > _NAME_MAX_BYTES:
        raise RunDirError(
            f"scenario name {printable(repr(name[:40]))}... is too long for a folder name "
            f"({len(safe.encode('utf-8'))} bytes, at most {_NAME_MAX_BYTES}); pass --out"
        )
    out = root / safe
    assert out.parent == root, out  # one plain component: it cannot leave root
    return out


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


def _check_path(out_dir: Path) -> None:
    """Refuse a path that cannot become a folder: a file on the way, a dangling link (reads only)."""
    for path in (out_dir, *out_dir.parents):
        if path.is_symlink() and not path.exists():
            raise RunDirError(
                f"cannot use {_show(out_dir)}: {_show(path)} is a symbolic link to {_show(os.readlink(path))}, "
                "which does not exist; create its target or choose another --out"
            )
        if not path.exists():
            continue
        if path.is_dir():
            return
        if path == out_dir:
            raise RunDirError(f"{_show(out_dir)} exists and is not a folder; choose another --out")
        raise RunDirError(
            f"cannot create {_show(out_dir)}: {_show(path)} is a file, not a folder; choose another --out"
        )


def _is_leftover(name: str) -> bool:
    """A killed run's lock file or manifest temp file: all a folder holds when a run died before its manifest."""
    return name == LOCK_FILE or (is_temp_file(name) and name.startswith(f".{MANIFEST_JSON}."))


def check_run_dir(out_dir: Path, scenario_sha: str, seed: int) -> dict[str, Any] | None:
    """Refuse a folder this run must not write into (see the module docstring); reads only, never writes.

    Returns:
        The folder's manifest when it holds results of this scenario and seed (to resume), else ``None`` (the
        folder is missing, empty, or a ccsim run without any finished replication).

    Raises:
        RunDirError: The path cannot be a folder, the folder is not ccsim's, or it holds another scenario's or
            seed's results.
    """
    _check_path(out_dir)
    if not out_dir.exists():
        return None
    path = out_dir / MANIFEST_JSON
    try:
        if not path.exists():
            if any(not _is_leftover(p.name) for p in out_dir.iterdir()):
                raise RunDirError(
                    f"{_show(out_dir)} is not empty and is not a ccsim run directory (no {MANIFEST_JSON}); "
                    "choose another --out"
                )
            return None
        previous = read_json(path)
    except ValueError as exc:
        if isinstance(exc, RunDirError):
            raise
        raise RunDirError(f"{_show(path)} is unreadable ({exc}); choose another --out") from None
    except OSError as exc:
        raise RunDirError(f"cannot read {_show(out_dir)}: {os.strerror(exc.errno or 0).lower()}") from None
    if not isinstance(previous, dict) or previous.get("format") != RUN_FORMAT:
        found = previous.get("format") if isinstance(previous, dict) else None
        why = f'format {printable(repr(found))}, not "{RUN_FORMAT}"' if found else "without ccsim's marker"
        raise RunDirError(
            f"{_show(out_dir)} is not a ccsim run directory: its {MANIFEST_JSON} was not written by this ccsim "
            f"({why}) and is never overwritten; choose another --out"
        )
    if not done_replications(out_dir, log=False):
        return None  # no results yet (e.g. the first replication failed): nothing to mix, start afresh
    if previous.get("scenario_hash") != scenario_sha:
        raise RunDirError(
            f"{_show(out_dir)} holds results of a different scenario ({printable(repr(previous.get('scenario')))}, "
            f"hash {str(previous.get('scenario_hash'))[:12]}; this one is {scenario_sha[:12]}); results are never "
            "mixed: choose another --out, or delete the folder to start over"
        )
    if previous.get("seed") != seed:
        raise RunDirError(
            f"{_show(out_dir)} holds results for seed {previous.get('seed')}, not {seed}; results are never mixed: "
            "choose another --out, or use the same --seed to resume"
        )
    return previous


def _read_frames(out_dir: Path, replications: Sequence[int], names: Iterable[str]) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in names:
        paths = [replication_dir(out_dir, r) / f"{name}.parquet" for r in replications]
        if paths and not all(p.exists() for p in paths):
            continue  # a frame the engine did not produce (e.g. written by an older version or a stub)
        parts = [current_names(pd.read_parquet(p)) for p in paths]
        frames[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return frames


def current_names(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from a run folder with SL names as they are now (``sl_300s`` -> ``sl_5min``).

    Folders written before issue 11 labelled SL thresholds in seconds (:func:`sim.metrics.legacy_renames`), in the
    ``metric`` column of ``metrics.parquet`` and in the threshold columns of ``intervals.parquet``; resuming such a
    folder must not summarize one SL under two names.
    """
    from sim.metrics import legacy_renames

    columns = legacy_renames(frame.columns)
    if columns:
        frame = frame.rename(columns=columns)
    if "metric" in frame.columns:
        metrics = legacy_renames(frame["metric"].unique())
        if metrics:
            frame = frame.assign(metric=frame["metric"].replace(metrics))
    return frame


@dataclasses.dataclass
class RunRecord:
    """What the manifest of this invocation records besides the replications."""

    scenario: Scenario
    seed: int
    started: dt.datetime
    argv: Sequence[str] | None
    extra: dict[str, Any]
    revision: int = 0
    """Number of the last manifest written (see the consistency rule in the module docstring)."""
    versions: dict[str, str] = dataclasses.field(default_factory=package_versions)
    git: dict[str, Any] = dataclasses.field(default_factory=git_state)

    def manifest(
        self,
        replications: Iterable[int],
        status: str,
        *,
        aggregated: Iterable[int] | None,
        finished: dt.datetime | None = None,
    ) -> dict:
        """The next manifest (``revision`` + 1) with these replications, status and aggregated replications."""
        self.revision += 1
        out = manifest(
            scenario=self.scenario,
            seed=self.seed,
            replications=replications,
            started=self.started,
            finished=finished,
            argv=self.argv,
            status=status,
            extra=self.extra,
            versions=self.versions,
            git=self.git,
        )
        out["format"] = RUN_FORMAT
        out["revision"] = self.revision
        out["aggregated"] = None if aggregated is None else sorted(int(r) for r in aggregated)
        return out


class OpenRunDir:
    """A locked run directory while a run writes into it (from :func:`open_run_dir`).

    The run calls :meth:`start`, then :meth:`add` as each replication's folder is complete, then :meth:`finish`;
    each writes the manifest so that the folder obeys the consistency rule (module docstring) at every instant.

    Attributes:
        path: The run directory.
        previous: Its manifest when it held results of this scenario and seed, else ``None``.
    """

    def __init__(self, path: Path, previous: dict[str, Any] | None) -> None:
        self.path = path
        self.previous = previous
        self._record: RunRecord | None = None
        self._listed: set[int] = set()
        self._aggregated: list[int] | None = None

    def _write_manifest(self, status: str, finished: dt.datetime | None = None) -> None:
        assert self._record is not None, "start() first"
        doc = self._record.manifest(sorted(self._listed), status, aggregated=self._aggregated, finished=finished)
        write_json(self.path / MANIFEST_JSON, doc)

    def start(self, record: RunRecord, scenario: Scenario, listed: Iterable[int]) -> None:
        """Write the manifest (status "running", the complete replications ``listed``), then ``scenario.json``.

        The top-level files stay trusted only if the previous manifest trusted them. If either write fails, the
        files this call created are removed again.
        """
        before = _read_marked_manifest(self.path) or {}
        self._record = record
        record.revision = int(before.get("revision", 0))
        self._listed = set(listed)
        # Top-level files only ever describe results of this scenario and seed, i.e. when resuming.
        aggregated = before.get("aggregated") if self.previous is not None else None
        self._aggregated = list(aggregated) if isinstance(aggregated, list) else None
        created = [p for p in (self.path / MANIFEST_JSON, self.path / SCENARIO_JSON) if not p.exists()]
        try:
            self._write_manifest("running")
            write_json(self.path / SCENARIO_JSON, scenario_dict(scenario))
        except BaseException:
            for path in created:
                path.unlink(missing_ok=True)
            raise

    def add(self, replication: int) -> None:
        """List a replication whose folder is complete (written by :func:`write_replication`)."""
        self._listed.add(int(replication))
        self._write_manifest("running")

    def finish(
        self,
        replications: Sequence[int],
        metrics: pd.DataFrame,
        summary: pd.DataFrame,
        frames: dict[str, pd.DataFrame],
    ) -> None:
        """Rewrite the top-level files from ``replications`` (see :func:`save_results`), then mark the run complete."""
        self._aggregated = None
        self._write_manifest("running")  # from here until "complete" the top-level files are not to be read
        assert self._record is not None
        save_results(self.path, self._record.scenario, metrics, summary, frames)
        self._listed, self._aggregated = set(replications), list(replications)
        self._write_manifest("complete", finished=dt.datetime.now(dt.UTC))


def _read_marked_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The folder's manifest if it is ccsim's (marked), else ``None``."""
    try:
        doc = read_json(out_dir / MANIFEST_JSON)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == RUN_FORMAT else None


def _make_dirs(path: Path) -> list[Path]:
    """Create ``path`` and its missing parents; return the folders created, deepest first."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in list(reversed(missing)):
        try:
            folder.mkdir()
        except FileExistsError:
            missing.remove(folder)  # made meanwhile by someone else: not ours to remove
        except OSError as exc:
            _remove_empty([p for p in missing if p.exists()])
            raise as_output_error(exc, folder) from exc
    return missing


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty: never takes anything but what we made


@contextlib.contextmanager
def open_run_dir(
    out_dir: Path, scenario_sha: str, seed: int, *, wait: bool = False, command: Sequence[str] | None = None
) -> Iterator[OpenRunDir]:
    """Create (if needed) and lock a run directory, check it again under the lock, and delete stale temp files.

    On leaving, the lock is released; folders created here are removed again if the run left them empty (it
    failed before writing anything, e.g. on a full disk).

    Args:
        out_dir: The run directory.
        scenario_sha: Hash of the scenario to run (see :func:`check_run_dir`).
        seed: Base seed of the run.
        wait: Wait for another run holding the lock instead of refusing.
        command: Command line shown to a run that finds the folder locked.

    Raises:
        RunDirBusyError: Another run holds the lock (and ``wait`` is false).
        RunDirError: See :func:`check_run_dir`.
        OutputError: The folder or its lock file cannot be created (read-only or full file system...).
    """
    check_run_dir(out_dir, scenario_sha, seed)  # the path checks, before anything is created
    created = _make_dirs(out_dir)
    try:
        lock = FolderLock(out_dir, wait=wait, command=command)
        try:
            lock.acquire()
        except LockHeld as held:
            raise RunDirBusyError(
                f"{_show(out_dir)} is in use by another ccsim run ({printable(describe_holder(held.holder))}); "
                "wait for it to finish (or pass --wait), or choose another --out"
            ) from None
        except OSError as exc:
            raise as_output_error(exc, out_dir / LOCK_FILE) from exc
        try:
            previous = check_run_dir(out_dir, scenario_sha, seed)  # again: another run may have written meanwhile
            if previous is not None or _read_marked_manifest(out_dir) is not None:
                for folder in (out_dir, *sorted((out_dir / "replications").glob("rep-*"))):
                    remove_stale_temps(folder)
            else:
                for path in out_dir.iterdir():
                    if _is_leftover(path.name) and path.name != LOCK_FILE:
                        path.unlink(missing_ok=True)
            yield OpenRunDir(out_dir, previous)
        finally:
            lock.release()
    finally:
        _remove_empty(created)


def collect_from_disk(
    out_dir: Path, reps: Sequence[int], names: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Long metrics and concatenated frames read back from the replication folders, in replication order."""
    metrics = pd.concat(
        [current_names(pd.read_parquet(replication_dir(out_dir, r) / METRICS_PARQUET)) for r in reps],
        ignore_index=True,
    )
    return metrics, _read_frames(out_dir, reps, names)


def save_results(
    out_dir: Path, scenario: Scenario, metrics: pd.DataFrame, summary: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> None:
    """Write the results over all replications at the top of the run directory (see the module docstring).

    Call it only while the manifest says ``"aggregated": null`` (:meth:`OpenRunDir.finish` does): each file is
    replaced atomically, but not all of them at once. A top-level frame not produced this time (``contacts``
    without ``--log``) is deleted rather than left covering other replications.
    """
    write_parquet(out_dir / METRICS_PARQUET, metrics)
    write_csv(out_dir / "summary.csv", summary)
    for name in RunResult.FRAMES:
        if name in frames:
            write_parquet(out_dir / f"{name}.parquet", frames[name])
        else:
            (out_dir / f"{name}.parquet").unlink(missing_ok=True)
    from sim.metrics import interval_columns

    intervals = frames.get("intervals")
    # Engines stubbed in tests may write partial frames; the table needs the full intervals schema.
    if intervals is not None and set(interval_columns(scenario.sl_thresholds_s())) <= set(intervals.columns):
        write_csv(out_dir / "interval_table.csv", interval_summary(intervals, scenario))
    else:
        (out_dir / "interval_table.csv").unlink(missing_ok=True)
