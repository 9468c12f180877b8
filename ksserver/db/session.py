"""Engines (one per URL and kind, made on first use) and the units of work: ``transaction()``
for commands, ``hot_connection()`` for the install server's kickstart path."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from ksserver import config
from ksserver.errors import KsError

_lock = threading.Lock()
_engines: dict[tuple[str, bool], tuple[Engine, sessionmaker]] = {}


class Disconnected(KsError):
    """The database dropped the connection (restarted, say); it has been discarded, and the
    unit of work may be tried again on a fresh one."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def engine(url: str | None = None, *, creating: bool = False) -> Engine:
    """``creating``: for ``init``, which may make the database (``create_database``)."""
    return _get(url, creating=creating)[0]


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(url[len("sqlite:///"):].split("?", 1)[0])


def create_database(url: str | None = None) -> None:
    """Make an SQLite database file that is not there yet, readable by its owner only
    (SQLite gives its -wal and -shm files the same mode); other backends' databases are
    the site's to create."""
    path = _sqlite_file(url or config.database_url())
    if path is not None and not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError:
            pass  # SQLite says why, in the words of every other database error


def _get(url: str | None, hot: bool = False, creating: bool = False) -> tuple[Engine, sessionmaker]:
    url = url or config.database_url()
    path = _sqlite_file(url)
    if path is not None and not creating and not path.exists():
        # an SQLite connection would make an empty database: a mistyped KSSERVER_HOME must
        # not leave one behind, nor a command run before `ksserver init`
        raise KsError(f"no ksserver database at {path}: run `ksserver init` first (or set KSSERVER_HOME)")
    with _lock:
        if (url, hot) not in _engines:
            kwargs: dict = {"future": True}
            if url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 30}
            elif not hot:
                kwargs["pool_pre_ping"] = True
            if hot:
                kwargs["isolation_level"] = "AUTOCOMMIT"
            eng = create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                event.listen(eng, "connect", _sqlite_pragmas)
            _engines[(url, hot)] = (eng, sessionmaker(bind=eng, expire_on_commit=False))
        return _engines[(url, hot)]


def dispose_all() -> None:
    """Forget every engine (tests, and after a fork in a pre-forking server)."""
    with _lock:
        for eng, _ in _engines.values():
            eng.dispose()
        _engines.clear()


def _missing_schema(err: Exception) -> bool:
    text = str(err).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _translated(err: Exception) -> KsError | None:
    """A database error as the one-line ``KsError`` a user sees (``None``: not ours to word)."""
    if isinstance(err, DBAPIError) and err.connection_invalidated:
        return Disconnected(f"lost the database connection: {err.orig}".splitlines()[0])
    if isinstance(err, IntegrityError):
        return KsError(f"the database refused the change: {err.orig}".splitlines()[0])
    if isinstance(err, (OperationalError, ProgrammingError)):
        if _missing_schema(err):
            return KsError("the database has no ksserver schema: run `ksserver init` first")
        return KsError(f"database error: {err.orig}".splitlines()[0])
    if isinstance(err, DBAPIError):
        return KsError(f"database error: {err.orig}".splitlines()[0])
    return None


def _raise_translated(err: BaseException) -> None:
    """Raise the user's one-line error for a database error; return for anything else."""
    mapped = _translated(err) if isinstance(err, Exception) and not isinstance(err, KsError) else None
    if mapped is not None:
        raise mapped from err


@contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """One command, one transaction: commit at the end, roll back on any error."""
    _eng, factory = _get(url)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as err:
        session.rollback()
        _raise_translated(err)
        raise
    finally:
        session.close()


@contextmanager
def connection(url: str | None = None) -> Iterator[Connection]:
    """``transaction()`` without the ORM: a Core connection for the install server's hot
    path, where the session's bookkeeping costs more than the statements. Commit at the
    end, roll back on any error, the same one-line errors."""
    eng, _factory = _get(url)
    with eng.connect() as conn:
        try:
            yield conn
            conn.commit()
        except BaseException as err:
            conn.rollback()
            _raise_translated(err)
            raise


@contextmanager
def hot_connection(url: str | None = None) -> Iterator[Connection]:
    """The install server's kickstart path, where round trips are the cost: a Core
    connection in autocommit mode, so no BEGIN, COMMIT or reset ROLLBACK per request (its
    reads are ordered by the revision read first, ``queries.serving_state``; what it records goes
    through ``services.events``), and no ping per checkout: a connection
    the database dropped fails once with ``Disconnected``, is discarded, and the caller may
    try again. The same one-line errors as ``transaction()``."""
    eng, _factory = _get(url, hot=True)
    with eng.connect() as conn:
        try:
            yield conn
        except BaseException as err:
            if isinstance(err, DBAPIError) and err.connection_invalidated:
                eng.dispose()  # the pooled connections went with it (a restart drops them all)
            _raise_translated(err)
            raise


def conn_of(db: Session | Connection) -> Connection:
    """The Core connection of a session (its transaction's) or the connection itself:
    read paths written once serve both ``transaction()`` and ``connection()``."""
    return db.connection() if isinstance(db, Session) else db
