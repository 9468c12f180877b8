"""``ksserver init``: what a Rocks frontend install does to an empty database.

Loads site.attrs as global attributes, creates the ``private`` and ``public`` networks from
them, the default appliances, and the frontend host with its two interfaces. Every step
checks what exists first, so running it again changes nothing but the attributes given.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import config
from ksserver.attrs import INTRINSIC, Level, defaults, parse_site_attrs
from ksserver.db.models import OS, Appliance, Host, Network, Route
from ksserver.errors import KsError
from ksserver.db.session import transaction
from ksserver.services import attributes, boot, firewall, inventory, profile, routes

#: name, membership, root node, managed — the appliances a Rocks frontend starts with.
DEFAULT_APPLIANCES = (
    ("frontend", "Frontend", "server", False),
    ("compute", "Compute", "compute", True),
    ("nas", "NAS Appliance", "nas", True),
    ("vm-container", "VM Container", "vm-container", True),
    ("hosted-vm", "Hosted VM", None, True),
    ("network", "Ethernet Switch", None, False),
    ("power", "Power Distribution Unit", None, False),
)

#: site.attrs keys that describe the installing machine, not the site (docs/original-behaviour.md §4.1).
_NOT_GLOBAL = INTRINSIC | {"os"}

REQUIRED = (
    "Kickstart_PrivateNetwork",
    "Kickstart_PrivateNetmask",
    "Kickstart_PrivateDNSDomain",
    "Kickstart_PrivateAddress",
    "Kickstart_PublicNetwork",
    "Kickstart_PublicNetmask",
    "Kickstart_PublicDNSDomain",
    "Kickstart_PublicAddress",
    "Kickstart_PublicHostname",
)


def upgrade_schema() -> str:
    """Create or upgrade the schema (Alembic); returns the revision now in place."""
    from sqlalchemy.exc import SQLAlchemyError

    from ksserver import config
    from ksserver.db.migrate import upgrade  # imported here: Alembic is needed only by init

    try:
        return upgrade()
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise KsError(f"cannot open the database {config.database_url()}: {reason}") from None


def init(site_attrs_file: str | None) -> tuple[list[str], str]:
    """``ksserver init``: read the site.attrs (the demo site's when none is given), create or
    upgrade the schema, then set up this frontend in one transaction. Returns what it did,
    a line each, and the schema revision.

    The demo site.attrs is published, and so is its root password hash: a frontend set up
    from it gets a root password of its own instead, shown once."""
    site = read_site_attrs(site_attrs_file)
    config.make_home()
    revision = upgrade_schema()
    with transaction() as session:
        done = initialise(session, site, replace_attrs=site_attrs_file is not None,
                          own_root_password=site_attrs_file is None)
        done += profile.undefined(session)
    return done, revision


ROOT_HASH = "Kickstart_PrivateSHARootPassword"


def _new_root_password() -> tuple[str, str]:
    """A random root password and its SHA-512 crypt hash (``openssl passwd -6``)."""
    password = secrets.token_urlsafe(12)
    try:
        done = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True,
                              text=True, check=False)
    except OSError:
        raise KsError("cannot hash a new root password: openssl is not installed "
                      f"(install it, or give init a site.attrs with {ROOT_HASH})") from None
    if done.returncode != 0 or not done.stdout.startswith("$6$"):
        raise KsError(f"cannot hash a new root password: {' '.join((done.stderr or done.stdout).split())}")
    return password, done.stdout.strip()


def read_site_attrs(path: str | None) -> dict[str, str]:
    source = Path(path) if path else config.DEMO_SITE_ATTRS
    try:
        raw = source.read_bytes()
    except OSError as err:
        raise KsError(f"cannot read {source}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise KsError(f"{source}:{line}: not UTF-8 text") from None
    return parse_site_attrs(text, str(source))


def initialise(session: Session, site: dict[str, str], *, replace_attrs: bool,
               own_root_password: bool = False) -> list[str]:
    """Returns one line per thing it created or changed, for the user to read."""
    missing = [k for k in REQUIRED if not site.get(k)]
    if missing:
        raise KsError("site.attrs lacks " + ", ".join(missing))
    done: list[str] = []
    if session.scalar(select(OS.id).where(OS.name == defaults.DEFAULT_OS)) is None:
        session.add(OS(name=defaults.DEFAULT_OS))
        session.flush()
        done.append("created OS linux")

    existing = dict(session.execute(select(Appliance.name, Appliance.id)).all())
    first_time = not existing
    if replace_attrs or first_time:
        if own_root_password:
            password, site[ROOT_HASH] = _new_root_password()
            done.append(f"root password of the hosts this frontend installs: {password} "
                        f"(shown this once; its hash is the attribute {ROOT_HASH})")
        count = 0
        for key, value in sorted(site.items()):
            if key in _NOT_GLOBAL:
                continue
            attributes.set_attr(session, Level.GLOBAL, [], key, value)
            count += 1
        done.append(f"loaded {count} global attributes")

    for name, prefix, zone, servedns in (
        ("private", "Kickstart_Private", site["Kickstart_PrivateDNSDomain"], "yes"),
        ("public", "Kickstart_Public", site["Kickstart_PublicDNSDomain"], "no"),
    ):
        if session.scalar(select(Network.id).where(Network.name == name)) is None:
            inventory.add_network(
                session, name, site[f"{prefix}Network"], site[f"{prefix}Netmask"], dnszone=zone, servedns=servedns
            )
            done.append(f"created network {name}")

    for name, membership, node, managed in DEFAULT_APPLIANCES:
        if name in existing:
            continue
        inventory.add_appliance(session, name, membership=membership, node=node)
        attributes.set_attr(session, Level.APPLIANCE, [name], "managed", "true" if managed else "false")
        done.append(f"created appliance {name}")

    hostname = site.get("Kickstart_PrivateHostname") or site["Kickstart_PublicHostname"].split(".")[0]
    if session.scalar(select(Host.id).where(Host.name == hostname)) is None:
        inventory.add_host(
            session, hostname, appliance="frontend", rack="0", rank="0", arch=site.get("arch") or defaults.native_arch()
        )
        for prefix, default_dev, name in (
            ("Kickstart_Private", "eth0", hostname),
            ("Kickstart_Public", "eth1", site["Kickstart_PublicHostname"]),
        ):
            inventory.add_interface(
                session,
                hostname,
                site.get(f"{prefix}Interface") or default_dev,
                ip=site[f"{prefix}Address"],
                mac=site.get(f"{prefix}Ethernet") or None,
                subnet="private" if prefix.endswith("Private") else "public",
                name=name,
            )
        done.append(f"created frontend host {hostname}")
    done += _default_routes(session, site, hostname)
    done += firewall.default_rules(session)
    done += boot.ensure_default_bootactions(session, site, site.get("arch") or defaults.native_arch())
    return done


def _default_routes(session: Session, site: dict[str, str], frontend: str) -> list[str]:
    """The original's routes at install (its database-data node): every host's default route
    through the private gateway, the frontend's through the public one, multicast and the
    broadcast address on the private network. Only while there are no routes at all."""
    if session.scalar(select(Route.id).limit(1)) is not None:
        return []
    made = []
    if site.get("Kickstart_PrivateGateway"):
        routes.add_route(session, Level.GLOBAL, [], "0.0.0.0", site["Kickstart_PrivateGateway"], "0.0.0.0")
        made.append(f"route 0.0.0.0/0.0.0.0 via {site['Kickstart_PrivateGateway']}")
    routes.add_route(session, Level.GLOBAL, [], "224.0.0.0", "private", "255.255.255.0")
    routes.add_route(session, Level.GLOBAL, [], "255.255.255.255", "private", "255.255.255.255")
    made.append("routes 224.0.0.0/255.255.255.0 and 255.255.255.255 on the private network")
    if site.get("Kickstart_PublicGateway"):
        routes.add_route(session, Level.HOST, [frontend], "0.0.0.0", site["Kickstart_PublicGateway"], "0.0.0.0")
        made.append(f"route 0.0.0.0/0.0.0.0 via {site['Kickstart_PublicGateway']} for {frontend}")
    return made


