"""Replications on a real Dask cluster: a scheduler and two workers as separate processes on loopback.

The results must be identical to the local process pool's, a worker killed mid-run must lose nothing that was
finished, and a scheduler that is down is a clear error before anything is written.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.runner import run_experiment
from experiments.scenario_files import scenario_from_dict
from tests.conftest import TINY_SCENARIO

pytest.importorskip("distributed", reason="dask.distributed is a dependency of ccsim; install the project")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """``dask scheduler`` and two ``dask worker`` processes (one thread each) on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    scheduler = _start(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        folder / "scheduler.log",
    )
    workers = [
        _start(
            [str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
             "--name", f"w{i}", "--local-directory", str(folder / f"w{i}")],
            folder / f"worker{i}.log",
        )
        for i in range(2)
    ]
    from distributed import Client

    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(address, timeout="5s", set_as_default=False) as client:
                if len(client.scheduler_info()["workers"]) == 2:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = "\n".join(p.read_text()[-2000:] for p in folder.glob("*.log"))
            pytest.fail(f"the Dask cluster did not start:\n{logs}")
        time.sleep(0.5)
    yield address, workers
    for proc in [*workers, scheduler]:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in [*workers, scheduler]:
        proc.wait(timeout=30)


def slow_simulate(scenario, **kwargs):
    """The engine, one second slower per replication (importable by the workers: tests/ is on their path)."""
    from sim.engine import run

    time.sleep(1.0)
    return run(scenario, **kwargs)


def _metrics(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder / "metrics.parquet")
    return frame.sort_values(["replication", "metric", "scope"]).reset_index(drop=True)


def test_dask_cluster_gives_the_local_pools_results(cluster, tmp_path: Path):
    address, _ = cluster
    scenario = scenario_from_dict(TINY_SCENARIO)
    local = run_experiment(scenario, seed=5, n_replications=4, workers=2, out_dir=tmp_path / "local", progress=False)
    remote = run_experiment(scenario, seed=5, n_replications=4, dask=address, out_dir=tmp_path / "dask", progress=False)
    pd.testing.assert_frame_equal(_metrics(tmp_path / "local"), _metrics(tmp_path / "dask"))
    pd.testing.assert_frame_equal(local.summary, remote.summary)
    for name in ("intervals", "agents"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "local" / f"{name}.parquet"), pd.read_parquet(tmp_path / "dask" / f"{name}.parquet")
        )


def test_killing_a_worker_loses_nothing_finished(cluster, tmp_path: Path):
    """Kill one worker while replications run: the scheduler re-runs its task elsewhere; every replication is
    complete and equal to a local run."""
    address, workers = cluster
    scenario = scenario_from_dict(TINY_SCENARIO)
    out = tmp_path / "killed"

    def kill_soon() -> None:
        time.sleep(3.0)
        os.killpg(workers[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    started = time.monotonic()
    killer.start()
    run_experiment(scenario, seed=2, n_replications=8, dask=address, out_dir=out, progress=False, simulate=slow_simulate)
    elapsed = time.monotonic() - started
    killer.join()
    assert workers[0].poll() is not None
    assert elapsed > 3.5, "the worker must be killed while replications are still running"
    run_experiment(scenario, seed=2, n_replications=8, workers=2, out_dir=tmp_path / "local", progress=False)
    pd.testing.assert_frame_equal(_metrics(out), _metrics(tmp_path / "local"))


def test_a_scheduler_that_is_down_is_a_clear_error(tmp_path: Path, tiny_scenario_file: Path, capsys):
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "run"
    code = main(["run", str(tiny_scenario_file), "-r", "2", "--dask", address, "--out", str(out), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"no Dask scheduler answers at {address}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_optimize_on_the_cluster_finds_the_same_trials(cluster, tmp_path: Path):
    """A search whose replications run on the Dask workers gives the trials a local search gives."""
    from experiments.optimize import optimize
    from experiments.space import read_space

    address, _ = cluster
    space_file = tmp_path / "space.yaml"
    space_file.write_text(
        "variables: {groups.agents.staffing.always: {int: [2, 4]}}\nreplications: 3\ntrials: 3\nseed: 4\n"
    )
    scenario = scenario_from_dict(TINY_SCENARIO)
    space = read_space(space_file)
    kwargs = {"confirm_replications": 2, "confirm_top": 1}
    local = optimize(scenario, space, out_dir=tmp_path / "local", **kwargs)
    remote = optimize(scenario, space, out_dir=tmp_path / "dask", dask=address, **kwargs)
    columns = ["groups.agents.staffing.always", "cost", "state"]
    pd.testing.assert_frame_equal(
        local.trials[columns].sort_values(columns[0]).reset_index(drop=True),
        remote.trials[columns].sort_values(columns[0]).reset_index(drop=True),
    )
