"""``ccsim calibrate``: fit a scenario from a call log and write it with a report and figures.

:func:`calibrate` reads the log through a mapping, fits every piece (:mod:`experiments.calibration.fit`), and
:func:`write_calibration` writes, into the scenario file's folder:

* the scenario (YAML, the schema of ``docs/calibration.md``): replayed arrivals, fitted handle times and
  patience, a staffing table per group from the agents seen working, and the availability factor;
* ``<stem>.replay.parquet``: the log's rows in file order (so ``source_row`` is the row of the original log)
  with the fields the replay needs, already mapped, and the queue arrival time (the IVR exit);
* ``<stem>.report.json`` and ``<stem>.report.md`` with every fitted number, and PNG figures.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.calibration.fit import (
    MIN_ABANDONS,
    ArrivalFit,
    DistFit,
    PatienceFit,
    StaffingFit,
    fit_arrivals,
    fit_handle,
    fit_patience,
    fit_patience_windows,
    fit_staffing,
)
from experiments.calibration.mapping import CalibrationInputError, CalibrationMapping, CallLog, read_calls

__all__ = [
    "KM_GAP_MAX",
    "Calibration",
    "calibrate",
    "patience_choice",
    "refine_capacity",
    "staffing_table",
    "write_calibration",
    "write_replay_log",
]

KM_GAP_MAX = 0.05
"""Largest gap between a parametric patience survival and Kaplan-Meier for the parametric fit to be written;
beyond it the scenario gets the Kaplan-Meier curve itself as a ``survival`` table."""


@dataclass
class Calibration:
    """Everything :func:`calibrate` fitted, plus the call log it fitted from."""

    mapping: CalibrationMapping
    log: CallLog
    start: pd.Timestamp
    end: pd.Timestamp
    arrivals: list[ArrivalFit]
    handle: dict[str, list[DistFit]]
    patience: dict[tuple[str | None, str | None], PatienceFit]
    staffing: StaffingFit
    patience_windows: dict[tuple[str, str, tuple[float, float]], PatienceFit] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def calibrate(
    log_path: str | os.PathLike[str],
    mapping: CalibrationMapping,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> Calibration:
    """Read a log and fit arrivals, handle times, patience and staffing.

    Args:
        log_path: The call log.
        mapping: What its columns mean.
        start: First date (inclusive) of the calls to fit on (default: the first call).
        end: Last date (exclusive) (default: the day after the last call).
    """
    s = pd.Timestamp(start) if start is not None else None
    e = pd.Timestamp(end) if end is not None else None
    log = read_calls(log_path, mapping, start=s, end=e)
    calls = log.calls
    if calls.empty:
        raise CalibrationInputError(f"{log_path}: no agent-seeking calls in the window {start} .. {end}")
    first = calls["date"].min() if s is None else s.normalize()
    last = calls["date"].max() + pd.Timedelta(days=1) if e is None else e.normalize()
    notes = []
    long_talk = int((calls["talk_s"] > 4 * 3600).sum())
    if long_talk:
        notes.append(f"{long_talk} talk time(s) over 4 h left out of the handle-time fits (replayed as logged)")
    return Calibration(
        mapping=mapping, log=log, start=first, end=last,
        arrivals=fit_arrivals(calls, mapping), handle=fit_handle(calls), patience=fit_patience(calls),
        staffing=fit_staffing(calls, mapping), notes=notes,
        patience_windows=fit_patience_windows(calls, list(mapping.patience_windows)),
    )  # fmt: skip


def patience_choice(fit: PatienceFit) -> tuple[dict[str, Any], str]:
    """The patience written for a cell, and why.

    The best-AIC parametric fit if it stays within :data:`KM_GAP_MAX` of Kaplan-Meier, else the Kaplan-Meier
    survival table.
    """
    if fit.fits and fit.fits[0].ks <= KM_GAP_MAX:
        best = fit.fits[0]
        return best.scenario(), f"{best.dist} (best AIC; gap to Kaplan-Meier {best.ks:.3f})"
    gap = fit.fits[0].ks if fit.fits else math.nan
    return fit.survival_table(), f"Kaplan-Meier table (best parametric gap {gap:.3f} > {KM_GAP_MAX})"


def staffing_table(staffing: StaffingFit, group: str, interval_s: float) -> dict[str, Any]:
    """A group's ``staffing_table``: agents on duty per interval (only intervals with agents are listed).

    With an hourly availability profile (``availability_by: hour``) the agents are the on-duty headcount times
    the profile of the interval's hour (at most 1), so the table's ``availability`` stays one factor per group.
    """
    rows = staffing.table[(staffing.table["group"] == group) & (staffing.table["present"] > 0)]
    prof = staffing.profile.get(group)
    pairs = zip(rows["start"], rows["present"], strict=True)
    agents = {t.strftime("%Y-%m-%dT%H:%M"): round(float(n) * (prof[t.hour] if prof else 1.0), 3) for t, n in pairs}
    return {
        "interval": f"{interval_s / 60:g}min",
        "availability": round(staffing.availability[group], 4),
        "agents": agents,
    }


def _skills(staffing: StaffingFit) -> dict[str, list[str]]:
    """Skills of the groups that have agents; every served intent is in at least one group."""
    staffed = {g for g, n in staffing.table.groupby("group")["present"].sum().items() if n > 0}
    return {g: skills for g, skills in staffing.skills.items() if g in staffed}


def _hhmm(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def scenario_dict(cal: Calibration, *, replay_path: str, name: str) -> dict[str, Any]:
    """The calibrated scenario as a YAML-ready dict."""
    m = cal.mapping
    calls = cal.log.calls
    intents = sorted(calls["intent"].unique())
    pooled = cal.patience[(None, None)]
    channel_patience, _ = patience_choice(pooled)
    intent_section: dict[str, Any] = {}
    for intent in intents:
        entry: dict[str, Any] = {}
        fits = cal.handle.get(intent)
        entry["handle"] = fits[0].scenario() if fits else {"dist": "exponential", "mean": "180s"}
        own = cal.patience.get((intent, None))
        if own is not None and own.n_abandoned >= MIN_ABANDONS:
            entry["patience"] = patience_choice(own)[0]
        rules = []
        for (w_intent, prio, (lo, hi)), cell in cal.patience_windows.items():
            if w_intent == intent:
                rule = {"priority": prio, "from": _hhmm(lo), "to": _hhmm(hi), "patience": patience_choice(cell)[0]}
                rules.append(rule)
        for prio in ("urgent", "normal"):
            cell = cal.patience.get((intent, prio))
            if cell is not None:
                rules.append({"priority": prio, "patience": patience_choice(cell)[0]})
        if rules:
            entry["patience_by"] = rules
        intent_section[intent] = entry
    languages = sorted(x for x in calls["language"].unique() if x) or ["en"]
    shares = calls["language"].replace("", languages[0]).value_counts(normalize=True)
    groups = {}
    for group, skills in _skills(cal.staffing).items():
        groups[group] = {
            "channels": [m.channel],
            "skills": {i: 1.0 for i in skills if i in intents},
            "languages": languages,
            "staffing": {},
            "staffing_table": staffing_table(cal.staffing, group, m.interval),
        }
    columns = {"arrival": "queue_arrival", "intent": "intent", "priority": "priority", "handle": "talk_s"}
    if m.columns.language:
        columns["language"] = "language"
    if m.columns.customer:
        columns["customer"] = "customer"
    horizon_days = (cal.end - cal.start).days
    scenario: dict[str, Any] = {
        "name": name,
        "description": (
            f"Calibrated from {cal.log.path.name} ({cal.start.date()} .. {(cal.end - pd.Timedelta(days=1)).date()})"
            " by ccsim calibrate"
        ),
        "start": cal.start.strftime("%Y-%m-%dT%H:%M"),
        "horizon": f"{horizon_days}d",
        "warmup": "0s",
        "channels": {m.channel: {"kind": "live", "patience": channel_patience}},
        "intents": intent_section,
        "customers": {"languages": {str(k): round(float(v), 6) for k, v in shares.items() if v > 0}},
        "arrivals": {
            "kind": "replay",
            "path": replay_path,
            "columns": columns,
            "defaults": {"channel": m.channel},
            "drop": {"keep": ["0"]},
            "passthrough": list(m.passthrough),
        },
        "groups": groups,
        "reporting": {"interval": f"{m.interval / 60:g}min", "sl_thresholds": ["20s", "60s"]},
    }
    if m.priority_head_start is not None:
        scenario["policies"] = {
            "routing": {
                "name": "priority",
                "params": {"urgent_boost": f"{m.priority_head_start:g}s", "vip_boost": "0s"},
            }
        }
    return scenario


def write_replay_log(log: CallLog, path: Path, *, passthrough: list[str]) -> None:
    """Write every row of the original log, in file order, with the replay fields already mapped.

    Rows that are not replayed (skipped or bad) keep their place with ``keep = "0"``, so the replay's
    ``source_row`` is the row number in the original log.
    """
    calls = log.calls
    n = log.rows_read
    out = pd.DataFrame({"keep": np.full(n, "0", dtype=object)})
    for col in ("queue_arrival", "intent", "priority", "language", "talk_s", "customer", *passthrough):
        out[col] = ""
    rows = calls["source_row"].to_numpy()
    out.loc[rows, "keep"] = "1"
    out.loc[rows, "queue_arrival"] = calls["queue_arrival"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy()
    out.loc[rows, "intent"] = calls["intent"].to_numpy()
    out.loc[rows, "priority"] = calls["priority"].to_numpy()
    out.loc[rows, "language"] = calls["language"].to_numpy()
    out.loc[rows, "talk_s"] = calls["talk_s"].map(lambda x: "" if pd.isna(x) else f"{x:g}").to_numpy()
    out.loc[rows, "customer"] = calls["customer"].to_numpy()
    for c in passthrough:
        out.loc[rows, c] = calls[f"log_{c}"].astype(str).to_numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    out.astype(str).to_parquet(tmp, index=False, write_page_checksum=True)
    os.replace(tmp, path)


def report_dict(cal: Calibration) -> dict[str, Any]:
    """Every fitted number (JSON-ready)."""
    st = cal.staffing
    seen = st.table[st.table["present"] > 0].groupby("group")["present"]
    return {
        "log": str(cal.log.path),
        "window": [str(cal.start.date()), str((cal.end - pd.Timedelta(days=1)).date())],
        "rows_read": cal.log.rows_read,
        "calls": len(cal.log.calls),
        "skipped": cal.log.skipped,
        "bad_rows": [str(b) for b in cal.log.bad],
        "notes": cal.notes,
        "arrivals": [
            {"day_type": a.day_type, "days": a.n_days, "daily_mean": a.daily_mean, "daily_std": a.daily_std,
             "busyness_cv": a.busyness_cv, "peak_interval_mean": max(a.profile), "intent_mix": a.intent_mix}
            for a in cal.arrivals
        ],
        "handle": {i: [f.summary() for f in fits] for i, fits in cal.handle.items()},
        "patience": [
            {**p.summary(), "written": patience_choice(p)[1]} for p in cal.patience.values()
        ],
        "patience_windows": [
            {**p.summary(), "window": [_hhmm(lo), _hhmm(hi)], "written": patience_choice(p)[1]}
            for (_, _, (lo, hi)), p in cal.patience_windows.items()
        ],
        "staffing": {
            g: {"availability": st.availability[g], "congested_intervals": st.congested[g],
                "agents": sorted(a for a, gg in st.agent_group.items() if gg == g),
                "skills": st.skills[g], "intervals_staffed": int(seen.size().get(g, 0)),
                "mean_present_when_staffed": float(seen.mean().get(g, 0.0)),
                "max_present": float(seen.max().get(g, 0))}
            for g in cal.mapping.groups
        },
    }


def _md(report: dict[str, Any], figures: list[str]) -> str:
    lines = [f"# Calibration report: {Path(report['log']).name}", ""]
    lines.append(f"Window {report['window'][0]} .. {report['window'][1]}; {report['rows_read']} rows read, "
                 f"{report['calls']} agent-seeking calls used.")
    lines.append(f"Skipped (counted, on purpose): {report['skipped']}.")
    if report["bad_rows"]:
        lines.append("Bad rows skipped (on_bad: skip):")
        lines += [f"- {b}" for b in report["bad_rows"]]
    lines += [f"- {n}" for n in report["notes"]]
    lines += ["", "## Arrivals (calls reaching the agent queue)", "",
              "| day type | days | calls/day mean | std | busyness CV | peak calls/interval |",
              "|---|---|---|---|---|---|"]
    for a in report["arrivals"]:
        lines.append(f"| {a['day_type']} | {a['days']} | {a['daily_mean']:.1f} | {a['daily_std']:.1f} | "
                     f"{a['busyness_cv']:.3f} | {a['peak_interval_mean']:.1f} |")
    lines += ["", "## Handle (talk) time per intent, candidates by KS distance", "",
              "| intent | best | mean (s) | CV | KS | runner-up (KS) |", "|---|---|---|---|---|---|"]
    for intent, fits in report["handle"].items():
        b = fits[0]
        other = ", ".join(f"{f['dist']} ({f['ks']:.3f})" for f in fits[1:])
        lines.append(f"| {intent} | {b['dist']} | {b['mean_s']:.1f} | {b['cv']:.2f} | {b['ks']:.3f} | {other} |")
    lines += ["", "## Patience from censored waits (calls that waited; served calls right-censored)", "",
              "| intent | priority | waited | abandoned | exp. mean (s) [95% CI] | KM median (s) | best AIC fit "
              "(mean s, CV, gap to KM) | written |", "|---|---|---|---|---|---|---|---|"]
    for p in report["patience"]:
        best = p["fits"][0] if p["fits"] else None
        bf = f"{best['dist']} ({best['mean_s']:.0f}, {best['cv']:.2f}, {best['ks']:.3f})" if best else "-"
        lo, hi = p["exponential_mean_ci95_s"]
        med = "-" if p["km_median_s"] is None else f"{p['km_median_s']:.0f}"
        lines.append(f"| {p['intent'] or 'all'} | {p['priority'] or 'all'} | {p['n_waited']} | {p['n_abandoned']} | "
                     f"{p['exponential_mean_s']:.0f} [{lo:.0f}, {hi:.0f}] | {med} | {bf} | {p['written']} |")
    if report.get("patience_windows"):
        lines += ["", "Patience by time of day (rules tried before the priority-only ones):", "",
                  "| intent | priority | window | waited | abandoned | exp. mean (s) | written |",
                  "|---|---|---|---|---|---|---|"]
        for p in report["patience_windows"]:
            lines.append(f"| {p['intent']} | {p['priority']} | {p['window'][0]}-{p['window'][1]} | {p['n_waited']} | "
                         f"{p['n_abandoned']} | {p['exponential_mean_s']:.0f} | {p['written']} |")
    lines += ["", "## Staffing (agents on duty per interval, from service spans) and availability", "",
              "| group | agents | skills | intervals staffed | mean on duty | max on duty | congested intervals | "
              "availability |", "|---|---|---|---|---|---|---|---|"]
    for g, s in report["staffing"].items():
        lines.append(f"| {g} | {len(s['agents'])} | {', '.join(s['skills'])} | {s['intervals_staffed']} | "
                     f"{s['mean_present_when_staffed']:.2f} | {s['max_present']:.2f} | {s['congested_intervals']} | "
                     f"{s['availability']:.3f} |")
    if report.get("availability_refinement"):
        lines += ["", "Capacity refined by simulating the calibration window (answered calls, simulated vs log):", ""]
        for h in report["availability_refinement"]:
            knobs = ", ".join(f"{k} {v:.4g}" for k, v in h["knobs"].items())
            answered = ", ".join(
                f"{g} {h['answered_sim'][g]:.0f} vs {h['answered_log'][g]:.0f}" for g in h["answered_sim"]
            )
            lines.append(f"- {knobs}: answered {answered}")
    if figures:
        lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"


def _simulated_answered(scenario: dict[str, Any], base_dir: Path, groups: list[str], replications: int,
                        seed: int, cache: dict[str, Any]) -> dict[str, float]:
    from experiments.replay import load_replay_log
    from experiments.runner import simulate_scenario
    from experiments.scenario_files import scenario_from_dict

    sc = scenario_from_dict(json.loads(json.dumps(scenario)), label="calibration window")
    if "replay" not in cache:
        cache["replay"] = load_replay_log(sc, base_dir)
    sums = dict.fromkeys(groups, 0.0)
    for r in range(replications):
        c = simulate_scenario(sc, seed=seed, replication=r, log=True, replay=cache["replay"]).contacts
        counts = c.loc[c["outcome"] == "served", "group"].value_counts()
        for g in groups:
            sums[g] += float(counts.get(g, 0)) / replications
    return sums


def _secant(x: float, gap: float, prev: tuple[float, float] | None, target: float, sim: float,
            increasing: bool, lo: float, hi: float) -> float:
    """Next value of a knob so that ``gap = sim - target`` goes to 0; the first step scales by the ratio."""
    if prev is not None and prev[1] != gap and prev[0] != x:
        slope = (gap - prev[1]) / (x - prev[0])
        if (slope > 0) == increasing and slope != 0:
            return float(min(hi, max(lo, x - gap / slope)))
    ratio = target / max(sim, 1.0)
    step = x * ratio if increasing else (x + 60.0) / ratio - 60.0
    return float(min(hi, max(lo, step)))


def refine_capacity(
    cal: Calibration, scenario: dict[str, Any], base_dir: Path, *, replications: int = 2, max_evals: int = 5,
    tol: float = 0.002, seed: int = 12345,
) -> list[dict[str, Any]]:
    """Adjust the capacity knob until the simulated answered calls match the log's, on the calibration window.

    The knob is each group's availability (``capacity_loss: availability``) or the channel's fixed wrap-up time
    (``capacity_loss: wrap_up``, all groups at availability 1). The first estimate (talk time / on-duty time in
    congested intervals) is biased: even a congested interval has moments with an empty queue, when an available
    agent is idle. So the knob is refined by simulating the calibration window itself (``replications`` runs on
    a seed of their own, common to every evaluation) and solving ``answered_sim = answered_log`` (per group for
    availability, in total for wrap-up) by secant steps (the first step scales by the ratio), until the relative
    gap is under ``tol`` or ``max_evals`` evaluations are spent; the best evaluation is kept. Only the totals of
    the calibration window are used, never a window a backtest checks.

    Returns:
        One record per evaluation: the knob values, simulated and actual answered calls.
    """
    calls = cal.log.calls
    groups = list(scenario["groups"])
    actual = calls.loc[calls["server"] != "", "server"].map(cal.staffing.agent_group).value_counts()
    # served calls with no agent name (the Technion log has 4,510) are shared out like the named ones
    scale = float(calls["served"].sum()) / max(float(actual.sum()), 1.0)
    target = {g: float(actual.get(g, 0)) * scale for g in groups}
    channel = cal.mapping.channel
    wrap = cal.mapping.capacity_loss == "wrap_up"
    if wrap:
        a0 = float(np.mean([cal.staffing.availability[g] for g in groups]))
        talk = float(calls["talk_s"].mean())
        knobs = {"wrap_up_s": talk * (1.0 / a0 - 1.0)}
        for g in groups:
            scenario["groups"][g]["staffing_table"]["availability"] = 1.0
    else:
        knobs = {g: float(scenario["groups"][g]["staffing_table"]["availability"]) for g in groups}

    def apply(k: dict[str, float]) -> None:
        if wrap:
            scenario["channels"][channel]["wrap_up"] = {"dist": "fixed", "value": f"{k['wrap_up_s']:.1f}s"}
        else:
            for g in groups:
                scenario["groups"][g]["staffing_table"]["availability"] = round(k[g], 4)

    history: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    prev: dict[str, tuple[float, float]] = {}
    for _ in range(max_evals):
        apply(knobs)
        sums = _simulated_answered(scenario, base_dir, groups, replications, seed, cache)
        history.append({"knobs": dict(knobs), "answered_sim": sums, "answered_log": target})
        new = {}
        if wrap:
            sim, tgt = sum(sums.values()), sum(target.values())
            gap = sim - tgt
            if abs(gap) <= tol * tgt:
                break
            x = knobs["wrap_up_s"]
            new["wrap_up_s"] = _secant(x, gap, prev.get("w"), tgt, sim, False, 0.0, 3600.0)
            prev["w"] = (x, gap)
        else:
            for g in groups:
                gap = sums[g] - target[g]
                if target[g] <= 0 or abs(gap) <= tol * target[g]:
                    new[g] = knobs[g]
                    continue
                new[g] = _secant(knobs[g], gap, prev.get(g), target[g], sums[g], True, 0.2, 1.0)
                prev[g] = (knobs[g], gap)
            if new == knobs:
                break
        knobs = new
    best = min(history, key=lambda h: sum(abs(h["answered_sim"][g] - target[g]) for g in groups))
    apply(best["knobs"])
    if not wrap:
        for g in groups:
            cal.staffing.availability[g] = best["knobs"][g]
    return history


def write_calibration(
    cal: Calibration, out: str | os.PathLike[str], *, plots: bool = True, refine: bool = True
) -> dict[str, Any]:
    """Write the scenario, its replay log, the report (JSON and Markdown) and the figures.

    Args:
        cal: The fit.
        out: The scenario YAML path; the other files go next to it, named after its stem.
        plots: Also draw the PNG figures.
        refine: Refine the availability factors by simulating the calibration window
            (:func:`refine_capacity`).

    Returns:
        The report dict (also in ``<stem>.report.json``), with ``files`` listing what was written.
    """
    out_path = Path(out)
    folder = out_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = out_path.name.removesuffix(".yaml").removesuffix(".yml")
    replay = folder / f"{stem}.replay.parquet"
    write_replay_log(cal.log, replay, passthrough=cal.mapping.passthrough)
    scenario = scenario_dict(cal, replay_path=replay.name, name=stem)
    first = dict(cal.staffing.availability)
    refinement = refine_capacity(cal, scenario, folder) if refine and scenario["groups"] else []
    header = (f"# Calibrated by `ccsim calibrate` from {cal.log.path} (see {stem}.report.md).\n"
              "# Data: acknowledge the log's source as its terms of use ask.\n")
    out_path.write_text(header + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (folder / f"{stem}.map.yaml").write_text(
        yaml.safe_dump(cal.mapping.model_dump(mode="json"), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    report = report_dict(cal)
    report["availability_first_estimate"] = {g: first[g] for g in scenario["groups"]}
    report["availability_refinement"] = refinement
    extra: list[str] = []
    if cal.staffing.profile:
        profile = {g: {str(h): round(v, 4) for h, v in cal.staffing.profile[g].items()} for g in scenario["groups"]}
        report["availability_by_hour"] = {
            "profile": profile,
            "estimate": {g: cal.staffing.hourly[g] for g in scenario["groups"] if g in cal.staffing.hourly},
        }
        # the backtest of a held-out window applies the same profile to the roster it reads from that window
        (folder / f"{stem}.availability.json").write_text(json.dumps({"profile": profile}, indent=1),
                                                          encoding="utf-8")  # fmt: skip
        extra.append(f"{stem}.availability.json")
    figures: list[str] = []
    if plots:
        from experiments.calibration import plots as p

        figures = p.calibration_figures(cal, folder, stem)
    report["files"] = [
        out_path.name, replay.name, f"{stem}.map.yaml", *extra, f"{stem}.report.json", f"{stem}.report.md",
        *figures,
    ]
    (folder / f"{stem}.report.json").write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    (folder / f"{stem}.report.md").write_text(_md(report, figures), encoding="utf-8")
    return report
