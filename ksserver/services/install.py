"""The installer's side of the server: who is asking, what it may fetch, what it reached.

Identification rules (one function, ``identify``, used by every install-time URL):

* the request's source address, matched to an interface IP, names the host;
* ``?token=`` (minted by ``boot.set_boot_action`` when the host is set to install, carried in
  its boot arguments) names the host when the source address is not a known host (NAT);
  a token naming another host than the known source address is refused;
* ``X-RHN-Provisioning-MAC-<n>`` headers are recorded; they name the host only when the
  source is unknown, no token is given, and the global attribute ``trust_mac_headers`` is
  true. A known source whose headers carry another host's MAC is refused.

Nothing else (no ``client=`` parameter) selects a host. Every fetch and completion is
recorded as an ``InstallEvent``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ksserver.attrs import format_site_attrs
from ksserver.db import queries
from ksserver.db.revision import one_or_all, uncached
from ksserver.db.session import conn_of
from ksserver.db.models import Appliance, GlobalAttr, Host, InstallEvent, Interface
from ksserver.db.queries import HostRecord
from ksserver.errors import Forbidden, KsError
from ksserver.services import attributes, boot, bootfiles, profile, rolls, selection

_TRUE = {"on", "yes", "y", "true", "1"}
_ARCH = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class BadRequest(KsError):
    """A malformed query parameter (HTTP 400)."""


@dataclass(frozen=True)
class MacHeader:
    index: str
    device: str
    mac: str
    rest: str


def parse_mac_headers(headers) -> list[MacHeader]:
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


def global_attr(session: Session, name: str) -> str | None:
    return session.scalar(select(GlobalAttr.value).where(GlobalAttr.name == name))


_CPUS = os.cpu_count() or 1  # asked once: on some systems it reads /sys every time


def limit_from(value: str | None) -> int:
    """``max_concurrent_profiles`` from the attribute's value (default 2 × CPUs)."""
    try:
        n = int(value) if value is not None else 0
    except ValueError:
        n = 0
    return n if n > 0 else 2 * _CPUS


def max_concurrent_profiles(session: Session) -> int:
    return limit_from(global_attr(session, "max_concurrent_profiles"))


def identify_record(
    session: Session,
    remote_addr: str,
    token: str | None,
    macs: list[MacHeader],
    glob: dict[str, str] | None = None,
    cached=uncached,
) -> HostRecord:
    """The record of the host making this request, or ``Forbidden`` with a one-line reason.

    ``glob``: the global attributes when already read in this transaction (saves a query);
    ``cached``: a revision memo's reader (``ksserver.db.revision``), or none."""
    params = getattr(cached, "params", None)  # host records change with what installers report
    records = one_or_all(
        cached, "ip", remote_addr, lambda: tuple(queries.host_records_by_ip(session, remote_addr)),
        lambda: queries.host_records_by_ip_all(session), missing=(), version=params,
    )
    by_addr = {r.id: r for r in records}
    if len(by_addr) > 1:
        raise Forbidden(f"address {remote_addr} belongs to several hosts")
    known = next(iter(by_addr.values()), None)
    if token:
        named_id = cached(("token", token), lambda: queries.host_id_by_token(session, token))
        if named_id is None:
            raise Forbidden("unknown or revoked install token")
        if known is not None and known.id != named_id:
            raise Forbidden(f"install token of another host presented from {remote_addr} ({known.name})")
        host = known if known is not None else cached(
            ("record", params, named_id), lambda: queries.host_records_by_id(session, [named_id])[0]
        )
    else:
        host = known
    mac_hosts = set()
    good = tuple(sorted({m.mac for m in macs if _MAC.match(m.mac)}))
    if good:
        mac_hosts = set(cached(("macs", good), lambda: frozenset(
            session.scalars(select(Interface.host_id).where(Interface.mac.in_(good)))
        )))
    if host is not None:
        if mac_hosts - {host.id}:
            raise Forbidden(f"MAC headers name another host than {host.name}")
        return host
    if mac_hosts:
        trust = glob.get("trust_mac_headers") if glob is not None else global_attr(session, "trust_mac_headers")
        if (trust or "").strip().lower() in _TRUE:
            if len(mac_hosts) > 1:
                raise Forbidden("MAC headers name several hosts")
            return queries.host_records_by_id(session, [mac_hosts.pop()])[0]
    raise Forbidden(f"unknown host {remote_addr}" + (" (MAC headers are not trusted)" if macs else ""))


def identify(session: Session, remote_addr: str, token: str | None, macs: list[MacHeader]) -> Host:
    """The host making this request, or ``Forbidden`` with a one-line reason."""
    return session.get(Host, identify_record(session, remote_addr, token, macs).id)


def record_of(session: Session, host: Host) -> HostRecord:
    return queries.host_records_by_id(session, [host.id])[0]


def _check_params(arch: str | None, np: str | None) -> int | None:
    if arch is not None and not _ARCH.match(arch):
        raise BadRequest("bad arch value")
    if np is not None:
        if not np.isdigit() or not 0 < int(np) <= 65536:
            raise BadRequest("bad np value: a CPU count from 1 to 65536")
        return int(np)
    return None


