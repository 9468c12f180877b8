"""A network namespace of a test's own: servers and clients run inside it, no packet leaves it.

``Netns`` makes the namespace with its loopback up and a bridge for the cluster's private
network, kept up by a veth pair whose far end is where a test's DHCP client (or a VM's tap)
plugs in. Kea opens no socket on a bridge without carrier, hence the pair
(``../shared/spec/netboot-on-debian12.md``). Everything is removed on exit, even after a
failure; processes started with ``popen`` are killed first.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
from pathlib import Path

from waiting import wait_until

_counter = itertools.count()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Netns:
    def __init__(self, frontend_cidr: str, bridge: str = "eth0"):
        self.name = f"ksns{os.getpid()}x{next(_counter)}"
        self.bridge, self.frontend_cidr = bridge, frontend_cidr
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Netns":
        if os.geteuid() != 0:
            raise AssertionError("network-boot tests need root (a network namespace of their own)")
        _ip("netns", "add", self.name)
        try:
            self.run("ip", "link", "set", "lo", "up")
            self.run("ip", "link", "add", self.bridge, "type", "bridge")
            self.run("ip", "addr", "add", self.frontend_cidr, "dev", self.bridge)
            self.run("ip", "link", "add", "nodeA", "type", "veth", "peer", "name", "nodeB")
            self.run("ip", "link", "set", "nodeA", "master", self.bridge)
            for link in ("nodeA", "nodeB", self.bridge):
                self.run("ip", "link", "set", link, "up")
            wait_until(lambda: self.run("cat", f"/sys/class/net/{self.bridge}/operstate").stdout.strip() == "up",
                       timeout=30, what=f"the bridge {self.bridge} to have carrier")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def exec(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
        return subprocess.run(self.exec(list(argv)), check=check, capture_output=True, text=True,
                              timeout=timeout, env=env)

    def popen(self, argv: list[str], log: Path, env=None) -> subprocess.Popen:
        out = open(log, "ab")
        proc = subprocess.Popen(self.exec(argv), stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def __exit__(self, *exc) -> None:
        try:
            self._stop()
        finally:
            # whatever still runs inside (a server a test started another way) goes with it
            pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def _stop(self) -> None:
        for proc in self.procs:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.poll() is not None:
                    break
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(10)
                except ProcessLookupError:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    continue
