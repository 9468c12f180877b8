"""PXE boot files at 1,000 and 10,000 hosts (a benchmark, not a test).

    .venv/bin/python bench/bootfiles.py [--hosts 1000,10000] [--tftp-base DIR]

Builds a throw-away SQLite home per size, as ``ksserver init`` leaves it, plus N compute
hosts inserted in bulk (SQLAlchemy core), each with a private interface; half are set to
install (each with its own install token), half to os. Then it times
``ksserver sync host bootfile tftpboot=DIR`` for all hosts, through the CLI command
function itself: first into an empty directory ("cold"), then again over the files it
just wrote ("again": nothing changed), then after every install host got a new token
("re-token": half the files change). It reports seconds, files written and removed, the
files in the directory, and the number of SQL statements each run costs — which must not
grow with the number of hosts. Goal: 10,000 hosts in under 5 s.

The tftpboot directory is made under the throw-away home, or under ``--tftp-base`` (say
``/dev/shm``, to see the cost of the code apart from the disk's cost of creating files).
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ksserver.db import migrate, session as dbsession  # noqa: E402
from ksserver.db.models import Appliance, Host, Interface, Network, OS  # noqa: E402
from ksserver.services import setup, transaction  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import QueryCounter  # noqa: E402



def build(url: str, hosts: int) -> None:
    migrate.upgrade(url)
    with transaction(url) as s:
        setup.initialise(s, setup.read_site_attrs(None), replace_attrs=False)
        app_id = s.scalar(select(Appliance.id).where(Appliance.name == "compute"))
        os_id = s.scalar(select(OS.id).where(OS.name == "linux"))
        net_id = s.scalar(select(Network.id).where(Network.name == "private"))
        names = [f"compute-{i // 1000}-{i % 1000}" for i in range(hosts)]
        rows = []
        for i, name in enumerate(names):
            install = i % 2 == 0
            rows.append(dict(name=name, appliance_id=app_id, os_id=os_id, rack=i // 1000, rank=i % 1000, cpus=4,
                             arch="x86_64", runaction="os", installaction="install",
                             boot_action="install" if install else "os",
                             install_token=secrets.token_urlsafe(24) if install else None))
        for k in range(0, hosts, 5000):
            s.execute(insert(Host), rows[k : k + 5000])
        ids = dict(s.execute(select(Host.name, Host.id)).all())
        ifaces = [
            dict(host_id=ids[name], device="eth0", ip=f"10.1.{i // 250 % 250}.{i % 250 + 2}",
                 mac=f"00:16:3e:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}", network_id=net_id,
                 name=name)
            for i, name in enumerate(names)
        ]
        for k in range(0, hosts, 5000):
            s.execute(insert(Interface), ifaces[k : k + 5000])


def retoken(url: str) -> int:
    """A fresh install token for every host set to install (as ``set host boot`` mints one)."""
    with transaction(url) as s:
        ids = list(s.scalars(select(Host.id).where(Host.boot_action == "install")))
        s.execute(update(Host), [dict(id=i, install_token=secrets.token_urlsafe(24)) for i in ids])
    return len(ids)


def sync_all(counter: QueryCounter, tftp: Path) -> dict:
    from ksserver.cli import main

    counter.count = 0
    buf = io.StringIO()
    t = time.perf_counter()
    with redirect_stdout(buf):
        assert main(["sync", "host", "bootfile", f"tftpboot={tftp}"]) == 0
    out = buf.getvalue()
    seconds = time.perf_counter() - t
    return {"s": seconds, "queries": counter.count, "said": str(out).strip(),
            "files": sum(1 for _ in (tftp / "pxelinux.cfg").iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,10000", help="comma-separated sizes (default 1000,10000)")
    parser.add_argument("--tftp-base", help="where to make the tftpboot directory (default: in the home)")
    args = parser.parse_args()
    results = []
    for hosts in (int(n) for n in args.hosts.split(",")):
        tmp = Path(tempfile.mkdtemp(prefix="ksbench-boot-"))
        try:
            url = f"sqlite:///{tmp}/bench.db"
            os.environ["KSSERVER_HOME"] = str(tmp)
            os.environ["KSSERVER_DATABASE_URL"] = url
            t = time.perf_counter()
            build(url, hosts)
            built = time.perf_counter() - t
            counter = QueryCounter(dbsession.engine(url))
            tftp = Path(tempfile.mkdtemp(prefix="ksbench-tftp-", dir=args.tftp_base)) if args.tftp_base else tmp / "tftpboot"
            cold = sync_all(counter, tftp)
            again = sync_all(counter, tftp)
            retoken(url)
            changed = sync_all(counter, tftp)
            results.append((hosts, built, cold, again, changed))
            dbsession.dispose_all()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if args.tftp_base:
                shutil.rmtree(tftp, ignore_errors=True)
    for hosts, built, cold, again, changed in results:
        print(f"{hosts:>6} hosts (built in {built:.1f} s):")
        for label, r in (("cold    ", cold), ("again   ", again), ("re-token", changed)):
            print(f"    sync host bootfile, {label}: {r['s']:.2f} s, {r['queries']} SQL statements, "
                  f"\"{r['said']}\", {r['files']} files in pxelinux.cfg")
    if len(results) > 1:
        small, big = results[0], results[-1]
        grows = any(b["queries"] > a["queries"] for a, b in zip(small[2:], big[2:]))
        print(f"statements {small[0]} vs {big[0]} hosts: {small[2]['queries']} vs {big[2]['queries']} "
              f"(must not grow with hosts: {'GROWS' if grows else 'ok'})")
        print(f"{big[0]} hosts: {big[2]['s']:.2f} s cold, {big[3]['s']:.2f} s again, {big[4]['s']:.2f} s re-token "
              f"(goal under 5 s)")
        if grows:
            sys.exit(1)


if __name__ == "__main__":
    main()
