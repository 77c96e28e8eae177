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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from experiments.calibration.mapping import CalibrationInputError
from experiments.files import OutputError
from experiments.overrides import apply_overrides, parse_set, read_overrides
from experiments.provenance import scenario_hash
from experiments.results import ExperimentResult, overload_warnings
from experiments.run_dir import RunDirError, default_out_dir
from experiments.runner import DaskError, run_experiment
from experiments.scenario_errors import ScenarioError
from experiments.scenario_files import check_data, describe_scenario, list_scenarios, load_scenario
from experiments.terminal import printable
from sim.arrivals import ReplayError
from sim.budget import estimate, scenario_warnings
from sim.config import Scenario
from sim.metrics import COST_METRICS, RESOLUTION_METRICS
from sim.units import format_duration

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


_USER_ERRORS: tuple[type[Exception], ...] = (
    ScenarioError, RunDirError, ReplayError, DaskError, OutputError, CalibrationInputError,
)  # fmt: skip
"""Exceptions that mean "fix your input" (or the output folder): shown as a message, without a traceback."""


def _stdout() -> Console:
    # Wide enough for the summary tables when output goes to a file or a pipe; ":name:" in a user's names stays
    # text (no emoji codes).
    return Console(width=None if sys.stdout.isatty() else 160, emoji=False)


def _text(value: object) -> str:
    """A user-supplied string (name, path) for rich markup: control characters and markup escaped."""
    return escape(printable(value))


def _error_console() -> Console:
    return Console(stderr=True, width=None if sys.stderr.isatty() else 160, emoji=False)


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
    raised to add more. One run at a time writes into a folder: a second one is refused (or waits, with --wait),
    and a folder that is not a ccsim run directory is never written into.
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
        _print_result(_stdout(), result)
        reused = f" ({len(result.reused)} reused)" if result.reused else ""
        print(f"{len(result.replications)} replications{reused} in {printable(out)}", file=sys.stderr)
        return EXIT_OK


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
        _print_comparison(_stdout(), result, args.alpha)
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
        console = _stdout()
        channels = Table(
            title=f"Erlang requirement per channel (agents on duty, after {plan.shrinkage:.1%} shrinkage; "
            f"{format_duration(plan.interval_s)} intervals)",
            title_justify="left",
        )
        for column in ("channel", "queues (groups)", "model", "binding target", "peak", "agent-hours"):
            channels.add_column(column, justify="right" if column in ("peak", "agent-hours") else "left")
        req = plan.requirements
        for row in plan.by_channel().itertuples(index=False):
            part = req[req["channel"] == row.channel]
            channels.add_row(
                _text(row.channel),
                _text(", ".join(dict.fromkeys(part["groups"]))),
                _text(", ".join(dict.fromkeys(part["model"]))),
                _text(", ".join(n for n in dict.fromkeys(part["target"]) if n) or "–"),
                f"{row.peak_requirement:,.1f}",
                f"{row.agent_hours:,.0f}",
            )
        console.print(channels)
        shifts = Table(title="Plan: agents per group and shift template, weekly pay", title_justify="left")
        for column in ("group", "shift", "current", "planned", "current pay/week", "planned pay/week"):
            shifts.add_column(column, justify="left" if column in ("group", "shift") else "right")
        table = plan.shift_table()
        for row in table.itertuples(index=False):
            shifts.add_row(
                _text(row.group),
                _text(row.shift),
                f"{row.current:,}",
                f"{row.planned:,}",
                f"{row.current_weekly_cost:,.0f}",
                f"{row.planned_weekly_cost:,.0f}",
            )
        shifts.add_row(
            "total",
            "",
            f"{table['current'].sum():,}",
            f"{table['planned'].sum():,}",
            f"{plan.current_weekly_cost:,.0f}",
            f"{plan.weekly_cost:,.0f}",
            style="bold",
        )
        console.print(shifts)
        change = plan.weekly_cost / plan.current_weekly_cost - 1.0 if plan.current_weekly_cost > 0 else math.nan
        change_text = "" if math.isnan(change) else f" ({change:+.1%} against the current roster)"
        console.print(
            f"Weekly pay {plan.weekly_cost:,.0f}{change_text}; deferrable occupancy {plan.occupancy:.0%}; "
            f"solver: {_text(plan.status)}"
        )
        console.print(f"Override file: {_text(out)} (ccsim run {_text(args.scenario)} --overrides {_text(out)})")
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
        _print_optimization(_stdout(), result, space)
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


