"""Independent replications, in parallel, into a resumable run directory.

Every replication is a pure function of ``(scenario, seed, replication)`` (the engine draws from
``Streams(seed, replication)``), so results never depend on the worker count or on the order in which
replications finish.

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

import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.replay import load_replay_log, scenario_replay
from experiments.scenario_files import (
    load_scenario,
    manifest,
    read_json,
    scenario_dict,
    scenario_hash,
    write_csv,
    write_json,
    write_parquet,
)
from sim.arrivals import ReplayLog
from sim.config import Scenario
from sim.result import RunResult

__all__ = [
    "LONG_COLUMNS",
    "ExperimentResult",
    "RunDirError",
    "replication_dir",
    "run_experiment",
    "run_replications",
    "tag_metrics",
    "target_status",
    "target_table",
]

Simulate = Callable[..., RunResult]
"""``simulate(scenario, *, seed, replication, log, replay) -> RunResult`` (default :func:`simulate_scenario`).

``replay`` is the replayed scenario's checked log (read once per run), or ``None``."""
Measure = Callable[[RunResult, Scenario], pd.DataFrame]
"""``measure(result, scenario) -> DataFrame[metric, scope, value]`` (default
:func:`experiments.measure.replication_metrics`)."""
Summarize = Callable[[pd.DataFrame], pd.DataFrame]
"""``summarize(long) -> DataFrame[metric, scope, mean, std, ci_half, ci_low, ci_high, n]``."""

LONG_COLUMNS: tuple[str, ...] = ("scenario", "variant", "replication", "seed", "metric", "scope", "value")
"""Columns of the long metrics table, one row per replication x metric x scope."""

TARGET_METRIC = "target_attainment"
"""Metric holding ``P(FRT <= threshold | filter)`` for the scope ``target=<name>``."""

_MANIFEST, _SCENARIO, _METRICS = "manifest.json", "scenario.json", "metrics.parquet"


class RunDirError(ValueError):
    """The output directory holds something this run must not overwrite or mix with."""


# ------------------------------------------------------------------------------------------------- backends


