"""The installer's side of the server: who is asking, what it may fetch, what it reached.

The one identification rule (``identify``), used by every install-time URL:

* the request's source address, matched to an interface IP, names the host;
* ``?token=`` (minted by ``boot.set_boot_action`` when the host is set to install, carried in
  its boot arguments) names the host when the source address is not a known host (NAT);
  a token naming another host than the known source address is refused;
* ``X-RHN-Provisioning-MAC-<n>`` headers are recorded; they name the host only when the
  source is unknown, no token is given, and the global attribute ``trust_mac_headers`` is
  true. A known source whose headers carry another host's MAC is refused.

Nothing else (no ``client=`` parameter) selects a host. Each answer names the host and what
to record of the request; the caller queues it as an ``InstallEvent`` (``services.events``).
The kickstart itself is ``services.kickstart``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ksserver.attrs import format_site_attrs
from ksserver.db import queries
from ksserver.db.models import Host, InstallEvent
from ksserver.db.queries import HostRecord
from ksserver.db.session import dispose_all, transaction
from ksserver.errors import Forbidden, KsError
from ksserver.truth import is_yes
from ksserver.services import attributes, boot, bootfiles, rolls, selection, validate
from ksserver.services.when import shown

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")


class BadRequest(KsError):
    """A malformed query parameter (HTTP 400)."""


class Failed(KsError):
    """What the host asked for cannot be generated (HTTP 500, and an error event)."""

    def __init__(self, rec: HostRecord, stage: str, message: str):
        super().__init__(message)
        self.host_id = rec.id
        self.host = rec.name
        self.stage = stage


@dataclass(frozen=True)
class MacHeader:
    index: str
    device: str
    mac: str
    rest: str


@dataclass(frozen=True)
class Ask:
    """An installer's request, as the web layer hands it over."""

    remote_addr: str
    token: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    arch: str | None = None
    np: str | None = None
    mac: str | None = None  # iPXE's ``?mac=${net0/mac}``: must be the asking host's

    @cached_property
    def macs(self) -> list[MacHeader]:  # read three times a request: parsed once
        return parse_mac_headers(self.headers)


@dataclass(frozen=True)
class Answer:
    """The text for the host that asked, and the event its request makes."""

    host_id: int
    host: str
    stage: str
    text: str
    detail: str | None = None


def parse_mac_headers(headers: Iterable[tuple[str, str]]) -> list[MacHeader]:
    """``X-RHN-Provisioning-MAC-<n>: <dev> <mac> [driver] [ks]`` headers, in index order."""
    out = []
    for key, value in headers:
        low = key.lower()
        if not low.startswith("x-rhn-provisioning-mac-"):
            continue
        parts = value.split()
        if len(parts) < 2:
            continue
        out.append(MacHeader(key[len("x-rhn-provisioning-mac-") :], parts[0], parts[1].lower(), " ".join(parts[2:])))
    return sorted(out, key=lambda m: (len(m.index), m.index))


def mac_detail(macs: list[MacHeader]) -> str | None:
    if not macs:
        return None
    return "; ".join(f"MAC-{m.index}: {m.device} {m.mac}{(' ' + m.rest) if m.rest else ''}" for m in macs)


_CPUS = os.cpu_count() or 1  # asked once: on some systems it reads /sys every time


def limit_from(value: str | None) -> int:
    """``max_concurrent_profiles`` from the attribute's value (default 2 × CPUs)."""
    try:
        n = int(value) if value is not None else 0
    except ValueError:
        n = 0
    return n if n > 0 else 2 * _CPUS


def identify(db: Session | Connection, ask: Ask, state: queries.ServingState) -> HostRecord:
    """The record of the host making this request, or ``Forbidden`` with a one-line reason."""
    remote_addr = ask.remote_addr
    by_addr = queries.host_records_by_ip(db, remote_addr)
    if len(by_addr) > 1:
        raise Forbidden(f"address {remote_addr} belongs to several hosts")
    known = by_addr[0] if by_addr else None
    host = known
    if ask.token:
        named_id = queries.host_id_by_token(db, ask.token)
        if named_id is None:
            raise Forbidden("unknown or revoked install token")
        if known is not None and known.id != named_id:
            raise Forbidden(f"install token of another host presented from {remote_addr} ({known.name})")
        if known is None:
            host = queries.host_records_by_id(db, [named_id])[0]
    macs = ask.macs
    mac_hosts = queries.host_ids_by_macs(db, sorted({m.mac for m in macs if _MAC.match(m.mac)}))
    if host is not None:
        if mac_hosts - {host.id}:
            raise Forbidden(f"MAC headers name another host than {host.name}")
        return host
    if mac_hosts and is_yes(state.trust_mac_headers):
        if len(mac_hosts) > 1:
            raise Forbidden("MAC headers name several hosts")
        return queries.host_records_by_id(db, [mac_hosts.pop()])[0]
    raise Forbidden(f"unknown host {remote_addr}" + (" (MAC headers are not trusted)" if macs else ""))


