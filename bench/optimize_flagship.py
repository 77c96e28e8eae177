"""Optimization benchmark: is ``ccsim optimize`` worth it on the flagship, against the ``ccsim erlang`` plan?

Reference problem: ``ecommerce_24x7`` (6 groups x 3 shift templates night/day/evening, a chat bot, refund authority
limits, 6 FRT targets, among them "11.11 sale chat normal, every 30 min": every half-hour of the 11.11 evening sale
must reach 90% in 15 min, judged on its worst half-hour). The decision variables (``bench/flagship_space.yaml``, 21):
the 18 headcounts group x shift, the bot's scope (``policies.deflection``: no bot, or the intents it answers first)
and the authority limits of ``chat_zh`` and ``voice_zh``. The objective is ``recurring_cost_per_week``.

Steps (all through the Python API; ``--workers`` processes, default 2):

1. **Erlang plan.** ``experiments.erlang_plan.erlang_plan(scenario)`` (what ``ccsim erlang ecommerce_24x7`` writes),
   evaluated on ``--eval-replications`` (50) fresh replications (seed ``--eval-seed``, 30001: neither the search's
   seeds nor its confirmation's): mean cost per week and every target's status, as ``ccsim run`` reports it
   (``experiments.results.target_table``: MET when the 95% CI lies at or above the level; an every-interval target
   on its worst interval). The current roster is evaluated the same way, for context. When the Erlang plan misses a
   target, its own safety knob is raised, ``shrinkage`` in steps of 0.05 (a 10-replication screen, then the full
   evaluation), until a plan meets every target: that is "the Erlang plan that meets them".
2. **Search.** ``experiments.optimize.optimize`` on the space, warm-started from the Erlang plan (its headcounts
   as the first trial), ``replications`` (6) per trial on the space's seed, until ``--budget-minutes`` (13) of wall
   time, counting the confirmation, are spent (or ``--trials`` distinct plans): the progress hook (``on_trial``)
   ends the study when the next trial and the confirmation would not fit (one uninterrupted study: resuming it in
   chunks would re-seed the TPE sampler at every chunk, and its first random proposals would repeat).
   The space sets ``descent: 0.8``: once a plan is feasible, about 4 trials in 5 are *trims* of the cheapest
   feasible plan (one headcount lower; ``source`` = ``descent`` in the trials table, ``[descent trim k: ...]`` on
   the progress line), so headcounts that no target needs (the back office in the evening, which the email 24 h
   target leaves slack) come down faster than TPE alone brings them. The space sets ``descent_steps: adaptive``: a
   trim lowers its headcount by a step count that doubles after a feasible trim and halves after an infeasible
   one; a trim that worked is followed by another of the same headcount, the others come in turn. Measured on
   2026-12-02: with unit steps (largest pay saving first) the search needed 15 minutes (342 plans) to reach 755,607
   CNY/week at its levels; adaptive steps in that order, 8 minutes (178 plans) for 751,362; adaptive steps in turn
   with ``descent: 0.8``, 8 minutes (131 plans on a slower day) for 717,193 (README, Optimization benchmark). The
   goal allows 15 minutes; the default was 8 until a slower day (2026-12-02 evening: a flagship week at 26,000
   contacts per CPU-second against 47,000-67,000 on other days) gave 8 minutes only 43 plans, still far from the
   cheap plans; 13 minutes leave 2 for the confirmation and the machine's bad days. Descent also *swaps* (a dear
   headcount lower, a cheaper one of its shift that serves a target the dear one's trim missed higher) once the
   incumbent's trims are spent.
   The search judges feasibility against the targets with a safety margin (``--margin``, 0.075, on the
   every-interval target; ``--pooled-margin``, 0.01, on the others; levels capped at 100%): a plan whose mean
   over 6 replications just reaches 90% in its worst half-hour would rarely be *confirmed* at 90%, because the worst
   half-hour of one evening varies by about 8 points between replications, and the search's cheapest plans are
   fitted to its 6 seeds (the winner's curse: of many near-equal plans, those that pass are those its seeds
   favour). Only plans that clear the every-interval level by ``--confirm-margin`` (0.075) on the search's
   replications are candidates; the two are equal so that the plan descent trims, the cheapest feasible one in
   the search, is always a candidate. Measured on 2026-12-02: with 0.06 (and descent) the search's cheapest
   plans, 96-97% there, came out at 90.8-91.2% on fresh seeds (CI low 88.2-88.6%: four UNCERTAIN, no plan
   chosen); with 0.09 the first candidate was MET, 95.1-96.6% on fresh seeds. But at 0.09 the search asks for 99%
   in the worst half-hour, where a half-hour of about 90 sale chats allows one late chat: a trim is judged on
   whether one or two chats of 36 half-hours were late, the descent's incumbent is the plan its seeds favoured most,
   and every trim of it failed by about one chat (2026-12-03: its incumbent, 717,193 CNY/week at its levels and
   715,867 on the fresh replications, was its 115th plan; its next 99 plans found nothing cheaper). With 0.075
   (97.5%: two or three late chats) on 2026-12-03 the search reached 695,563 at its levels, its two cheapest
   candidates were UNCERTAIN on "email 100% in 24 h" in the confirmation, the third MET, and on the 50 fresh
   replications 94.3% (CI low 93.0%) in the worst half-hour: 702,814 CNY/week. Before descent the search used 0.03
   and 0.06. The pooled margin was 0.005 until two of three 8-minute runs on 2026-12-02 chose plans at 80.4-80.5% on
   "voice 80/20" over the 50 fresh replications (CI low 79.8-80.0%: UNCERTAIN); a replication's voice attainment
   varies by about 2 points, so 6 replications put the search's mean within about 0.9 of the plan's own.
   The candidates are confirmed against the real
   targets on ``--confirm-replications`` (30) replications on the optimizer's confirmation seed (space seed +
   10,000), cheapest first, up to ``--confirm-top`` (4): the first whose every target is MET is the optimized
   plan. It is then evaluated on the same 50 fresh replications as the Erlang plan.
3. **Reference** (``--reference-factor F``, e.g. 10): the same search continued (on a copy of the study) to F times
   as many distinct plans, confirmed and evaluated the same way; its result is saved (``--reference-out``) and can
   be loaded into a later run with ``--reference-json`` instead of searching again. ``--reference-budget-minutes``
   caps the continuation (the report gives the factor reached). ``--reuse-search JSON`` confirms and evaluates the
   studies an earlier run left in ``--out`` (baselines and search time from its JSON), without searching. The gap is
   ``(optimized - reference) / reference`` of the 50-replication mean costs.
4. **Report.** Trials (distinct plans), pruned share, wall time, replications run, both costs and target statuses,
   savings against the Erlang plan(s), the reference cost and the gap; printed and written with ``--json PATH``.

Goal (issue 8, point 8): the optimized plan meets every target on 50 fresh replications, costs at least 5% less per
week than the Erlang plan that meets them, is within 2% of the 10x longer search, in under 15 minutes on 2 cores.

Run: ``PYTHONPATH=. .venv/bin/python bench/optimize_flagship.py --json runs/bench-opt/result.json`` (about 16 minutes:
the 13-minute search plus the evaluations; add ``--reference-factor 10`` for the reference, 2 to 3 hours more);
``--trials 12 --budget-minutes 3 --eval-replications 6`` for a smoke run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # ccsim from the tree this file is in
    sys.path.insert(0, str(REPO))

SCENARIO = "ecommerce_24x7"
SPACE = REPO / "bench" / "flagship_space.yaml"
OBJECTIVE = "recurring_cost_per_week"
CONFIRM_SEED_OFFSET = 10_000  # as experiments.optimize.CONFIRM_SEED_OFFSET
SHRINKAGE_STEP = 0.05
SHRINKAGE_MAX = 0.7
SCREEN_REPLICATIONS = 10


def _log(message: str, t0: float) -> None:
    print(f"[{time.monotonic() - t0:7.1f} s] {message}", flush=True)


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate(scenario: Any, overrides: Mapping[str, Any] | None, *, seed: int, n: int, workers: int) -> dict[str, Any]:
    """Cost per week (mean, 95% CI half-width) and every target's status over ``n`` replications of a plan."""
    from experiments.overrides import apply_overrides
    from experiments.runner import run_experiment

    planned = apply_overrides(scenario, dict(overrides)) if overrides else scenario
    t = time.monotonic()
    result = run_experiment(planned, seed=seed, n_replications=n, workers=workers, progress=False)
    summary = result.summary.set_index(["metric", "scope"])
    cost = summary.loc[(OBJECTIVE, "all")]
    targets = {}
    for row in result.targets().itertuples():
        every = row.aggregation == "every_interval"
        targets[row.target] = {
            "level": row.level,
            "status": row.status,
            "judged_on": "worst interval" if every else "pooled",
            "mean": float(row.worst if every else row.mean),
            "ci_low": float(row.worst_ci_low if every else row.ci_low),
        }
    return {
        "cost_per_week": float(cost["mean"]),
        "cost_ci_half": float(cost["ci_half"]),
        "replications": n,
        "seed": seed,
        "targets": targets,
        "all_met": all(t["status"] in ("MET", "NO DATA") for t in targets.values()),
        "wall_s": round(time.monotonic() - t, 1),
    }


