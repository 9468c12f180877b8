"""``ksserver serve``: nginx in front (``web.front``) of the app under gunicorn, built
in-process; or Flask's own server alone (dev=yes). The API and console (``web.admin``) are
served by the same workers but only on their own address (``api=``, by default this machine
alone): nginx marks which address a request came to, beside the run's secret.

Workers are ``gthread`` workers; each gets ``threads`` threads (default: its share of
``max_concurrent_profiles``, so a burst queues in the accept queue instead of meeting 503).
gunicorn listens on a loopback port of its own; nginx listens on ``bind``, ends TLS, and is
started once gunicorn is ready and stopped when it exits. No database connection is open in
the master when workers fork.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import threading

from ksserver.errors import KsError
from ksserver.web.front import LISTENER_HEADER, SECRET_HEADER

DEFAULT_API = "127.0.0.1:8081"


def _share(workers: int) -> int:
    from ksserver.services import install

    return max(1, -(-install.configured_limit() // workers))  # nothing left open when it forks


def _loopback_port(front_port: int) -> str:
    """A free loopback port for gunicorn, never the one the front is to listen on (the
    kernel may hand back a port just freed, such as one a caller probed for ``bind``)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != front_port:
            return f"127.0.0.1:{port}"


def parse_bind(bind: str | None) -> str:
    """``HOST:PORT``; by default the frontend's private address (where its installers ask)
    on port 8080, or this machine alone when it has none — never every interface unasked."""
    if not bind:
        from ksserver.services import install

        bind = f"{install.private_address() or '127.0.0.1'}:8080"
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise KsError(f'invalid bind "{bind}": use HOST:PORT')
    return bind


def _tls(certfile: str | None, keyfile: str | None) -> dict[str, str]:
    """gunicorn's TLS settings; both files or neither, each readable."""
    if not certfile and not keyfile:
        return {}
    if not (certfile and keyfile):
        raise KsError("HTTPS needs both certfile= and keyfile=")
    for name, path in (("certfile", certfile), ("keyfile", keyfile)):
        try:
            with open(path, "rb"):
                pass
        except OSError as err:
            raise KsError(f"cannot read {name} {path}: {err.strerror}") from None
    return {"certfile": certfile, "keyfile": keyfile}


def _logging() -> None:
    """ksserver's own messages (errors, what was rendered ahead) beside gunicorn's, on stderr."""
    logger = logging.getLogger("ksserver")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                                               "%Y-%m-%d %H:%M:%S %z"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def settle() -> None:
    """Once a worker has loaded the app: everything alive now (modules, the app, compiled
    queries) lives as long as the worker, so the garbage collector stops walking it. A page
    of 1,000 hosts with their attributes makes a million objects; without this, the
    collections they set off walk every imported module too (bench/api.py: a third of the time)."""
    import gc

    gc.collect()
    gc.freeze()


def _worker_exit(app) -> None:
    """A worker that exits (restart, timeout, shutdown) first writes its queued events and
    ends the commands its jobs run (a discovery session opened from the console)."""
    from ksserver.services import jobs

    app.extensions["ksserver.events"].close()
    jobs.stop_all()


def parse_api(api: str | None, bind: str) -> str | None:
    """``api=``: the API and console's ``HOST:PORT`` (default ``127.0.0.1:8081``), or ``no``."""
    from ksserver.truth import NO

    if api is not None and api.strip().lower() in NO:
        return None
    api = api or DEFAULT_API
    host, sep, port = api.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise KsError(f'invalid api "{api}": use HOST:PORT, or api=no')
    if api == bind:
        raise KsError(f"api={api} is the installers' address too: the API and console listen apart")
    return api


def dispatcher(install_app, admin_app, secret: str):
    """One WSGI app for gunicorn: a request the front took on the API's address goes to the
    API and console's app; every other one to the install server's."""
    if admin_app is None:
        return install_app
    key = "HTTP_" + LISTENER_HEADER.upper().replace("-", "_")
    secret_key = "HTTP_" + SECRET_HEADER.upper().replace("-", "_")

    def app(environ, start_response):
        if environ.get(key) == "api" and hmac.compare_digest(environ.get(secret_key, ""), secret):
            return admin_app(environ, start_response)
        return install_app(environ, start_response)

    app.admin = admin_app
    return app


def run(bind: str | None = None, workers: str | None = None, threads: str | None = None, dev: bool = False,
        timeout: str | None = None, certfile: str | None = None, keyfile: str | None = None,
        warm: bool = True, api: str | None = None, power=None, command: list[str] | None = None) -> None:
    bind = parse_bind(bind)
    api_bind = parse_api(api, bind)
    tls = _tls(certfile, keyfile)
    try:
        nworkers = int(workers) if workers else 2
        nthreads = int(threads) if threads else None
        ntimeout = int(timeout) if timeout else 60
    except ValueError:
        raise KsError("workers=, threads= and timeout= take whole numbers") from None
    if nworkers < 1 or (nthreads is not None and nthreads < 1):
        raise KsError("workers= and threads= must be at least 1")
    _logging()
    if dev:
        from werkzeug.serving import make_server

        from ksserver.web import create_app

        ssl_context = (tls["certfile"], tls["keyfile"]) if tls else None
        if api_bind:
            from ksserver.web.admin import create_admin_app

            host, _, port = api_bind.rpartition(":")
            admin = make_server(host, int(port), create_admin_app(power, command or []), threaded=True,
                                ssl_context=ssl_context)
            threading.Thread(target=admin.serve_forever, name="api", daemon=True).start()
        host, _, port = bind.rpartition(":")
        create_app(warm=warm, workers=1).run(host=host, port=int(port), threaded=True, ssl_context=ssl_context)
        return
    if nthreads is None:
        nthreads = _share(nworkers)
    from gunicorn.app.base import BaseApplication

    from ksserver import config
    from ksserver.web.front import Front, nginx_binary

    nginx_binary()  # missing nginx: say so before anything starts
    backend = _loopback_port(int(bind.rpartition(":")[2]))
    secret = secrets.token_urlsafe(24)
    run_dir = config.make_home() / "run" / f"serve-{bind.rpartition(':')[2]}"
    front = Front(bind, backend, secret, run_dir, tls or None, read_timeout=ntimeout + 5, api_listen=api_bind)

    class _Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": [backend],
                "workers": nworkers,
                "worker_class": "gthread",
                "threads": nthreads,
                "timeout": ntimeout,
                "graceful_timeout": 10,
                "keepalive": 5,
                "backlog": 2048,
                "errorlog": "-",
                "loglevel": "info",
                "proc_name": "ksserver",
                # no gunicornc control socket: by default every server on a machine would
                # share one ($XDG_RUNTIME_DIR/gunicorn.ctl), and nothing here uses it
                "control_socket_disable": True,
                "when_ready": lambda _arbiter: front.start(),
                "post_worker_init": lambda _worker: settle(),
                "on_exit": lambda _arbiter: front.stop(),
            }.items():
                self.cfg.set(key, value)

        def load(self):
            from ksserver.web import create_app

            app = create_app(warm=warm, workers=nworkers, front_secret=secret)
            self.cfg.set("worker_exit", lambda _arbiter, _worker: _worker_exit(app))
            admin = None
            if api_bind:
                from ksserver.web.admin import create_admin_app

                admin = create_admin_app(power, command or [], front_secret=secret)
            return dispatcher(app, admin, secret)

    front.check()
    try:
        _Gunicorn().run()
    finally:
        front.stop()
