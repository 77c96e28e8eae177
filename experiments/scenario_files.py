"""Files in and out: scenario YAML → :class:`~sim.config.Scenario`, atomic Parquet/CSV/JSON writes, manifests.

Reading: :func:`load_scenario` accepts a path or the name of a bundled scenario (``experiments/scenarios/*.yaml``)
and raises :class:`ScenarioError` with one line per problem, each naming the file, the line, the field path, the
bad value and what was expected. Problems arrive as data (pydantic's error dicts, :class:`sim.problems.Problem`
objects from the scenario's cross-reference check and the policies check) and are formatted here, once.

Writing: every output file goes through :func:`write_atomic` (temp file in the same folder, fsync, ``os.replace``),
so a crash or Ctrl-C never leaves a half-written result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from sim.config import GeneratedArrivals, Scenario
from sim.problems import Problem, ScenarioProblemsError, dotted
from sim.units import format_duration

__all__ = [
    "ScenarioError",
    "describe_scenario",
    "git_state",
    "list_scenarios",
    "load_scenario",
    "manifest",
    "package_versions",
    "read_json",
    "scenario_dict",
    "scenario_from_dict",
    "scenario_hash",
    "write_atomic",
    "write_csv",
    "write_json",
    "write_parquet",
]

_BUNDLED_PACKAGE = "experiments"
_BUNDLED_FOLDER = "scenarios"
_SUFFIXES = (".yaml", ".yml", ".json")


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


# ------------------------------------------------------------------------------------------------ YAML reading


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one mapping."""


