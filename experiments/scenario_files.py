"""Scenario files: YAML → :class:`~sim.config.Scenario`, ``base:`` chains, bundled scenarios, descriptions.

:func:`load_scenario` accepts a path or the name of a bundled scenario (``experiments/scenarios/*.yaml``) and
raises :class:`~experiments.scenario_errors.ScenarioError` with one line per problem, each naming the file, the
line, the field path, the bad value and what was expected (the wording is in :mod:`experiments.scenario_errors`).
The YAML reader keeps ``16:30`` a time of day, refuses a key given twice and keeps the node tree, so that every
problem finds its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from experiments.scenario_errors import ScenarioError, at_line, format_validation, line_of
from sim.budget import check_limits
from sim.config import GeneratedArrivals, Scenario
from sim.problems import short_repr
from sim.units import format_duration

__all__ = [
    "check_budget",
    "check_data",
    "describe_scenario",
    "list_scenarios",
    "load_scenario",
    "parse_yaml",
    "read_text",
    "scenario_from_dict",
]


_BUNDLED_PACKAGE = "experiments"
_BUNDLED_FOLDER = "scenarios"
_SUFFIXES = (".yaml", ".yml", ".json")


# ------------------------------------------------------------------------------------------------ YAML reading


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one mapping, or a key that is not a plain scalar."""


MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario file read (bytes, 1 MiB); the bundled ones are under 20 KiB."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a scenario file (the bundled ones reach 6)."""
MAX_VALUES = 1_000_000
"""Most values (scalars, lists, mappings) a scenario file may hold once its aliases are expanded."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


class _Checks:
    """Mixin of the two fixes for hand-written scenarios, shared by the C and the pure-Python loader.

    * YAML 1.1 reads ``16:30`` as the base-60 integer 990; here it stays the string ``"16:30"`` (a time of day).
    * A key repeated in one mapping is an error instead of silently keeping the last value; so is a key that is
      a list or a mapping (``? [a, b]: 1``), which no scenario field can have.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, rejecting duplicate and non-scalar keys (merge keys ``<<`` excepted)."""
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                raise _DuplicateKeyError(None, None, f"a key must be a name, not a {kind}", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            if key in seen:
                raise _DuplicateKeyError(
                    None,
                    None,
                    f"duplicate key {short_repr(key)} (first given on line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _Loader(_Checks, yaml.SafeLoader):
    """Safe pure-Python YAML loader with :class:`_Checks`."""


_CLoader: type[Any] = type("_CLoader", (_Checks, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else _Loader
"""The same, on libyaml's C parser where PyYAML was built with it (about 10x faster on large files)."""

