"""Marks every notebook collected here (nbmake) ``notebook``: ``pytest -m "not notebook"`` skips them."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the ``notebook`` marker to the notebooks' items."""
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
