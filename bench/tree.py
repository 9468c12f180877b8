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
* the same two fetched by a client that reads as ``cat`` does (one 128 KiB buffer, the
  bytes dropped), so the client's own work (curl's 16 KiB reads and writes) is not measured;
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


READER = r"""
import socket, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
buf = memoryview(bytearray(128 * 1024))  # cat's buffer
with socket.create_connection((host, port)) as s:
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    total = 0
    while n := s.recv_into(buf):
        total += n
print(total)
"""


def reader(url: str) -> list[str]:
    """A client that reads the response as ``cat`` reads a file (into one 128 KiB buffer,
    then nothing): what is left of the time is the server's and the socket's."""
    rest = url.split("://", 1)[1]
    hostport, path = rest.split("/", 1)
    host, port = hostport.rsplit(":", 1)
    return [sys.executable, "-c", READER, host, port, "/" + path]


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
            cold["served, cat-like"] = timed(reader(url), opts.runs, cold=True)
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
        bare_read = timed(reader(bare_url), opts.runs)
        bare.terminate()
        bare.wait(10)
        cpu0 = session_cpu(proc.pid)
        served = timed(["curl", "-s", "-o", "/dev/null", url], opts.runs)
        cpu = (session_cpu(proc.pid) - cpu0) / (opts.runs * size / 1e9)
        served_read = timed(reader(url), opts.runs)
        gb = size / 1e9
        print(f"file: {size / 2**20:.0f} MiB; warm (in the page cache):")
        print(f"cat FILE > /dev/null     {base:6.3f} s  {gb / base:6.2f} GB/s")
        print(f"bare nginx (curl)        {bare_time:6.3f} s  {gb / bare_time:6.2f} GB/s")
        print(f"ksserver serve (curl)    {served:6.3f} s  {gb / served:6.2f} GB/s  ratio {base / served:4.2f} to cat "
              f"(goal ≥ 0.8), {bare_time / served:4.2f} to bare nginx")
        print(f"bare nginx (cat-like)    {bare_read:6.3f} s  {gb / bare_read:6.2f} GB/s")
        print(f"ksserver serve (cat-like){served_read:6.3f} s  {gb / served_read:6.2f} GB/s  ratio "
              f"{base / served_read:4.2f} to cat, {bare_read / served_read:4.2f} to bare nginx")
        print(f"server CPU               {cpu:6.3f} s per GB sent (warm)")
        if cold:
            print("cold (read from the disk):")
            print(f"cat FILE > /dev/null     {cold['cat']:6.3f} s  {gb / cold['cat']:6.2f} GB/s")
            print(f"ksserver serve (curl)    {cold['served']:6.3f} s  {gb / cold['served']:6.2f} GB/s  ratio "
                  f"{cold['cat'] / cold['served']:4.2f} to cat (goal ≥ 0.8)")
            print(f"ksserver serve (cat-like){cold['served, cat-like']:6.3f} s  {gb / cold['served, cat-like']:6.2f} "
                  f"GB/s  ratio {cold['cat'] / cold['served, cat-like']:4.2f} to cat (goal ≥ 0.8)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
        shutil.rmtree(public, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
