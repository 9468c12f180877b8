"""The install server's front: nginx in front of gunicorn, started and stopped by ``serve``.

Why: a gunicorn worker thread that starts reading a request holds it until the request is
whole, so a few strangers who send half a request line and stop would hold every thread,
and known hosts' installers would time out behind them. nginx waits for slow and half-sent
requests itself (at most ``client_header_timeout``) and hands gunicorn only whole ones.

gunicorn then listens on loopback only; the client's address travels in ``X-Real-IP``,
which the app believes only beside this run's secret (``SECRET_HEADER``), so a local process
that reaches gunicorn directly cannot speak for another host. TLS ends at nginx. nginx is
Debian's (package nginx, nginx-light or nginx-core); it dies with ``ksserver serve``. It
also sends the files of install trees, with the kernel's sendfile and HTTP Range, once the
app has named the file (``TREE_LOCATION``).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from ksserver.errors import KsError
from ksserver.templating import render

SECRET_HEADER = "X-Ksserver-Front"
#: which of the front's addresses a request came to: ``install`` or ``api`` (set by nginx, never the client)
LISTENER_HEADER = "X-Ksserver-Listener"
#: where the app's ``X-Accel-Redirect`` sends nginx for a file of an install tree (internal:
#: no client can ask for it; the app has checked the file is inside a registered tree)
TREE_LOCATION = "/_ksserver_tree"
_PLAIN_PATH = re.compile(r"[^\s;{}'\"\\$#]+\Z")
_PR_SET_PDEATHSIG = 1


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if not found:
        raise KsError("ksserver serve needs nginx in front of its workers (Debian package nginx); "
                      "or serve with dev=yes")
    return found


def _plain(path: str, what: str) -> str:
    if not _PLAIN_PATH.match(path):
        raise KsError(f'{what} "{path}": a path without spaces, quotes, ";", "{{", "}}", "$" or "#"')
    return path


def _die_with_parent() -> None:  # runs in the child, before nginx starts
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Front:
    def __init__(self, listen: str, backend: str, secret: str, run_dir: Path, tls: dict[str, str] | None = None,
                 read_timeout: int = 60, api_listen: str | None = None):
        self.listen, self.backend, self.secret = listen, backend, secret
        self.api_listen = api_listen
        self.run_dir = run_dir
        self.tls = {k: _plain(os.path.abspath(v), k) for k, v in (tls or {}).items()} or None
        self.read_timeout = read_timeout
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        return render("front/nginx.conf.j2", user="nobody nogroup" if os.geteuid() == 0 else None,
                      tree_location=TREE_LOCATION,
                      run_dir=_plain(str(self.run_dir), "the run directory"), listen=self.listen,
                      backend=self.backend, tls=self.tls, secret=self.secret, secret_header=SECRET_HEADER,
                      listener_header=LISTENER_HEADER, api_listen=self.api_listen,
                      read_timeout=self.read_timeout)

    def check(self) -> None:
        """Write the configuration and have nginx test it (before anything starts)."""
        binary = nginx_binary()
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        conf = self.run_dir / "nginx.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret
        with os.fdopen(fd, "w") as fh:
            fh.write(self.config())
        check = subprocess.run([binary, "-t", "-q", "-p", str(self.run_dir), "-c", str(conf)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise KsError("nginx refused the front's configuration: " + " ".join(check.stderr.split()))

    def start(self) -> None:
        self.proc = subprocess.Popen([nginx_binary(), "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf")],
                                     preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL)
        try:  # nginx says why it cannot listen (the address taken, say) at once, and exits
            self.proc.wait(0.3)
        except subprocess.TimeoutExpired:
            return
        raise KsError(f"nginx, in front of the workers, could not start on {self.listen} (see its message above)")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # nginx's fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
