"""A real Kea DHCPv4 server, started inside a test's network namespace (``netns.Netns``).

It starts with an empty configuration whose control socket, lease file, pid and lock files
are in the test's directory; ksserver's ``sync dhcp`` then gives it its real one.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

from waiting import wait_until


class KeaServer:
    def __init__(self, ns, directory: Path, interface: str = "eth0"):
        self.dir = directory
        self.socket = str(directory / "kea4.sock")
        self.leases = str(directory / "leases4.csv")
        self.config = directory / "kea-dhcp4.conf"
        self.log = directory / "kea.log"
        self.config.write_text(json.dumps({"Dhcp4": {
            "interfaces-config": {"interfaces": [interface]},
            "control-socket": {"socket-type": "unix", "socket-name": self.socket},
            "lease-database": {"type": "memfile", "persist": True, "name": self.leases},
            "subnet4": [],
        }}))
        env = {**os.environ, "KEA_PIDFILE_DIR": str(directory), "KEA_LOCKFILE_DIR": str(directory)}
        self.proc = ns.popen(["kea-dhcp4", "-c", str(self.config)], self.log, env=env)
        wait_until(lambda: Path(self.socket).exists() or self.proc.poll() is not None, timeout=30,
                   what="Kea's control socket")
        if self.proc.poll() is not None:
            raise AssertionError(f"Kea did not start: {self.log.read_text()[-2000:]}")

    def attrs(self) -> dict[str, str]:
        """The global attributes that point ksserver at this Kea."""
        return {"Dhcp_LeaseFile": self.leases, "Dhcp_ControlSocket": self.socket}  # in this order: the socket set, DHCP applies

    def leased(self) -> dict[str, str]:
        """MAC → address of the leases Kea wrote to its lease file."""
        out = {}
        path = Path(self.leases)
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                fields = line.split(",")
                if len(fields) > 2 and fields[3] != "0":
                    out[fields[1]] = fields[0]
        return out


def ask(ns, tmp_path: Path, mac: str, *options: str, vendor: str | None = None) -> dict[str, str] | None:
    """What a DHCP client (busybox udhcpc, at the far end of the namespace's veth pair) with
    ``mac``, sending ``options`` (``-x OPT:VAL``) and ``vendor`` (option 60), is told; None
    when nothing answers."""
    out = tmp_path / "udhcpc.env"
    out.unlink(missing_ok=True)
    script = tmp_path / "udhcpc.script"
    script.write_text(f'#!/bin/sh\n[ "$1" = bound ] && env > {out}\nexit 0\n')
    script.chmod(0o755)
    ns.run("ip", "link", "set", "nodeB", "address", mac)
    args = ["busybox", "udhcpc", "-i", "nodeB", "-n", "-q", "-t", "4", "-T", "1", "-s", str(script), "-O", "bootfile"]
    for opt in options:
        args += ["-x", opt]
    if vendor:
        args += ["-V", vendor]
    done = ns.run(*args, check=False, timeout=60)
    if done.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)


_made = itertools.count()


@contextmanager
def hosts_database(pg_server):
    """A fresh database of the suite's PostgreSQL with Kea's schema, made by ``kea-admin
    db-init pgsql`` as a site makes it; yields its URL (by the Unix socket, which Kea in a
    test's network namespace reaches too), and drops it afterwards."""
    if not pg_server.sockdir:
        raise AssertionError("Kea in the test's namespace reaches PostgreSQL by its Unix socket: the suite's own "
                             "server has one (KSSERVER_TEST_PG_URL gives none)")
    name = f"kea_hosts_{os.getpid()}_{next(_made)}"
    pg_server.sql(f"DROP DATABASE IF EXISTS {name}")
    pg_server.sql(f"CREATE DATABASE {name}")
    try:
        made = subprocess.run(["kea-admin", "db-init", "pgsql", "-u", "ksserver", "-n", name, "-h", pg_server.sockdir,
                               "-P", str(pg_server.port)], capture_output=True, text=True)
        assert made.returncode == 0, made.stdout + made.stderr
        yield f"postgresql://ksserver@/{name}?host={pg_server.sockdir}&port={pg_server.port}"
    finally:
        pg_server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
