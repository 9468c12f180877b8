"""The install server: what installers fetch over HTTP, mapped to and from the services.

Rule: this layer only translates. It turns a request into an ``install.Ask``, calls one
service function, and maps the answer or the error to HTTP; it imports no database module
and holds no inventory state. The one thing it owns is back-pressure, an HTTP concern.

* an unknown or unauthorised requester: 403 with a one-line reason; a bad parameter: 400;
  a host whose text cannot be generated: 500 ``error: cannot generate …`` (logged, and an
  error event); anything else: a one-line 500. Never a 200 with an empty body.
* Back-pressure: kickstart generation takes a slot of a per-process limiter. The global
  attribute ``max_concurrent_profiles`` (default 2 × CPUs) is divided among the worker
  processes (``workers``, rounded up, at least 1 each), so the counter lives in the process
  that holds it: a killed worker takes its slots with it. Beyond the limit: 503 with
  ``Retry-After: 15`` (the installer sleeps and retries). The service identifies the
  requester before it asks for a slot, so strangers never hold one.
* Install trees (``/install/<distro>/<arch>/…``) are public, as the original's /install was;
  the app says which file, the front sends it.
* Every fetch and completion is queued as an install event (``services.events``: grouped
  commits, flushed when the worker exits).
"""

from __future__ import annotations

import hmac
import logging
import threading
from contextlib import contextmanager
from urllib.parse import quote

from flask import Flask, Response, request, send_file

from ksserver.errors import Forbidden, KsError
from ksserver.services import discovery, distros, install, netboot
from ksserver.services import events as install_events
from ksserver.services.kickstart import Kickstarts, Warmer
from ksserver.web.front import SECRET_HEADER, TREE_LOCATION

log = logging.getLogger("ksserver.web")


class Busy(Exception):
    """No kickstart slot free in this process (503)."""


class Limiter:
    """A counting semaphore whose size is given at each acquire (the attribute may change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    @contextmanager
    def slot(self, limit: int):
        with self._lock:
            if self.in_use >= max(1, limit):
                raise Busy
            self.in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= 1


def _text(body: str, status: int, **headers) -> Response:
    line = " ".join(body.split()) + "\n"
    resp = Response(line, status=status, mimetype="text/plain")
    for k, v in headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp


def create_app(warm: bool = False, workers: int = 1, front_secret: str | None = None) -> Flask:
    """The app; ``warm``: render ahead the kickstarts of hosts set to install (``Warmer``),
    as ``ksserver serve`` does in each worker; ``workers``: how many processes share
    ``max_concurrent_profiles``; ``front_secret``: requests come through the front
    (``web.front``), whose ``X-Real-IP`` is believed beside this secret and only then."""
    app = Flask("ksserver")
    limiter = app.extensions["ksserver.limiter"] = Limiter()
    events = app.extensions["ksserver.events"] = install_events.writer()
    kickstarts = app.extensions["ksserver.kickstarts"] = Kickstarts()
    if warm:
        app.extensions["ksserver.warmer"] = Warmer(kickstarts)
        app.extensions["ksserver.warmer"].start()

    def share(limit: int):
        return limiter.slot(-(-limit // max(1, workers)))

    def client() -> str:
        if front_secret is None:
            return request.remote_addr or ""
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), front_secret):
            raise Forbidden("requests reach this server through its front only")
        return request.headers.get("X-Real-IP", "")

    def ask() -> install.Ask:
        macs = tuple((k, v) for k, v in request.headers.items() if k.lower().startswith("x-rhn-provisioning-mac-"))
        return install.Ask(client(), request.args.get("token"), macs, request.args.get("arch"), request.args.get("np"),
                           request.args.get("mac"))

    def respond(produce, stage: str, mimetype: str) -> Response:
        asked = None
        try:
            asked = ask()
            answer = produce(asked)
        except Busy:
            return _text("Service is Busy", 503, Retry_After="15")
        except Forbidden as err:
            return _text(f"forbidden: {err.message}", 403)
        except install.BadRequest as err:
            return _text(err.message, 400)
        except install.Failed as err:
            log.error("%s for %s: %s", err.stage, err.host, err.message)
            events.add(err.host_id, f"{err.stage} error", asked.remote_addr if asked else None, err.message)
            return _text(f"error: cannot generate {err.stage} for {err.host}", 500)
        except KsError as err:
            log.error("%s: %s", stage, err.message)
            return _text(f"error: {err.message}", 500)
        except Exception:  # noqa: BLE001 - logged, and the installer gets a one-line 500
            log.exception("%s failed", stage)
            return _text("error: internal server error", 500)
        events.add(answer.host_id, answer.stage, asked.remote_addr, answer.detail)
        if not answer.text:
            return _text(f"error: empty {stage}", 500)
        return Response(answer.text, status=200, mimetype=mimetype)

    @app.get("/install/sbin/kickstart.cgi")
    @app.get("/install/sbin/public/kickstart.cgi")
    def kickstart():
        return respond(lambda a: kickstarts.answer(a, share), "profile", "application/octet-stream")

    @app.get("/install/sbin/site.attrs")
    @app.get("/install/sbin/public/site.attrs")
    def site_attrs():
        return respond(install.site_attrs, "site.attrs", "text/plain")

    @app.get("/install/sbin/rolls.xml")
    @app.get("/install/sbin/public/rolls.xml")
    def rolls_xml():
        return respond(install.rolls_xml, "rolls.xml", "application/xml")

    @app.post("/install/sbin/installed")
    @app.post("/install/sbin/public/installed")
    def installed():
        return respond(lambda a: install.completed(a, "os"), "installed", "text/plain")

    @app.get("/install/boot/ipxe")
    def ipxe_script():
        answer = respond(install.boot_script, "boot script", "text/plain")
        if answer.status_code == 403 and discovery.current() is not None:
            # a machine insert-ethers is registering: wait, ask DHCP again, come back known
            return Response(discovery.RETRY, status=200, mimetype="text/plain")
        return answer

    @app.get("/install/boot/<loader>")
    def boot_loader(loader):
        """A first-stage loader (``ipxe.efi`` for UEFI HTTP boot): public, as over TFTP."""
        path = netboot.loader_file(loader)
        if path is None:
            return _text(f"not found: /install/boot/{loader}", 404)
        return send_file(path, mimetype="application/efi" if loader.endswith(".efi") else "application/octet-stream")

    @app.get("/install/<name>/<arch>/<path:rest>")
    def tree(name, arch, rest):
        """A file of an install tree (``services.distros``): public, as the original's
        /install was. Behind the front, nginx sends it (sendfile, Range) once the app has
        said which file; the dev server sends it itself."""
        path = distros.served_file(name, arch, rest)
        if path is None:
            return _text(f"not found: /install/{name}/{arch}/{rest}", 404)
        if front_secret is not None:
            resp = Response(status=200)
            resp.headers["X-Accel-Redirect"] = TREE_LOCATION + quote(str(path))
            return resp
        return send_file(path, conditional=True, mimetype="application/octet-stream")

    @app.get("/install/sbin/setPxeboot.cgi")
    @app.get("/install/sbin/public/setPxeboot.cgi")
    def set_pxeboot():
        action = request.args.get("action") or "os"
        if action not in ("os", "run", "install"):
            action = "os"  # as the original: anything odd means os
        return respond(lambda a: install.completed(a, action), f"boot {action}", "text/plain")

    return app
