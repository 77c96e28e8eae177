"""The tables the ``ccsim`` commands print (rich), laid out to fit the console's width.

Commands in :mod:`experiments.cli` parse and call; what they print about results is here (the run summary,
:func:`print_result`, and the cells and grids every table is made of) and in :mod:`experiments.decision_tables`
(comparisons, optimizations, Erlang plans).

How numbers are shown (the legend line of every summary says it too):

- ``mean ± half-width``: the 95% Student-t interval over replications (``summary.csv`` ``ci_half``).
- Shares in %: ``mean (low–high)``, an interval that stays inside 0–100%: the ``share_low``/``share_high`` columns
  of the summary (:func:`experiments.stats.share_interval`, Wilson score with the replications' variance), or,
  where a summary has none (a target's attainment, whose status is read from the Student-t interval), the
  Student-t interval clipped to 0–100% (clipping never changes which side of a level an interval lies on).
- Counts (:data:`sim.metrics.COUNT_METRICS`): whole numbers (mean per replication, rounded).
- Live and deferrable channels are never pooled in one column: their waits differ by orders of magnitude.

Tables wider than the console are split by columns into several tables that repeat the row labels
(:class:`Grid`), so that with the 100 columns used when output goes to a file or a pipe no line is longer.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from experiments.results import ExperimentResult, overload_warnings
from experiments.terminal import printable
from sim.metrics import AGENT_METRICS, COST_METRICS, COUNT_METRICS, RESOLUTION_METRICS, is_share_metric
from sim.units import format_duration

__all__ = [
    "WIDTH",
    "Grid",
    "console",
    "print_result",
    "text",
    "value_cell",
]

WIDTH = 100
"""Columns of the output when it is not a terminal (a file, a pipe, a test); on a terminal, its width."""

STATUS_STYLE = {"MET": "green", "NOT MET": "bold red", "UNCERTAIN": "yellow", "NO DATA": "dim", "NEEDS --log": "dim"}
"""Colour of a target's status."""

_PERCENT_WORDS = frozenset(
    {"rate", "share", "sl", "attainment", "occupancy", "utilization", "containment", "deflection", "fcr", "p", "pct"}
)
_COUNTS = frozenset(COUNT_METRICS)
_STAGE_VOLUMES = ("bot_offered", "approvals", "transfers", "repeat_contacts", "same_agent_share")
"""Resolution metrics whose being non-zero shows that the bot, approval, transfer or customer-history stages ran.
Scope kinds printed on the console are channel and group; the others (priority, tier...) are in summary.csv."""
_MAX_DAYS = 31
"""Longer runs print only the days on which some target's mean is below its level (all are in summary.csv)."""

LEGEND = (
    "cells: mean ± 95% CI half-width (Student t, n = {n}); shares in %: mean (95% CI inside 0–100%, Wilson score "
    "with the replications' variance); counts: per replication"
)

OFFERED_HANDLED = (
    "offered: contacts that arrived after the warm-up and reached a human queue (answered + abandoned + still "
    "waiting at the end). handled: contacts agents finished over the whole run, warm-up included, each service "
    "counted (a transferred contact twice), so the two differ."
)


def console(*, stderr: bool = False) -> Console:
    """A console for the tables: the terminal's width, or :data:`WIDTH` columns for a file or a pipe.

    ``:name:`` in a user's names stays text (no emoji codes). On stderr (warnings, notes, progress lines) text is
    not cut into lines: a log or a terminal wraps it.
    """
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else WIDTH, emoji=False, soft_wrap=stderr)


def text(value: object) -> str:
    """A user-supplied string (name, path) for rich markup: control characters and markup escaped."""
    return escape(printable(value))


# ------------------------------------------------------------------------------------------------------ cells


def unit(metric: str) -> tuple[str, str, float]:
    """Display label, unit and scale of a metric from its name (``_s`` seconds, ``_h`` hours, shares as %)."""
    if metric.endswith("_s"):
        return metric.removesuffix("_s"), "s", 1.0
    if metric.endswith("_h"):
        return metric.removesuffix("_h"), "h", 1.0
    if is_share_metric(metric) or _PERCENT_WORDS & set(metric.split("_")):
        return metric, "%", 100.0
    return metric, "", 1.0


def cell(mean: float, half: float, unit: str, scale: float, *, count: bool = False) -> str:
    """``mean ± half`` in a metric's unit: whole numbers for counts and large values, NaN as ``–``."""
    if pd.isna(mean):
        return "–"
    mean, half = mean * scale, half * scale
    if count:
        decimals = 0
    elif unit == "%":
        decimals = 1
    elif unit in ("s", "h", ""):
        decimals = 0 if abs(mean) >= (1000 if unit == "" else 100) else (1 if unit or abs(mean) >= 10 else 2)
    else:
        decimals = 1
    text_ = f"{mean:,.{decimals}f}"
    return text_ if pd.isna(half) else f"{text_} ± {half:,.{decimals}f}"


