"""The ``ccsim`` command line: a thin shell over :mod:`experiments.scenario_files` and :mod:`experiments.runner`.

Each command is a :class:`_BaseCommand` subclass registered in :data:`_COMMANDS`; its docstring is its help.
To add a command, write the class and add it to ``_COMMANDS``. Commands only parse, call library functions and
print; user errors (bad scenario, bad run directory, bad replay data) print a message and exit non-zero without a
traceback.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from experiments.decision_tables import print_comparison, print_erlang_plan, print_optimization
from experiments.files import OutputError
from experiments.overrides import apply_overrides, parse_set, read_overrides
from experiments.provenance import scenario_hash
from experiments.results import ExperimentResult, overload_warnings
from experiments.run_dir import RunDirError, default_out_dir
from experiments.runner import DaskError, run_experiment
from experiments.scenario_errors import CalibrationInputError, ScenarioError
from experiments.scenario_files import check_data, describe_scenario, list_scenarios, load_scenario
from experiments.tables import console, print_result, text
from experiments.terminal import printable
from sim.arrivals import ReplayError
from sim.budget import estimate, scenario_warnings
from sim.config import Scenario

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


_USER_ERRORS: tuple[type[Exception], ...] = (
    ScenarioError, RunDirError, ReplayError, DaskError, OutputError, CalibrationInputError,
)  # fmt: skip
"""Exceptions that mean "fix your input" (or the output folder): shown as a message, without a traceback."""


def _stdout() -> Console:
    # The terminal's width, or experiments.tables.WIDTH (100) columns for a file or a pipe: tables fit it.
    return console()


_text = text


def _error_console() -> Console:
    return console(stderr=True)


def _error(message: str) -> None:
    # Messages quote names and paths from users' files: control characters are shown, never obeyed.
    print(f"ccsim: error: {printable(message, keep_newlines=True)}", file=sys.stderr)


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, with a message naming what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "an integer >= 0")


class _BaseCommand:
    """Base of every subcommand."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        raise NotImplementedError


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario argument and the what-if changes every scenario command takes."""
    parser.add_argument("scenario", help="scenario YAML file or bundled scenario name (see `ccsim scenarios`)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="change the scenario at a dotted path, e.g. --set groups.chat.staffing.day=12 (repeatable; values are "
        "YAML, durations with units)",
    )
    parser.add_argument(
        "--overrides", action="append", metavar="FILE", help="a YAML file of dotted path: value changes (repeatable)"
    )


def _dask_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run replications on a Dask cluster (scheduler address, e.g. tcp://10.0.0.5:8786) instead of local "
        "processes; results come back here",
    )


def _load(args: argparse.Namespace) -> tuple[Scenario, Path, list[str]]:
    """The scenario with the --overrides files, then the --set changes, applied; notes on what base: replaced."""
    notes: list[str] = []
    scenario, base_dir = load_scenario(args.scenario, notes=notes)
    for path in args.overrides or []:
        scenario = apply_overrides(scenario, read_overrides(path), label=str(path))
    if args.set:
        scenario = apply_overrides(scenario, parse_set(args.set), label="--set")
    return scenario, base_dir, notes


class _Run(_BaseCommand):
    """Run replications of a scenario and print the summary with 95% confidence intervals.

    Results go to a run directory (default runs/<scenario name>, with "/" and control characters in the name
    replaced by "_"); re-running the same command there resumes: only missing replications run, and -r can be
    raised to add more (a smaller -r drops none: the summary covers every replication the folder holds). One run
    at a time writes into a folder: a second one is refused (or waits, with --wait), and a folder that is not a
    ccsim run directory is never written into.
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        _scenario_arguments(parser)
        parser.add_argument("-r", "--replications", type=_positive_int, default=10, help="replications (default 10)")
        parser.add_argument("--seed", type=_non_negative_int, default=0, help="base seed (default 0)")
        parser.add_argument("--out", type=Path, help="run directory (default runs/<scenario name>)")
        parser.add_argument("--workers", type=_positive_int, help="worker processes (default: all CPUs)")
        parser.add_argument("--log", action="store_true", help="keep the per-contact log (contacts.parquet)")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        parser.add_argument(
            "--wait", action="store_true", help="if another run is writing into --out, wait for it instead of refusing"
        )
        _dask_argument(parser)

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        scenario, base_dir, _ = _load(args)  # validated before any directory is created
        name = scenario.name
        if args.set or args.overrides:  # a what-if gets its own default folder, named by its scenario hash
            name = f"{name}-{scenario_hash(scenario)[:8]}"
        out = args.out if args.out is not None else default_out_dir(name)
        result = run_experiment(
            scenario,
            seed=args.seed,
            n_replications=args.replications,
            out_dir=out,
            workers=args.workers,
            log=args.log,
            base_dir=base_dir,
            progress=not args.no_progress,
            argv=["ccsim", *sys.argv[1:]] if args.argv is None else ["ccsim", *args.argv],
            wait=args.wait,
            dask=args.dask,
        )
        overload = overload_warnings(result.summary)  # printed with the summary, on stdout
        for warning in (w for w in result.warnings if w not in overload):
            _error_console().print(f"[bold yellow]warning:[/] {_text(warning)}")
        if len(result.replications) > args.replications:
            _error_console().print(
                f"[bold yellow]note:[/] {_text(out)} already holds {len(result.replications)} replications of this "
                f"scenario and seed; -r {args.replications} does not drop any: the summary covers all "
                f"{len(result.replications)} (for a {args.replications}-replication summary, choose another --out)"
            )
        print_result(_stdout(), result, next_steps=_next_steps(args, result, out))
        reused = f" ({len(result.reused)} reused)" if result.reused else ""
        print(f"{len(result.replications)} replications{reused} in {printable(out)}", file=sys.stderr)
        return EXIT_OK


