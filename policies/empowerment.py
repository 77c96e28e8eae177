"""Empowerment policies: whether an agent approves a refund or credit in the contact, or escalates it.

The engine calls ``adjust(agent, contact)`` when a contact that needs an approval (``contact.amount > 0``,
currency) starts service; the returned :class:`~sim.interfaces.ServiceAdjustment` adds handle time, and either
lets the agent approve (with an expected ``leakage``: approvals a supervisor would have refused) or escalates
synchronously (customer and agent wait for the team-lead pool) or asynchronously (back office; the customer gets
the answer later and may contact again). ``training_cost(group)`` is the one-off cost per agent of a group.
:class:`~sim.interfaces.NoEmpowerment` (registry ``none``) does not model approvals at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field

from sim.config import Scenario
from sim.interfaces import AgentInfo, ContactInfo, EmpowermentPolicy, ServiceAdjustment
from sim.units import MODEL_CONFIG, Duration

__all__ = ["AuthorityLimit", "NoAuthority", "TieredAuthority"]

Amount = Annotated[float, Field(ge=0.0)]


def _unknown(param: str, what: str, value: str, known: Sequence[str]) -> ValueError:
    return ValueError(f"params.{param}: unknown {what} {value!r}; known: {list(known)}")


def _group_limits(scenario: Scenario, param: str, limits: Mapping[str, float], default: float) -> tuple[float, ...]:
    """Authority limit per group code, checking the group names of ``limits``."""
    for name in limits:
        if name not in scenario.groups:
            raise _unknown(param, "group", name, list(scenario.groups))
    return tuple(limits.get(name, default) for name in scenario.groups)


def _check_team_leads(scenario: Scenario, param: str, synchronous: bool) -> None:
    """A synchronous escalation holds the agent until a team lead approves: without team leads, for ever."""
    if synchronous and scenario.approvals and scenario.team_leads.count == 0:
        raise ValueError(
            f"params.{param}: approvals escalated synchronously wait for a team lead, but team_leads.count is 0 "
            "(the agent and the customer would hold until the horizon); add team leads or escalate to the back office"
        )


class NoAuthority(EmpowermentPolicy):
    """Agents approve nothing: every approval is escalated (to the team leads, or to the back office).

    The agent spends ``escalation_handle`` raising the escalation.
    """

    class Params(BaseModel):
        """Parameters.

        Attributes:
            synchronous: Escalate to the team-lead pool while the customer holds (else to the back office).
            escalation_handle: Extra agent time to raise an escalation.
        """

        model_config = MODEL_CONFIG
        synchronous: bool = True
        escalation_handle: Duration = 60.0

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Precompute the (single) adjustment.

        Raises:
            ValueError: If escalations are synchronous and the scenario has approvals but no team leads.
        """
        p = self.params
        _check_team_leads(scenario, "synchronous", p.synchronous)
        self.escalate_ = ServiceAdjustment(extra_handle_s=p.escalation_handle, escalate=True, synchronous=p.synchronous)

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """An escalation, whatever the amount."""
        return self.escalate_

    def training_cost(self, group: str) -> float:
        """No training (currency per agent)."""
        return 0.0


class _AuthorityParams(BaseModel):
    model_config = MODEL_CONFIG
    approve_handle: Duration = 60.0
    escalation_handle: Duration = 60.0
    training_cost: Amount = 0.0
    leakage_share: float = Field(0.0, ge=0.0, le=1.0)


_P = TypeVar("_P", bound=_AuthorityParams)


class _Authority(EmpowermentPolicy, Generic[_P]):
    """Shared by the authority policies: self-approval, escalations and training cost.

    Generic over the subclass's ``Params`` model (an :class:`_AuthorityParams`), so ``self.params`` has its fields.
    """

    params: _P

    def _bind_outcomes(self, agent_limits: tuple[float, ...]) -> None:
        p = self.params
        self.agent_limits_ = agent_limits
        self.sync_ = ServiceAdjustment(extra_handle_s=p.escalation_handle, escalate=True, synchronous=True)
        self.async_ = ServiceAdjustment(extra_handle_s=p.escalation_handle, escalate=True, synchronous=False)
        self.approve_ = ServiceAdjustment(extra_handle_s=p.approve_handle)

    def _approve(self, amount: float) -> ServiceAdjustment:
        share = self.params.leakage_share
        if share == 0.0:
            return self.approve_
        return ServiceAdjustment(extra_handle_s=self.params.approve_handle, leakage=share * amount)

    def _limit_of(self, group: str) -> float:
        """Agent authority limit of a group name (currency)."""
        raise NotImplementedError

    def training_cost(self, group: str) -> float:
        """``training_cost`` per agent of a group whose agents have an authority limit above 0, else 0."""
        return self.params.training_cost if self._limit_of(group) > 0.0 else 0.0


