"""Statements of the install server's hot path, compiled once and run on the DBAPI cursor.

Per execution SQLAlchemy computes the statement's cache key, sets up a result object and
processes every row; for the small reads an installer's request makes, that costs several
times the statement itself. A ``Prepared`` statement is still written with SQLAlchemy (one
definition, every dialect) but compiled once per dialect, bound by name and fetched as
plain tuples. Only for statements whose columns need no result processing (integers and
strings): dates and the like stay on the ordinary path.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class Prepared:
    def __init__(self, stmt, *names: str):
        self.stmt = stmt
        self.names = names
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _compile(self, conn: Connection):
        dialect = conn.dialect
        key = f"{dialect.name}:{dialect.paramstyle}"
        hit = self._compiled.get(key)
        if hit is None:
            compiled = self.stmt.compile(dialect=dialect)
            defaults = compiled.construct_params({n: None for n in self.names})
            order = tuple(compiled.positiontup) if compiled.positional else None
            hit = (compiled.string, order, defaults)
            with self._lock:
                self._compiled[key] = hit
        return hit

    def rows(self, conn: Connection, **params: Any) -> list[tuple]:
        """Every row, as tuples, in the transaction of ``conn``."""
        sql, order, defaults = self._compile(conn)
        values = {**defaults, **params}
        bound = tuple(values[k] for k in order) if order is not None else values
        dbapi_error = conn.dialect.loaded_dbapi.Error
        cursor = None
        try:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(sql, bound)
                return cursor.fetchall()
            finally:
                cursor.close()
        except dbapi_error as err:
            # as SQLAlchemy would raise it (a dropped connection discarded and said so), so
            # callers see one kind of database error
            dropped = conn.dialect.is_disconnect(err, conn.connection.dbapi_connection, cursor)
            if dropped:
                conn.invalidate(err)
            raise DBAPIError.instance(sql, bound, err, dbapi_error, connection_invalidated=dropped) from err

    def scalar(self, conn: Connection, **params: Any) -> Any:
        rows = self.rows(conn, **params)
        return rows[0][0] if rows else None
