"""Pure KPI functions, one number per call: queue, FRT, agent and resolution KPIs.

Queue: SL, ASA, waits, abandonment; FRT quantiles and maximum; agents: occupancy, utilization, hours, labor
cost; resolution: bot, approvals, transfers, repeat contacts (costs: :mod:`sim.metrics.costs`). Each takes a frame of
:mod:`sim.schema` (or a selection of its rows, see :mod:`sim.metrics.filters`) and returns one number (or one per
quantile); the definitions are in the :mod:`sim.metrics` docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from sim.metrics.counts import classify_contacts
from sim.metrics.filters import filter_contacts
from sim.metrics.frames import column_sums, is_empty, ratio, require_columns, select_rows
from sim.metrics.names import ANSWERED_OUTCOMES, SLConvention, check_convention, threshold_columns

__all__ = [
    "abandon_rate",
    "asa_s",
    "backlog_h",
    "cost_per_contact",
    "frt_max_s",
    "frt_quantiles",
    "frt_quantiles_from_hist",
    "handled",
    "labor_cost",
    "mean_wait_all_s",
    "mechanics_kpis",
    "occupancy",
    "occupancy_from_staffing",
    "overtime_h",
    "p_wait",
    "paid_h",
    "resolution_kpis",
    "service_level",
    "service_level_from_contacts",
    "short_abandons",
    "sl_from_counts",
    "slot_occupancy_from_staffing",
    "utilization",
]


_Counts = TypeVar("_Counts", float, np.ndarray)


def sl_from_counts(
    answered_within: _Counts,
    abandoned_within: _Counts,
    censored_over: _Counts,
    answered: _Counts,
    abandoned: _Counts,
    abandoned_short: _Counts,
    convention: str,
    timed_out: _Counts | float = 0.0,
) -> _Counts:
    """Service level from its counts (all scalars, or all arrays element by element) under ``convention``.

    The formulas are the table in the :mod:`sim.metrics` docstring; NaN where the denominator is 0. Contacts
    ``timed_out`` (sent to a message after the channel's ``max_wait``) were not answered: they join every
    denominator and no numerator, under every convention (so a short ``max_wait`` cannot raise the SL).
    """
    check_convention(convention)
    censored_over = np.add(censored_over, timed_out)
    if convention == "ignore_abandons":
        return ratio(answered_within, np.add(answered, censored_over))
    if convention == "abandons_bad":
        return ratio(answered_within, np.add(np.add(answered, abandoned), censored_over))
    if convention == "short_abandons_excluded":
        den = np.add(np.subtract(np.add(answered, abandoned), abandoned_short), censored_over)
        return ratio(answered_within, den)
    return ratio(np.add(answered_within, abandoned_within), np.add(np.add(answered, abandoned), censored_over))


def timed_out_count(intervals: pd.DataFrame | None) -> float:
    """Timed-out contacts in the rows of an ``intervals`` frame (0 for a frame without the column)."""
    if is_empty(intervals) or "timed_out" not in intervals.columns:  # type: ignore[union-attr]
        return 0.0
    assert intervals is not None
    return float(intervals["timed_out"].sum())


# -------------------------------------------------------------------------------------------- queue KPIs


def service_level(
    intervals: pd.DataFrame | None, threshold_s: float, convention: SLConvention = "short_abandons_excluded"
) -> float:
    """Volume-weighted service level of the rows of an ``intervals`` frame.

    Filter first with :func:`filter_intervals` to get a per-interval, per-day, per-segment or overall figure:
    the counts of the selected rows are summed, then divided (never an average of interval SLs).

    Args:
        intervals: ``intervals`` frame (or a selection of its rows).
        threshold_s: SL threshold ``T`` (seconds); the frame must have its ``*_within_T`` columns.
        convention: Abandonment convention (see the module docstring).

    Returns:
        The service level in ``[0, 1]``; NaN when the denominator is 0.
    """
    a_col, ab_col, c_col = threshold_columns(threshold_s)
    s = column_sums(intervals, (a_col, ab_col, c_col, "answered", "abandoned", "abandoned_short"))
    return float(
        sl_from_counts(
            s[a_col], s[ab_col], s[c_col], s["answered"], s["abandoned"], s["abandoned_short"], convention,
            timed_out_count(intervals),
        )
    )  # fmt: skip


def service_level_from_contacts(
    contacts: pd.DataFrame | None,
    threshold_s: float,
    convention: SLConvention,
    short_abandon_s: Mapping[str, float] | float,
    *,
    channel: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    intent: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
    horizon_s: float | None = None,
) -> float:
    """Service level computed directly from a contact log (needed for filters intervals lack, e.g. intent).

    Same definitions and result as :func:`service_level` on the intervals of the same contacts.

    Args:
        contacts: ``contacts`` frame.
        threshold_s: SL threshold ``T`` (seconds).
        convention: Abandonment convention.
        short_abandon_s: Short-abandon threshold (seconds), one for all or per channel name.
        channel: Channel filter (see :func:`filter_contacts`).
        priority: Priority filter.
        tier: Tier filter.
        intent: Intent filter.
        warmup_s: Keep contacts arriving at or after this time (seconds).
        horizon_s: Keep contacts arriving before this time (seconds).

    Returns:
        The service level in ``[0, 1]``; NaN when the denominator is 0.
    """
    check_convention(convention)
    if is_empty(contacts):
        return math.nan
    sub = filter_contacts(
        contacts, channel=channel, priority=priority, tier=tier, intent=intent, warmup_s=warmup_s, horizon_s=horizon_s
    )
    if len(sub) == 0:
        return math.nan
    a_col, ab_col, c_col = threshold_columns(threshold_s)
    f = classify_contacts(sub, [threshold_s], short_abandon_s)
    s = {k: float(np.count_nonzero(f[k])) for k in (a_col, ab_col, c_col, "answered", "abandoned", "abandoned_short")}
    return float(
        sl_from_counts(
            s[a_col], s[ab_col], s[c_col], s["answered"], s["abandoned"], s["abandoned_short"], convention,
            float(np.count_nonzero(f["timed_out"])),
        )
    )  # fmt: skip


def asa_s(intervals: pd.DataFrame | None) -> float:
    """Average speed of answer: mean wait of answered contacts, zeros included (seconds; NaN if none)."""
    s = column_sums(intervals, ("wait_answered_s", "answered"))
    return float(ratio(s["wait_answered_s"], s["answered"]))


def mean_wait_all_s(intervals: pd.DataFrame | None) -> float:
    """Mean wait of answered and abandoned contacts (seconds; NaN if none)."""
    s = column_sums(intervals, ("wait_answered_s", "wait_abandoned_s", "answered", "abandoned"))
    return float(ratio(s["wait_answered_s"] + s["wait_abandoned_s"], s["answered"] + s["abandoned"]))


def p_wait(intervals: pd.DataFrame | None) -> float:
    """P(wait > 0) = delayed / (answered + abandoned) (NaN if none)."""
    s = column_sums(intervals, ("delayed", "answered", "abandoned"))
    return float(ratio(s["delayed"], s["answered"] + s["abandoned"]))


def mechanics_kpis(intervals: pd.DataFrame | None) -> dict[str, float]:
    """Channel-mechanics KPIs of the rows of an ``intervals`` frame (:data:`sim.metrics.MECHANICS_METRICS`).

    With *arriving* = offered + blocked + balked + callback requests (every contact that reached the channel's
    human side; bot outcomes excluded): ``blocking_rate`` = blocked / arriving, ``balk_rate`` = balked / arriving,
    ``timed_out_rate`` = timed out / offered; ``callback_wait_mean_s`` = mean wait until called of answered call
    backs (seconds), reported apart from ASA; ``asa_with_callbacks_s`` = (wait of answered inbound + wait until
    called of answered call backs) / (answered + answered call backs), so hiding waits in callbacks cannot improve
    it. NaN where a denominator is 0.
    """
    names = ("offered", "answered", "wait_answered_s", *_MECH_COLUMNS)
    s = column_sums(intervals, names)
    arriving = s["offered"] + s["blocked"] + s["balked"] + s["callback_requested"]
    return {
        "blocked": s["blocked"],
        "blocking_rate": float(ratio(s["blocked"], arriving)),
        "balked": s["balked"],
        "balk_rate": float(ratio(s["balked"], arriving)),
        "timed_out": s["timed_out"],
        "timed_out_rate": float(ratio(s["timed_out"], s["offered"])),
        "callback_requested": s["callback_requested"],
        "callback_answered": s["callback_answered"],
        "callback_unanswered": s["callback_unanswered"],
        "callback_wait_mean_s": float(ratio(s["wait_callback_s"], s["callback_answered"])),
        "asa_with_callbacks_s": float(
            ratio(s["wait_answered_s"] + s["wait_callback_s"], s["answered"] + s["callback_answered"])
        ),
    }


_MECH_COLUMNS = (
    "blocked", "balked", "timed_out", "callback_requested", "callback_answered", "callback_unanswered",
    "wait_callback_s",
)  # fmt: skip


def abandon_rate(intervals: pd.DataFrame | None) -> float:
    """Abandonment rate = abandoned / offered to the queue (NaN if nothing offered)."""
    s = column_sums(intervals, ("abandoned", "offered"))
    return float(ratio(s["abandoned"], s["offered"]))


def backlog_h(intervals: pd.DataFrame | None, window_s: float) -> float:
    """Hours of work the backlog at the end represents: contacts still waiting / contacts answered per hour.

    The answer rate is that of the window (``window_s`` seconds, usually the measured period). A stable center
    ends with a backlog of minutes; one whose queue grows without bound ends with days' worth, and then its waits
    describe a growing queue, not a steady state. 0 without a backlog, ``inf`` with a backlog and no answer, NaN
    with neither.

    Example:
        >>> import pandas as pd
        >>> backlog_h(pd.DataFrame({"censored": [500], "answered": [2400]}), 86400.0)  # 100 answered an hour
        5.0
    """
    s = column_sums(intervals, ("censored", "answered"))
    if s["censored"] == 0:
        return 0.0 if s["answered"] > 0 else math.nan
    rate_h = s["answered"] / (window_s / 3600.0) if window_s > 0 else 0.0
    return float(s["censored"] / rate_h) if rate_h > 0 else math.inf


def short_abandons(intervals: pd.DataFrame | None) -> int:
    """Number of short abandons (waited less than their channel's ``short_abandon``)."""
    return int(column_sums(intervals, ("abandoned_short",))["abandoned_short"])


def frt_max_s(intervals: pd.DataFrame | None) -> float:
    """Longest first-response time of an answered contact (seconds; NaN if none was answered)."""
    if is_empty(intervals):
        return math.nan
    assert intervals is not None  # is_empty(None) is True
    require_columns(intervals, ("answered", "max_wait_answered_s"), "intervals")
    answered = intervals["answered"].to_numpy(dtype=float) > 0
    if not answered.any():
        return math.nan
    return float(intervals["max_wait_answered_s"].to_numpy(dtype=float)[answered].max())


def frt_quantiles_from_hist(frt_hist: pd.DataFrame | None, quantiles: Sequence[float] = (0.5, 0.9)) -> np.ndarray:
    """FRT quantiles of answered contacts from an ``frt_hist`` frame (seconds).

    Rows of several segments are merged bin by bin; within a bin the quantile is interpolated linearly (counts
    spread uniformly over ``[bin_lo_s, bin_hi_s)``): the ``q`` quantile is the point where the cumulative count
    reaches ``q * total``.

    Args:
        frt_hist: ``frt_hist`` frame (or a selection of its rows).
        quantiles: Probabilities in ``[0, 1]``.

    Returns:
        One value per probability (NaN for all if the histogram is empty).
    """
    q = np.asarray(quantiles, dtype=float)
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantiles must be in [0, 1], got {list(quantiles)}")
    if is_empty(frt_hist):
        return np.full(q.shape, np.nan)
    assert frt_hist is not None  # is_empty(None) is True
    require_columns(frt_hist, ("bin_lo_s", "bin_hi_s", "count"), "frt_hist")
    bins = frt_hist.groupby(["bin_lo_s", "bin_hi_s"], sort=True)["count"].sum()
    bins = bins[bins > 0]
    if len(bins) == 0:
        return np.full(q.shape, np.nan)
    lo = bins.index.get_level_values(0).to_numpy(dtype=float)
    hi = bins.index.get_level_values(1).to_numpy(dtype=float)
    count = bins.to_numpy(dtype=float)
    cum = np.cumsum(count)
    rank = q * cum[-1]
    idx = np.minimum(np.searchsorted(cum, rank, side="left"), len(cum) - 1)
    before = cum[idx] - count[idx]
    return lo[idx] + (rank - before) / count[idx] * (hi[idx] - lo[idx])


def frt_quantiles(contacts: pd.DataFrame | None, quantiles: Sequence[float] = (0.5, 0.9)) -> np.ndarray:
    """Exact FRT quantiles of answered contacts from a contact log (seconds; ``numpy.quantile``, linear).

    Args:
        contacts: ``contacts`` frame (filter first, e.g. with :func:`filter_contacts`).
        quantiles: Probabilities in ``[0, 1]``.

    Returns:
        One value per probability (NaN for all if no contact was answered).
    """
    q = np.asarray(quantiles, dtype=float)
    if is_empty(contacts):
        return np.full(q.shape, np.nan)
    assert contacts is not None  # is_empty(None) is True
    answered = contacts["outcome"].isin(ANSWERED_OUTCOMES).to_numpy(dtype=bool)
    frt = contacts["first_response_s"].to_numpy(dtype=float)[answered]
    if len(frt) == 0:
        return np.full(q.shape, np.nan)
    return np.quantile(frt, q)


# -------------------------------------------------------------------------------------------------- agents


def occupancy(agents: pd.DataFrame | None) -> float:
    """Occupancy = busy / (logged in - break) over the agents given (NaN if no available time)."""
    s = column_sums(agents, ("busy_s", "logged_in_s", "break_s"), "agents")
    return float(ratio(s["busy_s"], s["logged_in_s"] - s["break_s"]))


def occupancy_from_staffing(
    staffing: pd.DataFrame | None,
    *,
    interval_s: float,
    horizon_s: float,
    group: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
) -> float:
    """Occupancy = busy / (logged in - on break) from the time-weighted ``staffing`` frame, after warm-up.

    Each interval's mean levels are weighted by the interval's length inside the horizon (the last interval may
    be shorter), so the result is a ratio of agent-seconds, like :func:`occupancy`.

    Args:
        staffing: ``staffing`` frame.
        interval_s: Reporting interval length (seconds).
        horizon_s: Simulated horizon (seconds).
        group: Group name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds).

    Returns:
        The occupancy (NaN if no available agent time).
    """
    if is_empty(staffing):
        return math.nan
    sub = select_rows(staffing, group=group)
    assert sub is not None
    require_columns(sub, ("interval_start_s", "logged_in", "busy", "on_break"), "staffing")
    start = sub["interval_start_s"].to_numpy(dtype=float)
    weight = np.clip(horizon_s - start, 0.0, interval_s) * (start >= warmup_s)
    busy = float(np.dot(weight, sub["busy"].to_numpy(dtype=float)))
    available = float(np.dot(weight, sub["logged_in"].to_numpy(dtype=float) - sub["on_break"].to_numpy(dtype=float)))
    return float(ratio(busy, available))


def slot_occupancy_from_staffing(
    staffing: pd.DataFrame | None,
    *,
    slots: Mapping[str, int],
    interval_s: float,
    horizon_s: float,
    group: str | Sequence[str] | None = None,
    warmup_s: float = 0.0,
) -> float:
    """Slot occupancy = contacts in service / (available agents x their slots), time-weighted, after warm-up.

    For chat agents who may hold ``k`` chats at once, occupancy (time with >= 1 chat) says little about spare
    capacity; slot occupancy is the share of chat slots in use. For one-slot agents both are the same.

    Args:
        staffing: ``staffing`` frame.
        slots: Slots per agent of each group (its largest channel concurrency).
        interval_s: Reporting interval length (seconds).
        horizon_s: Simulated horizon (seconds).
        group: Group name(s) to keep; ``None`` keeps all.
        warmup_s: Keep intervals starting at or after this time (seconds).

    Returns:
        The slot occupancy (NaN if no available agent time).
    """
    if is_empty(staffing):
        return math.nan
    sub = select_rows(staffing, group=group)
    assert sub is not None
    require_columns(sub, ("interval_start_s", "group", "logged_in", "on_break", "busy_slots"), "staffing")
    start = sub["interval_start_s"].to_numpy(dtype=float)
    weight = np.clip(horizon_s - start, 0.0, interval_s) * (start >= warmup_s)
    per_agent = sub["group"].astype(str).map(slots).to_numpy(dtype=float)
    in_service = float(np.dot(weight, sub["busy_slots"].to_numpy(dtype=float)))
    available = sub["logged_in"].to_numpy(dtype=float) - sub["on_break"].to_numpy(dtype=float)
    return float(ratio(in_service, float(np.dot(weight, available * per_agent))))


def utilization(agents: pd.DataFrame | None) -> float:
    """Utilization = (logged-in - break) time / paid time over the agents given (NaN if nothing paid)."""
    s = column_sums(agents, ("logged_in_s", "break_s", "paid_s"), "agents")
    return float(ratio(s["logged_in_s"] - s["break_s"], s["paid_s"]))


def overtime_h(agents: pd.DataFrame | None) -> float:
    """Overtime hours (after shift end, finishing the contact in hand) over the agents given."""
    return column_sums(agents, ("overtime_s",), "agents")["overtime_s"] / 3600.0


def labor_cost(agents: pd.DataFrame | None) -> float:
    """Labor cost (the engine's ``cost`` column: paid hours x rate, overtime premiums) over the agents given."""
    return column_sums(agents, ("cost",), "agents")["cost"]


def cost_per_contact(agents: pd.DataFrame | None) -> float:
    """Labor cost per contact handled by the agents given (NaN if none handled)."""
    s = column_sums(agents, ("cost", "handled"), "agents")
    return float(ratio(s["cost"], s["handled"]))


def paid_h(agents: pd.DataFrame | None) -> float:
    """Paid hours (shift and overtime) over the agents given."""
    return column_sums(agents, ("paid_s",), "agents")["paid_s"] / 3600.0


def handled(agents: pd.DataFrame | None) -> float:
    """Number of contacts handled by the agents given."""
    return column_sums(agents, ("handled",), "agents")["handled"]


# ------------------------------------------------------------------------------------------------- resolution

_RES_KEYS = ("replication", "channel", "priority", "tier")


def resolution_kpis(resolution: pd.DataFrame | None, intervals: pd.DataFrame | None) -> dict[str, float]:
    """Bot, approval and repeat-contact KPIs from the ``resolution`` (and ``intervals``) frames.

    Containment = resolved / offered to the bot; deflection = resolved by the bot / all arrivals (those offered
    to the human queue plus those that ended in the bot); rates of the bot's other endings are per bot session.
    Escalation rate = escalated approvals / approvals; FCR = first contacts resolved without a repeat or an
    async escalation, a silent failure or an abandoned transfer / first contacts handled (served, bot-resolved
    or silent failure). Transfer abandon rate = transfers abandoned while holding for the second skill /
    transfers; transfer wait = hold until the second agent answers. NaN when undefined.

    Args:
        resolution: ``resolution`` frame (or a selection of its rows).
        intervals: ``intervals`` frame of the same selection (for the contacts offered to the human queue).

    Returns:
        ``{name: value}`` in :data:`~sim.metrics.names.RESOLUTION_METRICS` order; empty when ``resolution`` is
        empty or ``None``.
    """
    if is_empty(resolution):
        return {}
    assert resolution is not None  # is_empty(None) is True
    r = {name: float(resolution[name].sum()) for name in resolution.columns if name not in _RES_KEYS}
    offered_queue = 0.0 if intervals is None or is_empty(intervals) else float(intervals["offered"].sum())
    ended_in_bot = r["bot_resolved"] + r["bot_abandoned"] + r["bot_silent_failure"]
    bot = r["bot_offered"]
    return {
        "bot_offered": bot,
        "bot_containment": ratio(r["bot_resolved"], bot),
        "bot_deflection": ratio(r["bot_resolved"], offered_queue + ended_in_bot),
        "bot_escalation_rate": ratio(r["bot_escalated"], bot),
        "bot_abandon_rate": ratio(r["bot_abandoned"], bot),
        "bot_silent_failure_rate": ratio(r["bot_silent_failure"], bot),
        "bot_frt_mean_s": ratio(r["bot_frt_s"], bot),
        "bot_session_mean_s": ratio(r["bot_session_s"], bot),
        "handoff_mean_s": ratio(r["handoff_s"], r["handoff_n"]),
        "approvals": r["approvals"],
        "escalation_rate": ratio(r["escalated_sync"] + r["escalated_async"], r["approvals"]),
        "approval_wait_mean_s": ratio(r["approval_wait_s"], r["approval_n"]),
        "fcr": ratio(r["first_contact_resolved"], r["first_contacts"]),
        "repeat_contacts": r["repeat_contacts"],
        "same_agent_share": ratio(r["same_agent"], r["returning"]),
        "transfers": r["transfers"],
        "transfer_abandon_rate": ratio(r["transfer_abandoned"], r["transfers"]),
        "transfer_wait_mean_s": ratio(r["transfer_wait_s"], r["transfer_answered"]),
    }
