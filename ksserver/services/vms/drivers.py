"""The hypervisor of each container, reached through the ``power.Power`` a command passes.

One ``Drivers`` per command: it resolves each container's ``libvirt_uri`` once, makes its
driver and transport with the factories given, and reads a VM's state for listings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver.db.models import Host
from ksserver.services import attributes


def _uri_template(attrs: dict[str, str]) -> str:
    return attrs.get("libvirt_uri") or hv.DEFAULT_URI_TEMPLATE


class Drivers:
    """Drivers per container, made once per command."""

    def __init__(self, session: Session, power: hv.Power):
        self.session = session
        self.power = power
        self.cache: dict[int, hv.HypervisorDriver] = {}
        self.attrs: dict[int, dict[str, str]] = {}
        self.names: dict[int, str] = {}

    def prime(self, host_ids: Sequence[int]) -> None:
        need = [h for h in dict.fromkeys(host_ids) if h not in self.attrs]
        if need:
            self.attrs.update(attributes.resolved_values(self.session, need))
            self.names.update(dict(self.session.execute(select(Host.id, Host.name).where(Host.id.in_(need))).all()))

    def uri(self, host_id: int) -> str:
        self.prime([host_id])
        return hv.uri_for(self.names[host_id], _uri_template(self.attrs[host_id]))

    def driver(self, host_id: int) -> hv.HypervisorDriver:
        if host_id not in self.cache:
            self.cache[host_id] = self.power.driver_factory(self.names.get(host_id) or self._name(host_id), self.uri(host_id))
        return self.cache[host_id]

    def transport(self, host_id: int) -> hv.Transport:
        return self.power.transport_factory(self._name(host_id), self.uri(host_id))

    def plumbing(self, host_id: int) -> hv.Plumbing:
        return self.power.plumbing_factory(self._name(host_id), self.uri(host_id))

    def _name(self, host_id: int) -> str:
        self.prime([host_id])
        return self.names[host_id]


def state_of(drivers: Drivers, info) -> str:
    return hv.vm_state(drivers.driver(info.physnode_id), info.name)



