"""Benchmark: ``ksserver serve`` against a bare Flask app under the same gunicorn settings.

    .venv/bin/python bench/serve.py [--hosts 1000] [--workers 2] [--seconds 3] [--rounds 3] [--cold]
                                    [--installer-params] [--change [--settle 10]] [--postgres] [--bare-front]

Builds a throw-away home (SQLite; with --postgres a PostgreSQL server it starts itself; or
$KSSERVER_DATABASE_URL if set — it must be empty),
adds N compute hosts set to install (as before a reinstall), each with an interface
127.0.x.y (all of 127/8 is local). Each round starts both servers afresh on free loopback
ports, one after the other, and for each measures: sustained requests/s from one host
(sequential, keep-alive), then a burst where all N hosts ask at once (asyncio, one
connection per host, each from its own source address): completion time, p50, p99,
errors and 503s, and the server's CPU time. Reported: every round, then the medians and
their ratios. Goals: throughput ≥ 0.5 × bare, burst ≤ 2 × bare, no errors, no 503.

``ksserver serve`` renders the kickstarts of hosts set to install ahead of their requests;
the sustained phase (a steady state) starts once every worker has logged doing so.
``--cold`` serves with ``warm=no``, so that every request of the burst renders its host's
kickstart itself. ``--change`` sets a global attribute that every kickstart shows
(``Kickstart_Timezone``) after the sustained phase and waits until every worker has
rendered ahead again, or ``--settle`` seconds at most, before the burst — as an
administrator changes a setting and then powers a rack on. ``ksserver serve`` puts nginx in
front of its workers (``web/front.py``); ``--bare-front`` puts the same front before the
bare app, so that both sides pay the same serving stack.
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
KS_PATH = "/install/sbin/kickstart.cgi"  # --installer-params adds what the original's installers send
KSSERVER = str(Path(sys.executable).parent / "ksserver")

BARE = r'''
import os, sys
from flask import Flask, Response
from gunicorn.app.base import BaseApplication
body = b"#" * int(os.environ["BENCH_BODY"])
front = None
bind = sys.argv[1]
if os.environ.get("BENCH_FRONT"):  # the same nginx front ksserver serve puts before its workers
    import socket, pathlib, tempfile
    from ksserver.web.front import Front
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        backend = f"127.0.0.1:{s.getsockname()[1]}"
    front = Front(bind, backend, "bench", pathlib.Path(tempfile.mkdtemp()) / "front")
    front.check()
    bind = backend
class App(BaseApplication):
    def load_config(self):
        for k, v in dict(bind=[bind], workers=int(sys.argv[2]), worker_class="gthread",
                         threads=int(sys.argv[3]), timeout=60, keepalive=5, backlog=2048,
                         errorlog="-", loglevel="warning", control_socket_disable=True).items():
            self.cfg.set(k, v)
        if front:
            self.cfg.set("when_ready", lambda _a: front.start())
            self.cfg.set("on_exit", lambda _a: front.stop())
    def load(self):
        app = Flask("bare")
        @app.get("/install/sbin/kickstart.cgi")
        def ks():
            return Response(body, mimetype="application/octet-stream")
        return app
App().run()
'''


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a server: its master and every worker process."""
    pids = [pid]
    try:
        for tid in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (tid / "children").read_text().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def addr(i: int) -> str:
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


def build(n: int, env: dict) -> None:
    subprocess.run([KSSERVER, "init"], env=env, check=True, capture_output=True)
    os.environ.update(env)
    from ksserver.services import boot, inventory, transaction

    with transaction() as session:
        inventory.add_network(session, "loop", "127.0.0.0", "255.0.0.0", dnszone="loop")
        for i in range(n):
            name = f"compute-{i // 250}-{i % 250}"
            inventory.add_host(session, name)
            inventory.add_interface(session, name, "eth0", ip=f"10.1.{200 - i // 250}.{1 + i % 250}",
                                    mac=f"00:16:3e:00:{i // 256:02x}:{i % 256:02x}", subnet="private", name=name)
            inventory.add_interface(session, name, "eth1", ip=addr(i), subnet="loop")
    with transaction() as session:
        boot.set_hosts_boot(session, ["compute"], "install")
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
        conn.request("GET", KS_PATH)
        resp = conn.getresponse()
        size = len(resp.read())
        errors += resp.status != 200
        n += 1
    conn.close()
    return n / (time.monotonic() - start), errors, size


