"""Arrival hooks: what features do to each arrival row, installed on the center once at set-up.

:func:`install_arrival_hooks` installs them (none when unused). Some features draw a value per arrival when its
batch is read (wrap-up, a replayed row's log row, the mechanics draws: each a :class:`RowHook`); others do not turn
every arrival row into one contact at once and in batch order (a ``shift_demand`` plan re-schedules the row or loses
it; an outage loses, delays or moves the contact). The invariant: a per-arrival value belongs to its arrival row,
kept by the row's identity (``id(row)``: a row stays alive until it arrives or is lost, so no id is reused while
pending), and is bound to the contact created from that row, by contact id, at the moment it is created, and nowhere
else. Hence the fixed order, outermost first: plans (before any contact exists; a row they lose is bound by
``_bind_row`` first), the binding, the outages (the contact id is fixed, whatever happens to the contact next), the
center's own ``_arrive``. Every contact created from a row takes exactly its own row's values, so contacts an outage
or a plan does not touch get the same draws with and without it (common random numbers). A new hook that creates
contacts from rows must create them inside the binding (or call ``_bind_row``); a new per-arrival draw must be a
:class:`RowHook`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sim.arrivals import ArrivalBatch

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["RowHook", "install_arrival_hooks"]


class RowHook(Protocol):
    """A set-up hook that draws a value per arrival row when a batch is read and gives it to the row's contact."""

    def register(self, batch: ArrivalBatch, rows: list[tuple]) -> None:
        """Draw or note the values of a batch's rows (``rows`` is the batch as rows, in batch order)."""

    def bind(self, row: tuple, contact_id: int) -> None:
        """The contact ``contact_id`` is being created from ``row`` now: it takes the row's values."""


def install_arrival_hooks(center: ContactCenter) -> None:
    """Wrap the center's ``_rows`` / ``_arrive`` once, in the fixed order of the module docstring (none when unused).

    From the outside in: the ``shift_demand`` plans (may re-schedule or lose a row), the row binding of the
    per-arrival hooks (wrap-up, log rows, mechanics draws: bound by row identity to the id of the contact about
    to be created), the outages (may lose, delay or move the contact created), the center's own arrival. This
    order does not depend on the order the features were built in.
    """
    arrive = center._arrive  # the class's own: creates the contact, routes it
    if center.outages is not None:
        center.outages._arrive = arrive
        arrive = center.outages.arrive
    hooks: list[RowHook] = [h for h in (center.wrap_up, center.source_rows) if h is not None]
    if center.mechanics.active:
        hooks.append(center.mechanics)
    if hooks:
        base_rows, inner = center._rows, arrive
        registers = tuple(h.register for h in hooks)
        binders = tuple(h.bind for h in hooks)

        def rows(batch: ArrivalBatch) -> list[tuple]:
            out = base_rows(batch)
            for register in registers:
                register(batch, out)
            return out

        def bind_row(row: tuple) -> None:
            cid = center._next_id
            for bind in binders:
                bind(row, cid)

        def bound_arrive(row: tuple) -> None:
            cid = center._next_id
            for bind in binders:
                bind(row, cid)
            inner(row)

        center._rows = rows  # type: ignore[method-assign]
        center._bind_row = bind_row  # type: ignore[method-assign]
        arrive = bound_arrive
    if center.plans is not None and center.plans.shifts_demand:
        center.plans._arrive = arrive
        arrive = center.plans.arrive
    center._arrive = arrive  # type: ignore[method-assign]
