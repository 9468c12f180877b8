"""VM records: which hosts are VMs, where their disks go, their listing and settings.

Reads that every VM command shares (``vm_infos``, ``select_vms``, ``disk_dirs``) live here,
with ``list host vm``, ``set host vm`` and ``dump host vm``; nothing here reaches a
hypervisor but through the ``Drivers`` a listing with a status column is given.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver import vm
from ksserver.db import queries
from ksserver.db.models import Appliance, Host, Interface, Partition, VMDisk, VMNode
from ksserver.errors import KsError
from ksserver.services import selection, validate
from ksserver.services.vms.drivers import Drivers, state_of


def number(value, what: str, low: int = 0, high: int | None = None) -> int:
    return validate.integer(value, what, low, high) if high is not None else validate.integer(value, what, low)


def physical_frontend(session: Session) -> Host:
    rec = selection.one_host(session, "localhost")
    return session.get(Host, rec.id)


def disk_dirs(session: Session, hosts: Sequence[Host], attrs: dict[int, dict[str, str]], kind: str) -> dict[int, str]:
    """Directory for each host's VM disk images: ``<largest partition>/xen/disks`` from
    its partition records, else its ``vm_disk_dir`` attribute."""
    parts: dict[int, list] = defaultdict(list)
    ids = [h.id for h in hosts]
    if ids:
        for p in session.scalars(select(Partition).where(Partition.host_id.in_(ids))):
            parts[p.host_id].append(p)
    out = {}
    for h in hosts:
        largest = vm.largest_partition(parts.get(h.id, []))
        if largest:
            out[h.id] = posixpath.join(largest, "kvm" if kind == "kvm" else "xen", "disks")
            continue
        d = (attrs.get(h.id, {}).get("vm_disk_dir") or "").strip()
        if d:
            out[h.id] = d
            continue
        raise KsError(
            f"could not find a partition on host ({h.name}) to hold the VM's disk image"
            " (add one with `add host partition` or set its vm_disk_dir attribute)"
        )
    return out


def disk_kind(attrs: dict[str, str]) -> str:
    return "kvm" if (attrs.get("vm_domain_type") or "xen") in ("kvm", "qemu") else "xen"


@dataclass(frozen=True)
class VMInfo:
    host_id: int
    name: str
    appliance: str
    cpus: int
    physnode_id: int
    physnode: str
    mem: int
    slice: int
    virt_type: str | None
    vm_node_id: int


def vm_infos(session: Session, host_ids: Sequence[int] | None = None) -> dict[int, VMInfo]:
    Phys = Host.__table__.alias("phys")
    stmt = (
        select(
            Host.id, Host.name, Appliance.name, Host.cpus, VMNode.physnode_id, Phys.c.name,
            VMNode.mem, VMNode.slice, VMNode.virt_type, VMNode.id,
        )
        .join(VMNode, VMNode.host_id == Host.id)
        .join(Appliance, Host.appliance_id == Appliance.id)
        .join(Phys, Phys.c.id == VMNode.physnode_id)
    )
    out = {}
    if host_ids is None:
        rows = session.execute(stmt).all()
    else:
        rows = []
        for chunk in queries.chunks(host_ids):
            rows += session.execute(stmt.where(Host.id.in_(chunk))).all()
    for row in rows:
        out[row[0]] = VMInfo(*row)
    return out


def vm_of(session: Session, name: str) -> VMInfo:
    rec = selection.one_host(session, name)
    info = vm_infos(session, [rec.id]).get(rec.id)
    if info is None:
        raise KsError(f'host "{rec.name}" is not a VM')
    return info


def select_vms(session: Session, selectors: Sequence[str], *, change: bool) -> list[VMInfo]:
    if not selectors and not change:  # every VM: read the VMs, not every host of a large site
        return sorted(vm_infos(session).values(), key=lambda v: selection.natural_key(v.name))
    records = selection.select_hosts(session, list(selectors), change=change)
    infos = vm_infos(session, [r.id for r in records])
    out = [infos[r.id] for r in records if r.id in infos]
    if change and not out:
        raise KsError("none of the hosts named is a VM")
    return out


def list_vms(session: Session, selectors: Sequence[str], power: hv.Power | None = None, showdisks: bool = False) -> list[tuple]:
    """``list host vm``; with ``power``, each VM's state in a STATUS column."""
    status = power is not None
    drivers = Drivers(session, power) if power is not None else None
    vms = select_vms(session, selectors, change=False)
    ids = [v.host_id for v in vms]
    macs: dict[int, list[str]] = defaultdict(list)
    for host_id, mac in session.execute(
        select(Interface.host_id, Interface.mac).where(Interface.host_id.in_(ids), Interface.mac.is_not(None)).order_by(Interface.device)
    ) if ids else []:
        macs[host_id].append(mac)
    disks: dict[int, list[VMDisk]] = defaultdict(list)
    if showdisks and vms:
        for d in session.scalars(select(VMDisk).where(VMDisk.vm_node_id.in_([v.vm_node_id for v in vms])).order_by(VMDisk.id)):
            disks[d.vm_node_id].append(d)
    if drivers:
        drivers.prime({v.physnode_id for v in vms})
    rows = []
    for v in vms:
        vmacs = macs.get(v.host_id) or [None]
        vdisks = [
            (vm.format_disk_spec(vm.DiskSpec(d.vbd_type, d.prefix, d.name, d.device, d.mode)), d.size)
            for d in disks.get(v.vm_node_id, [])
        ] or [(None, None)]
        for i in range(max(len(vmacs), len(vdisks) if showdisks else 1)):
            first = i == 0
            row = [v.name]
            row += [v.slice, v.mem, v.cpus] if first else ["", "", ""]
            row.append(vmacs[i] if i < len(vmacs) else "")
            row.append(v.physnode if first else "")
            if status:
                row.append(state_of(drivers, v) if first else "")
            if showdisks:
                row += list(vdisks[i]) if i < len(vdisks) else ["", ""]
            rows.append(tuple("" if c is None else c for c in row))
    return rows



