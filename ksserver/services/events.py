"""Install events, written behind the requests that report them (group commit).

A fetch's event is queued and the request answers at once; one writer thread per process
waits ``LINGER`` seconds after the first event for others to join it, then inserts them all
in one transaction. A burst of N requests then costs a few commits instead of N, and no
installer waits on another's write lock (on SQLite every commit takes the one database
write lock, across all worker processes).

What a user sees: an event is in the database within ``LINGER`` seconds and one commit of
its request (``flush()`` writes at once and waits for that); events keep their order within a process; a worker that
exits cleanly writes what it holds (``close()``, called when a gunicorn worker exits and
at interpreter exit); only a worker killed outright loses the events of its last moments.
State changes are never queued: a completion flips the host's boot action in its own
transaction first, and only its event comes here.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from datetime import datetime, timezone

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ksserver.db.models import InstallEvent
from ksserver.db.session import connection

log = logging.getLogger("ksserver.events")

_INSERT = insert(InstallEvent)
LINGER = 0.05  # seconds the first queued event waits for company
MAX_BATCH = 2000  # events per transaction
RETRY_AFTER = 1.0  # seconds before a batch the database did not take is tried again


class EventWriter:
    def __init__(self, url: str | None = None):
        self._url = url
        self._cond = threading.Condition()
        self._queue: list[dict] = []
        self._busy = False
        self._closed = False
        self._urgent = False  # flush() is waiting: no lingering
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.batches = 0  # transactions written: how well the writes were grouped
        self.written = 0

    def add(self, host_id: int, stage: str, remote_addr: str | None, detail: str | None = None) -> None:
        self._put({"host_id": host_id, "stage": stage, "at": datetime.now(timezone.utc),
                   "remote_addr": remote_addr, "detail": detail})

    def _put(self, row: dict) -> None:
        with self._cond:
            if not self._closed:
                self._start()
                self._queue.append(row)
                if len(self._queue) == 1 or len(self._queue) >= MAX_BATCH:
                    self._cond.notify()  # the writer wakes for the first and for a full batch
                return
        self._write([row])  # the process is exiting: no thread to hand it to

    def _start(self) -> None:
        # a forked worker inherits the object but not the thread
        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="ksserver-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                deadline = time.monotonic() + LINGER
                while len(self._queue) < MAX_BATCH and not (self._closed or self._urgent):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if not self._queue:
                    return
                rows, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self._busy = True
            try:
                self._write(rows)
            finally:
                with self._cond:
                    self._busy = False
                    if not self._queue:
                        self._urgent = False
                    self._cond.notify_all()

    def _insert(self, rows: list[dict]) -> int:
        with connection(self._url) as conn:
            conn.execute(_INSERT, rows)
        return len(rows)

    def _write(self, rows: list[dict]) -> None:
        """One transaction for the batch; again once after a pause if the database was away;
        row by row if the database refused a row (a host removed meanwhile), so that one bad
        row does not cost the rest."""
        for attempt in (1, 2):
            try:
                events = self._insert(rows)
            except Exception as err:  # noqa: BLE001 - logged: the installs go on without their records
                if isinstance(err, IntegrityError) or isinstance(err.__cause__, IntegrityError):
                    break
                if attempt == 1:
                    time.sleep(RETRY_AFTER)
                    continue
                log.warning("%d install events not recorded: %s", len(rows), str(err).splitlines()[0])
                self.batches += 1
                return
            self.batches += 1
            self.written += events
            return
        for row in rows:
            try:
                self.written += self._insert([row])
            except Exception as err:  # noqa: BLE001 - logged: the install goes on without its record
                log.warning("install event %s of host %s not recorded: %s", row["stage"], row["host_id"],
                            str(err).splitlines()[0])
        self.batches += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Write every event queued so far, now; ``False`` on timeout."""
        with self._cond:
            if self._queue:
                self._urgent = True
                self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread; later events are written directly."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None:
            thread.join(timeout)


_writers: "weakref.WeakSet[EventWriter]" = weakref.WeakSet()


def writer(url: str | None = None) -> EventWriter:
    """A writer closed at interpreter exit (the web app holds one per app)."""
    w = EventWriter(url)
    _writers.add(w)
    return w


@atexit.register
def _close_all() -> None:
    for w in list(_writers):
        w.close()
