"""For every integration test: a real ``ksserver serve`` (gunicorn) on a free loopback port, and a client that picks its
source address (all of 127/8 is local), so a test can speak as any host."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


from ports import free_port  # noqa: E402,F401  (the tests import it from here too)


KSSERVER = str(Path(sys.executable).parent / "ksserver")


@dataclass
class Reply:
    status: int
    body: str
    headers: dict
    raw: bytes = b""


class Server:
    def __init__(self, home, port: int, proc: subprocess.Popen, log: Path):
        self.home, self.port, self.proc, self.log = home, port, proc, log

    def request(self, path: str, source: str = "127.0.0.1", headers: dict | None = None, method: str = "GET") -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        try:
            try:
                conn.request(method, path, headers=headers or {})
                resp = conn.getresponse()
            except ConnectionError as err:  # say what the server said of it
                raise AssertionError(f"{method} {path}: {err!r}; the server's log ends: "
                                     f"{self.log.read_text(errors='replace')[-3000:]}") from err
            raw = resp.read()
            return Reply(resp.status, raw.decode(errors="replace"), {k.lower(): v for k, v in resp.getheaders()}, raw)
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(home, *args: str, extra_env: dict | None = None) -> Server:
    """``ksserver serve`` on a free port; the API and console only where a test asks (``api=``):
    their default address is one per machine."""
    port = free_port()
    if not any(a.startswith("api=") for a in args):
        args = (*args, "api=no")
    env = dict(os.environ, **home.env(), **(extra_env or {}))
    log = home.path / f"serve-{port}.log"
    proc = subprocess.Popen(
        [KSSERVER, "serve", f"bind=127.0.0.1:{port}", *args],
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    tls = any(a.startswith("certfile=") for a in args)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ksserver serve exited: {log.read_text()}")
        if _answers(port, tls):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError(f"ksserver serve did not answer: {log.read_text()}")
    return Server(home, port, proc, log)


def _answers(port: int, tls: bool) -> bool:
    """Whether the server answers HTTP on ``port`` — any status will do. A bare TCP connect
    is not enough: connecting to a free port of the ephemeral range from loopback can
    connect the socket to itself (TCP simultaneous open), and a test then talked to nothing."""
    import ssl

    conn = (http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=ssl._create_unverified_context())
            if tls else http.client.HTTPConnection("127.0.0.1", port, timeout=2))
    try:
        conn.request("GET", "/install/sbin/site.attrs")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@pytest.fixture
def serve(request):
    servers: list[Server] = []

    def make(home, *args, extra_env=None):
        s = start_server(home, *args, extra_env=extra_env)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