def share_cell(mean: float, low: float, high: float, sep: str = " ") -> str:
    """A share in %: ``97.9 (96.3–99.5)``; without bounds (one replication) just the mean."""
    if pd.isna(mean):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return f"{mean * 100:.1f}"
    return f"{mean * 100:.1f}{sep}({low * 100:.1f}–{high * 100:.1f})"


def clipped(mean: float, half: float) -> tuple[float, float]:
    """The Student-t interval ``mean ± half`` of a share, clipped to ``[0, 1]``."""
    if pd.isna(half):
        return math.nan, math.nan
    return max(0.0, mean - half), min(1.0, mean + half)


def value_cell(metric: str, row: Any) -> str:
    """The cell of one summary row (``mean, ci_half`` and, for shares, ``share_low, share_high``)."""
    _, unit_, scale = unit(metric)
    if is_share_metric(metric):
        low, high = _get(row, "share_low"), _get(row, "share_high")
        if pd.isna(low) or pd.isna(high):
            low, high = clipped(row["mean"], row["ci_half"])
        return share_cell(row["mean"], low, high)
    return cell(row["mean"], row["ci_half"], unit_, scale, count=metric in _COUNTS)


def _get(row: Any, key: str) -> float:
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return math.nan


def metric_label(metric: str) -> str:
    """``asa_s`` -> ``asa (s)``, ``sl_5min`` -> ``sl_5min (%)``."""
    label, unit_, _ = unit(metric)
    return f"{label} ({unit_})" if unit_ else label


def _width(markup: str) -> int:
    return max((Text.from_markup(line).cell_len for line in markup.split("\n")), default=0)


# ------------------------------------------------------------------------------------------------------- grid


@dataclasses.dataclass
class Grid:
    """Rows of labelled cells under column headers, printed as one or more tables that fit the console.

    Every column gets a fixed width: its widest cell (cells never wrap; write line breaks into a cell to stack
    it) or its header's longest word (headers wrap), widened towards the header's length while room is left.
    Value columns that do not fit go to a continuation table that repeats the row labels. With ``shrink_label``
    the label column gives up width (its text wraps) before any column moves to a continuation table.

    Attributes:
        title: Title of the table (the continuation tables say "continued").
        corner: Header of the label column.
        columns: Headers of the value columns (rich markup).
        rows: ``(label, cells)`` per row, label and cells in rich markup; ``len(cells) == len(columns)``.
        right: Whether value columns are right-justified (numbers) or left-justified; or one flag per column.
        shrink_label: Let the label column wrap (down to 16 columns) to keep every column in one table.
    """

    title: str
    corner: str
    columns: list[str]
    rows: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list)
    right: bool | Sequence[bool] = True
    shrink_label: bool = False

    def add(self, label: str, cells: Sequence[str]) -> None:
        """Append a row."""
        self.rows.append((label, list(cells)))

    def tables(self, width: int) -> list[Table]:
        """The tables to print at ``width`` columns: value columns split so that each table fits."""
        label_need = max([_width(self.corner), *(_width(label) for label, _ in self.rows)])
        label_w = min(label_need, 16 if self.shrink_label else 32)
        widths, heads = [], []
        for i, header in enumerate(self.columns):
            longest_word = max((Text.from_markup(w).cell_len for w in header.split()), default=1)
            widths.append(max([longest_word, *(_width(cells[i]) for _, cells in self.rows)]))
            heads.append(Text.from_markup(header).cell_len)

        def used(chunk: list[int], label: int) -> int:  # rich: 1 padding each side and 1 border per column, + 1
            return label + sum(widths[j] for j in chunk) + 3 * (len(chunk) + 1) + 1

        chunks: list[list[int]] = [[]]
        for i in range(len(widths)):
            if chunks[-1] and used([*chunks[-1], i], label_w) > width:
                chunks.append([])
            chunks[-1].append(i)
        out = []
        for k, chunk in enumerate(chunks):
            cols = {i: widths[i] for i in chunk}
            spare = width - used(chunk, label_w)
            grow = max(0, min(spare, label_need - label_w))
            lw, spare = label_w + grow, spare - grow
            while spare > 0 and any(cols[i] < heads[i] for i in chunk):  # fewer header lines, evenly
                for i in (i for i in chunk if cols[i] < heads[i]):
                    if spare > 0:
                        cols[i], spare = cols[i] + 1, spare - 1
            title = self.title if k == 0 else f"{self.title} (continued)"
            table = Table(title=title, title_justify="left")
            table.add_column(self.corner, width=lw, overflow="fold")
            right = [self.right] * len(self.columns) if isinstance(self.right, bool) else list(self.right)
            for i in chunk:
                table.add_column(self.columns[i], justify="right" if right[i] else "left", width=cols[i])
            for label, cells in self.rows:
                table.add_row(label, *(cells[i] for i in chunk))
            out.append(table)
        return out

    def print(self, out: Console) -> None:
        """Print the tables at the console's width."""
        for table in self.tables(out.width):
            out.print(table)


