"""Synthetic call logs in the Technion columns, with a known truth, for the calibration tests.

:func:`mmc_log` simulates an FCFS M/M/c+M queue exactly: with FCFS, a call's service would start at the earliest
time an agent is free of the calls ahead of it that were served; if that is later than its patience allows, it
abandons and takes no agent. Every row is written as the Technion log writes it (clock times on the call's day,
``q_time`` in whole seconds, ``NO_SERVER`` for calls nobody served).
"""

from __future__ import annotations

import heapq
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["arrival", "date", "vru_line", "call_id", "customer_key", "priority", "type", "vru_entry", "vru_exit",
           "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time", "server"]  # fmt: skip

MAPPING = """
columns:
  arrival: arrival
  queue_entry: vru_exit
  wait: q_time
  talk: ser_time
  service_start: ser_start
  service_end: ser_exit
  server: server
  outcome: outcome
  intent: type
  priority: priority
  customer: customer_key
outcomes: {served: [AGENT], abandoned: [HANG], ignore: [PHANTOM]}
no_server: [NO_SERVER]
require_any: [q_start, ser_start]
values:
  intent: {PS: retail}
  priority: {"0": normal, "1": normal, "2": urgent}
groups:
  bank: [retail]
day_types: {all: [mon, tue, wed, thu, fri, sat, sun]}
interval: 30min
passthrough: [call_id]
"""


def _clock(day: pd.Timestamp):
    return lambda s: (day + pd.Timedelta(seconds=s)).strftime("%H:%M:%S")


def mmc_log(
    *, days: int = 2, rate_per_h: float = 60.0, agents: int = 3, handle_mean_s: float = 180.0,
    patience_mean_s: float = 300.0, open_h: tuple[int, int] = (8, 16), seed: int = 0, vru_s: int = 5,
) -> pd.DataFrame:
    """A log of ``days`` days (from Mon 1999-03-01), Poisson arrivals during ``open_h``, ``agents`` always there."""
    rng = np.random.default_rng(seed)
    rows = []
    call_id = 0
    for d in range(days):
        day = pd.Timestamp("1999-03-01") + pd.Timedelta(days=d)
        t, end = open_h[0] * 3600.0, open_h[1] * 3600.0
        free = [(open_h[0] * 3600.0, f"AG{k}") for k in range(agents)]
        heapq.heapify(free)
        while True:
            t += rng.exponential(3600.0 / rate_per_h)
            if t >= end:
                break
            t_int = float(np.floor(t))
            q = t_int + vru_s
            patience = rng.exponential(patience_mean_s)
            handle = max(1.0, float(np.round(rng.exponential(handle_mean_s))))
            free_at, name = free[0]
            start = max(q, free_at)
            wait = float(np.ceil(start - q))
            call_id += 1
            clock = _clock(day)
            base = {"arrival": (day + pd.Timedelta(seconds=t_int)).strftime("%Y-%m-%dT%H:%M:%S"),
                    "date": day.strftime("%Y-%m-%d"), "vru_line": "AA0101", "call_id": str(call_id),
                    "customer_key": "", "priority": "1", "type": "PS", "vru_entry": clock(t_int),
                    "vru_exit": clock(q), "vru_time": str(vru_s)}  # fmt: skip
            if patience < wait:
                w = float(np.floor(patience)) + 1.0
                rows.append({**base, "q_start": clock(q), "q_exit": clock(q + w), "q_time": f"{w:.0f}",
                             "outcome": "HANG", "ser_start": "", "ser_exit": "", "ser_time": "0",
                             "server": "NO_SERVER"})  # fmt: skip
                continue
            heapq.heapreplace(free, (q + wait + handle, name))
            rows.append({**base, "q_start": clock(q) if wait > 0 else "", "q_exit": clock(q + wait) if wait > 0 else "",
                         "q_time": f"{wait:.0f}", "outcome": "AGENT", "ser_start": clock(q + wait),
                         "ser_exit": clock(q + wait + handle), "ser_time": f"{handle:.0f}", "server": name})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def write_log(frame: pd.DataFrame, folder: Path, name: str = "calls.csv") -> Path:
    """Write a log as the Technion CSV files are written (all cells text)."""
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def write_mapping(folder: Path, text: str = MAPPING) -> Path:
    """Write the synthetic logs' mapping."""
    path = folder / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return path
