"""The recorder's aggregation helpers against plain definitions: counts by position, and periods over intervals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.log import add_bins, spread


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 60),
    data=st.data(),
    weighted=st.booleans(),
)
def test_add_bins_is_a_full_length_bincount(size, data, weighted):
    index = np.array(data.draw(st.lists(st.integers(0, size - 1), max_size=40)), dtype=np.int64)
    weights = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=len(index), max_size=len(index))))
    start = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=size, max_size=size)))
    ours, full = start.copy(), start.copy()
    add_bins(ours, index, weights if weighted else None)
    full += np.bincount(index, weights=weights if weighted else None, minlength=size)
    assert np.array_equal(ours, full)  # the same sums, bit for bit


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n_int=st.integers(1, 12), n_col=st.integers(1, 3))
def test_spread_adds_each_periods_overlap_with_each_interval(data, n_int, n_col):
    interval = 30.0
    n = data.draw(st.integers(0, 15))
    start = np.array(data.draw(st.lists(st.floats(-50, n_int * interval + 50), min_size=n, max_size=n)))
    length = np.array(data.draw(st.lists(st.floats(0, 5 * interval), min_size=n, max_size=n)))
    column = np.array(data.draw(st.lists(st.integers(0, n_col - 1), min_size=n, max_size=n)), dtype=np.int64)
    end = start + length
    out = np.zeros((n_int, n_col))
    spread(out, start, end, column, interval)
    expected = np.zeros((n_int, n_col))
    for s, e, c in zip(start, end, column, strict=True):
        for k in range(n_int):
            expected[k, c] += max(0.0, min(e, (k + 1) * interval) - max(s, k * interval))
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
