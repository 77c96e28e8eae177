"""Recording: finished contacts and agent periods, aggregated in numpy chunks into the output frames.

The engine appends each finished :class:`~sim.entities.Contact` to a list and each closed agent period (logged in,
busy, on break) to flat arrays. Every ``chunk`` contacts the recorder turns them into arrays and adds them to
per-interval accumulators, so memory stays flat in the number of contacts; with ``log=True`` the arrays are also
kept and become the ``contacts`` frame. Time-weighted levels (queue length, contacts in service, agents logged in)
are exact: each waiting / service / agent period adds its overlap with every interval it spans.
"""

from __future__ import annotations

import math
import struct
from array import array

import numpy as np
import pandas as pd

from sim.schema import OUTCOMES, PRIORITIES, TIERS, frt_bin, frt_bin_bounds, threshold_label

__all__ = ["APPROVALS", "BOT_OUTCOMES", "LOG_PACK", "STREAM_PACK", "TRANSFERS", "Recorder", "add_bins", "spread"]

SERVED, ABANDONED, CENSORED = OUTCOMES.index("served"), OUTCOMES.index("abandoned"), OUTCOMES.index("censored")
LOST = OUTCOMES.index("lost")
ESCALATED_ASYNC = OUTCOMES.index("escalated_async")
BLOCKED, BALKED, TIMED_OUT = OUTCOMES.index("blocked"), OUTCOMES.index("balked"), OUTCOMES.index("timed_out")
CB_ANSWERED, CB_UNANSWERED = OUTCOMES.index("callback_answered"), OUTCOMES.index("callback_unanswered")
CB_CENSORED = OUTCOMES.index("callback_censored")
_FIRST_MECHANICS = min(BLOCKED, BALKED, TIMED_OUT, CB_ANSWERED, CB_UNANSWERED, CB_CENSORED)
"""Outcome codes from here on come from the channel mechanics (:mod:`sim.engine.mechanics`)."""
# What the engine writes per finished contact into ``Recorder.buf`` (floats), in this order. The log adds the rest.
STREAM_FIELDS = ("seg", "arrival_s", "outcome", "start_s", "end_s", "handle_s", "patience_s", "group", "queued_s")
LOG_FIELDS = (
    *STREAM_FIELDS, "contact_id", "channel", "intent", "priority", "tier", "language", "customer_id", "agent_id",
    "repeat", "bot", "bot_end_s", "amount", "approval", "approval_wait_s", "transfer", "transfer_wait_s",
    "retrial", "cb",
)  # fmt: skip
STREAM_PACK = struct.Struct(f"={len(STREAM_FIELDS)}d").pack
"""A finished contact's ``STREAM_FIELDS`` as the native doubles of ``Recorder.buf``: ``buf.frombytes(STREAM_PACK(
...))`` appends a row in about 200 ns where ``buf.extend(tuple)`` takes about 470 (every service end does it)."""
LOG_PACK = struct.Struct(f"={len(LOG_FIELDS)}d").pack
"""The same for ``LOG_FIELDS``."""
BOT_OUTCOMES: tuple[str, ...] = ("", "resolved", "abandoned", "silent_failure", "escalated")
"""Bot ending by code (0: the contact was not offered to a bot)."""
APPROVALS: tuple[str, ...] = ("", "self", "team_lead", "back_office")
"""Approval route by code (0: no approval needed)."""
TRANSFERS: tuple[str, ...] = ("", "answered", "abandoned", "censored")
"""Outcome of a transfer to another skill by code (0: not transferred)."""
_CODES8 = ("outcome", "priority", "tier", "repeat", "bot", "approval", "transfer", "cb")
_CODES16 = ("channel", "intent", "language", "group", "retrial")
_TIMES = (
    "arrival_s", "patience_s", "start_s", "end_s", "handle_s", "wait_s", "queued_s", "bot_end_s", "amount",
    "approval_wait_s", "transfer_wait_s",
)  # fmt: skip
_LOG_DTYPES: dict[str, type] = {
    **dict.fromkeys(_CODES8, np.int8), **dict.fromkeys(_CODES16, np.int16), **dict.fromkeys(_TIMES, np.float64),
    "contact_id": np.int64, "customer_id": np.int64, "agent_id": np.int32,
}  # fmt: skip
"""Columns kept per contact for the contacts frame, and their storage types (codes need few bits)."""
MECHANICS_COUNTS: tuple[str, ...] = (
    "blocked", "balked", "timed_out", "callback_requested", "callback_answered", "callback_unanswered",
)  # fmt: skip
"""Count columns of the ``intervals`` frame for the channel mechanics (0 when unused)."""
MECHANICS_SUMS: tuple[str, ...] = ("wait_timed_out_s", "wait_callback_s")
"""Summed-seconds columns of the ``intervals`` frame for the channel mechanics (0 when unused)."""
# Agent period kinds recorded for the staffing frame.
LOGGED_IN, BUSY, ON_BREAK = 0, 1, 2


