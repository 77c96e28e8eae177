"""Independent replications, in parallel, and :func:`run_experiment`, which runs, summarizes and saves them.

Every replication is a pure function of ``(scenario, seed, replication)`` (the engine draws from
``Streams(seed, replication)``), so results never depend on the worker count or on the order in which
replications finish. :func:`run_experiment` writes each replication's folder as soon as it finishes and resumes
an interrupted run; the run directory's layout is in :mod:`experiments.run_dir`, the results it returns in
:mod:`experiments.results`; where the replications run (this process, a process pool, a Dask cluster) in
:mod:`experiments.workers`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from experiments.files import OutputError
from experiments.provenance import scenario_hash
from experiments.replay import load_replay_log, scenario_replay
from experiments.results import ExperimentResult, overload_warnings
from experiments.run_dir import (
    RunRecord,
    check_run_dir,
    collect_from_disk,
    done_replications,
    open_run_dir,
)
from experiments.scenario_files import check_budget, load_scenario
from experiments.terminal import printable
from experiments.workers import (
    DaskError,
    Job,
    Measure,
    Simulate,
    by_value,
    completed,
    dask_client,
    tag_metrics,
    worker_count,
)
from sim.arrivals import ReplayLog
from sim.budget import scenario_warnings
from sim.config import Scenario
from sim.result import RunResult

__all__ = [
    "LONG_COLUMNS",
    "DaskError",
    "by_value",
    "run_experiment",
    "run_replications",
    "simulate_scenario",
    "tag_metrics",
]

Summarize = Callable[[pd.DataFrame], pd.DataFrame]
"""``summarize(long) -> DataFrame[metric, scope, mean, std, ci_half, ci_low, ci_high, n]``."""

LONG_COLUMNS: tuple[str, ...] = ("scenario", "variant", "replication", "seed", "metric", "scope", "value")
"""Columns of the long metrics table, one row per replication x metric x scope."""


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
    plan_policies = {
        plan.name: {slot: make(slot, spec) for slot, spec in plan.actions.policies.items()}
        for plan in scenario.plans
        if plan.actions.policies
    }
    return run(
        scenario, seed=seed, replication=replication, log=log, replay=replay, plan_policies=plan_policies or None,
        **policies,
    )  # fmt: skip


def _default_simulate() -> Simulate:
    return simulate_scenario


def _default_measure() -> Measure:
    from experiments.measure import replication_metrics

    return replication_metrics


def _default_summarize() -> Summarize:
    import functools

    from experiments.stats import summarize
    from sim.metrics import is_share_metric

    # Shares get the bounds printed for them (inside [0, 1]) next to the Student-t columns.
    return functools.partial(summarize, shares=is_share_metric)


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
    dask: str | None = None,
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
        simulate: Engine entry point (default :func:`sim.engine.run`); it may be defined in a notebook or
            ``__main__`` (sent to workers by value, see :func:`by_value`).
        dask: Address of a Dask scheduler (``tcp://host:8786``): replications run as tasks on its workers
            instead of a local pool (``workers`` is then ignored).

    Yields:
        ``(replication, RunResult)`` in completion order; each result depends only on (scenario, seed,
        replication).

    Example:
        >>> results = dict(run_replications(scenario, seed=7, replications=4, workers=2))  # doctest: +SKIP
    """
    job = Job(scenario, int(seed), log, scenario_replay(scenario, base_dir), by_value(simulate) or _default_simulate())
    for rep, (result, _) in completed(job, _as_list(replications), workers, dask):
        if progress is not None:
            progress(rep)
        assert result is not None  # no rep_root: results come back in memory
        yield rep, result


# --------------------------------------------------------------------------------------------- experiment


