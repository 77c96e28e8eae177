"""``ccsim report RUN_DIR``: one self-contained HTML file that describes a finished run.

The file holds everything inline: CSS in a ``<style>`` element, the plots as base64 PNG ``data:`` URIs, no script
and no external URL, so it opens from disk in any browser, offline, and can be mailed as it is. Its sections:

1. **Summary**: the scenario, seed, replications, horizon, warm-up, when and by which command and version it ran,
   the run's warnings (overload, scenario checks), and a verdict on the targets (how many ``MET``).
2. **Targets**: each target's filter, window, threshold, level, attainment with its 95% CI and status (colored).
3. **Worst intervals**: per target, the interval of its window with the lowest mean attainment over
   replications, how many intervals are below the level on average, and for an ``every_interval`` target the
   worst interval per replication (mean and CI, the figure its status is read from) and the share of intervals met.
4. **Attainment per day**: every target per day of its window, below-level cells marked.
5. **Channels and groups**: volumes, SL, ASA, FRT p90 and abandonment per channel; occupancy, utilization and
   labor cost per group; the recurring and one-off costs.
6. **Plots** (:mod:`experiments.plots`): each target by interval, the SL heatmap, queue and agents over time,
   occupancy per agent and the cost breakdown.

The run directory is read following its consistency rule (:mod:`experiments.run_dir`): a run that is still
running, was interrupted, or whose top-level files are being rewritten is refused with what to do; a file that is
missing is named. The HTML is written atomically (:func:`experiments.files.write_atomic`).

Example:
    >>> from experiments.report import write_report
    >>> write_report("runs/demo")  # doctest: +SKIP
    PosixPath('runs/demo/report.html')
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import read_json, write_atomic
from experiments.run_dir import (
    MANIFEST_JSON,
    METRICS_PARQUET,
    RUN_FORMAT,
    SCENARIO_JSON,
    RunDirError,
    current_names,
)
from experiments.terminal import printable
from sim.config import Scenario

__all__ = ["REPORT_HTML", "ReportError", "RunFiles", "build_report", "read_run", "write_report"]

REPORT_HTML = "report.html"
"""Default file name of the report, inside the run directory."""

_FRAMES = ("intervals", "staffing", "agents")
"""Frames the report needs besides ``summary.csv`` and ``metrics.parquet``."""
_RETRIES = 5


class ReportError(RunDirError):
    """The run directory cannot be reported on: missing, not a ccsim run, incomplete or being written."""


@dataclasses.dataclass(frozen=True)
class RunFiles:
    """What the report reads from a complete run directory.

    Attributes:
        path: The run directory.
        manifest: Its ``manifest.json``.
        scenario: The scenario as it ran (``scenario.json``).
        summary: ``summary.csv``.
        metrics: ``metrics.parquet`` (every replication's metrics, for the worst interval's time).
        frames: ``intervals``, ``staffing`` and ``agents`` of every replication.
    """

    path: Path
    manifest: dict[str, Any]
    scenario: Scenario
    summary: pd.DataFrame
    metrics: pd.DataFrame
    frames: dict[str, pd.DataFrame]

    @property
    def replications(self) -> int:
        """Number of replications the top-level files describe."""
        return len(self.manifest.get("aggregated") or ())


def _show(path: object) -> str:
    return printable(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else printable(path)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        if path.is_symlink():
            raise ReportError(f"cannot read {_show(path)}: it is a symbolic link to a path that does not exist")
        raise ReportError(f"no run directory at {_show(path)}; run `ccsim run SCENARIO --out {_show(path)}` first")
    if not path.is_dir():
        raise ReportError(f"{_show(path)} is a file, not a run directory; give the folder `ccsim run --out` wrote")
    file = path / MANIFEST_JSON
    if not file.is_file():
        raise ReportError(
            f"{_show(path)} is not a ccsim run directory (no {MANIFEST_JSON}); give the folder `ccsim run --out` wrote"
        )
    try:
        doc = read_json(file)
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {_show(file)}: {printable(exc)}") from None
    if not isinstance(doc, dict) or doc.get("format") != RUN_FORMAT:
        raise ReportError(f"{_show(path)} is not a ccsim run directory: its {MANIFEST_JSON} lacks ccsim's marker")
    return doc


def _incomplete(path: Path, manifest: dict[str, Any]) -> str | None:
    """Why the top-level files cannot be read now, or ``None`` when the run is complete."""
    listed = manifest.get("replications") or []
    aggregated = manifest.get("aggregated")
    again = " ".join(str(a) for a in manifest.get("command") or ["ccsim", "run", "SCENARIO", "--out", str(path)])
    if manifest.get("status") != "complete" or aggregated is None or sorted(aggregated) != sorted(listed):
        done = f"{len(listed)} replication{'s' if len(listed) != 1 else ''} finished"
        return (
            f"{_show(path)} holds an incomplete run (status {printable(repr(manifest.get('status')))}, {done}, "
            f"summary not written): it is still running or was interrupted; wait for it, or resume it with the "
            f"same command ({printable(again)}), then run ccsim report again"
        )
    return None


def _load_files(path: Path, manifest: dict[str, Any]) -> RunFiles:
    needed = [SCENARIO_JSON, "summary.csv", METRICS_PARQUET, *(f"{name}.parquet" for name in _FRAMES)]
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ReportError(
            f"{_show(path)} is incomplete: {', '.join(missing)} missing although its manifest says the run is "
            "complete; run the same `ccsim run` command again to rewrite the results"
        )
    try:
        scenario = Scenario.model_validate(read_json(path / SCENARIO_JSON))
    except ValueError as exc:
        first = str(exc).splitlines()[:3]
        what = printable(" ".join(first))
        raise ReportError(f"{_show(path / SCENARIO_JSON)} is not a valid scenario: {what}") from None
    try:
        # A folder written before SL names had units (sl_300s) reads under the current names (sl_5min).
        summary = current_names(pd.read_csv(path / "summary.csv"))
        metrics = current_names(pd.read_parquet(path / METRICS_PARQUET))
        frames = {name: current_names(pd.read_parquet(path / f"{name}.parquet")) for name in _FRAMES}
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read the results in {_show(path)}: {printable(exc)}") from None
    return RunFiles(path, manifest, scenario, summary, metrics, frames)


def read_run(run_dir: str | os.PathLike[str]) -> RunFiles:
    """Read a complete run directory, consistently (manifest, files, manifest again; retried if it changed).

    Raises:
        ReportError: The folder is missing, not a ccsim run, incomplete (running, interrupted, files missing), or
            kept changing while it was read.
    """
    path = Path(run_dir)
    for _ in range(_RETRIES):
        manifest = _read_manifest(path)
        why = _incomplete(path, manifest)
        if why is not None:
            raise ReportError(why)
        files = _load_files(path, manifest)
        if _read_manifest(path).get("revision") == manifest.get("revision"):
            return files
    raise ReportError(f"{_show(path)} kept changing while it was read (another run is adding replications); retry")


# ------------------------------------------------------------------------------------------------ figures


def _png(fig: Any) -> str:
    """A figure as an ``<img>`` with a base64 PNG data URI (no metadata: the PNG carries no URL)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = html.escape(fig._suptitle.get_text().replace("\n", " — ") if fig._suptitle else "plot")
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}"></figure>'


