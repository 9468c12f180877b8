"""The kickstart path: who is asking, which host, the text — and the one cache of it.

``Kickstarts.answer`` is the whole of what an installer's kickstart request does, for the
web layer to map to HTTP: one statement for the serving state (the inventory's counters
and the server's own attributes), the one identification rule (``install.identify``), a
generation slot taken only once the requester is known (``slot``, held by the caller, so a flood of strangers never holds a slot), what
the installer reports recorded, and the text.

The text comes from one cache, keyed by everything that built it: the host's record, the
inventory revision (database triggers move it on every change) and the graph's generation
(moves when a graph or node file may have changed, ``graph.engine``). Beside it, which
host each known asker named, kept while the inventory's two counters stand, so that a
request answered from the cache costs one small statement. A miss resolves the
host's attributes (``attributes.host_attrs``, the one resolution) and renders the graph
(``profile.kickstart_of``, exactly what ``list host profile`` prints). ``warm`` fills the same
cache ahead of requests for every host set to install whose entry is not current, so it
refills it after every change; ``Warmer`` runs it in the background of each worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager

from ksserver.db import queries
from ksserver.db.models import Appliance, Host
from ksserver.db.queries import HostRecord
from ksserver.db.session import Disconnected, hot_connection
from ksserver.errors import KsError
from ksserver.services import attributes, profile
from ksserver.services.install import Answer, Ask, Failed, identify, installer_params, limit_from, mac_detail, record_params

log = logging.getLogger("ksserver.kickstart")

CACHE_MAX = 20_000  # hosts per process; the oldest entry goes first beyond that


class Kickstarts:
    """The kickstart path of one process (a web worker, or a test)."""

    def __init__(self, url: str | None = None, cache_max: int = CACHE_MAX):
        self._url = url
        self._cache: dict[int, tuple[Hashable, str]] = {}
        # who asked (address, token, MACs) -> (revision, params, the host it named): which host
        # a request names depends on nothing but the inventory, so while neither counter moved
        # a known asker costs no statement but the serving state's. Refused askers are never kept.
        self._askers: dict[tuple, tuple[int, int, HostRecord]] = {}
        self._lock = threading.Lock()
        self._max = cache_max

    # -- the request -----------------------------------------------------------------
    def answer(self, ask: Ask, slot: Callable[[int], AbstractContextManager]) -> Answer:
        """The kickstart for the host that asks. ``slot(limit)`` is entered once the host
        is known, around everything that may take time; it raises to refuse. A connection
        the database had dropped is replaced and the request done again, once."""
        try:
            return self._answer(ask, slot)
        except Disconnected as err:
            log.warning("kickstart: %s; trying again on a new connection", err.message)
            return self._answer(ask, slot)

    def _answer(self, ask: Ask, slot) -> Answer:
        with hot_connection(self._url) as conn:
            state = queries.serving_state(conn)
            who = (ask.remote_addr, ask.token, tuple(sorted(m.mac for m in ask.macs)))
            known = self._askers.get(who)
            if known is not None and known[:2] == (state.revision, state.params):
                rec = known[2]
            else:
                rec = identify(conn, ask, state)
                self._keep(self._askers, who, (state.revision, state.params, rec))
            with slot(limit_from(state.max_concurrent_profiles)):
                rec, reported = installer_params(rec, ask.arch, ask.np)
                if reported:
                    record_params(conn, rec.id, reported)
                try:
                    text = self.text(conn, rec, state.revision)
                except KsError as err:
                    raise Failed(rec, "profile", err.message) from None
        return Answer(rec.id, rec.name, "profile", text, mac_detail(ask.macs))

    # -- the text and its cache ------------------------------------------------------
    @staticmethod
    def _key(rec: HostRecord, revision: int) -> Hashable:
        graph = profile.graph_for(rec.graph)
        return (rec, revision, graph, graph.generation())

    def cached(self, rec: HostRecord, revision: int) -> str | None:
        """The cached text of this host, if it was built from what stands now."""
        key = self._key(rec, revision)
        hit = self._cache.get(rec.id)
        return hit[1] if hit is not None and hit[0] == key else None

    def text(self, db, rec: HostRecord, revision: int, attrs: dict[str, str] | None = None) -> str:
        """The host's kickstart at this inventory revision (``attrs``: its resolved
        attributes when the caller already has them)."""
        key = self._key(rec, revision)  # before anything is read: a change after shows
        hit = self._cache.get(rec.id)
        if hit is not None and hit[0] == key:
            return hit[1]
        text = profile.kickstart_of(rec, attrs if attrs is not None else attributes.host_attrs(db, rec), revision)
        self._keep(self._cache, rec.id, (key, text))
        return text

    def _keep(self, memo: dict, key: Hashable, value) -> None:
        """``memo[key] = value``; beyond ``cache_max`` entries the oldest go first."""
        with self._lock:
            memo.pop(key, None)
            while len(memo) >= self._max:
                memo.pop(next(iter(memo)))
            memo[key] = value

    def warm(self) -> int:
        """Render ahead the kickstart of every host set to install whose cached text is not
        current (none yet, or built before a change). Why: an administrator sets a rack to
        install and powers it on; a minute later every installer asks at once. A host whose
        generation fails is skipped: its own request reports the error. Returns how many
        were rendered."""
        with hot_connection(self._url) as conn:
            revision = queries.serving_state(conn).revision
            records = queries.host_records(conn, (Host.boot_action == "install") & Appliance.node.isnot(None))
            todo = [rec for rec in records if self.cached(rec, revision) is None]
            if not todo:
                return 0
            resolved = attributes.resolve_hosts(conn, todo)
            done = 0
            for rec in todo:
                try:
                    self.text(conn, rec, revision, {k: v.value for k, v in resolved[rec.id].items()})
                except KsError:
                    continue
                done += 1
        return done


class Warmer:
    """A worker's background thread that runs ``Kickstarts.warm`` when the worker starts and
    then every ``every`` seconds (a pass with nothing to do costs two statements). Requests
    never wait for it; they find the text rendered, or render it themselves."""

    def __init__(self, kickstarts: Kickstarts, every: float = 2.0):
        self.kickstarts = kickstarts
        self.every = every
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ksserver-warm", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last = None
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                done = self.kickstarts.warm()
                if done:
                    log.info("rendered %d kickstart%s ahead of %s request%s in %.1f s", done, "" if done == 1 else "s",
                             "its host's" if done == 1 else "their hosts'", "" if done == 1 else "s",
                             time.monotonic() - started)
                last = None
            except Exception as err:  # noqa: BLE001 - logged once per new trouble; requests render for themselves
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                if message != last:
                    log.warning("rendering ahead failed: %s", message)
                last = message
            self._stop.wait(self.every)
