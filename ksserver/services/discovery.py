"""insert-ethers: discover machines that network-boot, name them, register them, install them.

Rule: a MAC is bound only while a session is open, and one session runs at a time — a lock
in the home (``insert-ethers.lock``) that dies with its process; the session's parameters
sit beside it (``insert-ethers.json``). While it is open, the DHCP plan (``services.dhcp``)
gives machines Kea does not know a lease from a pool of their own (Kea's class UNKNOWN) and
runs Kea's ``libdhcp_run_script.so`` on every lease it commits; the script (written at session start)
sends the MAC to the session's socket (``Discovery_Socket``). The session registers each
new MAC in one transaction — the next free name (``services.allocation``: never a stall on a
taken one), the next free address in the original's order, boot action install — and the
command's DHCP apply puts its reservation in Kea before the machine's next DHCP request.
A burst is registered together: one transaction and one DHCP apply per batch.

A machine asking for its iPXE script from a pool address is told to wait and ask DHCP
again (``RETRY``): by then its reservation is live, and it is a known host.
"""

from __future__ import annotations

import fcntl
import glob
import ipaddress
import json
import os
import queue
import socket
import sys
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import config
from sqlalchemy import insert

from ksserver.attrs import defaults
from ksserver.db import queries
from ksserver.db.models import Host, InstallEvent, Interface
from ksserver.errors import KsError
from ksserver.services import allocation, boot, lookup, selection, validate

LOCK, STATE = "insert-ethers.lock", "insert-ethers.json"
DEFAULT_SOCKET = "/run/ksserver/discovery.sock"
RETRY = "#!ipxe\n# an unknown machine while insert-ethers runs: its reservation comes in a moment\n" \
        "sleep 5\ndhcp\nchain --autofree ${filename}\n"


@dataclass
class Params:
    """What a session names and numbers new machines by (the original's flags)."""

    appliance: str = "compute"
    basename: str | None = None
    rack: int = 0
    rank: int | None = None
    hostname: str | None = None  # one machine, this name
    ipaddr: str | None = None  # one machine, this address
    baseip: str | None = None
    inc: int = -1
    count: int | None = None
    install: bool = True
    replace: str | None = None  # one machine takes this host's name, rack and rank
    socket: str = DEFAULT_SOCKET
    script: str = ""
    pid: int = 0
    found: list[str] = field(default_factory=list)


def prepare(session: Session, params: Params, replace: str | None = None) -> tuple[str, str]:
    """Check a session's parameters against the inventory and complete them; (the private
    network as ``subnet/netmask``, the appliance's membership) for the screen."""
    network = lookup.network(session, "private")
    membership = lookup.appliance(session, params.appliance).membership
    params.socket = queries.global_attrs(session).get("Discovery_Socket") or DEFAULT_SOCKET
    if replace:
        rec = selection.one_host(session, replace)
        params.hostname, params.rack, params.rank, params.count = rec.name, rec.rack, rec.rank, 1
        params.replace = rec.name
    return f"{network.subnet}/{network.netmask}", membership


def _home() -> Path:
    return config.home()


def current() -> Params | None:
    """The open session, if one runs (its lock is held by a living process)."""
    lock = _home() / LOCK
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held: a session runs
            try:
                return Params(**json.loads((_home() / STATE).read_text()))
            except (OSError, ValueError, TypeError):
                return None
        return None
    finally:
        os.close(fd)


def pool(net: ipaddress.IPv4Network) -> tuple[str, str]:
    """The pool unknown machines get a short lease from while a session is open: at the
    bottom of the network (the allocator hands out from the top), 100 addresses or fewer."""
    first = int(net.network_address) + 2
    last = min(first + 99, int(net.broadcast_address) - 2)
    return str(ipaddress.IPv4Address(first)), str(ipaddress.IPv4Address(max(first, last)))


def run_script_library() -> str | None:
    found = sorted(glob.glob("/usr/lib/*/kea/hooks/libdhcp_run_script.so"))
    return found[0] if found else None


_HOOK = """#!{python}
# Written by ksserver insert-ethers: Kea's run_script hook calls it on every lease it commits;
# it hands the MAC to the insert-ethers session, which decides.
import json, os, socket, sys
if len(sys.argv) > 1 and sys.argv[1] == "leases4_committed":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for i in range(int(os.environ.get("LEASES4_SIZE", "0") or 0)):
        mac = os.environ.get("LEASES4_AT%d_HWADDR" % i, "")
        if mac:
            try:
                s.sendto(json.dumps({{"mac": mac, "ip": os.environ.get("LEASES4_AT%d_ADDRESS" % i, ""),
                                     "iface": os.environ.get("QUERY4_IFACE_NAME", "")}}).encode(), {sock!r})
            except OSError:
                pass
"""


