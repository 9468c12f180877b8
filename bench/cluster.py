"""Benchmark: ``add cluster`` with many computes over ten containers.

Run from the repository root::

    .venv/bin/python bench/cluster.py [--computes 1000] [--containers 10]

Each run uses a fresh SQLite home, initialised with the demo site.attrs, with ``--containers`` VM containers that
keep their disk images in a ``vm_disk_dir``.  It reports the wall time of one
``add cluster`` (goal: < 10 s for 1,000 computes) and the number of SQL statements it
ran, counted with a SQLAlchemy ``before_cursor_execute`` listener, at 100 and at
``--computes`` computes: the count must grow linearly or better.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run_once(computes: int, containers: int, url: str | None) -> tuple[float, int]:
    from sqlalchemy import event

    from ksserver.db import session as dbsession
    from ksserver.services import setup, transaction, vms
    from ksserver.services import attributes, inventory
    from ksserver.attrs import Level

    home = Path(tempfile.mkdtemp(prefix="ksbench-"))
    os.environ["KSSERVER_HOME"] = str(home)
    os.environ["KSSERVER_DATABASE_URL"] = url or f"sqlite:///{home / 'ksserver.db'}"
    dbsession.dispose_all()
    setup.upgrade_schema()
    with transaction() as s:
        setup.initialise(s, setup.read_site_attrs(None), replace_attrs=True)
        for i in range(containers):
            inventory.add_host(s, f"vm-container-0-{i}")
        attributes.set_attr(s, Level.GLOBAL, [], "vm_disk_dir", str(home / "disks"))

    count = 0

    def counter(*_a, **_k):
        nonlocal count
        count += 1

    eng = dbsession.engine()
    event.listen(eng, "before_cursor_execute", counter)
    start = time.perf_counter()
    with transaction() as s:
        lines = vms.add_cluster(s, "vi-1.rocksclusters.org", "137.110.119.118", str(computes))
    elapsed = time.perf_counter() - start
    event.remove(eng, "before_cursor_execute", counter)
    assert len(lines) == computes + 1
    dbsession.dispose_all()
    return elapsed, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--computes", type=int, default=1000)
    ap.add_argument("--containers", type=int, default=10)
    args = ap.parse_args()
    small_t, small_n = run_once(100, args.containers, None)
    big_t, big_n = run_once(args.computes, args.containers, None)
    print(f"add cluster, {args.containers} containers")
    print(f"  {100:>6} computes: {small_t:7.3f} s  {small_n:6d} SQL statements")
    print(f"  {args.computes:>6} computes: {big_t:7.3f} s  {big_n:6d} SQL statements")
    ratio = big_n / small_n if small_n else float("inf")
    scale = args.computes / 100
    print(f"  statements grew x{ratio:.2f} for x{scale:.0f} computes ({'linear or better' if ratio <= scale else 'WORSE than linear'})")
    print(f"  goal < 10 s at 1,000 computes: {'met' if big_t < 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
