"""The tables the decision commands print: ``ccsim compare``/``sweep``, ``ccsim optimize`` and ``ccsim erlang``.

Built from the cells and the :class:`~experiments.tables.Grid` of :mod:`experiments.tables` (which prints a run's
summary), so numbers read the same way everywhere.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from experiments.tables import (
    STATUS_STYLE,
    Grid,
    cell,
    clipped,
    metric_label,
    share_cell,
    text,
    unit,
    value_cell,
)
from sim.units import format_duration

__all__ = ["print_comparison", "print_erlang_plan", "print_optimization"]


# ------------------------------------------------------------------------------------------------- comparison


def print_comparison(out: Console, result: Any, alpha: float) -> None:
    """Per metric: each variant's mean ± CI; then each variant's difference from the baseline, * if significant."""
    n = result.replications
    out.print(
        f"[bold]{text(result.baseline)}[/] and {len(result.results) - 1} variants, {n} replications each on common "
        f"random numbers; cells are mean ± 95% CI half-width (shares: mean (95% CI)); differences are variant − "
        f"{text(result.baseline)}, [bold]*[/] = significant after Holm's correction over all "
        f"{len(result.differences)} (α = {alpha:g})"
    )
    summary = result.summary().set_index(["variant", "metric", "scope"])
    grid = Grid("metric per variant", "metric (scope)", [text(name) for name in result.results])
    for metric, scope in result.family:
        cells = []
        for name in result.results:
            key = (name, metric, scope)
            cells.append("" if key not in summary.index else value_cell(metric, summary.loc[key]))
        grid.add(text(metric_label(metric)) + f" [dim]{text(scope)}[/]", cells)
    grid.print(out)
    diffs = result.differences
    if diffs.empty:
        return
    variants = list(dict.fromkeys(diffs["variant"]))
    grid = Grid(f"difference from {text(result.baseline)} (95% CI)", "metric (scope)", [text(v) for v in variants])
    indexed = diffs.set_index(["variant", "metric", "scope"])
    for metric, scope in result.family:
        _, unit_, scale = unit(metric)
        cells = []
        for name in variants:
            row = indexed.loc[(name, metric, scope)]
            mark = " [bold]*[/]" if row["significant"] else ""
            value = cell(row["diff"], math.nan, unit_, scale)
            low = cell(row["ci_low"], math.nan, unit_, scale)
            high = cell(row["ci_high"], math.nan, unit_, scale)
            cells.append(escape(f"{value} [{low}, {high}]") + mark)
        grid.add(text(metric_label(metric)) + f" [dim]{text(scope)}[/]", cells)
    grid.print(out)
    payback = result.payback()
    if len(payback):
        grid = Grid(
            "one-off costs and payback (currency; saving = baseline − variant, per week)",
            "variant",
            ["extra one-off", "saving per week (95% CI)", "payback (weeks)"],
        )
        for row in payback.itertuples(index=False):
            weeks = "never" if math.isinf(row.payback_weeks) else f"{row.payback_weeks:,.1f}"
            grid.add(
                text(row.variant),
                [f"{row.extra_one_off_cost:,.0f}", cell(row.saving_per_week, row.saving_ci_half, "", 1.0), weeks],
            )
        grid.print(out)
    targets = result.targets()
    if len(targets):
        grid = Grid("targets per variant", "target", [text(name) for name in result.results], right=False)
        for target, rows in targets.groupby("target", sort=False):
            by = rows.set_index("variant")
            cells = []
            for name in result.results:
                row = by.loc[name]
                style = STATUS_STYLE.get(row["status"], "")
                value = share_cell(row["mean"], *clipped(row["mean"], row["ci_half"]))
                cells.append(f"{value} [{style}]{row['status']}[/]")
            grid.add(text(target), cells)
        grid.print(out)


# ----------------------------------------------------------------------------------------------- optimization


def print_optimization(out: Console, result: Any, space: Any) -> None:
    """The study's counts, the best trials (or the Pareto front), the confirmation and the chosen plan."""
    trials = result.trials
    states = trials["state"].value_counts().to_dict() if len(trials) else {}
    counts = ", ".join(f"{k} {state.lower()}" for state, k in states.items())
    plans = int((~trials["note"].str.startswith("same plan")).sum()) if len(trials) else 0
    sources = list(trials["source"]) if "source" in trials.columns else []
    trims, swaps = sources.count("descent"), sources.count("swap")
    moves = ", ".join(f"{n} descent {what}" for n, what in ((trims, "trims"), (swaps, "swaps")) if n)
    out.print(
        f"study [bold]{text(result.study_name)}[/] in {text(result.storage)}: {len(trials)} trials ({counts}), "
        f"{plans} distinct plans{f' ({moves})' if moves else ''}; "
        f"objective {text(space.objective)} (mean over {space.replications} replications, seed {space.seed})"
    )
    paths = [v.path for v in space.variables]
    targets = [c for c in trials.columns if c not in {"trial", "state", "cost", "replications", "worst_margin",
                                                      "feasible", "note", "source", *paths}]
    if result.pareto is not None:
        shown, title = result.pareto, "Pareto front: cost vs worst target margin (attainment − level)"
    else:
        feasible = trials[trials["feasible"]].drop_duplicates(subset=paths)
        shown, title = feasible.sort_values(["cost", "trial"]).head(10), "cheapest feasible trials (distinct plans)"
    grid = Grid(title, "trial", [text(c) for c in [*paths, space.objective, *targets, "worst margin"]])
    for row in shown.to_dict("records"):
        cells = [*(text(row[p]) for p in paths), f"{row['cost']:,.2f}"]
        cells += [cell(row[t], math.nan, "%", 100.0) for t in targets]
        grid.add(str(row["trial"]), [*cells, f"{row['worst_margin'] * 100:+.1f} pts"])
    grid.print(out)
    confirmation = result.confirmation
    if confirmation.empty:
        if len(trials) and trials["feasible"].any():  # feasible plans, none confirmed (confirm_top = 0)
            out.print("no plan was confirmed (--confirm-top 0), so none is chosen")
        else:
            out.print("[bold red]no feasible plan was found[/]: widen the space or add trials")
        return
    n = int(confirmation["replications"].iloc[0])
    seed = int(confirmation["seed"].iloc[0])
    names = list(dict.fromkeys(confirmation["target"]))
    grid = Grid(
        f"confirmation on fresh seeds ({n} replications, seed {seed}): attainment mean (95% CI), status, "
        "p_period = share of replications meeting the target, p_mean = P(mean ≥ level)",
        "trial",
        [text(space.objective), *(text(name) for name in names)],
        right=False,
    )
    for trial, rows in confirmation.groupby("trial", sort=False):
        by = rows.set_index("target")
        first = rows.iloc[0]
        cells = [cell(first["cost"], first["cost_ci_half"], "", 1.0)]
        for name in names:
            r = by.loc[name]
            style = STATUS_STYLE.get(r["status"], "")
            low, high = max(0.0, r["ci_low"]), min(1.0, r["ci_high"])
            cells.append(
                f"{share_cell(r['mean'], low, high)} [{style}]{r['status']}[/] "
                f"p_period {r['p_period']:.2f} p_mean {r['p_mean']:.2f}"
            )
        grid.add(f"{trial}{' *' if first['chosen'] else ''}", cells)
    grid.print(out)
    if result.best is None:
        out.print("[bold red]no confirmed plan met every target[/]; see confirmation.csv")
    else:
        out.print(
            f"chosen: trial {result.best_trial} (*): {text(result.out_dir / 'best_overrides.yaml')} "
            "(apply with ccsim run SCENARIO --overrides FILE)"
        )


