"""A ``simulate=`` / ``measure=`` defined interactively (a notebook, ``python -c``) runs with several workers.

Worker processes start by forkserver (or spawn) and cannot import a function from an interactive ``__main__``;
before :func:`experiments.runner.by_value` such a run ended in ``BrokenProcessPool``. These tests define the
functions where an analyst would: in a subprocess's ``__main__`` without a file, and in a notebook cell run by a
real Jupyter kernel.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.runner import by_value

ROOT = Path(__file__).resolve().parents[2]

# Defined in __main__: a simulate that calls the real engine, and a measure that adds a metric read from a
# global of __main__ (so the worker must have received the function's globals by value).
CELL = textwrap.dedent(
    """
    import json
    import pandas as pd
    from experiments import run_experiment, simulate_scenario
    from experiments.measure import replication_metrics

    MARK = 7.0

    def my_simulate(scenario, **kwargs):
        return simulate_scenario(scenario, **kwargs)

    def my_measure(result, scenario):
        extra = pd.DataFrame({"metric": ["custom_mark"], "scope": ["all"], "value": [MARK]})
        return pd.concat([replication_metrics(result, scenario), extra], ignore_index=True)

    def run(workers):
        res = run_experiment(
            "erlang_c_textbook", seed=3, n_replications=2, workers=workers, progress=False,
            simulate=my_simulate, measure=my_measure,
        )
        long = res.metrics.sort_values(["replication", "metric", "scope"]).reset_index(drop=True)
        return long[["replication", "metric", "scope", "value"]].to_json(orient="split")

    serial, parallel = run(1), run(2)
    marks = [row[3] for row in json.loads(parallel)["data"] if row[1] == "custom_mark"]
    print(json.dumps({"same": serial == parallel, "marks": marks}))
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _check(output: str) -> None:
    report = json.loads(output.strip().splitlines()[-1])
    assert report["same"], "results with 2 workers differ from 1 worker"
    assert report["marks"] == [7.0, 7.0], "the custom measure did not run in the workers"


def test_main_module_function_runs_with_two_workers(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CELL], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check(proc.stdout)


def test_notebook_function_runs_with_two_workers(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    progress_cell = 'res = run_experiment("erlang_c_textbook", seed=1, n_replications=3, workers=1, progress=True)'
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL), nbformat.v4.new_code_cell(progress_cell)])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    streams = [o["text"] for o in notebook.cells[0].outputs if o.get("output_type") == "stream" and o["name"] == "stdout"]
    _check("".join(streams))
    # The progress bar is one widget redrawn in place (its last drawing shows every replication done), not lines.
    outputs = notebook.cells[1].outputs
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 1, outputs
    assert not [o for o in outputs if o.get("output_type") == "stream"], outputs
    model = widgets[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"][model]["state"]
    drawn = [o["data"]["text/plain"] for o in state["outputs"]]
    assert len(drawn) == 1, drawn
    assert "3/3" in drawn[0], drawn


OPTIMIZE_CELL = textwrap.dedent(
    """
    import json, tempfile
    from experiments import load_scenario, simulate_scenario
    from experiments.optimize import optimize
    from experiments.space import space_from_dict

    def my_simulate(scenario, **kwargs):
        return simulate_scenario(scenario, **kwargs)

    scenario, _ = load_scenario("erlang_c_textbook")
    space = space_from_dict({"variables": {"groups.agents.staffing.always": {"int": [13, 15]}},
                             "replications": 2, "trials": 2, "seed": 1})
    result = optimize(scenario, space, out_dir=tempfile.mkdtemp(), confirm_top=0, workers=2, simulate=my_simulate)
    print(json.dumps({"complete": int((result.trials["state"] == "COMPLETE").sum())}))
    """
)


def test_optimize_runs_a_main_module_simulate_with_two_workers(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", OPTIMIZE_CELL], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"complete": 2}


def test_by_value_pickles_a_closure_and_keeps_importable_functions_by_reference() -> None:
    offset = 5

    def local(x):
        return x + offset

    restored = pickle.loads(pickle.dumps(by_value(local)))
    assert restored(1) == 6
    assert by_value(None) is None
    wrapped = by_value(local)
    assert by_value(wrapped) is wrapped
    assert b"experiments.workers" in pickle.dumps(by_value(by_value))  # importable: by reference, not by code
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(local)  # why the wrapper is needed
