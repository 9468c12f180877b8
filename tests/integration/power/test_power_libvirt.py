"""The power layer against libvirt's built-in test driver (in-memory hypervisors).

``test:///default`` keeps its state only while a connection is open, and a custom
``test:///<file>.xml`` URI has state per connection: both only work because
LibvirtDriver reuses one pooled connection per URI.  The default hypervisor ships with
a running domain named ``test``; these tests use their own names and clean up.
"""

import itertools
import threading

import pytest
from lxml import etree

from ksserver.errors import KsError
from ksserver.power import (
    ACTIVE,
    NOSTATE,
    PAUSED,
    SHUTOFF,
    Disk,
    DomainSpec,
    Interface,
    LibvirtDriver,
    LocalCopyTransport,
    Progress,
    move_vm,
    pause_vm,
    restore_vm,
    resume_vm,
    save_vm,
    start_vm,
    stop_vm,
    uri_for,
    vm_state,
)
from ksserver.power import driver as driver_mod
from ksserver.power.domain import render_domain_xml
from ksserver.power.fakes import FailingTransport, FaultyDriver

_ids = itertools.count()


@pytest.fixture
def drv():
    d = LibvirtDriver("test:///default", host="vm-container-0-0")
    made = []

    def name(prefix="vm"):
        n = f"{prefix}-{next(_ids)}"
        made.append(n)
        return n

    d.new_name = name
    yield d
    for n in made:
        _cleanup(d, n)


def _cleanup(d, n):
    try:
        if d.exists(n):
            if d.state(n) in (ACTIVE, PAUSED):
                d.stop(n)
            if d.exists(n):
                d.undefine(n)
    except KsError:
        pass


@pytest.fixture
def second_host(tmp_path):
    """Another container: a private test hypervisor with its own (empty) state."""
    node = tmp_path / "vm-container-1-0.xml"
    node.write_text("<node/>")
    d = LibvirtDriver(f"test://{node}", host="vm-container-1-0")
    yield d
    for n in d.names():
        _cleanup(d, n)


def spec(name, disks=(), **kw):
    return DomainSpec(
        name,
        mem_mb=256,
        interfaces=[Interface("72:77:6e:80:00:10", "xenbr0")],
        disks=[Disk(p) for p in disks],
        **kw,
    )


# --- URIs and the pool ----------------------------------------------------------------


def test_uri_for():
    assert uri_for("vm-container-0-0") == "xen://vm-container-0-0/"
    assert uri_for("vm-container-0-0", "qemu+ssh://root@{host}/system") == "qemu+ssh://root@vm-container-0-0/system"
    assert uri_for("x", "test:///default") == "test:///default"
    with pytest.raises(KsError, match="invalid libvirt_uri template"):
        uri_for("x", "xen://{hostname}/")
    d = LibvirtDriver.for_container("vm-container-0-0", "test:///default")
    assert (d.uri, d.host) == ("test:///default", "vm-container-0-0")


def test_one_connection_per_uri_is_reused(second_host):
    a = LibvirtDriver(second_host.uri, host="x")
    assert a.conn is second_host.conn
    second_host.define(render_domain_xml(spec("pooled")))
    # a private test hypervisor keeps its state only inside its connection
    assert LibvirtDriver(second_host.uri).exists("pooled")


def test_pool_is_thread_safe(tmp_path):
    node = tmp_path / "n.xml"
    node.write_text("<node/>")
    uri = f"test://{node}"
    conns = []
    threads = [threading.Thread(target=lambda: conns.append(driver_mod.connection(uri))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in conns}) == 1


def test_unreachable_hypervisor_is_one_line():
    d = LibvirtDriver("test:///nonexistent/node.xml", host="vm-container-9-9")
    with pytest.raises(KsError) as e:
        d.state("x")
    assert str(e.value).startswith("cannot connect to hypervisor test:///nonexistent/node.xml: ")
    assert "\n" not in str(e.value)


# --- driver state transitions ---------------------------------------------------------


