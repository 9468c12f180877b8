"""Names and addresses for new machines: the one allocator of discovery (insert-ethers) and
bulk import (``load hostfile`` with ``ip=auto``).

Rules (``docs/original-behaviour.md``, the original's insert-ethers, improved where it was
wrong):

* addresses go down from the top of the network (``inc=-1``, the original's order; ``inc=1``
  goes up from the bottom); the first free one is taken, so gaps left by removed hosts fill
  first. ``baseip=A`` starts *at* A — the original's code handed out A+inc first while its
  guide said A; the guide is what users read, so that is what ksserver does. The network and
  broadcast addresses, and every address this frontend or the gateway has, are never given.
* names are ``<basename>-<rack>-<rank>`` from a starting rank upwards; a name already taken
  is skipped — the original stalled on it until someone restarted with another rank.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.db import queries
from ksserver.db.models import Host, Interface, Network
from ksserver.errors import KsError
from ksserver.services import validate


def addresses(net: ipaddress.IPv4Network, taken: Iterable[str], *, inc: int = -1,
              base: str | None = None) -> Iterator[str]:
    """Free addresses of ``net`` in allocation order; ``taken``: addresses in use."""
    if inc == 0:
        raise KsError("inc must not be 0")
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    if base is not None:
        start = int(ipaddress.IPv4Address(base))
        if not first <= start <= last:
            raise KsError(f"baseip {base} is not a host address of {net}")
    else:
        start = last if inc < 0 else first
    used = {validate.ip_number(ip) for ip in taken}
    value = start
    while first <= value <= last:
        if value not in used:
            yield str(ipaddress.IPv4Address(value))
        value += inc


def taken_addresses(session: Session, network: Network) -> set[str]:
    """Every address in use on ``network``, with the gateway's and this frontend's (they may
    not be in the inventory as interfaces)."""
    taken = set(session.scalars(select(Interface.ip).where(Interface.network_id == network.id,
                                                           Interface.ip.is_not(None))))
    attrs = queries.global_attrs(session)
    if network.name == "private":
        for key in ("Kickstart_PrivateGateway", "Kickstart_PrivateAddress", "Kickstart_PrivateKickstartHost",
                    "Kickstart_PrivateDNSServers"):
            taken.update((attrs.get(key) or "").replace(",", " ").split())
    return taken


def network_of(network: Network) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{network.subnet}/{network.netmask}", strict=False)


def names(basename: str, rack: int, rank: int, taken: set[str]) -> Iterator[tuple[str, int]]:
    """(name, rank) from ``rank`` upwards, skipping names in ``taken``."""
    while True:
        name = f"{basename}-{rack}-{rank}"
        if name not in taken:
            yield name, rank
        rank += 1


def taken_names(session: Session) -> set[str]:
    return set(session.scalars(select(Host.name)))


def next_rank(session: Session, appliance_id: int, rack: int) -> int:
    """1 + the highest rank of the appliance's hosts in ``rack`` (0 when there are none)."""
    ranks = session.scalars(select(Host.rank).where(Host.appliance_id == appliance_id, Host.rack == rack))
    return max(ranks, default=-1) + 1
