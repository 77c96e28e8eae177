"""``ccsim backtest``: replay what really arrived against the calibrated scenario and compare with what happened.

The actual calls of a window are replayed (arrival at the agent queue, intent, priority, talk time of the calls
that were served) against the scenario's staffing, with patience and the talk time of unserved calls drawn from
the scenario. Each of ``replications`` runs uses its own seed. Per interval and per day, simulated and actual are
compared on: offered, answered, abandonment rate, ASA, P(wait > 0), SL at 20 s and 60 s (definitions in
:func:`interval_metrics`).

**Error and noise floor.** For a metric and an aggregation (hour, reporting interval, day), the *error* is the mean
absolute error over the intervals between the actual value and the mean of the ``R`` replications. The real window
is one random draw of its customers' patience; even a perfect model would not reproduce it exactly. The *noise
floor* is the error such a perfect model would show: we take the calibrated model as the truth and score each
replication as if it were the real window, ``NF = (1/R) * sum_r MAE(x_r, mean_{s != r} x_s)``, over the same
intervals. ``error / NF`` near 1 means the model is as close as the randomness allows; the issue's goals are
``<= 1.25`` in sample and ``<= 1.5`` out of sample. (Comparing against a mean of ``R - 1`` runs instead of ``R``
makes the floor larger by a factor of at most ``sqrt(1 + 1/(R(R-2)))``, under 1% for ``R >= 8``.)

**Staffing in a window the scenario's table does not cover** (a held-out window): the roster of the window is
inferred from the log's server column the same way calibration does (agents seen working per interval), and
the *calibrated* availability factors are applied. The roster is an input an analyst knows for any past week; the
fitted behaviour (availability, patience, handle times) is what the backtest tests. The report says which
staffing was used.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.calibration.calibrate import staffing_table, write_replay_log
from experiments.calibration.fit import fit_staffing
from experiments.calibration.mapping import CalibrationInputError, CalibrationMapping, load_mapping, read_calls

__all__ = [
    "METRICS",
    "Backtest",
    "backtest",
    "compare",
    "interval_metrics",
    "write_backtest",
]

METRICS = ("offered", "answered", "abandon_rate", "asa_s", "p_wait", "sl20", "sl60")
"""Compared metrics; see :func:`interval_metrics`."""

RATES = ("abandon_rate", "p_wait", "sl20", "sl60")


def interval_metrics(
    t: pd.Series, answered: np.ndarray, abandoned: np.ndarray, wait_s: np.ndarray, freq: str
) -> pd.DataFrame:
    """Metrics per interval of arrival at the agent queue.

    Args:
        t: Arrival time at the agent queue of each call.
        answered: Whether the call reached an agent.
        abandoned: Whether it hung up while waiting (a call neither answered nor abandoned, still waiting at the
            end of a simulation, counts as offered only).
        wait_s: Seconds from arrival to answer or abandon.
        freq: Pandas frequency of the intervals (``"1h"``, ``"30min"``, ``"1D"``).

    Returns:
        Indexed by interval start: ``offered`` (calls), ``answered`` (calls), ``abandon_rate`` (abandoned /
        offered), ``asa_s`` (mean wait of answered calls, s; NaN if none), ``p_wait`` (share of offered calls that
        waited more than 0.5 s: logs record whole seconds), ``sl20`` and ``sl60`` (answered within 20 s / 60 s,
        divided by offered, i.e. abandons count against the service level).
    """
    f = pd.DataFrame({
        "start": pd.to_datetime(t).dt.floor(freq).to_numpy(), "offered": 1.0, "answered": answered.astype(float),
        "abandoned": abandoned.astype(float), "waited": (wait_s > 0.5).astype(float),
        "ans_wait": np.where(answered, wait_s, 0.0), "sl20": (answered & (wait_s <= 20.0)).astype(float),
        "sl60": (answered & (wait_s <= 60.0)).astype(float),
    })  # fmt: skip
    s = f.groupby("start").sum()
    out = pd.DataFrame(index=s.index)
    out["offered"] = s["offered"]
    out["answered"] = s["answered"]
    out["abandon_rate"] = s["abandoned"] / s["offered"]
    out["asa_s"] = (s["ans_wait"] / s["answered"]).where(s["answered"] > 0)
    out["p_wait"] = s["waited"] / s["offered"]
    out["sl20"] = s["sl20"] / s["offered"]
    out["sl60"] = s["sl60"] / s["offered"]
    return out


@dataclass
class Backtest:
    """A backtest's frames and figures.

    Attributes:
        actual: Per aggregation (``hour``, ``interval``, ``day``), actual metrics per interval.
        simulated: Per aggregation, a list (one per replication) of simulated metrics per interval.
        errors: Long table: ``aggregation, metric, n_intervals, mae, noise_floor, ratio``.
        info: What was run (window, staffing source, replications, seconds taken, replay report).
    """

    actual: dict[str, pd.DataFrame]
    simulated: dict[str, list[pd.DataFrame]]
    errors: pd.DataFrame
    info: dict[str, Any]

    def per_interval(self, aggregation: str = "hour") -> pd.DataFrame:
        """Actual, simulated mean and range per interval, one row per interval (for tables and plots)."""
        act = self.actual[aggregation]
        sims = [s.reindex(act.index) for s in self.simulated[aggregation]]
        out = pd.DataFrame({"start": act.index})
        for m in METRICS:
            stack = np.vstack([s[m].to_numpy(dtype=float) for s in sims])
            out[f"{m}_actual"] = act[m].to_numpy(dtype=float)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an interval no replication defines stays NaN
                out[f"{m}_sim"] = np.nanmean(stack, axis=0)
                out[f"{m}_sim_lo"] = np.nanmin(stack, axis=0)
                out[f"{m}_sim_hi"] = np.nanmax(stack, axis=0)
        return out


def compare(actual: pd.DataFrame, sims: list[pd.DataFrame], *, min_offered: int = 10) -> list[dict[str, Any]]:
    """Mean absolute error of the simulated mean against actual, with the noise floor, per metric.

    An interval counts for a metric when the actual window had at least ``min_offered`` calls in it and the
    metric is defined in the actual data and in every replication (ASA needs an answered call). The noise floor
    is computed over the same intervals (see the module docstring).
    """
    r = len(sims)
    rows = []
    idx = actual.index[actual["offered"] >= min_offered]
    for m in METRICS:
        a = actual.loc[idx, m].to_numpy(dtype=float)
        x = np.vstack([s.reindex(idx)[m].to_numpy(dtype=float) for s in sims])
        if m in ("offered", "answered"):
            x = np.nan_to_num(x)
        ok = ~np.isnan(a) & ~np.isnan(x).any(axis=0)
        a, x = a[ok], x[:, ok]
        if a.size == 0 or r < 2:
            rows.append({"metric": m, "n_intervals": int(a.size), "mae": np.nan, "noise_floor": np.nan,
                         "ratio": np.nan})  # fmt: skip
            continue
        mean = x.mean(axis=0)
        mae = float(np.mean(np.abs(a - mean)))
        loo = (x.sum(axis=0)[None, :] - x) / (r - 1)
        floor = float(np.mean(np.abs(x - loo)))
        rows.append({"metric": m, "n_intervals": int(a.size), "mae": mae, "noise_floor": floor,
                     "ratio": mae / floor if floor > 0 else np.nan})  # fmt: skip
    return rows


def _covers(table: dict[str, Any] | None, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    if not table or not table.get("agents"):
        return False
    days = {pd.Timestamp(k).normalize() for k in table["agents"]}
    return all(d in days for d in pd.date_range(start, end - pd.Timedelta(days=1), freq="D"))


def window_scenario(
    raw: dict[str, Any], calls: pd.DataFrame, mapping: CalibrationMapping, start: pd.Timestamp,
    end: pd.Timestamp, replay_path: Path, staffing: str, profile: dict[str, dict[int, float]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario dict for the window, and what staffing it uses.

    Args:
        raw: The calibrated scenario as parsed YAML.
        calls: The window's actual calls.
        mapping: The calibration mapping.
        start: Window start (midnight).
        end: Window end (exclusive, midnight).
        replay_path: The window's replay log.
        staffing: ``auto`` (the scenario's table where it covers every day of the window, else inferred from the
            log), ``scenario`` or ``log``.
        profile: The calibrated hourly availability profile (group -> hour -> factor), with
            ``mapping.availability_by: hour``: applied to the roster read from the window's log.
    """
    data = json.loads(json.dumps(raw))
    data["start"] = start.strftime("%Y-%m-%dT%H:%M")
    data["horizon"] = f"{(end - start).days}d"
    data["arrivals"]["path"] = str(replay_path)
    groups = data["groups"]
    covered = all(_covers(g.get("staffing_table"), start, end) for g in groups.values())
    use_log = staffing == "log" or (staffing == "auto" and not covered)
    info: dict[str, Any] = {"staffing": "log (agents seen in the window x calibrated availability)" if use_log
                            else "scenario staffing_table"}  # fmt: skip
    if not use_log:
        return data, info
    known = {g: v["staffing_table"]["availability"] for g, v in groups.items() if v.get("staffing_table")}
    fallback = float(np.mean(list(known.values()))) if known else 1.0
    avail = {g: known.get(g, fallback) for g in mapping.groups}
    hourly = profile if mapping.availability_by == "hour" else None
    fit = fit_staffing(calls, mapping, availability=avail, profile=hourly)
    template = next(iter(groups.values()))
    new_groups = {}
    for group, skills in fit.skills.items():
        if fit.table.loc[fit.table["group"] == group, "present"].sum() == 0:
            continue
        base = groups.get(group, template)
        entry = {k: v for k, v in base.items() if k != "staffing_table"}
        entry["skills"] = {i: 1.0 for i in skills if i in data["intents"]}
        entry["staffing"] = {}
        entry["staffing_table"] = staffing_table(fit, group, mapping.interval)
        new_groups[group] = entry
    data["groups"] = new_groups
    info["availability"] = {g: avail[g] for g in new_groups}
    info["availability_note"] = (
        f"groups not in the scenario took the mean calibrated availability {fallback:.3f}"
        if set(new_groups) - set(known) else ""
    )
    info["skills"] = {g: sorted(v["skills"]) for g, v in new_groups.items()}
    return data, info


