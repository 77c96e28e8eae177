"""Decision variables of a search space: integer, float and choice, and how a space file spells each one.

A variable is a dotted override path (see :mod:`experiments.overrides`) with its values: ``{int: [low, high]}``
(optional ``step``), ``{float: [low, high]}`` (optional ``step`` or ``log``), ``{choice: [...]}`` (whole values,
stored in the study under a short label). :func:`variable_from_spec` reads one and reports what is wrong with it;
:mod:`experiments.space` reads the whole file.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.problems import short_repr

__all__ = [
    "ChoiceVariable",
    "FloatVariable",
    "IntVariable",
    "Variable",
    "canonical",
    "is_int",
    "is_number",
    "variable_from_spec",
]

_KINDS = ("int", "float", "choice")


@dataclasses.dataclass(frozen=True)
class IntVariable:
    """An integer decision variable: ``low``, ``low + step``, ... up to ``high`` (both included).

    Attributes:
        path: Dotted override path.
        low: Smallest value.
        high: Largest value (``high - low`` is a multiple of ``step``).
        step: Spacing of the values (>= 1).
    """

    path: str
    low: int
    high: int
    step: int = 1

    def candidates(self) -> list[Any]:
        """The values checked against the scenario before any trial (the bounds)."""
        return [self.low, self.high]

    def value_of(self, param: Any) -> Any:
        """The override value of an Optuna parameter value."""
        return int(param)

    def param_of(self, value: Any) -> Any:
        """The Optuna parameter value of an override value (for a warm start).

        Raises:
            ValueError: Not an integer of the range.
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {short_repr(value)}")
        if not self.low <= value <= self.high or (value - self.low) % self.step:
            raise ValueError(f"{value} is not one of the space's values {self.describe()}")
        return value

    def describe(self) -> str:
        """The range as text, e.g. ``0..500 step 50``."""
        return f"{self.low}..{self.high}" + (f" step {self.step}" if self.step != 1 else "")

    def spec(self) -> dict[str, Any]:
        """A canonical description (for the space's fingerprint)."""
        return {"int": [self.low, self.high], "step": self.step}


@dataclasses.dataclass(frozen=True)
class FloatVariable:
    """A real decision variable in ``[low, high]``, optionally on a grid of ``step`` or on a log scale.

    Attributes:
        path: Dotted override path.
        low: Lower bound.
        high: Upper bound.
        step: Grid spacing, or ``None`` for a continuous range.
        log: Sample on a log scale (``low > 0``; not with ``step``).
    """

    path: str
    low: float
    high: float
    step: float | None = None
    log: bool = False

    def candidates(self) -> list[Any]:
        """The values checked against the scenario before any trial (the bounds)."""
        return [self.low, self.high]

    def value_of(self, param: Any) -> Any:
        """The override value of an Optuna parameter value."""
        return float(param)

    def param_of(self, value: Any) -> Any:
        """The Optuna parameter value of an override value (for a warm start).

        Raises:
            ValueError: Not a number in the range.
        """
        if isinstance(value, bool) or not isinstance(value, int | float) or not self.low <= value <= self.high:
            raise ValueError(f"{short_repr(value)} is not a number in {self.describe()}")
        return float(value)

    def describe(self) -> str:
        """The range as text, e.g. ``[0.2, 0.9] step 0.1``."""
        extra = f" step {self.step:g}" if self.step is not None else (" log" if self.log else "")
        return f"[{self.low:g}, {self.high:g}]{extra}"

    def spec(self) -> dict[str, Any]:
        """A canonical description (for the space's fingerprint)."""
        return {"float": [self.low, self.high], "step": self.step, "log": self.log}


@dataclasses.dataclass(frozen=True)
class ChoiceVariable:
    """A categorical decision variable: one of ``choices``, stored in the study under its label.

    Attributes:
        path: Dotted override path.
        choices: The values, as written in the space file.
        labels: One distinct text label per choice (what Optuna stores and the tables show).
    """

    path: str
    choices: tuple[Any, ...]
    labels: tuple[str, ...]

    def candidates(self) -> list[Any]:
        """The values checked against the scenario before any trial (every choice)."""
        return list(self.choices)

    def value_of(self, param: Any) -> Any:
        """The override value of an Optuna parameter value (a label)."""
        return self.choices[self.labels.index(param)]

    def param_of(self, value: Any) -> Any:
        """The label of a choice equal to ``value`` (for a warm start).

        Raises:
            ValueError: ``value`` is none of the choices.
        """
        for choice, label in zip(self.choices, self.labels, strict=True):
            if canonical(choice) == canonical(value):
                return label
        raise ValueError(f"{short_repr(value)} is not one of the choices {list(self.labels)}")

    def describe(self) -> str:
        """The choices' labels as text."""
        return " | ".join(self.labels)

    def spec(self) -> dict[str, Any]:
        """A canonical description (for the space's fingerprint)."""
        return {"choice": list(self.choices)}


