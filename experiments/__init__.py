"""Experiments: scenario files in, replications in parallel, results out (long tables, Parquet run directories).

The public API is re-exported here. Where each part lives:

* :mod:`experiments.scenario_files`: YAML → :class:`~sim.config.Scenario` (``base:`` chains, bundled scenarios);
  :mod:`experiments.scenario_errors`: :class:`ScenarioError` and the wording of each problem, on its YAML line.
* :mod:`experiments.runner`: replications in parallel and :func:`run_experiment`;
  :mod:`experiments.run_dir`: the run directory on disk (layout, resume, refusing to mix);
  :mod:`experiments.results`: :class:`ExperimentResult` and the status of FRT targets.
* :mod:`experiments.files`: atomic writes; :mod:`experiments.provenance`: scenario hash and ``manifest.json``.
* :mod:`experiments.replay` (replay logs on disk), :mod:`experiments.measure` (one replication's metrics),
  :mod:`experiments.stats` (confidence intervals), :mod:`experiments.cli` (the ``ccsim`` command).
"""

from experiments.results import ExperimentResult, target_table
from experiments.run_dir import RunDirError
from experiments.runner import run_experiment, run_replications, simulate_scenario
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import describe_scenario, list_scenarios, load_scenario

__all__ = [
    "ExperimentResult",
    "RunDirError",
    "ScenarioError",
    "describe_scenario",
    "list_scenarios",
    "load_scenario",
    "run_experiment",
    "run_replications",
    "simulate_scenario",
    "target_table",
]
