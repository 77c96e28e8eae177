"""The frames one replication produces (see :mod:`sim.schema` for their columns)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["RunResult"]


@dataclass(frozen=True)
class RunResult:
    """Output of one replication.

    Attributes:
        replication: Replication index.
        seed: Base seed.
        intervals: Per interval x channel x priority x tier counts and levels.
        staffing: Per interval x group agent levels.
        agents: Per agent totals.
        frt_hist: FRT histogram per channel x priority x tier.
        contacts: Contact log, or ``None`` when it was not asked for (streaming mode).
        resolution: Bot, approval and repeat-contact counters per channel x priority x tier (after warm-up).
        stats: Engine counters and costs beyond agent pay in the scenario's currency (``n_arrivals``,
            ``n_repeats``, ``wall_s``; totals over the horizon ``bot_cost``, ``leakage_cost``, ``team_lead_cost``;
            one-off ``training_cost``, ``bot_setup_cost``; ``team_lead_busy_s``, ``team_lead_paid_s``).
    """

    replication: int
    seed: int
    intervals: pd.DataFrame
    staffing: pd.DataFrame
    agents: pd.DataFrame
    frt_hist: pd.DataFrame
    contacts: pd.DataFrame | None = None
    resolution: pd.DataFrame | None = None
    stats: dict[str, float] = field(default_factory=dict)

    FRAMES = ("contacts", "intervals", "staffing", "agents", "frt_hist", "resolution")
    """Names of the frame attributes, in the order they are written."""
