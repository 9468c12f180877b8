"""Bulk import and export of hosts as a spreadsheet: ``load hostfile`` / ``report hostfile``.

Rule: Stacki's CSV (``docs``: the header case-insensitive, the same required columns, one row
per interface, several rows per multi-NIC host), so sites' existing sheets load. Everything
is checked before anything is written, and **every** error is reported with its line (the
file and the database both checked for names, MACs and addresses per network); then one
transaction applies it all: hosts, then interfaces with explicit addresses, then
``ip=auto`` ones from the one allocator (``services.allocation``). Boot files are refreshed
once, and DHCP follows the command once (``services.netboot``), not once per host.
``mode=replace`` (Stacki's): a listed host's interfaces are the sheet's; ``mode=merge``:
the sheet's interfaces are added or updated, the others kept. ``report hostfile`` writes
what ``load hostfile`` reads.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ksserver.attrs import defaults
from ksserver.db import queries
from ksserver.db.models import OS, Appliance, Bootaction, Host, Interface, Network
from ksserver.errors import KsError, Problems
from ksserver.services import allocation, bootfiles, selection, validate
from ksserver.truth import is_yes

HEADER = ["NAME", "INTERFACE HOSTNAME", "DEFAULT", "APPLIANCE", "RACK", "RANK", "IP", "MAC", "INTERFACE", "NETWORK",
          "CHANNEL", "OPTIONS", "VLAN", "INSTALLACTION", "OSACTION", "GROUPS", "BOX", "COMMENT"]
REQUIRED = ("name", "appliance", "ip", "mac", "interface", "rack", "rank", "network")
_ALIASES = {"runaction": "osaction"}


@dataclass
class Nic:
    line: int
    device: str
    mac: str | None
    ip: str | None  # None: none; "auto": allocate
    network: str | None
    vlan: int | None
    name: str | None
    channel: str | None
    options: str | None
    default: bool | None


@dataclass
class Sheet:
    line: int  # the host's first line
    name: str
    appliance: str | None = None
    rack: int | None = None
    rank: int | None = None
    installaction: str | None = None
    runaction: str | None = None
    nics: list[Nic] = field(default_factory=list)


def parse(text: str, where: str) -> tuple[list[Sheet], list[str]]:
    """The hosts of a sheet and the errors found reading it (``where:LINE: …`` each)."""
    errors: list[str] = []
    rows = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    hosts: dict[str, Sheet] = {}
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as err:  # a stray carriage return, a quote left open
            return [], [f"{where}:{rows.line_num}: not CSV: {err}".split(" - do you need")[0]]
        lineno = rows.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            header = [_ALIASES.get(c.lower(), c.lower()) for c in cells]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                return [], [f"{where}:{lineno}: the header lacks the required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(m.upper() for m in missing)}"]
            continue
        cell = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        err = _row(cell, lineno, hosts)
        errors += [f"{where}:{lineno}: {e}" for e in err]
    if header is None:
        errors.append(f"{where}: no header line (the columns are {', '.join(HEADER)})")
    return list(hosts.values()), errors


def _row(cell: dict[str, str], lineno: int, hosts: dict[str, Sheet]) -> list[str]:
    errors = []

    def check(fn, *args):
        try:
            return fn(*args)
        except KsError as err:
            errors.append(err.message)
            return None

    name = cell.get("name", "").lower()
    if not name:
        return ['empty host name in the NAME column']
    check(validate.name, name, "host")
    host = hosts.setdefault(name, Sheet(lineno, name))
    for key, conv in (("appliance", str), ("rack", lambda v: validate.integer(v, "rack", 0)),
                      ("rank", lambda v: validate.integer(v, "rank", 0)), ("installaction", str),
                      ("runaction", str)):
        raw = cell.get("osaction" if key == "runaction" else key, "")
        if not raw:
            continue
        value = check(conv, raw)
        if value is None:
            continue
        held = getattr(host, key)
        if held is not None and held != value:
            errors.append(f'{key} "{value}" for host {name} differs from line {host.line}\'s "{held}"')
        else:
            setattr(host, key, value)
    device = cell.get("interface", "").lower()
    if not device:
        if any(cell.get(k) for k in ("ip", "mac", "network")):
            errors.append(f"host {name}: an IP, MAC or NETWORK needs an INTERFACE")
        return errors
    check(validate.name, device, "interface")
    if any(n.device == device for n in host.nics):
        errors.append(f'interface "{device}" of host {name} is on line {next(n.line for n in host.nics if n.device == device)} too')
    ip = cell.get("ip", "").lower() or None
    if ip and ip != "auto":
        ip = check(validate.ip, ip)
    network = cell.get("network", "").lower() or None
    if ip and not network:
        errors.append(f"host {name} interface {device}: an IP needs a NETWORK")
    mac = cell.get("mac", "")
    mac = check(validate.mac, mac) if mac else None
    vlan = cell.get("vlan", "")
    vlan = check(validate.integer, vlan, "vlan", 1, 4095) if vlan else None
    default = cell.get("default", "")
    host.nics.append(Nic(lineno, device, mac, ip, network, vlan, cell.get("interface hostname", "").lower() or None,
                         cell.get("channel") or None, cell.get("options") or None,
                         is_yes(default) if default else None))
    return errors


@dataclass
class Planned:
    """What applying a checked sheet does (``dry-run=yes`` prints it)."""

    new_hosts: list[Sheet]
    old_hosts: list[Sheet]
    addresses: dict[tuple[str, str], str]  # (host, device) → the address it gets


def check(session: Session, hosts: list[Sheet], where: str, mode: str) -> tuple[Planned, list[str]]:
    """The database's side of the checks, and the addresses ``auto`` gets."""
    errors: list[str] = []
    appliances = {a.name: a for a in session.scalars(select(Appliance))}
    by_membership = {a.membership.lower(): a for a in appliances.values()}
    networks = {n.name: n for n in session.scalars(select(Network))}
    actions = set(session.scalars(select(Bootaction.action)))
    existing = {h.name: h for h in session.scalars(select(Host))}
    front = selection.this_frontend(session)
    listed = {h.name for h in hosts}
    # what stays in the database: everything but the interfaces this load replaces
    kept = session.execute(select(Host.name, Interface.device, Interface.mac, Interface.ip, Interface.network_id)
                           .join(Interface, Interface.host_id == Host.id)).all()
    mac_owner: dict[str, str] = {}
    ip_owner: dict[tuple[int, str], str] = {}
    sheet_devices = {(h.name, n.device) for h in hosts for n in h.nics}
    for host, device, mac, ip, net_id in kept:
        replaced = host in listed and (mode == "replace" or (host, device) in sheet_devices)
        if replaced:
            continue
        if mac:
            mac_owner[mac] = f"{host} {device} (in the database)"
        if ip and net_id:
            ip_owner[(net_id, ip)] = f"{host} {device} (in the database)"

    def err(line: int, text: str) -> None:
        errors.append(f"{where}:{line}: {text}")

    for h in hosts:
        old = existing.get(h.name)
        if old is not None and old.id == front:
            err(h.line, f"host {h.name} is this frontend: a sheet does not change it")
            continue
        if old is None:
            if h.appliance is None:
                err(h.line, f"host {h.name} is new and has no APPLIANCE")
            for key in ("rack", "rank"):
                if getattr(h, key) is None:
                    err(h.line, f"host {h.name} is new and has no {key.upper()}")
        app = h.appliance
        if app is not None and app not in appliances and app.lower() not in by_membership:
            err(h.line, f'unknown appliance "{app}"')
        for key in ("installaction", "runaction"):
            value = getattr(h, key)
            if value is not None and value not in actions:
                err(h.line, f'unknown bootaction "{value}" ({"INSTALLACTION" if key == "installaction" else "OSACTION"})')
        defaults_ = [n for n in h.nics if n.default]
        if len(defaults_) > 1:
            err(defaults_[1].line, f"host {h.name} has more than one DEFAULT interface (line {defaults_[0].line} too)")
        for n in h.nics:
            net = networks.get(n.network) if n.network else None
            if n.network and net is None:
                err(n.line, f'unknown network "{n.network}"')
                continue
            if n.mac:
                other = mac_owner.get(n.mac)
                if other:
                    err(n.line, f"MAC {n.mac} of {h.name} {n.device} is also {other}")
                mac_owner.setdefault(n.mac, f"{h.name} {n.device} (line {n.line})")
            if n.ip and n.ip != "auto" and net is not None:
                if ipaddress.IPv4Address(n.ip) not in allocation.network_of(net):
                    err(n.line, f"IP {n.ip} of {h.name} {n.device} is not on network {net.name} "
                                f"({allocation.network_of(net)})")
                key = (net.id, n.ip)
                other = ip_owner.get(key)
                if other:
                    err(n.line, f"IP {n.ip} of {h.name} {n.device} is also {other} on network {net.name}")
                ip_owner.setdefault(key, f"{h.name} {n.device} (line {n.line})")
    planned = Planned([h for h in hosts if h.name not in existing], [h for h in hosts if h.name in existing], {})
    if errors:
        return planned, errors
    # explicit addresses are claimed above; ``auto`` ones now, per network, in the allocator's order
    wanting: dict[int, list[tuple[Sheet, Nic]]] = defaultdict(list)
    for h in hosts:
        for n in h.nics:
            if n.ip == "auto":
                wanting[networks[n.network].id].append((h, n))
            elif n.ip and n.network:
                planned.addresses[(h.name, n.device)] = n.ip
    for net_id, asking in wanting.items():
        net = next(n for n in networks.values() if n.id == net_id)
        taken = allocation.taken_addresses(session, net) | {ip for (nid, ip) in ip_owner if nid == net_id}
        free = allocation.addresses(allocation.network_of(net), taken)
        for h, n in asking:
            ip = next(free, None)
            if ip is None:
                err(n.line, f"network {net.name} has no free address left for {h.name} {n.device}")
                break
            planned.addresses[(h.name, n.device)] = ip
    return planned, errors


