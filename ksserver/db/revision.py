"""Reads memoised for one inventory revision, per process.

Every change to the inventory bumps ``inventory_revision`` (database triggers), so a memo
bound at the start of a transaction is exact: the first read of each key after any change
goes to the database; later ones are answered from memory. Values must not be mutated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_REVISION = text("SELECT value FROM inventory_revision WHERE id = 1")


class RevisionMemo:
    def __init__(self, limit: int = 100_000):
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._data: dict[Hashable, Any] = {}
        self._limit = limit

    def bind(self, session: Session) -> Callable[[Hashable, Callable[[], Any]], Any]:
        """Read the revision in ``session``'s transaction; returns ``cached(key, compute)``."""
        revision = session.connection().execute(_REVISION).scalar()
        with self._lock:
            if revision != self._revision or len(self._data) > self._limit:
                self._data = {}
                self._revision = revision
            data = self._data

        def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
            try:
                return data[key]
            except KeyError:
                value = data[key] = compute()
                return value

        return cached


def uncached(_key: Hashable, compute: Callable[[], Any]) -> Any:
    """The same interface with no memory: every read goes to the database."""
    return compute()