@contextlib.contextmanager
def _progress_bar(total: int, completed: int, enabled: bool, label: str) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr, or a widget in Jupyter; yields ``advance()``.

    Hidden when disabled, or when stderr is neither a terminal nor a Jupyter kernel (a log file gets no bar). In
    Jupyter, rich redraws one ipywidgets ``Output`` in place instead of printing a line per refresh.
    """
    from rich.console import Console
    from rich.markup import escape
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
        disable=not (enabled and (console.is_terminal or console.is_jupyter)),
        transient=False,
    ) as bar:
        task = bar.add_task(escape(printable(label)), total=total, completed=completed)
        yield lambda: bar.advance(task)
        bar.refresh()  # Jupyter keeps the last drawing, which rich's stop does not redraw: show the final count


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
    wait: bool = False,
    dask: str | None = None,
    simulate: Simulate | None = None,
    measure: Measure | None = None,
    summarize: Summarize | None = None,
) -> ExperimentResult:
    """Run replications ``0..n_replications-1`` of a scenario, summarize them and (optionally) save everything.

    Args:
        scenario: A validated scenario, or a path / bundled name passed to
            :func:`experiments.scenario_files.load_scenario`.
        seed: Base seed (>= 0).
        n_replications: Number of replications (>= 1); in an existing run directory only the missing ones run,
            and replications the directory already holds beyond ``n_replications`` are kept and summarized too
            (``result.replications`` lists them all).
        out_dir: Run directory (see :mod:`experiments.run_dir`), or ``None`` to keep results in memory only.
        workers: Processes; ``None`` = all CPUs available, ``1`` = no pool.
        log: Keep the per-contact log (``contacts`` frame / ``contacts.parquet``).
        base_dir: Folder for relative paths in the scenario; defaults to the scenario file's folder when
            ``scenario`` is a path.
        progress: Show a progress bar on stderr (only when it is a terminal).
        variant: Label of the ``variant`` column of the long table.
        argv: Command line recorded in the manifest (default ``sys.argv``).
        wait: When another run is writing into ``out_dir``, wait for it to finish instead of refusing.
        dask: Address of a Dask scheduler (``tcp://host:8786``): replications run as tasks on its workers, which
            send results back here (they need no access to ``out_dir``); ``workers`` is then ignored.
        simulate: Engine entry point (default :func:`sim.engine.run`); with several workers it may be defined in
            a notebook or ``__main__`` (sent by value, see :func:`by_value`).
        measure: Per-replication metrics (default :func:`experiments.measure.replication_metrics`); the same.
        summarize: Summary over replications (default ``experiments.stats.summarize``).

    Returns:
        The long metrics table, its summary and the concatenated frames.

    Raises:
        RunDirError: ``out_dir`` cannot be used: it holds another scenario's or seed's results or unrelated
            files, a file or a dangling link is in the way, or another run is writing there
            (:class:`~experiments.run_dir.RunDirBusyError`).
        OutputError: A file or folder could not be written (read-only or full file system...); the finished
            replications are kept for a resume.
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
    # Everything that can fail on the arguments fails before the run directory is created or touched, and the
    # run directory's scenario and seed check (it only reads) comes before any work: the replay log, replications.
    worker_count(workers, 1)
    check_budget(scenario, log=log)
    if dask is not None:
        dask_client(dask).close()  # a scheduler that is down is an error before anything is touched
    sha = scenario_hash(scenario)
    if out is not None:
        check_run_dir(out, sha, seed)
    replay = scenario_replay(scenario, base_dir)  # read and checked once for every replication
    warnings = scenario_warnings(scenario)
    job = Job(
        scenario=scenario,
        seed=seed,
        log=log,
        replay=replay,
        simulate=by_value(simulate) or _default_simulate(),
        measure=by_value(measure) or _default_measure(),
        rep_root=out / "replications" if out is not None else None,
        variant=variant,
    )
    summarize = summarize or _default_summarize()
    names = [n for n in RunResult.FRAMES if n != "contacts" or log]
    label = f"{scenario.name} replications"
    if out is None:
        outputs: dict[int, tuple[RunResult | None, pd.DataFrame | None]] = {}
        with _progress_bar(len(reps), 0, progress, label) as advance:
            for rep, output in completed(job, reps, workers, dask):
                outputs[rep] = output
                advance()
        metrics, frames = _collect(outputs, reps, names)
        summary = summarize(metrics[["replication", "metric", "scope", "value"]])
        warnings += overload_warnings(summary)
        return ExperimentResult(scenario, seed, tuple(reps), metrics, summary, frames, None, (), tuple(warnings))

    command = list(sys.argv if argv is None else argv)
    with open_run_dir(out, sha, seed, wait=wait, command=command) as run_dir:
        done = done_replications(out, log) if run_dir.previous is not None else set()
        if run_dir.previous is not None:
            # Asking for fewer replications than the folder holds never drops the others from its summary: -r is
            # "at least"; every complete replication of this scenario and seed is summarized (with --log, those
            # without a contact log are re-run, identically, to add it).
            reps = sorted(set(reps) | done_replications(out, log=False))
        todo = [r for r in reps if r not in done]
        reused = tuple(r for r in reps if r in done)
        record = RunRecord(scenario, seed, started, command, {"variant": variant, "log": log, "n_requested": len(reps)})
        record.extra["created"] = (run_dir.previous or {}).get("created", started.isoformat(timespec="seconds"))
        record.extra["reused"] = list(reused)
        record.extra["warnings"] = warnings
        if replay is not None:  # rows read, skipped by reason, drawn fields and warnings (duplicates, long durations)
            record.extra["replay"] = replay.report
        run_dir.start(record, scenario, done_replications(out, log=False))
        try:
            with _progress_bar(len(reps), len(reused), progress, label) as advance:
                for rep, _ in completed(job, todo, workers, dask):
                    run_dir.add(rep)
                    advance()
            metrics, frames = collect_from_disk(out, reps, names)
            summary = summarize(metrics[["replication", "metric", "scope", "value"]])
            warnings += overload_warnings(summary)
            record.extra["overloaded"] = bool(overload_warnings(summary))
            run_dir.finish(reps, metrics, summary, frames)
        except OutputError as exc:
            exc.add_note("finished replications are kept: fix that, then run the same command again to resume")
            raise
    return ExperimentResult(scenario, seed, tuple(reps), metrics, summary, frames, out, reused, tuple(warnings))
