"""Hosts, interfaces, appliances, networks and OSes."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ksserver.attrs import defaults
from ksserver import vm
from ksserver.db.models import OS, Appliance, Host, Interface, Network, Partition, VMNode
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError, NotFound
from ksserver.services import bootfiles, lookup, selection, validate

if TYPE_CHECKING:  # the hypervisor layer is imported by the one command that needs it
    from ksserver.power import Power

_NAME_RACK_RANK = re.compile(r"(?P<app>.+)-(?P<rack>\d+)-(?P<rank>\d+)\Z")


# --- hosts --------------------------------------------------------------------------------


def add_host(
    session: Session,
    name: str,
    *,
    appliance: str | None = None,
    rack: str | None = None,
    rank: str | None = None,
    cpus: str | None = None,
    os: str | None = None,
    arch: str | None = None,
) -> Host:
    """A name ``<appliance>-<rack>-<rank>`` supplies all three when they are not given."""
    validate.name(name, "host")
    if session.scalar(select(Host.id).where(Host.name == name)) is not None:
        raise KsError(f'host "{name}" exists')
    match = _NAME_RACK_RANK.match(name)
    if match and session.scalar(select(Appliance.id).where(Appliance.name == match["app"])):
        appliance = appliance or match["app"]
        rack = match["rack"] if rack is None else rack
        rank = match["rank"] if rank is None else rank
    if appliance is None:
        raise KsError(f'host "{name}": membership not specified (give appliance=NAME)')
    if rack is None:
        raise KsError(f'host "{name}": rack not specified')
    if rank is None:
        raise KsError(f'host "{name}": rank not specified')
    app = lookup.appliance(session, appliance)
    host = Host(
        name=name,
        appliance_id=app.id,
        os_id=lookup.os_(session, os or defaults.DEFAULT_OS).id,
        rack=validate.integer(rack, "rack", 0),
        rank=validate.integer(rank, "rank", 0),
        cpus=validate.integer(cpus if cpus is not None else 1, "cpus", 1),
        arch=validate.arch(arch) if arch is not None else None,
    )
    session.add(host)
    session.flush()
    return host


def list_hosts(session: Session, selectors: Sequence[str]):
    return [
        (r.name, r.membership, r.cpus, r.rack, r.rank, r.runaction, r.installaction)
        for r in selection.select_hosts(session, list(selectors), change=False)
    ]


def remove_hosts(session: Session, selectors: Sequence[str], power: Power, force: bool = False) -> list[str]:
    """Remove hosts with their interfaces and attributes; a VM's libvirt domain goes too.

    With ``force``, a VM whose hypervisor cannot be reached (a container gone for good)
    loses its records anyway; returns warnings for what was left on the hypervisor side."""
    records = selection.select_hosts(session, list(selectors), change=True)
    ids = {r.id for r in records}
    frontend = selection.this_frontend(session)
    if frontend in ids and not force:
        name = next(r.name for r in records if r.id == frontend)
        raise KsError(f'"{name}" is this frontend: removing it loses its attributes and interfaces '
                      "(force=yes removes it all the same)")
    guests = session.execute(
        select(Host.id, Host.name).join(VMNode, VMNode.host_id == Host.id).where(VMNode.physnode_id.in_(ids))
    ).all()
    held = [name for host_id, name in guests if host_id not in ids]
    if held:
        raise KsError(f"cannot remove a container that still holds VMs ({', '.join(sorted(held))}); remove or move them first")
    from ksserver.services.vms.lifecycle import remove_vm_domains

    warnings = []
    try:
        remove_vm_domains(session, records, power)
    except KsError as err:
        if not force:
            raise KsError(f"{err.message} (force=yes removes the records anyway)") from None
        warnings.append(f"warning - {err.message}; the records are removed, the domain is not")
    gone = session.execute(select(Interface.ip, Interface.mac).where(Interface.host_id.in_(ids))).all()
    for rec in records:
        session.delete(session.get(Host, rec.id))
    session.flush()
    bootfiles.forget(session, [ip for ip, _ in gone], [mac for _, mac in gone])
    return warnings


def set_host_field(session: Session, selectors: Sequence[str], field: str, value: str) -> None:
    """``set host cpus|rack|rank|appliance|membership``."""
    records = selection.select_hosts(session, list(selectors), change=True)
    if field in ("appliance", "membership"):
        new = lookup.appliance(session, value).id
    elif field == "cpus":
        new = validate.integer(value, field, 1)
    else:
        new = validate.integer(value, field, 0)
    column = "appliance_id" if field in ("appliance", "membership") else field
    for rec in records:
        setattr(session.get(Host, rec.id), column, new)
    session.flush()


# --- interfaces ---------------------------------------------------------------------------


def _host(session: Session, name: str) -> Host:
    return session.get(Host, selection.one_host(session, name).id)


def _iface(session: Session, host: Host, device: str) -> Interface:
    row = session.scalar(select(Interface).where(Interface.host_id == host.id, Interface.device == device))
    if row is None:
        raise NotFound(f'host "{host.name}" has no interface "{device}"')
    return row


def _check_ip(session: Session, iface: Interface, ip: str, network: Network | None) -> None:
    if network is not None:
        net = ipaddress.IPv4Network(f"{network.subnet}/{network.netmask}", strict=False)
        if ipaddress.IPv4Address(ip) not in net:
            raise KsError(f'ip {ip} is not on network "{network.name}" ({network.subnet}/{network.netmask})')
    clash = session.scalar(
        select(Host.name)
        .join(Interface, Interface.host_id == Host.id)
        .where(Interface.ip == ip, Interface.network_id == (network.id if network else None), Interface.id != iface.id)
    ) if network is not None else None
    if clash:
        raise KsError(f'ip {ip} is already used by host "{clash}" on network "{network.name}"')


def _check_mac(session: Session, iface: Interface, mac: str) -> None:
    clash = session.scalar(
        select(Host.name).join(Interface, Interface.host_id == Host.id).where(Interface.mac == mac, Interface.id != iface.id)
    )
    if clash:
        raise KsError(f'MAC {mac} is already used by host "{clash}"')


def add_interface(
    session: Session,
    host: str,
    device: str,
    *,
    mac: str | None = None,
    ip: str | None = None,
    subnet: str | None = None,
    vlan: str | None = None,
    module: str | None = None,
    name: str | None = None,
    options: str | None = None,
    channel: str | None = None,
    refresh: bool = True,
) -> Interface:
    """``refresh=False``: the caller refreshes boot files once for a batch of hosts."""
    h = _host(session, host)
    validate.name(device, "interface")
    if session.scalar(select(Interface.id).where(Interface.host_id == h.id, Interface.device == device)):
        raise KsError(f'host "{h.name}" already has interface "{device}"')
    iface = Interface(host_id=h.id, device=device, module=module, options=options, channel=channel)
    session.add(iface)
    _apply(session, h, iface, mac=mac, ip=ip, subnet=subnet, vlan=vlan, name=name)
    session.flush()
    if refresh and (iface.ip or iface.mac):  # a host set to boot gets the files its address and MAC name
        bootfiles.refresh(session, [h.name])
    return iface


def _apply(session, host: Host, iface: Interface, **fields) -> None:
    if fields.get("subnet") is not None:
        iface.network_id = lookup.network(session, fields["subnet"]).id
    if fields.get("vlan") is not None:
        iface.vlan = None if fields["vlan"] in ("", "none") else validate.integer(fields["vlan"], "vlan", 0, 4095)
    if fields.get("name") is not None:
        iface.name = validate.name(fields["name"], "interface")
    if fields.get("module") is not None:
        iface.module = fields["module"] or None
    if fields.get("mac") is not None:
        iface.mac = validate.mac(fields["mac"]) if fields["mac"] not in ("", "none") else None
    if fields.get("ip") is not None:
        iface.ip = validate.ip(fields["ip"]) if fields["ip"] not in ("", "none") else None
    session.flush()
    if iface.mac:
        _check_mac(session, iface, iface.mac)
    if iface.ip:
        network = session.get(Network, iface.network_id) if iface.network_id else None
        _check_ip(session, iface, iface.ip, network)


def set_interface(session: Session, host: str, device: str, field: str, value: str) -> None:
    """``set host interface ip|mac|subnet|name|vlan|module HOST IFACE VALUE``."""
    h = _host(session, host)
    iface = _iface(session, h, device)
    if field == "subnet" and value in ("", "none"):
        iface.network_id = None
        session.flush()
        return
    old_ip, old_mac = iface.ip, iface.mac
    _apply(session, h, iface, **{field: value})
    if field in ("ip", "mac"):  # boot files are named by them: the new ones now, the old ones gone
        bootfiles.refresh(session, [h.name])
        bootfiles.forget(session, [old_ip], [old_mac])


def remove_interface(session: Session, host: str, device: str) -> None:
    h = _host(session, host)
    iface = _iface(session, h, device)
    gone = (iface.ip, iface.mac)
    session.delete(iface)
    session.flush()
    bootfiles.forget(session, [gone[0]], [gone[1]])


def list_interfaces(session: Session, selectors: Sequence[str]):
    records = selection.select_hosts(session, list(selectors), change=False)
    return interface_rows(session, records, every=not selectors)


def interface_rows(session: Session, records: Sequence[HostRecord], every: bool = False) -> list[tuple]:
    """``list host interface``'s rows for these hosts, in one statement (``every``: they are
    all the hosts, so no list of ids is sent)."""
    by_id = {r.id: r for r in records}
    rows: list[tuple] = []
    if not records:
        return rows
    stmt = (
        select(Interface.host_id, Network.name, Interface.device, Interface.mac, Interface.ip, Network.netmask,
               Interface.module, Interface.name, Interface.vlan, Interface.options, Interface.channel)
        .outerjoin(Network, Interface.network_id == Network.id)
        .order_by(Interface.host_id, Interface.device)
    )  # columns, not entities: a page of 1,000 hosts' interfaces in a few milliseconds
    if not every:
        stmt = stmt.where(Interface.host_id.in_(list(by_id)))
    for host_id, *cells in session.execute(stmt):
        rec = by_id.get(host_id)
        if rec is not None:
            rows.append((rec.name, *cells))
    order = {r.id: i for i, r in enumerate(records)}
    name_order = {r.name: order[r.id] for r in records}
    rows.sort(key=lambda row: (name_order[row[0]], selection.natural_key(row[2])))
    return rows


# --- appliances, networks, OSes -----------------------------------------------------------


def set_appliance_graph(session: Session, names: list[str], graph: str, node: str | None = None) -> None:
    """Which graph (and root node) appliances use: a site directory's ``graphs/NAME/`` holds
    the edges a graph has, so a site graph named apart from ``default`` takes the shipped
    graph's place for those appliances — its node files still override shipped ones of the
    same name, and a shipped node only comes in when the site's edges reach it."""
    from ksserver import config

    validate.name(graph, "graph")
    if not any((d / "graphs" / graph).is_dir() for d in config.graph_dirs()):
        looked = ", ".join(str(d / "graphs" / graph) for d in config.graph_dirs())
        raise KsError(f'graph "{graph}" has no graph files (looked in {looked})')
    if node:
        validate.name(node, "node")
    apps = []
    for name in names:
        app = session.scalar(select(Appliance).where(Appliance.name == name))
        if app is None:
            raise NotFound(f'unknown appliance "{name}"')
        apps.append(app)
    for app in apps:
        app.graph = graph
        if node:
            app.node = node
    session.flush()


