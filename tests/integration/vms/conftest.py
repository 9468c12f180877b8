"""A demo home with two VM containers, each on its own private libvirt test hypervisor.

``libvirt_uri`` is the template ``test://<dir>/{host}.xml``: every container (and the
physical frontend) gets a hypervisor of its own, empty, whose state lives in the pooled
connection — so tests do not see each other's domains and ``move`` has a real target.
"""

from __future__ import annotations

import pytest

from ksserver.power import ACTIVE, PAUSED, LibvirtDriver, Power

HOSTS = ("bayou", "vm-container-0-0", "vm-container-0-1", "vm-container-1-0")


@pytest.fixture
def vc(ks, tmp_path):
    hv = tmp_path / "hv"
    hv.mkdir()
    for h in HOSTS:
        (hv / f"{h}.xml").write_text("<node/>")
    disks = tmp_path / "disks"
    ks.ok("add", "host", "vm-container-0-0")
    ks.ok("add", "host", "vm-container-0-1")
    ks.ok("add", "host", "partition", "vm-container-0-0", "sda5", f"mountpoint={tmp_path / 'state'}", "size=100GB")
    ks.ok("add", "host", "partition", "vm-container-0-0", "sda1", "mountpoint=/", "size=16GB")
    ks.ok("set", "host", "attr", "vm-container-0-1", "vm_disk_dir", str(disks / "c01"))
    ks.ok("set", "host", "attr", "bayou", "vm_disk_dir", str(disks / "fe"))
    ks.ok("set", "attr", "libvirt_uri", f"test://{hv}/{{host}}.xml")
    ks.hv = hv
    ks.disks = disks
    yield ks
    for h in HOSTS:
        d = LibvirtDriver(f"test://{hv}/{h}.xml", host=h)
        for n in d.names():
            if d.state(n) in (ACTIVE, PAUSED):
                d.stop(n)
            if d.exists(n):
                d.undefine(n)


@pytest.fixture
def cluster(vc):
    vc.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2")
    return vc


def driver(ks, host):
    return LibvirtDriver(f"test://{ks.hv}/{host}.xml", host=host)


@pytest.fixture
def power_registry(ks):
    """The hypervisor access this test's commands get: a ``power.Power`` whose factories
    the test sets (fakes), passed to the CLI as production passes libvirt's."""
    ks.power = Power()
    return ks.power


@pytest.fixture
def hv():
    """``hv(ks, host)``: the test hypervisor of one host."""
    return driver
