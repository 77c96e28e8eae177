"""Output frame schemas: the contract between the engine, the metrics, the CLI and the notebooks.

Every time column ends in ``_s`` (seconds; ``*_at_s`` style times are seconds from the scenario start).

``contacts`` (one row per contact per replication; only when the contact log is asked for):
    replication, contact_id, channel, intent, priority ("urgent"/"normal"), tier ("vip"/"regular"), language,
    customer_id, arrival_s, outcome (see :data:`OUTCOMES`), retrial (0 for a first attempt, k for the k-th
    retrial of a blocked, abandoned or balked customer), callback (1 if the customer left a callback request),
    first_response_s (FRT: arrival -> first human
    response, a duration; NaN if none), wait_s (arrival -> human answer or abandonment; for a censored contact
    horizon - arrival), patience_s, agent_id (-1 if none), group ("" if none), service_start_s, service_end_s
    (NaN while still in service at the horizon), handle_s (the agent's time on the contact: handle time incl.
    proficiency, inflation and approval work, plus the hold while a team lead approves), queued_s (time it
    joined the human queue: arrival_s, or the end of the bot hand-off), repeat (a repeat contact after a silent
    bot failure or an async escalation), bot_outcome ("" not offered, resolved, abandoned, silent_failure,
    escalated), bot_end_s, handoff_s (bot end -> human answer, escalated and answered contacts), amount
    (approval amount, 0 if none), approval ("" none, self, team_lead, back_office), approval_wait_s (wait for a
    team lead), transfer ("" none, answered, abandoned, censored: the second service of a transfer to another
    skill), transfer_wait_s (hold until the second agent answered, or until abandonment / the horizon; the row
    is recorded when the transfer ends, and its other columns describe the first service). A contact still in a
    bot session or hand-off at the horizon is ``in_bot`` (not counted as offered to the human queue). ``served`` and
    ``escalated_async`` contacts were answered by a human (they have a first_response_s). source_row (the 0-based
    data row of the replayed log file the contact comes from; -1 if not from a log), wrap_s (after-contact work
    that followed the service, seconds; 0 if none), and with a replay ``passthrough``, log_<column> (the log
    cell's text; "" if not from the log). ``callback_answered`` contacts have first_response_s = wait_s =
    arrival -> the agent's call back (the wait until called, reported apart from inbound waits); blocked and
    balked contacts have wait_s 0, timed-out ones their wait until sent to the message.

``intervals`` (one row per replication x interval x channel x priority x tier, every combination present):
    replication, interval, interval_start_s, channel, priority, tier, and the counts of contacts *arriving* in
    the interval: offered, answered, abandoned, abandoned_short, censored, delayed (answered or abandoned with
    wait > 0), lost (arrived on a failed channel and gave up: not offered), and for each SL threshold T (column
    suffix :func:`threshold_label`, e.g. ``20s``, ``5min``):
    answered_within_T, abandoned_within_T, censored_over_T; sums: wait_answered_s, wait_abandoned_s,
    handle_s (of answered contacts that finished), max_wait_answered_s; channel mechanics (0 when unused): blocked,
    balked, timed_out (timed-out contacts are offered, and count as missed in every SL denominator),
    callback_requested, callback_answered, callback_unanswered (callback requests are not in offered / answered /
    ASA), wait_timed_out_s, wait_callback_s (sum over answered callbacks of arrival -> call back); time-weighted
    levels over the interval: queue_len (mean waiting contacts of this segment), in_service (mean contacts of
    this segment in service).

``staffing`` (one row per replication x interval x group): replication, interval, interval_start_s, group,
    logged_in, busy, on_break (time-weighted mean number of agents), busy_slots (mean contacts in service).

``agents`` (one row per agent per replication): replication, agent_id, group, shift, paid_s (scheduled shift
    time inside the horizon plus overtime; missed shifts are unpaid), logged_in_s (login to logout, breaks
    included), busy_s (time with >= 1 contact), break_s, idle_s (logged in, not busy, not on break),
    overtime_s (past the scheduled shift end, finishing contacts in hand), callin_s (reserve agents: time called
    in), night_s (scheduled time inside the night window), handled, absent_shifts, cost (scheduled hours x hourly
    cost + night hours x hourly cost x night premium + (overtime + call-in) hours x hourly cost x overtime
    premium). Reserve agents have shift "reserve"; the agents of a group's staffing table have shift "table"
    (their scheduled time is paid at the tabled headcount: see :mod:`sim.engine.staffing_table`).

``resolution`` (one row per replication x channel x priority x tier): counters of contacts arriving after the
    warm-up: bot_offered, bot_resolved, bot_escalated, bot_abandoned, bot_silent_failure, bot_session_s and
    bot_frt_s (sums), handoff_n and handoff_s (sum, bot end -> human answer), approvals, self_approved,
    escalated_sync, escalated_async, approval_n and approval_wait_s (holds that ended with a team lead taking
    the approval; those still on hold at the horizon are not counted), leakage (currency), repeat_contacts,
    first_contacts (non-repeat contacts handled by a human or ending in the bot other than by abandonment;
    counted when bots, approvals or transfers are configured; not those still in service at the horizon),
    first_contact_resolved (of those: resolved without an async escalation, a silent failure or an abandoned
    transfer), returning (services of a customer
    served before; when customer history is kept), same_agent (of those, by the same agent), transfers,
    transfer_answered, transfer_abandoned and transfer_wait_s (sum over answered transfers).

``frt_hist`` (one row per replication x channel x priority x tier x non-empty bin): replication, channel,
    priority, tier, bin_lo_s, bin_hi_s, count: histogram of FRT of answered contacts that arrived after the
    warm-up (``Scenario.measure_start_s``), for quantiles without a contact log. Bin 0 holds waits of exactly
    0 s (bin_lo_s = bin_hi_s = 0); then bins of 1 s below 10 min, 10 s below 2 h, 1 min below 3 days, 10 min
    beyond.
"""