# ------------------------------------------------------------------------------------------------ printing

_PERCENT_WORDS = frozenset(
    {"rate", "share", "sl", "attainment", "occupancy", "utilization", "containment", "deflection", "fcr", "p", "pct"}
)


def _unit(metric: str) -> tuple[str, str, float]:
    """Display label, unit and scale of a metric from its name (``_s`` seconds, ``_h`` hours, shares as %)."""
    if metric.endswith("_s"):
        return metric.removesuffix("_s"), "s", 1.0
    if metric.endswith("_h"):
        return metric.removesuffix("_h"), "h", 1.0
    if _PERCENT_WORDS & set(metric.split("_")):
        return metric, "%", 100.0
    return metric, "", 1.0


def _cell(mean: float, half: float, unit: str, scale: float) -> str:
    if pd.isna(mean):
        return "–"
    mean, half = mean * scale, half * scale
    decimals = 1 if unit in ("%", "s", "h") or abs(mean) >= 10 else 2
    decimals = 0 if unit == "" and abs(mean) >= 1000 else decimals
    text = f"{mean:,.{decimals}f}"
    return text if pd.isna(half) else f"{text} ± {half:,.{decimals}f}"


def _scope_kind(scope: str) -> str:
    return "channel" if scope == "all" else scope.split("=", 1)[0]


def _metric_table(summary: pd.DataFrame, kind: str, n: int, title: str | None = None) -> Table:
    """Rows: metrics (with units); columns: scopes of one kind ("all" joins the channel table)."""
    part = summary[summary["scope"].map(_scope_kind) == kind]
    scopes = list(dict.fromkeys(part["scope"]))
    scopes.sort(key=lambda s: s != "all")
    if title is None:
        title = "all contacts and per channel" if kind == "channel" else f"per {kind}"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for scope in scopes:
        table.add_column(_text(scope.split("=", 1)[-1]), justify="right")
    for metric, rows in part.groupby("metric", sort=False):
        label, unit, scale = _unit(str(metric))
        by_scope = rows.set_index("scope")
        cells = []
        for scope in scopes:
            if scope not in by_scope.index:
                cells.append("")
                continue
            row = by_scope.loc[scope]
            cell = _cell(row["mean"], row["ci_half"], unit, scale)
            cells.append(cell if int(row["n"]) == n else f"{cell} (n={int(row['n'])})")
        table.add_row(_text(f"{label} ({unit})" if unit else label), *cells)
    return table


_STATUS_STYLE = {"MET": "green", "NOT MET": "bold red", "UNCERTAIN": "yellow", "NO DATA": "dim", "NEEDS --log": "dim"}


