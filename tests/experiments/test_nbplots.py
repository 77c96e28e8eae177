"""experiments.nbplots.plot_lever: points at the means, error bars at the CI ends, units, one line per series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from experiments.nbplots import plot_lever


def _table() -> pd.DataFrame:
    rows = []
    for scope_name in ("a", "b"):
        for limit, mean in ((0, 60.0), (200, 20.0), (500, 5.0)):
            rows.append({"limit": limit, "scope_name": scope_name, "metric": "approval_wait_mean_s", "scope": "all",
                         "mean": mean + (scope_name == "b"), "ci_low": mean - 2, "ci_high": mean + 3, "n": 4})
            rows.append({"limit": limit, "scope_name": scope_name, "metric": "escalation_rate", "scope": "all",
                         "mean": 1 - limit / 1000, "ci_low": 0.9 - limit / 1000, "ci_high": 1 - limit / 1000,
                         "n": 4})
    return pd.DataFrame(rows)


def test_plot_lever_draws_means_with_their_intervals_in_the_metrics_units() -> None:
    table = _table()
    table = table[table["scope_name"] == "a"]
    fig = plot_lever(table, "limit", [("approval_wait_mean_s", "all"), ("escalation_rate", "all")], "flagship",
                     lever_label="authority limit (CNY)", reference=0.0)
    assert isinstance(fig, Figure)
    wait_ax, rate_ax = fig.axes[:2]
    assert wait_ax.get_ylabel() == "approval_wait_mean (s)"
    assert rate_ax.get_ylabel() == "escalation_rate (%)"
    assert wait_ax.get_xlabel() == "authority limit (CNY)"
    line = wait_ax.lines[0]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), [0, 200, 500])
    np.testing.assert_allclose(line.get_ydata(), [60.0, 20.0, 5.0])
    # error bars: one vertical segment per point from ci_low to ci_high
    segments = wait_ax.collections[0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segments], [[58, 63], [18, 23], [3, 8]])
    np.testing.assert_allclose(rate_ax.lines[0].get_ydata(), [100.0, 80.0, 50.0])  # shares in %
    assert "flagship · 4 replications" in fig._suptitle.get_text()
    assert any(ln.get_linestyle() == "--" for ln in wait_ax.lines)  # the reference line


def test_plot_lever_one_line_per_series_and_clear_errors() -> None:
    table = _table()
    fig = plot_lever(table, "limit", [("approval_wait_mean_s", "all")], "flagship", series="scope_name")
    ax = fig.axes[0]
    data_lines = [ln for ln in ax.lines if ln.get_marker() == "o"]  # not the error-bar caps
    assert len(data_lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match="lacks column"):
        plot_lever(table.drop(columns="limit"), "limit", [("escalation_rate", "all")], "x")
    with pytest.raises(ValueError, match="no rows"):
        plot_lever(table, "limit", [("fcr", "all")], "x")