Variable = IntVariable | FloatVariable | ChoiceVariable


def canonical(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys): equal values give equal texts."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def is_int(value: Any) -> bool:
    """An ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite ``int`` or ``float``, not a ``bool``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _labels(choices: Sequence[Any]) -> tuple[str, ...]:
    """Short distinct labels: a policy's ``name`` (``name#2`` when repeated with other parameters), else YAML text."""
    raw = []
    for choice in choices:
        if isinstance(choice, Mapping) and isinstance(choice.get("name"), str):
            raw.append(choice["name"])
        elif isinstance(choice, str):
            raw.append(choice)
        else:
            raw.append(canonical(choice))
    labels, seen = [], {}
    for text in raw:
        seen[text] = seen.get(text, 0) + 1
        labels.append(text if raw.count(text) == 1 else f"{text}#{seen[text]}")
    return tuple(labels)


def variable_from_spec(path: str, spec: Any, where: str, problems: list[str]) -> Variable | None:
    """One variable from its spec, or ``None`` with the problems appended."""
    if not isinstance(spec, Mapping):
        problems.append(
            f"{where}: expected a mapping such as {{int: [1, 10]}} or {{choice: [...]}}, got {short_repr(spec)}"
        )
        return None
    kinds = [k for k in _KINDS if k in spec]
    if len(kinds) != 1:
        problems.append(f"{where}: expected exactly one of int:, float:, choice:; got keys {sorted(map(str, spec))}")
        return None
    kind = kinds[0]
    allowed = {"int": {"int", "step"}, "float": {"float", "step", "log"}, "choice": {"choice"}}[kind]
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        problems.append(f"{where}: unknown keys {unknown} for a {kind} variable; allowed: {sorted(allowed)}")
        return None
    body = spec[kind]
    if kind == "choice":
        if not isinstance(body, list) or not body:
            problems.append(f"{where}: choice: expected a non-empty list of values, got {short_repr(body)}")
            return None
        canon = [canonical(c) for c in body]
        repeated = sorted({c for c in canon if canon.count(c) > 1})
        if repeated:
            problems.append(f"{where}: choice: the same value is listed twice: {', '.join(repeated)}")
            return None
        return ChoiceVariable(path, tuple(body), _labels(body))
    if not isinstance(body, list) or len(body) != 2:
        problems.append(f"{where}: {kind}: expected [low, high], got {short_repr(body)}")
        return None
    low, high = body
    check = is_int if kind == "int" else is_number
    if not (check(low) and check(high)):
        what = "integers" if kind == "int" else "finite numbers"
        problems.append(f"{where}: {kind}: bounds must be {what}, got [{short_repr(low)}, {short_repr(high)}]")
        return None
    if low > high:
        problems.append(f"{where}: {kind}: inverted bounds [{low}, {high}]: low must be <= high")
        return None
    step = spec.get("step")
    if kind == "int":
        step = 1 if step is None else step
        if not is_int(step) or step < 1:
            problems.append(f"{where}: step: expected an integer >= 1, got {short_repr(step)}")
            return None
        if (high - low) % step:
            problems.append(f"{where}: the range {low}..{high} is not a whole number of steps of {step}")
            return None
        return IntVariable(path, low, high, step)
    log = spec.get("log", False)
    if not isinstance(log, bool):
        problems.append(f"{where}: log: expected true or false, got {short_repr(log)}")
        return None
    if step is not None and (not is_number(step) or step <= 0):
        problems.append(f"{where}: step: expected a positive number, got {short_repr(step)}")
        return None
    if log and (step is not None or low <= 0):
        problems.append(f"{where}: log: needs low > 0 and no step")
        return None
    return FloatVariable(path, float(low), float(high), None if step is None else float(step), log)
