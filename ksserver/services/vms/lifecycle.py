"""The VM life cycle: start, stop, pause, resume, save, restore, move, and undefine.

The hypervisor is reached only through :mod:`ksserver.power`, with the ``power.Power`` the
caller passes (libvirt in production, fakes in tests); the URI of a container comes from
its resolved ``libvirt_uri`` attribute (a template with ``{host}``, default
``xen://{host}/``). A hypervisor change that fails leaves the hypervisor as before (the
power layer undoes its own steps) and raises, so the command's transaction rolls the
database back too.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver import vm
from ksserver.db.models import Host, VMNode
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.services import attributes, selection
from ksserver.services.vms.drivers import Drivers
from ksserver.services.vms.records import VMInfo, disk_dirs, disk_kind, select_vms, vm_infos, vm_of
from ksserver.services.vms import vlans
from ksserver.services.vms.specs import disk_specs, domain_spec, load, vlan_ports


def remove_vm_domains(session: Session, records: Sequence[HostRecord], power: hv.Power) -> list[str]:
    """Stop and undefine the libvirt domains of those ``records`` that are VMs (for
    ``remove host``); returns the VM names handled.  A VM not defined anywhere is fine."""
    infos = vm_infos(session, [r.id for r in records])
    drivers = Drivers(session, power)
    drivers.prime({i.physnode_id for i in infos.values()})
    done = []
    for info in sorted(infos.values(), key=lambda i: selection.natural_key(i.name)):
        d = drivers.driver(info.physnode_id)
        if d.exists(info.name):
            hv.stop_vm(d, info.name)
            if d.exists(info.name):
                d.undefine(info.name)
        done.append(info.name)
    return done


def remove_vms(session: Session, selectors: Sequence[str], power: hv.Power) -> list[str]:
    """``remove host vm``: the libvirt domains and the VM records (the hosts stay)."""
    vms = select_vms(session, selectors, change=True)
    records = selection.select_hosts(session, [v.name for v in vms], change=True)
    remove_vm_domains(session, records, power)
    session.execute(delete(VMNode).where(VMNode.id.in_([v.vm_node_id for v in vms])))
    session.flush()
    return [v.name for v in vms]



def start_vms(session: Session, selectors: Sequence[str], power: hv.Power) -> list[str]:
    """Define (replacing a stale definition) and boot each VM; a VM being installed gets
    its missing disk images created first.  On a failure the VMs this call started are
    stopped and undefined again, so the hypervisors end as they were."""
    vms = select_vms(session, selectors, change=True)
    drivers = Drivers(session, power)
    drivers.prime({v.physnode_id for v in vms})
    started: list[tuple[hv.HypervisorDriver, str]] = []
    plumbed: set[tuple[int, int]] = set()
    try:
        for info in vms:
            b = load(session, info)
            spec = domain_spec(session, b)
            need = [v for v in vlan_ports(b) if (info.physnode_id, v) not in plumbed]
            vlans.ensure(session, drivers, info.physnode_id, need)
            plumbed.update((info.physnode_id, v) for v in need)
            d = drivers.driver(info.physnode_id)
            transport, container = drivers.transport(info.physnode_id), drivers._name(info.physnode_id)
            images = [(s.path, disk) for s, disk in zip(disk_specs(b), b.disks) if s.vbd_type != "phy"]
            for path, disk in images:
                if transport.exists(container, path):
                    disk.made = True
                elif disk.made:
                    raise KsError(f"the disk image {container}:{path} of VM {info.name} existed and is gone: "
                                  f"restore it, or give the VM a new disk with `set host vm {info.name} disk=…`")
            # a VM about to be installed (from its kernel, or from the network) gets its empty disks
            if spec.boot.mode == "install" or (spec.boot.mode == "network" and b.host.boot_action == "install"):
                hv.ensure_disks(transport, container, [(path, disk.size) for path, disk in images])
                for _path, disk in images:
                    disk.made = True
            hv.start_vm(d, spec)
            started.append((d, info.name))
    except KsError:
        for d, name in reversed(started):
            try:
                hv.stop_vm(d, name)
                if d.exists(name):
                    d.undefine(name)
            except KsError:
                pass
        raise
    return [v.name for v in vms]


def _each(session: Session, selectors: Sequence[str], op: Callable, power: hv.Power) -> list[str]:
    vms = select_vms(session, selectors, change=True)
    drivers = Drivers(session, power)
    drivers.prime({v.physnode_id for v in vms})
    for info in vms:
        op(drivers.driver(info.physnode_id), info.name)
    return [v.name for v in vms]


def stop_vms(session: Session, selectors: Sequence[str], power: hv.Power) -> list[str]:
    return _each(session, selectors, hv.stop_vm, power)


def pause_vms(session: Session, selectors: Sequence[str], power: hv.Power) -> list[str]:
    return _each(session, selectors, hv.pause_vm, power)


def resume_vms(session: Session, selectors: Sequence[str], power: hv.Power) -> list[str]:
    return _each(session, selectors, hv.resume_vm, power)


def _save_path(session: Session, info: VMInfo, file: str | None) -> str:
    if file:
        return file
    phys = session.get(Host, info.physnode_id)
    attrs = attributes.resolved_values(session, [phys.id])
    kind = disk_kind(attrs[phys.id])
    d = disk_dirs(session, [phys], attrs, kind)[phys.id]
    return posixpath.join(d, f"{info.name}.saved")


def _each_saved(session: Session, selectors: Sequence[str], power: hv.Power, file: str | None, op: Callable) -> list[str]:
    """``op(driver, VM name, its save file)`` for each VM named."""
    vms = select_vms(session, selectors, change=True)
    if file and len(vms) > 1:
        raise KsError("file= may be given only with one VM")
    drivers = Drivers(session, power)
    for info in vms:
        op(drivers.driver(info.physnode_id), info.name, _save_path(session, info, file))
    return [v.name for v in vms]


def save_vms(session: Session, selectors: Sequence[str], power: hv.Power, file: str | None = None) -> list[str]:
    return _each_saved(session, selectors, power, file, hv.save_vm)


def restore_vms(session: Session, selectors: Sequence[str], power: hv.Power, file: str | None = None) -> list[str]:
    return _each_saved(session, selectors, power, file, lambda d, name, path: hv.restore_vm(d, path, name))



def check_move(session: Session, host: str, container: str) -> tuple[VMInfo, HostRecord]:
    """What a move needs before it starts: a VM, and another host to hold it."""
    info = vm_of(session, host)
    dst = selection.one_host(session, container)
    if dst.id == info.physnode_id:
        raise KsError(f"VM {info.name} is already on {dst.name}")
    if dst.id == info.host_id:
        raise KsError(f"VM {info.name} cannot hold itself")
    return info, dst


def move_vm(
    session: Session,
    host: str,
    container: str,
    power: hv.Power,
    *,
    file: str | None = None,
    progress: hv.progress.ProgressCallback | None = None,
) -> hv.MoveResult:
    """Move a VM to another container: save, copy save file and disks, restore there;
    then point its records at the new container and disk directory."""
    info, dst = check_move(session, host, container)
    drivers = Drivers(session, power)
    drivers.prime([info.physnode_id, dst.id])
    dst_host = session.get(Host, dst.id)
    kind = disk_kind(drivers.attrs[dst.id])
    dst_dir = disk_dirs(session, [dst_host], drivers.attrs, kind)[dst.id]
    b = load(session, info)
    files = [d for d in b.disks if d.vbd_type in ("file", "tap:aio", "qcow2", "qed")]
    result = hv.move_vm(
        drivers.driver(info.physnode_id),
        drivers.driver(dst.id),
        info.name,
        _save_path(session, info, file),
        [vm.DiskSpec(d.vbd_type, d.prefix, d.name, d.device, d.mode).path for d in files],
        drivers.transport(dst.id),
        dst_dir,
        progress,
        src_host=info.physnode,
        dst_host=dst.name,
    )
    for d in files:
        d.prefix = dst_dir
    vn = session.get(VMNode, info.vm_node_id)
    vn.physnode_id = dst.id
    session.flush()
    return result


