"""The REST API and the console at 10,000 hosts (a benchmark, not a test).

    .venv/bin/python bench/api.py [--hosts 10000] [--runs 3] [--requests 50]

A throw-away SQLite home with N compute hosts (bulk, as bench/bootfiles.py: an interface
each, half set to install, each of those with an install event so the dashboard has a live
table). Through the app itself (Flask's test client: server time, no socket):

* ``GET /api/v1/hosts?include=attrs`` for every page, at 1,000 and at 100 hosts a page: total
  seconds (goal ≤ 2 s) and the SQL statements of one page (the same at any page size);
  the baseline, in the same run, is ``ksserver list host attr --json`` of every host (the
  same attributes, one CLI call, printed to nothing);
* the same pages through ``ksserver serve`` (nginx, gunicorn), over HTTP on loopback;
* the console's pages, ``--requests`` times each, as a signed-in admin: p50 and p99 of the
  server time (goal p99 ≤ 100 ms): the dashboard and its live part, a page of the host list,
  a host's page, the attribute explain view.

Each API time is the median of ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import orjson  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from benchlib import QueryCounter, timed  # noqa: E402
from bootfiles import build  # noqa: E402  (N hosts in bulk)
from ksserver.db.models import Host, InstallEvent  # noqa: E402
from ksserver.db.session import engine  # noqa: E402
from ksserver.services import transaction, users  # noqa: E402


def events(url: str) -> None:
    """A fetch of its kickstart for every host set to install (the dashboard's live table)."""
    now = datetime.now(timezone.utc)
    with transaction(url) as s:
        ids = list(s.scalars(select(Host.id).where(Host.boot_action == "install")))
        s.execute(insert(InstallEvent), [dict(host_id=i, stage="profile", at=now, remote_addr="10.1.0.1")
                                         for i in ids])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=50)
    opts = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-api-"))
    url = f"sqlite:///{home / 'ksserver.db'}"
    os.environ.update(KSSERVER_HOME=str(home), KSSERVER_DATABASE_URL=url)
    t = time.perf_counter()
    build(url, opts.hosts)
    events(url)
    with transaction(url) as s:
        users.add_user(s, "bench", "bench password", "admin")
    from ksserver.cli import main as cli
    from ksserver.services import tokens

    with transaction(url) as s:
        token = tokens.add_token(s, "bench", "admin")[1]
        read_token = tokens.add_token(s, "bench-read", "read")[1]
    print(f"{opts.hosts} hosts built in {time.perf_counter() - t:.1f} s ({home})")

    from ksserver.web.admin import create_admin_app

    app = create_admin_app(None, [])
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    counter = QueryCounter(engine())

    def all_pages(per_page: int, count: bool = False, headers=auth) -> int:
        """Every page; only the first is parsed (for the number of pages), unless ``count``:
        the time measured is the server's, not the client's JSON parser's."""
        pages, seen, page = 1, 0, 1
        while page <= pages:
            r = client.get(f"/api/v1/hosts?include=attrs&per_page={per_page}&page={page}", headers=headers)
            assert r.status_code == 200, r.data[:200]
            if page == 1 or count:
                body = orjson.loads(r.data)
                pages, seen = body["pages"], seen + len(body["items"])
            page += 1
        return seen

    def baseline() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli(["list", "host", "attr", "--json"]) == 0

    all_pages(1000)  # warm: imports, the engine, the token's last use written
    base = timed(baseline, opts.runs)
    print(f"baseline: ksserver list host attr --json, every host: {base:.2f} s")
    unsettled = timed(lambda: all_pages(1000), opts.runs)
    print(f"GET /api/v1/hosts?include=attrs, every page of 1000, before the worker's gc.freeze: {unsettled:.2f} s")
    from ksserver.web.serve import settle

    settle()  # as each of serve's workers does once it has loaded the app
    for per_page in (1000, 100):
        secs = timed(lambda: all_pages(per_page), opts.runs)
        statements = []
        for size in (10, per_page):
            counter.count = 0
            client.get(f"/api/v1/hosts?include=attrs&per_page={size}&page=2", headers=auth)
            statements.append(counter.count)
        assert all_pages(per_page, count=True) == opts.hosts + 1  # every host, the frontend too
        print(f"GET /api/v1/hosts?include=attrs, every page of {per_page}: {secs:.2f} s "
              f"({secs / base:.2f}× the baseline); statements per page: {statements[0]} at 10 hosts, "
              f"{statements[1]} at {per_page}")

    reading = timed(lambda: all_pages(1000, headers={"Authorization": f"Bearer {read_token}"}), opts.runs)
    print(f"the same, every page of 1000, with a read token (its secrets masked before the fold): {reading:.2f} s "
          f"({reading / base:.2f}× the baseline)")
    served(opts, token)
    page = client.get("/login")
    client.post("/login", data={"name": "bench", "password": "bench password", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "count-installing" in page, page[:300]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    middle = f"compute-{opts.hosts // 2000}-{opts.hosts // 2 % 1000}"
    from ksserver.services import selection

    def pages(path: str, before=lambda: None) -> tuple[float, float]:
        times = []
        for _ in range(opts.requests):
            before()
            t = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        times.sort()
        return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]

    for path in ("/", "/live", "/hosts", f"/hosts?page={opts.hosts // 200}", "/hosts?q=rack3",
                 f"/hosts/{middle}", f"/hosts/{middle}/explain?attr=Kickstart_PrivateGateway",
                 f"/hosts/{middle}/graph.svg", "/clusters", "/vms", "/discovery"):
        p50, p99 = pages(path)
        print(f"console {path}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    # the baseline of the one cache this adds: the natural order of every host, per revision
    p50, p99 = pages(f"/hosts?page={opts.hosts // 200}", selection._ORDER.clear)
    print(f"console /hosts?page={opts.hosts // 200} without the order cache: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def served(opts, token: str) -> None:
    """The same pages through ``ksserver serve`` (nginx, gunicorn, one worker), over HTTP on
    loopback, one connection kept alive: what a client waits, not only the server's time."""
    import http.client
    import subprocess

    from ports import free_port  # tests/ports.py

    port, api_port = free_port(), free_port()
    log = open(Path(os.environ["KSSERVER_HOME"]) / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "ksserver", "serve", f"bind=127.0.0.1:{port}",
                             f"api=127.0.0.1:{api_port}", "workers=1", "warm=no"], stdout=log, stderr=subprocess.STDOUT)
    try:
        conn = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=60)
                conn.request("GET", "/api/v1/hosts?per_page=1", headers={"Authorization": f"Bearer {token}"})
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)

        def pages() -> int:
            n, total = 0, opts.hosts + 1
            for page in range(1, -(-total // 1000) + 1):
                conn.request("GET", f"/api/v1/hosts?include=attrs&per_page=1000&page={page}",
                             headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                n += len(resp.read())
                assert resp.status == 200
            return n

        size = pages()
        secs = timed(pages, opts.runs)
        print(f"served (nginx + gunicorn, loopback): every page of 1000 in {secs:.2f} s, {size / 1e6:.0f} MB")
    finally:
        proc.terminate()
        proc.wait(15)


if __name__ == "__main__":
    main()
