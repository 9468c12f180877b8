"""Rolls, and the rolls a (VM) frontend installs lights-out (docs/original-behaviour.md §4.2, §4.3).

Rule: only hosts of appliance ``frontend`` have rolls. ``report_host_rolls`` writes the
installer's ``rolls.xml``: the seed's layout (two-space indented attribute lines), ``url``
from the host's ``Kickstart_PublicKickstartHost`` and ``Kickstart_PrivateKickstartBasedir``
unless the roll records its own, ``diskid`` always empty.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.attrs import defaults
from ksserver.db.models import HostRoll, Roll
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError, NotFound
from ksserver.services import attributes, selection
from ksserver.templating import render


def _roll(session: Session, name: str, version: str, arch: str, os: str) -> Roll | None:
    return session.scalar(
        select(Roll).where(Roll.name == name, Roll.version == version, Roll.arch == arch, Roll.os == os)
    )


def _need(value, what: str) -> str:
    if not value:
        raise KsError(f"must supply {what}")
    return value


def add_roll(session: Session, name: str, version, arch, os=None, url=None) -> None:
    _need(version, "a version (version=…)")
    _need(arch, "an architecture (arch=…)")
    os = os or defaults.DEFAULT_OS
    if _roll(session, name, version, arch, os) is not None:
        raise KsError(f"roll {name}/{version}/{arch}/{os} exists")
    session.add(Roll(name=name, version=version, arch=arch, os=os, url=url or None, enabled=True))
    session.flush()


def _matching(session: Session, name: str, version=None, arch=None, os=None) -> list[Roll]:
    stmt = select(Roll).where(Roll.name == name)
    for col, value in ((Roll.version, version), (Roll.arch, arch), (Roll.os, os)):
        if value:
            stmt = stmt.where(col == value)
    found = list(session.scalars(stmt.order_by(Roll.id)))
    if not found:
        raise NotFound(f'no roll "{name}"' + "".join(f" {v}" for v in (version, arch, os) if v))
    return found


def list_rolls(session: Session, names: Sequence[str] = ()) -> list[tuple]:
    stmt = select(Roll).order_by(Roll.name, Roll.version, Roll.arch, Roll.os)
    if names:
        stmt = stmt.where(Roll.name.in_(list(names)))
    return [(r.name, r.version, r.arch, r.os, "yes" if r.enabled else "no", r.url or "") for r in session.scalars(stmt)]


def enable_roll(session: Session, name: str, enabled: bool, version=None, arch=None, os=None) -> None:
    for roll in _matching(session, name, version, arch, os):
        roll.enabled = enabled
    session.flush()


def remove_roll(session: Session, name: str, version=None, arch=None, os=None) -> None:
    for roll in _matching(session, name, version, arch, os):
        session.execute(HostRoll.__table__.delete().where(HostRoll.roll_id == roll.id))
        session.delete(roll)
    session.flush()


def _frontends(session: Session, selectors: Sequence[str], *, change: bool) -> list[HostRecord]:
    records = selection.select_hosts(session, list(selectors), change=change)
    if change:
        for rec in records:
            if rec.appliance != "frontend":
                raise KsError(f'host "{rec.name}" is not a frontend appliance')
        return records
    return [r for r in records if r.appliance == "frontend"]


def set_host_roll(session: Session, selectors: Sequence[str], name, version, arch, os=None) -> None:
    _need(name, "a roll name")
    _need(version, "a roll version")
    _need(arch, "a roll architecture")
    os = os or defaults.DEFAULT_OS
    hosts = _frontends(session, selectors, change=True)
    roll = _roll(session, name, version, arch, os)
    if roll is None:
        raise KsError(f"roll name/version/arch/os {name}/{version}/{arch}/{os} is not in the database")
    have = set(session.scalars(select(HostRoll.host_id).where(HostRoll.roll_id == roll.id)))
    for rec in hosts:
        if rec.id not in have:
            session.add(HostRoll(host_id=rec.id, roll_id=roll.id))
    session.flush()


def remove_host_roll(session: Session, selectors: Sequence[str], name, version=None, arch=None, os=None) -> None:
    _need(name, "a roll name")
    hosts = _frontends(session, selectors, change=True)
    roll_ids = [r.id for r in _matching(session, name, version, arch, os)]
    session.execute(
        HostRoll.__table__.delete().where(
            HostRoll.host_id.in_([h.id for h in hosts]), HostRoll.roll_id.in_(roll_ids)
        )
    )
    session.flush()


def _host_rolls(session: Session, host_ids: list[int]) -> dict[int, list[Roll]]:
    out: dict[int, list[Roll]] = {i: [] for i in host_ids}
    rows = session.execute(
        select(HostRoll.host_id, Roll).join(Roll, Roll.id == HostRoll.roll_id)
        .where(HostRoll.host_id.in_(host_ids)).order_by(HostRoll.id)
    ).all()
    for host_id, roll in rows:
        out[host_id].append(roll)
    return out


def list_host_rolls(session: Session, selectors: Sequence[str]) -> list[tuple]:
    hosts = _frontends(session, selectors, change=False)
    rolls = _host_rolls(session, [h.id for h in hosts])
    return [(h.name, r.name, r.version, r.arch, r.os) for h in hosts for r in rolls[h.id]]


def rolls_xml(session: Session, rec: HostRecord) -> str:
    """One frontend's rolls.xml (what ``GET /install/sbin/rolls.xml`` returns)."""
    if rec.appliance != "frontend":
        raise KsError(f'host "{rec.name}" is not a frontend appliance')
    return _xml(session, rec, _host_rolls(session, [rec.id])[rec.id])


def _xml(session: Session, rec: HostRecord, rolls: list[Roll]) -> str:
    attrs = attributes.host_attrs(session, rec)
    base = (attrs.get("Kickstart_PrivateKickstartBasedir") or "install").strip("/")
    default = f"http://{attrs.get('Kickstart_PublicKickstartHost', '')}/{base}/rolls/"
    items = [dict(name=r.name, version=r.version, arch=r.arch, url=r.url or default) for r in rolls]
    return render("rolls.xml.j2", rolls=items)


def report_host_rolls(session: Session, selectors: Sequence[str]) -> str:
    """rolls.xml of each frontend named (others silently skipped, as the original)."""
    hosts = _frontends(session, selectors, change=False)
    rolls = _host_rolls(session, [h.id for h in hosts])
    several = len(hosts) > 1
    out = []
    for h in hosts:
        text = _xml(session, h, rolls[h.id])
        out.append("".join(f"{h.name}: {line}\n" for line in text.splitlines()) if several else text)
    return "".join(out)
