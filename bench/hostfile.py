"""``load hostfile`` with 10,000 rows (a benchmark, not a test; as root it also runs a real
Kea in a network namespace of its own, to count how often DHCP is applied).

    .venv/bin/python bench/hostfile.py [--rows 10000]

A throw-away home set up by ``ksserver init``; a sheet of N compute hosts, one interface
each, half with explicit addresses and half ``auto``. Timed through the CLI's own
dispatcher (in this process, one command, one transaction, DHCP following it as for any
command): ``dry-run=yes`` (the whole check: goal ≤ 2 s) and the load itself (goal ≤ 10 s),
with the SQL statements each costs and, with Kea, the ``config-set`` commands Kea received.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from benchlib import QueryCounter, kea_namespace  # noqa: E402
from ksserver.cli import main  # noqa: E402
from ksserver.db import session as dbsession  # noqa: E402


def run(*argv: str) -> tuple[float, str]:
    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    took = time.perf_counter() - t
    if code != 0:
        raise SystemExit(f"ksserver {' '.join(argv)} failed: {err.getvalue()}")
    return took, (out.getvalue().splitlines() or [""])[0]


def main_() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    opts = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ksserver-bench-hostfile-"))
    os.chmod(work, 0o755)
    os.environ["KSSERVER_HOME"] = str(work / "home")
    os.environ.pop("KSSERVER_DATABASE_URL", None)
    run("init")
    run("set", "attr", "tftpboot_dir", str(work / "tftp"))
    sheet = work / "hosts.csv"
    lines = ["NAME,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK"]
    for i in range(opts.rows):
        ip = f"10.1.{100 + i // 250}.{i % 250 + 1}" if i % 2 else "auto"
        lines.append(f"compute-{i // 1000}-{i % 1000},compute,{i // 1000},{i % 1000},{ip},"
                     f"52:54:{(i >> 24) & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x},eth0,private")
    sheet.write_text("\n".join(lines) + "\n")
    with contextlib.ExitStack() as stack:
        _ns, kea = kea_namespace(stack, work)
        for name, value in (kea.attrs() if kea else {}).items():
            run("set", "attr", name, value)
        engine = dbsession.engine()
        counter = QueryCounter(engine)
        took, said = run("load", "hostfile", str(sheet), "dry-run=yes")
        print(f"{opts.rows} rows, dry-run (every check)  {took:6.2f} s  {counter.count} statements   goal ≤ 2 s")
        print(f"  {said}")
        sets = kea.log.read_text().count("Received command 'config-set'") if kea else 0
        counter.count = 0
        took, said = run("load", "hostfile", str(sheet))
        print(f"{opts.rows} rows, load                   {took:6.2f} s  {counter.count} statements   goal ≤ 10 s")
        print(f"  {said}")
        if kea:
            applied = kea.log.read_text().count("Received command 'config-set'") - sets
            print(f"  DHCP applied {applied} time{'' if applied == 1 else 's'} (Kea's config-set commands)")
    os.system(f"rm -rf {work}")


if __name__ == "__main__":
    main_()
