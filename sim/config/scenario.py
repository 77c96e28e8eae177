"""The :class:`Scenario` model, its cross-reference checks, and :func:`single_queue`.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from sim.config.base import FrozenModel, SLConvention
from sim.config.channels import Channel
from sim.config.demand import Arrivals, Customers, GeneratedArrivals, Intent, Outage, PatienceRule, Promotion
from sim.config.service import Approval, BackOffice, Bot, NightWindow, TeamLeads, Transfer
from sim.config.targets import PolicySlots, Reporting, Target
from sim.config.workforce import AgentGroup, Shift
from sim.distributions import NoAbandonment
from sim.plans import Plan, plan_problems
from sim.problems import Problem, ScenarioProblemsError, short_repr
from sim.units import DateTime, Duration, PositiveDuration, format_duration, format_time_of_day

__all__ = ["Scenario", "single_queue"]


def _unknown(path: tuple[str | int, ...], kind: str, value: str, known: Iterable[str]) -> Problem:
    """``unknown <kind> 'value'; known: [...]`` at ``path``."""
    names = sorted(known)
    shown = "[" + ", ".join(short_repr(n) for n in names[:20]) + "]"
    shown += f" and {len(names) - 20} more" if len(names) > 20 else ""
    return Problem(path, f"unknown {kind} {short_repr(value)}; known: {shown}", value=value, expected=f"one of {shown}")


def _check_names(scenario: Scenario) -> list[Problem]:
    """Names holding control or format characters (they end up in folder names, tables and terminals).

    ``str.isprintable`` decides: C0/C1 controls, bidirectional overrides and line separators are refused.

    Checked: the scenario's name and the keys of channels, intents, groups, shifts, languages and targets.
    """
    names: list[tuple[tuple[str | int, ...], str]] = [(("name",), scenario.name)]
    for section in ("channels", "intents", "groups", "shifts", "bots", "approvals", "transfers"):
        names += [((section, key), key) for key in getattr(scenario, section)]
    names += [(("customers", "languages", key), key) for key in scenario.customers.languages]
    names += [(("targets", i, "name"), t.name) for i, t in enumerate(scenario.targets)]
    return [
        Problem(path, f"{short_repr(name)} holds a control character; names must be printable text", value=name)
        for path, name in names
        if not name.isprintable()
    ]


class Scenario(FrozenModel):
    """A whole contact-center scenario.

    Attributes:
        name: Short identifier.
        description: Free text.
        start: Calendar start of the simulation (day-of-week and time-of-day profiles apply from it).
        horizon: Simulated length; contacts arrive in ``[0, horizon)`` seconds.
        warmup: Initial period excluded from every metric.
        channels, intents, customers, arrivals, shifts, groups, targets, reporting, policies: see their models.
        bots: A bot per channel it sits in front of (used when the deflection policy offers contacts to it).
        approvals: Intents whose contacts may need an approval, with the amount (see the empowerment policy).
        transfers: Intents whose contacts may need a second service by another skill after the first.
        team_leads, back_office: Where escalated approvals go (synchronous / asynchronous).
        night: Night window for the groups' ``night_premium``.
    """

    name: str
    description: str = ""
    start: DateTime = dt.datetime(2026, 11, 9)
    horizon: PositiveDuration
    warmup: Duration = 0.0
    channels: dict[str, Channel] = Field(min_length=1)
    intents: dict[str, Intent] = Field(min_length=1)
    customers: Customers = Customers()
    arrivals: Arrivals
    shifts: dict[str, Shift] = Field(default_factory=dict)
    groups: dict[str, AgentGroup] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    reporting: Reporting = Reporting()
    policies: PolicySlots = PolicySlots()
    bots: dict[str, Bot] = Field(default_factory=dict)
    approvals: dict[str, Approval] = Field(default_factory=dict)
    transfers: dict[str, Transfer] = Field(default_factory=dict)
    team_leads: TeamLeads = TeamLeads()
    back_office: BackOffice = BackOffice()
    night: NightWindow = NightWindow()
    plans: list[Plan] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems: list[Problem] = []
        channels, intents = set(self.channels), set(self.intents)
        languages = set(self.customers.languages)
        if self.warmup >= self.horizon:
            problems.append(
                Problem(
                    ("warmup",),
                    f"warmup ({self.warmup:g}s) must be shorter than horizon ({self.horizon:g}s)",
                    value=self.warmup,
                    expected=f"less than horizon ({self.horizon:g}s)",
                    show_path=False,
                )
            )
        for name, spec in self.intents.items():
            for ch in spec.handle_by_channel:
                if ch not in channels:
                    problems.append(_unknown(("intents", name, "handle_by_channel"), "channel", ch, channels))
        where: tuple[str | int, ...]
        for gname, group in self.groups.items():
            where = ("groups", gname)
            for ch in group.channels:
                if ch not in channels:
                    problems.append(_unknown((*where, "channels"), "channel", ch, channels))
            for skill in group.skills:
                if skill not in intents:
                    problems.append(_unknown((*where, "skills"), "intent", skill, intents))
            for shift in group.staffing:
                if shift not in self.shifts:
                    problems.append(_unknown((*where, "staffing"), "shift", shift, self.shifts))
            for lang in group.languages:
                if lang not in languages:
                    problems.append(_unknown((*where, "languages"), "language", lang, languages))
        seen_targets: dict[str, int] = {}
        for i, target in enumerate(self.targets):
            if target.name in seen_targets:
                problems.append(
                    Problem(
                        ("targets", i, "name"),
                        f"duplicate target name {short_repr(target.name)} (also targets[{seen_targets[target.name]}]); "
                        "each target needs its own name",
                        value=target.name,
                        expected="a name no other target has",
                    )
                )
            seen_targets.setdefault(target.name, i)
            if target.channel is not None and target.channel not in channels:
                problems.append(_unknown(("targets", i, "channel"), "channel", target.channel, channels))
            if target.intent is not None and target.intent not in intents:
                problems.append(_unknown(("targets", i, "intent"), "intent", target.intent, intents))
            problems.extend(self._check_window(i, target))
        if isinstance(self.arrivals, GeneratedArrivals):
            problems.extend(self._check_generated(self.arrivals, channels, intents, languages))
        problems.extend(self._check_bots(channels, intents))
        for intent in self.approvals:
            if intent not in intents:
                problems.append(_unknown(("approvals",), "intent", intent, intents))
        for intent, transfer in self.transfers.items():
            if intent not in intents:
                problems.append(_unknown(("transfers",), "intent", intent, intents))
            where = ("transfers", intent, "to")
            if transfer.to not in intents:
                problems.append(_unknown(where, "intent", transfer.to, intents))
            elif transfer.to == intent:
                problems.append(
                    Problem(
                        where,
                        "a contact cannot be transferred to its own intent",
                        value=transfer.to,
                        expected=f"an intent other than {intent!r}",
                    )
                )
        bo = self.back_office.recontact_channel
        if bo is not None and bo not in channels:
            problems.append(_unknown(("back_office", "recontact_channel"), "channel", bo, channels))
        problems.extend(_check_names(self))
        problems.extend(plan_problems(self))
        if problems:
            raise ScenarioProblemsError(problems)
        return self

    def _check_window(self, i: int, target: Target) -> list[Problem]:
        """A target's window: on reporting-interval boundaries, and holding at least one measured interval."""
        window = target.window
        if window is None or not window.restricts:
            return []
        where: tuple[str | int, ...] = ("targets", i, "window")
        interval = self.reporting.interval
        start_tod = (self.start - dt.datetime.combine(self.start.date(), dt.time())).total_seconds()
        lo, hi = window.bounds_s
        bounds = [lo, hi] if window.start is not None or window.end is not None else [0.0]
        if 86400.0 % interval != 0 or any((b - start_tod) % interval != 0 for b in bounds):
            shown = ", ".join(format_time_of_day(b % 86400.0) for b in bounds)
            return [
                Problem(
                    where,
                    f"the window of target {short_repr(target.name)} opens or closes at {shown}, not on a "
                    f"boundary of the {format_duration(interval)} reporting intervals (which start at "
                    f"{format_time_of_day(start_tod)}); an interval would lie partly in the window",
                    value=shown,
                    expected=f"times of day on the {format_duration(interval)} grid",
                )
            ]
        # The window selects a measured interval iff it is open at the measured start or opens before the horizon.
        measured = self.measure_start_s
        n_days = math.ceil((start_tod + self.horizon) / 86400.0) + 1
        opens = np.arange(-1, n_days + 1) * 86400.0 + lo - start_tod
        candidates = np.concatenate([[measured], opens[(opens >= measured) & (opens < self.horizon)]])
        if measured < self.horizon and any(d is not None for d in window.window_day(candidates, self.start)):
            return []
        first = self.start + dt.timedelta(seconds=measured)
        last = self.start + dt.timedelta(seconds=self.horizon)
        return [
            Problem(
                where,
                f"the window of target {short_repr(target.name)} ({window.describe()}) selects no measured "
                f"interval: the measured period runs from {first:%Y-%m-%d %H:%M} (after the warm-up) to "
                f"{last:%Y-%m-%d %H:%M}",
                value=window.describe(),
                expected="a window that overlaps the measured period",
            )
        ]

    def _check_bots(self, channels: set[str], intents: set[str]) -> list[Problem]:
        problems = []
        for ch, bot in self.bots.items():
            where = ("bots", ch)
            if ch not in channels:
                problems.append(_unknown(where, "channel", ch, channels))
            for intent in bot.resolution:
                if intent not in intents:
                    problems.append(_unknown((*where, "resolution"), "intent", intent, intents))
            for other in bot.return_channels:
                if other not in channels:
                    problems.append(_unknown((*where, "return_channels"), "channel", other, channels))
            for intent in intents:
                total = bot.resolution_for(intent) + bot.abandon + bot.silent_failure
                if total > 1.0 + 1e-9:
                    message = (
                        f"resolution ({bot.resolution_for(intent):g}) + abandon ({bot.abandon:g}) + "
                        f"silent_failure ({bot.silent_failure:g}) for intent {intent!r} is {total:g}; must be <= 1"
                    )
                    problems.append(Problem(where, message, value=total, expected="<= 1"))
        return problems

    def _check_generated(
        self, arrivals: GeneratedArrivals, channels: set[str], intents: set[str], languages: set[str]
    ) -> list[Problem]:
        problems = []
        for ch, spec in arrivals.channels.items():
            where = ("arrivals", "channels", ch)
            if ch not in channels:
                problems.append(_unknown(where, "channel", ch, channels))
                continue
            for intent, weight in spec.intent_mix.items():
                if intent not in intents:
                    problems.append(_unknown((*where, "intent_mix"), "intent", intent, intents))
                    continue
                if weight <= 0 or spec.daily_volume <= 0:
                    continue
                for lang in languages:
                    if not self.eligible_groups(ch, intent, lang):
                        problems.append(
                            Problem(
                                where,
                                f"no agent group serves channel {ch!r}, intent {intent!r}, language {lang!r}",
                                value=(ch, intent, lang),
                                expected="a group with this channel, skill and language",
                            )
                        )
        for i, event in enumerate(arrivals.promotions):
            for ch in event.channels or []:
                if ch not in channels:
                    problems.append(
                        Problem(
                            ("arrivals", "promotions", i, "channels"),
                            f"unknown channel {ch!r}",
                            value=ch,
                            expected=f"one of {sorted(channels)}",
                        )
                    )
        for i, outage in enumerate(arrivals.outages):
            for field, name in (("channel", outage.channel), ("moved_to", outage.moved_to)):
                if name is not None and name not in channels:
                    problems.append(_unknown(("arrivals", "outages", i, field), "channel", name, channels))
        for i, outage in enumerate(arrivals.outages):
            for j, earlier in enumerate(arrivals.outages[:i]):
                if earlier.channel == outage.channel and outage.start < earlier.end and earlier.start < outage.end:
                    problems.append(
                        Problem(
                            ("arrivals", "outages", i),
                            f"this outage of channel {outage.channel!r} overlaps outage {j} of the same channel "
                            f"({earlier.start:%Y-%m-%d %H:%M} to {earlier.end:%Y-%m-%d %H:%M})",
                            value=f"{outage.start:%Y-%m-%d %H:%M} to {outage.end:%Y-%m-%d %H:%M}",
                            expected="outages of one channel that do not overlap (merge them, or use a notice)",
                        )
                    )
        end = self.start + dt.timedelta(seconds=self.horizon)
        events: list[tuple[str, int, Promotion | Outage]] = [
            *(("promotions", i, e) for i, e in enumerate(arrivals.promotions)),
            *(("outages", i, e) for i, e in enumerate(arrivals.outages)),
        ]
        for kind, i, window in events:
            if window.end <= self.start or window.start >= end:
                problems.append(
                    Problem(
                        ("arrivals", kind, i),
                        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} lies outside the horizon "
                        f"({self.start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}); it would change nothing: "
                        f"move it, lengthen the horizon, or remove it",
                        expected="a window that overlaps the horizon",
                    )
                )
        return problems

    # ------------------------------------------------------------------------------------------- derived views

    def eligible_groups(self, channel: str, intent: str, language: str) -> list[str]:
        """Names of the groups whose agents may serve a contact with these attributes."""
        return [
            name
            for name, g in self.groups.items()
            if channel in g.channels and intent in g.skills and language in g.languages
        ]

    def concurrency(self, group: str, channel: str) -> int:
        """Most simultaneous contacts of ``channel`` an agent of ``group`` handles."""
        cap = self.groups[group].concurrency
        return min(self.channels[channel].concurrency, cap) if cap is not None else self.channels[channel].concurrency

    @property
    def has_mechanics(self) -> bool:
        """Whether a live channel uses lines, max_wait, balking, retrials or callbacks, or an intent a max_wait."""
        live = any(ch.kind == "live" for ch in self.channels.values())
        return any(ch.has_mechanics for ch in self.channels.values()) or (
            live and any(i.max_wait is not None for i in self.intents.values())
        )

    def max_wait_for(self, channel: str, intent: str) -> float | None:
        """Longest wait in the human queue for ``intent`` on ``channel`` (seconds; None: no limit)."""
        if self.channels[channel].kind != "live":
            return None
        own = self.intents[intent].max_wait
        return own if own is not None else self.channels[channel].max_wait

    def patience_for(self, channel: str, intent: str) -> Any:
        """Patience distribution for a contact of this channel and intent (no ``patience_by`` rule applied)."""
        if self.channels[channel].kind == "deferrable":
            return NoAbandonment()
        own = self.intents[intent].patience
        return own if own is not None else self.channels[channel].patience

    def patience_rules_for(self, channel: str, intent: str) -> list[PatienceRule]:
        """The intent's ``patience_by`` rules on this channel (none on a deferrable channel)."""
        if self.channels[channel].kind == "deferrable":
            return []
        return list(self.intents[intent].patience_by)

    def wrap_up_for(self, channel: str, intent: str) -> Any:
        """Wrap-up distribution of a contact of this channel and intent, or ``None`` for none."""
        own = self.intents[intent].wrap_up
        return own if own is not None else self.channels[channel].wrap_up

    @property
    def has_wrap_up(self) -> bool:
        """Whether any channel or intent has a wrap-up."""
        return any(c.wrap_up is not None for c in self.channels.values()) or any(
            i.wrap_up is not None for i in self.intents.values()
        )

    def sl_thresholds_s(self) -> list[float]:
        """Sorted distinct SL thresholds (seconds): the targets' and the reporting extras."""
        values = {t.threshold for t in self.targets} | set(self.reporting.sl_thresholds)
        return sorted(values)

    @property
    def measure_start_s(self) -> float:
        """Start of the measured period: the warm-up rounded up to a reporting-interval boundary (seconds)."""
        interval = self.reporting.interval
        return float(min(math.ceil(self.warmup / interval - 1e-9) * interval, self.horizon))

    @property
    def n_intervals(self) -> int:
        """Number of reporting intervals covering the horizon."""
        return math.ceil(self.horizon / self.reporting.interval - 1e-9)


