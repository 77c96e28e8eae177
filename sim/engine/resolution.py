"""Resolution counters: bot, approval, transfer and repeat-contact tallies per channel x priority x tier.

Counted for contacts arriving after the warm-up; they become the ``resolution`` frame (see :mod:`sim.schema`).
Stages add to ``counters[contact.seg][FIELD]`` with the field indices below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.schema import PRIORITIES, TIERS

__all__ = ["RESOLUTION_FIELDS", "new_counters", "resolution_frame"]

RESOLUTION_FIELDS: tuple[str, ...] = (
    "bot_offered", "bot_resolved", "bot_escalated", "bot_abandoned", "bot_silent_failure",
    "bot_session_s", "bot_frt_s", "handoff_n", "handoff_s", "approvals", "self_approved", "escalated_sync",
    "escalated_async", "approval_n", "approval_wait_s", "leakage", "repeat_contacts", "first_contacts",
    "first_contact_resolved", "returning", "same_agent", "transfers", "transfer_answered", "transfer_abandoned",
    "transfer_wait_s",
)  # fmt: skip
"""Counters of the ``resolution`` frame, in column order."""
(
    BOT_OFFERED, BOT_RESOLVED, BOT_ESCALATED, BOT_ABANDONED, BOT_SILENT, BOT_SESSION, BOT_FRT, HANDOFF_N,
    HANDOFF_S, APPROVALS, SELF, SYNC, ASYNC, APPROVAL_N, APPROVAL_WAIT, LEAKAGE, REPEATS, FIRST, FCR, RETURNING,
    SAME_AGENT, TRANSFERS, TRANSFER_ANSWERED, TRANSFER_ABANDONED, TRANSFER_WAIT,
) = range(len(RESOLUTION_FIELDS))  # fmt: skip


def new_counters(n_channels: int) -> list[list[float]]:
    """Zeroed counters, one row per segment (channel x priority x tier, as ``Contact.seg``)."""
    return [[0.0] * len(RESOLUTION_FIELDS) for _ in range(n_channels * 4)]


def resolution_frame(counters: list[list[float]], channels: list[str], replication: int) -> pd.DataFrame:
    """The ``resolution`` frame of one replication."""
    n_seg = len(counters)
    seg = np.arange(n_seg)
    frame = {
        "replication": np.full(n_seg, replication, dtype=np.int64),
        "channel": pd.Categorical.from_codes(seg // 4, categories=channels),
        "priority": pd.Categorical.from_codes((seg // 2) % 2, categories=list(PRIORITIES)),
        "tier": pd.Categorical.from_codes(seg % 2, categories=list(TIERS)),
    }
    values = np.array(counters, dtype=float).reshape(n_seg, len(RESOLUTION_FIELDS))
    for i, name in enumerate(RESOLUTION_FIELDS):
        frame[name] = values[:, i]
    return pd.DataFrame(frame)
