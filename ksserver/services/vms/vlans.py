"""A virtual cluster's VLAN on its containers: made before a VM joins it, gone with the cluster.

The inventory says where a VLAN is: a container's ``vlan<N>`` interface (``add cluster``
adds one on the physical frontend and on each container it uses). ``start host vm`` makes
the bridges its VM's NICs join on that VM's container, ``sync host vlan`` makes every VLAN
of the hosts named (the original's command), ``remove cluster`` removes them from the
containers that no longer carry the VLAN. The kernel work is the power layer's
(``power.Plumbing``); whether a container gets an 802.1Q uplink is its resolved
``vm_vlan_uplink`` attribute (default yes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver.db.models import Interface
from ksserver.services import selection
from ksserver.services.vms.drivers import Drivers
from ksserver.services.vms.specs import devices
from ksserver.truth import NO


def uplink(drivers: Drivers, container_id: int) -> bool:
    drivers.prime([container_id])
    return (drivers.attrs[container_id].get("vm_vlan_uplink") or "yes").strip().lower() not in NO


def ensure(session: Session, drivers: Drivers, container_id: int, vlans: Iterable[int]) -> list[tuple[int, str]]:
    """Make ``vlans``' bridges on a container; [(VLAN, bridge)]."""
    vlans = sorted(set(vlans))
    if not vlans:
        return []
    devs = devices(session, container_id)
    plumbing = drivers.plumbing(container_id)
    up = uplink(drivers, container_id)
    return [(v, plumbing.ensure_vlan(devs.parent(v), v, up)) for v in vlans]


def carried(session: Session, host_ids: Sequence[int]) -> dict[int, list[int]]:
    """Host id → the VLANs its ``vlan<N>`` interfaces carry."""
    out: dict[int, set[int]] = {}
    for hid, vlan in session.execute(
        select(Interface.host_id, Interface.vlan).where(
            Interface.host_id.in_(host_ids), Interface.vlan.is_not(None), Interface.device.like("vlan%"))
    ):
        out.setdefault(hid, set()).add(vlan)
    return {h: sorted(v) for h, v in out.items()}


def sync_host_vlan(session: Session, selectors: Sequence[str], power: hv.Power) -> list[tuple[str, int, str]]:
    """``sync host vlan``: (host, VLAN, bridge) for each VLAN of the hosts named (every host
    carrying a VLAN when none is named)."""
    records = selection.select_hosts(session, selectors, change=False)
    ids = [r.id for r in records]
    vlans = carried(session, ids)
    drivers = Drivers(session, power)
    drivers.prime([h for h in ids if h in vlans])
    names = {r.id: r.name for r in records}
    return [(names[h], v, bridge) for h in ids if h in vlans for v, bridge in ensure(session, drivers, h, vlans[h])]


def remove(session: Session, drivers: Drivers, where: dict[int, list[int]]) -> None:
    """Remove VLANs' bridges from containers: ``where`` maps host id → VLANs, read before
    the rows went."""
    for hid, vlans in where.items():
        devs = devices(session, hid)
        plumbing = drivers.plumbing(hid)
        for v in vlans:
            plumbing.remove_vlan(devs.parent(v), v)