from __future__ import annotations

from sim.units import format_duration

__all__ = [
    "OUTCOMES",
    "PRIORITIES",
    "TIERS",
    "frt_bin",
    "frt_bin_bounds",
    "legacy_threshold_label",
    "threshold_label",
]

OUTCOMES: tuple[str, ...] = (
    "served",
    "abandoned",
    "bot_resolved",
    "bot_abandoned",
    "silent_failure",
    "escalated_async",
    "censored",
    "in_bot",
    "lost",
    "blocked",
    "balked",
    "timed_out",
    "callback_answered",
    "callback_unanswered",
    "callback_censored",
)
"""Every contact ends in exactly one of these (``censored``: still waiting in the human queue at the horizon;
``in_bot``: still in a bot session or its hand-off at the horizon, so never offered to the human queue;
``lost``: arrived on a failed channel during an outage and gave up, never offered to the human queue; see
:mod:`sim.engine.outages`).

The channel mechanics (:mod:`sim.engine.mechanics`) add: ``blocked`` (found every trunk line busy; never
queued), ``balked`` (would have had to wait and left at once), ``timed_out`` (waited the channel's ``max_wait``
and was sent to a message; not an abandonment), and for callback requests (virtual hold) ``callback_answered``
(an agent called back and the customer answered), ``callback_unanswered`` (every outbound attempt unanswered:
dropped) and ``callback_censored`` (the request still pending at the horizon).
New outcomes are appended at the end so existing codes keep their values."""

PRIORITIES: tuple[str, ...] = ("normal", "urgent")
"""Priority names by code (0, 1)."""

TIERS: tuple[str, ...] = ("regular", "vip")
"""Tier names by code (0, 1)."""

_B1 = 601  # bin 0: zero wait; bin k in 1..600: [k-1, k) seconds (bin 1 without 0)
_B2 = _B1 + (7200 - 600) // 10
_B3 = _B2 + (259200 - 7200) // 60


def threshold_label(threshold_s: float) -> str:
    """Column suffix for an SL threshold in seconds, in the unit a target would be written in.

    ``20.0 -> "20s"``, ``300.0 -> "5min"``, ``5400.0 -> "90min"``, ``86400.0 -> "1d"`` (the largest of d, h, min, s
    that divides it, as :func:`sim.units.format_duration`). Until issue 11 labels were always seconds
    (``"300s"``); :func:`legacy_threshold_label` gives that form for reading older run directories.
    """
    return format_duration(float(threshold_s))


def legacy_threshold_label(threshold_s: float) -> str:
    """The former, seconds-only label of an SL threshold (``300.0 -> "300s"``), found in older run directories."""
    return f"{threshold_s:g}s"


def frt_bin(wait_s: float) -> int:
    """Histogram bin index of an FRT in seconds (see the ``frt_hist`` schema)."""
    if wait_s <= 0.0:
        return 0
    if wait_s < 600.0:
        return 1 + int(wait_s)
    if wait_s < 7200.0:
        return _B1 + int((wait_s - 600.0) // 10.0)
    if wait_s < 259200.0:
        return _B2 + int((wait_s - 7200.0) // 60.0)
    return _B3 + int((wait_s - 259200.0) // 600.0)


def frt_bin_bounds(index: int) -> tuple[float, float]:
    """Lower and upper edge in seconds of histogram bin ``index``."""
    if index == 0:
        return 0.0, 0.0
    if index < _B1:
        return float(index - 1), float(index)
    if index < _B2:
        lo = 600.0 + (index - _B1) * 10.0
        return lo, lo + 10.0
    if index < _B3:
        lo = 7200.0 + (index - _B2) * 60.0
        return lo, lo + 60.0
    lo = 259200.0 + (index - _B3) * 600.0
    return lo, lo + 600.0
