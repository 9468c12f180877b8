"""VM life-cycle commands against libvirt's test driver; fault injection; move."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from ksserver.power import LibvirtDriver, LocalCopyTransport
from ksserver.power.fakes import FailingTransport, FaultyDriver, RestoreWithoutXml


def status(ks, vm):
    return ks.ok("list", "host", "vm", vm, "status=y").splitlines()[1].split()[-1]


def test_life_cycle_visible_in_status(cluster, hv):
    vm = "hosted-vm-0-0-0"
    assert status(cluster, vm) == "nostate"
    cluster.ok("start", "host", "vm", vm)
    assert status(cluster, vm) == "active"
    cluster.ok("pause", "host", "vm", vm)
    assert status(cluster, vm) == "paused"
    cluster.ok("resume", "host", "vm", vm)
    assert status(cluster, vm) == "active"
    cluster.ok("save", "host", "vm", vm)
    assert status(cluster, vm) == "shutoff"
    saved = cluster.path.parent / "state" / "xen" / "disks" / f"{vm}.saved"
    assert saved.exists()
    cluster.ok("restore", "host", "vm", vm)
    assert status(cluster, vm) == "active"
    cluster.ok("stop", "host", "vm", vm)
    assert status(cluster, vm) == "shutoff"
    # a stale definition is replaced by the next start
    cluster.ok("set", "host", "vm", vm, "mem=2048")
    cluster.ok("start", "host", "vm", vm)
    assert "<memory unit='KiB'>2097152</memory>" in hv(cluster, "vm-container-0-0").xml(vm)
    assert "already running" in cluster.fails("start", "host", "vm", vm)
    cluster.ok("stop", "host", "vm", vm)
    assert "not paused" in cluster.fails("resume", "host", "vm", vm)
    assert "not running" in cluster.fails("pause", "host", "vm", vm)


def test_save_restore_with_file(cluster, tmp_path):
    vm = "hosted-vm-0-1-0"
    cluster.ok("start", "host", "vm", vm)
    f = tmp_path / "x.saved"
    cluster.ok("save", "host", "vm", vm, f"file={f}")
    assert f.exists() and status(cluster, vm) == "shutoff"
    cluster.ok("restore", "host", "vm", vm, f"file={f}")
    assert status(cluster, vm) == "active"
    assert "only with one VM" in cluster.fails("save", "host", "vm", vm, "vi-1", f"file={f}")


def test_start_defines_a_validated_domain_booting_the_installer(cluster, hv):
    cluster.ok("start", "host", "vm", "vi-1")
    d = hv(cluster, "bayou")
    assert d.state("frontend-0-0-0") == "active"
    root = etree.fromstring(d.xml("frontend-0-0-0").encode())
    assert root.findtext("os/kernel") == "/boot/kickstart/xen/vmlinuz-5.2-x86_64"
    cmdline = root.findtext("os/cmdline")
    token = cluster.ok("list", "host", "boot", "frontend-0-0-0", "showtoken=yes").split()[-1]
    assert f"ks=http://bayou.rocksclusters.org/install/sbin/kickstart.cgi?token={token}" in cmdline
    assert "ip=137.110.119.118 netmask=255.255.255.0 dns=132.239.0.252 gateway=137.110.119.1" in cmdline
    bridges = [s.get("bridge") for s in root.iterfind("devices/interface/source")]
    assert bridges == ["xenbr.eth0.2", "xenbr.eth1"]
    # the compute boots the bare-ks installer with the private kickstart URL
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    xml = hv(cluster, "vm-container-0-0").xml("hosted-vm-0-0-0")
    assert re.search(r"ks=http://10\.1\.1\.1/install/sbin/kickstart\.cgi\?token=\S+ ramdisk_size", xml)


def test_validation_is_on(cluster, power_registry):
    seen = []

    def factory(container, uri):
        d = LibvirtDriver(uri, host=container)
        seen.append(d)
        return d

    power_registry.driver_factory = factory
    cluster.ok("start", "host", "vm", "hosted-vm-0-1-0")
    from ksserver.power import HAVE_DEFINE_VALIDATE

    assert seen and seen[0].last_define_validated == HAVE_DEFINE_VALIDATE


def test_os_mode_boots_the_disk(cluster, hv):
    cluster.ok("set", "host", "boot", "hosted-vm-0-0-0", "action=os")
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    root = etree.fromstring(hv(cluster, "vm-container-0-0").xml("hosted-vm-0-0-0").encode())
    assert root.find("os/kernel") is None and root.findtext("bootloader") == "pygrub"


def test_i386_bootaction_changes_the_kernel(cluster, hv):
    cluster.ok(
        "add", "bootaction", 'action=install vm i386', "kernel=file:///boot/kickstart/xen/vmlinuz-5.2-i386",
        "ramdisk=file:///boot/kickstart/xen/initrd-xen.iso.gz-5.2-i386",
        "args=ks ramdisk_size=150000 lang= devfs=nomount kssendmac selinux=0 noipv6",
    )
    cluster.ok("set", "host", "installation", "hosted-vm-0-0-0", "action=install vm i386")
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    root = etree.fromstring(hv(cluster, "vm-container-0-0").xml("hosted-vm-0-0-0").encode())
    assert root.findtext("os/kernel") == "/boot/kickstart/xen/vmlinuz-5.2-i386"
    assert root.findtext("os/initrd") == "/boot/kickstart/xen/initrd-xen.iso.gz-5.2-i386"


def test_missing_bootaction_is_a_clear_error(cluster, hv):
    # `remove bootaction` refuses one in use, but a restored or hand-edited database can lack it
    from sqlalchemy import create_engine, text

    eng = create_engine(cluster.url)
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM bootactions WHERE action = 'install vm'"))
    eng.dispose()
    err = cluster.fails("start", "host", "vm", "hosted-vm-0-0-0")
    assert err.startswith('error - bootaction "install vm" (install action of VM hosted-vm-0-0-0) does not exist')
    assert not hv(cluster, "vm-container-0-0").exists("hosted-vm-0-0-0")


@pytest.mark.parametrize("op", ["define", "start"])
def test_start_failure_leaves_nothing_defined(cluster, hv, power_registry, op):
    power_registry.driver_factory = lambda c, uri: FaultyDriver(LibvirtDriver(uri, host=c), op, nth=1 if c == "bayou" else 99)
    err = cluster.fails("start", "host", "vm", "hosted-vm-0-0-0", "vi-1")
    assert err == f"error - cannot {op} on bayou: injected failure in {op}"
    # the VM started before the failure is gone again
    assert not hv(cluster, "vm-container-0-0").exists("hosted-vm-0-0-0")
    assert not hv(cluster, "bayou").exists("frontend-0-0-0")


def test_unreachable_hypervisor_is_one_line(cluster):
    cluster.ok("set", "host", "attr", "vm-container-0-1", "libvirt_uri", "test:///nonexistent/{host}.xml")
    err = cluster.fails("start", "host", "vm", "hosted-vm-0-1-0")
    assert err.startswith("error - cannot connect to hypervisor test:///nonexistent/vm-container-0-1.xml")


def test_report_host_vm(cluster):
    out = cluster.ok("report", "host", "vm", "vi-1")
    lines = out.splitlines()
    assert lines[0] == "bootKernel = localboot 0"
    assert lines[3] == "installKernel = file:///boot/kickstart/xen/vmlinuz-5.2-x86_64"
    assert lines[5].endswith(" ip=137.110.119.118 netmask=255.255.255.0 dns=132.239.0.252 gateway=137.110.119.1")
    assert lines[6] == f"disk = {cluster.disks / 'fe'}/frontend-0-0-0.hda"
    assert lines[7:] == ["disksize = 36", "forceInstall = yes"]
    cluster.ok("set", "host", "boot", "vi-1", "action=os")
    assert "forceInstall" not in cluster.ok("report", "host", "vm", "vi-1")
    xml = cluster.ok("report", "host", "vm", "config", "hosted-vm-0-0-0")
    assert etree.fromstring(xml.encode()).findtext("name") == "hosted-vm-0-0-0"
    assert "is not a VM" in cluster.fails("report", "host", "vm", "bayou")


def test_user_networking_and_console_log(cluster, tmp_path):
    cluster.ok("set", "attr", "vm_network", "user")
    cluster.ok("set", "attr", "vm_domain_type", "qemu")
    cluster.ok("set", "attr", "vm_console_log", str(tmp_path / "consoles"))
    root = etree.fromstring(cluster.ok("report", "host", "vm", "config", "hosted-vm-0-0-0").encode())
    assert root.get("type") == "qemu"
    assert [i.get("type") for i in root.iterfind("devices/interface")] == ["user"]
    assert root.find("devices/serial/log").get("file") == str(tmp_path / "consoles" / "hosted-vm-0-0-0.log")


def test_set_dump_remove_host_vm(cluster, hv):
    cluster.ok("set", "host", "vm", "hosted-vm-0-0-0", "mem=4096", "cpus=2", "slice=5",
               "disk=file:/a/b.hda,hda,w phy:sdb,hdb,w", "disksize=10 20")
    row = cluster.ok("list", "host", "vm", "hosted-vm-0-0-0", "showdisks=y").splitlines()
    assert row[1].split() == ["5", "4096", "2", "72:77:6e:80:00:02", "vm-container-0-0", "file:/a/b.hda,hda,w", "10"]
    assert row[2].split()[-2:] == ["phy:sdb,hdb,w", "20"]
    dump = cluster.ok("dump", "host", "vm", "hosted-vm-0-0-0")
    assert dump == (
        "ksserver set host vm hosted-vm-0-0-0 physnode=vm-container-0-0"
        " disk=file:/a/b.hda,hda,w\\ phy:sdb,hdb,w disksize=10\\ 20 mem=4096 cpus=2 slice=5\n"
    )
    assert "physnode=localhost" in cluster.ok("dump", "host", "vm", "vi-1")
    assert "2 sizes for 1 disks" in cluster.fails("set", "host", "vm", "hosted-vm-0-1-0", "disk=file:/x,hda,w", "disksize=1 2")
    cluster.ok("start", "host", "vm", "hosted-vm-0-1-0")
    cluster.ok("remove", "host", "vm", "hosted-vm-0-1-0")
    assert not hv(cluster, "vm-container-0-1").exists("hosted-vm-0-1-0")
    assert "hosted-vm-0-1-0" not in cluster.ok("list", "host", "vm")
    assert "hosted-vm-0-1-0" in cluster.ok("list", "host")


@pytest.fixture
def movable(cluster, tmp_path, power_registry):
    cluster.ok("add", "host", "vm-container-1-0")
    cluster.ok("set", "host", "attr", "vm-container-1-0", "vm_disk_dir", str(tmp_path / "c10"))
    power_registry.driver_factory = lambda c, uri: RestoreWithoutXml(LibvirtDriver(uri, host=c))
    power_registry.transport_factory = lambda c, uri: LocalCopyTransport(chunk_size=1 << 20)
    small = tmp_path / "state" / "xen" / "disks" / "hosted-vm-0-0-0.hda"
    small.parent.mkdir(parents=True, exist_ok=True)
    small.write_bytes(b"disk" * 16384)
    cluster.ok("start", "host", "vm", "hosted-vm-0-0-0")
    return cluster


def test_move(movable, hv, tmp_path):
    res = movable.run("move", "host", "vm", "hosted-vm-0-0-0", "vm-container-1-0")
    assert res.exit_code == 0, res.stderr
    assert "hosted-vm-0-0-0.hda" in res.stderr and "100%" in res.stderr
    assert hv(movable, "vm-container-1-0").state("hosted-vm-0-0-0") == "active"
    assert not hv(movable, "vm-container-0-0").exists("hosted-vm-0-0-0")
    out = movable.ok("list", "host", "vm", "hosted-vm-0-0-0", "showdisks=y", "status=y").splitlines()[1].split()
    assert out[4:] == ["vm-container-1-0", "active", f"file:{tmp_path / 'c10'}/hosted-vm-0-0-0.hda,hda,w", "36"]
    assert (tmp_path / "c10" / "hosted-vm-0-0-0.hda").read_bytes() == b"disk" * 16384


def test_move_with_failing_copy_changes_nothing(movable, hv, tmp_path, power_registry):
    before = movable.ok("list", "host", "vm", "showdisks=y")
    power_registry.transport_factory = lambda c, uri: FailingTransport(LocalCopyTransport(), nth=2, partial_bytes=100)
    res = movable.run("move", "host", "vm", "hosted-vm-0-0-0", "vm-container-1-0")
    assert res.exit_code == 1
    errors = [line for line in res.stderr.splitlines() if line.startswith("error - ")]
    assert len(errors) == 1 and res.stderr.splitlines()[-1] == errors[0]  # progress lines before it
    err = errors[0]
    assert err.startswith("error - cannot move VM hosted-vm-0-0-0 from vm-container-0-0 to vm-container-1-0: cannot copy")
    assert err.endswith("connection reset; VM restored on vm-container-0-0")
    assert movable.ok("list", "host", "vm", "showdisks=y") == before
    assert hv(movable, "vm-container-0-0").state("hosted-vm-0-0-0") == "active"
    assert not hv(movable, "vm-container-1-0").exists("hosted-vm-0-0-0")
    assert list((tmp_path / "c10").iterdir()) == []


def test_lights_out_frontend_on_test_default(cluster):
    """The seed's flow against ``test:///default``."""
    cluster.ok("set", "attr", "libvirt_uri", "test:///default")
    cluster.ok("set", "host", "attr", "vi-1", "Kickstart_PrivateHostname", "vi-1")
    cluster.ok("set", "host", "attr", "vi-1", "Kickstart_PublicAddress", "137.110.119.118")
    cluster.ok("set", "host", "attr", "vi-1", "Kickstart_PublicHostname", "vi-1.rocksclusters.org")
    cluster.ok("set", "host", "attr", "vi-1", "Kickstart_PublicKickstartHost", "bayou.rocksclusters.org")
    d = LibvirtDriver("test:///default", host="bayou")
    try:
        cluster.ok("start", "host", "vm", "vi-1")
        assert d.state("frontend-0-0-0") == "active"
        root = etree.fromstring(d.xml("frontend-0-0-0").encode())
        assert root.findtext("os/kernel") == "/boot/kickstart/xen/vmlinuz-5.2-x86_64"
        assert "?token=" in root.findtext("os/cmdline")
        assert status(cluster, "vi-1") == "active"
    finally:
        cluster.ok("remove", "cluster", "vi-1")
    assert not d.exists("frontend-0-0-0")


