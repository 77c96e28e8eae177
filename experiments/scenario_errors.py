"""Scenario problems as messages: :class:`ScenarioError`, pydantic's errors reworded, each on its YAML line.

Problems arrive as data (pydantic's error dicts, :class:`sim.problems.Problem` objects from the scenario's
cross-reference check and the policies check) and become text here, once: one line per problem, each naming the
file, the line, the field path, the bad value and what was expected. :mod:`experiments.scenario_files` reads the
files and raises what this module formats.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.config import Scenario
from sim.problems import Problem, ScenarioProblemsError, dotted, short_repr

__all__ = [
    "CalibrationInputError",
    "ScenarioError",
    "at_line",
    "child_type",
    "format_validation",
    "line_of",
    "model_of",
]


class CalibrationInputError(ValueError):
    """A mapping or log that cannot be calibrated from; the message lists every problem.

    Defined here, with the other input errors, so that the CLI catches it without loading the calibration models.
    """


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``str(err)`` has one line per problem.

    Attributes:
        source: The file (or name) that was being loaded.
        problems: One message per problem, each already prefixed with the file and line.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.problems))


# ------------------------------------------------------------------------------ where a problem is in the file


def line_of(node: yaml.Node | None, loc: Sequence[str | int], *, exact: bool = False) -> int | None:
    """1-based line of the deepest node of ``loc`` found in the YAML tree (the key's line for mappings).

    With ``exact``, ``None`` unless the whole of ``loc`` is in the tree (a value inherited from a base file has no
    line in this one).
    """
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                return None if exact else line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return None if exact else line
    return line


# ------------------------------------------------------------------------------------ pydantic error rewording


@dataclasses.dataclass(frozen=True)
class _Problem:
    """One validation problem located in the scenario tree, with its text in parts until it is formatted.

    Attributes:
        path: Field path; it finds the YAML line and, with ``show_path``, starts the text.
        text: What is wrong (``"must be a valid list"``).
        got: The offending value as shown after ``", got "``, or ``None``.
        show_path: Whether the formatted text starts with ``path:``.
        union_point, union_label, depth: For a problem inside a union member: where the union is, which member
            failed, and how deep below the union the problem is (see :func:`_merge_union_alternatives`).
    """

    path: tuple[str | int, ...]
    text: str = ""
    got: str | None = None
    show_path: bool = True
    union_point: tuple[str | int, ...] | None = None
    union_label: str | None = None
    depth: int = 0

    def __str__(self) -> str:
        where = f"{_dotted(self.path)}: " if self.show_path else ""
        return where + self.text + (f", got {self.got}" if self.got is not None else "")


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the type that validates the value."""
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if _is_union(tp):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType)