def add_appliance(
    session: Session,
    name: str,
    *,
    membership: str | None = None,
    node: str | None = None,
    graph: str | None = None,
    public: str | None = None,
    kickstartable: str | None = None,
) -> Appliance:
    validate.name(name, "appliance")
    membership = validate.membership(membership or name.replace("-", " ").title())
    if node:
        validate.name(node, "node")
    if graph:
        validate.name(graph, "graph")
    if session.scalar(select(Appliance.id).where(Appliance.name == name)):
        raise KsError(f'appliance "{name}" exists')
    if session.scalar(select(Appliance.id).where(func.lower(Appliance.membership) == membership.lower())):
        raise KsError(f'membership "{membership}" exists')
    node = node or None
    app = Appliance(
        name=name,
        membership=membership,
        node=node,
        graph=graph or "default",
        public=validate.boolean(public or "no", "public"),
        kickstartable=validate.boolean(kickstartable, "kickstartable") if kickstartable is not None else node is not None,
    )
    if app.kickstartable and not app.node:
        raise KsError(f'appliance "{name}" cannot be kickstartable without a root node (give node=NAME)')
    session.add(app)
    session.flush()
    return app


def list_appliances(session: Session):
    return [
        (a.name, a.membership, a.graph, a.node, a.kickstartable, a.public)
        for a in session.scalars(select(Appliance).order_by(Appliance.name))
    ]