def _plots(run: RunFiles, currency: str) -> list[tuple[str, str]]:
    """(caption, HTML) per plot; a plot that cannot be drawn for this run becomes a note."""
    from experiments import plots

    s, iv = run.scenario, run.frames["intervals"]
    makers: list[tuple[str, Callable[[], Any]]] = []
    for target in s.targets:
        if target.intent is None:
            draw = lambda t=target: plots.plot_target_by_interval(iv, s, t)  # noqa: E731
            makers.append((f"Target {target.name} by interval", draw))
    makers += [
        ("Service level by interval and channel", lambda: plots.plot_sl_heatmap(iv, s)),
        ("Queue length and agents over time", lambda: plots.plot_queue_and_agents(iv, run.frames["staffing"], s)),
        ("Occupancy per agent", lambda: plots.plot_agent_occupancy(run.frames["agents"], s.name)),
        ("Cost breakdown", lambda: plots.plot_cost_breakdown(run.summary, s.name, currency)),
    ]
    out = []
    for caption, make in makers:
        out.append((caption, _png(make())))
    skipped = [t.name for t in s.targets if t.intent is not None]
    if skipped:
        names = ", ".join(html.escape(n) for n in skipped)
        note = f"<p class='note'>No interval plot for {names}: intervals carry no intent.</p>"
        out.append(("Targets by intent", note))
    return out


# ------------------------------------------------------------------------------------------------ tables


def _pct(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100.0 * x:.{digits}f}"


def _num(x: float, digits: int = 0) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _status(status: str) -> str:
    cls = {"MET": "met", "NOT MET": "missed", "UNCERTAIN": "uncertain"}.get(status, "nodata")
    return f'<span class="status {cls}">{html.escape(status)}</span>'


