"""The plain center's own arrival and service end.

A plain center is the M/M/c+M core and its multi-queue kin; its arrival and service end leave out the branches of
:meth:`ContactCenter._arrive <sim.engine.center.ContactCenter._arrive>` and
:meth:`ContactCenter.release <sim.engine.center.ContactCenter.release>` that cannot apply to it.

:func:`is_plain` decides once at set-up; the center then binds :func:`arrive_plain` and :func:`release_plain` as its
``_arrive`` and ``_release`` (``types.MethodType``: called like its own methods, at the same cost). They give the same
results, bit for bit (a test runs a plain scenario both ways and compares every frame); they are the hot path of
the core workload, so they inline what the general methods call.
"""

from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING

from sim.entities import DONE, DRAINING, SERVING, WAITING, Contact
from sim.log import SERVED, STREAM_PACK

if TYPE_CHECKING:
    from sim.engine.center import ContactCenter

__all__ = ["arrive_plain", "is_plain", "release_plain"]

def is_plain(center: ContactCenter) -> bool:
    """Whether this center is plain, so that it can run its own arrival and service end.

    Plain: the default routing's fast paths for every group (one channel, one slot, one live queue), no stage,
    approval, wrap-up, outage, plan or mechanics, eager arrivals and no contact log. Such a center (the M/M/c+M
    core and its multi-queue kin) runs :func:`arrive_plain` and :func:`release_plain`, the general methods
    without the branches that cannot apply.
    """
    return (
        center._eager
        and center._stream_buf is not None
        and not center._extras
        and not center._track_last
        and center.wrap_up is None
        and center.outages is None
        and center.plans is None
        and not center.mechanics.active
        and all(q >= 0 for q in center._q_fast)
        and all(q >= 0 for q in center._g_simple)
    )


def arrive_plain(c: ContactCenter, row: tuple) -> None:
    """The center's ``_arrive`` for a plain center (:func:`is_plain`): no stage draws, one group per queue, one slot."""
    _, ch, intent, prio, tier, lang, cust, handle, patience, _, qi = row
    c.n_arrivals += 1
    contact = Contact(c._next_id, c.now, ch, intent, prio, tier, lang, cust, handle, patience, qi)
    c._next_id += 1
    g = c._q_fast[qi]
    d = c.avail[g][ch]
    if d:
        agent = next(iter(d))
        del d[agent]
        c._start(agent, contact)
    else:
        c.waiting[qi].append(contact)


def release_plain(c: ContactCenter, contact: Contact) -> None:
    """The center's ``release`` for a plain center (:func:`is_plain`), with the next contact's ``_start`` inlined.

    Every contact is plain and recorded in the stream buffer, every agent holds one contact of one channel
    and takes the head of its one queue: the branches of ``release`` and ``_start`` that cannot
    apply are left out (same results, bit for bit: the engine tests run both).
    """
    now = c.now
    agent = contact.agent
    contact.end_s = now
    contact.state = DONE
    contact.outcome = SERVED
    buf = c._stream_buf
    assert buf is not None
    buf.frombytes(
        STREAM_PACK(contact.seg, contact.arrival_s, SERVED, contact.start_s, now, contact.handle_s,
                    contact.patience_s, agent.group, contact.queued_s)
    )  # fmt: skip
    if len(buf) >= c._stream_limit:
        c.recorder.flush()
    agent.handled += 1
    agent.hand.clear()
    agent.n_active = 0
    agent.active_channel = -1
    g = agent.group
    agent.busy_s += now - agent.busy_since_s
    c.g_busy[g] -= 1
    if agent.state == DRAINING:
        c.shifts.drained(agent)
        return
    q = c._g_simple[g]
    dq = c.waiting[q]
    nxt = dq[0] if dq else None
    if nxt is not None and (nxt.state != WAITING or nxt.deadline_s <= now):
        nxt = c.head(q)  # stale or expired entries at the front (head, inlined for a live one)
    if nxt is None:
        ch = c._g_channels[g][0]
        c.avail[g][ch][agent] = None
        agent.since[ch] = now
        return
    dq.popleft()
    agent.busy_since_s = now
    c.g_busy[g] += 1
    agent.n_active = 1
    agent.active_channel = nxt.channel
    agent.hand.append(nxt)
    handle = nxt.handle_base_s * c._prof[g][nxt.intent]
    nxt.state = SERVING
    nxt.agent = agent
    nxt.start_s = now
    nxt.handle_s = handle
    base = c.event_s
    heappush(c._heap, (base + (now + handle - base), next(c._seq), c._release, nxt))