# ------------------------------------------------------------------------------------------------- Erlang plan


def print_erlang_plan(out: Console, plan: Any, scenario_arg: str, path: Path) -> None:
    """The Erlang requirement per channel, the plan per group and shift against the roster, the override file."""
    grid = Grid(
        f"Erlang requirement per channel (agents on duty, after {plan.shrinkage:.1%} shrinkage; "
        f"{format_duration(plan.interval_s)} intervals)",
        "channel",
        ["queues (groups)", "model", "binding target", "peak", "agent-hours"],
        right=[False, False, False, True, True],
    )
    req = plan.requirements
    for row in plan.by_channel().itertuples(index=False):
        part = req[req["channel"] == row.channel]
        grid.add(
            text(row.channel),
            [
                text(", ".join(dict.fromkeys(part["groups"]))),
                text(", ".join(dict.fromkeys(part["model"]))),
                text(", ".join(n for n in dict.fromkeys(part["target"]) if n) or "–"),
                f"{row.peak_requirement:,.1f}",
                f"{row.agent_hours:,.0f}",
            ],
        )
    grid.print(out)
    shifts = Table(title="Plan: agents per group and shift template, weekly pay", title_justify="left")
    for column in ("group", "shift", "current", "planned", "current pay/week", "planned pay/week"):
        shifts.add_column(column, justify="left" if column in ("group", "shift") else "right")
    table = plan.shift_table()
    for row in table.itertuples(index=False):
        shifts.add_row(
            text(row.group),
            text(row.shift),
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
    out.print(shifts)
    change = plan.weekly_cost / plan.current_weekly_cost - 1.0 if plan.current_weekly_cost > 0 else math.nan
    change_text = "" if math.isnan(change) else f" ({change:+.1%} against the current roster)"
    out.print(
        f"Weekly pay {plan.weekly_cost:,.0f}{change_text}; deferrable occupancy {plan.occupancy:.0%}; "
        f"solver: {text(plan.status)}"
    )
    out.print(f"Override file: {text(path)} (ccsim run {text(scenario_arg)} --overrides {text(path)})")