def _filter_text(row: Any) -> str:
    parts = [f"{k}={row[k]}" for k in ("channel", "priority", "tier", "intent") if isinstance(row[k], str)]
    return ", ".join(parts) or "all contacts"


def _targets_section(run: RunFiles, targets: pd.DataFrame) -> str:
    from sim.units import format_duration

    rows = []
    for _, t in targets.iterrows():
        ci = f"{_pct(t['ci_low'])}–{_pct(t['ci_high'])}" if pd.notna(t["ci_low"]) else "–"
        rows.append(
            [
                html.escape(str(t["target"])),
                html.escape(_filter_text(t)),
                html.escape(str(t["window"]) + (", every interval" if t["aggregation"] == "every_interval" else "")),
                html.escape(format_duration(float(t["threshold_s"]))),
                f"{_pct(t['level'], 0)}%",
                f"{_pct(t['mean'])} ± {_pct(t['ci_half'])}" if pd.notna(t["ci_half"]) else _pct(t["mean"]),
                ci,
                _status(str(t["status"])),
            ]
        )
    if not rows:
        return "<p class='note'>The scenario has no targets.</p>"
    header = ["target", "filter", "window", "threshold", "level", "attained (%)", "95% CI (%)", "status"]
    return _table(header, rows, "targets")


def _worst_section(run: RunFiles, targets: pd.DataFrame) -> str:
    """Per target: the lowest interval (mean over replications), intervals below the level, every-interval figures."""
    from sim.metrics import filter_intervals, interval_table, sl_metric

    s = run.scenario
    measured = filter_intervals(run.frames["intervals"], warmup_s=s.measure_start_s, horizon_s=s.horizon)
    start = pd.Timestamp(s.start)
    rows = []
    for target, (_, t) in zip(s.targets, targets.iterrows(), strict=True):
        name = html.escape(target.name)
        if target.intent is not None:
            rows.append([name, f"{_pct(target.level, 0)}%", "needs the contact log", "", "", "", ""])
            continue
        part = measured
        for column in ("channel", "priority", "tier"):
            if getattr(target, column) is not None:
                part = part[part[column] == getattr(target, column)]
        if target.window is not None and target.window.restricts:
            part = part[pd.notna(target.window.window_day(part["interval_start_s"].to_numpy(), s.start))]
        table = interval_table(part, [target.threshold], s.reporting.sl_convention, by=())
        sl = table.groupby("interval_start_s")[sl_metric(target.threshold)].mean().dropna()
        if sl.empty:
            rows.append([name, f"{_pct(target.level, 0)}%", "no contacts", "", "", "", ""])
            continue
        when = start + pd.to_timedelta(float(sl.idxmin()), unit="s")
        below = int((sl < target.level - 1e-12).sum())
        every = target.aggregation == "every_interval"
        per_rep = (
            f"{_pct(t['worst'])} ± {_pct(t['worst_ci_half'])}" if every and pd.notna(t["worst_ci_half"])
            else (_pct(t["worst"]) if every else "")
        )
        rows.append(
            [
                name,
                f"{_pct(target.level, 0)}%",
                f"{_pct(float(sl.min()))} at {when:%a %Y-%m-%d %H:%M}",
                f"{below} of {len(sl)}",
                per_rep,
                _pct(t["interval_share"]) if every else "",
                _status(str(t["status"])) if every else "",
            ]
        )
    if not rows:
        return "<p class='note'>The scenario has no targets.</p>"
    header = [
        "target", "level", "lowest interval, mean of replications (%)", "intervals below the level",
        "worst interval per replication (%, mean ± CI)", "intervals met (%)", "every-interval status",
    ]
    return _table(header, rows, "worst")


def _days_section(run: RunFiles) -> str:
    from experiments.results import day_attainment

    days = day_attainment(run.summary, run.scenario)
    if days.empty:
        return "<p class='note'>No per-day attainment in this run.</p>"
    names = [t.name for t in run.scenario.targets]
    rows = []
    for day, part in days.groupby("day", sort=True):
        by_name = part.set_index("target")
        label = f"{pd.Timestamp(str(day)):%a} {day}"
        cells = [html.escape(label)]
        for name in names:
            if name not in by_name.index:
                cells.append("–")
                continue
            row = by_name.loc[name]
            text = _pct(float(row["mean"]))
            cells.append(f'<span class="below">{text}</span>' if row["mean"] < row["level"] - 1e-12 else text)
        rows.append(cells)
    return _table(["day", *(html.escape(n) for n in names)], rows, "days")


