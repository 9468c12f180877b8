"""VM MAC addresses: a per-cluster base derived from the frontend's public IP.

Why: two virtual clusters on different physical frontends must never hand out the same
MAC (the 2009 Rocks bug this scheme fixed).  The most unique part of an IPv4 address is
its last octet, so it goes first; the multicast bit is cleared and the locally
administered bit set so the MACs can never clash with real NICs.  The top 26 bits are
the base (mask ``ff:ff:ff:c0:00:00``), leaving a 22-bit counter per cluster.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from ksserver.errors import KsError

MAC_MASK = "ff:ff:ff:c0:00:00"
_MAC_BITS = 48


def parse_mac(mac: str) -> int:
    """``'76:77:6e:80:00:01'`` → 48-bit integer (also accepts unpadded octets, any case)."""
    text = str(mac).strip()
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise KsError(f"invalid MAC address ({mac})")
    value = 0
    for part in parts:
        try:
            octet = int(part, 16)
        except ValueError:
            raise KsError(f"invalid MAC address ({mac})") from None
        if not 0 <= octet <= 0xFF or not 1 <= len(part) <= 2:
            raise KsError(f"invalid MAC address ({mac})")
        value = (value << 8) | octet
    return value


def format_mac(value: int) -> str:
    """48-bit integer → lower-case, zero-padded ``aa:bb:cc:dd:ee:ff``."""
    if not 0 <= value < (1 << _MAC_BITS):
        raise KsError(f"MAC value out of range ({value})")
    return ":".join(f"{(value >> shift) & 0xFF:02x}" for shift in range(40, -8, -8))


def mac_base(public_ip: str) -> str:
    """The VM MAC base for a physical frontend whose public IPv4 address is ``a.b.c.d``.

    Drop ``a``, reverse → (d, c, b); the two low bits of ``d`` displaced by the
    multicast/local bits move to the top of octet 4.
    """
    try:
        addr = ipaddress.IPv4Address(str(public_ip).strip())
    except ValueError:
        raise KsError(f"invalid IPv4 address for the VM MAC base ({public_ip})") from None
    _a, b, c, d = addr.packed
    low2 = d & 0b11
    first = (d & ~0b11 & 0xFF) | 0b10  # locally administered set, multicast clear
    return ":".join(f"{o:02x}" for o in (first, c, b, low2 << 6, 0, 0))


def mac_matches(mac: str, base: str, mask: str = MAC_MASK) -> bool:
    """True when ``mac`` lies in the block ``base``/``mask``."""
    m = parse_mac(mask)
    return (parse_mac(mac) & m) == (parse_mac(base) & m)


def next_macs(
    base: str, in_use: Iterable[str | None], n: int = 1, mask: str = MAC_MASK
) -> list[str]:
    """The next ``n`` free MACs of the block: numeric max of the in-use MACs inside the
    block, plus 1, 2, …; an empty block starts at the base itself.

    In-use values that are empty, ``None`` or outside the block are ignored (a
    malformed one is an error: the caller's data is broken).
    """
    if n < 0:
        raise KsError(f"number of MACs must not be negative ({n})")
    base_v, mask_v = parse_mac(base), parse_mac(mask)
    prefix = base_v & mask_v
    highest = None
    for mac in in_use:
        if mac is None or not str(mac).strip():
            continue
        v = parse_mac(mac)
        if (v & mask_v) == prefix and (highest is None or v > highest):
            highest = v
    start = prefix if highest is None else highest + 1
    last = start + n - 1
    if n and (last & mask_v) != prefix:
        raise KsError(
            f"no free VM MAC address left in {format_mac(prefix)}/{mask}"
            f" ({n} requested)"
        )
    return [format_mac(v) for v in range(start, start + n)]
