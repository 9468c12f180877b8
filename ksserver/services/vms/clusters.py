"""Virtual clusters: ``add cluster`` plans every VM, then writes; ``list`` and ``remove``.

``add cluster`` plans everything in Python from a fixed number of bulk reads (VLANs, MACs,
names, partitions, attributes) and then writes every row in one transaction; any error
leaves no host, interface, VLAN or VM record behind.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver import vm
from ksserver.attrs import Level
from ksserver.db import queries
from ksserver.db.models import Appliance, GlobalAttr, Host, Interface, Network, VMDisk, VMNode
from ksserver.errors import KsError
from ksserver.services import attributes, boot, lookup, selection, validate
from ksserver.services.vms import vlans as vlan_devices
from ksserver.services.vms.drivers import Drivers, state_of
from ksserver.services.vms.lifecycle import remove_vm_domains
from ksserver.services.vms.records import disk_dirs, disk_kind, number, physical_frontend, vm_infos, vm_of

FRONTEND_INSTALL = "install vm frontend"
COMPUTE_INSTALL = "install vm"
MAC_BASE_ATTR = "vm_mac_base_addr"
MAC_MASK_ATTR = "vm_mac_base_addr_mask"


def _set_global(session: Session, name: str, value: str) -> None:
    attributes.set_attr(session, Level.GLOBAL, [], name, value)


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
    for chunk in queries.chunks(keys):
        out.update(session.execute(select(key_col, id_col).where(key_col.in_(chunk))).all())
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
    n = number(num_computes, "num-computes", 0)
    cpus = number(cpus_per_compute if cpus_per_compute not in (None, "") else 1, "cpus-per-compute", 1)
    mem = number(mem_per_compute if mem_per_compute not in (None, "") else 1024, "mem-per-compute", 1)
    disk_c = number(disk_per_compute if disk_per_compute not in (None, "") else 36, "disk-per-compute", 1)
    disk_f = number(disk_per_frontend if disk_per_frontend not in (None, "") else 36, "disk-per-frontend", 1)
    if session.scalar(select(Interface.id).where(Interface.name == fqdn)) is not None:
        raise KsError(f'the name "{fqdn}" is already used by an interface')

    fe_phys = physical_frontend(session)
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
    attrs = attributes.resolved_values(session, [fe_phys.id, *container_ids])
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
    dirs = disk_dirs(session, [hosts_by_id[i] for i in [fe_phys.id, *container_ids]], attrs, "xen")
    kinds = {hid: disk_kind(attrs[hid]) for hid in attrs}
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
        d = dirs[phys.id]
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
    for hid in dict.fromkeys([fe_phys.id, *container_ids]):  # the physical frontend may be a container too
        if hid not in have:
            session.add(Interface(host_id=hid, device=f"vlan{vlan_id}", network_id=private.id, vlan=vlan_id))
    session.flush()
    lines = [f"created frontend VM named: {fe.host.name}"]
    lines += [f"created compute VM named: {p.host.name}" for p in planned[1:]]
    return lines



def cluster_tree(session: Session, selectors: Sequence[str] = (), power: hv.Power | None = None) -> list[dict]:
    """Each frontend with its client nodes, nested: ``{frontend, type, nodes: [{name, type}]}``
    (with ``power``, a ``status`` beside each ``type``). A VM frontend's nodes are the VMs on
    its private VLAN; the physical frontend's, every physical host. ``list cluster`` prints
    these as the original's rows; ``--json`` and the API give them as they are."""
    status = power is not None
    drivers = Drivers(session, power) if power is not None else None
    # names and appliances only (every host's natural order is kept per revision): a page
    # of the console at 10,000 hosts reads no host record it does not show
    in_order = selection.every_host_in_order(session)
    frontend_ids = set(session.scalars(select(Host.id).join(Appliance, Host.appliance_id == Appliance.id)
                                       .where(Appliance.name == "frontend")))
    infos = vm_infos(session)
    frontends = [(hid, name) for name, hid in in_order if hid in frontend_ids]
    if selectors:
        wanted = {r.id for r in selection.select_hosts(session, list(selectors), change=False)}
        frontends = [f for f in frontends if f[0] in wanted]
    public_names: dict[int, str] = {}
    vlan_hosts: dict[int, set[int]] = defaultdict(set)
    private_vlan: dict[int, int] = {}
    private_id = session.scalar(select(Network.id).where(Network.name == "private"))
    public_id = session.scalar(select(Network.id).where(Network.name == "public"))
    for host_id, device, net_id, vlan_id, name in session.execute(
        select(Interface.host_id, Interface.device, Interface.network_id, Interface.vlan, Interface.name)
        .where(or_(Interface.vlan.is_not(None), Interface.network_id == public_id)).order_by(Interface.device)
    ):
        if net_id == public_id and name and host_id not in public_names:
            public_names[host_id] = name
        if vlan_id and host_id in infos:
            vlan_hosts[vlan_id].add(host_id)
            if net_id == private_id and host_id not in private_vlan:
                private_vlan[host_id] = vlan_id
    if drivers:
        drivers.prime({i.physnode_id for i in infos.values()})

    def node(host_id: int, name: str, kind: str, key: str = "name") -> dict:
        item: dict = {key: name, "type": kind}
        if status:
            info = infos.get(host_id)
            item["status"] = state_of(drivers, info) if info else None
        return item

    tree = []
    names = {hid: name for name, hid in in_order}
    for fe_id, fe_name in frontends:
        owner = public_names.get(fe_id, fe_name)
        if fe_id in infos:
            cluster = node(fe_id, owner, "VM", "frontend")
            members = vlan_hosts.get(private_vlan.get(fe_id), set()) - {fe_id}
            cluster["nodes"] = [node(h, names[h], "VM")
                                for h in sorted(members, key=lambda h: selection.natural_key(names[h]))]
        else:
            cluster = node(fe_id, owner, "physical", "frontend")
            cluster["nodes"] = [node(hid, name, "physical") for name, hid in in_order
                                if hid not in frontend_ids and hid not in infos]
        tree.append(cluster)
    return tree


def cluster_rows(tree: list[dict]) -> list[tuple]:
    """``list cluster``'s rows: a frontend's line, then one per client node."""
    rows = []
    for cluster in tree:
        extra = (cluster["status"],) if "status" in cluster else ()
        rows.append((cluster["frontend"], "", cluster["type"], *extra))
        for n in cluster["nodes"]:
            rows.append(("", n["name"], n["type"], *((n["status"],) if "status" in n else ())))
    return rows


def remove_cluster(session: Session, frontends: Sequence[str], power: hv.Power) -> list[str]:
    """Remove virtual clusters named by their VM frontends: every VM in their VLANs, the
    VLAN interfaces on the physical hosts, and the libvirt domains."""
    removed: list[str] = []
    for word in frontends:
        info = vm_of(session, word)
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
        remove_vm_domains(session, recs, power)
        carriers = {
            h: [v for v in vs if v in vlans]
            for h, vs in vlan_devices.carried(session, list(session.scalars(
                select(Interface.host_id).where(Interface.vlan.in_(vlans), Interface.host_id.not_in(vm_ids))))).items()
        } if vlans else {}
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
        # and their bridges on those hosts, last: the rows said where they are
        vlan_devices.remove(session, Drivers(session, power), {h: vs for h, vs in carriers.items() if vs})
    return removed