def installer_params(rec: HostRecord, arch: str | None, np: str | None) -> tuple[HostRecord, dict]:
    """The installer's ``arch=`` and ``np=`` (as the original: arch is stored, np is the CPU
    count), checked (``BadRequest``): the record as they make it, for this request, and
    what changed, to record (``record_params``)."""
    cpus = _check_params(arch, np)
    values: dict = {}
    if arch is not None and arch != rec.arch:
        values["arch"] = arch
    if cpus is not None and cpus != rec.cpus:
        values["cpus"] = cpus
    return (dataclasses.replace(rec, **values) if values else rec), values


def record_params(db, host_id: int, values: dict) -> None:
    """Store what an installer reported of its host. An UPDATE of only these columns moves
    the inventory's ``params`` counter, not its revision (migration 0004): a storm of first
    installs does not make every worker read its attributes again."""
    conn_of(db).execute(update(Host).where(Host.id == host_id).values(**values))


# The last rendered kickstart of each host, reused only while everything it is a function
# of is unchanged: the graph (a new object whenever a graph file changes), the root, every
# attribute value (compared in full), and the node directories and files it was built from
# (``Graph.unchanged``: the graph's directory watch, and their stamps when it cannot tell).
@dataclass(slots=True)
class _Rendered:
    graph: object
    node: str | None
    attrs: dict
    mark: object
    text: str


_rendered: dict[str, _Rendered] = {}
_rendered_lock = threading.Lock()
_RENDERED_MAX = 20000


def kickstart_record(session: Session, rec: HostRecord, glob: dict[str, str], cached=uncached) -> str:
    """``kickstart`` for a record, with the global attributes already read."""
    # resolved once per inventory revision and host record (never mutated afterwards)
    attrs = cached(
        ("attrs", rec), lambda: profile.with_defaults(rec, attributes.host_attrs_with(session, rec, glob, cached))
    )
    graph = profile.graph_for(rec.graph)
    hit = _rendered.get(rec.name)
    if (
        hit is not None
        and hit.graph is graph
        and hit.node == rec.node
        and (hit.attrs is attrs or hit.attrs == attrs)
        and graph.unchanged(hit.mark)
    ):
        text = hit.text
    else:
        generation = graph.generation  # before any node file is read
        text, stamps = graph.kickstart(profile.root_of(rec), attrs)
        with _rendered_lock:
            if len(_rendered) >= _RENDERED_MAX:
                _rendered.clear()
            _rendered[rec.name] = _Rendered(graph, rec.node, attrs, graph.freshness(stamps, generation), text)
    if not text.strip():
        raise KsError(f"the kickstart of {rec.name} is empty")
    return text


def warm(conn, cached, glob: dict[str, str]) -> int:
    """Render ahead the kickstarts of hosts set to install that this process has not rendered
    yet, into the caches the kickstart URL reads (``cached``: the revision memo's reader).

    Why: an administrator sets a rack to install and powers it on; a minute later every
    installer asks at once. Rendered before they ask, each answer is a lookup. A host whose
    generation fails is skipped here: its own request reports the error. Returns how many
    were rendered."""
    done = 0
    for rec in queries.host_records(conn, (Host.boot_action == "install") & Appliance.node.isnot(None)):
        if rec.name in _rendered:
            continue
        try:
            kickstart_record(conn, rec, glob, cached)
        except KsError:
            continue
        done += 1
    return done


def site_attrs(session: Session, host: Host) -> str:
    rec = record_of(session, host)
    return format_site_attrs(attributes.host_attrs(session, rec))


def rolls_xml(session: Session, host: Host) -> str:
    return rolls.rolls_xml(session, record_of(session, host))


def completed(session: Session, host: Host, action: str = "os") -> None:
    """The installer's report: the next boot is ``action`` (``os`` revokes the token), and
    the host's PXE file says so at once — else its next PXE boot would install again."""
    boot.set_boot_action(session, host, action)
    bootfiles.refresh(session, [host.name])


def host_status(session: Session, selectors: list[str]) -> list[tuple]:
    """(host, boot, last stage, time, address) per host."""
    records = selection.select_hosts(session, selectors, change=False)
    ids = [r.id for r in records]
    last = (
        select(InstallEvent.host_id, func.max(InstallEvent.id).label("id"))
        .group_by(InstallEvent.host_id)
        .subquery()
    )
    rows = session.execute(
        select(InstallEvent.host_id, InstallEvent.stage, InstallEvent.at, InstallEvent.remote_addr)
        .join(last, last.c.id == InstallEvent.id)
    ).all()
    events = {r[0]: r[1:] for r in rows}
    boots = dict(session.execute(select(Host.id, Host.boot_action)).all()) if ids else {}
    out = []
    for rec in records:
        stage, at, addr = events.get(rec.id, ("", None, ""))
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)  # SQLite keeps no zone; we store UTC
        when = at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""
        out.append((rec.name, boots.get(rec.id) or "", stage, when, addr or ""))
    return out


def global_attrs(session: Session) -> dict[str, str]:
    """Every global attribute (one statement)."""
    return queries.global_attrs_fast(session)
