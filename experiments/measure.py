"""One replication's metrics as the runner's long table (``metric, scope, value``), from :mod:`sim.metrics`.

:func:`replication_metrics` is the runner's default ``measure``: it picks the measurement window and the scopes
(``all``, ``channel=``, ``priority=``, ``tier=``, ``group=``, ``target=``) and calls the KPI functions of
:mod:`sim.metrics` on each; the KPI definitions themselves live there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from sim.metrics import (
    backlog_h,
    cost_kpis,
    cost_per_contact,
    filter_agents,
    filter_contacts,
    filter_intervals,
    frt_quantiles,
    frt_quantiles_from_hist,
    handled,
    intervals_from_contacts,
    labor_cost,
    measurement_window,
    occupancy_from_staffing,
    overtime_h,
    paid_h,
    per_week,
    queue_kpis,
    resolution_kpis,
    slot_occupancy_from_staffing,
    target_figures,
    utilization,
)
from sim.metrics.frames import is_empty, select_rows
from sim.schema import PRIORITIES, TIERS

if TYPE_CHECKING:
    import datetime as dt

    from sim.config import Scenario, Target

__all__ = ["RunFrames", "parse_target_scope", "replication_metrics", "target_scope"]


def target_scope(name: str, day: dt.date | None = None) -> str:
    """Scope of a target's rows: ``target=<name>``, or ``target=<name>@<YYYY-MM-DD>`` for one day of it."""
    return f"target={name}" if day is None else f"target={name}@{day.isoformat()}"


def parse_target_scope(scope: str, *, day: bool = False) -> tuple[str, str | None]:
    """``(name, day)`` of a :func:`target_scope`; ``day=True`` for the scopes of ``target_day_attainment``.

    The metric says whether a scope carries a day, so any name parses, even one ending in ``@2026-11-11``.
    """
    body = scope.removeprefix("target=")
    if not day:
        return body, None
    name, _, date = body.rpartition("@")
    return name, date


class RunFrames(Protocol):
    """What :func:`replication_metrics` reads from a replication's result (frames of :mod:`sim.schema`)."""

    intervals: pd.DataFrame
    staffing: pd.DataFrame | None
    agents: pd.DataFrame | None
    frt_hist: pd.DataFrame | None
    contacts: pd.DataFrame | None
    resolution: pd.DataFrame | None
    stats: dict[str, float]


def _queue_rows(
    scope: str,
    intervals: pd.DataFrame,
    frt_source: tuple[str, pd.DataFrame | None],
    thresholds_s: Sequence[float],
    convention: str,
    window_s: float,
) -> list[tuple[str, str, float]]:
    derived = queue_kpis(intervals, thresholds_s, convention)
    kind, frt_frame = frt_source
    if kind == "hist":
        p50, p90 = frt_quantiles_from_hist(frt_frame, (0.5, 0.9))
    else:
        p50, p90 = frt_quantiles(frt_frame, (0.5, 0.9))
    rows = [(name, scope, float(derived[name])) for name in derived.index if name != "frt_max_s"]
    rows += [("frt_p50_s", scope, float(p50)), ("frt_p90_s", scope, float(p90))]
    rows.append(("frt_max_s", scope, float(derived["frt_max_s"])))
    rows.append(("backlog_h", scope, backlog_h(intervals, window_s)))
    return rows


def _agent_rows(
    scope: str, agents: pd.DataFrame | None, staffing: pd.DataFrame | None, group: str | None, scenario: Scenario
) -> list[tuple[str, str, float]]:
    start_s, end_s = measurement_window(scenario)
    sub = None if is_empty(agents) else filter_agents(agents, group=group)
    occ = occupancy_from_staffing(
        staffing, interval_s=scenario.reporting.interval, horizon_s=end_s, group=group, warmup_s=start_s
    )
    slots = {g: max(scenario.concurrency(g, c) for c in spec.channels) for g, spec in scenario.groups.items()}
    slot_occ = slot_occupancy_from_staffing(
        staffing, slots=slots, interval_s=scenario.reporting.interval, horizon_s=end_s, group=group, warmup_s=start_s
    )
    return [
        ("occupancy", scope, occ),
        ("slot_occupancy", scope, slot_occ),
        ("utilization", scope, utilization(sub)),
        ("paid_h", scope, paid_h(sub)),
        ("overtime_h", scope, overtime_h(sub)),
        ("handled", scope, handled(sub)),
        ("labor_cost_per_week", scope, per_week(labor_cost(sub), scenario.horizon)),
        ("cost_per_contact", scope, cost_per_contact(sub)),
    ]