def single_queue(
    *,
    arrival_rate_per_s: float,
    mean_handle_s: float,
    n_agents: int,
    mean_patience_s: float | None = None,
    horizon: str = "3d",
    warmup: str = "0s",
    interval: str = "30min",
    sl_convention: SLConvention = "short_abandons_excluded",
    name: str = "single_queue",
) -> Scenario:
    """The textbook M/M/c (Erlang C) or, with a patience, M/M/c+M (Erlang A) queue as a scenario.

    One voice channel, one intent with exponential handle time, Poisson arrivals at a constant rate, one group
    of ``n_agents`` on duty around the clock, exponential patience (or none), and no short-abandon exclusion.

    Args:
        arrival_rate_per_s: Arrivals per second.
        mean_handle_s: Mean handle time in seconds.
        n_agents: Agents on duty.
        mean_patience_s: Mean patience in seconds; ``None`` means nobody abandons.
        horizon: Simulated length, with a unit.
        warmup: Excluded start, with a unit.
        interval: Reporting interval, with a unit.
        sl_convention: SL abandonment convention.
        name: Scenario name.

    Example:
        >>> sc = single_queue(arrival_rate_per_s=100 / 1800, mean_handle_s=180, n_agents=14)
        >>> sc.groups["agents"].staffing
        {'always': 14}
    """
    patience: dict[str, str] = {"dist": "none"}
    if mean_patience_s is not None:
        patience = {"dist": "exponential", "mean": format_duration(mean_patience_s)}
    return Scenario.model_validate(
        {
            "name": name,
            "horizon": horizon,
            "warmup": warmup,
            "channels": {"voice": {"patience": patience, "short_abandon": "0s"}},
            "intents": {"general": {"handle": {"dist": "exponential", "mean": format_duration(mean_handle_s)}}},
            "arrivals": {
                "kind": "generated",
                "channels": {"voice": {"daily_volume": arrival_rate_per_s * 86400, "intent_mix": {"general": 1}}},
            },
            "shifts": {"always": {"start": "00:00", "length": "24h"}},
            "groups": {
                "agents": {
                    "channels": ["voice"],
                    "skills": {"general": 1.0},
                    "languages": ["en"],
                    "staffing": {"always": n_agents},
                }
            },
            "reporting": {"interval": interval, "sl_convention": sl_convention},
        }
    )
