"""Network boot at 10,000 hosts: Kea's configuration, sync config, and Kea under load
(a benchmark, not a test; as root: it makes a network namespace of its own).

    .venv/bin/python bench/netboot.py [--hosts 10000] [--rates 1000,2000,4000,8000]

A throw-away SQLite home with N compute hosts (bulk inserted, as bench/bootfiles.py), each
with a MAC and an address on the private network, and a real Kea in a namespace. Times:

* generate: the DHCP plan and Kea's JSON for all hosts (no Kea);
* apply: generate + ``config-test`` + ``config-set`` + ``config-write`` (goal ≤ 2 s);
* one host: a command's transaction that changes one host's address, with DHCP following
  it as every CLI command does (goal ≤ 0.5 s); and an unrelated change (one ``config-get``);
* sync config: everything (TFTP root, PXE and GRUB files, hosts file, DHCP) into empty
  directories (goal ≤ 5 s), and again with nothing changed (goal ≤ 1 s);
* perfdhcp (Debian kea-admin) from the far end of the namespace's veth pair, asking with the
  reserved MACs at each rate for 10 s: exchanges completed and drops.

Each time is the median of ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import select  # noqa: E402

from benchlib import kea_namespace, timed  # noqa: E402
from bootfiles import build  # noqa: E402  (bench/bootfiles.py: N hosts in bulk)
from ksserver.attrs import Level  # noqa: E402
from ksserver.db.models import Interface  # noqa: E402
from ksserver.services import attributes, dhcp, inventory, netboot, transaction  # noqa: E402


def perfdhcp(client: str, macs: Path, rate: int, seconds: int) -> tuple[int, int, float]:
    """perfdhcp as a relay (it sends from an address, unicast): from a namespace of its own
    on the far end of the veth pair, so its packets cross the bridge Kea listens on."""
    out = subprocess.run(["ip", "netns", "exec", client, "perfdhcp", "-4", "-l", "nodeB", "-r", str(rate), "-p",
                          str(seconds), "-M", str(macs), "-R", "100000", "-W", "2000000", "10.1.1.1"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", out)]
    received = [int(x) for x in re.findall(r"received packets: (\d+)", out)]
    drops = [float(x) for x in re.findall(r"drops ratio: ([0-9.]+) ?%", out)]
    if not sent:
        raise SystemExit(f"perfdhcp printed no report:\n{out}")
    # two exchanges (DISCOVER-OFFER, REQUEST-ACK): a DORA completes when its ACK comes
    return sent[0], received[-1], max(drops) if drops else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rates", default="1000,2000,4000,8000")
    ap.add_argument("--seconds", type=int, default=10)
    opts = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ksserver-bench-netboot-"))
    os.chmod(work, 0o755)
    home = work / "home"
    home.mkdir(mode=0o700)
    os.environ["KSSERVER_HOME"] = str(home)
    os.environ.pop("KSSERVER_DATABASE_URL", None)
    url = f"sqlite:///{home / 'ksserver.db'}"
    t = time.perf_counter()
    build(url, opts.hosts)
    print(f"{opts.hosts} hosts built in {time.perf_counter() - t:.1f} s")
    with contextlib.ExitStack() as stack:
        ns, kea = kea_namespace(stack, work)
        if kea is None:
            raise SystemExit("bench/netboot.py runs Kea in a network namespace of its own: run it as root")
        with transaction(url) as s:
            for name, value in (("tftpboot_dir", str(work / "tftp")), ("hosts_file", str(work / "hosts")),
                                *kea.attrs().items()):
                attributes.set_attr(s, Level.GLOBAL, [], name, value)

        def generate():
            with transaction(url) as s:
                dhcp.kea_config(dhcp.plan(s))

        def apply():
            with transaction(url) as s:
                netboot.apply_dhcp(s)

        flip = [0]

        def one_host():
            flip[0] ^= 1
            with transaction(url) as s:
                with netboot.following(s):
                    inventory.set_interface(s, "compute-0-7", "eth0", "ip", f"10.1.200.{10 + flip[0]}")

        def unrelated():
            flip[0] ^= 1
            with transaction(url) as s:
                with netboot.following(s):
                    attributes.set_attr(s, Level.GLOBAL, [], "bench_marker", str(flip[0]))

        def sync():
            with transaction(url) as s:
                netboot.sync_config(s)

        with transaction(url) as s:
            size = len(dhcp.report_kea(s))
        print(f"Kea configuration: {size / 1e6:.1f} MB of JSON")
        print(f"generate                 {timed(generate, opts.runs):6.3f} s")
        print(f"generate + test + apply  {timed(apply, opts.runs):6.3f} s   goal ≤ 2 s")
        print(f"one host's address       {timed(one_host, opts.runs):6.3f} s   goal ≤ 0.5 s")
        print(f"an unrelated change      {timed(unrelated, opts.runs):6.3f} s")
        t = time.perf_counter()
        sync()
        print(f"sync config, first       {time.perf_counter() - t:6.3f} s   goal ≤ 5 s")
        print(f"sync config, unchanged   {timed(sync, opts.runs):6.3f} s   goal ≤ 1 s")
        macs = work / "macs.txt"
        with transaction(url) as s:
            macs.write_text("\n".join(m for (m,) in s.execute(select(Interface.mac).where(
                Interface.mac.is_not(None)))) + "\n")
        print(f"perfdhcp, {opts.seconds} s per rate, the {opts.hosts} reserved MACs:")
        client = ns.name + "c"
        subprocess.run(["ip", "netns", "add", client], check=True)
        try:
            ns.run("ip", "link", "set", "nodeB", "netns", client)
            for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", "10.1.200.250/16", "dev", "nodeB"],
                        ["ip", "link", "set", "nodeB", "up"]):
                subprocess.run(["ip", "netns", "exec", client, *cmd], check=True)
            time.sleep(1)
            for rate in (int(r) for r in opts.rates.split(",")):
                sent, received, drops = perfdhcp(client, macs, rate, opts.seconds)
                print(f"  {rate:6d}/s: {sent} DISCOVERs sent, {received} ACKs received, drops {drops:.2f} %")
        finally:
            subprocess.run(["ip", "netns", "del", client])
    subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
