"""Where replications run: in this process, in a local process pool, or as tasks on a Dask cluster.

A :class:`Job` holds everything a worker needs besides the replication index; :func:`completed` runs it for each
replication and yields the outputs as they finish. Functions defined in a notebook or ``__main__`` reach worker
processes by value (:func:`by_value`). :mod:`experiments.runner` builds jobs; :mod:`experiments.optimize` uses
the pool and the Dask client for the replications of its trials.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.run_dir import rep_name, write_replication
from sim.arrivals import ReplayLog
from sim.config import Scenario
from sim.result import RunResult

__all__ = [
    "DaskError",
    "Job",
    "Measure",
    "Simulate",
    "by_value",
    "completed",
    "dask_client",
    "mp_context",
    "tag_metrics",
    "worker_count",
]

Simulate = Callable[..., RunResult]
"""``simulate(scenario, *, seed, replication, log, replay) -> RunResult`` (default
:func:`experiments.runner.simulate_scenario`).

``replay`` is the replayed scenario's checked log (read once per run), or ``None``."""
Measure = Callable[[RunResult, Scenario], pd.DataFrame]
"""``measure(result, scenario) -> DataFrame[metric, scope, value]`` (default
:func:`experiments.measure.replication_metrics`)."""


# ------------------------------------------------------------------------------ callables for worker processes


def _from_bytes(data: bytes) -> _ByValue:
    import cloudpickle

    return _ByValue(cloudpickle.loads(data))


class _ByValue:
    """A callable that pickles itself with cloudpickle, by value when it cannot be imported by name.

    Worker processes start by ``forkserver`` or ``spawn``, so a plain pickle of a function defined in a notebook or
    an interactive ``__main__`` (no file to re-import) names a module the worker cannot import, and the pool breaks
    (``BrokenProcessPool``). cloudpickle sends such a function's code, closure and globals instead; importable
    functions are still sent by reference.
    """

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Callable[[bytes], _ByValue], tuple[bytes]]:
        import cloudpickle

        return _from_bytes, (cloudpickle.dumps(self.fn),)

    def __repr__(self) -> str:
        return f"by_value({self.fn!r})"


def by_value(fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """``fn`` wrapped so that worker processes can run it wherever it was defined (``None`` stays ``None``).

    A function of an importable module pickles by reference as before; one defined in a notebook, an interactive
    session, a ``python -`` script or a closure is sent by value (cloudpickle).

    Example:
        >>> def my_simulate(scenario, **kwargs):  # in a notebook cell  # doctest: +SKIP
        ...     return simulate_scenario(scenario, **kwargs)
        >>> run_experiment("erlang_c_textbook", simulate=my_simulate, workers=2)  # doctest: +SKIP
    """
    if fn is None or isinstance(fn, _ByValue):
        return fn
    return _ByValue(fn)


# ---------------------------------------------------------------------------------------- one replication


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything a worker needs besides the replication index (pickled to worker processes)."""

    scenario: Scenario
    seed: int
    log: bool
    replay: ReplayLog | None
    simulate: Simulate
    measure: Measure | None = None
    rep_root: Path | None = None
    variant: str = "base"


def _execute(job: Job, replication: int) -> tuple[RunResult | None, pd.DataFrame | None]:
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
    write_replication(job.rep_root / rep_name(replication), result, metrics)
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


# -------------------------------------------------------------------------------------- parallel execution


def worker_count(workers: int | None, n_tasks: int) -> int:
    """Processes to start for ``n_tasks`` tasks: ``workers`` (``None``: the CPUs available), at most one per task.

    Raises:
        ValueError: ``workers < 1``.
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return max(1, min(workers, n_tasks))


def mp_context() -> multiprocessing.context.BaseContext:
    """The start method of worker processes: ``forkserver`` with the heavy modules preloaded, else ``spawn``."""
    # Not "fork": the parent runs threads (progress bar, Arrow's thread pool), and forking a threaded process can
    # deadlock. Hence scripts need the usual `if __name__ == "__main__":` guard; a `simulate` or `measure` defined
    # in `__main__` or a notebook reaches the workers by value (`by_value`).
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported the heavy modules (numpy, pandas, pydantic, simpy);
    # modules of the list that are missing are skipped.
    context.set_forkserver_preload(["experiments.workers", "experiments.runner", "experiments.measure", "sim.engine"])
    return context


def completed(
    job: Job, replications: Sequence[int], workers: int | None, dask: str | None = None
) -> Iterator[tuple[int, tuple[RunResult | None, pd.DataFrame | None]]]:
    """Run ``job`` for each replication; yield ``(replication, output)`` as each finishes (any order)."""
    if dask is not None:
        yield from _completed_on_dask(job, replications, dask)
        return
    n_workers = worker_count(workers, len(replications))
    if n_workers == 1:
        for rep in replications:
            yield rep, _execute(job, rep)
        return
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=mp_context()) as pool:
        futures = {pool.submit(_execute, job, rep): rep for rep in replications}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            # Running replications finish (and write their folders); queued ones are dropped.
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def dask_client(address: str) -> Any:
    """A ``dask.distributed`` client connected to the scheduler at ``address`` (e.g. ``tcp://10.0.0.5:8786``).

    Raises:
        DaskError: ``dask.distributed`` is not installed, or no scheduler answers at ``address`` within 10 s.
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise DaskError(f"--dask needs dask.distributed ({exc})") from None
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DaskError(f"no Dask scheduler answers at {address} ({exc}); start one with `dask scheduler`") from None


class DaskError(RuntimeError):
    """The Dask cluster asked for with ``--dask`` cannot be used."""


def _completed_on_dask(
    job: Job, replications: Sequence[int], address: str
) -> Iterator[tuple[int, tuple[RunResult | None, pd.DataFrame | None]]]:
    """Replications as Dask tasks; results come back to this process, which writes the replication folders.

    Workers need no access to the run directory (they may be other machines). A task whose worker dies is
    re-run by the scheduler on another worker; finished replications are already on disk here, so killing a
    worker loses nothing that was finished. Results are identical to the local pool's: a replication's random
    numbers depend only on ``(seed, replication)``.
    """
    from distributed import as_completed as dask_completed

    remote = dataclasses.replace(job, rep_root=None)
    with dask_client(address) as client:
        futures = {
            client.submit(_execute, remote, rep, key=f"ccsim-{job.seed}-{rep}-{uuid.uuid4().hex}", pure=False): rep
            for rep in replications
        }
        try:
            for future in dask_completed(list(futures), loop=client.loop):
                rep = futures[future]
                result, metrics = future.result()
                if job.rep_root is not None and result is not None and metrics is not None:
                    write_replication(job.rep_root / rep_name(rep), result, metrics)
                    yield rep, (None, metrics)
                else:
                    yield rep, (result, metrics)
        except BaseException:
            client.cancel(list(futures))
            raise


