"""Benchmark: ``ksserver serve`` against a bare Flask app under the same gunicorn settings.

    .venv/bin/python bench/serve.py [--hosts 1000] [--workers 2] [--seconds 3]

Builds a throw-away home (SQLite, or $KSSERVER_DATABASE_URL if set — it must be empty),
adds N compute hosts, each with an interface 127.0.x.y (all of 127/8 is local), starts both
servers on free loopback ports, then for each: sustained requests/s from one host
(sequential, keep-alive), and a burst where all N hosts ask at once (asyncio, one
connection per host, each from its own source address): completion time, p50, p99,
errors and 503s. Goals: throughput ≥ 0.5 × bare, burst ≤ 2 × bare, no errors, no 503.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KSSERVER = str(Path(sys.executable).parent / "ksserver")

BARE = r'''
import os, sys
from flask import Flask, Response
from gunicorn.app.base import BaseApplication
body = b"#" * int(os.environ["BENCH_BODY"])
class App(BaseApplication):
    def load_config(self):
        for k, v in dict(bind=[sys.argv[1]], workers=int(sys.argv[2]), worker_class="gthread",
                         threads=int(sys.argv[3]), timeout=60, keepalive=5, backlog=2048,
                         errorlog="-", loglevel="warning").items():
            self.cfg.set(k, v)
    def load(self):
        app = Flask("bare")
        @app.get("/install/sbin/kickstart.cgi")
        def ks():
            return Response(body, mimetype="application/octet-stream")
        return app
App().run()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def addr(i: int) -> str:
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


def build(n: int, env: dict) -> None:
    subprocess.run([KSSERVER, "init"], env=env, check=True, capture_output=True)
    os.environ.update(env)
    from ksserver.services import inventory, transaction

    with transaction() as session:
        inventory.add_network(session, "loop", "127.0.0.0", "255.0.0.0", dnszone="loop")
        for i in range(n):
            name = f"compute-{i // 250}-{i % 250}"
            inventory.add_host(session, name)
            inventory.add_interface(session, name, "eth0", ip=f"10.1.{200 - i // 250}.{1 + i % 250}",
                                    mac=f"00:16:3e:00:{i // 256:02x}:{i % 256:02x}", subnet="private", name=name)
            inventory.add_interface(session, name, "eth1", ip=addr(i), subnet="loop")
    from ksserver.db.session import dispose_all

    dispose_all()


def wait_port(port: int, proc) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not listen")


def sustained(port: int, source: str, seconds: float) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    n, errors, size = 0, 0, 0
    end = time.monotonic() + seconds
    start = time.monotonic()
    while time.monotonic() < end:
        conn.request("GET", "/install/sbin/kickstart.cgi")
        resp = conn.getresponse()
        size = len(resp.read())
        errors += resp.status != 200
        n += 1
    conn.close()
    return n / (time.monotonic() - start), errors, size


async def one(port: int, source: str) -> tuple[int, float]:
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET /install/sbin/kickstart.cgi HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data else 0
    return status, time.monotonic() - t0


async def burst(port: int, n: int):
    t0 = time.monotonic()
    results = await asyncio.gather(*(one(port, addr(i)) for i in range(n)), return_exceptions=True)
    total = time.monotonic() - t0
    lat = sorted(r[1] for r in results if isinstance(r, tuple))
    codes = [r[0] if isinstance(r, tuple) else "exc" for r in results]
    return total, lat, codes


def report(name, rps, total, lat, codes):
    p50 = statistics.median(lat) if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
    bad = sum(1 for c in codes if c != 200)
    busy = sum(1 for c in codes if c == 503)
    print(f"{name:9} sustained {rps:8.1f} req/s | burst {len(codes)} hosts: {total:6.2f} s, "
          f"p50 {p50 * 1000:7.1f} ms, p99 {p99 * 1000:7.1f} ms, errors {bad}, 503s {busy}")
    return p50, p99, bad, busy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    opts = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-"))
    env = dict(os.environ, KSSERVER_HOME=str(home))
    env.setdefault("KSSERVER_DATABASE_URL", f"sqlite:///{home / 'ksserver.db'}")
    t = time.monotonic()
    build(opts.hosts, env)
    print(f"built {opts.hosts} hosts in {time.monotonic() - t:.1f} s ({env['KSSERVER_DATABASE_URL'].split(':')[0]})")
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen([KSSERVER, "serve", f"bind=127.0.0.1:{port}", f"workers={opts.workers}"],
                                      env=env, stderr=subprocess.DEVNULL))
        wait_port(port, procs[-1])
        # the threads ksserver serve chose (its share of max_concurrent_profiles), for the bare app too
        threads = max(1, -(-2 * (os.cpu_count() or 1) // opts.workers))
        rps, errs, size = sustained(port, addr(0), opts.seconds)
        total, lat, codes = asyncio.run(burst(port, opts.hosts))
        ks = report("ksserver", rps, total, lat, codes + ["err"] * errs)
        bare_port = free_port()
        procs.append(subprocess.Popen([sys.executable, "-c", BARE, f"127.0.0.1:{bare_port}", str(opts.workers),
                                       str(threads)], env=dict(env, BENCH_BODY=str(size)), stderr=subprocess.DEVNULL))
        wait_port(bare_port, procs[-1])
        brps, _, _ = sustained(bare_port, addr(0), opts.seconds)
        btotal, blat, bcodes = asyncio.run(burst(bare_port, opts.hosts))
        report("bare", brps, btotal, blat, bcodes)
        print(f"body {size} bytes, {opts.workers} workers × {threads} threads")
        print(f"throughput ratio {rps / brps:.2f} (goal ≥ 0.5); burst ratio {total / btotal:.2f} (goal ≤ 2); "
              f"errors {ks[2]}, 503s {ks[3]} (goal 0)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)


if __name__ == "__main__":
    main()