def simulate_scenario(
    scenario: Scenario,
    *,
    seed: int,
    replication: int = 0,
    log: bool = False,
    replay: ReplayLog | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> RunResult:
    """One replication with the policies the scenario names, built from :mod:`policies.registry`.

    Args:
        scenario: A validated scenario.
        seed: Base seed.
        replication: Replication index.
        log: Keep the per-contact log.
        replay: A replayed scenario's checked log; when ``None`` it is read here
            (:func:`experiments.replay.load_replay_log`); pass it to read it once for many replications.
        base_dir: Folder for a relative replay path (the scenario file's folder).
    """
    from policies.registry import SLOTS, make
    from sim.engine import run

    if replay is None and scenario.arrivals.kind == "replay":
        replay = load_replay_log(scenario, base_dir)
    policies = {slot: make(slot, getattr(scenario.policies, slot)) for slot in SLOTS}
    return run(scenario, seed=seed, replication=replication, log=log, replay=replay, **policies)


def _default_simulate() -> Simulate:
    return simulate_scenario


def _default_measure() -> Measure:
    from experiments.measure import replication_metrics

    return replication_metrics


def _default_summarize() -> Summarize:
    from experiments.stats import summarize

    return summarize


# ---------------------------------------------------------------------------------------- one replication


@dataclasses.dataclass(frozen=True)
class _Job:
    """Everything a worker needs besides the replication index (pickled to worker processes)."""

    scenario: Scenario
    seed: int
    log: bool
    replay: ReplayLog | None
    simulate: Simulate
    measure: Measure | None = None
    rep_root: Path | None = None
    variant: str = "base"


def _execute(job: _Job, replication: int) -> tuple[RunResult | None, pd.DataFrame | None]:
    """Simulate one replication; measure it and write its folder when the job asks for it.

    Returns:
        ``(result, metrics)``; ``result`` is ``None`` once written to disk (the parent reads it back from there,
        which keeps large frames out of inter-process pickling).
    """
    try:
        result = job.simulate(job.scenario, seed=job.seed, replication=replication, log=job.log, replay=job.replay)
        if job.measure is None:
            return result, None
        metrics = tag_metrics(
            job.measure(result, job.scenario),
            scenario=job.scenario.name,
            variant=job.variant,
            replication=replication,
            seed=job.seed,
        )
    except Exception as exc:
        exc.add_note(f"in replication {replication} of scenario {job.scenario.name!r} (seed {job.seed})")
        raise
    if job.rep_root is None:
        return result, metrics
    _write_replication(job.rep_root / _rep_name(replication), result, metrics)
    return None, metrics


def tag_metrics(metrics: pd.DataFrame, *, scenario: str, variant: str, replication: int, seed: int) -> pd.DataFrame:
    """Add the identifying columns to one replication's ``[metric, scope, value]`` frame (see :data:`LONG_COLUMNS`)."""
    missing = {"metric", "scope", "value"} - set(metrics.columns)
    if missing:
        raise ValueError(f"metrics frame lacks columns {sorted(missing)}; got {list(metrics.columns)}")
    out = metrics[["metric", "scope", "value"]].copy()
    out.insert(0, "seed", int(seed))
    out.insert(0, "replication", int(replication))
    out.insert(0, "variant", variant)
    out.insert(0, "scenario", scenario)
    out["value"] = out["value"].astype(float)
    return out.reset_index(drop=True)


def _rep_name(replication: int) -> str:
    return f"rep-{replication:04d}"


def replication_dir(out_dir: str | os.PathLike[str], replication: int) -> Path:
    """Folder of one replication in a run directory: ``out_dir/replications/rep-0007``."""
    return Path(out_dir) / "replications" / _rep_name(replication)


def _write_replication(folder: Path, result: RunResult, metrics: pd.DataFrame) -> None:
    """Write a replication's frames, then its metrics (the completion marker), each atomically."""
    for name in RunResult.FRAMES:
        frame = getattr(result, name)
        if frame is not None:
            write_parquet(folder / f"{name}.parquet", frame)
    write_parquet(folder / _METRICS, metrics)


# -------------------------------------------------------------------------------------- parallel execution


def _n_workers(workers: int | None, n_tasks: int) -> int:
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return max(1, min(workers, n_tasks))


def _mp_context() -> multiprocessing.context.BaseContext:
    # Not "fork": the parent runs threads (progress bar, Arrow's thread pool), and forking a threaded process can
    # deadlock. Hence scripts need the usual `if __name__ == "__main__":` guard, and `simulate` must be importable.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported the heavy modules (numpy, pandas, pydantic, simpy);
    # modules of the list that are missing are skipped.
    context.set_forkserver_preload(["experiments.runner", "experiments.measure", "sim.engine"])
    return context


def _completed(
    job: _Job, replications: Sequence[int], workers: int | None
) -> Iterator[tuple[int, tuple[RunResult | None, pd.DataFrame | None]]]:
    """Run ``job`` for each replication; yield ``(replication, output)`` as each finishes (any order)."""
    n_workers = _n_workers(workers, len(replications))
    if n_workers == 1:
        for rep in replications:
            yield rep, _execute(job, rep)
        return
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=_mp_context()) as pool:
        futures = {pool.submit(_execute, job, rep): rep for rep in replications}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            # Running replications finish (and write their folders); queued ones are dropped.
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _as_list(replications: int | Iterable[int]) -> list[int]:
    reps = list(range(replications)) if isinstance(replications, int) else [int(r) for r in replications]
    if any(r < 0 for r in reps):
        raise ValueError(f"replication indices must be >= 0, got {reps}")
    if len(set(reps)) != len(reps):
        raise ValueError(f"replication indices must be distinct, got {reps}")
    return reps


