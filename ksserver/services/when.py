"""How a moment is shown in listings, once: UTC, to the second (SQLite keeps no zone: we store UTC)."""

from __future__ import annotations

from datetime import datetime, timezone


def shown(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")
