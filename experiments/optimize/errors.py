"""The error of a search that cannot run."""

from __future__ import annotations


class OptimizeError(ValueError):
    """The study cannot be run: its storage cannot be opened, it belongs to another search, or a warm start is bad."""
