"""DHCP for the cluster's networks: ISC Kea's configuration from the inventory, applied
through Kea's control socket; the ISC ``dhcpd.conf`` form of the same data for sites that
keep ISC dhcpd (the original's).

Rule: one plan (``plan``) — the managed subnets and one reservation per interface with a
MAC and an address on them — and two renderings of it. A managed network is one on which
this frontend has an address, but ``public``. There is no dynamic pool: only machines in
the inventory get an answer (discovery opens a pool of its own). The boot file a machine
gets depends on what asks (``CLASSES``): iPXE already running is sent to its HTTP script
(``/install/boot/ipxe``), UEFI firmware and BIOS PXE ROMs get iPXE over TFTP. A candidate
is checked by the plan first (every conflict named by host) and then by Kea
(``config-test``); only then applied (``config-set``, ``config-write``). With a hosts
database (``keahosts``) the reservations are rows there instead, and Kea's configuration
only names it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.db import queries
from ksserver.db.models import Host, Interface, Network
from ksserver.errors import KsError, Unreachable
from ksserver.services import bootfiles, keahosts, selection, validate

DEFAULT_SOCKET = "/run/kea/kea4-ctrl-socket"  # Debian's kea-dhcp4.conf names this one
DEFAULT_LEASE = 1200  # the original's default-lease-time

#: (client class, Kea test, what it is sent, the attribute that can change it). Classes are
#: evaluated in this order and the first match gives the boot file: iPXE sends user class
#: "iPXE" whatever firmware runs it, so it comes first and gets its script's URL; UEFI HTTP
#: boot gets iPXE's EFI binary over HTTP (``/install/boot/ipxe.efi``), which then asks again.
CLASSES = (
    ("ipxe", "option[77].hex == 'iPXE'", None, None),
    ("uefi-http", "substring(option[60].hex,0,10) == 'HTTPClient'", None, None),
    ("uefi-x64", "option[93].hex == 0x0007 or option[93].hex == 0x0009", "snponly.efi", "Dhcp_UefiLoader"),
    ("bios", "option[93].hex == 0x0000", "undionly.kpxe", "Dhcp_BiosLoader"),
)


@dataclass(frozen=True)
class Subnet:
    id: int
    name: str
    net: ipaddress.IPv4Network
    device: str  # this frontend's interface on it (Kea listens there)
    server: str  # this frontend's address on it: next-server, router and DNS unless set
    domain: str


class Reservation(NamedTuple):
    """One interface's reservation (a named tuple: the plan makes one per interface, on
    every command that changes the inventory)."""

    host: str
    device: str
    mac: str
    ip: str
    subnet: int


@dataclass(frozen=True)
class Discovering:
    """An open insert-ethers session: unknown machines on ``subnet`` get a short lease from
    ``pool`` and Kea runs ``script`` on each lease it commits."""

    subnet: int
    pool: tuple[str, str]
    script: str
    library: str


@dataclass(frozen=True)
class Plan:
    subnets: list[Subnet]
    reservations: list[Reservation]
    attrs: dict[str, str]
    discovering: Discovering | None = None

    def boot_url(self, subnet: Subnet) -> str:
        """The iPXE script's URL, reached on ``subnet``'s side of this frontend."""
        attrs = self.attrs if subnet.name == "private" else {**self.attrs,
                                                             "Kickstart_PrivateKickstartHost": subnet.server}
        return f"{bootfiles.install_base(attrs)}/boot/ipxe"


def plan(session: Session) -> Plan:
    """The managed subnets and their reservations, or a ``KsError`` naming the host whose
    interface cannot be served (an address off its network, a MAC or address twice)."""
    attrs = queries.global_attrs(session)
    front = selection.this_frontend(session)
    nets = {n.id: n for n in session.scalars(select(Network))}
    rows = session.execute(
        select(Host.id, Host.name, Interface.device, Interface.mac, Interface.ip, Interface.network_id)
        .join(Interface, Interface.host_id == Host.id)
        .where(Interface.network_id.is_not(None))
        .order_by(Interface.network_id, Host.name, Interface.device)
    ).all()
    subnets: dict[int, Subnet] = {}
    for host_id, _name, device, _mac, ip, net_id in rows:
        net = nets[net_id]
        if host_id == front and ip and net.name != "public" and net_id not in subnets:
            subnets[net_id] = Subnet(net_id, net.name, _network(net), device, ip, net.dnszone)
    reservations: list[Reservation] = []
    seen: dict[tuple[int, str], int] = {}  # (subnet, MAC or address) → the reservation holding it
    masks = {i: (int(s.net.netmask), int(s.net.network_address)) for i, s in subnets.items()}
    for host_id, name, device, mac, ip, net_id in rows:
        if net_id not in subnets or host_id == front or not mac or not ip:
            continue
        mac = mac.lower()
        mask, base = masks[net_id]
        if validate.ip_number(ip) & mask != base:
            raise KsError(f"host {name} interface {device}: address {ip} is not on network "
                          f"{nets[net_id].name} ({subnets[net_id].net})")
        for key in ((net_id, mac), (net_id, ip)):
            other = seen.setdefault(key, len(reservations))
            if other != len(reservations):
                held = reservations[other]
                raise KsError(f"host {name} interface {device}: {key[1]} is also {held.host} interface "
                              f"{held.device}'s on network {nets[net_id].name}")
        reservations.append(Reservation(name, device, mac, ip, net_id))
    return Plan(list(subnets.values()), reservations, attrs, _discovering(subnets))


def _discovering(subnets: dict[int, Subnet]) -> Discovering | None:
    from ksserver.services import discovery

    session = discovery.current()
    private = next((s for s in subnets.values() if s.name == "private"), None)
    library = discovery.run_script_library()
    if session is None or private is None:
        return None
    if library is None:
        raise KsError("insert-ethers needs Kea's run_script hook (libdhcp_run_script.so, Debian kea-dhcp4-server)")
    return Discovering(private.id, discovery.pool(private.net), session.script, library)


def _network(net: Network) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{net.subnet}/{net.netmask}", strict=False)


def _lease(attrs: dict[str, str]) -> int:
    value = attrs.get("Dhcp_LeaseTime") or str(DEFAULT_LEASE)
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < 60:
        raise KsError(f'attribute "Dhcp_LeaseTime" must be a number of seconds, at least 60 (not "{value}")')
    return int(value)


def _loader(attrs: dict[str, str], attr: str, default: str) -> str:
    value = attrs.get(attr) or default
    if not re.fullmatch(r"[A-Za-z0-9._/+-]{1,128}", value) or ".." in value:
        raise KsError(f'attribute "{attr}" must name a file under the TFTP root (not "{value}")')
    return value


def _options(plan: Plan, subnet: Subnet) -> list[tuple[str, str]]:
    private = subnet.name == "private"
    router = (plan.attrs.get("Kickstart_PrivateGateway") if private else None) or subnet.server
    dns = (plan.attrs.get("Kickstart_PrivateDNSServers") if private else None) or subnet.server
    for what, value in (("Kickstart_PrivateGateway", router), ("Kickstart_PrivateDNSServers", dns)):
        for word in value.replace(",", " ").split():
            try:
                ipaddress.IPv4Address(word)
            except ValueError:
                raise KsError(f'attribute "{what}" must hold IPv4 addresses for DHCP (not "{value}")') from None
    out = [("routers", router), ("domain-name-servers", ", ".join(dns.replace(",", " ").split()))]
    if subnet.domain:
        out.append(("domain-name", subnet.domain))
    return out


# --- Kea ----------------------------------------------------------------------------------

def control_socket(attrs: dict[str, str]) -> str:
    """``Dhcp_ControlSocket``: where Kea listens for commands (``Dhcp_LeaseFile``, if set, is
    its lease file; Kea's own default otherwise)."""
    return attrs.get("Dhcp_ControlSocket") or DEFAULT_SOCKET


def kea_config(plan: Plan) -> dict:
    """Kea's ``Dhcp4`` configuration for ``plan`` (what ``sync dhcp`` applies)."""
    hosts_db = keahosts.configured(plan.attrs)
    by_subnet: dict[int, list[dict]] = {}
    for r in () if hosts_db else plan.reservations:
        by_subnet.setdefault(r.subnet, []).append({"hw-address": r.mac, "ip-address": r.ip, "hostname": r.host})
    # iPXE and UEFI HTTP boot fetch their script over HTTP, from the private side when there is one
    script = plan.boot_url(next((s for s in plan.subnets if s.name == "private"), plan.subnets[0])) \
        if plan.subnets else None
    classes = []
    for name, test, default, attr in CLASSES:
        cls: dict = {"name": name, "test": test}
        loader = _loader(plan.attrs, attr, default) if attr else script
        if name == "uefi-http" and script:
            loader = script + ".efi"
        if loader:
            cls["boot-file-name"] = loader
        if name == "uefi-http":
            cls["option-data"] = [{"name": "vendor-class-identifier", "data": "HTTPClient"}]
        classes.append(cls)
    subnets = [{
        "id": s.id,
        "subnet": str(s.net),
        "interface": s.device,
        "next-server": s.server,
        "option-data": [{"name": n, "data": v} for n, v in _options(plan, s)],
        **({} if hosts_db else {"reservations": by_subnet.get(s.id, [])}),
    } for s in plan.subnets]
    hooks = []
    found = plan.discovering
    if found is not None:
        # machines Kea does not know: a short lease from the session's pool, and the MAC to
        # the session through the run_script hook
        # (Kea 2.2 gives a pool lease the subnet's lifetime: a class's own is not applied to a
        # pool chosen by KNOWN/UNKNOWN; the lease is replaced by the reservation at the
        # machine's next request, so the pool does not run out)
        for sub in subnets:
            if sub["id"] == found.subnet:
                sub["pools"] = [{"pool": f"{found.pool[0]} - {found.pool[1]}", "client-class": "UNKNOWN"}]
        hooks.append({"library": found.library, "parameters": {"name": found.script, "sync": False}})
    config = {"Dhcp4": {
        "interfaces-config": {"interfaces": sorted({s.device for s in plan.subnets})},
        "control-socket": {"socket-type": "unix", "socket-name": control_socket(plan.attrs)},
        "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 3600,
                           **({"name": plan.attrs["Dhcp_LeaseFile"]} if plan.attrs.get("Dhcp_LeaseFile") else {})},
        "valid-lifetime": _lease(plan.attrs),
        "authoritative": True,
        "client-classes": classes,
        "subnet4": subnets,
        **({"hooks-libraries": hooks} if hooks else {}),
    }}
    if hosts_db:
        # reservations are rows Kea reads as clients ask (keahosts); they are all by MAC,
        # so Kea asks the database once per packet, not once per kind of identifier
        config["Dhcp4"]["hosts-database"] = hosts_db.kea()
        config["Dhcp4"]["host-reservation-identifiers"] = ["hw-address"]
        # and while one packet waits on the database, other threads answer (bench/netboot.py:
        # single-threaded, Kea 2.2 began to drop at 1,000 exchanges/s)
        config["Dhcp4"]["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": 4,
                                              "packet-queue-size": 256}
    # what ``held_digest`` reads back: Kea keeps a user context as it was given
    config["Dhcp4"]["user-context"] = {"ksserver-digest": digest(config)}
    return config