def _value(summary: pd.DataFrame, metric: str, scope: str) -> tuple[float, float]:
    row = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
    if row.empty:
        return math.nan, math.nan
    return float(row["mean"].iloc[0]), float(row["ci_half"].iloc[0])


def _with_ci(summary: pd.DataFrame, metric: str, scope: str, fmt: Callable[[float], str]) -> str:
    mean, half = _value(summary, metric, scope)
    return fmt(mean) if math.isnan(half) else f"{fmt(mean)} ± {fmt(half)}"


def _channels_section(run: RunFiles, currency: str) -> str:
    from experiments.plots import channel_thresholds
    from sim.metrics import sl_metric
    from sim.units import format_duration

    s, summary = run.scenario, run.summary
    thresholds = channel_thresholds(s)
    rows = []
    for channel in s.channels:
        scope = f"channel={channel}"
        rows.append(
            [
                html.escape(channel),
                html.escape(s.channels[channel].kind),
                _with_ci(summary, "offered", scope, _num),
                _with_ci(summary, "answered", scope, _num),
                f"{html.escape(format_duration(thresholds[channel]))}: "
                + _with_ci(summary, sl_metric(thresholds[channel]), scope, _pct),
                _with_ci(summary, "asa_s", scope, lambda x: _num(x, 1)),
                _with_ci(summary, "frt_p90_s", scope, lambda x: _num(x, 1)),
                _with_ci(summary, "abandon_rate", scope, _pct),
            ]
        )
    channels = _table(
        ["channel", "kind", "offered", "answered", "SL (%) at threshold", "ASA (s)", "FRT p90 (s)", "abandoned (%)"],
        rows,
        "channels",
    )
    rows = []
    for group in s.groups:
        scope = f"group={group}"
        rows.append(
            [
                html.escape(group),
                _with_ci(summary, "occupancy", scope, _pct),
                _with_ci(summary, "utilization", scope, _pct),
                _with_ci(summary, "overtime_h", scope, lambda x: _num(x, 1)),
                _with_ci(summary, "labor_cost_per_week", scope, _num),
            ]
        )
    groups = _table(
        ["group", "occupancy (%)", "utilization (%)", "overtime (h)", f"labor cost ({html.escape(currency)}/week)"],
        rows,
        "groups",
    )
    costs = _table(
        ["cost", f"mean ± 95% CI ({html.escape(currency)})"],
        [
            [label, _with_ci(summary, metric, "all", _num)]
            for metric, label in (
                ("labor_cost_per_week", "labor per week"),
                ("bot_cost_per_week", "bot fees per week"),
                ("team_lead_cost_per_week", "team leads per week"),
                ("leakage_cost_per_week", "leakage per week"),
                ("recurring_cost_per_week", "<b>recurring per week</b>"),
                ("one_off_cost", "one-off (training, bot set-up), paid once"),
            )
            if not math.isnan(_value(summary, metric, "all")[0])
        ],
        "costs",
    )
    return (
        "<h3>Channels</h3>" + channels + "<p class='note'>Offered: contacts that reached the human queue (bot "
        "outcomes are not offered); answered: of those, answered by an agent. SL at each channel's first "
        "target's threshold.</p><h3>Agent groups</h3>" + groups + "<h3>Costs</h3>" + costs
    )


