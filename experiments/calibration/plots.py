"""Figures an analyst can judge a calibration and a backtest by (matplotlib, Agg backend, PNG files).

Each function returns a :class:`matplotlib.figure.Figure` with labelled axes (units in the labels); the
``*_figures`` helpers save them into a folder and return the file names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.calibration.fit import ArrivalFit, DistFit, PatienceFit

if TYPE_CHECKING:
    from experiments.calibration.calibrate import Calibration

__all__ = [
    "calibration_figures",
    "plot_arrivals",
    "plot_backtest",
    "plot_handle",
    "plot_patience",
    "plot_staffing",
]


def plot_patience(fit: PatienceFit, title: str = "") -> Figure:
    """Kaplan-Meier survival of patience with each parametric candidate (one line each, KM first)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    t, s = fit.km_times_s, fit.km_survival
    ax.step(np.r_[0.0, t], np.r_[1.0, s], where="post", color="black", label=f"Kaplan-Meier (n={fit.n})")
    grid = np.linspace(0.0, float(t[-1]) if len(t) else 1.0, 200)
    for f in fit.fits:
        ax.plot(grid, f.frozen.sf(grid), label=f"{f.dist} mean {f.mean_s:.0f} s (gap {f.ks:.3f})")
    ax.set_xlabel("time waited (s)")
    ax.set_ylabel("P(patience > t)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or f"Patience: {fit.cell[0] or 'all'} / {fit.cell[1] or 'all'}, {fit.n_abandoned} abandons")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_handle(values: np.ndarray, fits: Sequence[DistFit], title: str = "") -> Figure:
    """Empirical CDF of talk times with each candidate's CDF (one line each, data first), log time axis."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.sort(np.asarray(values, dtype=float))
    ax.plot(x, np.arange(1, len(x) + 1) / len(x), color="black", label=f"data (n={len(x)})")
    grid = np.geomspace(max(float(x[0]), 1.0), float(x[-1]), 200)
    for f in fits:
        ax.plot(grid, f.frozen.cdf(grid), label=f"{f.dist} mean {f.mean_s:.0f} s, KS {f.ks:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("talk time (s)")
    ax.set_ylabel("P(talk time <= t)")
    ax.set_title(title or "Handle time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_arrivals(fits: Sequence[ArrivalFit], interval_s: float) -> Figure:
    """Mean calls per interval over the day, one line per day type."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for a in fits:
        hours = np.arange(len(a.profile)) * interval_s / 3600.0
        ax.plot(hours, a.profile, drawstyle="steps-post",
                label=f"{a.day_type}: {a.daily_mean:.0f}/day, busyness CV {a.busyness_cv:.2f} ({a.n_days} days)")
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel(f"calls per {interval_s / 60:g} min (mean)")
    ax.set_xlim(0, 24)
    ax.set_title("Arrival profile by day type")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_staffing(
    table: pd.DataFrame, availability: dict[str, float], profile: dict[str, dict[int, float]] | None = None
) -> Figure:
    """Agents on duty and effective agents (x availability, x the hourly profile if any): two lines per group."""
    fig, ax = plt.subplots(figsize=(9, 4))
    for group, g in table.groupby("group"):
        if g["present"].sum() == 0:
            continue
        a = availability.get(str(group), 1.0)
        prof = (profile or {}).get(str(group))
        hourly = g["start"].dt.hour.map(prof).to_numpy() if prof else 1.0
        ax.plot(g["start"], g["present"], drawstyle="steps-post", lw=0.8, label=f"{group}: agents on duty")
        ax.plot(g["start"], g["present"] * a * hourly, drawstyle="steps-post", lw=0.8,
                label=f"{group}: x availability {a:.2f}" + (" x hourly profile" if prof else ""))
    ax.set_xlabel("date")
    ax.set_ylabel("agents (headcount)")
    ax.set_title("Staffing inferred from agent activity")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_backtest(per_interval: pd.DataFrame, metrics: Sequence[str] = ("abandon_rate", "asa_s")) -> Figure:
    """Simulated (mean over replications, with its range) vs actual over time, one panel per metric.

    ``per_interval`` has columns ``start`` and, per metric, ``<metric>_actual`` and ``<metric>_sim`` (and
    optionally ``<metric>_sim_lo`` / ``<metric>_sim_hi``). Each panel has two lines: actual and simulated.
    """
    fig, axes = plt.subplots(len(metrics), 1, figsize=(10, 3 * len(metrics)), sharex=True, squeeze=False)
    labels = {"abandon_rate": "abandonment rate (share)", "asa_s": "ASA (s)", "offered": "offered (calls)",
              "answered": "answered (calls)", "p_wait": "P(wait > 0)", "sl20": "SL 20 s", "sl60": "SL 60 s"}
    for ax, m in zip(axes[:, 0], metrics, strict=True):
        ax.plot(per_interval["start"], per_interval[f"{m}_actual"], color="black", lw=0.9, label="actual")
        ax.plot(per_interval["start"], per_interval[f"{m}_sim"], color="tab:red", lw=0.9, label="simulated (mean)")
        if f"{m}_sim_lo" in per_interval:
            ax.fill_between(per_interval["start"], per_interval[f"{m}_sim_lo"], per_interval[f"{m}_sim_hi"],
                            color="tab:red", alpha=0.2, lw=0)
        ax.set_ylabel(labels.get(m, m))
        ax.set_xlabel("date and time (interval start)")
        ax.legend(fontsize=8, loc="upper right")
    axes[0, 0].set_title("Backtest: simulated vs actual per interval")
    for ax in axes[:, 0]:
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig


def _save(fig: Figure, folder: Path, name: str) -> str:
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def calibration_figures(cal: Calibration, folder: Path, stem: str) -> list[str]:
    """Write the calibration's figures as PNG files; returns their names."""
    names = [_save(plot_arrivals(cal.arrivals, cal.mapping.interval), folder, f"{stem}.arrivals.png")]
    calls = cal.log.calls
    for intent, fits in cal.handle.items():
        x = calls.loc[(calls["intent"] == intent) & (calls["talk_s"] > 0), "talk_s"].to_numpy()
        x = x[x <= 4 * 3600]
        names.append(_save(plot_handle(x, fits, f"Handle time: {intent}"), folder, f"{stem}.handle.{intent}.png"))
    for (intent, prio), fit in cal.patience.items():
        if fit.fits and (prio is not None or intent is None):
            tag = f"{intent or 'all'}.{prio or 'all'}"
            names.append(_save(plot_patience(fit), folder, f"{stem}.patience.{tag}.png"))
    names.append(_save(plot_staffing(cal.staffing.table, cal.staffing.availability,
                                     cal.staffing.profile), folder, f"{stem}.staffing.png"))
    return names