def load(session: Session, path: str, dry_run: bool = False, mode: str = "replace") -> list[str]:
    return load_bytes(session, Path(path).read_bytes(), path, dry_run, mode)


def load_bytes(session: Session, data: bytes, path: str, dry_run: bool = False, mode: str = "replace") -> list[str]:
    """``load`` of a sheet's bytes (an upload), ``path`` naming it in every message."""
    if mode not in ("replace", "merge"):
        raise KsError(f'invalid mode "{mode}": replace or merge')
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KsError(f"{path}: not UTF-8 text (byte {err.start + 1})") from None
    hosts, errors = parse(text, path)
    if not errors:
        planned, errors = check(session, hosts, path, mode)
    if errors:
        raise Problems(errors)
    n_if = sum(len(h.nics) for h in hosts)
    auto = sum(1 for h in hosts for n in h.nics if n.ip == "auto")
    summary = (f"{len(planned.new_hosts)} new host{'' if len(planned.new_hosts) == 1 else 's'}, "
               f"{len(planned.old_hosts)} updated, {n_if} interface{'' if n_if == 1 else 's'} "
               f"({auto} address{'' if auto == 1 else 'es'} allocated)")
    if dry_run:
        lines = [f"dry run: {summary}; nothing written"]
        lines += [f"{host} {device} {ip}" for (host, device), ip in planned.addresses.items()
                  if any(n.ip == "auto" for h in hosts if h.name == host for n in h.nics if n.device == device)]
        return lines
    _apply(session, hosts, planned, mode)
    return [f"loaded {path}: {summary}"]


