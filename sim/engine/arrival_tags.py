"""Per-arrival tags kept beside the engine's contacts: a replayed row's identity, and the contacts frame columns.

With a replayed scenario and the contact log kept, :class:`SourceRows` notes, for every arrival, the contact id
it becomes and the 0-based log row it comes from (the batch's ``source_row``): kept by the arrival row's identity
when the batch is read and bound to the contact when one is created from that row (also when a ``shift_demand``
plan re-schedules the row, or loses it). The center installs it among its arrival hooks at setup only in that
case (see :mod:`sim.engine.center`), so a run without it pays nothing per event.
:func:`tag_contacts` adds ``source_row`` (-1 for contacts not from the log: repeats, generated arrivals) and
``wrap_s`` (0 where none) to the contacts frame; :func:`attach_passthrough` adds the ``log_<column>`` texts.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.arrivals import ArrivalBatch, ReplayLog

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["SourceRows", "attach_passthrough", "tag_contacts"]


class SourceRows:
    """Records ``(contact id, log row)`` of each arrival (installed on the center when needed)."""

    def __init__(self, center: ContactCenter) -> None:
        self.c = center
        self.ids = array("q")
        self.rows = array("q")
        self._pending: dict[int, int] = {}
        """Log row of each arrival row read but not yet arrived, by ``id(row)``."""

    def register(self, batch: ArrivalBatch, rows: list[tuple]) -> None:
        """Note the log rows of a batch's rows (``rows`` is ``batch`` as the center's rows, in the same order)."""
        src = batch.source_row
        self._pending.update(zip(map(id, rows), src.tolist() if src is not None else [-1] * len(batch), strict=True))

    def bind(self, row: tuple, contact_id: int) -> None:
        """The contact ``contact_id`` is being created from ``row``: record its log row."""
        self.ids.append(contact_id)
        self.rows.append(self._pending.pop(id(row)))


def _by_id(contact_id: np.ndarray, ids: Any, values: Any, fill: float, dtype: Any) -> np.ndarray:
    """``values`` placed at the rows of ``contact_id`` equal to ``ids`` (``contact_id`` is sorted), else ``fill``."""
    out = np.full(len(contact_id), fill, dtype=dtype)
    ids = np.frombuffer(ids, dtype=np.int64) if isinstance(ids, array) else np.asarray(ids, dtype=np.int64)
    if len(ids) and len(contact_id):
        pos = np.searchsorted(contact_id, ids)
        ok = pos < len(contact_id)
        ok[ok] = contact_id[pos[ok]] == ids[ok]
        out[pos[ok]] = np.asarray(values, dtype=dtype)[ok]
    return out


def tag_contacts(center: ContactCenter, contacts: pd.DataFrame) -> None:
    """Add ``source_row`` (int64, -1 if not from the log) and ``wrap_s`` (seconds, 0 if none) in place."""
    cid = contacts["contact_id"].to_numpy(dtype=np.int64)
    src = center.source_rows
    if src is None:
        contacts["source_row"] = np.full(len(cid), -1, dtype=np.int64)
    else:
        contacts["source_row"] = _by_id(cid, src.ids, np.frombuffer(src.rows, dtype=np.int64), -1, np.int64)
    wrap = center.wrap_up
    if wrap is None:
        contacts["wrap_s"] = np.zeros(len(cid))
    else:
        contacts["wrap_s"] = _by_id(cid, wrap.done_ids, np.frombuffer(wrap.done_wrap, dtype=float), 0.0, float)


def attach_passthrough(contacts: pd.DataFrame | None, replay: ReplayLog | None) -> None:
    """Add a ``log_<column>`` text column per passthrough column (``""`` for contacts not from the log)."""
    if contacts is None or replay is None or not replay.passthrough or replay.source_row is None:
        return
    rows = contacts["source_row"].to_numpy(dtype=np.int64)
    order = np.argsort(replay.source_row, kind="stable")
    keys = replay.source_row[order]
    pos = np.searchsorted(keys, rows)
    pos = np.minimum(pos, max(len(keys) - 1, 0))
    found = (rows >= 0) & (len(keys) > 0) & (keys[pos] == rows) if len(keys) else np.zeros(len(rows), dtype=bool)
    for name, values in replay.passthrough.items():
        col = np.full(len(rows), "", dtype=object)
        col[found] = values[order][pos[found]]
        contacts[f"log_{name}"] = col
