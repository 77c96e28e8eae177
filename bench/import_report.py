"""Where start-up time goes: ``python -X importtime`` of a command, attributed to the ccsim module that pays it.

Runs the command ``--repeat`` times under ``-X importtime`` (keeping the run with the smallest total import time)
and prints:

1. **By package**: the self time of every imported module summed by top-level package (``scipy``, ``pandas``,
   ``pyarrow``, ...). These figures partition the total import time, so they add up.
2. **By edge**: every import of a third-party (or stdlib) module made directly by a ccsim module (``sim``,
   ``policies``, ``experiments``, ``bench``) or by the command itself, with its cumulative time: the module that
   would have to import lazily, or not at all, to save that time. Figures are cumulative and nested packages are
   counted under the first importer only (``-X importtime`` lists each module once, where it was first loaded).
3. **ccsim modules**: the self time of each of ccsim's own modules.

ccsim is imported from the tree this file is in (``PYTHONPATH``). Runs use bytecode caching (the environment's
``PYTHONDONTWRITEBYTECODE`` is dropped) after one unmeasured warm-up, so that compiling sources is not counted.
Examples::

    python bench/import_report.py                              # python -c "import experiments.cli"
    python bench/import_report.py -- ccsim run erlang_c_textbook -r 1 --seed 1 --out {tmp}/run
    python bench/import_report.py --file importtime.txt        # parse a saved stderr of -X importtime

A command starting with ``ccsim`` runs what the console script runs (``from experiments.cli import main``), from
this tree; anything else is passed to ``python -X importtime`` as is (``-c ...``, ``-m ...``, a script).
``{tmp}`` in an argument stands for a fresh temporary folder per run (a ``ccsim run`` into an existing run
directory would resume instead of simulating).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OWN_PACKAGES = frozenset({"sim", "policies", "experiments", "bench"})
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    depth: int
    children: list[Node] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.split(".", 1)[0]


def parse(text: str) -> list[Node]:
    """The import tree of ``-X importtime`` output (children are listed before their parent, one indent deeper)."""
    pending: dict[int, list[Node]] = defaultdict(list)
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        self_us, cum_us, indent, name = match.groups()
        depth = (len(indent) - 1) // 2
        node = Node(name, int(self_us), int(cum_us), depth, pending.pop(depth + 1, []))
        pending[depth].append(node)
    return pending[0]


def _walk(nodes: list[Node]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def by_package(roots: list[Node]) -> dict[str, int]:
    """Self time summed per top-level package (microseconds)."""
    totals: dict[str, int] = defaultdict(int)
    for node in _walk(roots):
        totals[node.package] += node.self_us
    return dict(totals)


def by_edge(roots: list[Node]) -> list[tuple[str, str, int]]:
    """``(importer, package, cumulative_us)``: foreign packages imported directly by each own module.

    The cumulative times of the importer's direct children in that package are summed (they are disjoint
    subtrees); the package label lists the first module names, e.g. ``scipy (scipy.optimize)``.
    """
    edges: dict[tuple[str, str], list] = {}

    def add(owner: str, child: Node) -> None:
        entry = edges.setdefault((owner, child.package), [0, []])
        entry[0] += child.cumulative_us
        entry[1].append(child.name)

    def visit(node: Node, owner: str) -> None:
        for child in node.children:
            if child.package in OWN_PACKAGES:
                visit(child, child.name)
            else:
                add(owner, child)

    for root in roots:
        if root.package in OWN_PACKAGES:
            visit(root, root.name)
        else:
            add("<top level: command or lazy import>", root)
    out = []
    for (owner, package), (us, names) in edges.items():
        shown = ", ".join(names[:2]) + (f", +{len(names) - 2}" if len(names) > 2 else "")
        out.append((owner, package if names == [package] else f"{package} ({shown})", us))
    return out


CCSIM_SCRIPT = "import sys; from experiments.cli import main; sys.exit(main())"
"""What the ``ccsim`` console script runs; with ``-c``, ``sys.argv[1:]`` are the ccsim arguments."""


def run_importtime(command: list[str]) -> str:
    if command and command[0] == "ccsim":
        command = ["-c", CCSIM_SCRIPT, *command[1:]]
    with tempfile.TemporaryDirectory(prefix="import-report-") as tmp:
        command = [arg.replace("{tmp}", tmp) for arg in command]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        env["PYTHONPATH"] = str(REPO)
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", *command], capture_output=True, text=True, cwd=REPO, env=env
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-2000:])
        raise SystemExit(f"command failed with exit code {proc.returncode}: {command}")
    return proc.stderr


def report(text: str, min_ms: float) -> str:
    roots = parse(text)
    total = sum(root.cumulative_us for root in roots)
    lines = [f"total import time: {total / 1000:.0f} ms ({len(list(_walk(roots)))} modules)", ""]
    lines.append("by package (sum of self times; these add up to the total):")
    for package, us in sorted(by_package(roots).items(), key=lambda kv: -kv[1]):
        if us / 1000 >= min_ms:
            kind = "ccsim" if package in OWN_PACKAGES else ("stdlib" if package in sys.stdlib_module_names else "")
            lines.append(f"  {package:<28}{us / 1000:>8.0f} ms  {kind}")
    lines.append("")
    lines.append("by edge (ccsim module -> foreign package it loads first; cumulative, each module counted once):")
    for importer, imported, us in sorted(by_edge(roots), key=lambda e: -e[2]):
        if us / 1000 >= min_ms:
            lines.append(f"  {importer:<38}-> {imported:<62}{us / 1000:>6.0f} ms")
    lines.append("")
    lines.append("ccsim modules (self time: module body, class and model definitions):")
    own = [node for node in _walk(roots) if node.package in OWN_PACKAGES]
    for node in sorted(own, key=lambda n: -n.self_us):
        if node.self_us / 1000 >= min_ms:
            lines.append(f"  {node.name:<38}{node.self_us / 1000:>8.0f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", help="parse this saved -X importtime output instead of running a command")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the one with the smallest total is kept")
    parser.add_argument("--min-ms", type=float, default=5.0, help="hide entries below this (default 5 ms)")
    parser.add_argument("command", nargs="*", help="python arguments after --; default -c 'import experiments.cli'")
    args = parser.parse_args(argv)
    if args.file:
        with open(args.file) as fh:
            text = fh.read()
    else:
        command = args.command or ["-c", "import experiments.cli"]
        run_importtime(command)  # warm-up: bytecode caches
        runs = [run_importtime(command) for _ in range(max(args.repeat, 1))]
        text = min(runs, key=lambda t: sum(root.cumulative_us for root in parse(t)))
    print(report(text, args.min_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