def test_driver_life_cycle(drv, tmp_path):
    n = drv.new_name()
    assert drv.state(n) == NOSTATE and not drv.exists(n)
    assert drv.define(render_domain_xml(spec(n))) == n
    assert drv.exists(n) and drv.state(n) == SHUTOFF
    drv.start(n)
    assert drv.state(n) == ACTIVE
    drv.pause(n)
    assert drv.state(n) == PAUSED
    drv.resume(n)
    assert drv.state(n) == ACTIVE
    saved = tmp_path / f"{n}.saved"
    drv.save(n, str(saved))
    assert saved.exists() and drv.state(n) == SHUTOFF
    drv.restore(str(saved))
    assert drv.state(n) == ACTIVE
    drv.stop(n)
    assert drv.state(n) == SHUTOFF
    assert etree.fromstring(drv.xml(n).encode()).findtext("name") == n
    drv.undefine(n)
    assert drv.state(n) == NOSTATE and n not in drv.names()
    assert "test" in drv.names()  # the driver's own domain is untouched


def test_driver_errors_name_vm_and_container(drv):
    n = drv.new_name()
    with pytest.raises(KsError, match=f"^cannot start VM {n} on vm-container-0-0: no such VM$"):
        drv.start(n)
    drv.define(render_domain_xml(spec(n)))
    with pytest.raises(KsError, match=f"^cannot stop VM {n} on vm-container-0-0: .*not running"):
        drv.stop(n)
    with pytest.raises(KsError, match="^cannot restore VM /nonexistent.saved on vm-container-0-0: "):
        drv.restore("/nonexistent.saved")


def test_define_without_validation_fallback(drv, monkeypatch):
    n = drv.new_name()
    monkeypatch.setattr(driver_mod, "HAVE_DEFINE_VALIDATE", False)
    assert drv.define(render_domain_xml(spec(n)), validate=True) == n
    assert drv.last_define_validated is False


# --- operations -----------------------------------------------------------------------


def test_start_stop_pause_resume_save_restore_ops(drv, tmp_path):
    n = drv.new_name()
    assert start_vm(drv, spec(n)) == n
    assert vm_state(drv, n) == ACTIVE
    with pytest.raises(KsError, match=f"VM {n} is already running on vm-container-0-0"):
        start_vm(drv, spec(n))
    pause_vm(drv, n)
    pause_vm(drv, n)  # idempotent
    assert vm_state(drv, n) == PAUSED
    resume_vm(drv, n)
    resume_vm(drv, n)
    assert vm_state(drv, n) == ACTIVE
    path = str(tmp_path / "s.saved")
    save_vm(drv, n, path)
    assert vm_state(drv, n) == SHUTOFF
    with pytest.raises(KsError, match="it is not running"):
        save_vm(drv, n, path)
    with pytest.raises(KsError, match="it is not running"):
        pause_vm(drv, n)
    with pytest.raises(KsError, match="it is not paused"):
        resume_vm(drv, n)
    restore_vm(drv, path, n)
    with pytest.raises(KsError, match="already running"):
        restore_vm(drv, path, n)
    assert stop_vm(drv, n) is True
    assert stop_vm(drv, n) is False
    assert stop_vm(drv, "never-defined") is False


def test_start_replaces_a_stale_definition(drv):
    n = drv.new_name()
    drv.define(render_domain_xml(DomainSpec(n, mem_mb=128)))
    start_vm(drv, DomainSpec(n, mem_mb=512))
    assert vm_state(drv, n) == ACTIVE
    assert etree.fromstring(drv.xml(n).encode()).findtext("memory") == str(512 * 1024)


def test_start_accepts_xml(drv):
    n = drv.new_name()
    assert start_vm(drv, render_domain_xml(spec(n))) == n
    with pytest.raises(KsError, match="domain XML has no <name>"):
        start_vm(drv, "<domain type='xen'/>")
    with pytest.raises(KsError, match="invalid domain XML"):
        start_vm(drv, "<domain")


# --- fault injection ------------------------------------------------------------------