def _next_steps(args: argparse.Namespace, result: ExperimentResult, out: Path) -> list[tuple[str, str]]:
    """What to run next on this run directory, as exact commands (the scenario as given, with its changes)."""
    changes = [arg for value in args.set or [] for arg in ("--set", value)]
    changes += [arg for path in args.overrides or [] for arg in ("--overrides", path)]
    scenario = shlex.join([args.scenario, *changes])
    n, folder = len(result.replications), shlex.quote(str(out))
    steps = []
    if "report" in _COMMANDS:
        steps.append((f"ccsim report {folder}", "one HTML file: summary, targets met or missed, plots"))
    steps += [
        (
            f"ccsim run {scenario} -r {2 * n} --seed {result.seed} --out {folder}",
            f"narrower CIs: {n} more replications, the {n} done are reused",
        ),
        (
            f"ccsim compare {scenario} VARIANTS.yaml -r {n} --seed {result.seed}",
            "other staffing or policies on the same customers (README: Comparing variants)",
        ),
        (f"ccsim optimize {scenario} SPACE.yaml", "the cheapest plan that meets every target (README: Optimizing)"),
    ]
    return steps


class _Validate(_BaseCommand):
    """Check a scenario file and describe it; exit 1 with the problems if it is invalid.

    Also prints the estimated work and memory of one replication, and warnings for what is valid but probably
    not meant (a channel no group serves, nobody on the roster, load above the rostered capacity).
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        _scenario_arguments(parser)

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        from sim.arrivals import ReplayError

        try:
            scenario, base_dir, notes = _load(args)
            report = check_data(scenario, base_dir)
        except (ScenarioError, ReplayError) as exc:
            print(printable(str(exc), keep_newlines=True), file=sys.stderr)
            return EXIT_INVALID
        print(f"OK {printable(describe_scenario(scenario))}")
        for note in notes:
            print(f"note: {printable(note)}")
        print(f"Estimated work: {estimate(scenario).describe()} (limits: README, 'What validate checks').")
        for warning in scenario_warnings(scenario):
            print(f"warning: {printable(warning)}")
        if report is not None:
            skipped = ", ".join(f"{n:,} {why}" for why, n in report["skipped"].items()) or "none"
            rows = f"{report['rows_read']:,} rows read, {report['replayed']:,} replayed"
            print(f"Replay log {printable(report['path'])}: {rows}; skipped: {skipped}")
            for warning in report.get("warnings", []):
                print(f"warning: {printable(warning['message'])}")
        return EXIT_OK


class _Scenarios(_BaseCommand):
    """List the bundled scenarios with their descriptions."""

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        table = Table("scenario", "description", box=None)
        for name, description in list_scenarios():
            table.add_row(escape(name), escape(description))
        _stdout().print(table)
        return EXIT_OK


class _Policies(_BaseCommand):
    """List every registered policy by slot with its parameters and defaults (the README's catalogue)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        parser.add_argument("--markdown", action="store_true", help="print the catalogue as a Markdown table")

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        from policies.registry import catalogue, catalogue_markdown

        if args.markdown:
            print(catalogue_markdown())
            return EXIT_OK
        table = Table("slot", "name", "what it does", "parameters (defaults)", box=None)
        for row in catalogue():
            table.add_row(*(escape(cell) for cell in row))
        _stdout().print(table)
        return EXIT_OK


def _metric_scope(text: str) -> tuple[str, str]:
    """``asa_s:channel=chat`` -> ("asa_s", "channel=chat"); the scope defaults to ``all``."""
    metric, _, scope = text.partition(":")
    if not metric:
        raise argparse.ArgumentTypeError(f"expected METRIC or METRIC:SCOPE, got {text!r}")
    return metric, scope or "all"


def _half_width(text: str) -> tuple[tuple[str, str], float]:
    """``asa_s:channel=chat=2.5`` -> (("asa_s", "channel=chat"), 2.5)."""
    key, _, value = text.rpartition("=")
    try:
        width = float(value)
    except ValueError:
        width = math.nan
    if not key or not width > 0 or math.isinf(width):
        raise argparse.ArgumentTypeError(f"expected METRIC[:SCOPE]=HALF_WIDTH with a positive width, got {text!r}")
    return _metric_scope(key), width


class _Compare(_BaseCommand):
    """Run variants of a scenario on common random numbers and compare each with the baseline.

    VARIANTS.yaml: `variants: {name: {dotted.path: value, ...}, ...}` (and optionally `baseline: name`). Prints
    each compared metric per variant with its 95% CI, then each variant's paired difference against the baseline
    with its CI; `*` marks differences significant after Holm's correction over all of them. With --half-width,
    replications are added until every variant's paired difference reaches that CI half-width.
    """

    grid = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        _scenario_arguments(parser)
        what = "GRID.yaml: dotted path -> list of values" if self.grid else "VARIANTS.yaml (see above)"
        parser.add_argument("variants", metavar="GRID" if self.grid else "VARIANTS", help=what)
        parser.add_argument("-r", "--replications", type=_positive_int, default=10, help="replications per variant")
        parser.add_argument("--seed", type=_non_negative_int, default=0, help="base seed shared by all variants")
        parser.add_argument(
            "--out", type=Path, help="folder for one run folder per variant (default runs/compare-<name>)"
        )
        parser.add_argument("--workers", type=_positive_int, help="worker processes (default: all CPUs)")
        parser.add_argument(
            "--metric", action="append", type=_metric_scope, metavar="METRIC[:SCOPE]",
            help="compare this metric (repeatable; default: targets, SL/ASA/abandonment per channel, occupancy, cost)",
        )
        parser.add_argument(
            "--half-width", action="append", type=_half_width, metavar="METRIC[:SCOPE]=W",
            help="add replications until each variant's paired difference has this CI half-width (repeatable)",
        )
        parser.add_argument("--max-replications", type=_positive_int, default=200, help="cap of --half-width")
        parser.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm), default 0.05")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
        _dask_argument(parser)

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        from experiments.compare import compare, read_grid, read_variants, sweep_variants

        scenario, base_dir, _ = _load(args)
        if self.grid:
            baseline, variants = "baseline", sweep_variants(read_grid(args.variants))
        else:
            baseline, variants = read_variants(args.variants)
        if not 0 < args.alpha < 1:
            raise ScenarioError("--alpha", [f"--alpha: expected a level between 0 and 1, got {args.alpha}"])
        kind = "sweep" if self.grid else "compare"
        out = args.out if args.out is not None else default_out_dir(f"{kind}-{scenario.name}")
        err = _error_console()
        result = compare(
            scenario,
            variants,
            baseline=baseline,
            seed=args.seed,
            n_replications=args.replications,
            out_dir=out,
            workers=args.workers,
            base_dir=base_dir,
            family=args.metric,
            half_widths=dict(args.half_width or []),
            max_replications=args.max_replications,
            alpha=args.alpha,
            progress=not args.no_progress,
            on_round=lambda n: err.print(f"{len(variants) + 1} variants x {n} replications"),
            dask=args.dask,
        )
        from experiments.files import write_csv

        write_csv(out / "comparison.csv", result.differences)
        write_csv(out / "summary.csv", result.summary())
        write_csv(out / "targets.csv", result.targets())
        print_comparison(_stdout(), result, args.alpha)
        done = f"{len(result.results)} variants x {result.replications} replications in {printable(out)}"
        print(done, file=sys.stderr)
        return EXIT_OK