class AuthorityLimit(_Authority["AuthorityLimit.Params"]):
    """Each group has an authority limit: within it the agent approves in the contact, above it escalates.

    A self-approval adds ``approve_handle`` and an expected leakage of ``leakage_share x amount``; an escalation
    adds ``escalation_handle`` and goes to the team-lead pool (``synchronous``) or the back office.
    """

    class Params(_AuthorityParams):
        """Parameters.

        Attributes:
            limits: Authority limit per group name (currency); an amount up to the limit is self-approved.
            default_limit: Limit of the groups not in ``limits``.
            approve_handle: Extra agent time to approve in the contact.
            escalation_handle: Extra agent time to raise an escalation.
            synchronous: Escalate to the team-lead pool while the customer holds (else to the back office).
            training_cost: One-off cost per agent of a group with a limit above 0 (currency).
            leakage_share: Share of self-approved amounts a supervisor would have refused.
        """

        limits: dict[str, Amount] = Field(default_factory=dict)
        default_limit: Amount = 0.0
        synchronous: bool = True

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``limits`` to group codes.

        Raises:
            ValueError: If ``limits`` names an unknown group, or escalations are synchronous and the scenario has
                approvals but no team leads.
        """
        self._bind_outcomes(_group_limits(scenario, "limits", self.params.limits, self.params.default_limit))
        _check_team_leads(scenario, "synchronous", self.params.synchronous)
        self.escalate_ = self.sync_ if self.params.synchronous else self.async_

    def _limit_of(self, group: str) -> float:
        return self.params.limits.get(group, self.params.default_limit)

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """Self-approval when ``contact.amount`` is within the agent's group limit, else an escalation."""
        amount = contact.amount
        if amount <= self.agent_limits_[agent.group]:
            return self._approve(amount)
        return self.escalate_


class TieredAuthority(_Authority["TieredAuthority.Params"]):
    """Agent, team-lead and manager tiers: self-approve, escalate to a team lead on hold, or to the back office.

    An amount within the agent's group limit is approved in the contact; up to ``team_lead_limit`` it is
    escalated synchronously (customer and agent wait for the team-lead pool); above, asynchronously (a manager in
    the back office answers later).
    """

    class Params(_AuthorityParams):
        """Parameters.

        Attributes:
            agent_limits: Agent authority limit per group name (currency).
            default_agent_limit: Limit of the groups not in ``agent_limits``.
            team_lead_limit: Largest amount a team lead approves (currency); above it goes to the back office.
            approve_handle: Extra agent time to approve in the contact.
            escalation_handle: Extra agent time to raise an escalation.
            training_cost: One-off cost per agent of a group with a limit above 0 (currency).
            leakage_share: Share of self-approved amounts a supervisor would have refused.
        """

        agent_limits: dict[str, Amount] = Field(default_factory=dict)
        default_agent_limit: Amount = 0.0
        team_lead_limit: Amount = 500.0

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def bind(self, scenario: Scenario) -> None:
        """Resolve ``agent_limits`` to group codes.

        Raises:
            ValueError: If ``agent_limits`` names an unknown group, or some amounts go to the team leads (above an
                agent limit, up to ``team_lead_limit``) and the scenario has approvals but no team leads.
        """
        p = self.params
        self._bind_outcomes(_group_limits(scenario, "agent_limits", p.agent_limits, p.default_agent_limit))
        _check_team_leads(scenario, "team_lead_limit", p.team_lead_limit > min(self.agent_limits_))

    def _limit_of(self, group: str) -> float:
        return self.params.agent_limits.get(group, self.params.default_agent_limit)

    def adjust(self, agent: AgentInfo, contact: ContactInfo) -> ServiceAdjustment:
        """Self-approval within the agent limit, synchronous escalation up to ``team_lead_limit``, else async."""
        amount = contact.amount
        if amount <= self.agent_limits_[agent.group]:
            return self._approve(amount)
        if amount <= self.params.team_lead_limit:
            return self.sync_
        return self.async_