# ------------------------------------------------------------------------------------------------ run summary


def _scope_kind(scope: str) -> str:
    return "channel" if scope == "all" else scope.split("=", 1)[0]


def _metric_grid(summary: pd.DataFrame, scopes: Sequence[str], n: int, title: str, all_label: str = "all") -> Grid:
    """Rows: metrics (with units) in summary order; columns: ``scopes``.

    Scopes are shown without their ``kind=``, the scope ``all`` headed ``all_label``.
    """
    headers = [all_label if s == "all" else text(s.split("=", 1)[-1]) for s in scopes]
    grid = Grid(title, "metric", headers)
    part = summary[summary["scope"].isin(scopes)]
    for metric, rows in part.groupby("metric", sort=False):
        by_scope = rows.set_index("scope")
        cells = []
        for scope in scopes:
            if scope not in by_scope.index:
                cells.append("")
                continue
            row = by_scope.loc[scope]
            value = value_cell(str(metric), row)
            cells.append(value if int(row["n"]) == n else f"{value} (n={int(row['n'])})")
        if any(cells):
            grid.add(text(metric_label(str(metric))), cells)
    return grid


def _channel_grids(result: ExperimentResult, summary: pd.DataFrame, n: int, what: str) -> list[Grid]:
    """Per-channel tables of ``summary``: live and deferrable channels apart, never pooled in one column.

    When every channel is of one kind, one table with the pooled ``all`` column first.
    """
    channels = list(result.scenario.channels)
    kinds = {c: result.scenario.channels[c].kind for c in channels}
    live = [c for c in channels if kinds[c] == "live"]
    deferrable = [c for c in channels if kinds[c] == "deferrable"]
    if not live or not deferrable:
        scopes = ["all", *(f"channel={c}" for c in channels)] if len(channels) > 1 else [f"channel={channels[0]}"]
        kind = "live" if live else "deferrable"
        return [_metric_grid(summary, scopes, n, f"{what}: {kind} channels, all and per channel")]
    return [
        _metric_grid(
            summary, [f"channel={c}" for c in live], n, f"{what}: live channels (customers wait and may abandon)"
        ),
        _metric_grid(
            summary,
            [f"channel={c}" for c in deferrable],
            n,
            f"{what}: deferrable channels (a backlog worked in idle time; not pooled with live channels)",
        ),
    ]


def _targets_grid(targets: pd.DataFrame, interval_s: float) -> Grid:
    """Targets: goal, attainment (Student-t CI clipped to 0–100%, which the status is read from), worst interval."""
    every_any = bool((targets["aggregation"] == "every_interval").any())
    columns = ["goal", "attained (%)"]
    if every_any:
        columns += ["worst interval (%)", "intervals met (%)"]
    columns.append("status")
    grid = Grid("FRT targets: P(FRT ≤ threshold | filter) ≥ level", "target", columns, shrink_label=True)
    for row in targets.itertuples(index=False):
        filters = ", ".join(
            f"{k}={v}" for k in ("channel", "priority", "tier", "intent") if pd.notna(v := getattr(row, k))
        )
        every = row.aggregation == "every_interval"
        window = f"{row.window}, every {format_duration(interval_s)}" if every else row.window
        label = f"{text(row.target)}\n[dim]{text(filters or 'all contacts')}; {text(window)}[/]"
        cells = [
            f"{row.level:.0%} ≤ {format_duration(row.threshold_s)}",
            share_cell(row.mean, *clipped(row.mean, row.ci_half), sep="\n"),
        ]
        if every_any:
            worst = share_cell(row.worst, *clipped(row.worst, row.worst_ci_half), sep="\n") if every else ""
            if every and row.worst_at is not None:
                worst += f"\n{row.worst_at:%a %m-%d %H:%M}\nin {row.worst_at_n}/{row.n} reps"
            cells += [worst, f"{row.interval_share * 100:.1f}" if every and pd.notna(row.interval_share) else ""]
        cells.append(f"[{STATUS_STYLE[row.status]}]{row.status}[/]")
        grid.add(label, cells)
    return grid


