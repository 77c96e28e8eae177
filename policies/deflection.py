"""Deflection policies: which contacts a channel's bot answers first.

The engine asks ``offer(contact, view)`` only for contacts arriving on a channel that has a bot
(``scenario.bots``) with a free session; a declined contact goes straight to the human queues. Every policy takes
``channels`` (names; empty = every channel with a bot), resolved and checked by ``bind(scenario)``, which the
engine calls before the run. :class:`~sim.interfaces.NoDeflection` (registry ``none``) offers nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from sim.config import Scenario
from sim.interfaces import ContactInfo, DeflectionPolicy, SystemView
from sim.units import MODEL_CONFIG, PositiveDuration

__all__ = ["BotFirst", "BotForIntents", "BotOffHours", "BotOnWait"]


def _unknown(param: str, what: str, value: str, known: Sequence[str]) -> ValueError:
    return ValueError(f"params.{param}: unknown {what} {value!r}; known: {list(known)}")


def _bot_channels(scenario: Scenario, names: Sequence[str]) -> tuple[bool, ...]:
    """Per channel code, whether the policy offers its contacts to the bot (``names`` empty: every bot channel)."""
    for name in names:
        if name not in scenario.channels:
            raise _unknown("channels", "channel", name, list(scenario.channels))
        if name not in scenario.bots:
            raise ValueError(
                f"params.channels: channel {name!r} has no bot; channels with a bot: {list(scenario.bots)}"
            )
    chosen = set(names) if names else set(scenario.bots)
    return tuple(ch in chosen for ch in scenario.channels)


class _ChannelParams(BaseModel):
    """Parameters.

    Attributes:
        channels: Channels whose contacts may go to the bot (empty: every channel with a bot).
    """

    model_config = MODEL_CONFIG
    channels: list[str] = Field(default_factory=list)


_P = TypeVar("_P", bound=_ChannelParams)


class _ChannelDeflection(DeflectionPolicy, Generic[_P]):
    """Shared by the deflection policies: parameters with ``channels``, resolved by :meth:`bind` into ``on_``.

    Generic over the subclass's ``Params`` model (a :class:`_ChannelParams`), so ``self.params`` has its fields.
    """

    Params: type[_P]

    def __init__(self, params: _P | None = None) -> None:
        self.params: _P = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``channels`` into ``on_`` (per channel code, whether its contacts may go to the bot).

        Raises:
            ValueError: For an unknown channel or one without a bot.
        """
        self.on_ = _bot_channels(scenario, self.params.channels)


class BotFirst(_ChannelDeflection["BotFirst.Params"]):
    """Bot first for every contact on the chosen channels (optionally not for urgent ones).

    Every contact on a listed channel with a bot (all of them by default) starts with the bot; with
    ``skip_urgent``, urgent contacts go straight to an agent.
    """

    class Params(_ChannelParams):
        """Parameters.

        Attributes:
            channels: Channels whose contacts go to the bot (empty: every channel with a bot).
            skip_urgent: Send urgent contacts straight to the human queues.
        """

        skip_urgent: bool = False

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """``True`` for a contact on a chosen channel (and not urgent, with ``skip_urgent``)."""
        return self.on_[contact.channel] and not (self.params.skip_urgent and contact.priority == 1)


class BotForIntents(_ChannelDeflection["BotForIntents.Params"]):
    """Bot first only for the listed intents (the ones the bot is good at).

    A contact goes to the bot when its channel is chosen (every channel with a bot by default) and its intent is
    one of ``intents``.
    """

    class Params(_ChannelParams):
        """Parameters.

        Attributes:
            intents: Intents whose contacts go to the bot.
            channels: Channels whose contacts may go to the bot (empty: every channel with a bot).
        """

        intents: list[str] = Field(min_length=1)

    def __init__(self, params: Params) -> None:
        self.params = params

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``channels`` and ``intents``.

        Raises:
            ValueError: For an unknown channel or intent, or a channel without a bot.
        """
        super().bind(scenario)
        for name in self.params.intents:
            if name not in scenario.intents:
                raise _unknown("intents", "intent", name, list(scenario.intents))
        chosen = set(self.params.intents)
        self.intents_ = tuple(name in chosen for name in scenario.intents)

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """``True`` for a contact of a listed intent on a chosen channel."""
        return self.on_[contact.channel] and self.intents_[contact.intent]


class BotOnWait(_ChannelDeflection["BotOnWait.Params"]):
    """Bot first only when the predicted wait for an agent exceeds a threshold.

    Predicted wait (a queue-length predictor): 0 if an agent of one of the groups serving the contact's queue is
    available for its channel now; otherwise ``(n + 1) x mean handle / capacity``, where ``n`` is the number of
    contacts waiting in the contact's queue, the mean handle is the intent's mean handle time on that channel
    (at proficiency 1) and the capacity is the sum over the queue's groups of agents logged in x their
    concurrency on the channel. No capacity (nobody logged in) predicts an infinite wait, so the bot answers.
    """

    class Params(_ChannelParams):
        """Parameters.

        Attributes:
            threshold: Offer the bot when the predicted wait is longer than this.
            channels: Channels whose contacts may go to the bot (empty: every channel with a bot).
        """

        threshold: PositiveDuration = 120.0

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``channels``; precompute mean handle times and concurrencies.

        Raises:
            ValueError: For an unknown channel or one without a bot.
        """
        super().bind(scenario)
        channels = list(scenario.channels)
        self.handle_ = tuple(
            tuple(intent.handle_for(ch).mean_s for ch in channels) for intent in scenario.intents.values()
        )
        self.concurrency_ = tuple(tuple(scenario.concurrency(g, ch) for ch in channels) for g in scenario.groups)

    def predicted_wait(self, contact: ContactInfo, view: SystemView, bound_s: float | None = None) -> float:
        """Predicted wait of ``contact`` for an agent, in seconds (``inf`` when nobody is logged in).

        With ``bound_s``, the queue is counted only as far as needed to tell whether the wait exceeds it (the
        result is then a lower bound above ``bound_s``, or exact).
        """
        channel = contact.channel
        groups = view.queue(contact.queue).groups
        capacity = 0
        for g in groups:
            if view.first_available(g, channel) is not None:
                return 0.0
            capacity += view.logged_in(g) * self.concurrency_[g][channel]
        if capacity == 0:
            return math.inf
        handle = self.handle_[contact.intent][channel]
        # (n + 1) x handle / capacity > bound as soon as n reaches bound x capacity / handle + 1.
        limit = None if bound_s is None or handle <= 0.0 else math.ceil(bound_s * capacity / handle) + 1
        return (view.queue_length(contact.queue, limit) + 1) * handle / capacity

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """``True`` on a chosen channel when the predicted wait is longer than ``threshold``."""
        threshold = self.params.threshold
        return self.on_[contact.channel] and self.predicted_wait(contact, view, threshold) > threshold


class BotOffHours(_ChannelDeflection[_ChannelParams]):
    """Bot first only when no agent who could serve the contact is logged in (nights, weekends, lunch gaps).

    A contact on a chosen channel goes to the bot when every group serving its queue has no agent logged in.
    """

    Params = _ChannelParams

    def offer(self, contact: ContactInfo, view: SystemView) -> bool:
        """``True`` on a chosen channel when no agent of the contact's queue groups is logged in."""
        if not self.on_[contact.channel]:
            return False
        return all(view.logged_in(g) == 0 for g in view.queue(contact.queue).groups)
