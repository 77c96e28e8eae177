"""Service-stage models: bots, approvals, team leads, the back office, transfers, the night window.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.config.base import FrozenModel, Share
from sim.distributions import Distribution, ExponentialDist, LognormalDist
from sim.units import Duration, TimeOfDay

__all__ = ["Approval", "BackOffice", "Bot", "NightWindow", "TeamLeads", "Transfer"]


class Bot(FrozenModel):
    """A chatbot in front of a channel: which contacts it sees is the deflection policy's choice.

    A bot session lasts ``session``; it ends resolved (contained) with the intent's ``resolution`` probability,
    abandoned with ``abandon``, as a silent failure with ``silent_failure`` (the customer leaves unresolved and,
    with ``return_share``, comes back after ``return_delay`` on one of ``return_channels``), and otherwise
    escalated: after ``handoff`` the contact joins the human queue. With ``context`` the agent sees the bot
    transcript (handle time x ``context_handle_factor``, patience left x ``context_patience_factor``); without
    it the customer repeats everything (``no_context_*``). Escalated contacts are the harder mix, so their handle
    time is also multiplied by ``escalated_handle_factor``.

    Attributes:
        session: Bot session length (an abandoning customer leaves part-way through).
        first_reply: Bot's first response time (the bot FRT, reported apart from the human FRT).
        resolution: Probability the bot resolves a contact of this intent; intents not listed use
            ``default_resolution``.
        abandon, silent_failure: Probabilities of the two other non-escalated endings.
        capacity: Simultaneous bot sessions (``None``: unlimited); when full, contacts go to humans directly.
        cost_per_session, cost_per_resolution, fixed_fee_per_day: Recurring bot fees (scenario currency): per
            session, per resolved session, per day of the horizon.
        setup_cost: One-off cost of setting the bot up (scenario currency), reported apart from the recurring
            costs and whatever the horizon.
    """

    session: Distribution = LognormalDist(mean="2min", cv=0.6)
    first_reply: Duration = 2.0
    resolution: dict[str, Share] = Field(default_factory=dict)
    default_resolution: Share = 0.0
    abandon: Share = 0.0
    silent_failure: Share = 0.0
    handoff: Duration = 30.0
    context: bool = True
    context_handle_factor: float = Field(0.85, gt=0.0)
    no_context_handle_factor: float = Field(1.15, gt=0.0)
    escalated_handle_factor: float = Field(1.0, gt=0.0)
    context_patience_factor: float = Field(0.9, gt=0.0)
    no_context_patience_factor: float = Field(0.6, gt=0.0)
    capacity: int | None = Field(None, ge=1)
    cost_per_session: float = Field(0.0, ge=0.0)
    cost_per_resolution: float = Field(0.0, ge=0.0)
    fixed_fee_per_day: float = Field(0.0, ge=0.0)
    setup_cost: float = Field(0.0, ge=0.0)
    return_share: Share = 1.0
    return_delay: Distribution = ExponentialDist(mean="2h")
    return_channels: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)

    def resolution_for(self, intent: str) -> float:
        """Probability the bot resolves a contact of ``intent``."""
        return self.resolution.get(intent, self.default_resolution)


class Approval(FrozenModel):
    """Contacts of an intent that need an approval (a refund, a credit) and its amount.

    Attributes:
        share: Share of the intent's contacts that need an approval.
        amount_mean: Mean amount (currency); amounts are lognormal.
        amount_cv: Coefficient of variation of the amount.
    """

    share: Share
    amount_mean: float = Field(gt=0.0)
    amount_cv: float = Field(1.0, gt=0.0)


class TeamLeads(FrozenModel):
    """The pool that handles synchronous escalations (the customer and the agent wait on hold).

    Attributes:
        count: Team leads on duty (all the time).
        handle: Time a team lead spends on one approval.
        hourly_cost: Cost per team-lead hour (currency).
    """

    count: int = Field(1, ge=0)
    handle: Distribution = ExponentialDist(mean="3min")
    hourly_cost: float = Field(0.0, ge=0.0)


class BackOffice(FrozenModel):
    """Asynchronous escalations: the back office answers later; some customers chase before it does.

    With probability ``recontact_share`` a customer escalated to the back office chases: they contact again
    ``recontact_delay`` after the escalation, unless the back office has answered by then (its ``delay``; both
    drawn at arrival).

    Attributes:
        delay: Time from the escalation until the back office answers.
        recontact_share: Share of asynchronously escalated customers who chase if still unanswered.
        recontact_delay: Time from the escalation to the repeat contact.
        recontact_channel: Channel of the repeat contact (default: the original channel).
    """

    delay: Distribution = ExponentialDist(mean="24h")
    recontact_share: Share = 0.3
    recontact_delay: Distribution = ExponentialDist(mean="4h")
    recontact_channel: str | None = None


class Transfer(FrozenModel):
    """Contacts of an intent that the first agent transfers to another skill (collaboration, e.g. to technical).

    After the first agent's handle time, a ``share`` of the intent's answered contacts joins the queue of the
    ``to`` intent (same channel, language, priority and tier) for a second service by an agent with that skill;
    the customer holds and may abandon (patience and handle time of the second service are drawn at arrival
    from the ``to`` intent's distributions on the contact's channel). The first answer is the contact's FRT;
    the second wait is reported as the transfer wait. An abandoned transfer is not first-contact resolution.

    Attributes:
        share: Share of the intent's answered contacts transferred.
        to: Intent (skill) of the second service.
    """

    share: Share
    to: str


class NightWindow(FrozenModel):
    """The night window for night premiums (it may wrap past midnight)."""

    start: TimeOfDay = 22 * 3600.0
    end: TimeOfDay = 6 * 3600.0