def _targets_table(targets: pd.DataFrame, interval_s: float) -> Table:
    table = Table(title="FRT targets: P(FRT ≤ threshold | filter) ≥ level", title_justify="left")
    for column, justify in (
        ("target", "left"),
        ("filter", "left"),
        ("window", "left"),
        ("threshold", "right"),
        ("level", "right"),
        ("attained (%)", "right"),
        ("95% CI (%)", "right"),
        ("worst interval (%)", "right"),
        ("intervals met (%)", "right"),
        ("status", "left"),
    ):
        table.add_column(column, justify=justify)
    for row in targets.itertuples(index=False):
        filters = ", ".join(
            f"{k}={v}" for k in ("channel", "priority", "tier", "intent") if pd.notna(v := getattr(row, k))
        )
        ci = "–" if math.isnan(row.ci_low) else f"{row.ci_low * 100:.1f}–{row.ci_high * 100:.1f}"
        every = row.aggregation == "every_interval"
        window = f"{row.window}, every {format_duration(interval_s)}" if every else row.window
        worst = _cell(row.worst, row.worst_ci_half, "%", 100.0) if every else ""
        if every and row.worst_at is not None:
            worst += f" at {row.worst_at:%a %m-%d %H:%M} ({row.worst_at_n}/{row.n})"
        table.add_row(
            _text(row.target),
            _text(filters or "all contacts"),
            _text(window),
            format_duration(row.threshold_s),
            f"{row.level:.0%}",
            _cell(row.mean, row.ci_half, "%", 100.0),
            ci,
            worst,
            _cell(row.interval_share, float("nan"), "%", 100.0) if every else "",
            f"[{_STATUS_STYLE[row.status]}]{row.status}[/]",
        )
    return table


_MAX_DAYS = 31
"""Longer runs print only the days on which some target's mean is below its level (all are in summary.csv)."""


def _days_table(days: pd.DataFrame, targets: Sequence[str]) -> Table:
    """Days x targets: mean attainment over replications, red where below the target's level."""
    title = "attainment per day (%, mean over replications; red: below the level)"
    if days["day"].nunique() > _MAX_DAYS:
        missed = days.loc[days["mean"] < days["level"] - 1e-12, "day"]
        days = days[days["day"].isin(missed)]
        title += "; only the days with a miss (all: target_day_attainment in summary.csv)"
    table = Table(title=title, title_justify="left")
    table.add_column("day")
    for name in targets:
        table.add_column(_text(name), justify="right")
    for day, rows in days.groupby("day", sort=True):
        by_target = rows.set_index("target")
        cells = []
        for name in targets:
            if name not in by_target.index or pd.isna(by_target.loc[name, "mean"]):
                cells.append("–")
                continue
            mean, level = float(by_target.loc[name, "mean"]), float(by_target.loc[name, "level"])
            text = f"{mean * 100:.1f}"
            cells.append(f"[bold red]{text}[/]" if mean < level - 1e-12 else text)
        table.add_row(f"{pd.Timestamp(str(day)):%a %Y-%m-%d}", *cells)
    return table


_STAGE_VOLUMES = ("bot_offered", "approvals", "transfers", "repeat_contacts", "same_agent_share")
"""Resolution metrics whose being non-zero shows that the bot, approval, transfer or customer-history stages ran.
Scope kinds printed on the console are channel and group; the others (priority, tier...) are in summary.csv."""


def _print_result(console: Console, result: ExperimentResult) -> None:
    n = len(result.replications)
    # Metrics and scopes in the order experiments.measure emits them (channels as in the scenario), not sorted.
    order = {name: i for i, name in enumerate(dict.fromkeys([*result.metrics["metric"], *result.metrics["scope"]]))}
    summary = result.summary.sort_values(["metric", "scope"], key=lambda s: s.map(order), kind="stable")
    console.print(
        f"[bold]{_text(result.scenario.name)}[/]: {n} replications, seed {result.seed}; "
        f"cells are mean ± 95% CI half-width (Student t, n = {n})"
    )
    for warning in overload_warnings(result.summary):
        console.print(f"[bold red]{_text(warning)}[/]")
    kinds = summary["scope"].map(_scope_kind)
    stages = summary["metric"].isin(RESOLUTION_METRICS)
    costs = summary["metric"].isin(("labor_cost_per_week", *COST_METRICS)) & (kinds == "channel")
    human = kinds.eq("channel") & ~stages & ~costs
    console.print(_metric_table(summary[human], "channel", n, "human queue: all contacts and per channel"))
    # Bot, approval and repeat figures only when the scenario has any (all zero or undefined otherwise).
    used = summary.loc[stages & summary["metric"].isin(_STAGE_VOLUMES), "mean"].fillna(0.0).gt(0).any()
    if used:
        title = "bot (apart from human FRT), approvals, transfers, first-contact resolution and repeats, per channel"
        console.print(_metric_table(summary[stages & (kinds == "channel")], "channel", n, title))
    if costs.any():
        title = "costs (currency): per week, one-off apart"
        console.print(_metric_table(summary[costs], "channel", n, title))
    if (kinds == "group").any():
        console.print(_metric_table(summary[kinds == "group"], "group", n))
    if result.scenario.targets:
        console.print(_targets_table(result.targets(), result.scenario.reporting.interval))
        days = result.day_attainment()
        if len(days):
            console.print(_days_table(days, [t.name for t in result.scenario.targets]))
    if result.out_dir is not None:
        console.print(f"Full summary (every scope): {_text(result.out_dir / 'summary.csv')}")