def load_profile(path: Path) -> dict[str, dict[int, float]]:
    """The hourly availability profile ``ccsim calibrate`` wrote next to the scenario (``availability_by: hour``)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))["profile"]
        return {str(g): {int(h): float(v) for h, v in hours.items()} for g, hours in raw.items()}
    except FileNotFoundError:
        raise CalibrationInputError(
            f"{path}: missing; the mapping says availability_by: hour, so the backtest needs the hourly profile "
            "ccsim calibrate writes next to the scenario (calibrate again with this mapping)"
        ) from None
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CalibrationInputError(f"{path}: not an availability profile ({exc})") from None


AGGREGATIONS = {"hour": "1h", "day": "1D"}


def backtest(
    log_path: str | os.PathLike[str],
    scenario_path: str | os.PathLike[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    out: str | os.PathLike[str],
    mapping: CalibrationMapping | None = None,
    replications: int = 8,
    seed: int = 1,
    staffing: str = "auto",
    min_offered: int = 10,
) -> Backtest:
    """Replay the window ``[start, end]`` (both dates inclusive) of a log against a calibrated scenario.

    Args:
        log_path: The call log.
        scenario_path: A scenario written by ``ccsim calibrate``.
        start: First date of the window.
        end: Last date of the window (inclusive).
        out: Folder for the window's replay log and the results.
        mapping: The calibration mapping (default: ``<scenario stem>.map.yaml`` next to the scenario).
        replications: Simulated replications (at least 2, for the noise floor).
        seed: Base seed.
        staffing: See :func:`window_scenario`.
        min_offered: See :func:`compare`.
    """
    from experiments.replay import load_replay_log
    from experiments.runner import simulate_scenario
    from experiments.scenario_files import scenario_from_dict

    t0 = time.perf_counter()
    if replications < 2:
        raise CalibrationInputError(f"replications: {replications}; the noise floor needs at least 2")
    scenario_path = Path(scenario_path)
    if mapping is None:
        stem = scenario_path.name.removesuffix(".yaml").removesuffix(".yml")
        mapping = load_mapping(scenario_path.parent / f"{stem}.map.yaml")
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    if e <= s:
        raise CalibrationInputError(f"--to {end} is before --from {start}")
    log = read_calls(log_path, mapping, start=s, end=e)
    calls = log.calls
    if calls.empty:
        raise CalibrationInputError(f"{log_path}: no agent-seeking calls from {start} to {end}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    replay_path = (out_dir / "window.replay.parquet").resolve()
    write_replay_log(log, replay_path, passthrough=mapping.passthrough)
    raw = yaml.safe_load(scenario_path.read_text(encoding="utf-8"))
    profile = None
    if mapping.availability_by == "hour":
        stem = scenario_path.name.removesuffix(".yaml").removesuffix(".yml")
        profile = load_profile(scenario_path.parent / f"{stem}.availability.json")
    data, info = window_scenario(raw, calls, mapping, s, e, replay_path, staffing, profile)
    last_day = (e - pd.Timedelta(days=1)).date()
    scenario = scenario_from_dict(data, label=f"{scenario_path} (window {s.date()} .. {last_day})")
    replay = load_replay_log(scenario, scenario_path.parent)
    t_read = time.perf_counter()

    freqs = {"hour": "1h", "interval": f"{int(mapping.interval)}s", "day": "1D"}
    actual = {k: interval_metrics(calls["queue_arrival"], calls["served"].to_numpy(),
                                  calls["abandoned"].to_numpy(), calls["wait_s"].to_numpy(), f)
              for k, f in freqs.items()}  # fmt: skip
    simulated: dict[str, list[pd.DataFrame]] = {k: [] for k in freqs}
    for r in range(replications):
        res = simulate_scenario(scenario, seed=seed, replication=r, log=True, replay=replay)
        c = res.contacts
        t = s + pd.to_timedelta(c["arrival_s"].to_numpy(), unit="s")
        answered = (c["outcome"] == "served").to_numpy()
        abandoned = (c["outcome"] == "abandoned").to_numpy()
        wait = c["wait_s"].to_numpy(dtype=float)
        for k, f in freqs.items():
            simulated[k].append(interval_metrics(pd.Series(t), answered, abandoned, np.nan_to_num(wait), f))
    rows = []
    for k in freqs:
        for row in compare(actual[k], simulated[k], min_offered=min_offered if k != "day" else 1):
            rows.append({"aggregation": k, **row})
    info.update({
        "log": str(log_path), "scenario": str(scenario_path), "window": [str(s.date()), str(last_day)],
        "replications": replications, "seed": seed, "min_offered": min_offered, "calls": len(calls),
        "skipped": log.skipped, "bad_rows": [str(b) for b in log.bad],
        "replayed": replay.report.get("replayed") if hasattr(replay, "report") else None,
        "seconds_read_and_prepare": round(t_read - t0, 2),
        "seconds_total": round(time.perf_counter() - t0, 2),
    })  # fmt: skip
    return Backtest(actual, simulated, pd.DataFrame(rows), info)


def _md(bt: Backtest, figures: list[str]) -> str:
    i = bt.info
    lines = [f"# Backtest {i['window'][0]} .. {i['window'][1]}", "",
             f"Log {i['log']}; scenario {i['scenario']}; {i['calls']} actual calls; {i['replications']} replications "
             f"(seed {i['seed']}); staffing: {i['staffing']}.", "",
             "Error = mean absolute error of the simulated mean vs actual over intervals with at least "
             f"{i['min_offered']} actual calls (days: all); noise floor = mean over replications of the MAE "
             "between one replication and the mean of the others.", "",
             "| aggregation | metric | intervals | MAE | noise floor | ratio |", "|---|---|---|---|---|---|"]
    for r in bt.errors.itertuples():
        lines.append(f"| {r.aggregation} | {r.metric} | {r.n_intervals} | {r.mae:.4g} | {r.noise_floor:.4g} | "
                     f"{r.ratio:.2f} |")
    tot = {k: bt.actual["day"][k].sum() for k in ("offered", "answered")}
    sim_tot = np.mean([s["answered"].sum() for s in bt.simulated["day"]])
    lines += ["", f"Totals: offered {tot['offered']:.0f}; answered actual {tot['answered']:.0f}, simulated mean "
              f"{sim_tot:.0f}; abandonment actual {1 - tot['answered'] / tot['offered']:.4f}, simulated "
              f"{1 - sim_tot / tot['offered']:.4f}.", "", f"Time: {i['seconds_total']} s."]
    if figures:
        lines += ["", *[f"![{f}]({f})" for f in figures]]
    return "\n".join(lines) + "\n"


def _plotted(frame: pd.DataFrame, min_offered: int, freq: str) -> pd.DataFrame:
    """The intervals the errors count (at least ``min_offered`` actual calls), on a full grid so lines break."""
    keep = frame[frame["offered_actual"] >= min_offered].set_index("start")
    if keep.empty:
        return frame
    grid = pd.date_range(keep.index.min(), keep.index.max(), freq=freq)
    return keep.reindex(grid).rename_axis("start").reset_index()


def write_backtest(bt: Backtest, out: str | os.PathLike[str], *, plots: bool = True) -> list[str]:
    """Write ``backtest.json``, ``backtest.md``, ``per_hour.csv``, ``per_day.csv`` and the figure into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for agg, name in (("hour", "per_hour.csv"), ("interval", "per_interval.csv"), ("day", "per_day.csv")):
        bt.per_interval(agg).to_csv(folder / name, index=False)
        files.append(name)
    figures = []
    if plots:
        from experiments.calibration.plots import _save, plot_backtest

        figures.append(_save(plot_backtest(_plotted(bt.per_interval("hour"), bt.info["min_offered"], "1h")), folder,
                             "backtest_hourly.png"))
        figures.append(_save(plot_backtest(bt.per_interval("day"), ("offered", "abandon_rate", "asa_s")), folder,
                             "backtest_daily.png"))
    payload = {**bt.info, "errors": bt.errors.to_dict(orient="records")}
    (folder / "backtest.json").write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    (folder / "backtest.md").write_text(_md(bt, figures), encoding="utf-8")
    return [*files, "backtest.json", "backtest.md", *figures]