def _summary_section(run: RunFiles, targets: pd.DataFrame) -> str:
    from experiments.results import overload_warnings
    from sim.units import format_duration

    s, m = run.scenario, run.manifest
    counts = targets["status"].value_counts()
    n = len(targets)
    met = int(counts.get("MET", 0))
    verdict = (
        f"All {n} targets MET." if n and met == n
        else f"{met} of {n} targets MET"
        + "".join(f", {int(c)} {html.escape(str(k))}" for k, c in counts.items() if k != "MET")
        + "."
    ) if n else "The scenario has no targets."
    cls = "met" if n and met == n else "missed" if counts.get("NOT MET", 0) else "uncertain"
    facts = [
        ("scenario", html.escape(s.name)),
        ("description", html.escape(s.description or "")),
        ("replications", f"{run.replications} (seed {html.escape(str(m.get('seed')))}), 95% Student-t intervals"),
        ("period", f"{pd.Timestamp(s.start):%a %Y-%m-%d %H:%M}, horizon {format_duration(s.horizon)}, "
                   f"warm-up {format_duration(s.warmup)} (excluded), intervals of "
                   f"{format_duration(s.reporting.interval)}"),
        ("SL convention", html.escape(s.reporting.sl_convention)),
        ("ran", html.escape(f"{m.get('started', '?')} to {m.get('finished', '?')}")),
        ("command", f"<code>{html.escape(' '.join(map(str, m.get('command') or [])))}</code>"),
        ("version", html.escape(
            f"ccsim {m.get('versions', {}).get('ccsim', '?')}, git {str(m.get('git', {}).get('sha', '?'))[:12]}"
            + (" (uncommitted changes)" if m.get("git", {}).get("dirty") else "")
        )),
        ("scenario hash", f"<code>{html.escape(str(m.get('scenario_hash', ''))[:16])}</code>"),
    ]
    warnings = [*overload_warnings(run.summary), *(m.get("warnings") or [])]
    warn = "".join(f"<li>{html.escape(str(w))}</li>" for w in warnings)
    return (
        f'<p class="verdict {cls}">{verdict}</p>'
        + _table(["", ""], ([f"<b>{k}</b>", v] for k, v in facts), "facts")
        + (f'<div class="warnings"><b>Warnings</b><ul>{warn}</ul></div>' if warn else "")
    )


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;
padding:16px 24px;color:#1d2733;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{border-bottom:2px solid #dfe5ec;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:0.9em}
th,td{border:1px solid #dfe5ec;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f3f6f9}td:first-child,th:first-child{text-align:left}td:first-child{white-space:nowrap}
table.targets td:nth-child(-n+3),table.targets th:nth-child(-n+3){text-align:left}
table.facts td{text-align:left}table.facts thead{display:none}
.status{font-weight:600;padding:1px 6px;border-radius:3px;white-space:nowrap}
.met{background:#dff3e3;color:#1e6b30}.missed{background:#fbe0dd;color:#a1261a}
.uncertain{background:#fff1cf;color:#7a5600}.nodata{background:#eceff3;color:#555}
.verdict{font-size:1.15em;font-weight:600;padding:8px 12px;border-radius:4px;display:inline-block}
.below{color:#a1261a;font-weight:600}.note{color:#5a6673;font-size:0.9em}
.warnings{background:#fff6e0;border-left:4px solid #e0a800;padding:6px 12px;margin:8px 0}
figure{margin:12px 0}img{max-width:100%;height:auto;border:1px solid #eef1f4}
nav a{margin-right:12px}code{font-size:0.95em}
"""


def build_report(run: RunFiles, *, currency: str = "currency units") -> str:
    """The report's HTML (one string, self-contained) for a run read by :func:`read_run`.

    Args:
        run: The run directory's files.
        currency: Name of the scenario's currency, for cost labels.
    """
    from experiments.results import target_table

    targets = target_table(run.summary, run.scenario, run.metrics)
    if targets.empty:  # a scenario without targets
        targets = pd.DataFrame(columns=["target", "status"])
    name = html.escape(run.scenario.name)
    sections = [
        ("summary", "Summary", _summary_section(run, targets)),
        ("targets", "Targets", _targets_section(run, targets)
         + "<p class='note'>MET: the whole 95% CI at or above the level; NOT MET: wholly below; UNCERTAIN: it "
           "straddles the level (more replications may decide). An every-interval target is judged on its worst "
           "interval per replication.</p>"),
        ("worst", "Worst intervals", _worst_section(run, targets)),
        ("days", "Attainment per day (%)", _days_section(run)
         + "<p class='note'>Mean over replications; the day a target's window opened on; marked where below the "
           "level.</p>"),
        ("channels", "Channels, groups and costs", _channels_section(run, currency)),
        ("plots", "Plots", "".join(f"<h3>{html.escape(c)}</h3>{body}" for c, body in _plots(run, currency))),
    ]
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{title}</h2>{content}</section>' for key, title, content in sections)
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>ccsim report: {name}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
        f"<body><h1>ccsim report: {name}</h1>"
        f"<p class='note'>{run.replications} replications · run folder {html.escape(_show(run.path))} · "
        f"report written {made}</p><nav>{nav}</nav>{body}</body></html>\n"
    )


def write_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *, currency: str = "currency units"
) -> Path:
    """Read a run directory and write its report atomically (default ``RUN_DIR/report.html``).

    Returns:
        The path written.

    Raises:
        ReportError: See :func:`read_run`.
        OutputError: The file cannot be written (read-only folder, full disk...); nothing is left behind.
    """
    run = read_run(run_dir)
    text = build_report(run, currency=currency)
    target = Path(out) if out is not None else Path(run_dir) / REPORT_HTML
    return write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
