"""What-if changes: a scenario changed by dotted paths, validated exactly like a scenario file.

An override maps a dotted path to a new value, written as it would be in the scenario file::

    groups.chat_zh.staffing.day: 12
    policies.deflection: {name: bot_intents, params: {intents: [order_status]}}
    targets[0].level: 0.85
    arrivals.promotions: []

Each value replaces the whole value at its path (a mapping is not merged into the old one: write a longer path to
change one key). A path may create a new key of a free-form mapping (a new group, a new shift's headcount), but
never a field the scenario does not have: ``groups.chat_zh.stafing.day`` is refused with the allowed keys and a
suggestion. The changed scenario then goes through :func:`experiments.scenario_files.scenario_from_dict`, so a
shift name that does not exist (``staffing.dya``) or a value of the wrong type gets the same message as in a file.

Keys that contain a dot or a bracket are written in brackets: ``groups["chat.zh"].staffing.day``. List items
are addressed by index: ``targets[0].level`` (``-1`` is the last item).

Variants (``ccsim compare``), sweeps and search spaces are all overrides. From the command line:
``ccsim run SCENARIO --set groups.chat_zh.staffing.day=12`` and ``--overrides FILE.yaml``.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.provenance import scenario_dict
from experiments.scenario_errors import ScenarioError, child_type, model_of
from experiments.scenario_files import parse_yaml, read_text, scenario_from_dict
from sim.config import Scenario
from sim.problems import short_repr

__all__ = ["apply_overrides", "parse_path", "parse_set", "read_overrides"]

_SEGMENT = re.compile(r"""\.?(?:(?P<name>[^.\[\]"']+)|\[(?P<index>-?\d+)\]|\[(?P<quoted>"[^"]*"|'[^']*')\])""")


def parse_path(path: str) -> tuple[str | int, ...]:
    """Split a dotted path into keys and list indices.

    Example:
        >>> parse_path('groups["chat.zh"].staffing.day')
        ('groups', 'chat.zh', 'staffing', 'day')
        >>> parse_path("targets[0].level")
        ('targets', 0, 'level')

    Raises:
        ValueError: For an empty or malformed path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"expected a dotted path such as groups.chat.staffing.day, got {short_repr(path)}")
    parts: list[str | int] = []
    pos = 0
    text = path.strip()
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None or (pos > 0 and match.group(0)[0] not in ".[") or (pos == 0 and text[0] == "."):
            raise ValueError(f"malformed path {short_repr(path)} at character {pos + 1}")
        if match.group("name") is not None:
            parts.append(match.group("name").strip())
        elif match.group("index") is not None:
            parts.append(int(match.group("index")))
        else:
            parts.append(match.group("quoted")[1:-1])
        pos = match.end()
    return tuple(parts)


def _set(data: dict[str, Any], parts: tuple[str | int, ...], value: Any, where: str) -> None:
    """Set ``value`` at ``parts`` in the scenario data, refusing keys the scenario's models do not have."""
    node: Any = data
    tp: Any = Scenario
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(str(p) for p in parts[:depth]) or "the top level"
        model = model_of(tp, node) if tp is not None else None
        if isinstance(node, list):
            if not isinstance(part, int) or not -len(node) <= part < len(node):
                raise ScenarioError(
                    where, [f"{where}: {here} is a list of {len(node)} items; no item {short_repr(part)}"]
                )
        elif isinstance(node, dict):
            if isinstance(part, int):
                raise ScenarioError(where, [f"{where}: {here} is a mapping, not a list; write .key, not [{part}]"])
            if model is not None and part not in model.model_fields:
                allowed = list(model.model_fields)
                close = difflib.get_close_matches(part, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                text = f"unknown key {short_repr(part)} at {here}{hint}; allowed keys: {', '.join(allowed)}"
                raise ScenarioError(where, [f"{where}: {text}"])
            if part not in node and not last:
                if model is not None:  # a field left at its default (None): start it as a mapping
                    node[part] = {}
                else:
                    raise ScenarioError(
                        where, [f"{where}: {here} has no key {short_repr(part)}; known: {sorted(map(str, node))}"]
                    )
        else:
            raise ScenarioError(where, [f"{where}: {here} is a single value ({short_repr(node)}), not a mapping"])
        tp = child_type(model if model is not None else tp, part) if tp is not None else None
        if last:
            node[part] = copy.deepcopy(value)
        else:
            node = node[part]


def apply_overrides(
    scenario: Scenario | Mapping[str, Any], overrides: Mapping[str, Any], *, label: str = "overrides"
) -> Scenario:
    """A new scenario: ``scenario`` with each dotted path set to its value, validated like a file.

    Args:
        scenario: A validated scenario, or scenario data (a parsed YAML mapping).
        overrides: Dotted path -> value, values written as in a scenario file (durations with units).
        label: Names the source in error messages (an override file's path, ``--set``, a variant's name).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: A path the scenario has no field for, a list index out of range, or a changed scenario
            that is not valid (the same messages as for a file).

    Example:
        >>> from experiments import load_scenario
        >>> base, _ = load_scenario("erlang_c_textbook")
        >>> apply_overrides(base, {"groups.agents.staffing.always": 15}).groups["agents"].staffing
        {'always': 15}
    """
    data = scenario_dict(scenario) if isinstance(scenario, Scenario) else copy.deepcopy(dict(scenario))
    if not isinstance(overrides, Mapping):
        what = f"expected a mapping of dotted paths to values, got {short_repr(overrides)}"
        raise ScenarioError(label, [f"{label}: {what}"])
    problems = []
    for path, value in overrides.items():
        try:
            parts = parse_path(path)
            _set(data, parts, value, f"{label}: {path}")
        except ValueError as exc:  # ScenarioError is a ValueError too
            problems.extend(exc.problems if isinstance(exc, ScenarioError) else [f"{label}: {exc}"])
    if problems:
        raise ScenarioError(label, problems)
    return scenario_from_dict(data, label=label)


def read_overrides(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an override file: a YAML mapping of dotted paths to values (see the module docstring).

    Raises:
        ScenarioError: An unreadable file, or one that is not a mapping with text keys.
    """
    label = os.fspath(path)
    file = Path(label)
    if not file.is_file():
        raise ScenarioError(label, [f"{label}: override file not found"])
    data, _ = parse_yaml(read_text(file, label), label)
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ScenarioError(label, [f"{label}: expected a mapping of dotted paths to values"])
    return data


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """``--set path=value`` arguments as overrides; values are read as YAML (``12``, ``0.85``, ``5min``, ``[a, b]``).

    Raises:
        ScenarioError: An item without ``=``, or a value that is not valid YAML.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            raise ScenarioError("--set", [f"--set: expected path=value, got {short_repr(item)}"])
        value, _ = parse_yaml(text, f"--set {path.strip()}")
        out[path.strip()] = value
    return out