def interval_index(t_s: np.ndarray, interval_s: float) -> np.ndarray:
    """``(t_s // interval_s).astype(np.int64)`` for times ``t_s >= 0`` (seconds), about five times faster.

    numpy's float floor division is exact but slow. For a whole number of seconds per interval (every scenario's
    case) the rounded quotient ``floor(t / interval)`` is the exact one or one more (just below a multiple), which
    ``k * interval > t`` (exact: whole numbers below 2**53) detects; otherwise the floor division is used.
    """
    if interval_s <= 0.0 or interval_s != math.floor(interval_s) or interval_s >= 2.0**31:
        return (t_s // interval_s).astype(np.int64)
    k = np.floor(t_s / interval_s)
    k -= k * interval_s > t_s
    return k.astype(np.int64)


def add_bins(flat: np.ndarray, index: np.ndarray, weights: np.ndarray | None = None) -> None:
    """``flat[i] +=`` the number (or the sum of ``weights``) of entries of ``index`` equal to ``i``.

    ``np.bincount`` over the span ``[index.min(), index.max()]`` only: a chunk of contacts covers a few of a long
    run's intervals, and a full-length count would cost a pass over every interval of the run per column. The sums
    are the same, bit for bit (outside the span the full count only added zeros).

    Args:
        flat: One-dimensional array, updated in place.
        index: Non-negative integer positions in ``flat``.
        weights: One weight per entry of ``index`` (default: 1 each).
    """
    if not len(index):
        return
    lo, hi = int(index.min()), int(index.max()) + 1
    flat[lo:hi] += np.bincount(index - lo if lo else index, weights=weights, minlength=hi - lo)


def spread(out: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, column: np.ndarray, interval_s: float) -> None:
    """Add the overlap (seconds) of each period ``[start_s, end_s)`` with each interval into ``out[k, column]``.

    Args:
        out: Float array of shape (n_intervals, n_columns), updated in place.
        start_s: Period starts in seconds (clipped to the horizon covered by ``out``).
        end_s: Period ends in seconds.
        column: Column index of each period.
        interval_s: Interval length in seconds.
    """
    n_int, n_col = out.shape
    horizon = n_int * interval_s
    s = np.clip(start_s, 0.0, horizon)
    e = np.clip(end_s, 0.0, horizon)
    keep = e > s
    if not keep.all():
        s, e, column = s[keep], e[keep], column[keep]
    if not len(s):
        return
    k0 = np.minimum(interval_index(s, interval_s), n_int - 1)
    k1 = np.minimum(interval_index(e, interval_s), n_int)
    flat = out.reshape(-1)
    same = k0 == k1
    if same.all():
        add_bins(flat, k0 * n_col + column, e - s)
        return
    add_bins(flat, k0[same] * n_col + column[same], e[same] - s[same])
    d = ~same
    k0d, k1d, cd = k0[d], k1[d], column[d]
    add_bins(flat, k0d * n_col + cd, (k0d + 1) * interval_s - s[d])
    last = k1d < n_int
    add_bins(flat, k1d[last] * n_col + cd[last], e[d][last] - k1d[last] * interval_s)
    # Whole intervals strictly between k0 and k1: a difference array along the interval axis, over the rows
    # [r0, r1) it can be non-zero in (k0 + 1 <= k1 for these periods).
    r0, r1 = int(k0d.min()) + 1, int(k1d.max()) + 1
    m = (r1 - r0) * n_col
    diff = np.bincount((k0d + 1 - r0) * n_col + cd, minlength=m).astype(float)
    diff -= np.bincount((k1d - r0) * n_col + cd, minlength=m)
    hi = min(r1, n_int)
    out[r0:hi] += np.cumsum(diff.reshape(r1 - r0, n_col), axis=0)[: hi - r0] * interval_s


def frt_bins(wait_s: np.ndarray) -> np.ndarray:
    """Vectorised :func:`sim.schema.frt_bin`: the bin of each wait (seconds).

    Most waits are under 10 minutes (one-second bins), so the coarser bins are computed for the others only.
    """
    w = np.asarray(wait_s, dtype=float)
    out = np.floor(w)
    out += 1.0
    big = w >= 600.0
    if big.any():
        wb = w[big]
        b2 = 601.0 + (wb - 600.0) // 10.0
        b3 = 601.0 + 660.0 + (wb - 7200.0) // 60.0
        b4 = 601.0 + 660.0 + 4200.0 + (wb - 259200.0) // 600.0
        out[big] = np.where(wb < 7200.0, b2, np.where(wb < 259200.0, b3, b4))
    out[w <= 0.0] = 0.0
    return out.astype(np.int64)


class Recorder:
    """Accumulates finished contacts and agent periods into interval tables (and optionally the contact log).

    Args:
        n_channels: Number of channels (segments are channel x priority x tier).
        n_groups: Number of agent groups.
        interval_s: Reporting interval in seconds.
        horizon_s: Simulated horizon in seconds.
        thresholds_s: SL thresholds in seconds.
        short_abandon_s: Short-abandon threshold per channel code (seconds).
        keep_log: Keep every contact for the ``contacts`` frame.
        single_slot_groups: Groups whose agents hold one contact at a time: their busy-agent level equals
            their contacts in service, so the engine does not record their busy periods.
        measure_start_s: The FRT histogram counts contacts arriving from this time on (the end of warm-up).
        chunk: Contacts buffered before they are aggregated.
    """

    def __init__(
        self,
        *,
        n_channels: int,
        n_groups: int,
        interval_s: float,
        horizon_s: float,
        thresholds_s: list[float],
        short_abandon_s: list[float],
        keep_log: bool,
        single_slot_groups: list[int] | None = None,
        measure_start_s: float = 0.0,
        chunk: int = 50_000,
    ) -> None:
        self.interval_s = interval_s
        self.horizon_s = horizon_s
        self.n_int = max(1, math.ceil(horizon_s / interval_s - 1e-9))
        self.n_seg = n_channels * 4
        self.n_groups = n_groups
        self.thresholds_s = list(thresholds_s)
        self.short_abandon_s = np.asarray(short_abandon_s, dtype=float)
        self.keep_log = keep_log
        self.single_slot_groups = list(single_slot_groups or [])
        self.measure_start_s = measure_start_s
        self.chunk = chunk
        self.fields = LOG_FIELDS if keep_log else STREAM_FIELDS
        self.buf = array("d")
        """Finished contacts not yet aggregated: ``len(self.fields)`` floats per contact, appended by the engine
        (which may hold on to it: it is the same array for the recorder's life, emptied by :meth:`flush`)."""
        self.limit = chunk * len(self.fields)
        self.periods_kind = array("b")
        self.periods_group = array("l")
        self.periods_start = array("d")
        self.periods_end = array("d")
        self.legs = array("d")
        """Second services of transfers (not contacts of their own): seg, group, queued, start, end, answered."""
        shape = (self.n_int, self.n_seg)
        self._counts = {name: np.zeros(shape) for name in self._count_columns()}
        self._max_wait = np.zeros(shape)
        self._queue_area = np.zeros(shape)
        self._service_area = np.zeros(shape)
        self._staff_area = np.zeros((3, self.n_int, n_groups))
        self._slots_area = np.zeros((self.n_int, n_groups))
        self._n_bins = frt_bin(horizon_s) + 2
        self._hist = np.zeros(self.n_seg * self._n_bins, dtype=np.int64)
        self._log: list[dict[str, np.ndarray]] = []
        self._contacts: pd.DataFrame | None = None
        self.n_recorded = 0

    def _count_columns(self) -> list[str]:
        cols = ["offered", "answered", "abandoned", "abandoned_short", "censored", "delayed", "lost", *MECHANICS_COUNTS]
        for t in self.thresholds_s:
            label = threshold_label(t)
            cols += [f"answered_within_{label}", f"abandoned_within_{label}", f"censored_over_{label}"]
        return [*cols, "wait_answered_s", "wait_abandoned_s", "handle_s", *MECHANICS_SUMS]

    # ------------------------------------------------------------------------------------------------ intake

    def add_period(self, kind: int, group: int, start_s: float, end_s: float) -> None:
        """Record a closed agent period (``LOGGED_IN``, ``BUSY`` or ``ON_BREAK``) of a group."""
        self.periods_kind.append(kind)
        self.periods_group.append(group)
        self.periods_start.append(start_s)
        self.periods_end.append(end_s)

    def record_stream(self, c) -> None:
        """Record a finished contact (the fields of ``STREAM_FIELDS``)."""
        buf = self.buf
        buf.frombytes(
            STREAM_PACK(c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, c.agent.group,
                        c.queued_s)
        )  # fmt: skip
        if len(buf) >= self.limit:
            self.flush()

    def record_log(self, c) -> None:
        """Record a finished contact with everything the contact log keeps (the fields of ``LOG_FIELDS``)."""
        buf = self.buf
        a = c.agent
        buf.frombytes(
            LOG_PACK(c.seg, c.arrival_s, c.outcome, c.start_s, c.end_s, c.handle_s, c.patience_s, a.group, c.queued_s,
                     c.id, c.channel, c.intent, c.priority, c.tier, c.language, c.customer_id, a.id,
                     c.repeat, c.bot, c.bot_end_s, c.amount, c.approval, c.approval_wait_s, c.transfer,
                     c.transfer_wait_s, c.retrial, c.cb)
        )  # fmt: skip
        if len(buf) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Aggregate the buffered contacts and periods (the engine calls this every ``chunk`` contacts)."""
        if self.buf:
            # One contiguous copy, a row per field (the buffer is then emptied in place: the engine appends to it).
            columns = np.frombuffer(self.buf, dtype=float).reshape(-1, len(self.fields)).T.copy()
            del self.buf[:]
            self._aggregate_contacts(columns)
        if self.periods_kind:
            kind = np.frombuffer(self.periods_kind, dtype=np.int8).astype(np.int64)
            group = np.frombuffer(self.periods_group, dtype=np.int_).astype(np.int64)
            start = np.frombuffer(self.periods_start, dtype=float)
            end = np.frombuffer(self.periods_end, dtype=float)
            for k in (LOGGED_IN, BUSY, ON_BREAK):
                m = kind == k
                spread(self._staff_area[k], start[m], end[m], group[m], self.interval_s)
            self.periods_kind, self.periods_group = array("b"), array("l")
            self.periods_start, self.periods_end = array("d"), array("d")
        if self.legs:
            self._aggregate_legs(np.frombuffer(self.legs, dtype=float).reshape(-1, 6))
            self.legs = array("d")

    def add_leg(self, seg: int, group: int, queued_s: float, start_s: float, end_s: float, answered: bool) -> None:
        """Record the second service of a transfer: its wait and service count in the time-weighted levels only.

        ``start_s`` is the answer time (or the abandonment time / horizon if unanswered); ``end_s`` the service
        end (NaN while still in service at the horizon). Counts, SL and FRT stay those of the first service.
        """
        self.legs.extend((seg, group, queued_s, start_s, end_s, float(answered)))

    def _aggregate_legs(self, rows: np.ndarray) -> None:
        seg, group = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
        queued, start, end, answered = rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5] > 0
        spread(self._queue_area, queued, start, seg, self.interval_s)
        end = np.where(np.isfinite(end), end, self.horizon_s)
        spread(self._service_area, start[answered], end[answered], seg[answered], self.interval_s)
        spread(self._slots_area, start[answered], end[answered], group[answered], self.interval_s)

    def _aggregate_contacts(self, columns: np.ndarray) -> None:
        """Aggregate a chunk of finished contacts, ``columns`` holding one row per field of :attr:`fields`."""
        self.n_recorded += columns.shape[1]
        col = dict(zip(self.fields, columns, strict=True))
        for name in ("seg", "outcome", "group", "contact_id", "channel", "intent", "priority", "tier", "language",
                     "customer_id", "agent_id", "repeat", "bot", "approval", "transfer", "retrial", "cb"):  # fmt: skip
            if name in col:
                col[name] = col[name].astype(np.int64)
        col["channel_code"] = col["seg"] // 4
        out = col["outcome"]
        served = (out == SERVED) | (out == ESCALATED_ASYNC)  # an async escalation was answered by a human
        wait = np.where(served, col["start_s"] - col["arrival_s"], np.nan)
        wait = np.where(out == ABANDONED, col["patience_s"], wait)
        wait = np.where(out == CENSORED, self.horizon_s - col["arrival_s"], wait)
        mech = out >= _FIRST_MECHANICS
        if mech.any():  # blocked / balked / timed out: until they left; callbacks: until called (or the horizon)
            left = (out == BLOCKED) | (out == BALKED) | (out == TIMED_OUT)
            wait = np.where(left, col["end_s"] - col["arrival_s"], wait)
            called = (out == CB_ANSWERED) | (out == CB_UNANSWERED)
            wait = np.where(called, col["start_s"] - col["arrival_s"], wait)
            wait = np.where(out == CB_CENSORED, self.horizon_s - col["arrival_s"], wait)
        col["wait_s"] = wait
        if self.keep_log:  # compact copies of the columns the contacts frame needs
            self._log.append({name: col[name].astype(dtype, copy=False) for name, dtype in _LOG_DTYPES.items()})
        self._add_counts(col, served, out == ABANDONED, out == CENSORED, wait, out if mech.any() else None)

    def _add_counts(self, col, served, abandoned, censored, wait, mech_out) -> None:
        seg = col["seg"]
        k = np.minimum(interval_index(col["arrival_s"], self.interval_s), self.n_int - 1)
        idx = k * self.n_seg + seg
        c = self._counts

        def add(name: str, mask: np.ndarray, weights: np.ndarray | None = None) -> None:
            add_bins(c[name].reshape(-1), idx[mask], None if weights is None else weights[mask])

        in_queue = served | abandoned | censored
        timed_out = np.zeros(len(seg), dtype=bool)
        queued = worked = None  # beyond in_queue / served: timed-out contacts and callback requests
        if mech_out is not None:
            timed_out = mech_out == TIMED_OUT
            cb_called = (mech_out == CB_ANSWERED) | (mech_out == CB_UNANSWERED)
            cb_any = cb_called | (mech_out == CB_CENSORED)
            add("blocked", mech_out == BLOCKED)
            add("balked", mech_out == BALKED)
            add("timed_out", timed_out)
            add("callback_requested", cb_any)
            add("callback_answered", mech_out == CB_ANSWERED)
            add("callback_unanswered", mech_out == CB_UNANSWERED)
            add("wait_timed_out_s", timed_out, wait)
            add("wait_callback_s", mech_out == CB_ANSWERED, wait)
            queued = in_queue | timed_out | cb_any
            worked = served | cb_called
            in_queue = in_queue | timed_out
        add("offered", in_queue)
        add("answered", served)
        add("abandoned", abandoned)
        add("censored", censored)
        short = self.short_abandon_s[col["channel_code"]]
        add("abandoned_short", abandoned & (wait < short))
        add("delayed", (served | abandoned) & (wait > 0))
        add("lost", col["outcome"] == LOST)
        for t in self.thresholds_s:
            label = threshold_label(t)
            add(f"answered_within_{label}", served & (wait <= t))
            add(f"abandoned_within_{label}", abandoned & (wait <= t))
            add(f"censored_over_{label}", censored & (wait > t))
        add("wait_answered_s", served, wait)
        add("wait_abandoned_s", abandoned, wait)
        finished = served & np.isfinite(col["end_s"])
        add("handle_s", finished, col["handle_s"])
        if served.any():
            order = np.argsort(idx[served], kind="stable")
            keys, w_sorted = idx[served][order], wait[served][order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            flat_max = self._max_wait.reshape(-1)
            flat_max[keys[starts]] = np.maximum(flat_max[keys[starts]], np.maximum.reduceat(w_sorted, starts))
        # Time-weighted levels: waiting periods and service periods, split over the intervals they span.
        arr = col["arrival_s"]
        if queued is None:
            queued = in_queue
        spread(self._queue_area, col["queued_s"][queued], arr[queued] + wait[queued], seg[queued], self.interval_s)
        end = np.where(np.isfinite(col["end_s"]), col["end_s"], self.horizon_s)
        if worked is None:
            worked = served
        spread(self._service_area, col["start_s"][worked], end[worked], seg[worked], self.interval_s)
        spread(self._slots_area, col["start_s"][worked], end[worked], col["group"][worked], self.interval_s)
        measured = served & (arr >= self.measure_start_s)
        bins = np.minimum(frt_bins(wait[measured]), self._n_bins - 1)
        self._hist += np.bincount(seg[measured] * self._n_bins + bins, minlength=len(self._hist))

    # ------------------------------------------------------------------------------------------------ output

    def _interval_lengths(self) -> np.ndarray:
        starts = np.arange(self.n_int) * self.interval_s
        return np.minimum(starts + self.interval_s, self.horizon_s) - starts

    def intervals_frame(self, replication: int, channels: list[str]) -> pd.DataFrame:
        """The ``intervals`` frame (see :mod:`sim.schema`)."""
        n_int, n_seg = self.n_int, self.n_seg
        k = np.repeat(np.arange(n_int), n_seg)
        seg = np.tile(np.arange(n_seg), n_int)
        length = self._interval_lengths()[k]
        frame = {
            "replication": np.full(n_int * n_seg, replication, dtype=np.int64),
            "interval": k,
            "interval_start_s": k * self.interval_s,
            "channel": pd.Categorical.from_codes(seg // 4, categories=channels),
            "priority": pd.Categorical.from_codes((seg // 2) % 2, categories=list(PRIORITIES)),
            "tier": pd.Categorical.from_codes(seg % 2, categories=list(TIERS)),
        }
        for name, values in self._counts.items():
            flat = values.reshape(-1)
            frame[name] = flat if name.endswith("_s") else flat.astype(np.int64)
        frame["max_wait_answered_s"] = self._max_wait.reshape(-1)
        frame["queue_len"] = self._queue_area.reshape(-1) / length
        frame["in_service"] = self._service_area.reshape(-1) / length
        return pd.DataFrame(frame)

    def staffing_frame(self, replication: int, groups: list[str]) -> pd.DataFrame:
        """The ``staffing`` frame (see :mod:`sim.schema`)."""
        n_int, n_g = self.n_int, self.n_groups
        k = np.repeat(np.arange(n_int), n_g)
        g = np.tile(np.arange(n_g), n_int)
        length = self._interval_lengths()[k]
        busy = self._staff_area[BUSY].copy()
        busy[:, self.single_slot_groups] = self._slots_area[:, self.single_slot_groups]
        return pd.DataFrame(
            {
                "replication": np.full(n_int * n_g, replication, dtype=np.int64),
                "interval": k,
                "interval_start_s": k * self.interval_s,
                "group": pd.Categorical.from_codes(g, categories=groups),
                "logged_in": self._staff_area[LOGGED_IN].reshape(-1) / length,
                "busy": busy.reshape(-1) / length,
                "on_break": self._staff_area[ON_BREAK].reshape(-1) / length,
                "busy_slots": self._slots_area.reshape(-1) / length,
            }
        )

    def frt_hist_frame(self, replication: int, channels: list[str]) -> pd.DataFrame:
        """The ``frt_hist`` frame: non-empty FRT bins per segment."""
        nz = np.flatnonzero(self._hist)
        seg, b = nz // self._n_bins, nz % self._n_bins
        bounds = np.array([frt_bin_bounds(int(i)) for i in b]).reshape(-1, 2)
        return pd.DataFrame(
            {
                "replication": np.full(len(nz), replication, dtype=np.int64),
                "channel": pd.Categorical.from_codes(seg // 4, categories=channels),
                "priority": pd.Categorical.from_codes((seg // 2) % 2, categories=list(PRIORITIES)),
                "tier": pd.Categorical.from_codes(seg % 2, categories=list(TIERS)),
                "bin_lo_s": bounds[:, 0],
                "bin_hi_s": bounds[:, 1],
                "count": self._hist[nz],
            }
        )

    def contacts_frame(
        self, replication: int, channels: list[str], intents: list[str], languages: list[str], groups: list[str]
    ) -> pd.DataFrame | None:
        """The ``contacts`` frame, or ``None`` when the log was not kept (built once: the log is handed over)."""
        if not self.keep_log:
            return None
        if self._contacts is not None:
            return self._contacts
        def column(name: str) -> np.ndarray:
            return np.concatenate([c[name] for c in self._log]) if self._log else np.zeros(0, _LOG_DTYPES[name])

        order = np.argsort(column("contact_id"), kind="stable")
        cols = {}
        for name in _LOG_DTYPES:  # one column at a time, each chunk's copy released once it is in the frame
            cols[name] = column(name)[order]
            for chunk in self._log:
                del chunk[name]
        served = (cols["outcome"] == SERVED) | (cols["outcome"] == ESCALATED_ASYNC)
        responded = served | (cols["outcome"] == CB_ANSWERED)  # a call back is the first human response
        escalated = cols["bot"] == BOT_OUTCOMES.index("escalated")
        group_codes = cols["group"].astype(np.int64)
        self._contacts = pd.DataFrame(
            {
                "replication": np.full(len(order), replication, dtype=np.int64),
                "contact_id": cols["contact_id"].astype(np.int64),
                "channel": pd.Categorical.from_codes(cols["channel"].astype(np.int64), categories=channels),
                "intent": pd.Categorical.from_codes(cols["intent"].astype(np.int64), categories=intents),
                "priority": pd.Categorical.from_codes(cols["priority"].astype(np.int64), categories=list(PRIORITIES)),
                "tier": pd.Categorical.from_codes(cols["tier"].astype(np.int64), categories=list(TIERS)),
                "language": pd.Categorical.from_codes(cols["language"].astype(np.int64), categories=languages),
                "customer_id": cols["customer_id"].astype(np.int64),
                "arrival_s": cols["arrival_s"],
                "outcome": pd.Categorical.from_codes(cols["outcome"].astype(np.int64), categories=list(OUTCOMES)),
                "first_response_s": np.where(responded, cols["wait_s"], np.nan),
                "wait_s": cols["wait_s"],
                "patience_s": cols["patience_s"],
                "agent_id": cols["agent_id"].astype(np.int64),
                "group": pd.Categorical.from_codes(group_codes, categories=groups),
                "service_start_s": cols["start_s"],
                "service_end_s": cols["end_s"],
                "handle_s": cols["handle_s"],
                "queued_s": cols["queued_s"],
                "repeat": cols["repeat"].astype(bool),
                "bot_outcome": pd.Categorical.from_codes(cols["bot"].astype(np.int64), categories=list(BOT_OUTCOMES)),
                "bot_end_s": cols["bot_end_s"],
                "handoff_s": np.where(escalated & served, cols["start_s"] - cols["bot_end_s"], np.nan),
                "amount": cols["amount"],
                "approval": pd.Categorical.from_codes(cols["approval"].astype(np.int64), categories=list(APPROVALS)),
                "approval_wait_s": cols["approval_wait_s"],
                "transfer": pd.Categorical.from_codes(cols["transfer"].astype(np.int64), categories=list(TRANSFERS)),
                "transfer_wait_s": cols["transfer_wait_s"],
                "retrial": cols["retrial"].astype(np.int64),
                "callback": cols["cb"].astype(bool),
            }
        )
        self._log = []
        return self._contacts
