"""Attributes at every level, one implementation with the level as a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ksserver.attrs import (
    BulkResolver,
    Level,
    Resolved,
    check_name,
    check_settable,
    check_value,
    explain,
    format_site_attrs,
)
from ksserver.db import queries
from ksserver.db.models import OS, Appliance, ApplianceAttr, GlobalAttr, Host, HostAttr, OSAttr
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.services import lookup, selection, validate

#: Host-level names stored in the host record itself rather than as attribute rows.
_HOST_COLUMNS = ("os", "arch")


@dataclass(frozen=True)
class _LevelModel:
    model: type
    owner_col: str | None


_MODELS = {
    Level.GLOBAL: _LevelModel(GlobalAttr, None),
    Level.OS: _LevelModel(OSAttr, "os_id"),
    Level.APPLIANCE: _LevelModel(ApplianceAttr, "appliance_id"),
    Level.HOST: _LevelModel(HostAttr, "host_id"),
}


def owners(session: Session, level: Level, names: Sequence[str], *, change: bool) -> list[tuple[int | None, str]]:
    """(id, name) of each owner named at ``level``; global has one owner, ``None``."""
    if level is Level.GLOBAL:
        return [(None, "global")]
    if level is Level.HOST:
        return [(r.id, r.name) for r in selection.select_hosts(session, list(names), change=change)]
    if not names:
        if change:
            raise KsError(f"no {level.noun} named")
        model = OS if level is Level.OS else Appliance
        return [(o.id, o.name) for o in session.scalars(select(model).order_by(model.name))]
    find = lookup.os_ if level is Level.OS else lookup.appliance
    out = []
    for name in names:
        obj = find(session, name)
        out.append((obj.id, obj.name))
    return out


def set_attr(session: Session, level: Level, names: Sequence[str], attr: str, value: str | None, *, add: bool = False) -> None:
    check_settable(attr, level)
    check_value(attr, value)
    for owner_id, owner_name in owners(session, level, names, change=True):
        if level is Level.HOST and attr in _HOST_COLUMNS:
            _set_host_column(session, owner_id, owner_name, attr, value, add)
            continue
        row = _row(session, level, owner_id, attr)
        if row is not None:
            if add:
                raise KsError(_exists(level, owner_name, attr))
            row.value = value
        else:
            spec = _MODELS[level]
            kwargs = {"name": attr, "value": value}
            if spec.owner_col:
                kwargs[spec.owner_col] = owner_id
            session.add(spec.model(**kwargs))
    session.flush()


def _exists(level: Level, owner: str, attr: str) -> str:
    if level is Level.GLOBAL:
        return f'attribute "{attr}" exists'
    return f'attribute "{attr}" exists for {level.noun} "{owner}"'


def _set_host_column(session, host_id, host_name, attr, value, add) -> None:
    host = session.get(Host, host_id)
    if attr == "os":
        os_row = lookup.os_(session, value)
        host.os_id = os_row.id
    else:
        if add and host.arch:
            raise KsError(_exists(Level.HOST, host_name, attr))
        host.arch = validate.arch(value)


def _row(session, level: Level, owner_id, attr):
    spec = _MODELS[level]
    stmt = select(spec.model).where(spec.model.name == attr)
    if spec.owner_col:
        stmt = stmt.where(getattr(spec.model, spec.owner_col) == owner_id)
    return session.scalar(stmt)


def remove_attr(session: Session, level: Level, names: Sequence[str], attr: str) -> None:
    check_name(attr)
    targets = owners(session, level, names, change=True)
    removed = 0
    for owner_id, _owner in targets:
        if level is Level.HOST and attr in _HOST_COLUMNS:
            if attr == "os":
                raise KsError('attribute "os" chooses the host\'s OS and cannot be removed; set another OS')
            host = session.get(Host, owner_id)
            removed += host.arch is not None
            host.arch = None
            continue
        spec = _MODELS[level]
        stmt = delete(spec.model).where(spec.model.name == attr)
        if spec.owner_col:
            stmt = stmt.where(getattr(spec.model, spec.owner_col) == owner_id)
        removed += session.execute(stmt).rowcount
    if not removed:
        where = "" if level is Level.GLOBAL else f" for {level.noun} " + ", ".join(f'"{n}"' for _, n in targets)
        raise KsError(f'attribute "{attr}" is not set{where}')


def list_level(session: Session, level: Level, names: Sequence[str]) -> list[tuple[str, str, str]]:
    """(owner, attr, value) rows of one level, sorted by owner then attribute name."""
    rows = []
    for owner_id, owner_name in owners(session, level, names, change=False):
        if level is Level.GLOBAL:
            attrs = queries.global_attrs(session)
        elif level is Level.OS:
            attrs = queries.os_attrs(session, [owner_id]).get(owner_id, {})
        elif level is Level.APPLIANCE:
            attrs = queries.appliance_attrs(session, [owner_id]).get(owner_id, {})
        else:
            attrs = queries.host_attrs(session, [owner_id]).get(owner_id, {})
        for attr in sorted(attrs):
            rows.append((owner_name, attr, attrs[attr]))
    return rows


# --- resolution ---------------------------------------------------------------------------


def _host_layer(rec: HostRecord, host_map) -> dict[str, str]:
    layer = dict(host_map.get(rec.id, {}))
    layer["os"] = rec.os
    if rec.arch:
        layer["arch"] = rec.arch
    return layer


def _layers(rec: HostRecord, glob, os_map, app_map, host_map):
    return {
        Level.GLOBAL: glob,
        Level.OS: os_map.get(rec.os_id, {}),
        Level.APPLIANCE: app_map.get(rec.appliance_id, {}),
        Level.HOST: _host_layer(rec, host_map),
    }


def _intrinsic(rec: HostRecord, private) -> dict[str, str | None]:
    ip, mac = private.get(rec.id, (None, None))
    return {
        "hostname": rec.name,
        "rack": str(rec.rack),
        "rank": str(rec.rank),
        "appliance": rec.appliance,
        "membership": rec.membership,
        "hostaddr": ip,
        "ksmac": mac,
    }


def _bulk(session: Session, records: Sequence[HostRecord], everything: bool):
    if len(records) == 1 and not everything:  # a kickstart's miss: one statement, not five
        rec = records[0]
        return queries.one_host_levels(session, rec.id, rec.os_id, rec.appliance_id)
    ids = [r.id for r in records]
    return (
        queries.global_attrs(session),
        queries.os_attrs(session, {r.os_id for r in records}),
        queries.appliance_attrs(session, {r.appliance_id for r in records}),
        queries.host_attrs(session, ids, everything),
        queries.private_interfaces(session, ids, everything),
    )


def resolve_hosts(session: Session, records: Sequence[HostRecord], *, everything: bool = False,
                  make=Resolved, shown=None) -> dict[int, dict[str, Resolved]]:
    """Every host's resolved attributes in a fixed number of queries, whatever the number
    of hosts; ``make(value, level)`` is what each resolved value is made as (``Resolved``);
    ``shown(name, value)``, what each value set at a level is shown as (a read-only
    viewer's, ``outputs.shown_to_reader``), applied to the levels before the fold: once
    per value set, not once per host that inherits it. Intrinsic values are ksserver's
    own (names, addresses, MACs) and go as they are."""
    glob, os_map, app_map, host_map, private = _bulk(session, records, everything)
    if shown is not None:
        glob = _shown(glob, shown)
        os_map, app_map, host_map = ({k: _shown(v, shown) for k, v in m.items()} for m in (os_map, app_map, host_map))
    resolver = BulkResolver(glob, make)
    out = {}
    for rec in records:
        shared = resolver.shared(
            (rec.os_id, rec.appliance_id), os_map.get(rec.os_id, {}), app_map.get(rec.appliance_id, {})
        )
        out[rec.id] = resolver.host(_intrinsic(rec, private), shared, _host_layer(rec, host_map))
    return out


def _shown(layer: dict[str, str], shown) -> dict[str, str]:
    return {k: shown(k, v) for k, v in layer.items()}


def resolved_values(session: Session, host_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Resolved attributes (name → value) of hosts, in a fixed number of queries."""
    records = queries.host_records_by_id(session, list(dict.fromkeys(host_ids)))
    out = resolve_hosts(session, records)
    return {hid: {k: v.value for k, v in attrs.items()} for hid, attrs in out.items()}


def host_attrs(session: Session, rec: HostRecord) -> dict[str, str]:
    """One host's attributes as plain name → value (what the graph's entities see)."""
    return {k: v.value for k, v in resolve_hosts(session, [rec])[rec.id].items()}


def list_host_attrs(session: Session, selectors: Sequence[str], attr: str | None = None) -> list[tuple[str, str, str, str]]:
    """(host, attr, value, source) rows: hosts in natural order, attributes in byte order."""
    records = selection.select_hosts(session, list(selectors), change=False)
    resolved = resolve_hosts(session, records, everything=not selectors)
    rows = []
    for rec in records:
        attrs = resolved[rec.id]
        if attr is not None:
            item = attrs.get(attr)
            if item is not None:
                rows.append((rec.name, attr, item.value, item.source.letter))
            continue
        name_ = rec.name
        rows += [(name_, k, attrs[k].value, attrs[k].source.letter) for k in sorted(attrs)]
    return rows


def report_host_attrs(session: Session, selectors: Sequence[str], attr: str | None = None) -> str:
    """site.attrs text (docs/original-behaviour.md §4.3); with several hosts each line is prefixed ``host: ``."""
    records = selection.select_hosts(session, list(selectors), change=True)
    resolved = resolve_hosts(session, records)
    several = len(records) > 1
    out = []
    for rec in records:
        values = {k: v.value for k, v in resolved[rec.id].items()}
        if attr is not None:
            text = " ".join(values.get(attr, "").splitlines()) + "\n"
        else:
            text = format_site_attrs(values)
        if several:
            text = "".join(f"{rec.name}: {line}\n" for line in text.splitlines())
        out.append(text)
    return "".join(out)


def explain_host_attr(session: Session, host: str, attr: str) -> list[tuple[str, str, str, str, str | None, str]]:
    """(host, source, level, owner, value, winner-mark) for each level, most specific first."""
    check_name(attr)
    rec = selection.one_host(session, host)
    glob, os_map, app_map, host_map, private = _bulk(session, [rec], False)
    owners_by_level = {
        Level.HOST: rec.name,
        Level.APPLIANCE: rec.appliance,
        Level.OS: rec.os,
        Level.GLOBAL: "global",
        Level.INTRINSIC: rec.name,
    }
    rows = []
    for level, value, winner in explain(attr, _intrinsic(rec, private), _layers(rec, glob, os_map, app_map, host_map)):
        rows.append((rec.name, level.value, level.noun, owners_by_level[level], value, "*" if winner else ""))
    return rows