def resolution_rows(
    scope: str, resolution: pd.DataFrame | None, intervals: pd.DataFrame | None
) -> list[tuple[str, str, float]]:
    """Bot, approval and repeat-contact KPIs of one scope (:func:`sim.metrics.resolution_kpis`) as rows."""
    return [(name, scope, value) for name, value in resolution_kpis(resolution, intervals).items()]


def cost_rows(
    stats: Mapping[str, float], agents: pd.DataFrame | None, horizon_s: float
) -> list[tuple[str, str, float]]:
    """Recurring costs per week, one-off costs and team-lead occupancy (:func:`sim.metrics.cost_kpis`) as rows."""
    return [(name, "all", value) for name, value in cost_kpis(stats, agents, horizon_s).items()]


def _target_rows(
    target: Target, iv: pd.DataFrame, contacts: pd.DataFrame | None, scenario: Scenario
) -> list[tuple[str, str, float]]:
    """A target's rows from the measured intervals (or, for an intent filter, the intervals of its contacts)."""
    flt = {"channel": target.channel, "priority": target.priority, "tier": target.tier}
    selected: pd.DataFrame | None
    if target.intent is None:
        selected = None if is_empty(iv) else select_rows(iv, **flt)
    elif contacts is None:
        selected = None  # intervals carry no intent: without the contact log every figure is NaN
    else:
        own = select_rows(contacts, intent=target.intent, **flt)
        selected = intervals_from_contacts(
            own,
            interval_s=scenario.reporting.interval,
            thresholds_s=[target.threshold],
            short_abandon_s={name: ch.short_abandon for name, ch in scenario.channels.items()},
            horizon_s=scenario.horizon,
            n_intervals=scenario.n_intervals,
            channels=list(scenario.channels),
        )
        selected = filter_intervals(selected, warmup_s=scenario.measure_start_s, horizon_s=scenario.horizon)
    fig = target_figures(
        selected,
        threshold_s=target.threshold,
        level=target.level,
        convention=scenario.reporting.sl_convention,
        start=scenario.start,
        window=target.window,
        aggregation=target.aggregation,
    )
    scope = target_scope(target.name)
    rows = [("target_attainment", scope, fig.attainment), ("target_met", scope, fig.met)]
    if target.aggregation == "every_interval":
        rows += [
            ("target_worst_interval", scope, fig.worst_interval),
            ("target_worst_interval_start_s", scope, fig.worst_interval_start_s),
            ("target_interval_share", scope, fig.interval_share),
        ]
    rows += [("target_day_attainment", target_scope(target.name, day), value) for day, value in fig.days.items()]
    return rows


def outage_metrics_apply(scenario: Scenario) -> bool:
    """Whether the scenario has outages, so its metrics include ``lost`` and ``lost_rate`` (else they are absent)."""
    return bool(getattr(scenario.arrivals, "outages", None))


def _lost_rows(scope: str, iv: pd.DataFrame) -> list[tuple[str, str, float]]:
    """``lost`` (contacts lost to an outage) and ``lost_rate`` (lost / (offered + lost)) of a scope's intervals."""
    lost = float(iv["lost"].sum())
    offered = float(iv["offered"].sum())
    return [("lost", scope, lost), ("lost_rate", scope, lost / (offered + lost) if offered + lost else float("nan"))]


