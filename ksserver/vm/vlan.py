"""VLAN ids for virtual clusters: each cluster's traffic is isolated in its own VLAN.

VLAN 1 is the switch default (untagged) and 4095 is reserved by 802.1Q in hardware, but
Rocks counted 2…4095 and so do we (the upper end matches the original ``vlan=`` check).
"""

from __future__ import annotations

from collections.abc import Iterable

from ksserver.errors import KsError

VLAN_MIN = 2
VLAN_MAX = 4095


def _as_vlan(value: object) -> int:
    if isinstance(value, bool):
        raise KsError(f"vlan must be an integer between {VLAN_MIN} and {VLAN_MAX} ({value})")
    if isinstance(value, int):
        v = value
    else:
        try:
            v = int(str(value).strip())
        except ValueError:
            raise KsError(
                f"vlan must be an integer between {VLAN_MIN} and {VLAN_MAX} ({value})"
            ) from None
    if not VLAN_MIN <= v <= VLAN_MAX:
        raise KsError(f"vlan must be an integer between {VLAN_MIN} and {VLAN_MAX} ({value})")
    return v


def _used(in_use: Iterable[object]) -> set[int]:
    used = set()
    for v in in_use:
        if v is None or isinstance(v, bool):
            continue
        try:
            used.add(int(v))
        except (TypeError, ValueError):
            continue
    return used


def next_free_vlan(in_use: Iterable[object]) -> int:
    """Lowest VLAN id in 2…4095 not in ``in_use`` (``None``/non-numbers are ignored)."""
    used = _used(in_use)
    for v in range(VLAN_MIN, VLAN_MAX + 1):
        if v not in used:
            return v
    raise KsError(f"no free vlan left ({VLAN_MIN}…{VLAN_MAX} are all in use)")


def choose_vlan(in_use: Iterable[object], requested: object = None) -> int:
    """The VLAN for a new cluster: ``requested`` if given (validated, must be free),
    else the next free one."""
    used = _used(in_use)
    if requested is None or (isinstance(requested, str) and not requested.strip()):
        return next_free_vlan(used)
    v = _as_vlan(requested)
    if v in used:
        raise KsError(f"vlan {v} is already in use")
    return v


#: Linux limits interface names to 15 characters (IFNAMSIZ − 1)
IFNAME_MAX = 15


def vlan_devices(parent: str, vlan: object) -> tuple[str, str]:
    """(the VLAN link, its bridge) on a container for VLAN ``vlan`` over its device
    ``parent``: the original's ``<dev>.<vlan>`` and ``xenbr.<dev>.<vlan>``, or, where a
    name would not fit Linux's 15 characters, ``vl<vlan>`` / ``vmbr<vlan>`` (one parent
    carries a container's private network, so the VLAN id alone is unique there)."""
    v = _as_vlan(vlan)
    parent = (parent or "").strip()
    if not parent or any(c in parent for c in "/ \t\n:") or len(parent) > IFNAME_MAX:
        raise KsError(f"invalid network device name ({parent!r}) for vlan {v}")
    link, bridge = f"{parent}.{v}", f"xenbr.{parent}.{v}"
    if len(link) > IFNAME_MAX:
        link = f"vl{v}"
    if len(bridge) > IFNAME_MAX:
        bridge = f"vmbr{v}"
    return link, bridge
