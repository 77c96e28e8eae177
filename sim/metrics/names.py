"""The fixed KPI vocabulary: SL conventions, outcome groups, column names of the ``intervals`` frame, metric names.

Everything here is a name or a tuple of names (DESIGN §4); the formulas live in :mod:`sim.metrics.kpis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from sim.log import MECHANICS_COUNTS, MECHANICS_SUMS
from sim.schema import threshold_label

__all__ = [
    "ABANDONED_OUTCOMES",
    "AGENT_METRICS",
    "ANSWERED_OUTCOMES",
    "CALLBACK_OUTCOMES",
    "CENSORED_OUTCOMES",
    "COST_METRICS",
    "COUNT_COLUMNS",
    "COUNT_METRICS",
    "INTERVAL_KEYS",
    "LEVEL_COLUMNS",
    "LOST_OUTCOMES",
    "MECHANICS_METRICS",
    "METRICS",
    "OUTAGE_METRICS",
    "QUEUE_OUTCOMES",
    "RESOLUTION_METRICS",
    "SHARE_METRICS",
    "SL_CONVENTIONS",
    "SUM_COLUMNS",
    "TARGET_INTERVAL_METRICS",
    "TIMED_OUT_OUTCOMES",
    "SLConvention",
    "check_convention",
    "interval_columns",
    "is_share_metric",
    "legacy_renames",
    "sl_metric",
    "threshold_columns",
]

SLConvention = Literal["ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good"]
SL_CONVENTIONS: tuple[str, ...] = ("ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good")
"""Abandonment conventions of service level (DESIGN §4); ``short_abandons_excluded`` is the scenario default."""

ANSWERED_OUTCOMES: tuple[str, ...] = ("served", "escalated_async")
"""Outcomes counted as answered by a human (they have a ``first_response_s``; an async escalation was answered,
then handed to the back office)."""
ABANDONED_OUTCOMES: tuple[str, ...] = ("abandoned",)
"""Outcomes counted as abandoned from the human queue."""
CENSORED_OUTCOMES: tuple[str, ...] = ("censored",)
"""Outcomes of contacts still waiting in the human queue at the horizon."""
TIMED_OUT_OUTCOMES: tuple[str, ...] = ("timed_out",)
"""Outcomes of contacts sent to a message after the channel's ``max_wait`` (offered; missed in every SL)."""
QUEUE_OUTCOMES: tuple[str, ...] = ANSWERED_OUTCOMES + ABANDONED_OUTCOMES + CENSORED_OUTCOMES + TIMED_OUT_OUTCOMES
"""Outcomes of contacts offered to the human queue. Bot outcomes (``bot_resolved``, ``bot_abandoned``,
``silent_failure``) never reached it; a bot-escalated contact that reached it ends as one of these. Blocked and
balked contacts never joined it; callback requests are counted apart (:data:`CALLBACK_OUTCOMES`)."""
CALLBACK_OUTCOMES: tuple[str, ...] = ("callback_answered", "callback_unanswered", "callback_censored")
"""Outcomes of callback requests (virtual hold): reported in their own columns, never as inbound answers."""

INTERVAL_KEYS: tuple[str, ...] = ("replication", "interval", "interval_start_s", "channel", "priority", "tier")
"""Key columns of the ``intervals`` frame, in order."""
COUNT_COLUMNS: tuple[str, ...] = (
    "offered", "answered", "abandoned", "abandoned_short", "censored", "delayed", "lost", *MECHANICS_COUNTS,
)  # fmt: skip
"""Count columns of the ``intervals`` frame that do not depend on an SL threshold, in order (``lost``: contacts
that arrived on a failed channel and gave up; they are not part of ``offered``)."""
LOST_OUTCOMES: tuple[str, ...] = ("lost",)
"""Outcomes of contacts lost to an outage (never offered to the human queue)."""
SUM_COLUMNS: tuple[str, ...] = ("wait_answered_s", "wait_abandoned_s", "handle_s", *MECHANICS_SUMS)
"""Summed-seconds columns of the ``intervals`` frame, in order."""
LEVEL_COLUMNS: tuple[str, ...] = ("queue_len", "in_service")
"""Time-weighted level columns of the ``intervals`` frame (the engine's level records; NaN from contacts alone)."""

