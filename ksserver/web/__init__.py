"""The install server: what installers fetch over HTTP (spec §3, §4).

``create_app()`` builds the Flask app and touches no database until a request comes.
Every URL identifies the requester with ``services.install.identify`` (source address,
install token, and — only where trusted — MAC headers); an unknown or unauthorised
requester gets 403 with a one-line reason, a bad parameter 400, a generation error 500
(logged); never a 200 with an empty body.

Back-pressure: kickstart generation takes a slot of a per-process limiter. The global
attribute ``max_concurrent_profiles`` (default 2 × CPUs) is divided among the worker
processes (``KSSERVER_WEB_WORKERS``, set by ``ksserver serve``; rounded up, at least 1 each),
so the counter lives in the process that holds it: a crashed or killed worker takes its
slots with it and nothing can leak across processes or servers. Beyond the limit: 503 with
``Retry-After: 15`` (the installer sleeps and retries). The requester is identified before it
takes a slot, so strangers get their 403 without ever holding one.

Every fetch and completion is recorded as an install event, queued once its request has
done its work and written by the app's ``EventWriter`` (``services.events``: grouped
commits, flushed when the worker exits).

Speed: the kickstart URL runs on ``hot_connection()`` (no ORM, autocommit, no ping); one
read of the inventory revision per request, everything else answered from the revision
memo and the per-host rendered cache while nothing it depends on changed. With ``warm``
(``ksserver serve``'s default) a ``Warmer`` renders ahead the kickstarts of hosts set to
install, so that a rack powered on at once is answered from memory.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, Response, request

from ksserver.db.revision import RevisionMemo
from ksserver.errors import Forbidden, KsError
from ksserver.services import events as install_events
from ksserver.services import Disconnected, hot_connection, install, transaction

log = logging.getLogger("ksserver.web")


class Limiter:
    """A counting semaphore whose size is read at each acquire (the attribute may change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    def try_acquire(self, limit: int) -> bool:
        with self._lock:
            if self.in_use >= limit:
                return False
            self.in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_use -= 1


class Warmer:
    """A worker's background thread that renders ahead the kickstarts of hosts set to
    install (``install.warm``): when the worker starts, then whenever the inventory has
    changed, looked at every ``every`` seconds. Requests never wait for it; they find the
    kickstart rendered, or render it themselves as before."""

    def __init__(self, memo: RevisionMemo, every: float = 2.0):
        self.memo = memo
        self.every = every
        self._done: int | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="ksserver-warm", daemon=True)
            self._thread.start()

    def once(self) -> int:
        with hot_connection() as conn:
            cached = self.memo.bind(conn)
            if cached.revision == self._done:
                return 0
            glob = cached("globals", lambda: install.global_attrs(conn))
            done = install.warm(conn, cached, glob)
            self._done = cached.revision
        if done == 1:
            log.info("rendered 1 kickstart ahead of its host's request")
        elif done:
            log.info("rendered %d kickstarts ahead of their hosts' requests", done)
        return done

    def _run(self) -> None:
        last = None
        while True:
            try:
                self.once()
                last = None
            except Exception as err:  # noqa: BLE001 - logged; requests render for themselves
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                if message != last:  # once per new trouble, not every few seconds
                    log.warning("rendering ahead failed: %s", message)
                last = message
            time.sleep(self.every)


class _Busy(Exception):
    """No kickstart slot free in this process (503)."""


def _text(body: str, status: int, **headers) -> Response:
    line = " ".join(body.split()) + "\n"
    resp = Response(line, status=status, mimetype="text/plain")
    for k, v in headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp


