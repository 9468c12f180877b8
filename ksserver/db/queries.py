"""Bulk reads that return plain values, a constant number of queries per request.

Resolution for any number of hosts costs the same handful of queries: the hosts, each
attribute level, and the private interfaces — never one query per host or per attribute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Integer, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from ksserver.db.models import (
    OS,
    Appliance,
    ApplianceAttr,
    GlobalAttr,
    Host,
    HostAttr,
    Interface,
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


def host_records(session: Session, where=None) -> list[HostRecord]:
    stmt = _host_select()
    if where is not None:
        stmt = stmt.where(where)
    return [HostRecord(*row) for row in session.execute(stmt)]


def host_records_by_id(session: Session, ids: Sequence[int]) -> list[HostRecord]:
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
    out: dict[int, tuple[str, str | None, str | None]] = {}
    for host_id, device, ip, mac, network_id in rows:
        if network_id == private and (host_id not in out or device < out[host_id][0]):
            out[host_id] = (device, ip, mac)
    return {k: (v[1], v[2]) for k, v in out.items()}


# --- one host, for the install server: prebuilt statements (compiled once, cached) -------

_BY_IP = _host_select().join(Interface, Interface.host_id == Host.id).where(Interface.ip == bindparam("ip"))


def host_records_by_ip(session: Session, ip: str) -> list[HostRecord]:
    """The host records whose interfaces carry ``ip`` (one per host), in one statement."""
    out: dict[int, HostRecord] = {}
    for row in session.connection().execute(_BY_IP, {"ip": ip}):
        out.setdefault(row[0], HostRecord(*row))
    return list(out.values())


def _level(n: int, model, owner_col):
    return select(literal(n, Integer), model.name, model.value, cast(null(), String)).where(
        owner_col == bindparam(f"owner{n}")
    )


_LEVELS = union_all(
    _level(1, OSAttr, OSAttr.os_id),
    _level(2, ApplianceAttr, ApplianceAttr.appliance_id),
    _level(3, HostAttr, HostAttr.host_id),
    select(literal(4, Integer), Interface.device, Interface.ip, Interface.mac)
    .join(Network, Network.id == Interface.network_id)
    .where(Interface.host_id == bindparam("owner4"), Network.name == "private"),
)


def host_levels(
    session: Session, rec: HostRecord
) -> tuple[dict[str, str], dict[str, str], dict[str, str], tuple[str | None, str | None] | None]:
    """One host's OS, appliance and host attributes and its private (ip, mac), in one
    statement: the same answers as ``os_attrs``, ``appliance_attrs``, ``host_attrs`` and
    ``private_interfaces`` for that host."""
    levels: tuple[dict[str, str], ...] = ({}, {}, {})
    private = None
    params = {"owner1": rec.os_id, "owner2": rec.appliance_id, "owner3": rec.id, "owner4": rec.id}
    for n, name, value, mac in session.connection().execute(_LEVELS, params):
        if n == 4:
            if private is None or name < private[0]:
                private = (name, value, mac)
        else:
            levels[n - 1][name] = value
    return levels[0], levels[1], levels[2], (private[1], private[2]) if private else None


_GLOBALS = select(GlobalAttr.name, GlobalAttr.value)


def global_attrs_fast(session: Session) -> dict[str, str]:
    """``global_attrs`` through the session's connection (no ORM layer)."""
    return dict(session.connection().execute(_GLOBALS).all())
