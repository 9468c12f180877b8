"""Attribute resolution at 100 and 10,000 hosts (a benchmark, not a test).

    .venv/bin/python bench/attrs.py [--backend sqlite|postgresql-url]

Builds each inventory with 50 attributes spread over the four levels (20 global, 10 OS,
10 per appliance, 10 per host) beside the 9 intrinsic and host-record values, then reports: the time to resolve one host's attributes
(median of 50; goal: within 20% at both sizes), the time of `ksserver list host attr` for
every host, formatting included (goal under 2 s at 10,000), and the number of SQL
statements each costs (constant: it must not grow with the number of hosts).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from sqlalchemy import insert

from ksserver.attrs import Level
from ksserver.db import migrate, session as dbsession
from ksserver.db.models import Host, HostAttr, Interface
from ksserver.services import attributes, setup, transaction

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import QueryCounter  # noqa: E402



def build(url: str, hosts: int) -> None:
    migrate.upgrade(url)
    with transaction(url) as s:
        demo = setup.read_site_attrs(None)
        site = {k: demo[k] for k in setup.REQUIRED}  # 9 global attributes
        setup.initialise(s, site, replace_attrs=False)
        for i in range(20 - len(site)):
            attributes.set_attr(s, Level.GLOBAL, [], f"bench_global_{i:02d}", f"g{i}")
        for i in range(10):
            attributes.set_attr(s, Level.OS, ["linux"], f"bench_os_{i:02d}", f"o{i}")
        for i in range(9):  # with `managed`, which init sets: 10
            attributes.set_attr(s, Level.APPLIANCE, ["compute"], f"bench_app_{i:02d}", f"a{i}")
        app_id = s.execute(
            __import__("sqlalchemy").text("select id from appliances where name='compute'")
        ).scalar()
        os_id = s.execute(__import__("sqlalchemy").text("select id from oses where name='linux'")).scalar()
        s.execute(
            insert(Host),
            [
                dict(name=f"compute-{i // 1000}-{i % 1000}", appliance_id=app_id, os_id=os_id, rack=i // 1000,
                     rank=i % 1000, cpus=4, arch="x86_64", runaction="os", installaction="install")
                for i in range(hosts)
            ],
        )
        ids = dict(s.execute(__import__("sqlalchemy").text("select name, id from hosts")).all())
        net = s.execute(__import__("sqlalchemy").text("select id from networks where name='private'")).scalar()
        rows, ifaces = [], []
        for i in range(hosts):
            hid = ids[f"compute-{i // 1000}-{i % 1000}"]
            rows += [dict(host_id=hid, name=f"bench_host_{j:02d}", value=f"h{j}-{i}") for j in range(10)]
            ifaces.append(dict(host_id=hid, device="eth0", ip=f"10.1.{(i // 250) % 256}.{i % 250 + 2}",
                               mac=f"00:16:3e:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}",
                               network_id=net, name=f"compute-{i // 1000}-{i % 1000}"))
        for k in range(0, len(rows), 20000):
            s.execute(insert(HostAttr), rows[k : k + 20000])
        s.execute(insert(Interface), ifaces)


def measure(url: str, hosts: int) -> dict:
    from ksserver.cli import main

    counter = QueryCounter(dbsession.engine(url))
    one = []
    for _ in range(50):
        t = time.perf_counter()
        with transaction(url) as s:
            attributes.list_host_attrs(s, ["compute-0-5"])
        one.append(time.perf_counter() - t)
    counter.count = 0
    with transaction(url) as s:
        attributes.list_host_attrs(s, ["compute-0-5"])
    one_queries = counter.count

    import os

    os.environ["KSSERVER_DATABASE_URL"] = url
    counter.count = 0
    t = time.perf_counter()
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["list", "host", "attr"]) == 0
    all_time = time.perf_counter() - t
    return {
        "hosts": hosts,
        "one_ms": statistics.median(one) * 1000,
        "one_queries": one_queries,
        "all_s": all_time,
        "all_queries": counter.count,
        "all_rows": buf.getvalue().count("\n") - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL prefix for PostgreSQL (default: SQLite files)")
    args = parser.parse_args()
    results = []
    for hosts in (100, 10_000):
        tmp = Path(tempfile.mkdtemp(prefix="ksbench-"))
        url = f"sqlite:///{tmp}/bench.db" if not args.database else f"{args.database}"
        t = time.perf_counter()
        build(url, hosts)
        built = time.perf_counter() - t
        res = measure(url, hosts)
        res["build_s"] = built
        results.append(res)
        dbsession.dispose_all()
    small, big = results
    for r in results:
        print(
            f"{r['hosts']:>6} hosts: one host {r['one_ms']:.2f} ms ({r['one_queries']} queries); "
            f"list host attr for all: {r['all_s']:.2f} s, {r['all_rows']} rows ({r['all_queries']} queries); "
            f"built in {r['build_s']:.1f} s"
        )
    print(f"one-host ratio 10,000/100: {big['one_ms'] / small['one_ms']:.2f} (goal within 1.20)")
    print(f"all-hosts at 10,000: {big['all_s']:.2f} s (goal under 2 s)")
    print(f"queries one host: {small['one_queries']} vs {big['one_queries']}; all hosts: {small['all_queries']} vs {big['all_queries']}")


if __name__ == "__main__":
    main()
