"""Shared pieces of the scenario models: the frozen base model and the small types several sections use.

Part of :mod:`sim.config` (import from there).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sim.units import MODEL_CONFIG

__all__ = ["WEEKDAYS", "FrozenModel", "SLConvention", "Share", "Weekday"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names in ``datetime.weekday()`` order."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share or probability, from 0 to 1."""

SLConvention = Literal["ignore_abandons", "abandons_bad", "short_abandons_excluded", "abandons_good"]
"""How abandoned contacts count in a service level (see DESIGN §5)."""


class FrozenModel(BaseModel):
    """Base of every scenario model: frozen, unknown keys refused (:data:`sim.units.MODEL_CONFIG`)."""

    model_config = MODEL_CONFIG
