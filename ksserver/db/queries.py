"""Bulk reads that return plain values, a constant number of queries per request.

Resolution for any number of hosts costs the same handful of queries: the hosts, each
attribute level, and the private interfaces — never one query per host or per attribute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ksserver.db.models import (
    OS,
    Appliance,
    ApplianceAttr,
    GlobalAttr,
    Host,
    HostAttr,
    Interface,
    InventoryRevision,
    Network,
    OSAttr,
)

CHUNK = 5000  # stays under every backend's bound-parameter limit


@dataclass(frozen=True, slots=True)
class HostRecord:
    id: int
    name: str
    appliance_id: int
    appliance: str
    membership: str
    node: str | None
    graph: str
    os_id: int
    os: str
    rack: int
    rank: int
    cpus: int
    arch: str | None
    runaction: str | None
    installaction: str | None


def _host_select():
    return (
        select(
            Host.id,
            Host.name,
            Host.appliance_id,
            Appliance.name,
            Appliance.membership,
            Appliance.node,
            Appliance.graph,
            Host.os_id,
            OS.name,
            Host.rack,
            Host.rank,
            Host.cpus,
            Host.arch,
            Host.runaction,
            Host.installaction,
        )
        .join(Appliance, Host.appliance_id == Appliance.id)
        .join(OS, Host.os_id == OS.id)
    )


def host_records(session: Session | Connection, where=None) -> list[HostRecord]:
    stmt = _host_select()
    if where is not None:
        stmt = stmt.where(where)
    return [HostRecord(*row) for row in session.execute(stmt)]


def host_records_by_id(session: Session | Connection, ids: Sequence[int]) -> list[HostRecord]:
    out: list[HostRecord] = []
    for chunk in _chunks(ids):
        out += host_records(session, Host.id.in_(chunk))
    return out


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def global_attrs(session: Session) -> dict[str, str]:
    return dict(session.execute(select(GlobalAttr.name, GlobalAttr.value)).all())


def _owned(session: Session, model, owner_col, owner_ids: Iterable[int], everything: bool):
    out: dict[int, dict[str, str]] = defaultdict(dict)
    stmt = select(owner_col, model.name, model.value)
    if everything:
        rows = session.execute(stmt)
    else:
        rows = []
        for chunk in _chunks(sorted(set(owner_ids))):
            rows += session.execute(stmt.where(owner_col.in_(chunk))).all()
    for owner, name, value in rows:
        out[owner][name] = value
    return out


def os_attrs(session: Session, os_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    return _owned(session, OSAttr, OSAttr.os_id, os_ids, False)


def appliance_attrs(session: Session, ids: Iterable[int]) -> dict[int, dict[str, str]]:
    return _owned(session, ApplianceAttr, ApplianceAttr.appliance_id, ids, False)


def host_attrs(session: Session, ids: Iterable[int], everything: bool = False):
    return _owned(session, HostAttr, HostAttr.host_id, ids, everything)


def private_interfaces(
    session: Session, ids: Iterable[int], everything: bool = False
) -> dict[int, tuple[str | None, str | None]]:
    """(ip, mac) of each host's interface on the ``private`` network, lowest device first.

    Filtered by host first and by network in Python: planners otherwise walk the whole
    private network's interfaces to answer for one host."""
    private = session.scalar(select(Network.id).where(Network.name == "private"))
    if private is None:
        return {}
    stmt = select(Interface.host_id, Interface.device, Interface.ip, Interface.mac, Interface.network_id)
    rows = []
    if everything:
        rows = session.execute(stmt.where(Interface.network_id == private)).all()
    else:
        for chunk in _chunks(sorted(set(ids))):
            rows += session.execute(stmt.where(Interface.host_id.in_(chunk))).all()
    return _lowest_private((h, device, ip, mac, network_id == private) for h, device, ip, mac, network_id in rows)


def _lowest_private(rows) -> dict[int, tuple[str | None, str | None]]:
    """host → (ip, mac) of its private interface with the lowest device name, from rows of
    (host, device, ip, mac, on the private network)."""
    out: dict[int, tuple[str, str | None, str | None]] = {}
    for host_id, device, ip, mac, private in rows:
        if private and (host_id not in out or device < out[host_id][0]):
            out[host_id] = (device, ip, mac)
    return {k: (v[1], v[2]) for k, v in out.items()}


# --- the install server: who is asking -----------------------------------------------

_WITH_IP = _host_select().add_columns(Interface.ip).join(Interface, Interface.host_id == Host.id)


def host_records_by_ip(db: Session | Connection, ip: str) -> list[HostRecord]:
    """The host records whose interfaces carry ``ip`` (one per host), in one statement."""
    out: dict[int, HostRecord] = {}
    for row in db.execute(_WITH_IP.where(Interface.ip == ip)):
        out.setdefault(row[0], HostRecord(*row[:-1]))
    return list(out.values())


def host_id_by_token(db: Session | Connection, token: str) -> int | None:
    """The host whose install token this is (tokens are unique), or ``None``."""
    return db.scalar(select(Host.id).where(Host.install_token == token)) if token else None


def host_ids_by_macs(db: Session | Connection, macs: Sequence[str]) -> set[int]:
    """The hosts that have an interface with one of these MACs."""
    return set(db.scalars(select(Interface.host_id).where(Interface.mac.in_(list(macs))))) if macs else set()


@dataclass(frozen=True, slots=True)
class ServingState:
    """What every installer request reads first, in one statement: the inventory revision
    (database triggers move it on every change, ``migrations/0003``), the counter of what
    installers report (``0004``), and the two global attributes the server itself obeys."""

    revision: int
    params: int
    max_concurrent_profiles: str | None
    trust_mac_headers: str | None


def _global(name: str):
    return select(GlobalAttr.value).where(GlobalAttr.name == name).scalar_subquery()


_STATE = select(
    InventoryRevision.value, InventoryRevision.params,
    _global("max_concurrent_profiles"), _global("trust_mac_headers"),
).where(InventoryRevision.id == 1)


def serving_state(db: Session | Connection) -> ServingState:
    return ServingState(*db.execute(_STATE).one())
