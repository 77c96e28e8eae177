"""The honest test of issue 10 point 4: calibrate on one month of the Technion log, backtest in sample and on
held-out weeks of other months, and time calibrate + backtest of one month (point 6).

Run from the repository root (needs ``CCSIM_DATA`` or ``/work/shared/data``)::

    python bench/calibration_technion.py --out runs/calibration_technion

It runs the same commands an analyst would (``ccsim calibrate``, ``ccsim backtest``) and writes
``summary.json`` and ``summary.md`` with every error, noise floor and ratio, and the wall-clock seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from experiments.calibration.commands import run_backtest, run_calibrate
from experiments.replay import data_dir

MAP = Path(__file__).resolve().parents[1] / "experiments" / "calibration" / "maps" / "technion_bank.yaml"
HELD_OUT = [("1999-05", "1999-05-02", "1999-05-08"), ("1999-09", "1999-09-05", "1999-09-11"),
            ("1999-06", "1999-06-06", "1999-06-12")]  # fmt: skip


def main() -> None:
    """Run the calibration, the in-sample backtest and the held-out backtests."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/calibration_technion")
    parser.add_argument("--fit-month", default="1999-03")
    parser.add_argument("-r", "--replications", type=int, default=10)
    parser.add_argument("--map", default=str(MAP), help="calibration mapping (default: the bundled Technion one)")
    args = parser.parse_args()
    out = Path(args.out)
    data = data_dir() / "anonymous-bank-1999"
    log = data / f"calls_{args.fit_month}.csv.gz"

    def quiet(*_: object) -> None:
        return None

    t0 = time.perf_counter()
    report = run_calibrate(str(log), args.map, str(out / "scenario.yaml"), echo=quiet)
    t_cal = time.perf_counter() - t0
    first, last = report["window"]
    t1 = time.perf_counter()
    ins = run_backtest(str(log), str(out / "scenario.yaml"), first, last, out=str(out / "in_sample"),
                       replications=args.replications, echo=quiet)  # fmt: skip
    t_bt = time.perf_counter() - t1
    results = {"fit_month": args.fit_month, "seconds_calibrate": round(t_cal, 1),
               "seconds_backtest_month": round(t_bt, 1),
               "in_sample": ins, "held_out": []}  # fmt: skip
    for month, start, end in HELD_OUT:
        res = run_backtest(str(data / f"calls_{month}.csv.gz"), str(out / "scenario.yaml"), start, end,
                           out=str(out / f"held_out_{start}"), replications=args.replications, echo=quiet)  # fmt: skip
        results["held_out"].append(res)
    (out / "summary.json").write_text(json.dumps(results, indent=1, default=str))
    lines = [f"Fit on {args.fit_month}: calibrate {t_cal:.1f} s, backtest of the month {t_bt:.1f} s "
             f"(total {t_cal + t_bt:.1f} s).", "",
             "| window | staffing | hourly abandonment MAE / floor (ratio) | hourly ASA MAE / floor (ratio) "
             "| hourly P(wait>0) ratio | hourly SL 20 s ratio |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for res in [ins, *results["held_out"]]:
        e = {(r["aggregation"], r["metric"]): r for r in res["errors"]}
        ab, asa = e[("hour", "abandon_rate")], e[("hour", "asa_s")]
        lines.append(f"| {res['window'][0]} .. {res['window'][1]} | {res['staffing'].split(' (')[0]} | "
                     f"{ab['mae']:.4f} / {ab['noise_floor']:.4f} ({ab['ratio']:.2f}) | "
                     f"{asa['mae']:.1f} s / {asa['noise_floor']:.1f} s ({asa['ratio']:.2f}) | "
                     f"{e[('hour', 'p_wait')]['ratio']:.2f} | {e[('hour', 'sl20')]['ratio']:.2f} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