# --- a move never deletes the only copy of anything ----------------------------------------


def _disk(tmp_path):
    return tmp_path / "state" / "xen" / "disks" / "hosted-vm-0-0-0.hda"


def _move_fails(ks) -> str:
    """The one error line of a failed move (progress lines come before it on stderr)."""
    res = ks.run("move", "host", "vm", "hosted-vm-0-0-0", "vm-container-1-0")
    errors = [line for line in res.stderr.splitlines() if line.startswith("error - ")]
    assert res.exit_code == 1 and len(errors) == 1 and res.stderr.splitlines()[-1] == errors[0], res.stderr
    return errors[0]


def test_move_into_the_same_directory_is_refused_and_loses_nothing(movable, hv, tmp_path):
    """Both containers' disk directory the same (shared storage, or one machine): the target
    file is the source itself. Refused before anything happens."""
    movable.ok("set", "host", "attr", "vm-container-1-0", "vm_disk_dir", str(_disk(tmp_path).parent))
    before = movable.ok("list", "host", "vm", "showdisks=y")
    err = _move_fails(movable)
    assert err == (f"error - cannot move VM hosted-vm-0-0-0 from vm-container-0-0 to vm-container-1-0: "
                   f"vm-container-1-0:{_disk(tmp_path)} exists already (the same directory on both containers, "
                   "or an earlier copy); a move never overwrites a file")
    assert _disk(tmp_path).read_bytes() == b"disk" * 16384
    assert hv(movable, "vm-container-0-0").state("hosted-vm-0-0-0") == "active"
    assert movable.ok("list", "host", "vm", "showdisks=y") == before


