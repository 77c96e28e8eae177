"""Frozen scenario models (pydantic v2, unknown keys rejected).

A scenario is what an analyst writes in YAML: the calendar, channels, intents, customers, arrivals, shifts, agent
groups, FRT targets and policy choices. Every time field is a duration string with a unit in YAML and float seconds
here (see :mod:`sim.units`). Cross-references (a group's skills, a shift name, a target's channel) are checked in
one ``model_validator`` so a typo fails at load time with the field path, not in the middle of a run. That check
raises every problem it finds together, as :class:`~sim.problems.Problem` objects (path, message, value,
expected) in one :class:`~sim.problems.ScenarioProblemsError`.

Import the models from here; they are defined by section:

* :mod:`sim.config.channels`: channels and their mechanics (balking, retrials, callbacks).
* :mod:`sim.config.demand`: intents, customers, generated and replayed arrivals, promotions, outages.
* :mod:`sim.config.workforce`: shifts, breaks, staffing tables, agent groups.
* :mod:`sim.config.service`: bots, approvals, team leads, the back office, transfers, the night window.
* :mod:`sim.config.targets`: targets and their windows, reporting, the policy slots.
* :mod:`sim.config.scenario`: the :class:`Scenario` and its cross-reference checks, :func:`single_queue`.
* :mod:`sim.config.base`: the frozen base model and the shared small types. Contingency plans are in
  :mod:`sim.plans`.
"""

from sim.config.base import WEEKDAYS, FrozenModel, Share, SLConvention, Weekday
from sim.config.channels import Balking, Callback, Channel, Retrials
from sim.config.demand import (
    Arrivals,
    ChannelArrivals,
    Customers,
    GeneratedArrivals,
    Intent,
    Outage,
    OutageNotice,
    OutageShares,
    PatienceRule,
    Promotion,
    ReplayArrivals,
)
from sim.config.scenario import Scenario, single_queue
from sim.config.service import Approval, BackOffice, Bot, NightWindow, TeamLeads, Transfer
from sim.config.targets import PolicySlots, PolicySpec, Reporting, Target, TargetWindow
from sim.config.workforce import AgentGroup, Break, Shift, StaffingTable

__all__ = [
    "WEEKDAYS",
    "AgentGroup",
    "Approval",
    "Arrivals",
    "BackOffice",
    "Balking",
    "Bot",
    "Break",
    "Callback",
    "Channel",
    "ChannelArrivals",
    "Customers",
    "FrozenModel",
    "GeneratedArrivals",
    "Intent",
    "NightWindow",
    "Outage",
    "OutageNotice",
    "OutageShares",
    "PatienceRule",
    "PolicySlots",
    "PolicySpec",
    "Promotion",
    "ReplayArrivals",
    "Reporting",
    "Retrials",
    "SLConvention",
    "Scenario",
    "Share",
    "Shift",
    "StaffingTable",
    "Target",
    "TargetWindow",
    "TeamLeads",
    "Transfer",
    "Weekday",
    "single_queue",
]