def _union_member(tp: Any, label: str | int) -> Any:
    """The member of a union that a pydantic loc label (a discriminator tag or a type name) designates."""
    for member in (_unwrap(m) for m in get_args(tp) if m is not type(None)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for field in member.model_fields.values():
                if get_origin(field.annotation) is Literal and label in get_args(field.annotation):
                    return member
    return None


def _union_tags(tp: Any) -> list[Any]:
    """Discriminator values of a tagged union's model members (``[]`` for anything else)."""
    tags: list[Any] = []
    for member in (_unwrap(m) for m in get_args(tp) if m is not type(None)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for field in member.model_fields.values():
                if get_origin(field.annotation) is Literal:
                    tags.extend(get_args(field.annotation))
                    break
    return tags


def child_type(tp: Any, part: str | int) -> Any:
    """Type of ``part`` inside a value of type ``tp`` (``None`` when unknown)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        return field.annotation if field is not None else None
    origin = get_origin(tp)
    if origin in (dict, Mapping):
        return get_args(tp)[1]
    if origin in (list, tuple, Sequence):
        return get_args(tp)[0]
    return None


def model_of(tp: Any, value: Any) -> type[BaseModel] | None:
    """The pydantic model a value of annotated type ``tp`` is; for a tagged union, the member ``value`` names."""
    tp = _unwrap(tp)
    if _is_union(tp):
        if isinstance(value, Mapping):
            for tag in ("kind", "dist"):
                if tag in value:
                    return _union_member(tp, value[tag])
        return None
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _resolve(loc: Sequence[str | int]) -> tuple[list[str | int], Any, _Problem]:
    """Turn a pydantic loc into a field path (union labels dropped) and the type found at its end."""
    tp: Any = Scenario
    path: list[str | int] = []
    union_point, label = None, None
    for part in loc:
        tp = _unwrap(tp)
        if _is_union(tp):
            # Inside a union the next loc element names the member that failed, not a key of the file.
            union_point, label = tuple(path), str(part)
            tp = _union_member(tp, part)
            continue
        path.append(part)
        tp = child_type(tp, part) if tp is not None else None
    marker = _Problem(tuple(path), union_point=union_point, union_label=label, depth=len(path) - len(union_point or ()))
    return path, _unwrap(tp) if tp is not None else None, marker


def _dotted(path: Sequence[str | int]) -> str:
    """:func:`sim.problems.dotted` without pydantic's ``[key]`` marker (a dict key that failed validation)."""
    return dotted([part for part in path if part != "[key]"])


def _where(path: Sequence[str | int]) -> str:
    return _dotted(path) if path else "the top level"


def _model_keys(tp: Any) -> list[str]:
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _reword(error: Mapping[str, Any]) -> list[_Problem]:
    """One pydantic error → one or more located problems with readable messages."""
    loc = error["loc"]
    path, _, marker = _resolve(loc)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        parent_path, key = path[:-1], path[-1]
        _, parent_type, _ = _resolve(loc[:-1])
        allowed = _model_keys(parent_type)
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        text = f"unknown key {key!r} at {_where(parent_path)}{hint}; allowed keys: {', '.join(allowed)}"
        return [dataclasses.replace(marker, text=text, show_path=False)]
    if kind == "missing":
        text = f"missing required key {path[-1]!r} at {_where(path[:-1])}"
        return [dataclasses.replace(marker, text=text, show_path=False)]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        ctx = error.get("ctx", {})
        key = str(ctx.get("discriminator", "kind")).strip("'")
        _, union_type, _ = _resolve(loc)
        tags = ", ".join(repr(t) for t in _union_tags(union_type)) or ctx.get("expected_tags", "")
        if kind == "union_tag_invalid":
            text = f"unknown {key} {ctx.get('tag')!r}; expected one of {tags}"
        else:
            text = f"missing key {key!r}; expected {key}: one of {tags}"
        return [dataclasses.replace(marker, text=text)]
    raised = error.get("ctx", {}).get("error")
    if isinstance(raised, ScenarioProblemsError):
        return [_from_problem(marker, problem) for problem in raised.problems]
    text = re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
    text = re.sub(r"^Input should be ", "must be ", text)
    if "[key]" in path:
        text = f"key {text[0].lower()}{text[1:]}"
    got = None
    if not isinstance(value, dict | list) and short_repr(value) not in text and str(value) not in text:
        got = short_repr(value)
    return [dataclasses.replace(marker, text=text, got=got)]


def _from_problem(marker: _Problem, problem: Problem) -> _Problem:
    """A :class:`~sim.problems.Problem` raised by the validator of the model at ``marker.path``, located there."""
    return dataclasses.replace(
        marker,
        path=marker.path + problem.path,
        text=problem.message,
        show_path=problem.show_path,
        depth=marker.depth + len(problem.path),
    )


def _merge_union_alternatives(problems: list[_Problem]) -> list[_Problem]:
    """Keep, per failed union, the member that got furthest; merge ties into one ``... or ...`` message."""
    groups: dict[tuple[str | int, ...], list[_Problem]] = {}
    out: list[_Problem] = []
    for problem in problems:
        if problem.union_point is None:
            out.append(problem)
        else:
            groups.setdefault(problem.union_point, []).append(problem)
    for members in groups.values():
        deepest = max(p.depth for p in members)
        kept = [p for p in members if p.depth == deepest]
        if len({p.union_label for p in kept}) > 1 and len({p.path for p in kept}) == 1:
            joined = " or ".join(dict.fromkeys(p.text.removeprefix("must be ") for p in kept))
            kept = [dataclasses.replace(kept[0], text=f"expected {joined}", show_path=True)]
        out.extend(kept)
    return out


def format_validation(exc: ValidationError, label: str, tree: yaml.Node | None) -> ScenarioError:
    """A pydantic error as a :class:`ScenarioError`: one line per problem, on its line of the file ``label``."""
    problems: list[_Problem] = []
    for error in exc.errors(include_url=False):
        problems.extend(_reword(error))
    lines = [at_line(label, line_of(tree, p.path), p) for p in _merge_union_alternatives(problems)]
    return ScenarioError(label, list(dict.fromkeys(lines)))


def at_line(label: str, line: int | None, problem: object) -> str:
    """``label:line: problem`` (``label: problem`` without a line): the one place a problem becomes text."""
    return f"{label}:{line}: {problem}" if line is not None else f"{label}: {problem}"
