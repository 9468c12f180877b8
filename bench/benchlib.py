"""What the benchmark scripts share (run them from the repository: `.venv/bin/python bench/X.py`)."""

from __future__ import annotations

from sqlalchemy import event


class QueryCounter:
    """Counts the SQL statements an engine runs: a benchmark shows they do not grow per host."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *_args):
        self.count += 1
