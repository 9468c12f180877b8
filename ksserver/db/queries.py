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


_BY_IDS = _host_select().where(Host.id.in_(bindparam("ids", expanding=True)))


def host_records_by_id(session: Session | Connection, ids: Sequence[int]) -> list[HostRecord]:
    return [HostRecord(*row) for row in _rows_for(session, _BY_IDS, ids)]


def chunks(ids: Sequence) -> Iterable[list]:
    """``ids`` in lists short enough for any backend's bound-parameter limit (``CHUNK``)."""
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


_GLOBALS = select(GlobalAttr.name, GlobalAttr.value)


def global_attrs(session: Session | Connection) -> dict[str, str]:
    return dict(session.execute(_GLOBALS).all())


def _rows_for(session: Session | Connection, stmt, ids: Iterable[int]) -> list:
    """``stmt`` (which filters on ``bindparam("ids", expanding=True)``) for every id, a
    chunk at a time."""
    rows: list = []
    for chunk in chunks(sorted(set(ids))):
        rows += session.execute(stmt, {"ids": list(chunk)}).all()
    return rows


def _owned_statements(model, owner_col):
    every = select(owner_col, model.name, model.value)
    return every, every.where(owner_col.in_(bindparam("ids", expanding=True)))


# built once, values bound per call (see ``_BY_IP``): the kickstart path's misses use them
_OWNED = {
    "os": _owned_statements(OSAttr, OSAttr.os_id),
    "appliance": _owned_statements(ApplianceAttr, ApplianceAttr.appliance_id),
    "host": _owned_statements(HostAttr, HostAttr.host_id),
}


def _owned(session: Session | Connection, kind: str, owner_ids: Iterable[int], everything: bool):
    out: dict[int, dict[str, str]] = defaultdict(dict)
    every, some = _OWNED[kind]
    rows = session.execute(every) if everything else _rows_for(session, some, owner_ids)
    for owner, name, value in rows:
        out[owner][name] = value
    return out


def os_attrs(session: Session | Connection, os_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    return _owned(session, "os", os_ids, False)


def appliance_attrs(session: Session | Connection, ids: Iterable[int]) -> dict[int, dict[str, str]]:
    return _owned(session, "appliance", ids, False)


def host_attrs(session: Session | Connection, ids: Iterable[int], everything: bool = False):
    return _owned(session, "host", ids, everything)


_PRIVATE = select(Network.id).where(Network.name == "private")
_IFACES = select(Interface.host_id, Interface.device, Interface.ip, Interface.mac, Interface.network_id)
_IFACES_ON = _IFACES.where(Interface.network_id == bindparam("network"))
_IFACES_OF = _IFACES.where(Interface.host_id.in_(bindparam("ids", expanding=True)))


def private_interfaces(
    session: Session | Connection, ids: Iterable[int], everything: bool = False
) -> dict[int, tuple[str | None, str | None]]:
    """(ip, mac) of each host's interface on the ``private`` network, lowest device first.

    Filtered by host first and by network in Python: planners otherwise walk the whole
    private network's interfaces to answer for one host."""
    private = session.scalar(_PRIVATE)
    if private is None:
        return {}
    if everything:
        rows = session.execute(_IFACES_ON, {"network": private}).all()
    else:
        rows = _rows_for(session, _IFACES_OF, ids)
    return _lowest_private((h, device, ip, mac, network_id == private) for h, device, ip, mac, network_id in rows)


def _level(n: int, model, owner_col, param: str):
    return select(literal(n, Integer), owner_col, model.name, model.value, cast(null(), String), cast(null(), String)) \
        .where(owner_col == bindparam(param))


# one host's levels and interfaces in one statement (what a kickstart miss reads)
_ONE_HOST = union_all(
    select(literal(0, Integer), cast(null(), Integer), GlobalAttr.name, GlobalAttr.value,
           cast(null(), String), cast(null(), String)),
    _level(1, OSAttr, OSAttr.os_id, "os"),
    _level(2, ApplianceAttr, ApplianceAttr.appliance_id, "appliance"),
    _level(3, HostAttr, HostAttr.host_id, "host"),
    select(literal(4, Integer), Interface.host_id, Interface.device, Interface.ip, Interface.mac, Network.name)
    .join(Network, Network.id == Interface.network_id).where(Interface.host_id == bindparam("host")),
)


def one_host_levels(db: Session | Connection, host_id: int, os_id: int, appliance_id: int):
    """The same five maps as ``global_attrs``, ``os_attrs``, ``appliance_attrs``,
    ``host_attrs`` and ``private_interfaces`` give for one host, in one statement."""
    levels: tuple[dict, ...] = ({}, defaultdict(dict), defaultdict(dict), defaultdict(dict))
    interfaces = []
    for n, owner, name, value, mac, network in db.execute(_ONE_HOST, {"os": os_id, "appliance": appliance_id, "host": host_id}):
        if n == 0:
            levels[0][name] = value
        elif n < 4:
            levels[n][owner][name] = value
        else:
            interfaces.append((owner, name, value, mac, network == "private"))
    return (*levels, _lowest_private(interfaces))


def _lowest_private(rows) -> dict[int, tuple[str | None, str | None]]:
    """host → (ip, mac) of its private interface with the lowest device name, from rows of
    (host, device, ip, mac, on the private network)."""
    out: dict[int, tuple[str, str | None, str | None]] = {}
    for host_id, device, ip, mac, private in rows:
        if private and (host_id not in out or device < out[host_id][0]):
            out[host_id] = (device, ip, mac)
    return {k: (v[1], v[2]) for k, v in out.items()}


# --- the install server: who is asking -----------------------------------------------

# Statements built once, values bound per call: SQLAlchemy then reuses the compiled form
# and its result metadata as they are (a statement built per call is compared column by
# column against the cached one first, which cost more than the query on this path).
_BY_IP = _host_select().join(Interface, Interface.host_id == Host.id).where(Interface.ip == bindparam("ip")).distinct()
_BY_TOKEN = select(Host.id).where(Host.install_token == bindparam("token"))
_BY_MACS = select(Interface.host_id).where(Interface.mac.in_(bindparam("macs", expanding=True)))


def host_records_by_ip(db: Session | Connection, ip: str) -> list[HostRecord]:
    """The host records whose interfaces carry ``ip`` (one per host), in one statement."""
    return [HostRecord(*row) for row in db.execute(_BY_IP, {"ip": ip})]


def host_id_by_token(db: Session | Connection, token: str) -> int | None:
    """The host whose install token this is (tokens are unique), or ``None``."""
    return db.scalar(_BY_TOKEN, {"token": token}) if token else None


def host_ids_by_macs(db: Session | Connection, macs: Sequence[str]) -> set[int]:
    """The hosts that have an interface with one of these MACs."""
    return set(db.scalars(_BY_MACS, {"macs": list(macs)})) if macs else set()


@dataclass(frozen=True, slots=True)
class ServingState:
    """What every installer request reads first, in one statement: the inventory revision
    (database triggers move it on every change, ``migrations/0003``), the counter of what
    installers report (``0004``) and the two global attributes the server itself obeys."""

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


def revision(db: Session | Connection) -> int:
    """The inventory revision alone (a command compares it before and after itself)."""
    return db.execute(select(InventoryRevision.value).where(InventoryRevision.id == 1)).scalar_one()


def serving_state(db: Session | Connection) -> ServingState:
    return ServingState(*db.execute(_STATE).one())
