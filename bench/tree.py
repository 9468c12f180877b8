"""Serving a 1 GB file of an install tree, beside reading it (a benchmark, not a test).

    .venv/bin/python bench/tree.py [--size-mb 1024] [--runs 3]

A throw-away home with one registered tree holding a file of ``--size-mb``; ``ksserver
serve`` (its nginx front sends tree files with sendfile once the app has named the file)
on a loopback port. Reported, median of ``--runs``, twice: with the file in the page cache
(warm), and read from the disk (cold: the caches dropped before each run, as root):

* baseline: ``cat FILE > /dev/null``, the machine's read speed for that file;
* a bare nginx (sendfile on, the file under its root, no application) fetched with the same
  ``curl -o /dev/null``: what a loopback TCP transfer of that file costs at best here;
* served: ``curl -o /dev/null`` of the file's URL from ``ksserver serve``; its ratio to
  both (goal ≥ 0.8 of the first);
* beside a cold fetch of the big file, the time of a small one (``.treeinfo``), fetched
  again and again: the one nginx worker must not wait on the disk for everyone;
* server CPU per GB: the user + system time of every process of ``ksserver serve``
  (gunicorn, its worker, nginx and its worker) over the runs, divided by the GB sent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from trees import make_tree, public_dir  # noqa: E402

KSSERVER = str(Path(sys.executable).parent / "ksserver")
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cpu(sid: int) -> float:
    """Seconds of CPU (user + system) of every process in session ``sid``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def drop_caches() -> None:
    """The file read from the disk, not the page cache (root only)."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(argv: list[str], runs: int, cold: bool = False) -> float:
    times = []
    for _ in range(runs):
        if cold:
            drop_caches()
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def beside_a_cold_fetch(url: str, small: str, seconds_between: float = 0.02) -> tuple[float, float, int]:
    """While ``url`` is sent from the disk (caches dropped), fetch ``small`` again and again:
    (median, max) of its time and how many. One nginx worker answers every installer; a
    read from the disk that blocked it would hold them all."""
    drop_caches()
    big = subprocess.Popen(["curl", "-s", "-o", "/dev/null", url])
    times = []
    while big.poll() is None:
        t = time.perf_counter()
        subprocess.run(["curl", "-s", "-o", "/dev/null", small], check=True)
        times.append(time.perf_counter() - t)
        time.sleep(seconds_between)
    big.wait()
    return statistics.median(times), max(times), len(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    public = public_dir()
    home = Path(tempfile.mkdtemp(prefix="ksserver-bench-tree-"))
    env = dict(os.environ, KSSERVER_HOME=str(home / "h"))
    env.pop("KSSERVER_DATABASE_URL", None)
    proc = None
    try:
        tree = make_tree(public / "tree")
        big = tree / "BaseOS" / "big.img"
        with open(big, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(opts.size_mb):
                f.write(chunk)
        big.chmod(0o644)
        size = big.stat().st_size
        subprocess.run([KSSERVER, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([KSSERVER, "add", "distro", "big", str(tree)], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        proc = subprocess.Popen([KSSERVER, "serve", f"bind=127.0.0.1:{port}", "workers=1"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/install/big/x86_64/BaseOS/big.img"
        deadline = time.monotonic() + 60
        while subprocess.run(["curl", "-s", "-o", "/dev/null", "-r", "0-0", url]).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit("ksserver serve did not answer")
            time.sleep(0.2)
        cold = {}
        if os.geteuid() == 0:
            cold["cat"] = timed(["sh", "-c", f"cat {big} > /dev/null"], opts.runs, cold=True)
            cold["served"] = timed(["curl", "-s", "-o", "/dev/null", url], opts.runs, cold=True)
            cold["beside"] = beside_a_cold_fetch(url, url.replace("BaseOS/big.img", ".treeinfo"))
        subprocess.run(["cat", str(big)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        base = timed(["sh", "-c", f"cat {big} > /dev/null"], opts.runs)
        bare_port = free_port()
        conf = home / "bare-nginx.conf"
        conf.write_text(
            ("user nobody nogroup;\n" if os.geteuid() == 0 else "")
            + f"daemon off; worker_processes 1; pid {home}/bare.pid; error_log stderr crit;\n"
            f"events {{}}\nhttp {{ access_log off; sendfile on; tcp_nopush on; client_body_temp_path {home}/b;"
            f" proxy_temp_path {home}/p; fastcgi_temp_path {home}/f; uwsgi_temp_path {home}/u; scgi_temp_path {home}/s;"
            f" server {{ listen 127.0.0.1:{bare_port}; location / {{ root {tree}; }} }} }}\n")
        bare = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare_url = f"http://127.0.0.1:{bare_port}/BaseOS/big.img"
        while subprocess.run(["curl", "-s", "-o", "/dev/null", "-r", "0-0", bare_url]).returncode != 0:
            time.sleep(0.1)
        bare_time = timed(["curl", "-s", "-o", "/dev/null", bare_url], opts.runs)
        bare.terminate()
        bare.wait(10)
        cpu0 = session_cpu(proc.pid)
        served = timed(["curl", "-s", "-o", "/dev/null", url], opts.runs)
        cpu = (session_cpu(proc.pid) - cpu0) / (opts.runs * size / 1e9)
        gb = size / 1e9
        print(f"file: {size / 2**20:.0f} MiB; warm (in the page cache):")
        print(f"cat FILE > /dev/null     {base:6.3f} s  {gb / base:6.2f} GB/s")
        print(f"bare nginx (curl)        {bare_time:6.3f} s  {gb / bare_time:6.2f} GB/s")
        print(f"ksserver serve (curl)    {served:6.3f} s  {gb / served:6.2f} GB/s  ratio {base / served:4.2f} to cat "
              f"(goal ≥ 0.8), {bare_time / served:4.2f} to bare nginx")
        print(f"server CPU               {cpu:6.3f} s per GB sent (warm)")
        if cold:
            print("cold (read from the disk):")
            print(f"cat FILE > /dev/null     {cold['cat']:6.3f} s  {gb / cold['cat']:6.2f} GB/s")
            print(f"ksserver serve (curl)    {cold['served']:6.3f} s  {gb / cold['served']:6.2f} GB/s  ratio "
                  f"{cold['cat'] / cold['served']:4.2f} to cat (goal ≥ 0.8)")
            med, worst, n = cold["beside"]
            print(f"a small tree file while the 1 GB file is sent from the disk: median {med * 1000:.1f} ms, "
                  f"max {worst * 1000:.1f} ms ({n} fetches)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
        shutil.rmtree(public, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