async def one(port: int, source: str) -> tuple[int, float]:
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(f"GET {KS_PATH} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
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


def stats(lat, codes):
    p50 = statistics.median(lat) if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
    return p50, p99, sum(1 for c in codes if c != 200), sum(1 for c in codes if c == 503)


AHEAD = b"kickstarts ahead of their hosts' requests"  # what every version logs after rendering ahead


def ahead(log) -> int:
    """How many rendering-ahead passes the server has logged so far."""
    log.seek(0)
    return log.read().count(AHEAD)


def wait_ahead(log, target: int, limit: float) -> float | None:
    """Seconds until the server logged ``target`` passes, or None after ``limit`` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if ahead(log) >= target:
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def measure(cmd: list[str], env: dict, port: int, opts) -> dict:
    """Start a server, sustained phase, burst, stop: the figures of one run."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=env, stderr=log)
    warming = cmd[0] == KSSERVER and not opts.cold
    refill = None
    try:
        wait_port(port, proc)
        if warming:  # sustained means the steady state: after each worker rendered ahead
            wait_ahead(log, opts.workers, 60)
        rps, errs, size = sustained(port, addr(0), opts.seconds)
        if opts.change:
            if cmd[0] == KSSERVER:
                opts.zone = (getattr(opts, "zone", 0) + 1) % 12
                before = ahead(log)
                subprocess.run([KSSERVER, "set", "attr", "Kickstart_Timezone", f"Etc/GMT-{opts.zone + 1}"],
                               env=env, check=True, capture_output=True)
                refill = wait_ahead(log, before + opts.workers, opts.settle) if warming else None
            if refill is None:
                time.sleep(opts.settle if warming else 0)
        cpu0 = cpu_seconds(proc.pid)
        total, lat, codes = asyncio.run(burst(port, opts.hosts))
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(15)
    log.seek(0)
    troubles = [line for line in log.read().decode(errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
    for line in troubles[:5]:
        print("  server: " + line, file=sys.stderr)
    p50, p99, bad, busy = stats(lat, codes + ["err"] * errs)
    if opts.change and warming:
        print(f"  after the change every worker rendered ahead again in {refill:.1f} s" if refill is not None else
              f"  after the change the workers did not render ahead again within {opts.settle:.0f} s")
    return dict(rps=rps, total=total, p50=p50, p99=p99, bad=bad, busy=busy, cpu=cpu / opts.hosts, size=size)


def line(name: str, r: dict) -> str:
    return (f"{name:9} sustained {r['rps']:7.0f} req/s | burst: {r['total']:5.2f} s, p50 {r['p50'] * 1000:6.1f} ms, "
            f"p99 {r['p99'] * 1000:6.1f} ms, CPU {r['cpu'] * 1000:4.2f} ms/request, errors {r['bad']}, 503s {r['busy']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="serve with warm=no")
    ap.add_argument("--installer-params", action="store_true",
                    help="ask as the original's installers do: ?arch=x86_64&np=4 (recorded on first fetch)")
    ap.add_argument("--change", action="store_true",
                    help="change a global attribute after the sustained phase, then wait --settle s before the burst")
    ap.add_argument("--settle", type=float, default=10.0)
    ap.add_argument("--postgres", action="store_true", help="on a PostgreSQL server the benchmark starts itself")
    ap.add_argument("--bare-front", action="store_true",
                    help="the bare app behind the same nginx front as ksserver serve (like for like)")
    opts = ap.parse_args()
    if opts.postgres:
        from benchlib import throwaway_postgres

        with throwaway_postgres() as url:
            os.environ["KSSERVER_DATABASE_URL"] = url
            run(opts)
    else:
        run(opts)


def run(opts) -> None:
    global KS_PATH
    if opts.installer_params:
        KS_PATH += "?arch=x86_64&np=4"
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-"))
    env = dict(os.environ, KSSERVER_HOME=str(home))
    env.setdefault("KSSERVER_DATABASE_URL", f"sqlite:///{home / 'ksserver.db'}")
    t = time.monotonic()
    build(opts.hosts, env)
    print(f"built {opts.hosts} hosts set to install in {time.monotonic() - t:.1f} s "
          f"({env['KSSERVER_DATABASE_URL'].split(':')[0]}); ksserver serve warm={'no' if opts.cold else 'yes'}; "
          f"{'a global change before each burst; ' if opts.change else ''}"
          f"requests for {KS_PATH}")
    # the threads ksserver serve chooses (its share of max_concurrent_profiles), for the bare app too
    threads = max(1, -(-2 * (os.cpu_count() or 1) // opts.workers))
    ks_runs, bare_runs = [], []
    size = None
    for n in range(opts.rounds):
        port = free_port()
        ks_runs.append(measure([KSSERVER, "serve", f"bind=127.0.0.1:{port}", f"workers={opts.workers}",
                                f"warm={'no' if opts.cold else 'yes'}"], env, port, opts))
        size = ks_runs[-1]["size"]
        port = free_port()
        bare_env = dict(env, BENCH_BODY=str(size), **({"BENCH_FRONT": "1"} if opts.bare_front else {}))
        bare_runs.append(measure([sys.executable, "-c", BARE, f"127.0.0.1:{port}", str(opts.workers), str(threads)],
                                 bare_env, port, opts))
        print(f"round {n + 1}:")
        print("  " + line("ksserver", ks_runs[-1]))
        print("  " + line("bare", bare_runs[-1]))
    med = {k: statistics.median(r[k] for r in ks_runs) for k in ("rps", "total", "p50", "p99", "cpu")}
    bmed = {k: statistics.median(r[k] for r in bare_runs) for k in ("rps", "total", "p50", "p99", "cpu")}
    bad = sum(r["bad"] for r in ks_runs)
    busy = sum(r["busy"] for r in ks_runs)
    print(f"medians of {opts.rounds} rounds, {opts.hosts} hosts, body {size} bytes, "
          f"{opts.workers} workers × {threads} threads:")
    print("  " + line("ksserver", dict(med, bad=bad, busy=busy)))
    print("  " + line("bare", dict(bmed, bad=sum(r["bad"] for r in bare_runs), busy=sum(r["busy"] for r in bare_runs))))
    print(f"throughput ratio {med['rps'] / bmed['rps']:.2f} (goal ≥ 0.5); burst ratio {med['total'] / bmed['total']:.2f} "
          f"(goal ≤ 2); errors {bad}, 503s {busy} (goal 0)")


if __name__ == "__main__":
    main()