class _Sweep(_Compare):
    """Run a factorial grid of overrides (each combination a variant) and compare each with the baseline.

    GRID.yaml maps dotted paths to lists of values, e.g. `groups.chat.staffing.day: [10, 12, 14]`. Output as in
    `ccsim compare`.
    """

    grid = True


class _Report(_BaseCommand):
    """Write one self-contained HTML report of a finished run (targets, per-day and worst intervals, plots).

    RUN_DIR is the folder `ccsim run --out` wrote. The report (default RUN_DIR/report.html) embeds its plots and
    styles: it opens in any browser from disk, without a server or a network connection.
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        parser.add_argument("run_dir", type=Path, help="run directory written by `ccsim run`")
        parser.add_argument("--out", type=Path, help="HTML file to write (default RUN_DIR/report.html)")
        parser.add_argument("--currency", default="currency units", help="name of the scenario's currency (labels)")

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        from experiments.report import write_report

        path = write_report(args.run_dir, args.out, currency=args.currency)
        _stdout().print(f"Report written: {escape(printable(str(path)))}")
        return EXIT_OK


class _Erlang(_BaseCommand):
    """Analytic baseline: Erlang C / Erlang A requirement per queue and interval, covered by the cheapest shifts.

    Per channel and interval, the fewest agents that meet every target of the channel (Erlang A with the
    channel's mean patience, Erlang C when customers never abandon; chat slots shared k per agent; deferrable
    work at --occupancy), grossed up for --shrinkage; then the cheapest headcount per group and shift template
    that covers it in every interval (an integer program). Prints the requirement per channel and the plan
    against the current roster, and writes the plan as an override file for `ccsim run SCENARIO --overrides
    FILE` (or `compare`). Generated arrivals only. See the README, "Erlang baseline", for what it assumes.
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        _scenario_arguments(parser)
        parser.add_argument("--out", type=Path, help="override file to write (default ./erlang-<scenario name>.yaml)")
        parser.add_argument(
            "--shrinkage",
            type=_share(closed_high=False),
            help="share of paid time lost to breaks and absences, in [0, 1) (default: the scenario's breaks and "
            "absenteeism)",
        )
        parser.add_argument(
            "--occupancy",
            type=_share(open_low=True),
            default=0.85,
            help="target occupancy of deferrable work (email, social), in (0, 1] (default 0.85)",
        )
        parser.add_argument(
            "--interval",
            type=_duration,
            help="planning interval dividing a day, e.g. 30min or 1h (default: the reporting interval)",
        )

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        from experiments.erlang_plan import ErlangPlanError, erlang_plan, write_plan

        scenario, _, _ = _load(args)
        try:
            plan = erlang_plan(scenario, interval_s=args.interval, shrinkage=args.shrinkage, occupancy=args.occupancy)
        except ErlangPlanError as exc:
            _error(str(exc))
            return EXIT_USAGE
        out = args.out if args.out is not None else default_out_dir(f"erlang-{scenario.name}.yaml", root=".")
        write_plan(plan, out)
        print_erlang_plan(_stdout(), plan, args.scenario, out)
        return EXIT_OK


