"""Virtual clusters and VM power control: ``add/remove/list cluster`` and ``* host vm``.

Rules:
* ``add cluster`` plans everything in Python from a fixed number of bulk reads (VLANs,
  MACs, names, partitions, attributes) and then writes every row in one transaction; any
  error leaves no host, interface, VLAN or VM record behind.
* The hypervisor is reached only through :mod:`ksserver.power`. Which driver talks to a
  container is decided by ``POWER.driver_factory(container, uri)`` — a plain registry the
  tests replace (e.g. with ``FaultyDriver``); the URI comes from the container's resolved
  ``libvirt_uri`` attribute (a template with ``{host}``, default ``xen://{host}/``).
* A hypervisor change that fails leaves the hypervisor as before (the power layer undoes
  its own steps) and raises, so the command's transaction rolls the database back too.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ksserver import power, vm
from ksserver.attrs import Level
from ksserver.db.models import (
    Appliance,
    Bootaction,
    GlobalAttr,
    Host,
    Interface,
    Network,
    Partition,
    VMDisk,
    VMNode,
)
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError, NotFound
from ksserver.services import attributes, boot, bootfiles, lookup, selection, validate

FRONTEND_INSTALL = "install vm frontend"
COMPUTE_INSTALL = "install vm"
MAC_BASE_ATTR = "vm_mac_base_addr"
MAC_MASK_ATTR = "vm_mac_base_addr_mask"


# --- the power seam -------------------------------------------------------------------


def _default_driver(container: str, uri: str) -> power.HypervisorDriver:
    return power.LibvirtDriver(uri, host=container)


def _default_transport(container: str, uri: str) -> power.Transport:
    """A hypervisor URI without a remote host (``test:///…``, ``qemu:///system``) runs on
    this machine, so its files are local; otherwise files move over ssh."""
    host = re.match(r"^[a-z0-9+]+://([^/]*)/", uri)
    if uri.startswith("test:") or (host and host.group(1) in ("", "localhost")):
        return power.LocalCopyTransport()
    return power.SshTransport()


@dataclass
class PowerRegistry:
    """Factories the service layer uses to reach hypervisors and move files."""

    driver_factory: Callable[[str, str], power.HypervisorDriver] = _default_driver
    transport_factory: Callable[[str, str], power.Transport] = _default_transport


POWER = PowerRegistry()


# --- small helpers --------------------------------------------------------------------


def _int(value, what: str, low: int = 0, high: int | None = None) -> int:
    return validate.integer(value, what, low, high) if high is not None else validate.integer(value, what, low)


def _physical_frontend(session: Session) -> Host:
    rec = selection.one_host(session, "localhost")
    return session.get(Host, rec.id)


def _resolved(session: Session, host_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Resolved attributes (name → value) of hosts, in a fixed number of queries."""
    from ksserver.db import queries

    records = queries.host_records_by_id(session, list(dict.fromkeys(host_ids)))
    out = attributes.resolve_hosts(session, records)
    return {hid: {k: v.value for k, v in attrs.items()} for hid, attrs in out.items()}


def _set_global(session: Session, name: str, value: str) -> None:
    attributes.set_attr(session, Level.GLOBAL, [], name, value)


def _disk_dirs(session: Session, hosts: Sequence[Host], attrs: dict[int, dict[str, str]], kind: str) -> dict[int, str]:
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


def _disk_kind(attrs: dict[str, str]) -> str:
    return "kvm" if (attrs.get("vm_domain_type") or "xen") in ("kvm", "qemu") else "xen"


def _private_ip(session: Session, private: Network) -> Callable[[], str]:
    """Highest unused addresses of the private network, scanning down from broadcast−1."""
    net = ipaddress.IPv4Network(f"{private.subnet}/{private.netmask}", strict=False)
    used = set(session.scalars(select(Interface.ip).where(Interface.network_id == private.id, Interface.ip.is_not(None))))
    state = {"next": int(net.broadcast_address) - 1}

    def take() -> str:
        while state["next"] > int(net.network_address):
            ip = str(ipaddress.IPv4Address(state["next"]))
            state["next"] -= 1
            if ip not in used:
                used.add(ip)
                return ip
        raise KsError(f'no free address left on network "{private.name}"')

    return take


# --- add cluster ----------------------------------------------------------------------


@dataclass
class _Placed:
    host: Host
    physnode: Host
    slice: int
    mem: int
    disk_size: int
    disk_dir: str
    kind: str
    ifaces: list[dict] = field(default_factory=list)
    host_id: int = 0


def _ids_by(session: Session, key_col, id_col, keys: list) -> dict:
    out = {}
    for i in range(0, len(keys), 5000):
        out.update(session.execute(select(key_col, id_col).where(key_col.in_(keys[i : i + 5000]))).all())
    return out


def add_cluster(
    session: Session,
    fqdn: str,
    ip: str,
    num_computes,
    *,
    container_hosts: str | None = None,
    cpus_per_compute=None,
    disk_per_compute=None,
    disk_per_frontend=None,
    mem_per_compute=None,
    vlan=None,
) -> list[str]:
    """Create a virtual cluster; returns the output lines (one per VM)."""
    validate.name(fqdn, "interface")
    ip = validate.ip(ip)
    n = _int(num_computes, "num-computes", 0)
    cpus = _int(cpus_per_compute if cpus_per_compute not in (None, "") else 1, "cpus-per-compute", 1)
    mem = _int(mem_per_compute if mem_per_compute not in (None, "") else 1024, "mem-per-compute", 1)
    disk_c = _int(disk_per_compute if disk_per_compute not in (None, "") else 36, "disk-per-compute", 1)
    disk_f = _int(disk_per_frontend if disk_per_frontend not in (None, "") else 36, "disk-per-frontend", 1)
    if session.scalar(select(Interface.id).where(Interface.name == fqdn)) is not None:
        raise KsError(f'the name "{fqdn}" is already used by an interface')

    fe_phys = _physical_frontend(session)
    private = lookup.network(session, "private")
    public = lookup.network(session, "public")
    apps = {a.name: a for a in session.scalars(select(Appliance).where(Appliance.name.in_(("frontend", "hosted-vm"))))}
    for needed in ("frontend", "hosted-vm"):
        if needed not in apps:
            raise KsError(f'appliance "{needed}" does not exist')

    # containers, in the order given (repeats weight them)
    if container_hosts and container_hosts.strip():
        names = container_hosts.split()
        recs = [selection.one_host(session, w) for w in names]
    else:
        recs = [
            r
            for r in selection.select_hosts(session, [], change=False)
            if r.appliance == "vm-container"
        ]
    placement = vm.round_robin([r.id for r in recs], n)
    container_ids = list(dict.fromkeys(placement))
    hosts_by_id = {h.id: h for h in session.scalars(select(Host).where(Host.id.in_([fe_phys.id, *container_ids])))}

    # VLAN, MACs, names
    vlans_in_use = session.scalars(select(Interface.vlan).where(Interface.vlan.is_not(None)).distinct()).all()
    vlan_id = vm.choose_vlan(vlans_in_use, vlan)
    attrs = _resolved(session, [fe_phys.id, *container_ids])
    base = session.scalar(select(GlobalAttr.value).where(GlobalAttr.name == MAC_BASE_ATTR))
    if not base:
        pub = attrs[fe_phys.id].get("Kickstart_PublicAddress")
        if not pub:
            raise KsError("no VM MAC base address is defined (set vm_mac_base_addr or Kickstart_PublicAddress)")
        base = vm.mac_base(pub)
        _set_global(session, MAC_BASE_ATTR, base)
        _set_global(session, MAC_MASK_ATTR, vm.MAC_MASK)
    in_use = session.scalars(select(Interface.mac).where(Interface.mac.is_not(None))).all()
    macs = iter(vm.next_macs(base, in_use, 2 + n))
    taken = set(session.scalars(select(Host.name)))
    slices: dict[int, list[int]] = defaultdict(list)
    for phys, sl in session.execute(
        select(VMNode.physnode_id, VMNode.slice).where(VMNode.physnode_id.in_([fe_phys.id, *container_ids]))
    ):
        slices[phys].append(sl)
    disk_dirs = _disk_dirs(session, [hosts_by_id[i] for i in [fe_phys.id, *container_ids]], attrs, "xen")
    kinds = {hid: _disk_kind(attrs[hid]) for hid in attrs}
    next_ip = _private_ip(session, private)

    def place(app: Appliance, phys: Host, vm_cpus: int, vm_mem: int, size: int) -> _Placed:
        name, sl = vm.choose_vm_name(app.name, phys.rack, phys.rank, slices[phys.id], taken)
        taken.add(name)
        slices[phys.id].append(sl)
        host = Host(
            name=name,
            appliance_id=app.id,
            os_id=phys.os_id,
            rack=phys.rack,
            rank=phys.rank,
            cpus=vm_cpus,
            arch=phys.arch,
            runaction="os",
        )
        kind = kinds[phys.id]
        d = disk_dirs[phys.id]
        if kind == "kvm" and d.endswith("/xen/disks"):
            d = d[: -len("xen/disks")] + "kvm/disks"
        return _Placed(host, phys, sl, vm_mem, size, d, kind)

    planned: list[_Placed] = []
    fe = place(apps["frontend"], fe_phys, 1, 1024, disk_f)
    fe.host.installaction = FRONTEND_INSTALL
    fe.ifaces = [
        dict(device="eth0", mac=next(macs), ip=next_ip(), network_id=private.id, vlan=vlan_id, module="xennet", name=fe.host.name),
        dict(device="eth1", mac=next(macs), ip=ip, network_id=public.id, vlan=None, module="xennet", name=fqdn),
    ]
    clash = session.scalar(
        select(Host.name).join(Interface, Interface.host_id == Host.id).where(Interface.ip == ip, Interface.network_id == public.id)
    )
    if clash:
        raise KsError(f'ip {ip} is already used by host "{clash}" on network "public"')
    planned.append(fe)
    for cid in placement:
        c = place(apps["hosted-vm"], hosts_by_id[cid], cpus, mem, disk_c)
        c.host.installaction = COMPUTE_INSTALL
        c.ifaces = [dict(device="eth0", mac=next(macs), ip=None, network_id=None, vlan=vlan_id, module=None, name=c.host.name)]
        planned.append(c)

    # write: a few executemany statements, whatever the number of VMs
    for p in planned:
        boot.set_boot_action(session, p.host, "install")  # transient: only mints the token
    host_cols = ("name", "appliance_id", "os_id", "rack", "rank", "cpus", "arch", "runaction", "installaction", "boot_action", "install_token")
    session.execute(insert(Host), [{c: getattr(p.host, c) for c in host_cols} for p in planned])
    ids = _ids_by(session, Host.name, Host.id, [p.host.name for p in planned])
    for p in planned:
        p.host_id = ids[p.host.name]
    session.execute(insert(Interface), [dict(host_id=p.host_id, **f) for p in planned for f in p.ifaces])
    session.execute(
        insert(VMNode), [dict(host_id=p.host_id, physnode_id=p.physnode.id, mem=p.mem, slice=p.slice, virt_type=None) for p in planned]
    )
    vn_ids = _ids_by(session, VMNode.host_id, VMNode.id, [p.host_id for p in planned])
    disk_rows = []
    for p in planned:
        spec = vm.default_disk_spec("/", p.host.name, p.physnode.name, kind=p.kind)
        disk_rows.append(
            dict(vm_node_id=vn_ids[p.host_id], vbd_type=spec.vbd_type, prefix=p.disk_dir, name=spec.name,
                 device=spec.device, mode=spec.mode, size=p.disk_size)
        )
    session.execute(insert(VMDisk), disk_rows)
    # the cluster's VLAN on the physical frontend and every container used
    have = set(
        session.scalars(
            select(Interface.host_id).where(Interface.host_id.in_([fe_phys.id, *container_ids]), Interface.device == f"vlan{vlan_id}")
        )
    )
    for hid in [fe_phys.id, *container_ids]:
        if hid not in have:
            session.add(Interface(host_id=hid, device=f"vlan{vlan_id}", network_id=private.id, vlan=vlan_id))
    session.flush()
    lines = [f"created frontend VM named: {fe.host.name}"]
    lines += [f"created compute VM named: {p.host.name}" for p in planned[1:]]
    return lines


# --- listing --------------------------------------------------------------------------


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


def _vm_infos(session: Session, host_ids: Sequence[int] | None = None) -> dict[int, VMInfo]:
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
        ids = list(host_ids)
        for i in range(0, len(ids), 5000):
            rows += session.execute(stmt.where(Host.id.in_(ids[i : i + 5000]))).all()
    for row in rows:
        out[row[0]] = VMInfo(*row)
    return out


def _vm_of(session: Session, name: str) -> VMInfo:
    rec = selection.one_host(session, name)
    info = _vm_infos(session, [rec.id]).get(rec.id)
    if info is None:
        raise KsError(f'host "{rec.name}" is not a VM')
    return info


def _vms(session: Session, selectors: Sequence[str], *, change: bool) -> list[VMInfo]:
    records = selection.select_hosts(session, list(selectors), change=change)
    infos = _vm_infos(session, [r.id for r in records])
    out = [infos[r.id] for r in records if r.id in infos]
    if change and not out:
        raise KsError("none of the hosts named is a VM")
    return out


def _uri_template(attrs: dict[str, str]) -> str:
    return attrs.get("libvirt_uri") or power.DEFAULT_URI_TEMPLATE


class _Drivers:
    """Drivers per container, made once per command."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[int, power.HypervisorDriver] = {}
        self.attrs: dict[int, dict[str, str]] = {}
        self.names: dict[int, str] = {}

    def prime(self, host_ids: Sequence[int]) -> None:
        need = [h for h in dict.fromkeys(host_ids) if h not in self.attrs]
        if need:
            self.attrs.update(_resolved(self.session, need))
            self.names.update(dict(self.session.execute(select(Host.id, Host.name).where(Host.id.in_(need))).all()))

    def uri(self, host_id: int) -> str:
        self.prime([host_id])
        return power.uri_for(self.names[host_id], _uri_template(self.attrs[host_id]))

    def driver(self, host_id: int) -> power.HypervisorDriver:
        if host_id not in self.cache:
            self.cache[host_id] = POWER.driver_factory(self.names.get(host_id) or self._name(host_id), self.uri(host_id))
        return self.cache[host_id]

    def transport(self, host_id: int) -> power.Transport:
        return POWER.transport_factory(self._name(host_id), self.uri(host_id))

    def _name(self, host_id: int) -> str:
        self.prime([host_id])
        return self.names[host_id]


def _state(drivers: _Drivers, info: VMInfo) -> str:
    return power.vm_state(drivers.driver(info.physnode_id), info.name)


def list_clusters(session: Session, selectors: Sequence[str] = (), status: bool = False) -> list[tuple]:
    all_recs = selection.select_hosts(session, [], change=False)
    infos = _vm_infos(session)
    frontends = [r for r in all_recs if r.appliance == "frontend"]
    if selectors:
        wanted = {r.id for r in selection.select_hosts(session, list(selectors), change=False)}
        frontends = [r for r in frontends if r.id in wanted]
    public_names: dict[int, str] = {}
    vlan_hosts: dict[int, set[int]] = defaultdict(set)
    private_vlan: dict[int, int] = {}
    private_id = session.scalar(select(Network.id).where(Network.name == "private"))
    public_id = session.scalar(select(Network.id).where(Network.name == "public"))
    for host_id, device, net_id, vlan_id, name in session.execute(
        select(Interface.host_id, Interface.device, Interface.network_id, Interface.vlan, Interface.name).order_by(Interface.device)
    ):
        if net_id == public_id and name and host_id not in public_names:
            public_names[host_id] = name
        if vlan_id and host_id in infos:
            vlan_hosts[vlan_id].add(host_id)
            if net_id == private_id and host_id not in private_vlan:
                private_vlan[host_id] = vlan_id
    drivers = _Drivers(session) if status else None
    if drivers:
        drivers.prime({i.physnode_id for i in infos.values()})

    def st(host_id: int):
        if not status:
            return ()
        info = infos.get(host_id)
        return (_state(drivers, info) if info else None,)

    rows = []
    names = {r.id: r.name for r in all_recs}
    for fe in frontends:
        owner = public_names.get(fe.id, fe.name)
        if fe.id in infos:
            rows.append((owner, "", "VM", *st(fe.id)))
            members = vlan_hosts.get(private_vlan.get(fe.id), set()) - {fe.id}
            for hid in sorted(members, key=lambda h: selection.natural_key(names[h])):
                rows.append(("", names[hid], "VM", *st(hid)))
        else:
            rows.append((owner, "", "physical", *st(fe.id)))
            for r in all_recs:
                if r.appliance != "frontend" and r.id not in infos:
                    rows.append(("", r.name, "physical", *st(r.id)))
    return rows


def list_vms(session: Session, selectors: Sequence[str], status: bool = False, showdisks: bool = False) -> list[tuple]:
    vms = _vms(session, selectors, change=False)
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
    drivers = _Drivers(session) if status else None
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
                row.append(_state(drivers, v) if first else "")
            if showdisks:
                row += list(vdisks[i]) if i < len(vdisks) else ["", ""]
            rows.append(tuple("" if c is None else c for c in row))
    return rows


def vm_header(status: bool, showdisks: bool) -> list[str]:
    header = ["VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "HOST"]
    if status:
        header.append("STATUS")
    if showdisks:
        header += ["DISK", "DISKSIZE"]
    return header


# --- set / remove ---------------------------------------------------------------------


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
        vn.mem = _int(mem, "mem", 1)
    if cpus is not None:
        h.cpus = _int(cpus, "cpus", 1)
    if slice is not None:
        vn.slice = _int(slice, "slice", 0)
    if virt_type is not None:
        if virt_type not in ("", "para", "hvm"):
            raise KsError(f"invalid virt-type ({virt_type}): must be para or hvm")
        vn.virt_type = virt_type or None
    sizes = [_int(s, "disksize", 1) for s in disksize.split()] if disksize is not None else None
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


def remove_vm_domains(session: Session, records: Sequence[HostRecord]) -> list[str]:
    """Stop and undefine the libvirt domains of those ``records`` that are VMs (for
    ``remove host``); returns the VM names handled.  A VM not defined anywhere is fine."""
    infos = _vm_infos(session, [r.id for r in records])
    drivers = _Drivers(session)
    drivers.prime({i.physnode_id for i in infos.values()})
    done = []
    for info in sorted(infos.values(), key=lambda i: selection.natural_key(i.name)):
        d = drivers.driver(info.physnode_id)
        if d.exists(info.name):
            power.stop_vm(d, info.name)
            if d.exists(info.name):
                d.undefine(info.name)
        done.append(info.name)
    return done


def remove_vms(session: Session, selectors: Sequence[str]) -> list[str]:
    """``remove host vm``: the libvirt domains and the VM records (the hosts stay)."""
    vms = _vms(session, selectors, change=True)
    records = selection.select_hosts(session, [v.name for v in vms], change=True)
    remove_vm_domains(session, records)
    session.execute(delete(VMNode).where(VMNode.id.in_([v.vm_node_id for v in vms])))
    session.flush()
    return [v.name for v in vms]


def remove_cluster(session: Session, frontends: Sequence[str]) -> list[str]:
    """Remove virtual clusters named by their VM frontends: every VM in their VLANs, the
    VLAN interfaces on the physical hosts, and the libvirt domains."""
    removed: list[str] = []
    for word in frontends:
        info = _vm_of(session, word)
        if info.appliance != "frontend":
            raise KsError(f'host "{info.name}" is not a VM frontend')
        vlans = {
            v
            for v in session.scalars(select(Interface.vlan).where(Interface.host_id == info.host_id, Interface.vlan.is_not(None)))
            if v > 1
        }
        members = set(session.scalars(select(Interface.host_id).where(Interface.vlan.in_(vlans)))) if vlans else set()
        vm_ids = set(session.scalars(select(VMNode.host_id).where(VMNode.host_id.in_(members)))) | {info.host_id}
        records = selection.select_hosts(session, [], change=False)
        recs = [r for r in records if r.id in vm_ids]
        remove_vm_domains(session, recs)
        if vlans:
            # the VLAN devices on physical hosts (VMs' own interfaces go with the VMs)
            session.execute(
                delete(Interface).where(
                    Interface.vlan.in_(vlans), Interface.host_id.not_in(vm_ids), Interface.device.like("vlan%")
                )
            )
        for r in recs:
            session.delete(session.get(Host, r.id))
            removed.append(r.name)
        session.flush()
    return removed


# --- partitions -----------------------------------------------------------------------


def add_partition(session: Session, host: str, device: str, *, mountpoint=None, size=None, fstype=None) -> None:
    rec = selection.one_host(session, host)
    if session.scalar(select(Partition.id).where(Partition.host_id == rec.id, Partition.device == device)):
        raise KsError(f'host "{rec.name}" already has partition "{device}"')
    if size not in (None, "") and vm.parse_size_mb(size) is None:
        raise KsError(f"invalid partition size ({size}): give e.g. 36.0GB or 512MB")
    session.add(Partition(host_id=rec.id, device=device, mountpoint=mountpoint or None, size=size or None, fstype=fstype or None))
    session.flush()


def list_partitions(session: Session, selectors: Sequence[str]) -> list[tuple]:
    records = selection.select_hosts(session, list(selectors), change=False)
    by_id = {r.id: r.name for r in records}
    order = {r.id: i for i, r in enumerate(records)}
    rows = session.scalars(select(Partition).where(Partition.host_id.in_(list(by_id)))).all() if by_id else []
    rows = sorted(rows, key=lambda p: (order[p.host_id], selection.natural_key(p.device)))
    return [(by_id[p.host_id], p.device, p.mountpoint, p.size, p.fstype) for p in rows]


def remove_partitions(session: Session, host: str, device: str | None = None) -> None:
    rec = selection.one_host(session, host)
    stmt = delete(Partition).where(Partition.host_id == rec.id)
    if device:
        if not session.scalar(select(Partition.id).where(Partition.host_id == rec.id, Partition.device == device)):
            raise NotFound(f'host "{rec.name}" has no partition "{device}"')
        stmt = stmt.where(Partition.device == device)
    session.execute(stmt)
    session.flush()


# --- boot configuration of one VM -----------------------------------------------------


@dataclass
class _VMBoot:
    info: VMInfo
    host: Host
    attrs: dict[str, str]
    disks: list[VMDisk]
    ifaces: list[Interface]


def _load(session: Session, info: VMInfo) -> _VMBoot:
    host = session.get(Host, info.host_id)
    attrs = _resolved(session, [info.host_id])[info.host_id]
    disks = session.scalars(select(VMDisk).where(VMDisk.vm_node_id == info.vm_node_id).order_by(VMDisk.id)).all()
    ifaces = session.scalars(select(Interface).where(Interface.host_id == info.host_id).order_by(Interface.device)).all()
    return _VMBoot(info, host, attrs, list(disks), list(ifaces))


def _bootaction(session: Session, action: str | None, vm_name: str, what: str) -> Bootaction | None:
    if not action:
        return None
    row = session.scalar(select(Bootaction).where(Bootaction.action == action))
    if row is None:
        raise KsError(f'bootaction "{action}" ({what} action of VM {vm_name}) does not exist: add it with `add bootaction`')
    return row


def _ks_url(attrs: dict[str, str]) -> str:
    host = attrs.get("Kickstart_PrivateKickstartHost") or attrs.get("Kickstart_PrivateAddress") or "localhost"
    return f"http://{host}/install/sbin/kickstart.cgi"


def _network_suffix(b: _VMBoot) -> dict[str, str | None]:
    """Rocks 5.4: frontend VMs install with their public address on the command line."""
    if b.info.appliance != "frontend":
        return {}
    pub = next((i for i in b.ifaces if i.network and i.network.name == "public" and i.ip), None)
    if pub is None:
        return {}
    dns = (b.attrs.get("Kickstart_PublicDNSServers") or "").replace(",", " ").split()
    return {
        "ip": pub.ip,
        "netmask": pub.network.netmask,
        "dns": dns[0] if dns else None,
        "gateway": b.attrs.get("Kickstart_PublicGateway"),
    }


def _disk_specs(b: _VMBoot) -> list[vm.DiskSpec]:
    return [vm.DiskSpec(d.vbd_type, d.prefix, d.name, d.device, d.mode) for d in b.disks]


def xen_config(session: Session, host: str) -> str:
    """``report host vm``: the original's per-VM boot config (spec §5.4)."""
    b = _load(session, _vm_of(session, host))
    run = _bootaction(session, b.host.runaction, b.info.name, "run") if b.host.runaction else None
    inst = _bootaction(session, b.host.installaction, b.info.name, "install") if b.host.installaction else None
    cfg = power.XenVmConfig(
        name=b.info.name,
        boot_kernel=(run.kernel or "") if run else "",
        boot_ramdisk=(run.ramdisk or "") if run else "",
        boot_args=(run.args or "") if run else "",
        install_kernel=(inst.kernel or "") if inst else "",
        install_ramdisk=(inst.ramdisk or "") if inst else "",
        install_args=(inst.args or "") if inst else "",
        disks=[(s, d.size) for s, d in zip(_disk_specs(b), b.disks)],
        force_install=b.host.boot_action == "install",
        **_network_suffix(b),
    )
    return power.render_xen_config(cfg)


def _bridge(dev_by_host: dict, physnode_id: int, iface: Interface, private_id: int | None) -> str:
    if iface.vlan:
        dev = dev_by_host.get((physnode_id, private_id)) or "eth0"
        return f"xenbr.{dev}.{iface.vlan}"
    dev = dev_by_host.get((physnode_id, iface.network_id)) or "eth0"
    return f"xenbr.{dev}"


def domain_spec(session: Session, b: _VMBoot) -> power.DomainSpec:
    info, attrs = b.info, b.attrs
    domain_type = attrs.get("vm_domain_type") or "xen"
    install = b.host.boot_action == "install"
    if install:
        ba = _bootaction(session, b.host.installaction, info.name, "install")
        if ba is None:
            raise KsError(f"VM {info.name} is set to install but has no install action")
        cmdline = bootfiles.install_args(ba.args, b.host.install_token, _ks_url(attrs))
        extra = " ".join(f"{k}={v}" for k, v in _network_suffix(b).items() if v)
        cmdline = f"{cmdline} {extra}".strip() if extra else cmdline
        bootspec = power.Boot("install", ba.kernel or "", ba.ramdisk or "", cmdline)
    else:
        bootspec = power.Boot("os")
    network = (attrs.get("vm_network") or "bridge").strip()
    private_id = session.scalar(select(Network.id).where(Network.name == "private"))
    devs = {}
    for hid, net_id, dev, vlan_id in session.execute(
        select(Interface.host_id, Interface.network_id, Interface.device, Interface.vlan)
        .where(Interface.host_id == info.physnode_id)
        .order_by(Interface.device)
    ):
        if not vlan_id and not dev.startswith("vlan"):
            devs.setdefault((hid, net_id), dev)
    nics = []
    for i in b.ifaces:
        if not i.mac:
            continue
        if network == "user":
            nics.append(power.Interface(i.mac, kind="user"))
        elif network == "bridge":
            nics.append(power.Interface(i.mac, _bridge(devs, info.physnode_id, i, private_id)))
        else:
            nics.append(power.Interface(i.mac, network, kind="network"))
    console_dir = (attrs.get("vm_console_log") or "").strip()
    return power.DomainSpec(
        name=info.name,
        mem_mb=info.mem,
        cpus=b.host.cpus,
        domain_type=domain_type,
        virt_type=info.virt_type or None,
        interfaces=nics,
        disks=[power.Disk(s.path, s.device, s.vbd_type, s.mode, d.size) for s, d in zip(_disk_specs(b), b.disks)],
        boot=bootspec,
        console_log=posixpath.join(console_dir, f"{info.name}.log") if console_dir else None,
    )


def domain_xml(session: Session, host: str) -> str:
    """``report host vm config``: the libvirt domain XML ``start host vm`` defines."""
    return power.render_domain_xml(domain_spec(session, _load(session, _vm_of(session, host))))


# --- life cycle -----------------------------------------------------------------------


def start_vms(session: Session, selectors: Sequence[str]) -> list[str]:
    """Define (replacing a stale definition) and boot each VM; a VM being installed gets
    its missing disk images created first.  On a failure the VMs this call started are
    stopped and undefined again, so the hypervisors end as they were."""
    vms = _vms(session, selectors, change=True)
    drivers = _Drivers(session)
    drivers.prime({v.physnode_id for v in vms})
    started: list[tuple[power.HypervisorDriver, str]] = []
    try:
        for info in vms:
            b = _load(session, info)
            spec = domain_spec(session, b)
            d = drivers.driver(info.physnode_id)
            if spec.boot.mode == "install":
                files = [(s.path, disk.size) for s, disk in zip(_disk_specs(b), b.disks) if s.vbd_type != "phy"]
                power.ensure_disks(drivers.transport(info.physnode_id), drivers._name(info.physnode_id), files)
            power.start_vm(d, spec)
            started.append((d, info.name))
    except KsError:
        for d, name in reversed(started):
            try:
                power.stop_vm(d, name)
                if d.exists(name):
                    d.undefine(name)
            except KsError:
                pass
        raise
    return [v.name for v in vms]


def _each(session: Session, selectors: Sequence[str], op: Callable) -> list[str]:
    vms = _vms(session, selectors, change=True)
    drivers = _Drivers(session)
    drivers.prime({v.physnode_id for v in vms})
    for info in vms:
        op(drivers.driver(info.physnode_id), info.name)
    return [v.name for v in vms]


def stop_vms(session: Session, selectors: Sequence[str]) -> list[str]:
    return _each(session, selectors, power.stop_vm)


def pause_vms(session: Session, selectors: Sequence[str]) -> list[str]:
    return _each(session, selectors, power.pause_vm)


def resume_vms(session: Session, selectors: Sequence[str]) -> list[str]:
    return _each(session, selectors, power.resume_vm)


def _save_path(session: Session, info: VMInfo, file: str | None) -> str:
    if file:
        return file
    phys = session.get(Host, info.physnode_id)
    attrs = _resolved(session, [phys.id])
    kind = _disk_kind(attrs[phys.id])
    d = _disk_dirs(session, [phys], attrs, kind)[phys.id]
    return posixpath.join(d, f"{info.name}.saved")


def save_vms(session: Session, selectors: Sequence[str], file: str | None = None) -> list[str]:
    vms = _vms(session, selectors, change=True)
    if file and len(vms) > 1:
        raise KsError("file= may be given only with one VM")
    drivers = _Drivers(session)
    for info in vms:
        power.save_vm(drivers.driver(info.physnode_id), info.name, _save_path(session, info, file))
    return [v.name for v in vms]


def restore_vms(session: Session, selectors: Sequence[str], file: str | None = None) -> list[str]:
    vms = _vms(session, selectors, change=True)
    if file and len(vms) > 1:
        raise KsError("file= may be given only with one VM")
    drivers = _Drivers(session)
    for info in vms:
        power.restore_vm(drivers.driver(info.physnode_id), _save_path(session, info, file), info.name)
    return [v.name for v in vms]



def move_vm(
    session: Session,
    host: str,
    container: str,
    *,
    file: str | None = None,
    progress: power.progress.ProgressCallback | None = None,
) -> power.MoveResult:
    """Move a VM to another container: save, copy save file and disks, restore there;
    then point its records at the new container and disk directory."""
    info = _vm_of(session, host)
    dst = selection.one_host(session, container)
    if dst.id == info.physnode_id:
        raise KsError(f"VM {info.name} is already on {dst.name}")
    if dst.id == info.host_id:
        raise KsError(f"VM {info.name} cannot hold itself")
    drivers = _Drivers(session)
    drivers.prime([info.physnode_id, dst.id])
    dst_host = session.get(Host, dst.id)
    kind = _disk_kind(drivers.attrs[dst.id])
    dst_dir = _disk_dirs(session, [dst_host], drivers.attrs, kind)[dst.id]
    b = _load(session, info)
    files = [d for d in b.disks if d.vbd_type in ("file", "tap:aio", "qcow2", "qed")]
    result = power.move_vm(
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


# --- dump -----------------------------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9@%^\-_=+:,./]")


def _quote(text: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else "\\" + c for c in str(text))


def dump_vms(session: Session, selectors: Sequence[str]) -> str:
    vms = _vms(session, selectors, change=False)
    local = _physical_frontend(session).name
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
