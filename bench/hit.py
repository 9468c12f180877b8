"""Benchmark: one kickstart request answered from the cache, in-process, with and without
the index of who asked (``Kickstarts._askers``) — what that index earns.

    .venv/bin/python bench/hit.py [--requests 3000] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

KSSERVER = str(Path(sys.executable).parent / "ksserver")


def run(n: int) -> None:
    env = os.environ
    subprocess.run([KSSERVER, "init"], check=True, capture_output=True)
    for argv in (["add", "host", "compute-0-0"],
                 ["add", "host", "interface", "compute-0-0", "eth0", "ip=10.1.255.254", "mac=00:16:3e:00:00:01",
                  "subnet=private"]):
        subprocess.run([KSSERVER, *argv], check=True, capture_output=True, env=env)
    from ksserver.services.install import Ask
    from ksserver.services.kickstart import Kickstarts

    k, ask, slot = Kickstarts(), Ask("10.1.255.254"), (lambda _limit: nullcontext())
    k.answer(ask, slot)
    results = {}
    for label, forget in (("without the index", True), ("with the index", False), ("without, again", True)):
        t = time.perf_counter()
        for _ in range(n):
            if forget:
                k._askers.clear()
            k.answer(ask, slot)
        results[label] = (time.perf_counter() - t) / n * 1000
        print(f"{label:18} {results[label]:6.3f} ms per request")
    base = (results["without the index"] + results["without, again"]) / 2
    print(f"ratio with / without = {results['with the index'] / base:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--postgres", action="store_true")
    opts = ap.parse_args()
    os.environ["KSSERVER_HOME"] = tempfile.mkdtemp(prefix="ksserver-bench-hit-")
    if opts.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from benchlib import throwaway_postgres

        with throwaway_postgres() as url:
            os.environ["KSSERVER_DATABASE_URL"] = url
            run(opts.requests)
    else:
        os.environ.pop("KSSERVER_DATABASE_URL", None)
        run(opts.requests)


if __name__ == "__main__":
    main()
