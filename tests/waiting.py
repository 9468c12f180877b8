"""The one way tests wait for something a server or VM does on its own time: poll, and fail
with what was awaited (never a fixed sleep)."""

from __future__ import annotations

import time


def wait_until(predicate, what: str, timeout: float = 60.0, interval: float = 0.05):
    """``predicate()``'s first true value; ``AssertionError`` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