def test_failing_start_undefines_what_it_defined(drv):
    n = drv.new_name()
    faulty = FaultyDriver(drv, "start")
    with pytest.raises(KsError, match="cannot start on vm-container-0-0: injected failure"):
        start_vm(faulty, spec(n))
    assert not drv.exists(n)
    assert faulty.calls == ["exists", "define", "start", "exists", "state", "undefine"]


def test_failing_start_puts_back_the_stale_definition(drv):
    n = drv.new_name()
    drv.define(render_domain_xml(DomainSpec(n, mem_mb=128)))
    with pytest.raises(KsError, match="injected"):
        start_vm(FaultyDriver(drv, "start"), DomainSpec(n, mem_mb=512))
    assert drv.state(n) == SHUTOFF
    assert etree.fromstring(drv.xml(n, inactive=True).encode()).findtext("memory") == str(128 * 1024)


def test_failing_define_puts_back_the_stale_definition(drv):
    n = drv.new_name()
    drv.define(render_domain_xml(DomainSpec(n, mem_mb=128)))
    with pytest.raises(KsError, match="injected"):
        start_vm(FaultyDriver(drv, "define"), DomainSpec(n, mem_mb=512))
    assert drv.exists(n) and drv.state(n) == SHUTOFF


def test_failing_cleanup_is_reported(drv):
    n = drv.new_name()
    faulty = FaultyDriver(drv, "undefine")
    with pytest.raises(KsError, match="injected failure in start; cleanup failed: .*injected failure in undefine"):
        start_vm(FaultyDriver(faulty, "start"), spec(n))


def test_faulty_driver_rejects_unknown_operations(drv):
    with pytest.raises(ValueError):
        FaultyDriver(drv, "migrate")


# --- move -----------------------------------------------------------------------------


class RestoreWithXml:
    """The test driver cannot adjust the XML on restore (QEMU can; Xen cannot): this
    adapter records the XML it was given and restores without it."""

    def __init__(self, inner):
        self.inner = inner
        self.restore_xml = []

    def restore(self, path, xml=None):
        self.restore_xml.append(xml)
        return self.inner.restore(path)

    def __getattr__(self, a):
        return getattr(self.inner, a)


@pytest.fixture
def vm_on_src(drv, tmp_path):
    src_dir = tmp_path / "src" / "xen" / "disks"
    src_dir.mkdir(parents=True)
    n = drv.new_name("moving")
    disk = src_dir / f"{n}.hda"
    with open(disk, "wb") as f:
        f.write(b"MBR" + b"x" * 100_000)
    start_vm(drv, spec(n, disks=[str(disk)]))
    return n, disk, tmp_path / "dst" / "xen" / "disks", src_dir / f"{n}.saved"


