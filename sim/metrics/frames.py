"""Frame conventions every metric follows: empty frames, required columns, row selection, totals and safe ratios.

Counts and sums of nothing are 0, ratios of nothing are NaN, and a missing column is an error that names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import overload

import numpy as np
import pandas as pd

__all__ = ["column_sums", "is_empty", "ratio", "require_columns", "select_rows"]


def is_empty(frame: pd.DataFrame | None) -> bool:
    """Whether ``frame`` is ``None`` or has no rows."""
    return frame is None or len(frame) == 0


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the ``what`` frame's missing columns, if any of ``columns`` is missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {missing}; it has {list(frame.columns)}")


def column_sums(frame: pd.DataFrame | None, columns: Sequence[str], what: str = "intervals") -> dict[str, float]:
    """Column totals; zeros for an empty (or ``None``) frame."""
    if is_empty(frame):
        return dict.fromkeys(columns, 0.0)
    assert frame is not None  # is_empty(None) is True
    require_columns(frame, columns, what)
    totals = frame[list(columns)].to_numpy(dtype=float).sum(axis=0)
    return dict(zip(columns, totals.tolist(), strict=True))


@overload
def ratio(num: float, den: float) -> float: ...
@overload
def ratio(num: np.ndarray, den: np.ndarray | float) -> np.ndarray: ...
@overload
def ratio(num: float, den: np.ndarray) -> np.ndarray: ...
def ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray | float:
    """``num / den`` with NaN where ``den <= 0``, element by element.

    A float for scalar inputs, an array (of the broadcast shape) when either input is an array. Zero-dimensional
    arrays count as scalars at run time, so the array overloads assume arrays of at least one dimension.
    """
    num_a, den_a = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast_shapes(num_a.shape, den_a.shape), np.nan)
    np.divide(num_a, den_a, out=out, where=den_a > 0)
    return out if out.ndim else float(out)


def _mask(frame: pd.DataFrame, column: str, value: str | Sequence[str] | None) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frame[column].eq(value).to_numpy(dtype=bool)
    return frame[column].isin(list(value)).to_numpy(dtype=bool)


def select_rows(frame: pd.DataFrame | None, **equal: str | Sequence[str] | None) -> pd.DataFrame | None:
    """Rows whose columns match every non-``None`` filter (a value or a collection of values)."""
    if frame is None:
        return None
    keep = np.ones(len(frame), dtype=bool)
    for column, value in equal.items():
        mask = _mask(frame, column, value)
        if mask is not None:
            keep &= mask
    return frame if keep.all() else frame.loc[keep]