def _share(*, open_low: bool = False, closed_high: bool = True):
    """An argparse type: a number in [0, 1] (``(0`` with ``open_low``, ``1)`` without ``closed_high``)."""
    low, high = ("(" if open_low else "["), ("]" if closed_high else ")")
    what = f"a number in {low}0, 1{high}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (value > 0 if open_low else value >= 0) or not (value <= 1 if closed_high else value < 1):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


def _duration(text: str) -> float:
    """An argparse type: a duration with a unit (``30min``, ``1h``), in seconds."""
    from sim.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _probability(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


class _Optimize(_BaseCommand):
    """Search the cheapest plan that meets every target (Optuna), confirm the best plans on fresh seeds.

    SPACE.yaml maps dotted paths to ranges or choices, e.g. `variables: {groups.chat.staffing.day: {int: [8, 20]},
    policies.routing: {choice: [{name: longest_idle}, {name: overflow}]}}`, with optional objective:, replications:,
    trials:, seed: (see the README). Every target is a constraint; each trial runs its replications on common random
    numbers and stops early when a target is clearly missed. The cheapest feasible plans are re-run on fresh seeds;
    the cheapest whose every target is MET is written to OUT/best_overrides.yaml (for `ccsim run --overrides`).
    The study is stored in OUT/study.db (or --storage URL): running the same command again continues it.
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments."""
        _scenario_arguments(parser)
        parser.add_argument("space", help="SPACE.yaml: the decision variables (dotted paths) and their ranges")
        parser.add_argument("--out", type=Path, help="output folder (default runs/optimize-<scenario name>)")
        parser.add_argument("--storage", help="Optuna storage URL (default sqlite:///OUT/study.db)")
        parser.add_argument("--study", help="study name in the storage (default: the scenario's name)")
        parser.add_argument("--trials", type=_positive_int, help="trials in the study in all (default: the space's)")
        parser.add_argument("-r", "--replications", type=_positive_int, help="replications per trial (space's)")
        parser.add_argument("--seed", type=_non_negative_int, help="base seed (default: the space's)")
        parser.add_argument("--start", metavar="FILE", help="override file to try first, e.g. from `ccsim erlang`")
        parser.add_argument("--pareto", action="store_true", help="cost vs worst target margin: the Pareto front")
        parser.add_argument(
            "--confirm-replications", type=_int_at_least(2, "an integer >= 2"), default=30,
            help="replications of each confirmed plan on fresh seeds (default 30)",
        )
        parser.add_argument(
            "--confirm-top", type=_non_negative_int, default=3, help="confirm this many cheapest feasible plans"
        )
        parser.add_argument(
            "--alpha", type=_probability, default=0.05,
            help="chance of pruning a plan that meets every target (default 0.05)",
        )
        parser.add_argument("--workers", type=_positive_int, default=1, help="processes per trial (default 1)")
        _dask_argument(parser)
        parser.add_argument("--no-progress", action="store_true", help="no line per trial on stderr")

    def take_action(self, args: argparse.Namespace) -> int:
        """Run the command; return the exit code."""
        import dataclasses

        from experiments.optimize import OptimizeError, optimize
        from experiments.space import read_space

        scenario, base_dir, _ = _load(args)
        space = read_space(args.space)
        changes = {"trials": args.trials, "replications": args.replications, "seed": args.seed}
        space = dataclasses.replace(space, **{k: v for k, v in changes.items() if v is not None})
        err = _error_console()
        try:
            start = read_overrides(args.start) if args.start else None
            result = optimize(
                scenario,
                space,
                out_dir=args.out,
                storage=args.storage,
                study_name=args.study,
                pareto=args.pareto,
                start=start,
                confirm_replications=args.confirm_replications,
                confirm_top=args.confirm_top,
                alpha=args.alpha,
                workers=args.workers,
                dask=args.dask,
                base_dir=base_dir,
                on_trial=None if args.no_progress else lambda line: err.print(_text(line)),
            )
        except OptimizeError as exc:
            _error(str(exc))
            return EXIT_USAGE
        for note in result.notes:
            err.print(f"[bold yellow]note:[/] {_text(note)}")
        print_optimization(_stdout(), result, space)
        return EXIT_OK


class _Calibrate(_BaseCommand):
    """Fit a scenario from a call log: arrivals, handle times, censored patience, staffing (docs/calibration.md)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the arguments."""
        parser.add_argument("log", help="call log (CSV, CSV.gz or Parquet)")
        parser.add_argument("--map", required=True, metavar="MAPPING", help="calibration mapping YAML")
        parser.add_argument("--out", required=True, metavar="SCENARIO", help="scenario YAML to write")
        parser.add_argument("--from", dest="start", metavar="DATE", help="first date to fit on (default: all)")
        parser.add_argument("--to", dest="end", metavar="DATE", help="last date to fit on, inclusive")
        parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")

    def take_action(self, args: argparse.Namespace) -> int:
        """Calibrate and print the fitted numbers."""
        from experiments.calibration.commands import run_calibrate

        run_calibrate(args.log, args.map, args.out, start=args.start, end=args.end, plots=not args.no_plots)
        return EXIT_OK


class _Backtest(_BaseCommand):
    """Replay a log window against a calibrated scenario; errors vs the noise floor (docs/calibration.md)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the arguments."""
        parser.add_argument("log", help="call log (CSV, CSV.gz or Parquet)")
        parser.add_argument("--scenario", required=True, metavar="FILE", help="scenario written by ccsim calibrate")
        parser.add_argument("--from", dest="start", required=True, metavar="DATE", help="first date")
        parser.add_argument("--to", dest="end", required=True, metavar="DATE", help="last date, inclusive")
        parser.add_argument("--map", metavar="MAPPING", help="mapping YAML (default: the one saved by calibrate)")
        parser.add_argument("--out", metavar="DIR", help="results folder (default: next to the scenario)")
        parser.add_argument("-r", "--replications", type=_int_at_least(2, "an integer >= 2"), default=8)
        parser.add_argument("--seed", type=_non_negative_int, default=1)
        parser.add_argument("--staffing", choices=["auto", "scenario", "log"], default="auto",
                            help="auto: the scenario's table where it covers the window, else agents seen in the log")
        parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")

    def take_action(self, args: argparse.Namespace) -> int:
        """Backtest and print errors with their noise floors."""
        from experiments.calibration.commands import run_backtest

        run_backtest(args.log, args.scenario, args.start, args.end, out=args.out, mapping_path=args.map,
                     replications=args.replications, seed=args.seed, staffing=args.staffing,
                     plots=not args.no_plots)  # fmt: skip
        return EXIT_OK


_COMMANDS: dict[str, type[_BaseCommand]] = {
    "run": _Run,
    "compare": _Compare,
    "sweep": _Sweep,
    "optimize": _Optimize,
    "validate": _Validate,
    "scenarios": _Scenarios,
    "policies": _Policies,
    "erlang": _Erlang,
    "report": _Report,
    "calibrate": _Calibrate,
    "backtest": _Backtest,
}


# ---------------------------------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ccsim", description="Contact-center simulator (SimPy).")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command_type in _COMMANDS.items():
        doc = inspect.getdoc(command_type) or ""
        sub = subparsers.add_parser(
            name,
            help=doc.split("\n", 1)[0].replace("%", "%%"),  # argparse %-formats help strings
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command = command_type()
        command.add_arguments(sub)
        sub.set_defaults(handler=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ccsim`` script.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        Exit code: 0 success, 1 invalid scenario (``validate``), 2 usage, input or output-folder error, 130
        interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2)
        return int(exc.code or 0)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.argv = None if argv is None else list(argv)
    try:
        return args.handler.take_action(args)
    except _USER_ERRORS as exc:
        _error("\n".join([str(exc), *getattr(exc, "__notes__", [])]))
        return EXIT_USAGE
    except BrokenPipeError:  # `ccsim ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        _error("interrupted; finished replications are kept: run the same command again to resume")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