def _apply(session: Session, hosts: list[Sheet], planned: Planned, mode: str) -> None:
    appliances = {a.name: a for a in session.scalars(select(Appliance))}
    by_membership = {a.membership.lower(): a for a in appliances.values()}
    os_id = session.scalar(select(OS.id).where(OS.name == defaults.DEFAULT_OS))
    networks = {n.name: n.id for n in session.scalars(select(Network))}

    def app_id(name: str) -> int:
        return (appliances.get(name) or by_membership[name.lower()]).id

    rows = [dict(name=h.name, appliance_id=app_id(h.appliance), os_id=os_id, rack=h.rack, rank=h.rank, cpus=1,
                 runaction=h.runaction or "os", installaction=h.installaction or "install", boot_action="os")
            for h in planned.new_hosts]
    for chunk in range(0, len(rows), 5000):
        session.execute(insert(Host), rows[chunk:chunk + 5000])
    ids: dict[str, int] = {}
    for chunk in queries.chunks([h.name for h in hosts]):
        ids.update(session.execute(select(Host.name, Host.id).where(Host.name.in_(chunk))).all())
    for h in planned.old_hosts:
        values = {k: v for k, v in (("appliance_id", app_id(h.appliance) if h.appliance else None), ("rack", h.rack),
                                    ("rank", h.rank), ("installaction", h.installaction),
                                    ("runaction", h.runaction)) if v is not None}
        if values:
            session.execute(update(Host).where(Host.id == ids[h.name]).values(**values))
        devices = [n.device for n in h.nics]
        gone = delete(Interface).where(Interface.host_id == ids[h.name])
        session.execute(gone if mode == "replace" else gone.where(Interface.device.in_(devices)))
    ifaces = [dict(host_id=ids[h.name], device=n.device, mac=n.mac, ip=planned.addresses.get((h.name, n.device)),
                   network_id=networks.get(n.network) if n.network else None, vlan=n.vlan,
                   name=n.name or (h.name if n.network == "private" else None), channel=n.channel, options=n.options)
              for h in hosts for n in h.nics]
    for chunk in range(0, len(ifaces), 5000):
        session.execute(insert(Interface), ifaces[chunk:chunk + 5000])
    session.flush()
    bootfiles.refresh(session, [h.name for h in hosts])  # once, for all of them: their next boot is the OS


def report(session: Session) -> str:
    """Every host but this frontend as a sheet ``load hostfile`` reads back."""
    front = selection.this_frontend(session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    rows = session.execute(
        select(Host.id, Host.name, Appliance.name, Host.rack, Host.rank, Host.installaction, Host.runaction,
               Interface.name, Interface.ip, Interface.mac, Interface.device, Network.name, Interface.channel,
               Interface.options, Interface.vlan)
        .join(Appliance, Host.appliance_id == Appliance.id)
        .outerjoin(Interface, Interface.host_id == Host.id)
        .outerjoin(Network, Interface.network_id == Network.id)
        .order_by(Host.name, Interface.device)
    ).all()
    first: set[int] = set()
    for (hid, name, app, rack, rank, inst, run, iname, ip, mac, device, net, channel, options, vlan) in rows:
        if hid == front:
            continue
        default = "True" if device and hid not in first else ""
        if device:
            first.add(hid)
        writer.writerow([name, iname or "", default, app, rack, rank, ip or "", mac or "", device or "", net or "",
                         channel or "", options or "", vlan or "", inst or "", run or "", "", "", ""])
    return out.getvalue()
