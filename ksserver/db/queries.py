"""Bulk reads that return plain values, a constant number of queries per request.

Resolution for any number of hosts costs the same handful of queries: the hosts, each
attribute level, and the private interfaces — never one query per host or per attribute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Integer, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ksserver.db.prepared import Prepared
from ksserver.db.session import conn_of
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


# --- one host, for the install server: prepared statements (db.prepared) -------------

_WITH_IP = _host_select().add_columns(Interface.ip).join(Interface, Interface.host_id == Host.id)
_BY_IP = Prepared(_WITH_IP.where(Interface.ip == bindparam("ip")), "ip")
_ALL_IPS = Prepared(_WITH_IP.where(Interface.ip.isnot(None)))


def _by_ip(rows) -> dict[str, tuple[HostRecord, ...]]:
    """address → the records of the hosts carrying it (one per host), from rows of a host
    record's columns and an address."""
    records: dict[int, HostRecord] = {}
    out: dict[str, dict[int, HostRecord]] = defaultdict(dict)
    for row in rows:
        rec = records.get(row[0])
        if rec is None:
            rec = records[row[0]] = HostRecord(*row[:-1])
        out[row[-1]][rec.id] = rec
    return {ip: tuple(by_id.values()) for ip, by_id in out.items()}


def host_records_by_ip(db: Session | Connection, ip: str) -> list[HostRecord]:
    """The host records whose interfaces carry ``ip`` (one per host), in one statement."""
    return list(_by_ip(_BY_IP.rows(conn_of(db), ip=ip)).get(ip, ()))


def host_records_by_ip_all(db: Session | Connection) -> dict[str, tuple[HostRecord, ...]]:
    """``host_records_by_ip`` for every address at once (one statement)."""
    return _by_ip(_ALL_IPS.rows(conn_of(db)))


def _level(n: int, model, owner_col):
    return select(literal(n, Integer), model.name, model.value, cast(null(), String)).where(
        owner_col == bindparam(f"owner{n}")
    )


# what hosts of one OS and appliance share, and what is one host's own: a miss for a new
# host of a known kind reads only its own rows
_SHARED_LEVELS = Prepared(
    union_all(_level(1, OSAttr, OSAttr.os_id), _level(2, ApplianceAttr, ApplianceAttr.appliance_id)),
    "owner1", "owner2",
)
_OWN_LEVELS = Prepared(
    union_all(
        select(literal(3, Integer), HostAttr.name, HostAttr.value, cast(null(), String), cast(null(), String))
        .where(HostAttr.host_id == bindparam("owner3")),
        # every interface of the host, the private one picked in Python: filtered by network
        # in SQL, planners walk the whole private network's interfaces to answer for one host
        select(literal(4, Integer), Interface.device, Interface.ip, Interface.mac, Network.name)
        .join(Network, Network.id == Interface.network_id)
        .where(Interface.host_id == bindparam("owner4")),
    ),
    "owner3", "owner4",
)


def shared_levels(db: Session | Connection, os_id: int, appliance_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """The OS and appliance attributes of hosts of this OS and appliance, in one statement."""
    levels: tuple[dict[str, str], dict[str, str]] = ({}, {})
    for n, name, value, _ in _SHARED_LEVELS.rows(conn_of(db), owner1=os_id, owner2=appliance_id):
        levels[n - 1][name] = value
    return levels


def own_levels(db: Session | Connection, host_id: int) -> tuple[dict[str, str], tuple[str | None, str | None] | None]:
    """One host's own attributes and its private (ip, mac), lowest device first, in one
    statement: the same answers as ``host_attrs`` and ``private_interfaces`` for that host."""
    own: dict[str, str] = {}
    interfaces = []
    for n, name, value, mac, network in _OWN_LEVELS.rows(conn_of(db), owner3=host_id, owner4=host_id):
        if n == 4:
            interfaces.append((host_id, name, value, mac, network == "private"))
        else:
            own[name] = value
    return own, _lowest_private(interfaces).get(host_id)


def own_levels_all(db: Session | Connection) -> dict[int, tuple[dict[str, str], tuple[str | None, str | None] | None]]:
    """``own_levels`` of every host (two statements)."""
    conn = conn_of(db)
    attrs = host_attrs(conn, (), everything=True)
    private = private_interfaces(conn, (), everything=True)
    return {hid: (attrs.get(hid, {}), private.get(hid)) for hid in set(attrs) | set(private)}


_GLOBALS = Prepared(select(GlobalAttr.name, GlobalAttr.value))


def global_attrs_fast(db: Session | Connection) -> dict[str, str]:
    """``global_attrs`` through the session's connection (no ORM layer)."""
    return dict(_GLOBALS.rows(conn_of(db)))


_BY_TOKEN = Prepared(select(Host.id).where(Host.install_token == bindparam("token")), "token")


def host_id_by_token(db: Session | Connection, token: str) -> int | None:
    """The host whose install token this is (tokens are unique), or ``None``."""
    return _BY_TOKEN.scalar(conn_of(db), token=token) if token else None