class _Loader(yaml.SafeLoader):
    """Safe YAML loader with two fixes for hand-written scenarios.

    * YAML 1.1 reads ``16:30`` as the base-60 integer 990; here it stays the string ``"16:30"`` (a time of day).
    * A key repeated in one mapping is an error instead of silently keeping the last value.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, rejecting duplicate keys (merge keys ``<<`` excepted)."""
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                raise _DuplicateKeyError(
                    None,
                    None,
                    f"duplicate key {key!r} (first given on line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# PyYAML's own int/float patterns minus the base-60 alternatives; the float exponent sign is made optional.
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _parse_yaml(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text; return the data and its node tree (for line numbers)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        context = exc.context
        if context and exc.context_mark is not None and exc.context_mark.line != getattr(mark, "line", None):
            context = f"{context.removeprefix('while ')} started on line {exc.context_mark.line + 1}"
        what = ": ".join(str(part) for part in (context, exc.problem) if part)
        kind = "YAML error" if isinstance(exc, _DuplicateKeyError) else "YAML syntax error"
        raise ScenarioError(label, [f"{where}: {kind}: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(label, [f"{label}: YAML syntax error: {exc}"]) from None
    finally:
        loader.dispose()
    return data, node


def _line_of(node: yaml.Node | None, loc: Sequence[str | int], *, exact: bool = False) -> int | None:
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


def _child(tp: Any, part: str | int) -> Any:
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
        tp = _child(tp, part) if tp is not None else None
    marker = _Problem(tuple(path), union_point=union_point, union_label=label, depth=len(path) - len(union_point or ()))
    return path, _unwrap(tp) if tp is not None else None, marker


def _dotted(path: Sequence[str | int]) -> str:
    """:func:`sim.problems.dotted` without pydantic's ``[key]`` marker (a dict key that failed validation)."""
    return dotted([part for part in path if part != "[key]"])


def _where(path: Sequence[str | int]) -> str:
    return _dotted(path) if path else "the top level"


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    if not isinstance(value, dict | list) and repr(value) not in text and str(value) not in text:
        got = _short_repr(value)
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


def _format_validation(exc: ValidationError, label: str, tree: yaml.Node | None) -> ScenarioError:
    problems: list[_Problem] = []
    for error in exc.errors(include_url=False):
        problems.extend(_reword(error))
    lines = [_at_line(label, _line_of(tree, p.path), p) for p in _merge_union_alternatives(problems)]
    return ScenarioError(label, list(dict.fromkeys(lines)))


def _at_line(label: str, line: int | None, problem: object) -> str:
    """``label:line: problem`` (``label: problem`` without a line): the one place a problem becomes text."""
    return f"{label}:{line}: {problem}" if line is not None else f"{label}: {problem}"


# ------------------------------------------------------------------------------------------- loading scenarios


def _bundled_dir() -> Any:
    return resources.files(_BUNDLED_PACKAGE).joinpath(_BUNDLED_FOLDER)


def _bundled_names() -> list[str]:
    folder = _bundled_dir()
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def _locate(path_or_name: str | os.PathLike[str]) -> Path:
    """Find the file for a path or a bundled scenario name."""
    text = os.fspath(path_or_name)
    candidate = Path(text).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise ScenarioError(text, [f"{text}: is a folder; expected a scenario YAML file"])
    looks_like_path = candidate.suffix in _SUFFIXES or os.sep in text or "/" in text
    if not looks_like_path:
        for suffix in (".yaml", ".yml"):
            bundled = _bundled_dir().joinpath(text + suffix)
            if bundled.is_file():
                return Path(str(bundled))
    what = "file not found" if looks_like_path else "no such file or bundled scenario"
    raise ScenarioError(text, [f"{text}: {what}; bundled scenarios: {', '.join(_bundled_names())}"])


def load_scenario(path_or_name: str | os.PathLike[str]) -> tuple[Scenario, Path]:
    """Load and validate a scenario.

    Args:
        path_or_name: A path to a YAML file, or the name of a bundled scenario (e.g. ``"ecommerce_24x7"``).

    Returns:
        The validated scenario and the folder of its file (relative replay paths resolve against it).

    Raises:
        ScenarioError: With one line per problem, each naming the file, the line, the field path, the bad value
            and what was expected.

    Example:
        >>> scenario, base_dir = load_scenario("erlang_c_textbook")
        >>> scenario.name
        'erlang_c_textbook'
    """
    path = _locate(path_or_name)
    label = str(path_or_name) if Path(os.fspath(path_or_name)).is_file() else str(path)
    data, tree = _read_data(path, label, chain=())
    return scenario_from_dict(data, label=label, tree=tree), path.resolve().parent


_MAX_BASES = 8
"""Longest chain of ``base:`` scenarios."""


def _read_data(path: Path, label: str, chain: tuple[Path, ...]) -> tuple[Any, yaml.Node | None]:
    """Parse a scenario file and, if it names a ``base``, merge it over the base's data (recursively).

    A ``base`` is a bundled scenario name or a path relative to the file. Mappings merge key by key (the file
    wins), except a policy spec or a distribution (a mapping with a ``name`` or ``dist`` key) and an empty
    mapping (``bots: {}`` removes the base's bots), which replace the base's whole value, as do lists and
    scalars. Relative ``params.path`` of a policy resolve against the
    file that wrote them.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(label, [f"{label}: cannot read the file: {exc}"]) from None
    data, tree = _parse_yaml(text, label)
    folder = path.resolve().parent
    _resolve_policy_paths(data, folder)
    if not isinstance(data, dict) or "base" not in data:
        return data, tree
    base = data.pop("base")
    if not isinstance(base, str) or not base:
        raise ScenarioError(label, [f"{label}: base: expected a bundled scenario name or a path, got {base!r}"])
    relative = folder / base
    base_path = _locate(relative if relative.is_file() else base)
    if base_path.resolve() in chain or len(chain) >= _MAX_BASES:
        names = " -> ".join(p.name for p in (*chain, path.resolve(), base_path.resolve()))
        raise ScenarioError(label, [f"{label}: base: a cycle or a chain longer than {_MAX_BASES}: {names}"])
    base_data, _ = _read_data(base_path, str(base_path), (*chain, path.resolve()))
    if not isinstance(base_data, dict):
        raise ScenarioError(label, [f"{label}: base: {base!r} is not a scenario mapping"])
    return _deep_merge(base_data, data), tree


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        whole = not value or "name" in value or "dist" in value if isinstance(value, Mapping) else True
        if not whole and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _resolve_policy_paths(data: Any, base_dir: Path) -> None:
    """Make a relative ``policies.<slot>.params.path`` (a schedule CSV) relative to the scenario file."""
    policies = data.get("policies") if isinstance(data, dict) else None
    if not isinstance(policies, dict):
        return
    for spec in policies.values():
        params = spec.get("params") if isinstance(spec, dict) else None
        if isinstance(params, dict) and isinstance(params.get("path"), str):
            candidate = Path(os.path.expandvars(params["path"]))
            if not candidate.is_absolute():
                params["path"] = str(base_dir / candidate)


def scenario_from_dict(data: Any, *, label: str = "<scenario>", tree: yaml.Node | None = None) -> Scenario:
    """Validate already-parsed scenario data, with the same error messages as :func:`load_scenario`.

    Args:
        data: The parsed mapping.
        label: Name used in error messages (usually the file name).
        tree: YAML node tree, for line numbers.

    Raises:
        ScenarioError: If the data is not a valid scenario.
    """
    required = [name for name, f in Scenario.model_fields.items() if f.is_required()]
    if data is None:
        raise ScenarioError(label, [f"{label}: the file is empty; a scenario needs at least: {', '.join(required)}"])
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ScenarioError(
            label, [f"{label}: expected a mapping of scenario keys ({', '.join(required)}, ...), got a {kind}"]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(exc, label, tree) from None
    from policies.registry import check_scenario

    problems = check_scenario(scenario)
    if problems:
        # A policy slot gets a line only if this file writes it (not when inherited from a base file).
        raise ScenarioError(label, [_at_line(label, _line_of(tree, p.path, exact=True), p) for p in problems])
    return scenario


def check_data(scenario: Scenario, base_dir: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """Read and check the data files a scenario uses (a replay log) before anything runs or is written.

    Returns:
        The replay report (rows read, replayed, skipped by reason), or ``None`` for generated arrivals.

    Raises:
        sim.arrivals.ReplayError: The log is missing or has bad rows (file, column, rows and values named).
    """
    from experiments.replay import scenario_replay

    replay = scenario_replay(scenario, base_dir)
    return replay.report if replay is not None else None


def list_scenarios() -> list[tuple[str, str]]:
    """Bundled scenarios as ``(name, description)`` pairs, sorted by name."""
    out = []
    for name in _bundled_names():
        text = _bundled_dir().joinpath(name + ".yaml").read_text(encoding="utf-8")
        try:
            data, _ = _parse_yaml(text, name)
        except ScenarioError:
            data = None
        description = data.get("description", "") if isinstance(data, dict) else ""
        out.append((name, " ".join(str(description).split())))
    return out


def describe_scenario(scenario: Scenario) -> str:
    """One paragraph for people: channels, intents, languages, groups with headcount, horizon, targets."""
    channels = ", ".join(
        f"{name} ({ch.kind}{f', {ch.concurrency} at once' if ch.concurrency > 1 else ''})"
        for name, ch in scenario.channels.items()
    )
    languages = ", ".join(f"{lang} {share:.0%}" for lang, share in _shares(scenario.customers.languages).items())
    groups = ", ".join(f"{name} ({sum(g.staffing.values())})" for name, g in scenario.groups.items())
    headcount = sum(sum(g.staffing.values()) for g in scenario.groups.values())
    start = scenario.start.strftime("%a %Y-%m-%d %H:%M")
    shifts = ", ".join(
        f"{name} {int(s.start // 3600):02d}:{int(s.start % 3600 // 60):02d}+{format_duration(s.length)}"
        for name, s in scenario.shifts.items()
    )
    parts = [
        f"{scenario.name}: {' '.join(scenario.description.split())}".rstrip(": "),
        f"{len(scenario.channels)} channels: {channels}.",
        f"{len(scenario.intents)} intents: {', '.join(scenario.intents)}.",
        f"Languages: {languages}; VIP share {scenario.customers.vip_share:.0%}.",
        f"{len(scenario.groups)} agent groups, {headcount} agents on the roster: {groups}."
        if scenario.policies.staffing.name in ("fixed", "reactive_overtime")
        else f"{len(scenario.groups)} agent groups ({', '.join(scenario.groups)}); the roster comes from the "
        f"{scenario.policies.staffing.name} staffing policy.",
        f"Shifts: {shifts}.",
        f"Horizon {format_duration(scenario.horizon)} from {start}, warm-up {format_duration(scenario.warmup)}.",
    ]
    if isinstance(scenario.arrivals, GeneratedArrivals):
        volume = sum(c.daily_volume for c in scenario.arrivals.channels.values())
        parts.append(f"Arrivals generated, about {volume:,.0f} contacts a day before day and event factors.")
    else:
        parts.append(f"Arrivals replayed from {scenario.arrivals.path}.")
    if scenario.bots:
        parts.append(f"Bot on {', '.join(scenario.bots)}.")
    if scenario.approvals:
        parts.append(f"Approvals for {', '.join(scenario.approvals)} ({scenario.team_leads.count} team leads).")
    if scenario.transfers:
        moves = ", ".join(f"{name} -> {t.to} {t.share:.0%}" for name, t in scenario.transfers.items())
        parts.append(f"Transfers: {moves}.")
    slots = type(scenario.policies).model_fields
    policies = ", ".join(f"{slot} {getattr(scenario.policies, slot).name}" for slot in slots)
    parts.append(f"{len(scenario.targets)} FRT targets. Policies: {policies}.")
    return " ".join(parts)


def _shares(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


# --------------------------------------------------------------------------------------------- atomic writing


def write_atomic(path: str | os.PathLike[str], writer: Callable[[Path], object]) -> Path:
    """Write a file so that it either appears complete or not at all.

    ``writer`` is called with a temporary path in the same folder; the temp file is then fsynced and renamed
    over ``path`` with ``os.replace`` (atomic on POSIX and Windows). On any error or interrupt the temp file is
    removed and ``path`` is left as it was.

    Args:
        path: Final file path (its folder is created if needed).
        writer: Writes the content to the path it is given (e.g. ``lambda p: df.to_parquet(p)``).

    Returns:
        The final path.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; results should be as readable as any new file
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)
    return final


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync on Windows
        return
    with contextlib.suppress(OSError):  # some filesystems refuse directory fsync; the rename is done anyway
        _fsync(folder)


def write_parquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a frame to Parquet (pyarrow, no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=False))


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a frame to CSV (no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON (indented, keys sorted, UTF-8) atomically."""

    def writer(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", "utf-8")

    return write_atomic(path, writer)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ hashes, manifests


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """Canonical JSON-ready dump of a scenario (durations as unit strings); it re-validates to an equal model."""
    return scenario.model_dump(mode="json")


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's canonical JSON (keys sorted): equal scenarios give equal hashes."""
    canonical = json.dumps(scenario_dict(scenario), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_PACKAGES = ("ccsim", "simpy", "numpy", "pandas", "pyarrow", "pydantic")


def package_versions(packages: Iterable[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` plus ``python`` (``"not installed"`` when missing)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(folder: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git repository holding ``folder`` (this package's by default).

    Returns:
        ``{"sha": ..., "dirty": ...}``, or ``{}`` when git or the repository is unavailable.
    """
    cwd = Path(folder) if folder is not None else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"sha": sha, "dirty": bool(status.strip())}


def manifest(
    *,
    scenario: Scenario,
    seed: int,
    replications: Iterable[int],
    started: dt.datetime,
    finished: dt.datetime | None = None,
    argv: Sequence[str] | None = None,
    status: str = "complete",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``manifest.json`` of a run directory: everything needed to reproduce its results.

    Args:
        scenario: The scenario run.
        seed: Base seed.
        replications: Indices of the replications whose results the directory holds.
        started: Start time (timezone-aware preferred).
        finished: End time, ``None`` while running.
        argv: Command line; defaults to ``sys.argv``.
        status: ``"running"`` while replications are being added, ``"complete"`` at the end.
        extra: More fields to record.

    Returns:
        A JSON-ready dict.
    """
    done = sorted(int(r) for r in replications)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": int(seed),
        "replications": done,
        "n_replications": len(done),
        "status": status,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds") if finished is not None else None,
        "command": list(sys.argv if argv is None else argv),
        "versions": package_versions(),
        "git": git_state(),
    }
    out.update(extra or {})
    return out