def test_move_running_vm(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    dst = RestoreWithXml(second_host)
    seen: list[Progress] = []
    result = move_vm(drv, dst, n, str(save), [str(disk)], LocalCopyTransport(chunk_size=8192), str(dst_dir), seen.append)
    new_disk = dst_dir / disk.name
    assert result.disk_paths == {str(disk): str(new_disk)} and result.warnings == []
    assert new_disk.read_bytes() == disk.read_bytes()
    # running on the target, persistent there with the new disk path; gone from the source
    assert second_host.state(n) == ACTIVE
    src_of = lambda x: etree.fromstring(x.encode()).find("devices/disk/source").get("file")
    assert src_of(second_host.xml(n, inactive=True)) == str(new_disk)
    assert src_of(dst.restore_xml[0]) == str(new_disk)
    assert drv.state(n) == NOSTATE
    # save files cleaned up on both sides; progress covered everything
    assert not save.exists() and not (dst_dir / save.name).exists()
    assert seen[-1].done == seen[-1].total > disk.stat().st_size
    assert {p.label for p in seen} == {save.name, disk.name}


def test_move_shut_off_vm_moves_disks_and_definition(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    stop_vm(drv, n)
    result = move_vm(drv, second_host, n, str(save), [str(disk)], LocalCopyTransport(), str(dst_dir))
    assert not result.was_running
    assert second_host.state(n) == SHUTOFF and drv.state(n) == NOSTATE
    assert (dst_dir / disk.name).exists()


def test_move_with_failing_copy_restores_on_source(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    transport = FailingTransport(LocalCopyTransport(), nth=2, partial_bytes=500)  # the disk
    with pytest.raises(KsError) as e:
        move_vm(drv, RestoreWithXml(second_host), n, str(save), [str(disk)], transport, str(dst_dir))
    msg = str(e.value)
    assert msg.startswith(f"cannot move VM {n} from vm-container-0-0 to vm-container-1-0: cannot copy")
    assert msg.endswith("connection reset; VM restored on vm-container-0-0")
    assert drv.state(n) == ACTIVE
    assert not second_host.exists(n)
    assert list(dst_dir.iterdir()) == []  # partial disk and copied save file removed
    assert not save.exists()


def test_move_with_failing_restore_on_target_restores_on_source(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    faulty = FaultyDriver(RestoreWithXml(second_host), "restore")
    with pytest.raises(KsError, match="injected failure in restore; VM restored on vm-container-0-0"):
        move_vm(drv, faulty, n, str(save), [str(disk)], LocalCopyTransport(), str(dst_dir))
    assert drv.state(n) == ACTIVE and not second_host.exists(n)
    assert list(dst_dir.iterdir()) == []


def test_move_when_target_cannot_change_disk_paths(drv, second_host, vm_on_src):
    # the real test driver (like Xen's libxl) rejects XML changes on restore
    n, disk, dst_dir, save = vm_on_src
    with pytest.raises(KsError, match="xml modification unsupported; VM restored on vm-container-0-0"):
        move_vm(drv, second_host, n, str(save), [str(disk)], LocalCopyTransport(), str(dst_dir))
    assert drv.state(n) == ACTIVE and not second_host.exists(n)


def test_move_when_even_the_rollback_fails(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    src = FaultyDriver(drv, "restore")
    with pytest.raises(KsError, match=rf"could not restore it on vm-container-0-0 .*its saved state is in vm-container-0-0:{save}"):
        move_vm(src, second_host, n, str(save), [str(disk)], FailingTransport(LocalCopyTransport()), str(dst_dir))
    assert save.exists()
    drv.restore(str(save))


def test_move_failing_save_changes_nothing(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    with pytest.raises(KsError, match=f"cannot move VM {n} .*injected failure in save"):
        move_vm(FaultyDriver(drv, "save"), second_host, n, str(save), [str(disk)], LocalCopyTransport(), str(dst_dir))
    assert drv.state(n) == ACTIVE and not second_host.exists(n)


def test_move_refusals(drv, second_host, vm_on_src):
    n, disk, dst_dir, save = vm_on_src
    t = LocalCopyTransport()
    with pytest.raises(KsError, match=f"VM {n} is already on vm-container-0-0"):
        move_vm(drv, drv, n, str(save), [str(disk)], t, str(dst_dir))
    with pytest.raises(KsError, match="cannot move VM nope: it is not defined on vm-container-0-0"):
        move_vm(drv, second_host, "nope", str(save), [], t, str(dst_dir))
    second_host.define(render_domain_xml(DomainSpec(n)))
    with pytest.raises(KsError, match="a VM of that name already exists on vm-container-1-0"):
        move_vm(drv, second_host, n, str(save), [str(disk)], t, str(dst_dir))
    assert drv.state(n) == ACTIVE


def test_define_records_validation(drv):
    n = drv.new_name()
    drv.define(render_domain_xml(spec(n)))
    assert drv.last_define_validated is True
    drv.define(render_domain_xml(spec(drv.new_name())), validate=False)
    assert drv.last_define_validated is False


def test_an_embedded_driver_is_refused_before_it_starts_a_vm_no_later_command_could_keep():
    with pytest.raises(KsError) as err:
        LibvirtDriver("qemu:///embed?root=/run/ksserver-embed", host="bayou").exists("frontend-0-0-0")
    assert str(err.value).startswith("cannot use hypervisor qemu:///embed?root=/run/ksserver-embed: an embedded "
                                     "driver's VMs live only as long as the process that started them")