def remove_appliance(session: Session, name: str) -> None:
    app = lookup.appliance(session, name)
    used = session.scalar(select(func.count(Host.id)).where(Host.appliance_id == app.id))
    if used:
        raise KsError(f'appliance "{app.name}" still has {used} host(s); remove them first')
    session.delete(app)
    session.flush()


def add_network(
    session: Session,
    name: str,
    subnet: str,
    netmask: str,
    *,
    dnszone: str | None = None,
    mtu: str | None = None,
    servedns: str | None = None,
) -> Network:
    validate.name(name, "network")
    subnet = validate.ip(subnet, "subnet")
    netmask = validate.netmask(netmask)
    net = ipaddress.IPv4Network(f"{subnet}/{netmask}", strict=False)
    if str(net.network_address) != subnet:
        raise KsError(f"subnet {subnet} has host bits set for netmask {netmask} (did you mean {net.network_address}?)")
    if session.scalar(select(Network.id).where(Network.name == name)):
        raise KsError(f'network "{name}" exists')
    zone = dnszone or name
    if session.scalar(select(Network.id).where(Network.dnszone == zone)):
        raise KsError(f'DNS zone "{zone}" is already used by another network')
    row = Network(
        name=name,
        subnet=subnet,
        netmask=netmask,
        dnszone=zone,
        mtu=validate.integer(mtu if mtu is not None else 1500, "mtu", 68, 65535),
        servedns=validate.boolean(servedns or "no", "servedns"),
    )
    session.add(row)
    session.flush()
    return row


def list_networks(session: Session):
    return [
        (n.name, n.subnet, n.netmask, n.mtu, n.dnszone, n.servedns)
        for n in session.scalars(select(Network).order_by(Network.name))
    ]


def remove_network(session: Session, name: str) -> None:
    net = lookup.network(session, name)
    used = session.scalar(select(func.count(Interface.id)).where(Interface.network_id == net.id))
    if used:
        raise KsError(f'network "{net.name}" is used by {used} interface(s); remove or move them first')
    session.delete(net)
    session.flush()


def add_os(session: Session, name: str) -> OS:
    validate.name(name, "OS")
    if session.scalar(select(OS.id).where(OS.name == name)):
        raise KsError(f'OS "{name}" exists')
    row = OS(name=name)
    session.add(row)
    session.flush()
    return row


def list_oses(session: Session):
    return [(o.name,) for o in session.scalars(select(OS).order_by(OS.name))]


# --- partitions (where VM disk images go) ------------------------------------------


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
