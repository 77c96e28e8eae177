"""Marks every notebook collected here (nbmake) ``notebook``: ``pytest -m "not notebook"`` skips them.

A notebook whose data is not on this machine (the Technion log of ``07_calibration_backtest``, see
:mod:`experiments.notebook_data`) is skipped with a reason naming the missing files, instead of failing.
"""

import pytest

from experiments.notebook_data import skip_reason


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the ``notebook`` marker to the notebooks' items, and skip those whose data is missing."""
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
            reason = skip_reason(item.path)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
