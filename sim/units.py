"""Durations and times of day written with units in scenario files.

Config takes durations as strings with a unit ("20s", "5min", "1.5h", "2d"); the engine works in float seconds.
A bare number is rejected so that nobody has to guess whether ``300`` meant seconds or minutes.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = [
    "Duration",
    "PositiveDuration",
    "TimeOfDay",
    "format_duration",
    "format_time_of_day",
    "parse_duration",
    "parse_time_of_day",
]

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
        raise ValueError(f"expected {_EXPECTED}, got {value!r}")
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"expected {_EXPECTED}, got {value!r}")
    number, unit = match.groups()
    factor = _UNITS_S.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown time unit {unit!r} in {value!r}; expected {_EXPECTED}")
    seconds = float(number) * factor
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {value!r}")
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
        raise ValueError(f'expected a time of day "HH:MM", got {value!r}')
    match = _TIME_RE.match(value)
    if not match:
        raise ValueError(f'expected a time of day "HH:MM", got {value!r}')
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"time of day out of range: {value!r}")
    return hours * 3600.0 + minutes * 60.0 + seconds


def _positive(value: object) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"duration must be greater than zero, got {value!r}")
    return seconds


# No bare numbers, not even floats: "2.5" in a file must not silently mean seconds. Dumps (python or json mode)
# write durations back as strings, so a dumped scenario validates again unchanged.
Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
"""Non-negative duration in seconds, written in config with a unit."""

PositiveDuration = Annotated[float, BeforeValidator(_positive), PlainSerializer(format_duration, return_type=str)]
"""Strictly positive duration in seconds, written in config with a unit."""

TimeOfDay = Annotated[float, BeforeValidator(parse_time_of_day), PlainSerializer(format_time_of_day, return_type=str)]
"""Seconds after midnight, written in config as ``"HH:MM"``."""