def set_vm(
    session: Session,
    host: str,
    *,
    disk: str | None = None,
    disksize: str | None = None,
    mem: str | None = None,
    cpus: str | None = None,
    physnode: str | None = None,
    slice: str | None = None,
    virt_type: str | None = None,
) -> None:
    rec = selection.one_host(session, host)
    h = session.get(Host, rec.id)
    vn = session.scalar(select(VMNode).where(VMNode.host_id == h.id))
    if vn is None:
        if physnode is None:
            raise KsError(f'host "{h.name}" is not a VM: give physnode= to make it one')
        vn = VMNode(host_id=h.id, physnode_id=selection.one_host(session, physnode).id, mem=1024, slice=0)
        session.add(vn)
        session.flush()
    elif physnode is not None:
        phys = selection.one_host(session, physnode)
        if phys.id == h.id:
            raise KsError(f'VM "{h.name}" cannot be its own physical host')
        vn.physnode_id = phys.id
    if mem is not None:
        vn.mem = number(mem, "mem", 1)
    if cpus is not None:
        h.cpus = number(cpus, "cpus", 1)
    if slice is not None:
        vn.slice = number(slice, "slice", 0)
    if virt_type is not None:
        if virt_type not in ("", "para", "hvm"):
            raise KsError(f"invalid virt-type ({virt_type}): must be para or hvm")
        vn.virt_type = virt_type or None
    sizes = [number(s, "disksize", 1) for s in disksize.split()] if disksize is not None else None
    if disk is not None:
        specs = [vm.parse_disk_spec(s) for s in disk.split()]
        if sizes is not None and len(sizes) != len(specs):
            raise KsError(f"disksize names {len(sizes)} sizes for {len(specs)} disks")
        session.execute(delete(VMDisk).where(VMDisk.vm_node_id == vn.id))
        for i, s in enumerate(specs):
            session.add(
                VMDisk(vm_node_id=vn.id, vbd_type=s.vbd_type, prefix=s.prefix, name=s.name, device=s.device, mode=s.mode,
                       size=sizes[i] if sizes else 36)
            )
    elif sizes is not None:
        rows = session.scalars(select(VMDisk).where(VMDisk.vm_node_id == vn.id).order_by(VMDisk.id)).all()
        if len(sizes) == 1:
            sizes = sizes * len(rows)
        if len(sizes) != len(rows):
            raise KsError(f"disksize names {len(sizes)} sizes for {len(rows)} disks")
        for row, s in zip(rows, sizes):
            row.size = s
    session.flush()



# --- dump -----------------------------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9@%^\-_=+:,./]")


def _quote(text: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else "\\" + c for c in str(text))


def dump_vms(session: Session, selectors: Sequence[str]) -> str:
    vms = select_vms(session, selectors, change=False)
    local = physical_frontend(session).name
    disks: dict[int, list[VMDisk]] = defaultdict(list)
    if vms:
        for d in session.scalars(select(VMDisk).where(VMDisk.vm_node_id.in_([v.vm_node_id for v in vms])).order_by(VMDisk.id)):
            disks[d.vm_node_id].append(d)
    lines = []
    for v in vms:
        ds = disks.get(v.vm_node_id, [])
        specs = " ".join(vm.format_disk_spec(vm.DiskSpec(d.vbd_type, d.prefix, d.name, d.device, d.mode)) for d in ds)
        sizes = " ".join(str(d.size) for d in ds)
        phys = "localhost" if v.physnode == local else v.physnode
        name = "localhost" if v.name == local else v.name
        parts = [
            f"ksserver set host vm {_quote(name)}",
            f"physnode={_quote(phys)}",
            f"disk={_quote(specs)}" if specs else None,
            f"disksize={_quote(sizes)}" if sizes else None,
            f"mem={v.mem}",
            f"cpus={v.cpus}",
            f"slice={v.slice}",
            f"virt-type={_quote(v.virt_type)}" if v.virt_type else None,
        ]
        lines.append(" ".join(p for p in parts if p))
    return "".join(line + "\n" for line in lines)