RESOLUTION_METRICS: tuple[str, ...] = (
    "bot_offered",
    "bot_containment",
    "bot_deflection",
    "bot_escalation_rate",
    "bot_abandon_rate",
    "bot_silent_failure_rate",
    "bot_frt_mean_s",
    "bot_session_mean_s",
    "handoff_mean_s",
    "approvals",
    "escalation_rate",
    "approval_wait_mean_s",
    "fcr",
    "repeat_contacts",
    "same_agent_share",
    "transfers",
    "transfer_abandon_rate",
    "transfer_wait_mean_s",
)
"""Bot, approval and repeat-contact families (scopes as contacts), present when the run has a ``resolution`` frame."""
MECHANICS_METRICS: tuple[str, ...] = (
    "blocked",
    "blocking_rate",
    "balked",
    "balk_rate",
    "timed_out",
    "timed_out_rate",
    "callback_requested",
    "callback_answered",
    "callback_unanswered",
    "callback_wait_mean_s",
    "asa_with_callbacks_s",
)
"""Channel-mechanics families (scopes as contacts), present when a channel of the scenario uses lines, max_wait,
balking, retrials or callbacks (:func:`sim.metrics.mechanics_kpis`)."""
COST_METRICS: tuple[str, ...] = (
    "bot_cost_per_week",
    "team_lead_cost_per_week",
    "leakage_cost_per_week",
    "recurring_cost_per_week",
    "one_off_training_cost",
    "one_off_bot_setup_cost",
    "one_off_cost",
    "team_lead_occupancy",
)
"""Recurring costs per week (the total includes the agents' ``labor_cost_per_week``), one-off costs apart, and
team-lead occupancy (scope ``all``), when the engine reports them; currency units (see :mod:`sim.metrics.costs`)."""

OUTAGE_METRICS: tuple[str, ...] = ("lost", "lost_rate")
"""Contacts lost to an outage and lost / (offered + lost), per contact scope; only for a scenario with outages."""

TARGET_INTERVAL_METRICS: tuple[str, ...] = (
    "target_worst_interval",
    "target_worst_interval_start_s",
    "target_interval_share",
)
"""Figures of an ``every_interval`` target (scope ``target=<name>``): the lowest interval SL of its window, that
interval's start (seconds from the scenario start), and the share of its intervals that reach the level."""

AGENT_METRICS: tuple[str, ...] = (
    "occupancy",
    "slot_occupancy",
    "utilization",
    "paid_h",
    "overtime_h",
    "handled",
    "labor_cost_per_week",
    "cost_per_contact",
)
"""Metrics of the agents (scopes ``all`` and ``group=<g>``)."""

METRICS: tuple[str, ...] = (
    # contacts (scopes "all", "channel=<c>", "priority=<p>", "tier=<t>")
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "censored",
    *OUTAGE_METRICS,
    "backlog_h",  # hours of work still waiting at the end, at the answer rate (see sim.metrics.kpis.backlog_h)
    "abandon_rate",
    "sl",  # one row per threshold, named sl_<label> (see sl_metric), e.g. "sl_20s"
    "asa_s",
    "mean_wait_all_s",
    "p_wait",
    "frt_p50_s",
    "frt_p90_s",
    "frt_max_s",
    *AGENT_METRICS,  # scopes "all", "group=<g>"
    *RESOLUTION_METRICS,
    *MECHANICS_METRICS,
    *COST_METRICS,
    # targets (scope "target=<name>")
    "target_attainment",
    "target_met",
    *TARGET_INTERVAL_METRICS,
    "target_day_attainment",  # scope "target=<name>@<YYYY-MM-DD>", one per day of the target's window
)
"""Metric families of :func:`experiments.measure.replication_metrics`. Service level is a family: its rows are
``sl_<label>``."""


