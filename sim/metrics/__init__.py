"""Metrics: pure KPI functions over the output frames of :mod:`sim.schema` (no SimPy, no I/O).

Every function takes the frames and its parameters explicitly, never mutates its inputs, and works on empty
frames: counts and sums of nothing are 0, ratios of nothing are NaN. Everything is vectorised (frames can hold
millions of contacts).

Where each concept lives:

* :mod:`~sim.metrics.names`: the fixed vocabulary: SL conventions, outcome groups, ``intervals`` columns, metric
  names (:data:`METRICS`).
* :mod:`~sim.metrics.frames`: conventions every function follows (empty frames, required columns, safe ratios).
* :mod:`~sim.metrics.filters`: rows of a frame for a segment and a time window; :func:`measurement_window`.
* :mod:`~sim.metrics.counts`: the per-contact definitions below, and a contact log to ``intervals`` counts.
* :mod:`~sim.metrics.kpis`: one number per call: queue, FRT, agent and resolution KPIs.
* :mod:`~sim.metrics.costs`: recurring costs per week, one-off costs apart, the payback period.
* :mod:`~sim.metrics.aggregate`: tables: per interval x channel, per group or agent, a pooled selection.
* :mod:`~sim.metrics.targets`: a target over its time window: pooled, every interval (worst, share), per day.

One replication's long table (``metric, scope, value``) is assembled from these by
:func:`experiments.measure.replication_metrics`.

Definitions (DESIGN §4), shared by the contact-log and the streaming (intervals) paths:

* A contact belongs to the interval of its arrival, ``floor(arrival_s / interval_s)``.
* *Offered* = reached the human queue: outcome ``served`` (*answered*), ``abandoned`` or ``censored`` (still
  waiting at the horizon, ``wait_s = horizon - arrival``). Bot outcomes are not offered (see
  :data:`QUEUE_OUTCOMES`).
* *Short abandon*: abandoned with ``wait_s < short_abandon_s`` of its channel. *Delayed*: answered or abandoned with
  ``wait_s > 0``.
* For an SL threshold ``T``: *answered within T* = answered with ``first_response_s <= T``; *abandoned within T* =
  abandoned with ``wait_s <= T``; *censored over T* = censored with ``wait_s > T``.
* Service level, with A = answered, Ab = abandoned, Ab_s = short abandons, Cz = censored over T (a contact still
  waiting beyond T has missed the target, so it joins every denominator and no numerator):

  =============================== ==================================
  ``ignore_abandons``             A<=T / (A + Cz)
  ``abandons_bad``                A<=T / (A + Ab + Cz)
  ``short_abandons_excluded``     A<=T / (A + Ab - Ab_s + Cz)
  ``abandons_good``               (A<=T + Ab<=T) / (A + Ab + Cz)
  =============================== ==================================

  Always volume-weighted: counts are summed over the selected rows, then divided.
* Channel mechanics (:mod:`sim.engine.mechanics`): *blocked* and *balked* contacts never joined the queue (not
  offered); *timed out* contacts are offered and count as missed in every SL denominator (like censored over T);
  callback requests are counted apart (``callback_requested``, ``callback_answered``, ``callback_unanswered``,
  ``wait_callback_s``), never as inbound answers, so ASA of inbound answered excludes them and the wait until
  called is its own metric (``callback_wait_mean_s``); ``asa_with_callbacks_s`` pools both.
* ASA = mean wait of answered contacts (zeros included); mean wait of all = (wait of answered + wait of
  abandoned) / (A + Ab); P(wait > 0) = delayed / (A + Ab); abandonment rate = Ab / offered.
* Occupancy = busy / (logged in - on break); utilization = (logged in - on break) / paid: the share of paid
  time (overtime included) an agent was available to take or working on contacts. DESIGN §4 says "logged-in /
  paid"; agents here are logged in for their whole paid shift, so that ratio would always be 1. Breaks are
  the part of paid time agents are logged out of the queues, as in an ACD report.

Example:
    >>> import pandas as pd
    >>> contacts = pd.DataFrame({
    ...     "replication": 0, "channel": "voice", "priority": "normal", "tier": "regular",
    ...     "arrival_s": [10.0, 20.0, 30.0], "outcome": ["served", "served", "abandoned"],
    ...     "first_response_s": [0.0, 45.0, float("nan")], "wait_s": [0.0, 45.0, 3.0],
    ...     "service_end_s": [100.0, 200.0, float("nan")], "handle_s": [90.0, 135.0, float("nan")]})
    >>> iv = intervals_from_contacts(contacts, interval_s=1800.0, thresholds_s=[20.0], short_abandon_s=5.0,
    ...                              horizon_s=1800.0, channels=["voice"])
    >>> service_level(iv, 20.0, "short_abandons_excluded"), service_level(iv, 20.0, "abandons_bad")
    (0.5, 0.3333333333333333)
"""

