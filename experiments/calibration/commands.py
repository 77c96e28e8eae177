"""What ``ccsim calibrate`` and ``ccsim backtest`` do, behind the thin wrappers in :mod:`experiments.cli`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from experiments.calibration.backtest import backtest, write_backtest
from experiments.calibration.calibrate import calibrate, write_calibration
from experiments.calibration.mapping import load_mapping

__all__ = ["run_backtest", "run_calibrate"]


def run_calibrate(
    log: str, mapping_path: str, out: str, *, start: str | None = None, end: str | None = None, plots: bool = True,
    echo: Any = print,
) -> dict[str, Any]:
    """Fit a scenario from ``log`` (dates ``start`` .. ``end``, both inclusive) and write it to ``out``."""
    import pandas as pd

    t0 = time.perf_counter()
    mapping = load_mapping(mapping_path)
    end_excl = pd.Timestamp(end).normalize() + pd.Timedelta(days=1) if end else None
    cal = calibrate(log, mapping, start=start, end=end_excl)
    report = write_calibration(cal, out, plots=plots)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    _print_calibration(report, out, echo)
    return report


def _print_calibration(report: dict[str, Any], out: str, echo: Any) -> None:
    echo(f"calibrated {report['window'][0]} .. {report['window'][1]}: {report['calls']} calls of "
         f"{report['rows_read']} rows; skipped {report['skipped']}")
    for bad in report["bad_rows"]:
        echo(f"  bad rows skipped: {bad}")
    for a in report["arrivals"]:
        echo(f"  arrivals {a['day_type']}: {a['daily_mean']:.0f} calls/day over {a['days']} days, busyness CV "
             f"{a['busyness_cv']:.3f}")
    for intent, fits in report["handle"].items():
        b = fits[0]
        echo(f"  handle {intent}: {b['dist']} mean {b['mean_s']:.0f} s cv {b['cv']:.2f} (KS {b['ks']:.3f})")
    for p in report["patience"]:
        if p["priority"] is None and p["intent"] is not None:
            continue
        lo, hi = p["exponential_mean_ci95_s"]
        echo(f"  patience {p['intent'] or 'all'}/{p['priority'] or 'all'}: {p['n_abandoned']} abandons of "
             f"{p['n_waited']} waits; exponential mean {p['exponential_mean_s']:.0f} s [{lo:.0f}, {hi:.0f}]; "
             f"written: {p['written']}")
    for g, s in report["staffing"].items():
        echo(f"  staffing {g}: {len(s['agents'])} agents, mean {s['mean_present_when_staffed']:.2f} on duty when "
             "staffed, "
             f"availability {s['availability']:.3f} (from {s['congested_intervals']} congested intervals)")
    echo(f"wrote {out} and {len(report['files']) - 1} more files to {Path(out).parent} in {report['seconds']} s")


def run_backtest(
    log: str, scenario: str, start: str, end: str, *, out: str | None = None, mapping_path: str | None = None,
    replications: int = 8, seed: int = 1, staffing: str = "auto", plots: bool = True, echo: Any = print,
) -> dict[str, Any]:
    """Backtest ``scenario`` on ``log`` from ``start`` to ``end`` (both inclusive); write results to ``out``."""
    mapping = load_mapping(mapping_path) if mapping_path else None
    folder = out or str(Path(scenario).parent / f"backtest_{start}_{end}")
    bt = backtest(log, scenario, start, end, out=folder, mapping=mapping, replications=replications, seed=seed,
                  staffing=staffing)  # fmt: skip
    files = write_backtest(bt, folder, plots=plots)
    i = bt.info
    echo(f"backtest {i['window'][0]} .. {i['window'][1]}: {i['calls']} calls, {i['replications']} replications, "
         f"staffing: {i['staffing']}")
    echo(f"{'aggregation':<9} {'metric':<13} {'n':>5} {'MAE':>10} {'noise floor':>12} {'ratio':>6}")
    for r in bt.errors.itertuples():
        echo(f"{r.aggregation:<9} {r.metric:<13} {r.n_intervals:>5} {r.mae:>10.4g} {r.noise_floor:>12.4g} "
             f"{r.ratio:>6.2f}")
    echo(f"wrote {len(files)} files to {folder} in {i['seconds_total']} s")
    return {**i, "errors": bt.errors.to_dict(orient="records"), "out": folder}
