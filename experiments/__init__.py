"""Experiments: scenario files in, replications in parallel, results out (long tables, Parquet run directories).

The public API is re-exported here; see :mod:`experiments.scenario_files` and :mod:`experiments.runner`.
"""

from experiments.runner import (
    ExperimentResult,
    RunDirError,
    run_experiment,
    run_replications,
    simulate_scenario,
    target_table,
)
from experiments.scenario_files import ScenarioError, describe_scenario, list_scenarios, load_scenario

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
