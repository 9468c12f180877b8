"""Static routes at the four levels, and a host's: the original's ``add|list|remove [os|
appliance|host] route`` and ``report host route``.

A host's routes fold as its attributes do (``attrs.precedence``, the one fold): keyed by the
destination network, host over appliance over OS over global. ``report host route`` prints
them as ``/etc/sysconfig/static-routes`` lines, the original's format
(``rocksclusters/base:src/command/commands/report/host/route/__init__.py``, ``getRoute``):
``any host ADDR`` or ``any net NET netmask MASK``, then ``gw GATEWAY`` when the gateway is an
address, else ``dev DEVICE``; the default route is left out (``report host network`` gives
it as ``GATEWAY=``). A gateway that names a network is the host's device on it, as the
original's ``getHostRoutes`` made it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.attrs import Level
from ksserver.attrs.precedence import resolve
from ksserver.db.models import Interface, Network, Route
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.services import attributes, selection, validate

DEFAULT = ("0.0.0.0", "0.0.0.0")


def _is_address(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _gateway(value: str) -> str:
    """An address, or the name of a network (the host's device on it) or of a device."""
    value = (value or "").strip()
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        pass
    validate.name(value, "gateway")
    return outputs.kickstart_line(value, "gateway")


def add_route(session: Session, level: Level, names: Sequence[str], network: str, gateway: str,
              netmask: str | None = None) -> None:
    network = validate.ip(network, "network")
    mask = validate.netmask(netmask or "255.255.255.255")
    try:
        ipaddress.IPv4Network(f"{network}/{mask}")
    except ValueError:
        raise KsError(f"invalid route {network}/{mask}: the netmask leaves host bits in the network") from None
    gw = _gateway(gateway)
    for owner_id, owner_name in attributes.owners(session, level, names, change=True):
        same_owner = Route.owner_id.is_(None) if owner_id is None else Route.owner_id == owner_id
        if session.scalar(select(Route.id).where(Route.level == level.letter, same_owner,
                                                 Route.network == network)) is not None:
            where = "" if level is Level.GLOBAL else f" for {level.noun} \"{owner_name}\""
            raise KsError(f'route "{network}" exists{where}')
        session.add(Route(level=level.letter, owner_id=owner_id, network=network, netmask=mask, gateway=gw))
    session.flush()


def remove_route(session: Session, level: Level, names: Sequence[str], network: str) -> None:
    network = validate.ip(network, "network")
    for owner_id, owner_name in attributes.owners(session, level, names, change=True):
        row = session.scalar(select(Route).where(Route.level == level.letter, Route.network == network,
                                                 Route.owner_id.is_(None) if owner_id is None
                                                 else Route.owner_id == owner_id))
        if row is None:
            where = "" if level is Level.GLOBAL else f" for {level.noun} \"{owner_name}\""
            raise KsError(f'no route "{network}"{where}')
        session.delete(row)
    session.flush()


def list_routes(session: Session, level: Level, names: Sequence[str]) -> list[tuple]:
    owners = attributes.owners(session, level, names, change=False)
    ids = {oid: name for oid, name in owners}
    rows = session.scalars(select(Route).where(Route.level == level.letter).order_by(Route.network)).all()
    return [(ids[r.owner_id], r.network, r.netmask, r.gateway) for r in rows if r.owner_id in ids]


def host_routes(session: Session, rec: HostRecord, rows: Sequence[Route] | None = None) -> dict[str, tuple[str, str, Level]]:
    """network → (netmask, gateway, the level it came from), the one fold; ``rows``: every
    route, when the caller read them once for many hosts."""
    owners = {Level.GLOBAL: None, Level.OS: rec.os_id, Level.APPLIANCE: rec.appliance_id, Level.HOST: rec.id}
    layers: dict[Level, dict[str, str]] = {level: {} for level in owners}
    for r in rows if rows is not None else session.scalars(select(Route).order_by(Route.id)):
        level = Level(r.level)
        if owners.get(level, -1) == r.owner_id:
            layers[level][r.network] = f"{r.netmask} {r.gateway}"
    out = {}
    for network, resolved in resolve({}, layers).items():
        mask, gw = resolved.value.split(" ", 1)
        out[network] = (mask, gw, resolved.source)
    return out


def list_host_routes(session: Session, selectors: Sequence[str]) -> list[tuple]:
    rows = []
    every = session.scalars(select(Route).order_by(Route.id)).all()  # read once, folded per host
    for rec in selection.select_hosts(session, list(selectors), change=False):
        for network, (mask, gw, level) in sorted(host_routes(session, rec, every).items(),
                                                 key=lambda kv: ipaddress.IPv4Address(kv[0])):
            rows.append((rec.name, network, mask, gw, level.letter))
    return rows


def default_gateway(session: Session, rec: HostRecord) -> str | None:
    for network, (mask, gw, _level) in host_routes(session, rec).items():
        if (network, mask) == DEFAULT:
            return gw
    return None


def report_host_route(session: Session, host: str) -> str:
    rec = selection.one_host(session, host)
    devices = {name: dev for name, dev in session.execute(
        select(Network.name, Interface.device).join(Interface, Interface.network_id == Network.id)
        .where(Interface.host_id == rec.id).order_by(Interface.id))}
    lines = []
    for network, (mask, gw, _level) in sorted(host_routes(session, rec).items(),
                                              key=lambda kv: ipaddress.IPv4Address(kv[0])):
        if (network, mask) == DEFAULT:
            continue
        words = ["any", "host", network] if mask == "255.255.255.255" else ["any", "net", network, "netmask", mask]
        if _is_address(gw):
            words += ["gw", gw]
        else:
            words += ["dev", devices.get(gw, gw)]
        lines.append(" ".join(words))
    return "".join(line + "\n" for line in lines)
