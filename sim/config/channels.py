"""Channel models: patience, concurrency, wrap-up, and the channel mechanics (balking, retrials, callbacks).

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from sim.config.base import FrozenModel, Share
from sim.distributions import Distribution, NoAbandonment
from sim.units import Duration, PositiveDuration

__all__ = ["Balking", "Callback", "Channel", "Retrials"]


class Balking(FrozenModel):
    """Balking: callers who would have to wait leave at once (outcome ``balked``).

    The probability is ``min(1, share + per_waiting x contacts already waiting in their queue)``.

    Attributes:
        share: Balking probability of a caller who would wait behind nobody.
        per_waiting: Added probability per contact already waiting in the caller's queue.
    """

    share: Share
    per_waiting: float = Field(0.0, ge=0.0, le=1.0)


RetrialAfter = Literal["blocked", "abandoned", "balked", "timed_out"]
_RETRIAL_AFTER: tuple[RetrialAfter, ...] = ("blocked", "abandoned", "balked")


class Retrials(FrozenModel):
    """Retrials: customers who try again after a blocked, abandoned or balked contact (configurable).

    With ``probability`` the same customer calls again after ``delay``, as a new contact marked as a retrial
    (``retrial`` = attempt number).

    Attributes:
        probability: Chance that a customer whose contact ended in one of ``after`` tries again.
        delay: Time from the end of that contact (blocked or balked: its arrival; abandoned or timed out: the end
            of its wait) to the retrial (seconds, any distribution).
        after: Outcomes that lead to a retrial.
        max_retrials: At most this many retrials per first contact (none: unlimited).
    """

    probability: Share
    delay: Distribution
    after: list[RetrialAfter] = Field(default_factory=lambda: list(_RETRIAL_AFTER), min_length=1)
    max_retrials: int | None = Field(None, ge=1)


class Callback(FrozenModel):
    """Virtual hold: callers facing a long predicted wait may leave a callback request.

    A caller whose predicted wait exceeds ``threshold`` leaves a callback request with probability ``share`` and
    keeps their place in the queue (they no longer abandon). When the request reaches an
    agent, the agent calls the customer back (outbound work: the contact's handle time when answered, ``no_answer``
    when not). An unanswered call is tried again after ``retry_delay`` (rejoining the back of the queue) until
    ``attempts`` calls were made, then the request is dropped (``callback_unanswered``).

    Predicted wait (documented in the README): ``position x mean handle time of the (channel, intent) /
    max(1, slots of the logged-in agents who may serve the queue)``, where ``position`` is the number of contacts
    waiting in the caller's queue ahead of them plus one.

    Attributes:
        threshold: Predicted wait above which the callback is offered (seconds).
        share: Share of the callers offered a callback who take it.
        answer: Probability that the customer answers an outbound call.
        no_answer: Agent time on an unanswered outbound call (seconds).
        attempts: Outbound calls at most per request.
        retry_delay: Time after an unanswered call before the request rejoins the queue (seconds).
    """

    threshold: Duration
    share: Share
    answer: Share = 1.0
    no_answer: Duration = 30.0
    attempts: int = Field(1, ge=1, le=100)
    retry_delay: Duration = 600.0


class Channel(FrozenModel):
    """A contact channel.

    Attributes:
        kind: ``live`` (voice, chat: the customer waits and may abandon) or ``deferrable`` (email, social: a
            backlog worked in agents' idle time, no abandonment).
        concurrency: Most contacts of this channel one agent handles at once (voice 1, chat e.g. 3).
        inflation: Handle-time inflation per extra simultaneous contact: a chat started while the agent has
            ``k`` other chats takes ``base * (1 + inflation * k)``.
        patience: Default patience distribution for this channel (``none``: never abandons).
        short_abandon: Abandons faster than this are "short" (excluded by the default SL convention).
        wrap_up: After-contact work (seconds per contact): the agent stays busy, unavailable, for this long after
            each service of this channel; the customer has left, so FRT/ASA do not change. ``None``: no wrap-up.
            An intent's ``wrap_up`` overrides it.
        lines: Trunk lines (live channels): contacts of this channel in the system (bot, queue, service, holds) at
            most; a contact that finds every line busy is ``blocked``. None: unlimited.
        max_wait: Longest wait in the human queue (live channels); a contact still waiting then is sent to a
            message (outcome ``timed_out``, not an abandonment). None: no limit.
        balk: Callers who would have to wait may leave at once (``balked``); see :class:`Balking`.
        retrial: Blocked, abandoned or balked customers may try again; see :class:`Retrials`.
        callback: Virtual hold; see :class:`Callback`.
    """

    kind: Literal["live", "deferrable"] = "live"
    concurrency: int = Field(1, ge=1, le=20)
    inflation: float = Field(0.0, ge=0.0)
    patience: Distribution = NoAbandonment()
    short_abandon: Duration = 5.0
    wrap_up: Distribution | None = None
    lines: int | None = Field(None, ge=1)
    max_wait: PositiveDuration | None = None
    balk: Balking | None = None
    retrial: Retrials | None = None
    callback: Callback | None = None

    @model_validator(mode="after")
    def _deferrable_never_abandons(self) -> Channel:
        if self.kind == "deferrable" and not isinstance(self.patience, NoAbandonment):
            raise ValueError("deferrable channels have no abandonment: remove 'patience' or use kind: live")
        _finite_wrap_up(self.wrap_up)
        if self.kind == "deferrable":
            used = [k for k in ("lines", "max_wait", "balk", "retrial", "callback") if getattr(self, k) is not None]
            if used:
                raise ValueError(
                    f"{', '.join(used)} apply to live channels only (a deferrable backlog has no lines, waits "
                    "without limit and is not called back): remove them or use kind: live"
                )
        return self

    @property
    def has_mechanics(self) -> bool:
        """Whether any of lines, max_wait, balk, retrial or callback is set (the engine's mechanics are on)."""
        return any(getattr(self, k) is not None for k in ("lines", "max_wait", "balk", "retrial", "callback"))


def _finite_wrap_up(wrap_up: Any) -> None:
    """A wrap-up must end: ``dist: none`` or a survival table with ``tail: none`` would keep the agent forever."""
    if wrap_up is not None and not math.isfinite(wrap_up.mean_s):
        raise ValueError(
            f"wrap_up must be a finite duration; {wrap_up.dist!r} with these parameters never ends "
            "(leave wrap_up out for none)"
        )
