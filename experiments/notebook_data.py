"""Which analyst notebooks need data outside the repository, and why one cannot run here.

``notebooks/conftest.py`` skips (with :func:`skip_reason`'s message) a notebook whose data files are absent, so
``make test`` passes on a machine without the real logs instead of failing deep inside a cell. The data folder is
:func:`experiments.replay.data_dir` (``CCSIM_DATA``, else ``shared/data`` next to the checkout).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from experiments.replay import data_dir

__all__ = ["NOTEBOOK_DATA", "skip_reason"]

NOTEBOOK_DATA: Mapping[str, tuple[str, ...]] = {
    "07_calibration_backtest.ipynb": (
        "anonymous-bank-1999/calls_1999-03.csv.gz",
        "anonymous-bank-1999/calls_1999-05.csv.gz",
    ),
}
"""Notebook file name -> the files it reads, relative to the data folder."""


def skip_reason(notebook: str | os.PathLike[str], needs: Mapping[str, Sequence[str]] = NOTEBOOK_DATA) -> str | None:
    """Why ``notebook`` cannot run on this machine (its data files are missing), or ``None`` when it can.

    Args:
        notebook: The notebook's path or file name.
        needs: File name -> data files it reads, relative to :func:`experiments.replay.data_dir`.

    Returns:
        A message naming the missing files, the data folder and how to point ``CCSIM_DATA`` at the data.
    """
    name = os.path.basename(os.fspath(notebook))
    folder = data_dir()
    missing = [f for f in needs.get(name, ()) if not (folder / f).is_file()]
    if not missing:
        return None
    where = "CCSIM_DATA" if os.environ.get("CCSIM_DATA") else "CCSIM_DATA is unset, so the default"
    return (
        f"{name} needs data that is not on this machine: {', '.join(missing)} missing in {folder} ({where} data "
        "folder); set CCSIM_DATA to the folder holding them to run it"
    )