def _status_text(ev: Mapping[str, Any]) -> str:
    parts = [f"{name}: {t['mean']:.1%} (CI low {t['ci_low']:.1%}) {t['status']}" for name, t in ev["targets"].items()]
    return "; ".join(parts)


def _flat_staffing(staffing: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """``{group: {shift: n}}`` as per-shift override paths (the space's variables)."""
    return {f"groups.{g}.staffing.{s}": int(n) for g, counts in staffing.items() for s, n in counts.items()}


def erlang_baselines(scenario: Any, args: argparse.Namespace, t0: float) -> dict[str, Any]:
    """The Erlang plan and its evaluation; when it misses a target, the lowest shrinkage whose plan meets them all."""
    from experiments.erlang_plan import default_shrinkage, erlang_plan
    from experiments.overrides import apply_overrides
    from experiments.runner import run_experiment

    t = time.monotonic()
    plan = erlang_plan(scenario)
    _log(
        f"erlang plan: weekly pay {plan.weekly_cost:,.0f} (roster {plan.current_weekly_cost:,.0f}), "
        f"shrinkage {plan.shrinkage:.3f}, {time.monotonic() - t:.1f} s",
        t0,
    )
    ev = evaluate(scenario, plan.overrides(), seed=args.eval_seed, n=args.eval_replications, workers=args.workers)
    _log(f"erlang plan on {args.eval_replications} fresh reps: cost {ev['cost_per_week']:,.0f}; {_status_text(ev)}", t0)
    out: dict[str, Any] = {
        "erlang": {
            "shrinkage": plan.shrinkage,
            "weekly_pay": plan.weekly_cost,
            "overrides": _flat_staffing(plan.staffing),
            **ev,
        },
        "roster_weekly_pay": plan.current_weekly_cost,
    }
    if ev["all_met"] or args.no_erlang_scan:
        out["erlang_meeting"] = out["erlang"] if ev["all_met"] else None
        return out
    shrinkage = default_shrinkage(scenario)
    tried = []
    while True:
        shrinkage = round((math.floor(shrinkage / SHRINKAGE_STEP + 1e-9) + 1) * SHRINKAGE_STEP, 3)
        if shrinkage > SHRINKAGE_MAX:
            out["erlang_meeting"] = None
            break
        raised = erlang_plan(scenario, shrinkage=shrinkage)
        screen = run_experiment(
            apply_overrides(scenario, raised.overrides()),
            seed=args.eval_seed + 1,
            n_replications=SCREEN_REPLICATIONS,
            workers=args.workers,
            progress=False,
        ).targets()
        means = [
            (r.worst if r.aggregation == "every_interval" else r.mean) >= r.level - 1e-12 for r in screen.itertuples()
        ]
        tried.append({"shrinkage": shrinkage, "weekly_pay": raised.weekly_cost, "screen_passed": all(means)})
        _log(
            f"erlang --shrinkage {shrinkage}: pay {raised.weekly_cost:,.0f}, screen "
            f"{'passed' if all(means) else 'failed'}",
            t0,
        )
        if not all(means):
            continue
        full = evaluate(
            scenario, raised.overrides(), seed=args.eval_seed, n=args.eval_replications, workers=args.workers
        )
        _log(f"  on {args.eval_replications} fresh reps: cost {full['cost_per_week']:,.0f}; {_status_text(full)}", t0)
        tried[-1]["all_met"] = full["all_met"]
        if full["all_met"]:
            out["erlang_meeting"] = {
                "shrinkage": shrinkage,
                "weekly_pay": raised.weekly_cost,
                "overrides": _flat_staffing(raised.staffing),
                **full,
            }
            break
    out["erlang_shrinkage_scan"] = tried
    return out


# ------------------------------------------------------------------------------------------------ search


def search_scenario(scenario: Any, margin: float, pooled_margin: float) -> Any:
    """The scenario with every target's level raised by its margin (capped at 100%): what the search must reach."""
    targets = []
    for t in scenario.targets:
        extra = margin if t.aggregation == "every_interval" else pooled_margin
        targets.append(t.model_copy(update={"level": min(1.0, t.level + extra)}))
    return scenario.model_copy(update={"targets": targets})


class _OutOfTimeError(Exception):
    """Raised by the progress hook to end the search when the time budget is spent."""


@dataclasses.dataclass
class SearchOutcome:
    trials: Any  # the optimizer's trials table
    wall_s: float
    search_s: float
    confirm: list[dict[str, Any]]
    chosen: dict[str, Any] | None  # overrides


def _stats(trials: Any) -> dict[str, Any]:
    finished = trials[trials["state"].isin(["COMPLETE", "PRUNED"])]  # a study stopped mid-trial has a RUNNING one
    own = finished[~finished["note"].astype(str).str.startswith("same plan")]
    pruned = int((own["state"] == "PRUNED").sum())
    return {
        "trials": len(own),
        "optuna_trials": len(trials),
        "pruned": pruned,
        "pruned_share": pruned / len(own) if len(own) else math.nan,
        "complete": int((own["state"] == "COMPLETE").sum()),
        "feasible_in_search": int(own["feasible"].sum()),
        "replications_run": int(own["replications"].sum()),
    }


def run_search(
    scenario: Any,
    space: Any,
    out_dir: Path,
    *,
    start: Mapping[str, Any] | None,
    budget_s: float | None,
    max_plans: int | None,
    args: argparse.Namespace,
    t0: float,
    label: str,
    searched_s: float | None = None,
) -> SearchOutcome:
    """Search until the time budget (or ``max_plans``), then confirm the cheapest feasible plans on the real targets.

    The budget is kept by the progress hook: after each trial it estimates the time the confirmation will need
    (``--confirm-replications`` x 1.5 plans at the search's pace per replication) and, when the next trial would
    not fit, ends ``study.optimize`` by raising; every finished trial is in the study, which a second call (asking
    for no more plans than it has) reads back as the trials table.
    """
    import re

    from experiments.optimize import optimize

    searched = search_scenario(scenario, args.margin, args.pooled_margin)
    log_file = (out_dir / "trials.log").open("a", encoding="utf-8")
    t_start = time.monotonic()
    counts = {"plans": 0, "reps": 0, "pruned": 0, "lines": 0}

    def on_trial(line: str) -> None:
        log_file.write(f"[{time.monotonic() - t_start:7.1f} s] {line}\n")
        log_file.flush()
        counts["lines"] += 1
        if "(same plan as trial" not in line:
            counts["plans"] += 1
            reps = re.search(r" after (\d+) reps", line)
            counts["reps"] += int(reps.group(1)) if reps else 0
            counts["pruned"] += " pruned after " in line
        elapsed = time.monotonic() - t_start
        if counts["lines"] % args.progress_every == 0:
            _log(
                f"{label}: {counts['plans']} plans, {counts['pruned']} pruned, {counts['reps']} reps, {elapsed:.0f} s",
                t0,
            )
        if budget_s is not None and counts["plans"]:
            per_rep = elapsed / max(1, counts["reps"])
            per_plan = elapsed / counts["plans"]
            reserve = per_rep * args.confirm_replications * 1.5 + 5  # about 1.5 plans confirmed
            if elapsed + per_plan + reserve > budget_s:
                raise _OutOfTimeError

    wanted = max_plans if max_plans is not None else 1_000_000
    with contextlib.suppress(_OutOfTimeError):
        if searched_s is not None:  # --reuse-search: the study was searched by an earlier run
            raise _OutOfTimeError
        optimize(
            searched,
            dataclasses.replace(space, trials=wanted),
            out_dir=out_dir,
            start=start,
            confirm_top=0,
            workers=args.workers,
            on_trial=on_trial,
        )
    search_s = time.monotonic() - t_start if searched_s is None else searched_s
    result = optimize(  # no new trial: the study already has these plans; this reads the trials table back
        searched,
        dataclasses.replace(space, trials=max(1, counts["plans"])),
        out_dir=out_dir,
        confirm_top=0,
        workers=1,
    )
    trials = result.trials
    st = _stats(trials)
    _log(
        f"{label}: {st['trials']} plans ({st['pruned']} pruned, {st['feasible_in_search']} feasible at the search "
        f"levels), {st['replications_run']} reps, {search_s:.0f} s; cheapest feasible {_best_cost(trials):,.0f}",
        t0,
    )
    log_file.close()
    confirm, chosen = confirm_cheapest(scenario, space, trials, args, t0, label)
    confirm_s = time.monotonic() - t_start - (0.0 if searched_s is not None else search_s)
    return SearchOutcome(trials, search_s + confirm_s, search_s, confirm, chosen)


def _best_cost(trials: Any) -> float:
    feasible = trials[trials["feasible"]]
    return float(feasible["cost"].min()) if len(feasible) else math.nan


def _overrides_of(row: Any, space: Any) -> dict[str, Any]:
    return {v.path: v.value_of(row[v.path]) for v in space.variables}


def confirm_cheapest(
    scenario: Any, space: Any, trials: Any, args: argparse.Namespace, t0: float, label: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Cheapest first, up to ``--confirm-top`` distinct feasible plans on the confirmation seed; the first MET wins.

    Candidates are the plans feasible at the search levels whose every-interval targets also clear their level by
    ``--confirm-margin`` on the search's replications: the search's cheapest plans are fitted to its few seeds.
    """
    feasible = trials[trials["feasible"]].sort_values(["cost", "trial"], kind="stable")
    for t in scenario.targets:
        if t.aggregation == "every_interval":
            feasible = feasible[feasible[t.name] >= t.level + args.confirm_margin - 1e-12]
    seen, rows = set(), []
    for _, row in feasible.iterrows():
        overrides = _overrides_of(row, space)
        key = json.dumps(overrides, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        ev = evaluate(
            scenario,
            overrides,
            seed=space.seed + CONFIRM_SEED_OFFSET,
            n=args.confirm_replications,
            workers=args.workers,
        )
        rows.append({"trial": int(row["trial"]), "search_cost": float(row["cost"]), **ev, "overrides": overrides})
        _log(
            f"{label}: confirm trial {int(row['trial'])} (cost {ev['cost_per_week']:,.0f}): "
            f"{'every target MET' if ev['all_met'] else _status_text(ev)}",
            t0,
        )
        if ev["all_met"]:
            return rows, overrides
        if len(rows) >= args.confirm_top:
            break
    return rows, None


def search_report(outcome: SearchOutcome, scenario: Any, args: argparse.Namespace, t0: float, label: str) -> dict:
    stats = _stats(outcome.trials)
    out: dict[str, Any] = {
        **stats,
        "search_wall_s": round(outcome.search_s, 1),
        "wall_s": round(outcome.wall_s, 1),
        "best_cost_in_search": _best_cost(outcome.trials),
        "confirmed": [{k: v for k, v in r.items() if k != "targets"} for r in outcome.confirm],
        "chosen": outcome.chosen,
        "evaluation": None,
    }
    if outcome.chosen is not None:
        ev = evaluate(scenario, outcome.chosen, seed=args.eval_seed, n=args.eval_replications, workers=args.workers)
        _log(
            f"{label} plan on {args.eval_replications} fresh reps: cost {ev['cost_per_week']:,.0f}; {_status_text(ev)}",
            t0,
        )
        out["evaluation"] = ev
    return out


# ------------------------------------------------------------------------------------------------ main


def _pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or not old:
        return None
    return 100.0 * (new - old) / old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-minutes", type=float, default=13.0, help="wall time of search + confirmation")
    parser.add_argument("--trials", type=int, help="stop after this many distinct plans instead (no time budget)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--space", default=str(SPACE))
    parser.add_argument("--out", default="runs/bench-optimize-flagship", help="folder of the studies and logs")
    parser.add_argument("--eval-replications", type=int, default=50)
    parser.add_argument("--eval-seed", type=int, default=30_001)
    parser.add_argument("--confirm-replications", type=int, default=30)
    parser.add_argument("--confirm-top", type=int, default=4)
    parser.add_argument(
        "--margin",
        type=float,
        default=0.075,
        help="added to every-interval levels in the search (= --confirm-margin: descent's plan stays a candidate)",
    )
    parser.add_argument(
        "--confirm-margin",
        type=float,
        default=0.075,
        help="every-interval margin a plan needs in the search to be confirmed",
    )
    parser.add_argument(
        "--reuse-search",
        metavar="JSON",
        help="confirm and evaluate the studies an earlier run left in --out (its JSON gives the baselines and times)",
    )
    parser.add_argument("--pooled-margin", type=float, default=0.01, help="added to the other levels in the search")
    parser.add_argument("--progress-every", type=int, default=10, help="print progress every N trials")
    parser.add_argument("--no-erlang-scan", action="store_true", help="do not raise the Erlang plan's shrinkage")
    parser.add_argument("--reference-factor", type=float, default=0.0, help="continue the search to F x the plans")
    parser.add_argument(
        "--reference-budget-minutes",
        type=float,
        help="stop the reference's continuation after this long (it reports the factor reached)",
    )
    parser.add_argument("--reference-out", help="write the reference result here (default OUT/reference.json)")
    parser.add_argument("--reference-json", help="load a reference result written by an earlier run")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args(argv)

    from experiments.scenario_files import load_scenario
    from experiments.space import read_space

    t0 = time.monotonic()
    out = Path(args.out)
    previous = json.loads(Path(args.reuse_search).read_text(encoding="utf-8")) if args.reuse_search else None
    if previous is None:
        if (out / "search").exists():
            shutil.rmtree(out / "search")  # a fresh study: the benchmark measures a search from scratch
        (out / "search").mkdir(parents=True)
    scenario, _ = load_scenario(SCENARIO)
    space = read_space(args.space)
    _log(
        f"{SCENARIO}: {len(space.variables)} variables, {space.replications} replications per trial, "
        f"{args.workers} workers",
        t0,
    )

    report: dict[str, Any] = {
        "scenario": SCENARIO,
        "space": str(Path(args.space).resolve().relative_to(REPO))
        if Path(args.space).resolve().is_relative_to(REPO)
        else args.space,
        "variables": len(space.variables),
        "replications_per_trial": space.replications,
        "workers": args.workers,
        "budget_minutes": None if args.trials else args.budget_minutes,
        "max_trials": args.trials,
        "margin": args.margin,
        "confirm_margin": args.confirm_margin,
        "pooled_margin": args.pooled_margin,
        "eval_replications": args.eval_replications,
        "eval_seed": args.eval_seed,
        "confirm_replications": args.confirm_replications,
        "load_average_at_start": os.getloadavg(),
    }
    if previous is not None:
        report["reused_from"] = args.reuse_search
        for key in ("roster", "erlang", "erlang_meeting", "erlang_shrinkage_scan", "roster_weekly_pay"):
            report[key] = previous.get(key)
    roster = report.get("roster") or evaluate(
        scenario, None, seed=args.eval_seed, n=args.eval_replications, workers=args.workers
    )
    _log(
        f"current roster on {args.eval_replications} fresh reps: cost {roster['cost_per_week']:,.0f}; "
        f"{_status_text(roster)}",
        t0,
    )
    report["roster"] = roster
    if previous is None:
        report.update(erlang_baselines(scenario, args, t0))
    # Warm start: the Erlang plan's headcounts with the scenario's own bot scope and authority limits.
    start = dict(report["erlang"]["overrides"])
    start["policies.deflection"] = scenario.policies.deflection.model_dump(mode="json", exclude_defaults=True)
    for v in space.variables:
        if v.path.startswith("policies.empowerment.params.limits."):
            start[v.path] = scenario.policies.empowerment.params["limits"][v.path.rsplit(".", 1)[-1]]

    budget_s = None if args.trials else args.budget_minutes * 60.0
    outcome = run_search(
        scenario,
        space,
        out / "search",
        start=start,
        budget_s=budget_s,
        max_plans=args.trials,
        args=args,
        t0=t0,
        label="search",
        searched_s=previous["search"]["search_wall_s"] if previous else None,
    )
    report["search"] = search_report(outcome, scenario, args, t0, "optimized")

    report["load_average_after_search"] = os.getloadavg()
    _finish(report, None, args, t0)  # written now, rewritten with the reference when one is run
    print(summary_text(report), flush=True)
    reference = None
    if args.reference_json:
        reference = json.loads(Path(args.reference_json).read_text(encoding="utf-8"))
        _log(f"reference loaded from {args.reference_json}", t0)
    elif args.reference_factor > 1 and previous is not None and (out / "reference" / "study.db").exists():
        # --reuse-search: the reference study an earlier run continued (perhaps stopped early); its continuation
        # time is the last timestamp of its trial log.
        ref_dir = out / "reference"
        last = (ref_dir / "trials.log").read_text(encoding="utf-8").strip().splitlines()[-1]
        ref_outcome = run_search(
            scenario,
            space,
            ref_dir,
            start=start,
            budget_s=None,
            max_plans=None,
            args=args,
            t0=t0,
            label="reference",
            searched_s=float(last[1 : last.index(" s]")]),
        )
        reference = {
            "factor": args.reference_factor,
            "factor_reached": _stats(ref_outcome.trials)["trials"] / max(1, report["search"]["trials"]),
            "continues_the_search": True,
            **search_report(ref_outcome, scenario, args, t0, "reference"),
        }
        (out / "reference.json").write_text(json.dumps(reference, indent=2, default=str), encoding="utf-8")
    elif args.reference_factor > 1:
        ref_dir = out / "reference"
        if ref_dir.exists():
            shutil.rmtree(ref_dir)
        ref_dir.mkdir(parents=True)
        shutil.copy2(out / "search" / "study.db", ref_dir / "study.db")  # the same search, continued
        shutil.copy2(out / "search" / "trials.log", ref_dir / "trials.log")
        target = round(args.reference_factor * report["search"]["trials"])
        ref_outcome = run_search(
            scenario,
            space,
            ref_dir,
            start=start,
            budget_s=args.reference_budget_minutes * 60 if args.reference_budget_minutes else None,
            max_plans=target,
            args=args,
            t0=t0,
            label="reference",
        )
        reference = {
            "factor": args.reference_factor,
            "factor_reached": _stats(ref_outcome.trials)["trials"] / max(1, report["search"]["trials"]),
            "continues_the_search": True,
            **search_report(ref_outcome, scenario, args, t0, "reference"),
        }
        # The reference's wall time is that of the continuation; the search's own part was timed above.
        ref_path = Path(args.reference_out) if args.reference_out else out / "reference.json"
        ref_path.write_text(json.dumps(reference, indent=2, default=str), encoding="utf-8")
        _log(f"reference written to {ref_path}", t0)
    _finish(report, reference, args, t0)
    print(summary_text(report))
    return 0


def _finish(report: dict[str, Any], reference: Mapping[str, Any] | None, args: argparse.Namespace, t0: float) -> None:
    """Savings, gap and goal into ``report``; written to ``--json``."""
    report["reference"] = reference

    opt_ev = report["search"]["evaluation"]
    opt_cost = opt_ev["cost_per_week"] if opt_ev else None
    erl_cost = report["erlang"]["cost_per_week"]
    meeting = report.get("erlang_meeting")
    meet_cost = meeting["cost_per_week"] if meeting else None
    ref_ev = reference.get("evaluation") if reference else None
    ref_cost = ref_ev["cost_per_week"] if ref_ev else None
    report["savings_vs_erlang_pct"] = None if opt_cost is None else -_pct(opt_cost, erl_cost)
    report["savings_vs_erlang_meeting_pct"] = (
        None if opt_cost is None or meet_cost is None else -_pct(opt_cost, meet_cost)
    )
    report["gap_to_reference_pct"] = _pct(opt_cost, ref_cost)
    report["total_wall_s"] = round(time.monotonic() - t0, 1)
    baseline_saving = (
        report["savings_vs_erlang_meeting_pct"]
        if report["savings_vs_erlang_meeting_pct"] is not None
        else report["savings_vs_erlang_pct"]
    )
    report["goal"] = {
        "meets_every_target_on_fresh_replications": bool(opt_ev and opt_ev["all_met"]),
        "at_least_5pct_cheaper_than_erlang": baseline_saving is not None and baseline_saving >= 5.0,
        "within_2pct_of_reference": None
        if ref_cost is None or opt_cost is None
        else report["gap_to_reference_pct"] <= 2.0,
        "under_15_minutes": report["search"]["wall_s"] < 15 * 60,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


def summary_text(r: Mapping[str, Any]) -> str:
    def cost(ev: Mapping[str, Any] | None) -> str:
        if not ev:
            return "–"
        met = (
            "every target MET"
            if ev["all_met"]
            else "NOT every target MET: "
            + ", ".join(f"{n} {t['status']}" for n, t in ev["targets"].items() if t["status"] not in ("MET", "NO DATA"))
        )
        return f"{ev['cost_per_week']:,.0f} ± {ev['cost_ci_half']:,.0f} per week ({met})"

    s = r["search"]
    lines = [
        "",
        f"Optimization benchmark: {r['scenario']}, {r['variables']} variables, {r['replications_per_trial']} "
        f"replications per trial, {r['workers']} workers; evaluations on {r['eval_replications']} fresh "
        f"replications (seed {r['eval_seed']})",
        f"  current roster:          {cost(r['roster'])}",
        f"  ccsim erlang plan:       {cost(r['erlang'])}",
    ]
    meeting = r.get("erlang_meeting")
    if meeting is not r["erlang"] and meeting:
        lines.append(f"  erlang, shrinkage {meeting['shrinkage']:.2f}: {cost(meeting)}")
    lines += [
        f"  search: {s['trials']} trials (distinct plans), {s['pruned']} pruned ({s['pruned_share']:.0%}), "
        f"{s['replications_run']} replications; search {s['search_wall_s']:.0f} s + confirmation = "
        f"{s['wall_s']:.0f} s wall ({s['wall_s'] / 60:.1f} min)",
        f"  optimized plan:          {cost(s['evaluation'])}",
    ]
    if r["savings_vs_erlang_pct"] is not None:
        lines.append(
            f"  savings vs the erlang plan: {r['savings_vs_erlang_pct']:.1f}%"
            + (
                f"; vs the erlang plan that meets every target: {r['savings_vs_erlang_meeting_pct']:.1f}%"
                if r["savings_vs_erlang_meeting_pct"] is not None
                else ""
            )
        )
    ref = r.get("reference")
    if ref:
        lines.append(
            f"  reference ({ref.get('factor_reached', ref.get('factor')):.1f}x: {ref['trials']} trials, "
            f"{ref['pruned_share']:.0%} pruned, continuation {ref['wall_s']:.0f} s): {cost(ref.get('evaluation'))}"
        )
        if r["gap_to_reference_pct"] is not None:
            lines.append(f"  gap optimized vs reference: {r['gap_to_reference_pct']:+.2f}%")
    lines.append("  goal: " + ", ".join(f"{k} {v}" for k, v in r["goal"].items()))
    lines.append(f"  total wall time of this script: {r['total_wall_s']:.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
