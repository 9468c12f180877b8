"""Benchmark: how long a command takes, whole (start-up included), beside ``python -c pass``.

    .venv/bin/python bench/cli.py [--runs 7]

A throw-away home with 100 hosts; each command run ``--runs`` times in a fresh process,
median wall time reported, and its ratio to ``python -c pass`` in the same run: once
handed to the resident command process (as a user's second command is), once in its own
process (``KSSERVER_RESIDENT=no``, as the first is). Goal (issue 11): ``ksserver list
host`` and ``ksserver set host attr`` ≤ 0.2 s each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KSSERVER = str(Path(sys.executable).parent / "ksserver")


def wall(argv: list[str], env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    opts = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-cli-"))
    env = dict(os.environ, KSSERVER_HOME=str(home))
    env.pop("KSSERVER_DATABASE_URL", None)
    subprocess.run([KSSERVER, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    from ksserver.services import inventory, transaction

    with transaction() as session:
        for i in range(100):
            inventory.add_host(session, f"compute-0-{i}")
    alone = dict(env, KSSERVER_RESIDENT="no")
    subprocess.run([KSSERVER, "list", "host"], env=env, check=True, stdout=subprocess.DEVNULL)
    while not (home / "cli.sock").exists():  # the first command started the resident
        time.sleep(0.05)
    base = wall([sys.executable, "-c", "pass"], env, opts.runs)
    print(f"python -c pass                      {base:6.3f} s")
    for label, argv in (("ksserver help", ["help"]), ("ksserver list host", ["list", "host"]),
                        ("ksserver set host attr", ["set", "host", "attr", "compute-0-5", "rack_note", "x"])):
        for how, e in (("resident", env), ("own process", alone)):
            t = wall([KSSERVER, *argv], e, opts.runs)
            goal = "" if argv == ["help"] else "  goal ≤ 0.2 s: " + ("met" if t <= 0.2 else "NOT met")
            print(f"{label:24} {how:11} {t:6.3f} s  ({t / base:4.1f} × python -c pass){goal}")
    subprocess.run(["kill", (home / "cli.lock").read_text().strip()], check=False)


if __name__ == "__main__":
    main()