def replication_metrics(result: RunFrames, scenario: Scenario) -> pd.DataFrame:
    """Every KPI of one replication as one long table with columns ``metric, scope, value``.

    Queue metrics cover contacts arriving in :func:`~sim.metrics.measurement_window` (warm-up rounded up to an interval
    boundary, to the horizon), read from ``result.intervals``; SL uses ``scenario.reporting.sl_convention`` at
    every threshold of ``scenario.sl_thresholds_s()``. Scopes: ``all``, ``channel=<c>`` (every scenario
    channel), ``priority=<p>``, ``tier=<t>``.

    FRT p50/p90 come from ``result.frt_hist`` when it is there (linear within a bin), so they do not depend on
    whether the contact log was kept; otherwise they are exact quantiles from ``result.contacts`` (filtered to the
    window); NaN when neither is available. The histogram has no time dimension; the engine counts only
    arrivals from ``Scenario.measure_start_s`` on, the start of :func:`~sim.metrics.measurement_window`.

    Agent metrics have scopes ``all`` and ``group=<g>``: occupancy from the time-weighted ``staffing`` frame
    after warm-up; utilization, paid and overtime hours, contacts handled, labor cost and cost per handled
    contact from the ``agents`` frame, which has no time dimension and so covers the whole run, warm-up
    included (cost per contact is consistent: cost and contacts over the same period). Labor cost is per week
    (``labor_cost_per_week``: the horizon's pay x 7 days / horizon).

    Costs (scope ``all``, :func:`sim.metrics.cost_kpis`): recurring costs per week over the whole horizon, one-off
    costs apart (never part of a per-run total), in the scenario's currency.

    Each scenario target gives, with scope ``target=<name>`` (:func:`target_scope`), ``target_attainment`` (its
    SL at its threshold under the scenario's convention, pooled over its window's intervals) and ``target_met``
    (1.0 / 0.0 by its aggregation; NaN when undecided); an ``every_interval`` target also gives
    ``target_worst_interval``, ``target_worst_interval_start_s`` and ``target_interval_share``; and every target
    gives ``target_day_attainment`` per day of its window with scope ``target=<name>@<YYYY-MM-DD>`` (NaN for a
    day without contacts). Definitions: :mod:`sim.metrics.targets`. A target with an ``intent`` filter needs the
    contact log (intervals have no intent; its intervals are rebuilt from the log); without one its rows are NaN.

    Args:
        result: One replication's frames (``intervals``, ``staffing``, ``agents``, ``frt_hist``, ``contacts``;
            any but ``intervals`` may be ``None``).
        scenario: The scenario that was run.

    Returns:
        A frame with columns ``metric`` (a :data:`sim.metrics.METRICS` family; ``sl_<label>`` for service levels),
        ``scope`` and ``value`` (float).

    Raises:
        ValueError: If the frames hold more than one replication.
    """
    intervals = result.intervals
    if not is_empty(intervals) and "replication" in intervals.columns and intervals["replication"].nunique() > 1:
        raise ValueError("replication_metrics takes the frames of one replication; filter by replication first")
    start_s, end_s = measurement_window(scenario)
    thresholds = scenario.sl_thresholds_s()
    convention = scenario.reporting.sl_convention
    iv = intervals if is_empty(intervals) else filter_intervals(intervals, warmup_s=start_s, horizon_s=end_s)
    contacts = result.contacts
    if not is_empty(contacts):
        contacts = filter_contacts(contacts, warmup_s=start_s, horizon_s=end_s)
    hist = result.frt_hist

    scopes: list[tuple[str, dict[str, str]]] = [("all", {})]
    scopes += [(f"channel={c}", {"channel": c}) for c in scenario.channels]
    scopes += [(f"priority={p}", {"priority": p}) for p in PRIORITIES]
    scopes += [(f"tier={t}", {"tier": t}) for t in TIERS]
    rows: list[tuple[str, str, float]] = []
    for scope, flt in scopes:
        sub = iv if is_empty(iv) else select_rows(iv, **flt)
        if hist is not None:
            frt_source = ("hist", None if is_empty(hist) else select_rows(hist, **flt))
        else:
            frt_source = ("contacts", None if is_empty(contacts) else select_rows(contacts, **flt))
        rows += _queue_rows(scope, sub, frt_source, thresholds, convention, end_s - start_s)

    if outage_metrics_apply(scenario) and not is_empty(iv) and "lost" in iv.columns:
        for scope, flt in scopes:
            rows += _lost_rows(scope, select_rows(iv, **flt))

    resolution = getattr(result, "resolution", None)
    if not is_empty(resolution):
        for scope, flt in scopes:
            rows += resolution_rows(scope, select_rows(resolution, **flt), select_rows(iv, **flt))
    rows += _agent_rows("all", result.agents, result.staffing, None, scenario)
    for group in scenario.groups:
        rows += _agent_rows(f"group={group}", result.agents, result.staffing, group, scenario)
    rows += cost_rows(getattr(result, "stats", None) or {}, result.agents, scenario.horizon)

    for target in scenario.targets:
        rows += _target_rows(target, iv, contacts, scenario)

    out = pd.DataFrame(rows, columns=["metric", "scope", "value"])
    out["value"] = out["value"].astype(float)
    return out