def installer_params(rec: HostRecord, arch: str | None, np: str | None) -> tuple[HostRecord, dict]:
    """The installer's ``arch=`` and ``np=`` (as the original: arch is stored, np is the CPU
    count), checked (``BadRequest``): the record as they make it, for this request, and
    what changed, to record (``record_params``)."""
    if arch is not None and not validate.ARCH.match(arch):
        raise BadRequest("bad arch value")
    values: dict = {}
    if np is not None:
        if not np.isdigit() or not 0 < int(np) <= 65536:
            raise BadRequest("bad np value: a CPU count from 1 to 65536")
        if int(np) != rec.cpus:
            values["cpus"] = int(np)
    if arch is not None and arch != rec.arch:
        values["arch"] = arch
    return (dataclasses.replace(rec, **values) if values else rec), values


def record_params(db: Session | Connection, host_id: int, values: dict) -> None:
    """Store what an installer reported of its host. An UPDATE of only these columns moves
    the inventory's ``params`` counter, not its revision (migration 0004)."""
    db.execute(update(Host).where(Host.id == host_id).values(**values))


def _answer(ask: Ask, stage: str, produce, url: str | None = None) -> Answer:
    """``produce(session, record)`` for the host that asks, in one transaction."""
    with transaction(url) as session:
        rec = identify(session, ask, queries.serving_state(session))
        try:
            text = produce(session, rec)
        except (Forbidden, BadRequest):
            raise
        except KsError as err:
            raise Failed(rec, stage, err.message) from None
        return Answer(rec.id, rec.name, stage, text, mac_detail(ask.macs))


def site_attrs(ask: Ask, url: str | None = None) -> Answer:
    """The host's site.attrs (what the original's installer read before its kickstart)."""
    return _answer(ask, "site.attrs", lambda s, rec: format_site_attrs(attributes.host_attrs(s, rec)), url)


def rolls_xml(ask: Ask, url: str | None = None) -> Answer:
    return _answer(ask, "rolls.xml", rolls.rolls_xml, url)


def completed(ask: Ask, action: str = "os", url: str | None = None) -> Answer:
    """The installer's report: the next boot is ``action`` (``os`` revokes the token), and
    the host's PXE file says so at once — else its next PXE boot would install again."""

    def done(session: Session, rec: HostRecord) -> str:
        boot.set_boot_action(session, session.get(Host, rec.id), action)
        bootfiles.refresh(session, [rec.name])
        return f"{rec.name} {action}\n"

    return _answer(ask, "installed" if action == "os" else f"boot {action}", done, url)


def boot_script(ask: Ask, url: str | None = None) -> Answer:
    """``/install/boot/ipxe``: the iPXE script of the host that asks — known by its address
    (or its token), as every install URL; a ``mac`` it sends must be one of that host's."""

    told = []

    def produce(session: Session, rec: HostRecord) -> str:
        if ask.mac is not None:
            mac = ask.mac.lower()
            if not _MAC.match(mac):
                raise BadRequest("bad mac value")
            if queries.host_ids_by_macs(session, [mac]) != {rec.id}:
                raise Forbidden(f"MAC {mac} is not {rec.name}'s")
        told.append(session.get(Host, rec.id).boot_action or "none")
        return bootfiles.ipxe_script(session, rec.id)

    answer = _answer(ask, "boot script", produce, url)
    # what the host was told is its install stage: "boot script (install)", "… (os)"
    return dataclasses.replace(answer, stage=f"boot script ({told[0]})")


def private_address(url: str | None = None) -> str | None:
    """``Kickstart_PrivateAddress``: where this frontend's installers reach it."""
    try:
        with transaction(url) as session:
            return queries.global_attrs(session).get("Kickstart_PrivateAddress")
    finally:
        dispose_all()


