"""What the benchmark scripts share (run them from the repository: `.venv/bin/python bench/X.py`)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event


def timed(fn, runs: int) -> float:
    """The median wall time of ``runs`` calls of ``fn``, in seconds."""
    import statistics
    import time

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class QueryCounter:
    """Counts the SQL statements an engine runs: a benchmark shows they do not grow per host."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *_args):
        self.count += 1


@contextmanager
def throwaway_postgres(unix: bool = False) -> Iterator[str]:
    """A PostgreSQL server of its own (Debian's postgresql binaries, a temporary data
    directory, loopback only, durability off as in the tests); yields the SQLAlchemy URL of
    an empty database (``unix``: by its Unix socket, which a network namespace reaches too),
    and stops the server and removes its files afterwards."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        raise SystemExit("PostgreSQL is not installed (Debian package postgresql)")
    bindir = Path(binaries[-1]).parent
    workdir = Path(tempfile.mkdtemp(prefix="ksserver-bench-pg-"))
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(workdir, 0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-U", "ksserver", "-A", "trust", "-E", "UTF8",
                             "--no-sync"], check=True, capture_output=True)
    opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200")
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(workdir / "log"), "-w",
                             "start"], check=True, capture_output=True)
    try:
        subprocess.run(prefix + [str(bindir / "createdb"), "-h", str(sock), "-p", str(port), "-U", "ksserver",
                                 "bench"], check=True, capture_output=True)
        yield (f"postgresql+psycopg://ksserver@/bench?host={sock}&port={port}" if unix
               else f"postgresql+psycopg://ksserver@127.0.0.1:{port}/bench")
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def kea_namespace(stack, work: Path):
    """A network namespace of the bench's own with a real Kea in it (``tests/netns.py``,
    ``tests/kea.py``), entered on ``stack``; ``(None, None)`` unless this runs as root."""
    if os.geteuid() != 0:
        return None, None
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from kea import KeaServer
    from netns import Netns

    ns = stack.enter_context(Netns("10.1.1.1/16"))
    (work / "kea").mkdir()
    return ns, KeaServer(ns, work / "kea")