@pytest.mark.parametrize("fault", ["copy midway", "target full", "restore on the target"])
def test_every_failing_step_of_a_move_keeps_the_disk_and_the_vm(movable, hv, tmp_path, power_registry, fault):
    before = movable.ok("list", "host", "vm", "showdisks=y")
    if fault == "copy midway":  # the second file (the disk, after the saved state) breaks off
        power_registry.transport_factory = lambda c, uri: FailingTransport(LocalCopyTransport(), nth=2, partial_bytes=100)
    elif fault == "target full":  # the first file already cannot be written
        power_registry.transport_factory = lambda c, uri: FailingTransport(
            LocalCopyTransport(), nth=1, partial_bytes=0, message="No space left on device")
    else:
        power_registry.driver_factory = lambda c, uri: FaultyDriver(
            RestoreWithoutXml(LibvirtDriver(uri, host=c)), "restore", nth=1 if c == "vm-container-1-0" else 99)
    err = _move_fails(movable)
    assert err.startswith("error - cannot move VM hosted-vm-0-0-0") and err.endswith("VM restored on vm-container-0-0")
    assert _disk(tmp_path).read_bytes() == b"disk" * 16384  # the only copy, untouched
    assert hv(movable, "vm-container-0-0").state("hosted-vm-0-0-0") == "active"
    assert not hv(movable, "vm-container-1-0").exists("hosted-vm-0-0-0")
    assert list((tmp_path / "c10").iterdir()) == []  # nothing of it left on the target
    assert movable.ok("list", "host", "vm", "showdisks=y") == before
    assert not list(_disk(tmp_path).parent.glob("*.saved"))  # the saved state went back into the VM


def test_start_refuses_to_make_an_empty_disk_for_one_that_vanished(movable, tmp_path):
    movable.ok("stop", "host", "vm", "hosted-vm-0-0-0")
    _disk(tmp_path).unlink()
    err = movable.fails("start", "host", "vm", "hosted-vm-0-0-0")
    assert err == (f"error - the disk image vm-container-0-0:{_disk(tmp_path)} of VM hosted-vm-0-0-0 existed and is "
                   "gone: restore it, or give the VM a new disk with `set host vm hosted-vm-0-0-0 disk=…`")
    assert not _disk(tmp_path).exists()
