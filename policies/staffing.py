"""Staffing policies."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

__all__ = ["FixedStaffing"]


class FixedStaffing:
    """The scenario's own rosters, as the engine builds them.

    ``groups.<g>.staffing`` agents per shift template, with rest days and absenteeism. It changes nothing at run
    time (reactive staffing comes later).
    """

    class Params(BaseModel):
        """No parameters."""

        model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, params: Params | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def staff(self, t_s: float) -> Mapping[str, int]:
        """No change to the scenario's rosters at any time (an empty mapping)."""
        return {}