from sim.metrics.aggregate import agent_table, interval_table, queue_kpis
from sim.metrics.costs import WEEK_S, cost_kpis, payback_weeks, per_week
from sim.metrics.counts import intervals_from_contacts
from sim.metrics.filters import (
    filter_agents,
    filter_contacts,
    filter_frt_hist,
    filter_intervals,
    measurement_window,
)
from sim.metrics.kpis import (
    abandon_rate,
    asa_s,
    backlog_h,
    cost_per_contact,
    frt_max_s,
    frt_quantiles,
    frt_quantiles_from_hist,
    handled,
    labor_cost,
    mean_wait_all_s,
    mechanics_kpis,
    occupancy,
    occupancy_from_staffing,
    overtime_h,
    p_wait,
    paid_h,
    resolution_kpis,
    service_level,
    service_level_from_contacts,
    short_abandons,
    slot_occupancy_from_staffing,
    utilization,
)
from sim.metrics.names import (
    ABANDONED_OUTCOMES,
    AGENT_METRICS,
    ANSWERED_OUTCOMES,
    CENSORED_OUTCOMES,
    COST_METRICS,
    COUNT_METRICS,
    INTERVAL_KEYS,
    LOST_OUTCOMES,
    MECHANICS_METRICS,
    METRICS,
    OUTAGE_METRICS,
    QUEUE_OUTCOMES,
    RESOLUTION_METRICS,
    SHARE_METRICS,
    SL_CONVENTIONS,
    TARGET_INTERVAL_METRICS,
    interval_columns,
    is_share_metric,
    legacy_renames,
    sl_metric,
    threshold_columns,
)
from sim.metrics.targets import TargetFigures, interval_attainment, target_figures

__all__ = [
    "ABANDONED_OUTCOMES",
    "AGENT_METRICS",
    "ANSWERED_OUTCOMES",
    "CENSORED_OUTCOMES",
    "COST_METRICS",
    "COUNT_METRICS",
    "INTERVAL_KEYS",
    "LOST_OUTCOMES",
    "MECHANICS_METRICS",
    "METRICS",
    "OUTAGE_METRICS",
    "QUEUE_OUTCOMES",
    "RESOLUTION_METRICS",
    "SHARE_METRICS",
    "SL_CONVENTIONS",
    "TARGET_INTERVAL_METRICS",
    "WEEK_S",
    "TargetFigures",
    "abandon_rate",
    "agent_table",
    "asa_s",
    "backlog_h",
    "cost_kpis",
    "cost_per_contact",
    "filter_agents",
    "filter_contacts",
    "filter_frt_hist",
    "filter_intervals",
    "frt_max_s",
    "frt_quantiles",
    "frt_quantiles_from_hist",
    "handled",
    "interval_attainment",
    "interval_columns",
    "interval_table",
    "intervals_from_contacts",
    "is_share_metric",
    "labor_cost",
    "legacy_renames",
    "mean_wait_all_s",
    "measurement_window",
    "mechanics_kpis",
    "occupancy",
    "occupancy_from_staffing",
    "overtime_h",
    "p_wait",
    "paid_h",
    "payback_weeks",
    "per_week",
    "queue_kpis",
    "resolution_kpis",
    "service_level",
    "service_level_from_contacts",
    "short_abandons",
    "sl_metric",
    "slot_occupancy_from_staffing",
    "target_figures",
    "threshold_columns",
    "utilization",
]
