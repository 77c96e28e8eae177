"""Several ``ccsim optimize`` processes join one study in a real PostgreSQL server on loopback.

The server is Debian's ``postgresql`` package (``.ci/run`` installs it), started in a temporary folder by
:func:`tests.services.postgres_server`. Two worker processes share the study: both run trials, the study ends with
the distinct plans asked for, and killing one worker mid-study loses none of its finished trials.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_SCENARIO
from tests.services import postgres_bin, postgres_server

optuna = pytest.importorskip("optuna", reason="optuna is a dependency of ccsim; install the project")
pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)"
)


@pytest.fixture
def postgres():
    with postgres_server() as url:
        yield url


def _files(tmp_path: Path, trials: int, replications: int) -> tuple[Path, Path]:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(TINY_SCENARIO, sort_keys=False))
    space = tmp_path / "space.yaml"
    space.write_text(
        yaml.safe_dump(
            {
                "variables": {"groups.agents.staffing.always": {"int": [1, 12]}},
                "replications": replications,
                "trials": trials,
                "seed": 1,
            }
        )
    )
    return scenario, space


def _worker(scenario: Path, space: Path, url: str, out: Path) -> subprocess.Popen:
    args = [
        sys.executable, "-m", "experiments.cli", "optimize", str(scenario), str(space), "--storage", url,
        "--study", "shared", "--out", str(out), "--confirm-top", "1", "--confirm-replications", "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)


def _trials(url: str) -> list:
    study = optuna.load_study(study_name="shared", storage=url)
    return study.get_trials(deepcopy=False)


def test_two_workers_share_one_study(postgres: str, tmp_path: Path):
    scenario, space = _files(tmp_path, trials=8, replications=3)
    workers = [_worker(scenario, space, postgres, tmp_path / f"w{i}") for i in range(2)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    trials = _trials(postgres)
    finished = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    plans = {t.params["groups.agents.staffing.always"] for t in finished}
    assert len(plans) >= 8
    assert len({t.user_attrs.get("worker") for t in finished}) == 2, "both processes must have run trials"
    for i in range(2):  # each reports the whole study (its confirmation on 2 replications may leave no MET plan)
        assert len((tmp_path / f"w{i}" / "trials.csv").read_text().splitlines()) > 8


def test_killing_a_worker_loses_none_of_its_finished_trials(postgres: str, tmp_path: Path):
    scenario, space = _files(tmp_path, trials=12, replications=4)
    doomed = _worker(scenario, space, postgres, tmp_path / "doomed")
    deadline = time.monotonic() + 300
    mine: list = []
    while time.monotonic() < deadline:  # wait until the doomed worker has finished two trials
        try:
            done = [t for t in _trials(postgres) if t.state == optuna.trial.TrialState.COMPLETE]
        except KeyError:  # the study does not exist yet
            done = []
        mine = [t for t in done if t.user_attrs.get("worker", "").endswith(f":{doomed.pid}")]
        if len(mine) >= 2 or doomed.poll() is not None:
            break
        time.sleep(0.2)
    assert doomed.poll() is None, "the worker finished before it could be killed"
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=60)
    before = {t.number: t.values for t in mine}
    survivor = _worker(scenario, space, postgres, tmp_path / "survivor")
    output = survivor.communicate(timeout=600)[0]
    assert survivor.returncode == 0, output[-3000:]
    after = {t.number: t for t in _trials(postgres)}
    for number, values in before.items():
        assert after[number].state == optuna.trial.TrialState.COMPLETE
        assert after[number].values == values
    finished = [t for t in after.values() if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len({t.params["groups.agents.staffing.always"] for t in finished}) >= 12