def _print_comparison(console: Console, result: Any, alpha: float) -> None:
    """Per metric: each variant's mean ± CI; then each variant's difference from the baseline, * if significant."""
    n = result.replications
    console.print(
        f"[bold]{_text(result.baseline)}[/] and {len(result.results) - 1} variants, {n} replications each on common "
        f"random numbers; cells are mean ± 95% CI half-width; differences are variant − {_text(result.baseline)}, "
        f"[bold]*[/] = significant after Holm's correction over all {len(result.differences)} (α = {alpha:g})"
    )
    summary = result.summary().set_index(["variant", "metric", "scope"])
    table = Table(title="metric per variant", title_justify="left")
    table.add_column("metric (scope)")
    for name in result.results:
        table.add_column(_text(name), justify="right")
    for metric, scope in result.family:
        label, unit, scale = _unit(metric)
        cells = []
        for name in result.results:
            key = (name, metric, scope)
            row = summary.loc[key] if key in summary.index else None
            cells.append("" if row is None else _cell(row["mean"], row["ci_half"], unit, scale))
        table.add_row(_text(f"{label} ({unit})" if unit else label) + f" [dim]{_text(scope)}[/]", *cells)
    console.print(table)
    diffs = result.differences
    if diffs.empty:
        return
    table = Table(title=f"difference from {_text(result.baseline)} (95% CI)", title_justify="left")
    table.add_column("metric (scope)")
    variants = list(dict.fromkeys(diffs["variant"]))
    for name in variants:
        table.add_column(_text(name), justify="right")
    indexed = diffs.set_index(["variant", "metric", "scope"])
    for metric, scope in result.family:
        label, unit, scale = _unit(metric)
        cells = []
        for name in variants:
            row = indexed.loc[(name, metric, scope)]
            mark = " [bold]*[/]" if row["significant"] else ""
            text = _cell(row["diff"], math.nan, unit, scale)
            low = _cell(row["ci_low"], math.nan, unit, scale)
            high = _cell(row["ci_high"], math.nan, unit, scale)
            cells.append(escape(f"{text} [{low}, {high}]") + mark)
        table.add_row(_text(f"{label} ({unit})" if unit else label) + f" [dim]{_text(scope)}[/]", *cells)
    console.print(table)
    payback = result.payback()
    if len(payback):
        table = Table(title="one-off costs and payback (currency; saving = baseline − variant, per week)")
        for column in ("variant", "extra one-off", "saving per week (95% CI)", "payback (weeks)"):
            table.add_column(column, justify="left" if column == "variant" else "right")
        for row in payback.itertuples(index=False):
            weeks = "never" if math.isinf(row.payback_weeks) else f"{row.payback_weeks:,.1f}"
            table.add_row(
                _text(row.variant),
                f"{row.extra_one_off_cost:,.0f}",
                _cell(row.saving_per_week, row.saving_ci_half, "", 1.0),
                weeks,
            )
        console.print(table)
    targets = result.targets()
    if len(targets):
        table = Table(title="targets per variant", title_justify="left")
        table.add_column("target")
        for name in result.results:
            table.add_column(_text(name))
        for target, rows in targets.groupby("target", sort=False):
            by = rows.set_index("variant")
            cells = []
            for name in result.results:
                row = by.loc[name]
                style = _STATUS_STYLE.get(row["status"], "")
                cells.append(f"{_cell(row['mean'], row['ci_half'], '%', 100.0)} [{style}]{row['status']}[/]")
            table.add_row(_text(target), *cells)
        console.print(table)


