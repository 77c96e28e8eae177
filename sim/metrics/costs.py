"""Costs that can be an objective: recurring costs per week, one-off costs apart, and the payback period.

All amounts are in the scenario's currency units (whatever ``hourly_cost``, the bot fees, the training cost and
the approval amounts are written in; nothing converts them).

* **Recurring** costs accrue with time or volume: agent pay (scheduled hours, night and overtime / call-in
  premiums), bot fees (per session, per resolution and the fixed fee per day), team leads and leakage (approvals
  a supervisor would have refused). The engine sums each over the whole simulated horizon ``[0, horizon)``,
  warm-up included: pay follows the roster whether or not the queue has reached its steady state, and a horizon
  of whole weeks then pays each weekday exactly once. :func:`per_week` scales such a sum to 7 days
  (``x 7 days / horizon``), so runs of different lengths compare: a 14-day run's weekly cost is half its total.
* **One-off** costs are paid once whatever the run's length: agent training for empowerment
  (:meth:`~sim.interfaces.EmpowermentPolicy.training_cost` per rostered agent) and bot set-up
  (:attr:`sim.config.Bot.setup_cost`). They are reported apart and never added to a recurring figure.
* **Payback** needs a baseline: :func:`payback_weeks` is the number of weeks of recurring savings against the
  baseline that repay a variant's one-off cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from sim.metrics.frames import ratio
from sim.metrics.kpis import labor_cost

__all__ = ["WEEK_S", "cost_kpis", "payback_weeks", "per_week"]

WEEK_S = 7 * 86400.0
"""Seconds in a week: the period of every ``*_per_week`` cost."""


def per_week(amount: float, period_s: float) -> float:
    """An amount accrued over ``period_s`` seconds, scaled to one week (currency per week).

    Args:
        amount: Amount accrued over the period (currency).
        period_s: Length of the period the amount covers (seconds, > 0), e.g. the scenario's horizon.

    Returns:
        ``amount x WEEK_S / period_s``.

    Raises:
        ValueError: If ``period_s`` is not a positive number.

    Example:
        >>> per_week(1400.0, 14 * 86400.0)
        700.0
    """
    if not period_s > 0.0:
        raise ValueError(f"period_s must be > 0, got {period_s!r}")
    return float(amount) * WEEK_S / float(period_s)


def cost_kpis(stats: Mapping[str, float], agents: pd.DataFrame | None, horizon_s: float) -> dict[str, float]:
    """Recurring costs per week, one-off costs, and team-lead occupancy of one replication (currency).

    Recurring costs (labor, bot fees, team leads, leakage) are the engine's sums over ``[0, horizon_s)``, warm-up
    included, scaled to 7 days by :func:`per_week`; ``recurring_cost_per_week`` is their sum with the labor cost
    of ``agents`` (``labor_cost_per_week`` itself is an agent metric, reported per group too). One-off costs are
    reported as they are, whatever the horizon.

    Args:
        stats: The run's scalar statistics (``RunResult.stats``): recurring totals over the horizon ``bot_cost``,
            ``leakage_cost``, ``team_lead_cost``; one-off ``training_cost``, ``bot_setup_cost``; and
            ``team_lead_busy_s``, ``team_lead_paid_s`` (after the warm-up).
        agents: ``agents`` frame over the whole horizon (its ``cost`` column: pay with premiums).
        horizon_s: The scenario's horizon (seconds): the period the recurring totals cover.

    Returns:
        ``{name: value}`` in :data:`~sim.metrics.names.COST_METRICS` order; empty when the engine reported no
        costs (no ``bot_cost`` in ``stats``).

    Raises:
        ValueError: If ``horizon_s`` is not positive.
    """
    if "bot_cost" not in stats:
        return {}
    weekly = {
        "bot_cost_per_week": per_week(stats["bot_cost"], horizon_s),
        "team_lead_cost_per_week": per_week(stats["team_lead_cost"], horizon_s),
        "leakage_cost_per_week": per_week(stats["leakage_cost"], horizon_s),
    }
    training, setup = float(stats["training_cost"]), float(stats["bot_setup_cost"])
    return {
        **weekly,
        "recurring_cost_per_week": per_week(labor_cost(agents), horizon_s) + sum(weekly.values()),
        "one_off_training_cost": training,
        "one_off_bot_setup_cost": setup,
        "one_off_cost": training + setup,
        "team_lead_occupancy": ratio(stats["team_lead_busy_s"], stats["team_lead_paid_s"]),
    }


def payback_weeks(one_off: float, recurring_base: float, recurring_variant: float) -> float:
    """Weeks of recurring savings against a baseline that repay a variant's one-off cost.

    ``payback = one_off / saving`` with ``saving = recurring_base - recurring_variant`` (currency per week):

    * any argument NaN (or a NaN saving, ``inf - inf``): NaN, unknown;
    * ``one_off == 0``: NaN, nothing to pay back, so no payback period;
    * ``one_off > 0`` and ``saving > 0``: ``one_off / saving`` weeks;
    * ``one_off > 0`` and ``saving <= 0`` (the variant costs as much or more every week): ``inf``, never repaid.

    How ``ccsim compare`` uses it, per variant against the baseline (means over the paired replications of the
    metrics ``one_off_cost`` and ``recurring_cost_per_week``, scope ``all``)::

        payback_weeks(variant_one_off, base_recurring, variant_recurring)

    ``one_off`` is what switching to the variant costs once: the variant's ``one_off_cost`` when the baseline's
    one-off costs are already paid (sunk), or ``max(variant - baseline, 0)`` of ``one_off_cost`` when both are
    still plans. Only the saving matters, so an interval follows from the paired-difference interval
    ``[lo, hi]`` of ``recurring_cost_per_week`` (variant - baseline): the payback lies between
    ``payback_weeks(one_off, 0, lo)`` and ``payback_weeks(one_off, 0, hi)`` (the latter ``inf`` when ``hi >= 0``).

    Args:
        one_off: One-off cost of the variant (currency, >= 0).
        recurring_base: Recurring cost of the baseline (currency per week).
        recurring_variant: Recurring cost of the variant (currency per week).

    Returns:
        The payback period in weeks (``inf`` if never, NaN if undefined; see the rules above).

    Raises:
        ValueError: If ``one_off`` is negative.

    Example:
        >>> payback_weeks(8000.0, 12000.0, 10000.0)
        4.0
        >>> payback_weeks(8000.0, 10000.0, 12000.0)
        inf
    """
    one_off, saving = float(one_off), float(recurring_base) - float(recurring_variant)
    if math.isnan(one_off) or math.isnan(saving):  # a NaN argument, or inf - inf
        return math.nan
    if one_off < 0.0:
        raise ValueError(f"one_off must be >= 0 (a cost), got {one_off!r}")
    if one_off == 0.0:
        return math.nan
    return one_off / saving if saving > 0.0 else math.inf