_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _cls in {_Loader, _CLoader}:
    _cls.yaml_implicit_resolvers = {first: list(resolvers) for first, resolvers in _RESOLVERS.items()}
    # PyYAML's own int/float patterns minus the base-60 alternatives; the float exponent sign is made optional.
    _cls.add_implicit_resolver(
        _INT,
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"),
    )
    _cls.add_implicit_resolver(
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


def _where(label: str, text: str, index: int) -> str:
    """``label:line:column`` of a character index in ``text``."""
    line = text.count("\n", 0, index) + 1
    return f"{label}:{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def _check_text(text: str, label: str) -> None:
    """Refuse control characters (NUL and the like) before the YAML parser sees them."""
    bad = _CONTROL.search(text)
    if bad is not None:
        raise ScenarioError(
            label,
            [
                f"{_where(label, text, bad.start())}: control character U+{ord(bad.group()):04X} is not allowed in a "
                "scenario file (is it a binary file, or was it saved with another encoding?)"
            ],
        )


def _check_shape(root: yaml.Node, label: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_VALUES` values after alias expansion.

    Walks the composed node graph without recursion. An alias is the same node object as its anchor, so each
    node's expanded size is computed once and reused (a "billion laughs" file is caught without expanding it).
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise ScenarioError(
                label,
                [
                    f"{label}:{mark.line + 1}:{mark.column + 1}: nesting deeper than {MAX_DEPTH} levels; "
                    "a scenario needs at most a handful"
                ],
            )
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if children_done:
            size = 1 + sum(sizes[id(c)] for c in children)
            if size > MAX_VALUES:
                mark = node.start_mark
                raise ScenarioError(
                    label,
                    [
                        f"{label}:{mark.line + 1}:{mark.column + 1}: this value expands (through aliases) to more "
                        f"than {MAX_VALUES:,} values; a scenario needs far fewer"
                    ],
                )
            sizes[id(node)] = size
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


def read_text(path: Path, label: str, limit: int = MAX_FILE_BYTES) -> str:
    """A scenario file's text: at most ``limit`` bytes, UTF-8; a clear :class:`ScenarioError` otherwise."""
    try:
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(label, [f"{label}: cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > limit:
        raise ScenarioError(
            label, [f"{label}: the file is over {limit / 2**20:g} MiB; a scenario file is at most that (see README)"]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = raw[: exc.start].decode("utf-8")
        raise ScenarioError(
            label,
            [
                f"{_where(label, head, len(head))}: byte 0x{raw[exc.start]:02x} is not UTF-8 text (save the file as "
                "UTF-8)"
            ],
        ) from None


def parse_yaml(text: str, label: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text; return the data and its node tree (for line numbers).

    Refuses, before building anything: control characters, nesting deeper than :data:`MAX_DEPTH`, and aliases
    that expand past :data:`MAX_VALUES` values.
    """
    _check_text(text, label)
    loader = None
    try:
        loader = _CLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _check_shape(node, label)
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
        raise ScenarioError(label, [f"{label}: YAML syntax error: {short_repr(str(exc), 300)}"]) from None
    except RecursionError:  # the pure-Python parser (no libyaml) recurses once per nesting level
        raise ScenarioError(label, [f"{label}: nesting deeper than {MAX_DEPTH} levels"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, node


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


def load_scenario(path_or_name: str | os.PathLike[str], *, notes: list[str] | None = None) -> tuple[Scenario, Path]:
    """Load and validate a scenario.

    Args:
        path_or_name: A path to a YAML file, or the name of a bundled scenario (e.g. ``"ecommerce_24x7"``).
        notes: If given, receives one line per value of a ``base:`` scenario that this file replaced whole (a
            list, a policy, a distribution): what an analyst may not expect to lose (``ccsim validate`` prints
            them).

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
    data, tree = _read_data(path, label, chain=(), notes=notes)
    return scenario_from_dict(data, label=label, tree=tree), path.resolve().parent


_MAX_BASES = 8
"""Longest chain of ``base:`` scenarios."""


def _read_data(
    path: Path, label: str, chain: tuple[Path, ...], notes: list[str] | None = None
) -> tuple[Any, yaml.Node | None]:
    """Parse a scenario file and, if it names a ``base``, merge it over the base's data (recursively).

    A ``base`` is a bundled scenario name or a path relative to the file. Mappings merge key by key (the file
    wins), except a policy spec or a distribution (a mapping with a ``name`` or ``dist`` key) and an empty
    mapping (``bots: {}`` removes the base's bots), which replace the base's whole value, as do lists and
    scalars: lists are never merged item by item (a file's ``promotions:`` list is the whole list; repeat the
    base's items to keep them). Each replaced non-empty list, policy or distribution is noted in ``notes``.
    Relative ``params.path`` of a policy resolve against the file that wrote them.
    """
    text = read_text(path, label)
    data, tree = parse_yaml(text, label)
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
    base_data, _ = _read_data(base_path, str(base_path), (*chain, path.resolve()), notes)
    if not isinstance(base_data, dict):
        raise ScenarioError(label, [f"{label}: base: {short_repr(base)} is not a scenario mapping"])
    replaced: list[str] = []
    merged = _deep_merge(base_data, data, (), replaced)
    if notes is not None:
        notes.extend(f"{label}: base {base}: {what}" for what in replaced)
    return merged, tree


def _deep_merge(
    base: dict[str, Any], over: Mapping[str, Any], path: tuple[str, ...] = (), replaced: list[str] | None = None
) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        whole = not value or "name" in value or "dist" in value if isinstance(value, Mapping) else True
        old = out.get(key)
        if not whole and isinstance(old, Mapping):
            out[key] = _deep_merge(dict(old), value, (*path, str(key)), replaced)
            continue
        out[key] = value
        if replaced is not None and old and old != value and isinstance(old, list | Mapping):
            where = ".".join((*path, str(key)))
            if isinstance(old, list):
                items = f"{len(old)} item{'s' if len(old) != 1 else ''}"
                what = f"this file's list replaces the base's list of {items} (lists are replaced whole, never merged)"
            else:
                what = "this file's value replaces the base's whole (policies and distributions are never merged)"
            replaced.append(f"{where}: {what}")
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
        raise format_validation(exc, label, tree) from None
    from policies.registry import check_scenario

    problems = check_scenario(scenario)
    if problems:
        # A policy slot gets a line only if this file writes it (not when inherited from a base file).
        raise ScenarioError(label, [at_line(label, line_of(tree, p.path, exact=True), p) for p in problems])
    check_budget(scenario, label=label, tree=tree)
    return scenario


def check_budget(
    scenario: Scenario, *, log: bool = False, label: str | None = None, tree: yaml.Node | None = None
) -> None:
    """Refuse a scenario whose estimated work or memory exceeds :data:`sim.budget.LIMITS` (see README).

    Raises:
        ScenarioError: One line per limit exceeded, with the estimate.
    """
    problems = check_limits(scenario, log=log)
    if problems:
        label = label or scenario.name
        raise ScenarioError(label, [at_line(label, line_of(tree, p.path), p) for p in problems])


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
            data, _ = parse_yaml(text, name)
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
    groups = ", ".join(
        f"{name} ({sum(g.staffing.values())}"
        + (f" + a staffing table, {len(g.staffing_table.agents)} intervals of "
           f"{format_duration(g.staffing_table.interval)}, availability {g.staffing_table.availability:g}"
           if g.staffing_table is not None else "")
        + ")"
        for name, g in scenario.groups.items()
    )  # fmt: skip
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