def run_replications(
    scenario: Scenario,
    *,
    seed: int,
    replications: int | Iterable[int],
    workers: int | None = None,
    log: bool = False,
    base_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], object] | None = None,
    simulate: Simulate | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Simulate replications, in worker processes when ``workers > 1``.

    Args:
        scenario: A validated scenario.
        seed: Base seed (>= 0).
        replications: A count ``n`` (replications ``0..n-1``) or explicit indices.
        workers: Processes to use; ``None`` = all CPUs available, ``1`` = in this process, no pool.
        log: Keep each replication's per-contact log.
        base_dir: Folder for relative paths in the scenario (a replay log, read once here).
        progress: Called with the replication index after each one finishes.
        simulate: Engine entry point (default :func:`sim.engine.run`); must be picklable for ``workers > 1``.

    Yields:
        ``(replication, RunResult)`` in completion order; each result depends only on (scenario, seed,
        replication).

    Example:
        >>> results = dict(run_replications(scenario, seed=7, replications=4, workers=2))  # doctest: +SKIP
    """
    job = _Job(scenario, int(seed), log, scenario_replay(scenario, base_dir), simulate or _default_simulate())
    for rep, (result, _) in _completed(job, _as_list(replications), workers):
        if progress is not None:
            progress(rep)
        assert result is not None  # no rep_root: results come back in memory
        yield rep, result


# ------------------------------------------------------------------------------------------ run directories


def _done_replications(out_dir: Path, log: bool) -> set[int]:
    """Replications with a complete folder (metrics written; contacts too when ``log``)."""
    done = set()
    for folder in (out_dir / "replications").glob("rep-*"):
        suffix = folder.name.removeprefix("rep-")
        if not suffix.isdigit() or not (folder / _METRICS).is_file():
            continue
        if log and not (folder / "contacts.parquet").is_file():
            continue  # asked for the contact log now; re-run (identically) to add it
        done.add(int(suffix))
    return done


def _check_run_dir(out_dir: Path, scenario_sha: str, seed: int) -> dict[str, Any] | None:
    """Refuse a directory that holds another experiment's results; return its manifest if it is ours."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RunDirError(f"{out_dir} exists and is not a folder; choose another --out")
    if not out_dir.exists():
        return None
    path = out_dir / _MANIFEST
    if not path.is_file():
        if any(out_dir.iterdir()):
            raise RunDirError(
                f"{out_dir} is not empty and is not a ccsim run directory (no {_MANIFEST}); choose another --out"
            )
        return None
    try:
        previous = read_json(path)
    except ValueError as exc:
        raise RunDirError(f"{path} is unreadable ({exc}); choose another --out") from None
    if not _done_replications(out_dir, log=False):
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
class _Record:
    """What the manifest of this invocation records besides the replications."""

    scenario: Scenario
    seed: int
    started: dt.datetime
    argv: Sequence[str] | None
    extra: dict[str, Any]

    def manifest(self, replications: Iterable[int], status: str, finished: dt.datetime | None = None) -> dict:
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


