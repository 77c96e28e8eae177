"""Validation problems as data: where, what, the bad value and what was expected.

A check that can find several problems at once (the :class:`~sim.config.Scenario` cross-references, the policies
section) collects :class:`Problem` objects instead of sentences, and raises them together as
:class:`ScenarioProblemsError`. The edge that reads a file (``experiments.scenario_files``, with the wording in
``experiments.scenario_errors``) puts each problem on its own YAML line from its ``path`` and formats it once;
nothing joins problems into a string that is split again.

Inside a pydantic validator a raised :class:`ScenarioProblemsError` reaches the caller as one ``value_error`` of the
``ValidationError``, with the exception itself in ``error["ctx"]["error"]``.

Example:
    >>> p = Problem(("groups", "chat", "skills"), "unknown intent 'billing'; known: ['general']", value="billing")
    >>> str(p)
    "groups.chat.skills: unknown intent 'billing'; known: ['general']"
"""

from __future__ import annotations

import enum
import reprlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "Problem", "ScenarioProblemsError", "dotted", "short_repr"]


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
"""The ``value`` of a problem that is not about one bad value (``None`` can be a bad value)."""


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 60, 60, 4, 4, 2


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` of a value, bounded: at most ``limit`` characters, whatever the value's size.

    Error messages quote bad values through this, so a file whose aliases expand a list a million-fold cannot
    turn one message into gigabytes (``reprlib`` never builds the whole ``repr``).
    """
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dotted(path: Sequence[str | int]) -> str:
    """Render a field path: ``("groups", "chat", "skills")`` → ``groups.chat.skills``, ints as ``[i]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One validation problem.

    Attributes:
        path: Where it is, as keys and list indices from the top of the scenario (``("targets", 0, "channel")``).
        message: What is wrong, without the location (``"unknown channel 'chat'; known: ['voice']"``).
        value: The offending value, or :data:`MISSING` when the problem is not about one value.
        expected: What would have been accepted, in words (``"one of ['voice']"``), if that is known.
        show_path: Whether the text starts with the path; ``False`` when the message names its own field
            (``"warmup (2d) must be shorter than horizon (1d)"``), whose line the path still locates.
    """

    path: tuple[str | int, ...]
    message: str
    value: Any = MISSING
    expected: str | None = None
    show_path: bool = True

    def __str__(self) -> str:
        return f"{dotted(self.path)}: {self.message}" if self.show_path else self.message


class ScenarioProblemsError(ValueError):
    """Several :class:`Problem` objects raised together; ``str(err)`` has one line per problem.

    Attributes:
        problems: The problems, in the order they were found.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))