def configured_limit(url: str | None = None) -> int:
    """``max_concurrent_profiles`` as set now, read with nothing left open afterwards:
    ``ksserver serve`` asks before it forks its workers."""
    try:
        with transaction(url) as session:
            return limit_from(queries.serving_state(session).max_concurrent_profiles)
    finally:
        dispose_all()


def _latest_events():
    """Each host's newest install event's id (``host_id``, ``id``): its last stage."""
    return select(InstallEvent.host_id, func.max(InstallEvent.id).label("id")).group_by(InstallEvent.host_id).subquery()


def host_status(session: Session, selectors: list[str]) -> list[tuple]:
    """(host, boot, last stage, time, address) per host."""
    records = selection.select_hosts(session, selectors, change=False)
    ids = [r.id for r in records]
    last = _latest_events()
    rows = session.execute(
        select(InstallEvent.host_id, InstallEvent.stage, InstallEvent.at, InstallEvent.remote_addr)
        .join(last, last.c.id == InstallEvent.id)
    ).all()
    events = {r[0]: r[1:] for r in rows}
    boots = dict(session.execute(select(Host.id, Host.boot_action)).all()) if ids else {}
    out = []
    for rec in records:
        stage, at, addr = events.get(rec.id, ("", None, ""))
        out.append((rec.name, boots.get(rec.id) or "", stage, shown(at) or "", addr or ""))
    return out


def host_events(session: Session, host: str, limit: int = 50) -> list[dict]:
    """A host's newest install events first: what its installer asked and reported."""
    rec = selection.one_host(session, host)
    rows = session.execute(
        select(InstallEvent.stage, InstallEvent.at, InstallEvent.remote_addr, InstallEvent.detail)
        .where(InstallEvent.host_id == rec.id).order_by(InstallEvent.id.desc()).limit(limit)
    ).all()
    out = []
    for stage, at, addr, detail in rows:
        out.append({"stage": stage, "time": shown(at),
                    "address": addr, "detail": detail})
    return out


def mark(stage: str) -> str:
    """insert-ethers' mark for a host's last stage: ``(500)`` when making its kickstart (or
    another file) failed, ``(*)`` once its kickstart was served, ``( )`` until then."""
    if stage.endswith("error"):
        return "(500)"
    return "(*)" if stage in ("profile", "installed", "boot os", "boot run") else "( )"


def dashboard(session: Session, limit: int = 100) -> dict:
    """The console's dashboard: how many hosts are at each install stage, and the live table:
    hosts set to install or whose last step failed, failures first, then the latest. Two
    statements whatever the number of hosts (it is asked for every two seconds)."""
    last = _latest_events()

    def joined(*columns):
        return (select(*columns).select_from(Host).outerjoin(last, last.c.host_id == Host.id)
                .outerjoin(InstallEvent, InstallEvent.id == last.c.id))

    failed_stage = InstallEvent.stage.like("%error")
    stages, total, installing, failed, listed = {}, 0, 0, 0, 0
    for stage, boot_action, n in session.execute(
            joined(InstallEvent.stage, Host.boot_action, func.count()).group_by(InstallEvent.stage, Host.boot_action)):
        key = stage or "no request yet"
        stages[key] = stages.get(key, 0) + n
        total += n
        installing += n if boot_action == "install" else 0
        failed += n if stage and stage.endswith("error") else 0
        listed += n if boot_action == "install" or (stage and stage.endswith("error")) else 0
    rows = session.execute(
        joined(Host.name, Host.boot_action, InstallEvent.stage, InstallEvent.at, InstallEvent.remote_addr)
        .where(or_(Host.boot_action == "install", failed_stage))
        .order_by(case((failed_stage, 0), else_=1), InstallEvent.id.desc().nulls_last(), Host.name)
        .limit(limit)).all()
    live = []
    for host, boot_action, stage, at, addr in rows:
        live.append({"host": host, "boot": boot_action or "", "stage": stage or "",
                     "time": shown(at) or "", "address": addr or "",
                     "mark": mark(stage or "")})
    more = listed - len(live)
    return {"hosts": total, "stages": dict(sorted(stages.items(), key=lambda kv: -kv[1])),
            "installing": installing, "failed": failed, "live": live, "more": more}