def create_app(warm: bool = False) -> Flask:
    """The app; ``warm``: render ahead the kickstarts of hosts set to install (``Warmer``),
    as ``ksserver serve`` does in each worker."""
    app = Flask("ksserver")
    limiter = Limiter()
    app.extensions["ksserver.limiter"] = limiter
    # install events are written behind the response, grouped (services.events)
    events = app.extensions["ksserver.events"] = install_events.writer()
    # inventory reads of the kickstart path, kept while the inventory revision is unchanged
    memo = RevisionMemo()
    workers = max(1, int(os.environ.get("KSSERVER_WEB_WORKERS") or 1))
    if warm:
        warmer = app.extensions["ksserver.warmer"] = Warmer(memo)
        warmer.start()

    def who(session):
        macs = install.parse_mac_headers(request.headers.items())
        host = install.identify(session, request.remote_addr or "", request.args.get("token"), macs)
        return host, install.mac_detail(macs)

    def guarded(stage: str, produce, mimetype: str, identify=who, unit=transaction, retry: bool = True):
        """``produce`` for the identified requester inside one ``unit`` (a transaction),
        answered as the module docstring says; its event queued once the unit commits. A
        connection the database had dropped is replaced and the request done again, once."""
        event = None
        try:
            with unit() as session:
                host, detail = identify(session)
                try:
                    body = produce(session, host)
                except (Forbidden, install.BadRequest):
                    raise
                except KsError as err:
                    log.error("%s for %s: %s", stage, host.name, err.message)
                    events.add(host.id, f"{stage} error", request.remote_addr, err.message)
                    return _text(f"error: cannot generate {stage} for {host.name}", 500)
                event = (host.id, stage, request.remote_addr, detail)
        except _Busy:
            return _text("Service is Busy", 503, Retry_After="15")
        except Forbidden as err:
            return _text(f"forbidden: {err.message}", 403)
        except install.BadRequest as err:
            return _text(err.message, 400)
        except KsError as err:
            if retry and isinstance(err, Disconnected):
                log.warning("%s: %s; trying again on a new connection", stage, err.message)
                return guarded(stage, produce, mimetype, identify, unit, retry=False)
            log.error("%s: %s", stage, err.message)
            return _text(f"error: {err.message}", 500)
        except Exception:  # noqa: BLE001 - logged, and the installer gets a one-line 500
            log.exception("%s failed", stage)
            return _text("error: internal server error", 500)
        events.add(*event)
        if not body:
            return _text(f"error: empty {stage}", 500)
        return Response(body, status=200, mimetype=mimetype)

    @app.get("/install/sbin/kickstart.cgi")
    @app.get("/install/sbin/public/kickstart.cgi")
    def kickstart():
        # The hot path: a Core connection, no ORM session. The revision read first (the
        # memo then answers the global attributes, the requester's record and attribute
        # levels from memory until the inventory changes), then — holding a slot — the
        # installer's arch/np (recorded when they changed) and the kickstart.
        held = False
        glob: dict[str, str] = {}
        cached = None

        def limited_who(conn):
            # who first (cheap, memoised): a stranger is refused without taking a slot, so
            # a flood of them cannot hold real installers back; then a generation slot
            nonlocal held, cached, glob
            cached = memo.bind(conn)
            glob = cached("globals", lambda: install.global_attrs(conn))  # never mutated
            macs = install.parse_mac_headers(request.headers.items())
            rec = install.identify_record(
                conn, request.remote_addr or "", request.args.get("token"), macs, glob, cached
            )
            limit = -(-install.limit_from(glob.get("max_concurrent_profiles")) // workers)
            if not held:  # a retry (Disconnected) keeps the slot it has
                if not limiter.try_acquire(max(1, limit)):
                    raise _Busy
                held = True
            return rec, install.mac_detail(macs)

        def produce(conn, rec):
            rec, reported = install.installer_params(rec, request.args.get("arch"), request.args.get("np"))
            if reported:
                install.record_params(conn, rec.id, reported)
            return install.kickstart_record(conn, rec, glob, cached)

        try:
            return guarded("profile", produce, "application/octet-stream", limited_who, unit=hot_connection)
        finally:
            if held:
                limiter.release()

    @app.get("/install/sbin/site.attrs")
    @app.get("/install/sbin/public/site.attrs")
    def site_attrs():
        return guarded("site.attrs", install.site_attrs, "text/plain")

    @app.get("/install/sbin/rolls.xml")
    @app.get("/install/sbin/public/rolls.xml")
    def rolls_xml():
        return guarded("rolls.xml", install.rolls_xml, "application/xml")

    def _complete(action: str):
        def done(session, host):
            install.completed(session, host, action)
            return f"{host.name} {action}\n"

        return guarded("installed" if action == "os" else f"boot {action}", done, "text/plain")

    @app.post("/install/sbin/installed")
    @app.post("/install/sbin/public/installed")
    def installed():
        return _complete("os")

    @app.get("/install/sbin/setPxeboot.cgi")
    @app.get("/install/sbin/public/setPxeboot.cgi")
    def set_pxeboot():
        action = request.args.get("action") or "os"
        if action not in ("os", "run", "install"):
            action = "os"  # as the original: anything odd means os
        return _complete(action)

    return app
