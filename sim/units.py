"""Durations and times of day written with units in scenario files.

Config takes durations as strings with a unit ("20s", "5min", "1.5h", "2d"); the engine works in float seconds.
A bare number is rejected so that nobody has to guess whether ``300`` meant seconds or minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, PlainSerializer

from sim.problems import short_repr

__all__ = [
    "MODEL_CONFIG",
    "DateTime",
    "Duration",
    "Instant",
    "PositiveDuration",
    "TimeOfDay",
    "format_duration",
    "format_time_of_day",
    "parse_duration",
    "parse_time_of_day",
]

MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)
"""Settings of every scenario and policy-parameter model: frozen, unknown keys refused, and no silent coercion.

``strict`` refuses a boolean where a number is expected (``concurrency: true`` is not 1) and a float where an
integer is (``2.5`` agents); an integer is still a valid float. ``allow_inf_nan=False`` refuses ``.inf`` and
``.nan``. Fields that must accept text from JSON (the ``start`` date) opt out of ``strict`` one by one.
``defer_build`` builds a model's validator when it is first used rather than when its module is imported: the
scenario's nested models are built once, inside the scenario's, and every command starts about 35 ms sooner.
"""

MAX_DURATION_S = 1e9
"""Longest duration a scenario may write (seconds, about 31.7 years); beyond is a typo, not a plan."""

_UNITS_S = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "m": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}
_DURATION_RE = re.compile(r"^\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]+)\s*$")
_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_EXPECTED = 'a duration string with a unit, e.g. "20s", "5min", "8h", "2d" (units: ms, s, min, h, d, w)'


def parse_duration(value: object) -> float:
    """Parse a duration with a unit into seconds.

    Args:
        value: A string such as ``"30s"``, ``"5min"``, ``"1.5h"`` or ``"2d"``.

    Returns:
        The duration in seconds (float, >= 0).

    Raises:
        ValueError: If the value is not a string with a known unit, or is negative.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected {_EXPECTED}, got {short_repr(value)}")
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"expected {_EXPECTED}, got {short_repr(value)}")
    number, unit = match.groups()
    factor = _UNITS_S.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown time unit {short_repr(unit)} in {short_repr(value)}; expected {_EXPECTED}")
    seconds = float(number) * factor
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise ValueError(f"duration must be at most {MAX_DURATION_S:g}s (about 31 years), got {short_repr(value)}")
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {short_repr(value)}")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds as an exact duration string (``parse_duration(format_duration(x)) == x``)."""
    for unit, factor in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= factor and (seconds / factor).is_integer():
            return f"{int(seconds / factor)}{unit}"
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{float(seconds)!r}s"


def format_time_of_day(seconds: float) -> str:
    """Format seconds after midnight as ``"HH:MM"`` or ``"HH:MM:SS"`` (inverse of :func:`parse_time_of_day`)."""
    s = int(seconds)
    text = f"{s // 3600:02d}:{s % 3600 // 60:02d}"
    return text if s % 60 == 0 else f"{text}:{s % 60:02d}"


def parse_time_of_day(value: object) -> float:
    """Parse ``"HH:MM"`` or ``"HH:MM:SS"`` into seconds after midnight (0 <= s < 86400)."""
    if not isinstance(value, str):
        raise ValueError(f'expected a time of day "HH:MM", got {short_repr(value)}')
    match = _TIME_RE.match(value)
    if not match:
        raise ValueError(f'expected a time of day "HH:MM", got {short_repr(value)}')
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"time of day out of range: {short_repr(value)}")
    return hours * 3600.0 + minutes * 60.0 + seconds


def _positive(value: object) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"duration must be greater than zero, got {short_repr(value)}")
    return seconds


# No bare numbers, not even floats: "2.5" in a file must not silently mean seconds. Dumps (python or json mode)
# write durations back as strings, so a dumped scenario validates again unchanged.
Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
"""Non-negative duration in seconds, written in config with a unit."""

PositiveDuration = Annotated[float, BeforeValidator(_positive), PlainSerializer(format_duration, return_type=str)]
"""Strictly positive duration in seconds, written in config with a unit."""

TimeOfDay = Annotated[float, BeforeValidator(parse_time_of_day), PlainSerializer(format_time_of_day, return_type=str)]
"""Seconds after midnight, written in config as ``"HH:MM"``."""


YEARS = (1900, 2200)
"""Calendar years a scenario's dates may fall in (inclusive); outside them date arithmetic is a typo's problem."""


def _years(value: dt.datetime) -> dt.datetime:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"the year must be between {YEARS[0]} and {YEARS[1]}")
    return value


def _calendar(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError(
            "a time zone offset is not supported; write the center's local wall-clock time without an offset, "
            "e.g. 2026-11-09T08:00"
        )
    return _years(value)


DateTime = Annotated[dt.datetime, Field(strict=False), AfterValidator(_calendar)]
"""A local calendar date and time (``2026-11-11T20:00``), without a time zone, in the years :data:`YEARS`."""

Instant = Annotated[dt.datetime, Field(strict=False), AfterValidator(_years)]
"""A date and time that may carry a UTC offset (a replay log's clock), in the years :data:`YEARS`."""
