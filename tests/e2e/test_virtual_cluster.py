"""The talk's second half, end to end: "Login to the VM frontend, run insert-ethers; on the
physical frontend, start host vm hosted-vm-0-0-0. The software configuration comes from the
VM frontend; the power control comes from the physical frontend."

Two ksserver homes, each with its own database, in network namespaces this test makes (and
removes); no packet leaves them.

* The **physical frontend** (namespace ``phys``): ``add cluster vi-1.rocksclusters.org
  137.110.119.118 2`` as in the seed, then ``start host vm`` through a libvirtd of the test's
  own in that namespace (``netns_libvirtd``: QEMU's taps land on the namespace's bridges). The
  start makes the cluster's VLAN bridge ``xenbr.eth0.2`` with pyroute2 and puts the computes'
  NICs on it; they boot the network.
* The **VM frontend** (namespace ``vi-1``): its own Kea, ``in.tftpd``, ``ksserver serve`` and
  ``insert-ethers count=2``, on a link plugged into that bridge: the VM frontend's NIC. Its
  own install from the physical frontend is the lights-out test's.

The computes are discovered as compute-0-0 and compute-0-1 with the top addresses of the VM
frontend's private network, install from it and report completion there, while the physical
frontend sees them running. The MACs the physical frontend allocated (72:77:6e:…) are the
ones the VM frontend registers.

One machine plays the physical frontend and the VM container here: this kernel has no 802.1Q
(``ip link add … type vlan`` → "Unknown device type"), so the VLAN cannot leave it, and the
container is told so (``vm_vlan_uplink=no``): the bridge alone isolates the cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from insert_ethers import Session
from kea import KeaServer
from netns_libvirtd import start_libvirtd
from netns import Netns
from trees import make_tree, public_dir
from waiting import wait_until

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).with_name("ksserver"))
TREE_URL = "http://10.1.1.1/install/tiny9/x86_64"
COMPUTES = ("hosted-vm-0-0-0", "hosted-vm-0-0-1")


class Home:
    """One frontend's ksserver: its own home and database, its commands run in its namespace."""

    def __init__(self, ns: Netns, home: Path):
        self.ns = ns
        self.env = {**os.environ, "KSSERVER_HOME": str(home), "KSSERVER_RESIDENT_IDLE": "30"}
        self.env.pop("KSSERVER_DATABASE_URL", None)

    def __call__(self, *args: str) -> str:
        res = subprocess.run(self.ns.exec([EXE, *args]), env=self.env, capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, f"ksserver {' '.join(args)}: {res.stderr}"
        return res.stdout

    def json(self, *args: str):
        return json.loads(self(*args, "--json"))


def test_insert_ethers_on_the_vm_frontend_discovers_the_computes_the_physical_frontend_starts(
        installer_image, e2e_artifacts, tmp_path):
    public = public_dir()  # short and enterable: QEMU's sockets, the tree, the TFTP root
    logs = tmp_path / "logs"
    logs.mkdir()
    session = None
    try:
        with Netns("10.1.1.1/16") as phys, Netns("10.1.1.1/16") as vi1:
            # --- the physical frontend: the seed's commands --------------------------------
            pf = Home(phys, tmp_path / "physical")
            pf("init")
            pf("set", "attr", "libvirt_uri", start_libvirtd(phys, public / "virt", logs / "libvirtd.log"))
            pf("set", "attr", "vm_domain_type", "qemu")
            (public / "consoles").mkdir()
            pf("set", "attr", "vm_console_log", str(public / "consoles"))
            pf("add", "host", "vm-container-0-0")
            pf("add", "host", "interface", "vm-container-0-0", "eth0", "subnet=private", "ip=10.1.255.254")
            pf("set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(public / "disks"))
            pf("set", "host", "attr", "vm-container-0-0", "vm_vlan_uplink", "no")
            pf("set", "host", "attr", "bayou", "vm_disk_dir", str(public / "disks"))
            out = pf("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2")
            assert out.splitlines() == ["created frontend VM named: frontend-0-0-0",
                                        "created compute VM named: hosted-vm-0-0-0",
                                        "created compute VM named: hosted-vm-0-0-1"]
            macs = {vm: pf.json("list", "host", "interface", vm)[0]["mac"] for vm in COMPUTES}
            assert all(m.startswith("72:77:6e:") for m in macs.values()), macs
            assert [r[:3] for r in (line.split() for line in pf("sync", "host", "vlan", "vm-container-0-0")
                                    .splitlines())] == [["VLAN", "BRIDGE"], ["2", "xenbr.eth0.2"]]

            # the VM frontend's NIC on the cluster's VLAN bridge (its far end is a port of the
            # VM frontend's own private bridge, eth0 at 10.1.1.1)
            phys.run("ip", "link", "add", "vi1nic", "type", "veth", "peer", "name", "vi1port", "netns", vi1.name)
            vi1.run("ip", "link", "set", "vi1port", "master", "eth0", "up")
            phys.run("ip", "link", "set", "vi1nic", "master", "xenbr.eth0.2", "up")

            # --- the VM frontend: its own servers and insert-ethers -------------------------
            fe = Home(vi1, tmp_path / "vi-1")
            kea = KeaServer(vi1, logs)
            fe("init")
            kernel, initrd = (Path(p).read_bytes() for p in installer_image)
            make_tree(public / "tree", kernel, initrd)
            fe("add", "distro", "tiny9", str(public / "tree"))
            # ks.hold: each compute stays up a while after reporting, to be seen running
            fe("add", "bootaction", "install",
               f"args=inst.ks inst.repo={TREE_URL} ip=dhcp console=ttyS0 panic=1 ks.hold=120")
            for name, value in (("tftpboot_dir", str(public / "tftp")), ("hosts_file", str(tmp_path / "hosts")),
                                ("Discovery_Socket", str(tmp_path / "run" / "discovery.sock")),
                                *kea.attrs().items()):
                fe("set", "attr", name, value)
            fe("sync", "config")
            vi1.popen(["in.tftpd", "--foreground", "--address", "10.1.1.1:69", "--secure", str(public / "tftp")],
                      logs / "tftpd.log")
            serve = vi1.popen([EXE, "serve", "bind=10.1.1.1:80", "workers=2", "api=no"], logs / "serve.log", env=fe.env)
            wait_until(lambda: vi1.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                       f"{TREE_URL}/.treeinfo", check=False).stdout == "200"
                       or serve.poll() is not None, timeout=60, what="the VM frontend's ksserver serve")
            assert serve.poll() is None, (logs / "serve.log").read_text()[-3000:]
            session = Session(None, "count=2", env=fe.env, wrap=vi1.exec([]))
            assert session.events[0] == {"event": "open", "appliance": "Compute", "network": "10.1.0.0/255.255.0.0"}

            # --- power from the physical frontend ------------------------------------------
            pf("start", "host", "vm", *COMPUTES)
            states = {r["vm_host"]: r["status"] for r in pf.json("list", "host", "vm", *COMPUTES, "status=y")}
            assert states == {vm: "active" for vm in COMPUTES}
            config = pf("report", "host", "vm", "config", COMPUTES[0])
            assert "<boot dev='network'/>" in config and "<source bridge='xenbr.eth0.2'/>" in config

            try:
                found = [session.wait("discovered", timeout=240) for _ in COMPUTES]
                marks = [session.wait("kickstarted", timeout=420) for _ in COMPUTES]
                closed = session.wait("closed", timeout=60)
            except AssertionError as err:
                consoles = {vm: _tail(public / "consoles" / f"{vm}.log") for vm in COMPUTES}
                raise AssertionError(f"{err}; consoles: {consoles}; kea: {_tail(kea.log)}") from None
            assert session.proc.wait(30) == 0

            # named in the order they asked, the top addresses, the MACs the physical frontend made
            assert [(f["host"], f["ip"]) for f in found] == [("compute-0-0", "10.1.255.254"),
                                                             ("compute-0-1", "10.1.255.253")]
            assert {f["mac"] for f in found} == set(macs.values())
            assert sorted(m["host"] for m in marks) == ["compute-0-0", "compute-0-1"]
            assert {m["mark"] for m in marks} == {"(*)"}
            assert closed == {"event": "closed", "found": ["compute-0-0", "compute-0-1"]}
            for f in found:
                row = fe.json("list", "host", "interface", f["host"])[0]
                assert (row["mac"], row["ip"], row["subnet"]) == (f["mac"], f["ip"], "private")

            # installed, as the VM frontend sees it; running, as the physical frontend does
            wait_until(lambda: {r["host"]: r["stage"] for r in fe.json("list", "host", "status")
                                if r["host"].startswith("compute-")} == {"compute-0-0": "installed",
                                                                         "compute-0-1": "installed"},
                       timeout=120, interval=2, what="both computes to report their install to the VM frontend")
            states = {r["vm_host"]: r["status"] for r in pf.json("list", "host", "vm", *COMPUTES, "status=y")}
            assert states == {vm: "active" for vm in COMPUTES}
            assert {mac: kea.leased().get(mac) for mac in macs.values()} == {f["mac"]: f["ip"] for f in found}
            by_mac = {vm: mac for vm, mac in macs.items()}
            for f in found:
                vm = next(v for v, m in by_mac.items() if m == f["mac"])
                console = (public / "consoles" / f"{vm}.log").read_text(errors="replace")
                printed = re.search(r"kickstart sha256 ([0-9a-f]{64})", console)
                assert printed, console[-2000:]
                profile = subprocess.run(vi1.exec([EXE, "list", "host", "profile", f["host"]]), env=fe.env,
                                         capture_output=True).stdout
                assert printed.group(1) == hashlib.sha256(profile).hexdigest()
                assert fe.json("list", "host", "boot", f["host"])[0]["action"] == "os"

            # the cluster goes, and its bridge with it
            pf("stop", "host", "vm", *COMPUTES)
            phys.run("ip", "link", "del", "vi1nic")
            pf("remove", "cluster", "vi-1")
            assert "xenbr.eth0.2" not in phys.run("ip", "-o", "link", "show").stdout
    finally:
        if session is not None:
            session.stop()
        for log in [*logs.glob("*.log"), *(public / "consoles").glob("*.log")]:
            shutil.copy(log, Path(e2e_artifacts) / f"virtual-cluster-{log.name}")
        shutil.rmtree(public, ignore_errors=True)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:] if path.exists() else "(none)"
