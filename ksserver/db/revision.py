"""Reads memoised for one inventory revision, per process.

Every change to the inventory bumps ``inventory_revision`` (database triggers), so a memo
bound at the start of a transaction is exact: the first read of each key after any change
goes to the database; later ones are answered from memory. Values must not be mutated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ksserver.db.models import InventoryRevision
from ksserver.db.prepared import Prepared
from ksserver.db.session import conn_of

_REVISION = Prepared(select(InventoryRevision.value, InventoryRevision.params).where(InventoryRevision.id == 1))


class RevisionMemo:
    def __init__(self, limit: int = 100_000):
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._data: dict[Hashable, Any] = {}
        self._limit = limit

    def bind(self, db: Session | Connection) -> Callable[[Hashable, Callable[[], Any]], Any]:
        """Read the revision in ``db``'s transaction; returns ``cached(key, compute)``."""
        revision, params = _REVISION.rows(conn_of(db))[0]
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

        cached.revision = revision  # type: ignore[attr-defined]
        # what installers reported of their hosts (arch, cpus) moves this one only: host
        # records are keyed by it as well (``one_or_all(..., version=cached.params)``)
        cached.params = params  # type: ignore[attr-defined]
        return cached


def uncached(_key: Hashable, compute: Callable[[], Any]) -> Any:
    """The same interface with no memory: every read goes to the database."""
    return compute()


BULK_AFTER = 32  # misses of one kind in one revision before the whole table is read


class _Bulk:
    __slots__ = ("misses", "table")

    def __init__(self) -> None:
        self.misses = 0
        self.table: dict | None = None


def one_or_all(cached, kind: str, key: Hashable, one: Callable[[], Any], everything: Callable[[], dict],
               missing: Any = None, version: Hashable = None) -> Any:
    """``cached((kind, key), one)`` — until ``kind`` has missed ``BULK_AFTER`` times in this
    revision; then ``everything()`` (key → value for every key) is read once and answers the
    rest (``missing`` for a key it does not hold). An install storm then costs one statement
    for all hosts instead of one per host, while a revision that changes often (hosts
    completing) never reads more than it is asked for. ``version``: a finer revision the
    values also depend on (the host records on ``cached.params``)."""
    state = cached(("bulk", kind, version), _Bulk)
    table = state.table
    if table is not None:
        return table.get(key, missing)

    def compute() -> Any:
        state.misses += 1
        if state.misses > BULK_AFTER and cached is not uncached:
            state.table = everything()
            return state.table.get(key, missing)
        return one()

    return cached((kind, version, key), compute)
