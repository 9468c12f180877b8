"""Host selection, written once: every command that takes hosts goes through ``select``.

A selector is a host name, an interface name (``vi-1.rocksclusters.org``, or its first
label ``vi-1``), a MAC, ``localhost`` (this frontend), an appliance name (all its hosts),
``rack<N>`` (the non-frontend hosts of rack N), or a pattern with ``%`` wildcards.
A command that changes hosts must name some: "no hosts" never means "every host".
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.db import queries
from ksserver.db.models import Appliance, GlobalAttr, Host, Interface, Network
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError, NotFound

_RACK = re.compile(r"rack(\d+)\Z")
_NUM = re.compile(r"(\d+)")


def natural_key(name: str):
    """compute-0-2 before compute-0-10."""
    return [int(p) if p.isdigit() else p for p in _NUM.split(name)]


def select_hosts(session: Session, selectors: list[str], *, change: bool) -> list[HostRecord]:
    """Resolve selectors to host records, de-duplicated and in natural name order.

    With no selectors a listing gets every host; a change is refused.
    """
    if not selectors:
        if change:
            raise KsError(
                "no host named: name hosts, an appliance, rack<N> or a % pattern "
                "(a change never defaults to every host)"
            )
        records = queries.host_records(session)
    else:
        records = queries.host_records_by_id(session, sorted(_ids(session, selectors)))
    return sorted(records, key=lambda r: natural_key(r.name))


def _ids(session: Session, selectors: list[str]) -> set[int]:
    """Host names first, in a statement per chunk (a sheet of 10,000 hosts names them all);
    every other word by the rules of ``_resolve``, which also begin with the host name."""
    named: dict[str, int] = {}
    for chunk in queries.chunks(sorted(set(selectors))):
        named.update(session.execute(select(Host.name, Host.id).where(Host.name.in_(chunk))).all())
    ids: set[int] = set(named.values())
    for word in selectors:
        if word not in named:
            ids.update(_resolve(session, word))
    return ids


#: per database: (inventory revision, every host's (name, id) in natural order). Sorting
#: 10,000 names naturally is most of a console page's time (bench/api.py), and the order
#: changes only with the inventory. Read transactions only (a listing): a revision seen
#: inside a transaction that changed hosts and then rolled back could be reused wrongly.
_ORDER: dict[str, tuple[int, list]] = {}


def every_host_in_order(session: Session) -> list:
    """Every host's (name, id), in natural order: for listings (read transactions)."""
    key = str(session.get_bind().url)
    rev = queries.revision(session)
    cached = _ORDER.get(key)
    if cached is not None and cached[0] == rev:
        return cached[1]
    pairs = sorted(session.execute(select(Host.name, Host.id)).all(), key=lambda p: natural_key(p[0]))
    _ORDER[key] = (rev, pairs)
    return pairs


def select_page(session: Session, selectors: list[str], offset: int, limit: int) -> tuple[int, list[HostRecord]]:
    """``select_hosts`` for a listing, one page of it: (how many hosts the selectors name, the
    records of ``limit`` of them from ``offset``, in the same natural order). Only names are
    read for the hosts off the page, so a page costs the same at 100 hosts as at 10,000."""
    if selectors:
        ids = sorted(_ids(session, selectors))
        pairs = [p for chunk in queries.chunks(ids)
                 for p in session.execute(select(Host.name, Host.id).where(Host.id.in_(chunk))).all()]
        pairs.sort(key=lambda p: natural_key(p[0]))
    else:
        pairs = every_host_in_order(session)
    page = [i for _name, i in pairs[offset: offset + limit]]
    order = {i: n for n, i in enumerate(page)}
    records = sorted(queries.host_records_by_id(session, page), key=lambda r: order[r.id])
    return len(pairs), records


def one_host(session: Session, name: str) -> HostRecord:
    """Exactly one host, by any single-host selector."""
    ids = _resolve(session, name, single=True)
    return queries.host_records_by_id(session, ids)[0]


def _resolve(session: Session, word: str, single: bool = False) -> list[int]:
    host_id = session.scalar(select(Host.id).where(Host.name == word))
    if host_id is not None:
        return [host_id]
    if not single:
        if "%" in word:
            found = session.scalars(select(Host.id).where(Host.name.like(word))).all()
            if not found:
                raise NotFound(f'no host matches "{word}"')
            return list(found)
        match = _RACK.match(word)
        if match:
            return list(
                session.scalars(
                    select(Host.id)
                    .join(Appliance, Host.appliance_id == Appliance.id)
                    .where(Host.rack == int(match.group(1)), Appliance.name != "frontend")
                ).all()
            )
        app_id = session.scalar(select(Appliance.id).where(Appliance.name == word))
        if app_id is not None:
            return list(session.scalars(select(Host.id).where(Host.appliance_id == app_id)).all())
    found = _by_interface(session, word)
    if found is not None:
        return [found]
    if single and "%" in word:
        raise KsError(f'"{word}" names more than one host here; name one host')
    raise NotFound(f'cannot resolve host "{word}"')


def this_frontend(session: Session) -> int | None:
    """The host that ``localhost`` names: this frontend."""
    return _by_interface(session, "localhost")


def _by_interface(session: Session, word: str) -> int | None:
    if word == "localhost":
        name = session.scalar(
            select(GlobalAttr.value).where(GlobalAttr.name == "Kickstart_PrivateHostname")
        )
        host_id = session.scalar(select(Host.id).where(Host.name == name)) if name else None
        if host_id is None:
            host_id = session.scalar(
                select(Host.id)
                .join(Appliance, Host.appliance_id == Appliance.id)
                .where(Appliance.name == "frontend")
                .order_by(Host.id)
            )
        return host_id
    hosts = set(session.scalars(select(Interface.host_id).where(Interface.name == word)).all())
    if not hosts:
        hosts = set(
            session.scalars(select(Interface.host_id).where(Interface.name.like(_like(word) + ".%", escape="\\"))).all()
        )
    if not hosts and re.fullmatch(r"[0-9A-Fa-f:]{11,17}", word):
        hosts = set(session.scalars(select(Interface.host_id).where(Interface.mac == word.lower())).all())
    if not hosts and "." in word:
        short, _, zone = word.partition(".")
        if session.scalar(select(Network.id).where(Network.dnszone == zone)) is not None:
            host_id = session.scalar(select(Host.id).where(Host.name == short))
            if host_id is not None:
                return host_id
            hosts = set(session.scalars(select(Interface.host_id).where(Interface.name == short)).all())
    if len(hosts) > 1:
        raise KsError(f'"{word}" names interfaces of several hosts; name the host')
    return hosts.pop() if hosts else None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