class Listening:
    """An open session: holds the lock and the socket; closing it ends the session."""

    def __init__(self, params: Params):
        home = _home()
        if not home.is_dir():
            raise KsError(f"{home}: no ksserver home here (run `ksserver init`)")
        self.lock_fd = os.open(home / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.lock_fd)
            running = current()
            raise KsError("insert-ethers is already running" + (f" (pid {running.pid})" if running else "")) from None
        self.params = params
        params.pid = os.getpid()
        path = Path(params.socket)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o622)  # Kea's user (another than ours on Debian) sends; nobody else reads
        script = path.with_name(f"kea-discovered-{os.getpid()}")
        script.write_text(_HOOK.format(python=sys.executable, sock=str(path)))
        script.chmod(0o755)
        params.script = str(script)
        self._save()
        self.queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _save(self) -> None:
        tmp = _home() / f".{STATE}"
        tmp.write_text(json.dumps(asdict(self.params)))
        os.replace(tmp, _home() / STATE)

    def record(self, names: Iterable[str]) -> None:
        self.params.found += list(names)
        self._save()

    def _drain(self) -> None:
        """Read the socket all the time, whatever the session is doing: a Unix datagram
        socket queues only a few messages (net.unix.max_dgram_qlen, 10 by default), and Kea's
        hook scripts would wait on a full one."""
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            try:
                self.queue.put(json.loads(data))
            except ValueError:
                continue

    def receive(self, timeout: float) -> list[dict]:
        """The announcements waiting (all of them: a burst is one batch), or [] after
        ``timeout``."""
        try:
            out = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self.sock.close()
        for path in (self.params.socket, self.params.script, _home() / STATE):
            try:
                os.unlink(path)
            except OSError:
                pass
        os.close(self.lock_fd)


@dataclass
class Found:
    mac: str
    host: str
    ip: str


def register(session: Session, params: Params, announced: list[dict]) -> list[Found]:
    """Register the new MACs among ``announced`` (known ones and repeats are ignored), in
    this transaction; the caller's ``netboot.following`` applies DHCP once for all."""
    macs = []
    for item in announced:
        try:
            mac = validate.mac(str(item.get("mac", "")))
        except KsError:
            continue
        if mac not in macs:
            macs.append(mac)
    if not macs:
        return []
    known = set(session.scalars(select(Interface.mac).where(Interface.mac.in_(macs))))
    macs = [m for m in macs if m not in known]
    if params.count is not None:
        macs = macs[: max(0, params.count - len(params.found))]
    if not macs:
        return []
    app = lookup.appliance(session, params.appliance)
    net = lookup.network(session, "private")
    if params.replace or params.hostname:
        names = iter([(params.hostname or params.replace, params.rank or 0)])
    else:
        rank = params.rank if params.rank is not None else allocation.next_rank(session, app.id, params.rack)
        names = allocation.names(params.basename or app.name, params.rack, rank, allocation.taken_names(session))
    taken = allocation.taken_addresses(session, net) | _pool_addresses(allocation.network_of(net))
    ips = iter([params.ipaddr]) if params.ipaddr else \
        allocation.addresses(allocation.network_of(net), taken, inc=params.inc, base=params.baseip)
    found, ranks = [], {}
    for mac in macs:
        name, rank_ = next(names, (None, None))
        ip = next(ips, None)
        if name is None or ip is None:
            break  # one machine was asked for, or the network is full: the rest wait for another session
        found.append(Found(mac, name, ip))
        ranks[name] = rank_
        params.rank = rank_ + 1
    if not found:
        return []
    if params.hostname and session.scalar(select(Host.id).where(Host.name == params.hostname)) is not None:
        raise KsError(f'host "{params.hostname}" exists')
    # names and addresses come from the allocator, MACs were checked: written in bulk
    os_id = lookup.os_(session, defaults.DEFAULT_OS).id
    session.execute(insert(Host), [dict(name=f.host, appliance_id=app.id, os_id=os_id, rack=params.rack,
                                        rank=ranks[f.host], cpus=1, runaction="os", installaction="install")
                                   for f in found])
    ids = dict(session.execute(select(Host.name, Host.id).where(Host.name.in_([f.host for f in found]))).all())
    session.execute(insert(Interface), [dict(host_id=ids[f.host], device="eth0", mac=f.mac, ip=f.ip,
                                             network_id=net.id, name=f.host) for f in found])
    # the boot action now; the boot files after the commit (``bootfiles.refresh``, by the
    # session's loop): the reservation is what the machine needs first
    boot.set_hosts_boot(session, [f.host for f in found], "install" if params.install else "os", refresh=False)
    return found


def _pool_addresses(net: ipaddress.IPv4Network) -> set[str]:
    first, last = (int(ipaddress.IPv4Address(a)) for a in pool(net))
    return {str(ipaddress.IPv4Address(v)) for v in range(first, last + 1)}


def marks(session: Session, hosts: list[str]) -> dict[str, str]:
    """Each host's mark on the screen: ``( )`` until its kickstart is served, ``(*)`` once it
    is, ``(500)`` when generating it failed."""
    if not hosts:
        return {}
    ids = dict(session.execute(select(Host.name, Host.id).where(Host.name.in_(hosts))).all())
    out = {h: "( )" for h in hosts}
    rows = session.execute(select(InstallEvent.host_id, InstallEvent.stage).where(
        InstallEvent.host_id.in_(list(ids.values())), InstallEvent.stage.in_(("profile", "profile error")))
        .order_by(InstallEvent.id)).all()
    by_id = {v: k for k, v in ids.items()}
    for host_id, stage in rows:
        out[by_id[host_id]] = "(*)" if stage == "profile" else "(500)"
    return out


def session_state(session: Session) -> dict:
    """The open session (its appliance, rack), its job (``services.jobs``: the newest
    discovery job) and each machine that job registered, with its mark now."""
    from ksserver.services import jobs

    params = current()
    newest = jobs.recent(session, "discovery", 1)
    job = newest[0] if newest else None
    found: dict[str, dict] = {}
    for event in jobs.events(job) if job else []:
        if event.get("event") == "discovered":
            found[event["host"]] = {"mac": event["mac"], "host": event["host"], "ip": event["ip"], "mark": "( )"}
    for host, mark in marks(session, list(found)).items():
        found[host]["mark"] = mark
    return {"open": params is not None, "appliance": params.appliance if params else None,
            "rack": params.rack if params else None, "job": job, "found": list(found.values())}
