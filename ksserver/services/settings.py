"""Setting and removing attributes, and what must follow at once.

A value that cannot be rendered is refused when it is set, naming the attribute: for one
host of each appliance and OS the change reaches, its kickstart, its boot file and the iPXE
script of its install are made before and after the change, and a failure the change brought is the command's error (the
transaction then takes the change back) — a kickstart the change altered is also read by
pykickstart, as the installer will read it, and a complaint it did not have before counts. The boot files of every host the change reaches
are rewritten at once, as a change of boot action already did: a gateway or kickstart host
changed is in the next PXE boot, not after ``sync host bootfile``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ksserver.attrs import Level
from ksserver.db import queries
from ksserver.db.models import Host
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.services import attributes, bootfiles, profile


def set_attr(session: Session, level: Level, names: Sequence[str], attr: str, value: str | None, *,
             add: bool = False) -> None:
    _changing(session, level, names, attr, lambda: attributes.set_attr(session, level, names, attr, value, add=add),
              "with this value")


def remove_attr(session: Session, level: Level, names: Sequence[str], attr: str) -> None:
    _changing(session, level, names, attr, lambda: attributes.remove_attr(session, level, names, attr), "without it")


def _os_version(session: Session, rec: HostRecord) -> str:
    from ksserver.graph import DEFAULT_OS_VERSION

    return attributes.host_attrs(session, rec).get("os_version") or DEFAULT_OS_VERSION


def _reached(session: Session, level: Level, names: Sequence[str]) -> list[HostRecord]:
    """The hosts whose resolved attributes a change at ``level`` for ``names`` reaches."""
    if level is Level.GLOBAL:
        return queries.host_records(session)
    ids = [i for i, _name in attributes.owners(session, level, names, change=True)]
    column = {Level.OS: Host.os_id, Level.APPLIANCE: Host.appliance_id, Level.HOST: Host.id}[level]
    return queries.host_records(session, column.in_(ids)) if ids else []


def _renders(session: Session, rec: HostRecord) -> tuple[str | None, str | None]:
    """(why this host's kickstart or boot file cannot be made now, or ``None``; the kickstart)."""
    text = None
    try:
        if rec.node:
            text = profile.render_host_kickstart(session, rec)
        bootfiles.bootfiles(session, [rec.name])
        bootfiles.ipxe_script(session, rec.id, boot="install")
    except KsError as err:
        return err.message, text
    return None, text


def _complaint(before: str | None, after: str | None, os_version: str) -> str | None:
    """What pykickstart says of ``after`` and did not say of ``before``."""
    if after is None or after == before:
        return None
    from ksserver.graph import validate_kickstart

    old = set(validate_kickstart(before, os_version)) if before is not None else set()
    new = [p for p in validate_kickstart(after, os_version) if p not in old]
    return f"the kickstart parser says: {new[0]}" if new else None


def _changing(session: Session, level: Level, names: Sequence[str], attr: str, change, how: str) -> None:
    hosts = _reached(session, level, names)
    # the first host (by name) of each appliance and OS, in that order: the same on every backend
    sample = sorted({(r.appliance_id, r.os_id): r for r in sorted(hosts, key=lambda r: r.name, reverse=True)}.values(),
                    key=lambda r: r.name)
    before = {r.id: _renders(session, r) for r in sample}
    change()
    for rec in sample:
        (was, old), (error, text) = before[rec.id], _renders(session, rec)
        if error is not None and error != was:
            raise KsError(f'attribute "{attr}": {how} {rec.name} cannot be rendered: {error}')
        complaint = _complaint(old, text, _os_version(session, rec))
        if complaint:
            raise KsError(f'attribute "{attr}": {how} the kickstart of {rec.name} is not valid: {complaint}')
    bootfiles.refresh(session, [r.name for r in hosts])
