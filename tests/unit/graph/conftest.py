"""Fixtures for the graph engine's tests (helpers live in graph_helpers.py, a unique name)."""

from graph_helpers import gdir, shipped, sitedir  # noqa: F401