def _collect(
    outputs: dict[int, tuple[RunResult | None, pd.DataFrame | None]], reps: Sequence[int], names: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Long metrics and concatenated frames from in-memory outputs, in replication order."""
    metrics = pd.concat([outputs[r][1] for r in reps], ignore_index=True)
    frames = {
        name: pd.concat([getattr(outputs[r][0], name) for r in reps], ignore_index=True)
        for name in names
        if all(getattr(outputs[r][0], name) is not None for r in reps)
    }
    return metrics, frames


def _collect_from_disk(
    out_dir: Path, reps: Sequence[int], names: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Long metrics and concatenated frames read back from the replication folders, in replication order."""
    metrics = pd.concat([pd.read_parquet(replication_dir(out_dir, r) / _METRICS) for r in reps], ignore_index=True)
    return metrics, _read_frames(out_dir, reps, names)


def _save(
    out_dir: Path, scenario: Scenario, metrics: pd.DataFrame, summary: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> None:
    write_parquet(out_dir / _METRICS, metrics)
    write_csv(out_dir / "summary.csv", summary)
    for name, frame in frames.items():
        write_parquet(out_dir / f"{name}.parquet", frame)
    from sim.metrics import interval_columns

    intervals = frames.get("intervals")
    # Engines stubbed in tests may write partial frames; the table needs the full intervals schema.
    if intervals is not None and set(interval_columns(scenario.sl_thresholds_s())) <= set(intervals.columns):
        write_csv(out_dir / "interval_table.csv", interval_summary(intervals, scenario))


def interval_summary(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per interval x channel KPIs (SL per threshold, ASA, abandonment, queue...), mean over replications.

    Each replication's figures come from :func:`sim.metrics.interval_table` (volume-weighted within the
    interval, priorities and tiers merged); this averages them over replications and adds the interval's
    calendar start (``interval_start``) next to ``interval_start_s``.
    """
    from sim.metrics import interval_table

    per_rep = interval_table(intervals, scenario.sl_thresholds_s(), scenario.reporting.sl_convention)
    keys = ["interval", "interval_start_s", "channel"]
    table = per_rep.drop(columns="replication").groupby(keys, sort=True, observed=True).mean().reset_index()
    start = pd.Timestamp(scenario.start)
    table.insert(2, "interval_start", start + pd.to_timedelta(table["interval_start_s"], unit="s"))
    return table


# ------------------------------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    """Results of :func:`run_experiment`.

    Attributes:
        scenario: The scenario run.
        seed: Base seed.
        replications: Replication indices summarized (``0..n-1``).
        metrics: Long table, columns :data:`LONG_COLUMNS`.
        summary: Per metric x scope: mean, std, ci_half, ci_low, ci_high, n (95% Student-t).
        frames: Concatenated per-replication frames by name (``intervals``, ``staffing``, ``agents``,
            ``frt_hist`` and ``contacts`` when the log was kept).
        out_dir: Run directory, or ``None`` when nothing was written.
        reused: Replications found complete in ``out_dir`` and not re-run.
    """

    scenario: Scenario
    seed: int
    replications: tuple[int, ...]
    metrics: pd.DataFrame
    summary: pd.DataFrame
    frames: dict[str, pd.DataFrame]
    out_dir: Path | None = None
    reused: tuple[int, ...] = ()

    @property
    def intervals(self) -> pd.DataFrame:
        """Per replication x interval x channel x priority x tier counts (see :mod:`sim.schema`)."""
        return self.frames["intervals"]

    @property
    def staffing(self) -> pd.DataFrame:
        """Per replication x interval x group agent levels."""
        return self.frames["staffing"]

    @property
    def agents(self) -> pd.DataFrame:
        """Per replication x agent totals."""
        return self.frames["agents"]

    @property
    def frt_hist(self) -> pd.DataFrame:
        """FRT histograms per replication x channel x priority x tier."""
        return self.frames["frt_hist"]

    @property
    def contacts(self) -> pd.DataFrame | None:
        """Contact log of every replication, or ``None`` when it was not kept."""
        return self.frames.get("contacts")

    def targets(self) -> pd.DataFrame:
        """The scenario's FRT targets with attained mean, CI and status (see :func:`target_table`)."""
        return target_table(self.summary, self.scenario)


def target_status(mean: float, ci_low: float, ci_high: float, level: float) -> str:
    """Classify a target from the 95% CI of its attainment (shares in [0, 1]).

    Returns:
        ``MET`` (whole CI at or above the level), ``NOT MET`` (whole CI below), ``UNCERTAIN`` (the CI straddles
        the level or is unknown, e.g. one replication), or ``NO DATA`` (no contact matched the target).
    """
    eps = 1e-12  # attainment is a ratio; 100% in every replication must count as meeting a 100% target
    if pd.isna(mean):
        return "NO DATA"
    if pd.isna(ci_low) or pd.isna(ci_high):
        return "UNCERTAIN"
    if ci_low >= level - eps:
        return "MET"
    if ci_high < level - eps:
        return "NOT MET"
    return "UNCERTAIN"


def target_table(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per scenario target: filter, threshold_s, level, attained mean and CI (shares), n, status.

    Status is ``MET``, ``NOT MET``, ``UNCERTAIN`` or ``NO DATA`` (see :func:`target_status`), or ``NEEDS --log``
    for a target filtered by intent in a run without the contact log.

    Args:
        summary: Output of ``experiments.stats.summarize``; targets are rows with metric
            ``target_attainment`` and scope ``target=<name>``.
        scenario: The scenario whose targets to report.
    """
    rows = []
    wanted = summary[summary["metric"] == TARGET_METRIC].set_index("scope") if len(summary) else summary
    for target in scenario.targets:
        scope = f"target={target.name}"
        stats = wanted.loc[scope] if scope in getattr(wanted, "index", ()) else None
        values = {k: (float(stats[k]) if stats is not None else float("nan")) for k in ("mean", "ci_low", "ci_high")}
        filters = {k: getattr(target, k) for k in ("channel", "priority", "tier", "intent")}
        rows.append(
            {
                "target": target.name,
                **filters,
                "threshold_s": target.threshold,
                "level": target.level,
                **values,
                "ci_half": float(stats["ci_half"]) if stats is not None else float("nan"),
                "n": int(stats["n"]) if stats is not None else 0,
                "status": _status_of(target, values),
            }
        )
    return pd.DataFrame(rows)


def _status_of(target: Any, values: dict[str, float]) -> str:
    status = target_status(values["mean"], values["ci_low"], values["ci_high"], target.level)
    # Interval counts carry no intent: a target filtered by intent is only measured from the contact log.
    if status == "NO DATA" and target.intent is not None:
        return "NEEDS --log"
    return status


# --------------------------------------------------------------------------------------------- experiment


@contextlib.contextmanager
def _progress_bar(total: int, completed: int, enabled: bool, label: str) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr (hidden when disabled or stderr is not a terminal); yields ``advance()``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not (enabled and console.is_terminal),
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda: bar.advance(task)


def run_experiment(
    scenario: Scenario | str | os.PathLike[str],
    *,
    seed: int = 0,
    n_replications: int = 10,
    out_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    log: bool = False,
    base_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    variant: str = "base",
    argv: Sequence[str] | None = None,
    simulate: Simulate | None = None,
    measure: Measure | None = None,
    summarize: Summarize | None = None,
) -> ExperimentResult:
    """Run replications ``0..n_replications-1`` of a scenario, summarize them and (optionally) save everything.

    Args:
        scenario: A validated scenario, or a path / bundled name passed to
            :func:`experiments.scenario_files.load_scenario`.
        seed: Base seed (>= 0).
        n_replications: Number of replications (>= 1); in an existing run directory only the missing ones run.
        out_dir: Run directory (see the module docstring), or ``None`` to keep results in memory only.
        workers: Processes; ``None`` = all CPUs available, ``1`` = no pool.
        log: Keep the per-contact log (``contacts`` frame / ``contacts.parquet``).
        base_dir: Folder for relative paths in the scenario; defaults to the scenario file's folder when
            ``scenario`` is a path.
        progress: Show a progress bar on stderr (only when it is a terminal).
        variant: Label of the ``variant`` column of the long table.
        argv: Command line recorded in the manifest (default ``sys.argv``).
        simulate: Engine entry point (default :func:`sim.engine.run`).
        measure: Per-replication metrics (default :func:`experiments.measure.replication_metrics`).
        summarize: Summary over replications (default ``experiments.stats.summarize``).

    Returns:
        The long metrics table, its summary and the concatenated frames.

    Raises:
        RunDirError: ``out_dir`` holds another scenario's or seed's results, or unrelated files.
        ValueError: Bad ``seed``, ``n_replications`` or ``workers``.

    Example:
        >>> res = run_experiment("ecommerce_24x7", seed=1, n_replications=4, out_dir="runs/demo")  # doctest: +SKIP
        >>> res.targets()[["target", "mean", "ci_half", "status"]]  # doctest: +SKIP
    """
    if not isinstance(scenario, Scenario):
        scenario, loaded_dir = load_scenario(scenario)
        base_dir = base_dir if base_dir is not None else loaded_dir
    if int(seed) < 0 or int(n_replications) < 1:
        raise ValueError(f"need seed >= 0 and n_replications >= 1, got seed={seed}, n_replications={n_replications}")
    seed, reps = int(seed), list(range(int(n_replications)))
    out = Path(out_dir) if out_dir is not None else None
    started = dt.datetime.now(dt.UTC)
    # Everything that can fail on the arguments fails before the run directory is created or touched.
    replay = scenario_replay(scenario, base_dir)  # read and checked once for every replication
    previous = _check_run_dir(out, scenario_hash(scenario), seed) if out is not None else None
    done = _done_replications(out, log) if out is not None and previous is not None else set()
    todo = [r for r in reps if r not in done]
    _n_workers(workers, max(1, len(todo)))
    job = _Job(
        scenario=scenario,
        seed=seed,
        log=log,
        replay=replay,
        simulate=simulate or _default_simulate(),
        measure=measure or _default_measure(),
        rep_root=out / "replications" if out is not None else None,
        variant=variant,
    )
    summarize = summarize or _default_summarize()
    record = _Record(scenario, seed, started, argv, {"variant": variant, "log": log, "n_requested": len(reps)})
    record.extra["created"] = (previous or {}).get("created", started.isoformat(timespec="seconds"))
    if out is not None:
        write_json(out / _SCENARIO, scenario_dict(scenario))
        write_json(out / _MANIFEST, record.manifest(sorted(_done_replications(out, log=False)), "running"))

    outputs: dict[int, tuple[RunResult | None, pd.DataFrame | None]] = {}
    with _progress_bar(len(reps), len(reps) - len(todo), progress, f"{scenario.name} replications") as advance:
        for rep, output in _completed(job, todo, workers):
            outputs[rep] = output
            advance()

    names = [n for n in RunResult.FRAMES if n != "contacts" or log]
    metrics, frames = _collect_from_disk(out, reps, names) if out is not None else _collect(outputs, reps, names)
    summary = summarize(metrics[["replication", "metric", "scope", "value"]])
    reused = tuple(r for r in reps if r in done)
    if out is not None:
        _save(out, scenario, metrics, summary, frames)
        record.extra["reused"] = list(reused)
        write_json(out / _MANIFEST, record.manifest(reps, "complete", finished=dt.datetime.now(dt.UTC)))
    return ExperimentResult(scenario, seed, tuple(reps), metrics, summary, frames, out, reused)
