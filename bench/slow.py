"""Benchmark: known hosts' kickstarts while a stranger holds 64 half-sent requests open.

    .venv/bin/python bench/slow.py [--hosts 100] [--seconds 3] [--stalled 64]

``ksserver serve`` (2 workers, as shipped) on a throw-away home; 4 known hosts ask for
their kickstarts over and over, each on its own connection, for ``--seconds``: first with
nothing else going on, then while ``--stalled`` connections from an unknown address have
sent half a request line and stopped. Reported: requests/s in both phases, their ratio
(goal ≥ 0.9), and requests that failed or took over 5 s (goal 0).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import KSSERVER, addr, build, free_port, wait_port  # noqa: E402


def load(port: int, seconds: float, clients: int = 4) -> tuple[float, int]:
    done, bad = [0] * clients, [0] * clients

    def client(i: int) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(addr(i), 0))
                conn.request("GET", "/install/sbin/kickstart.cgi")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                ok = resp.status == 200 and time.monotonic() - t < 5
            except OSError:
                ok = False
            done[i] += ok
            bad[i] += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0), sum(bad)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--stalled", type=int, default=64)
    opts = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-slow-"))
    env = dict(os.environ, KSSERVER_HOME=str(home))
    env.setdefault("KSSERVER_DATABASE_URL", f"sqlite:///{home / 'ksserver.db'}")
    build(opts.hosts, env)
    port = free_port()
    proc = subprocess.Popen([KSSERVER, "serve", f"bind=127.0.0.1:{port}", "workers=2"], env=env,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        time.sleep(2)  # rendering ahead done
        quiet, quiet_bad = load(port, opts.seconds)
        stalled = []
        for _ in range(opts.stalled):
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.99.99", 0))
            s.sendall(b"GET /install/sbin/kicks")
            stalled.append(s)
        busy, busy_bad = load(port, opts.seconds)
        for s in stalled:
            s.close()
    finally:
        proc.terminate()
        proc.wait(15)
    print(f"known hosts alone:                       {quiet:7.0f} req/s, {quiet_bad} failed or slow")
    print(f"with {opts.stalled} half-sent stranger requests:  {busy:7.0f} req/s, {busy_bad} failed or slow")
    print(f"ratio {busy / quiet:.2f} (goal ≥ 0.9); failed or over 5 s: {quiet_bad + busy_bad} (goal 0)")


if __name__ == "__main__":
    main()
