"""Plots of ccsim's results: each function takes the frames ccsim produces and returns a matplotlib ``Figure``.

Figures are built without ``pyplot`` (``matplotlib.figure.Figure`` with the Agg canvas): nothing is shown, no
global figure is left open, and they work the same in a script, a test, the HTML report and a notebook (where a
returned figure displays itself). Every axis carries its unit (s, min, %, currency per week) and every title the
scenario and the number of replications. Means over replications are drawn with their 95% Student-t confidence
band (:func:`experiments.stats.summarize`); shares are drawn in percent.

========================================  ================================================================
:func:`plot_target_by_interval`           a target's SL and the mean FRT per interval, CI bands, the target line
:func:`plot_variants_by_interval`         a target's SL per interval for several variants, outages shaded
:func:`plot_sl_heatmap`                   SL per interval x channel (each channel at its target's threshold)
:func:`plot_queue_and_agents`             waiting contacts per channel, agents logged in and busy, over time
:func:`plot_agent_occupancy`              occupancy of every agent, by group, with CIs
:func:`plot_cost_breakdown`               recurring cost per week by component, one-off costs apart
:func:`plot_pareto_front`                 cost vs worst target margin of an optimization study, the front
:func:`plot_forest`                       paired differences of a comparison with their CIs, significance
:func:`plot_sim_vs_actual`                simulated (mean and CI) against actual figures per interval
========================================  ================================================================

Example:
    >>> from experiments import load_scenario, run_experiment
    >>> from experiments.plots import plot_target_by_interval
    >>> scenario, _ = load_scenario("erlang_c_textbook")
    >>> result = run_experiment(scenario, seed=1, n_replications=3, workers=1, progress=False)  # doctest: +SKIP
    >>> fig = plot_target_by_interval(result.intervals, scenario, scenario.targets[0].name)  # doctest: +SKIP
    >>> fig.savefig("voice.png")  # doctest: +SKIP
"""

from experiments.plots._common import metric_unit
from experiments.plots.agents import plot_agent_occupancy, plot_cost_breakdown
from experiments.plots.intervals import (
    channel_thresholds,
    plot_queue_and_agents,
    plot_sl_heatmap,
    plot_target_by_interval,
    plot_variants_by_interval,
)
from experiments.plots.studies import plot_forest, plot_pareto_front, plot_sim_vs_actual

__all__ = [
    "channel_thresholds",
    "metric_unit",
    "plot_agent_occupancy",
    "plot_cost_breakdown",
    "plot_forest",
    "plot_pareto_front",
    "plot_queue_and_agents",
    "plot_sim_vs_actual",
    "plot_sl_heatmap",
    "plot_target_by_interval",
    "plot_variants_by_interval",
]
