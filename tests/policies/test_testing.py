"""policies.testing as a user sees it: the README's "writing a policy" block runs as written, and StaticView."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from policies.registry import make
from policies.routing import PriorityRouting
from policies.testing import StaticAgent, StaticContact, StaticView, check_policy
from sim.defaults import LongestIdleRouting
from sim.entities import Queue

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_policy_block_runs_and_passes_the_suite():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- readme-policy:start -->\n```python\n(.*?)```\n<!-- readme-policy:end -->", text, re.S)
    assert block is not None, "README lost its writing-a-policy block"
    code = block.group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 20
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_the_suite_fails_a_policy_that_serves_abandoned_customers():
    """A policy returning a contact whose patience ran out is caught (the view never offers it)."""

    class StaleHead(LongestIdleRouting):
        def select_contact(self, agent, view):
            for q in view.live_queues(agent):
                for contact in view.waiting(q):
                    return contact
            return None

    check_policy("routing", StaleHead)  # waiting() only yields contacts still waiting: this one conforms

    class Expired(LongestIdleRouting):
        def __init__(self):
            super().__init__()
            self.seen = []

        def select_contact(self, agent, view):
            self.seen.extend(view.heads(view.live_queues(agent)))
            old = [c for c in self.seen if c.deadline_s <= view.now and c.queue in view.live_queues(agent)]
            return old[0] if old else super().select_contact(agent, view)

    with pytest.raises(Exception, match="may not take now"):
        check_policy("routing", Expired)


def _two_queues():
    regular = Queue(0, channel=0, intent=0, language=0, deferrable=False, groups=(0,))
    urgent = Queue(1, channel=0, intent=0, language=0, deferrable=False, groups=(0,), priority=1)
    return regular, urgent


def test_static_view_gives_the_default_routing_its_usual_answers():
    regular, urgent = _two_queues()
    a, b = StaticAgent(0, available_since_s=30.0), StaticAgent(1, available_since_s=10.0)
    busy = StaticAgent(2, n_active=1, active_channel=0, available_since_s=0.0)
    waiting = {0: [StaticContact(5, arrival_s=20.0)], 1: [StaticContact(6, queue=1, priority=1, arrival_s=40.0)]}
    view = StaticView([regular, urgent], waiting, [a, b, busy], now=60.0)
    routing = LongestIdleRouting()
    assert routing.select_agent(StaticContact(7), view) is b  # longest available; the busy one is not offered
    assert routing.select_contact(a, view).id == 5  # FIFO across queues by queue-join time


def test_priority_routing_decides_on_a_static_view_with_aging():
    regular, urgent = _two_queues()
    agent = StaticAgent(0)
    policy = make("routing", {"name": "priority", "params": {"urgent_boost": "5min"}})
    assert isinstance(policy, PriorityRouting)
    waiting = {0: [StaticContact(5, arrival_s=0.0)], 1: [StaticContact(6, queue=1, priority=1, arrival_s=200.0)]}
    # The urgent contact arrived 200 s later but its 300 s boost puts it ahead...
    assert policy.select_contact(agent, StaticView([regular, urgent], waiting, [agent], now=250.0)).id == 6
    # ...unless the normal one has waited more than the boost longer.
    waiting[0] = [StaticContact(5, arrival_s=-200.0)]
    assert policy.select_contact(agent, StaticView([regular, urgent], waiting, [agent], now=250.0)).id == 5


def test_static_view_hides_contacts_whose_patience_ran_out():
    regular, _ = _two_queues()
    waiting = {0: [StaticContact(1, deadline_s=50.0), StaticContact(2, arrival_s=1.0, deadline_s=math.inf)]}
    view = StaticView([regular], waiting, [StaticAgent(0)], now=60.0)
    assert view.head(0).id == 2
    assert view.queue_length(0) == 1
    assert [c.id for c in view.waiting(0)] == [2]


class _Plain(LongestIdleRouting):
    """The default decisions, but as a policy of its own (no fast paths, every answer guarded)."""


class _Nosy(LongestIdleRouting):
    """The same decisions after reading every queue of the view, every time (heads, lengths, waiting lists)."""

    def select_agent(self, contact, view):
        self._read_everything(view)
        return super().select_agent(contact, view)

    def select_contact(self, agent, view):
        self._read_everything(view)
        return super().select_contact(agent, view)

    @staticmethod
    def _read_everything(view):
        queues = range(len(view.queues))
        view.heads(queues)
        for q in queues:
            view.head(q)
            view.queue_length(q)
            list(view.waiting(q))


def test_reading_the_view_changes_nothing():
    """The view is read-only: a policy that reads everything at every decision gets the same run.

    Every contact's row is identical. Reading can change *when* an expired contact is recorded (the engine drops
    the stale entries a read noted after the decision), so float sums over contacts (waits per interval) may add
    the same numbers in another order: they agree to rounding, and every count exactly.
    """
    import pandas as pd

    from policies.testing import FRAMES, conformance_scenario, run_policy

    for scenario in (conformance_scenario(), conformance_scenario(channels={
        "voice": {"patience": {"dist": "exponential", "mean": "30s"}},  # many abandonments: many stale entries
        "chat": {"concurrency": 3, "inflation": 0.3, "patience": {"dist": "exponential", "mean": "40s"}},
        "email": {"kind": "deferrable"},
    })):  # fmt: skip
        plain = run_policy("routing", _Plain(), scenario=scenario)
        nosy = run_policy("routing", _Nosy(), scenario=scenario)
        assert (plain.result.contacts.outcome.astype(str) == "abandoned").sum() > 100
        pd.testing.assert_frame_equal(nosy.result.contacts, plain.result.contacts, check_exact=True)
        for name in FRAMES:
            a, b = getattr(nosy.result, name), getattr(plain.result, name)
            exact = [c for c in a.columns if not pd.api.types.is_float_dtype(a[c]) or c.endswith(("offered", "answered"))]
            pd.testing.assert_frame_equal(a[exact], b[exact], check_exact=True, obj=name)
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-9, obj=name)