COUNT_METRICS: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_short",
    "censored",
    "handled",
    "bot_offered",
    "approvals",
    "repeat_contacts",
    "transfers",
)
"""Metrics that count contacts in one replication (their mean over replications is printed as a whole number)."""

SHARE_METRICS: tuple[str, ...] = (
    "abandon_rate",
    "p_wait",
    "occupancy",
    "slot_occupancy",
    "utilization",
    "bot_containment",
    "bot_deflection",
    "bot_escalation_rate",
    "bot_abandon_rate",
    "bot_silent_failure_rate",
    "escalation_rate",
    "fcr",
    "same_agent_share",
    "transfer_abandon_rate",
    "team_lead_occupancy",
    "target_attainment",
    "target_met",
    "target_worst_interval",
    "target_interval_share",
    "target_day_attainment",
)
"""Metrics that are proportions in ``[0, 1]`` in every replication, besides the ``sl_<label>`` family (see
:func:`is_share_metric`); their confidence intervals must stay inside ``[0, 1]``."""


def is_share_metric(metric: str) -> bool:
    """Whether a metric is a proportion in ``[0, 1]``: one of :data:`SHARE_METRICS` or a service level ``sl_*``."""
    return metric in _SHARES or metric.startswith("sl_")


_SHARES = frozenset(SHARE_METRICS)


def sl_metric(threshold_s: float) -> str:
    """Metric name of the service level at ``threshold_s`` seconds: ``20.0 -> "sl_20s"``, ``300.0 -> "sl_5min"``."""
    return f"sl_{threshold_label(threshold_s)}"


_LEGACY = re.compile(r"^(sl|answered_within|abandoned_within|censored_over)_(\d+(?:\.\d+)?(?:e[+-]?\d+)?)s$")


def legacy_renames(names: Iterable[str]) -> dict[str, str]:
    """Old name -> current name for SL metric and threshold column names written before issue 11.

    Thresholds used to be labelled in seconds only (``sl_300s``, ``answered_within_300s``); they are now labelled
    in their own unit (``sl_5min``, ``answered_within_5min``, see :func:`sim.schema.threshold_label`). Names that
    are already current (``sl_20s``) or not SL names are left out.

    Example:
        >>> legacy_renames(["sl_20s", "sl_300s", "answered_within_86400s", "asa_s"])
        {'sl_300s': 'sl_5min', 'answered_within_86400s': 'answered_within_1d'}
    """
    out = {}
    for name in names:
        match = _LEGACY.match(name)
        if match is None:
            continue
        current = f"{match.group(1)}_{threshold_label(float(match.group(2)))}"
        if current != name:
            out[name] = current
    return out


def threshold_columns(threshold_s: float) -> tuple[str, str, str]:
    """``(answered_within_T, abandoned_within_T, censored_over_T)`` column names for threshold ``T`` seconds."""
    label = threshold_label(threshold_s)
    return f"answered_within_{label}", f"abandoned_within_{label}", f"censored_over_{label}"


def interval_columns(thresholds_s: Iterable[float]) -> list[str]:
    """All columns of the ``intervals`` frame, in schema order, for the given SL thresholds (seconds)."""
    per_threshold = [c for t in thresholds_s for c in threshold_columns(t)]
    return [*INTERVAL_KEYS, *COUNT_COLUMNS, *per_threshold, *SUM_COLUMNS, "max_wait_answered_s", *LEVEL_COLUMNS]


def check_convention(convention: str) -> None:
    """Raise ``ValueError`` unless ``convention`` is one of :data:`SL_CONVENTIONS`."""
    if convention not in SL_CONVENTIONS:
        raise ValueError(f"convention must be one of {list(SL_CONVENTIONS)}, got {convention!r}")