def _print_optimization(console: Console, result: Any, space: Any) -> None:
    """The study's counts, the best trials (or the Pareto front), the confirmation and the chosen plan."""
    trials = result.trials
    states = trials["state"].value_counts().to_dict() if len(trials) else {}
    counts = ", ".join(f"{n} {state.lower()}" for state, n in states.items())
    plans = int((~trials["note"].str.startswith("same plan")).sum()) if len(trials) else 0
    console.print(
        f"study [bold]{_text(result.study_name)}[/] in {_text(result.storage)}: {len(trials)} trials ({counts}), "
        f"{plans} distinct plans; "
        f"objective {_text(space.objective)} (mean over {space.replications} replications, seed {space.seed})"
    )
    paths = [v.path for v in space.variables]
    targets = [c for c in trials.columns if c not in {"trial", "state", "cost", "replications", "worst_margin",
                                                      "feasible", "note", *paths}]
    if result.pareto is not None:
        shown, title = result.pareto, "Pareto front: cost vs worst target margin (attainment − level)"
    else:
        feasible = trials[trials["feasible"]].drop_duplicates(subset=paths)
        shown, title = feasible.sort_values(["cost", "trial"]).head(10), "cheapest feasible trials (distinct plans)"
    table = Table(title=title, title_justify="left")
    for column in ["trial", *paths, space.objective, *targets, "worst margin"]:
        table.add_column(_text(column), justify="left" if column in paths else "right")
    for row in shown.to_dict("records"):
        cells = [str(row["trial"]), *(_text(row[p]) for p in paths), f"{row['cost']:,.2f}"]
        cells += [_cell(row[t], math.nan, "%", 100.0) for t in targets]
        table.add_row(*cells, f"{row['worst_margin'] * 100:+.1f} pts")
    console.print(table)
    confirmation = result.confirmation
    if confirmation.empty:
        console.print("[bold red]no feasible plan was found[/]: widen the space or add trials")
        return
    n = int(confirmation["replications"].iloc[0])
    seed = int(confirmation["seed"].iloc[0])
    table = Table(
        title=f"confirmation on fresh seeds ({n} replications, seed {seed}): attainment mean ± 95% CI, status, "
        "p_period = share of replications meeting the target, p_mean = P(mean ≥ level)",
        title_justify="left",
    )
    table.add_column("trial", justify="right")
    table.add_column(_text(space.objective), justify="right")
    names = list(dict.fromkeys(confirmation["target"]))
    for name in names:
        table.add_column(_text(name), justify="right")
    for trial, rows in confirmation.groupby("trial", sort=False):
        by = rows.set_index("target")
        first = rows.iloc[0]
        cells = [f"{trial}{' *' if first['chosen'] else ''}", _cell(first["cost"], first["cost_ci_half"], "", 1.0)]
        for name in names:
            r = by.loc[name]
            style = _STATUS_STYLE.get(r["status"], "")
            cells.append(
                f"{_cell(r['mean'], (r['ci_high'] - r['ci_low']) / 2, '%', 100.0)} [{style}]{r['status']}[/] "
                f"p_period {r['p_period']:.2f} p_mean {r['p_mean']:.2f}"
            )
        table.add_row(*cells)
    console.print(table)
    if result.best is None:
        console.print("[bold red]no confirmed plan met every target[/]; see confirmation.csv")
    else:
        console.print(
            f"chosen: trial {result.best_trial} (*): {_text(result.out_dir / 'best_overrides.yaml')} "
            "(apply with ccsim run SCENARIO --overrides FILE)"
        )


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
