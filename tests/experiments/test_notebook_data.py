"""Notebooks needing data outside the repository are skipped with a clear reason when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from experiments.notebook_data import NOTEBOOK_DATA, skip_reason

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = "07_calibration_backtest.ipynb"


def test_every_listed_notebook_exists() -> None:
    for name in NOTEBOOK_DATA:
        assert (ROOT / "notebooks" / name).is_file(), name


def test_skip_reason_names_the_missing_files_and_the_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CCSIM_DATA", str(tmp_path))
    reason = skip_reason(ROOT / "notebooks" / CALIBRATION)
    assert reason is not None
    assert "anonymous-bank-1999/calls_1999-03.csv.gz" in reason
    assert "anonymous-bank-1999/calls_1999-05.csv.gz" in reason
    assert str(tmp_path) in reason
    assert "CCSIM_DATA" in reason
    assert skip_reason("01_quick_start.ipynb") is None  # needs nothing outside the repository


def test_skip_reason_is_none_once_the_files_are_there(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CCSIM_DATA", str(tmp_path))
    for relative in NOTEBOOK_DATA[CALIBRATION][:1]:
        (tmp_path / relative).parent.mkdir(parents=True)
        (tmp_path / relative).write_bytes(b"")
    reason = skip_reason(CALIBRATION)
    assert reason is not None
    assert "calls_1999-03" not in reason
    assert "calls_1999-05" in reason
    for relative in NOTEBOOK_DATA[CALIBRATION]:
        (tmp_path / relative).write_bytes(b"")
    assert skip_reason(CALIBRATION) is None


def test_notebooks_conftest_skips_the_calibration_notebook_without_data(tmp_path) -> None:
    """nbmake collects the notebook; notebooks/conftest.py skips it (no kernel starts) with the reason."""
    env = {**os.environ, "CCSIM_DATA": str(tmp_path / "nowhere"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--nbmake",
         str(ROOT / "notebooks" / CALIBRATION)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "needs data that is not on this machine: anonymous-bank-1999/calls_1999-03.csv.gz" in done.stdout