def digest(config: dict) -> str:
    """The digest of a candidate (its own ``user-context`` left out; the plan builds it in
    one order, so equal plans give equal texts)."""
    body = {k: v for k, v in config["Dhcp4"].items() if k != "user-context"}
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def held_digest(kea: "Kea") -> str | None:
    """The digest of the configuration Kea runs, if ksserver gave it."""
    held = kea.command("config-get")
    if held.get("result") != 0:
        return None
    ctx = ((held.get("arguments") or {}).get("Dhcp4") or {}).get("user-context") or {}
    return ctx.get("ksserver-digest")


def report_kea(session: Session) -> str:
    return json.dumps(kea_config(plan(session)), indent=2) + "\n"


class Kea:
    """Kea's control socket (``Dhcp_ControlSocket``): one JSON command per connection."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.path, self.timeout = path, timeout

    def command(self, name: str, arguments: dict | bytes | None = None) -> dict:
        """Kea's answer to one command (``arguments``: a dict, or its JSON already encoded —
        a 10,000-host configuration is encoded once for test and set)."""
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments).encode()
        request = json.dumps({"command": name}).encode()
        if arguments is not None:
            request = request[:-1] + b', "arguments": ' + arguments + b"}"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(request)
                chunks = []
                while chunk := sock.recv(1 << 20):  # Kea answers, then closes the connection
                    chunks.append(chunk)
        except OSError as err:
            raise Unreachable(f"cannot reach Kea's control socket {self.path}: {err.strerror or err}") from None
        try:
            answer = json.loads(b"".join(chunks))
        except ValueError:
            raise KsError(f"Kea's control socket {self.path} gave no answer to {name}") from None
        return answer[0] if isinstance(answer, list) else answer


def _refused(plan: Plan, text: str) -> str:
    """Kea's refusal in one line, naming the host or network it is about when it names a
    MAC, an address or an interface of them."""
    text = " ".join(str(text).split())
    for r in plan.reservations:
        if r.mac in text.lower() or re.search(rf"(?<![0-9.]){re.escape(r.ip)}(?![0-9])", text):
            return f"Kea refused the configuration for host {r.host} interface {r.device}: {text}"
    for s in plan.subnets:
        if re.search(rf"(?<![\w.-]){re.escape(s.device)}(?![\w.-])", text) or str(s.net) in text:
            return f"Kea refused the configuration for network {s.name} (interface {s.device}): {text}"
    return f"Kea refused the configuration: {text}"


def apply_candidate(p: Plan, candidate: dict, kea: Kea) -> str:
    """Check ``candidate`` with Kea (``config-test``), then apply it and have Kea write it
    to its file. The test is not redundant: a ``config-set`` Kea refuses can leave it
    serving nothing (its sockets closed), so only a tested candidate is ever set."""
    encoded = json.dumps(candidate).encode()
    tested = kea.command("config-test", encoded)
    if tested.get("result") != 0:
        raise KsError(_refused(p, tested.get("text", "")))
    done = kea.command("config-set", encoded)
    if done.get("result") != 0:
        raise KsError(_refused(p, done.get("text", "")))
    written = kea.command("config-write")
    if written.get("result") != 0:
        raise KsError(f"Kea applied the configuration but could not write it: {written.get('text', '')}")
    hosts = len(p.reservations)
    return (f"applied DHCP for {len(p.subnets)} network{'' if len(p.subnets) == 1 else 's'} "
            f"and {hosts} interface{'' if hosts == 1 else 's'} (Kea, {kea.path})\n")


# --- ISC dhcpd --------------------------------------------------------------------------------

def report_dhcpd(session: Session) -> str:
    """The ISC ``dhcpd.conf`` form of the plan (the original's ``report host dhcpd``)."""
    p = plan(session)
    q = outputs.dhcpd_string
    lines = [
        "# generated by ksserver (report host dhcpd) from the inventory",
        "ddns-update-style none;",
        f"default-lease-time {_lease(p.attrs)};",
        f"max-lease-time {_lease(p.attrs)};",
        "authoritative;",
        "option client-arch code 93 = unsigned integer 16;",
        "",
    ]
    by_subnet: dict[int, list[Reservation]] = {}
    for r in p.reservations:
        by_subnet.setdefault(r.subnet, []).append(r)
    uefi = _loader(p.attrs, "Dhcp_UefiLoader", "snponly.efi")
    bios = _loader(p.attrs, "Dhcp_BiosLoader", "undionly.kpxe")
    for s in p.subnets:
        opts = dict(_options(p, s))
        lines += [
            f"subnet {s.net.network_address} netmask {s.net.netmask} {{",
            f"\toption routers {opts['routers']};",
            f"\toption domain-name-servers {opts['domain-name-servers']};",
        ]
        if "domain-name" in opts:
            lines.append(f'\toption domain-name "{q(opts["domain-name"], f"network {s.name} dnszone")}";')
        lines += [
            f"\tnext-server {s.server};",
            '\tif exists user-class and option user-class = "iPXE" {',
            f'\t\tfilename "{q(p.boot_url(s), "the iPXE script URL")}";',
            '\t} elsif substring(option vendor-class-identifier, 0, 10) = "HTTPClient" {',
            '\t\toption vendor-class-identifier "HTTPClient";',
            f'\t\tfilename "{q(p.boot_url(s) + ".efi", "the iPXE script URL")}";',
            "\t} elsif option client-arch = 00:07 or option client-arch = 00:09 {",
            f'\t\tfilename "{uefi}";',
            "\t} else {",
            f'\t\tfilename "{bios}";',
            "\t}",
        ]
        for r in by_subnet.get(s.id, []):
            lines += [
                f"\thost {r.host}-{r.device} {{",
                f"\t\thardware ethernet {r.mac};",
                f"\t\tfixed-address {r.ip};",
                f'\t\toption host-name "{q(r.host, f"host {r.host}")}";',
                "\t}",
            ]
        lines += ["}", ""]
    return "\n".join(lines)