def _print_targets(out: Console, targets: pd.DataFrame, interval_s: float) -> None:
    _targets_grid(targets, interval_s).print(out)
    out.print(
        "[dim]attained: pooled over the window, mean (95% Student-t CI, clipped to 0–100%); the status is read from "
        "that CI, or, for every-interval targets, from the worst interval's: MET when all of it is at or above "
        "the level, NOT MET when all of it is below, UNCERTAIN otherwise.[/]"
    )


def _days_grid(days: pd.DataFrame, targets: Sequence[str]) -> Grid:
    """Days x targets: mean attainment over replications, red where below the target's level."""
    title = "attainment per day (%, mean over replications; red: below the level)"
    if days["day"].nunique() > _MAX_DAYS:
        missed = days.loc[days["mean"] < days["level"] - 1e-12, "day"]
        days = days[days["day"].isin(missed)]
        title += "; only the days with a miss (all: target_day_attainment in summary.csv)"
    grid = Grid(title, "day", [text(name) for name in targets])
    for day, rows in days.groupby("day", sort=True):
        by_target = rows.set_index("target")
        cells = []
        for name in targets:
            if name not in by_target.index or pd.isna(by_target.loc[name, "mean"]):
                cells.append("–")
                continue
            mean, level = float(by_target.loc[name, "mean"]), float(by_target.loc[name, "level"])
            value = f"{mean * 100:.1f}"
            cells.append(f"[bold red]{value}[/]" if mean < level - 1e-12 else value)
        grid.add(f"{pd.Timestamp(str(day)):%a %Y-%m-%d}", cells)
    return grid


def print_result(out: Console, result: ExperimentResult, *, next_steps: Sequence[tuple[str, str]] = ()) -> None:
    """The summary of a run: per channel (live and deferrable apart), bot and resolution, costs, agents, targets.

    Args:
        out: Where to print; tables are split to fit its width.
        result: The run.
        next_steps: ``(command, what it does)`` pairs printed last under "Next".
    """
    n = len(result.replications)
    # Metrics and scopes in the order experiments.measure emits them (channels as in the scenario), not sorted.
    order = {name: i for i, name in enumerate(dict.fromkeys([*result.metrics["metric"], *result.metrics["scope"]]))}
    summary = result.summary.sort_values(["metric", "scope"], key=lambda s: s.map(order), kind="stable")
    out.print(f"[bold]{text(result.scenario.name)}[/]: {n} replications, seed {result.seed}")
    out.print(f"[dim]{LEGEND.format(n=n)}[/]")
    for warning in overload_warnings(result.summary):
        out.print(f"[bold red]{text(warning)}[/]")
    kinds = summary["scope"].map(_scope_kind)
    stages = summary["metric"].isin(RESOLUTION_METRICS)
    costs = summary["metric"].isin(("labor_cost_per_week", *COST_METRICS)) & summary["scope"].eq("all")
    agents = summary["metric"].isin(AGENT_METRICS) & (kinds.isin(("channel", "group")))
    human = kinds.eq("channel") & ~stages & ~costs & ~agents
    for grid in _channel_grids(result, summary[human], n, "human queue"):
        grid.print(out)
    # Bot, approval and repeat figures only when the scenario has any (all zero or undefined otherwise).
    used = summary.loc[stages & summary["metric"].isin(_STAGE_VOLUMES), "mean"].fillna(0.0).gt(0).any()
    if used:
        for grid in _channel_grids(result, summary[stages & kinds.eq("channel")], n, "bot, approvals, transfers, FCR"):
            grid.print(out)
    if costs.any():
        part = summary[costs]
        _metric_grid(part, ["all"], n, "costs (the scenario's currency): per week, one-off apart", "total").print(out)
    if agents.any():
        groups = [s for s in dict.fromkeys(summary.loc[agents, "scope"]) if s != "all"]
        grid = _metric_grid(summary[agents], ["all", *groups], n, "agents: all and per group", "all agents")
        grid.print(out)
        shown = set(summary.loc[human | agents, "metric"])
        if {"offered", "handled"} <= shown:
            out.print(f"[dim]{OFFERED_HANDLED}[/]")
    if result.scenario.targets:
        _print_targets(out, result.targets(), result.scenario.reporting.interval)
        days = result.day_attainment()
        if len(days):
            _days_grid(days, [t.name for t in result.scenario.targets]).print(out)
    if result.out_dir is not None:
        out.print(f"Full summary (every scope): {text(result.out_dir / 'summary.csv')}")
    if next_steps:
        out.print("[bold]Next:[/]")
        for command, what in next_steps:
            line = f"  {command}  # {what}"
            if len(line) > out.width:
                out.print(f"  [dim]# {text(what)}[/]")
                out.print(f"  {text(command)}", soft_wrap=True)
            else:
                out.print(f"  {text(command)}  [dim]# {text(what)}[/]")
