"""A virtual cluster's VLAN on its containers: made by `start host vm` and `sync host vlan`,
removed with the cluster; network boot for the cluster's computes.

The hypervisors are libvirt's test driver; the kernel side is a ``RecordingPlumbing`` per
container, passed in through ``power.Power`` as production passes netlink/ssh.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from ksserver.power.fakes import RecordingPlumbing


@pytest.fixture
def plumbing(cluster, power_registry):
    made: dict[str, RecordingPlumbing] = {}
    power_registry.plumbing_factory = lambda c, uri: made.setdefault(c, RecordingPlumbing(c))
    # the containers' private device, which VLAN 2 rides on
    cluster.ok("add", "host", "interface", "vm-container-0-0", "eth3", "subnet=private", "ip=10.1.255.200")
    cluster.ok("add", "host", "interface", "vm-container-0-1", "eth0", "subnet=private", "ip=10.1.255.201")
    return made


def test_start_makes_the_vlan_bridge_its_nic_joins_first(cluster, hv, plumbing):
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    assert plumbing["vm-container-0-0"].calls == [("ensure", "eth3", 2, True)]
    root = etree.fromstring(hv(cluster, "vm-container-0-0").xml("hosted-vm-0-0-0").encode())
    assert [s.get("bridge") for s in root.iterfind("devices/interface/source")] == ["xenbr.eth3.2"]
    assert list(plumbing["vm-container-0-0"].bridges) == ["xenbr.eth3.2"]


def test_a_container_without_802_1q_gets_the_bridge_alone(cluster, plumbing):
    cluster.ok("set", "host", "attr", "vm-container-0-1", "vm_vlan_uplink", "no")
    cluster.ok("start", "host", "vm", "hosted-vm-0-1-0")
    assert plumbing["vm-container-0-1"].calls == [("ensure", "eth0", 2, False)]


def test_sync_host_vlan_makes_every_vlan_the_hosts_carry(cluster, plumbing):
    out = cluster.ok("sync", "host", "vlan")
    assert [line.split() for line in out.splitlines()] == [
        ["HOST", "VLAN", "BRIDGE"], ["bayou:", "2", "xenbr.eth0.2"],
        ["vm-container-0-0:", "2", "xenbr.eth3.2"], ["vm-container-0-1:", "2", "xenbr.eth0.2"]]
    assert cluster.ok("sync", "host", "vlan", "hosted-vm-0-0-0") == ""  # a VM carries no VLAN device
    again = cluster.ok("sync", "host", "vlan", "vm-container-0-0")
    assert [line.split() for line in again.splitlines()] == [["VLAN", "BRIDGE"], ["2", "xenbr.eth3.2"]]


def test_remove_cluster_removes_its_bridges_from_the_containers(cluster, plumbing):
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0", "hosted-vm-0-1-0")
    cluster.ok("remove", "cluster", "vi-1")
    assert plumbing["vm-container-0-0"].bridges == {} and plumbing["vm-container-0-1"].bridges == {}
    assert ("remove", "eth0", 2) in plumbing["bayou"].calls
    assert cluster.ok("sync", "host", "vlan") == ""


def test_a_bridge_that_cannot_be_made_starts_nothing(cluster, hv, power_registry):
    power_registry.plumbing_factory = lambda c, uri: RecordingPlumbing(
        c, fail=f"cannot make vlan 2's bridge xenbr.eth0.2 on {c}: Operation not permitted")
    err = cluster.fails("start", "host", "vm", "hosted-vm-0-0-0")
    assert err == "error - cannot make vlan 2's bridge xenbr.eth0.2 on vm-container-0-0: Operation not permitted"
    assert not hv(cluster, "vm-container-0-0").exists("hosted-vm-0-0-0")


def test_fully_virtualised_computes_boot_the_network_and_the_frontend_its_installer(cluster):
    cluster.ok("set", "attr", "vm_domain_type", "kvm")
    compute = etree.fromstring(cluster.ok("report", "host", "vm", "config", "hosted-vm-0-0-0").encode())
    assert [b.get("dev") for b in compute.iterfind("os/boot")] == ["network", "hd"]
    assert compute.find("os/kernel") is None
    frontend = etree.fromstring(cluster.ok("report", "host", "vm", "config", "frontend-0-0-0").encode())
    assert frontend.findtext("os/kernel") == "/boot/kickstart/xen/vmlinuz-5.2-x86_64"
    # paravirtualised Xen (the default) has no network boot: its computes keep the installer
    cluster.ok("set", "attr", "vm_domain_type", "xen")
    para = etree.fromstring(cluster.ok("report", "host", "vm", "config", "hosted-vm-0-0-0").encode())
    assert para.find("os/boot") is None


def test_a_compute_set_to_install_gets_its_empty_disk_before_it_boots_the_network(cluster, hv, plumbing):
    cluster.ok("set", "attr", "vm_domain_type", "kvm")
    (row,) = json.loads(cluster.ok("list", "host", "vm", "hosted-vm-0-0-0", "showdisks=y", "--json"))
    path = row["disk"].split(":", 1)[1].split(",")[0]
    assert not Path(path).exists()
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    assert Path(path).stat().st_size == 36 * 10**9 and Path(path).stat().st_blocks == 0  # sparse, 36 GB
    assert hv(cluster, "vm-container-0-0").state("hosted-vm-0-0-0") == "active"
