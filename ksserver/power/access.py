"""How the service layer reaches hypervisors and moves files: one object, passed in.

Production passes ``Power()`` (libvirt, and scp or local copies); tests pass a ``Power``
whose factories make fakes (``FaultyDriver``, ``FailingTransport``) the same way. Nothing
is swapped in a global.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ksserver.power.driver import HypervisorDriver, LibvirtDriver
from ksserver.power.fakes import RecordingPlumbing
from ksserver.power.plumbing import NetlinkPlumbing, Plumbing, SshPlumbing
from ksserver.power.transport import LocalCopyTransport, SshTransport, Transport

_REMOTE = re.compile(r"[a-z0-9+]+://([^/]*)/")


def libvirt_driver(container: str, uri: str) -> HypervisorDriver:
    return LibvirtDriver(uri, host=container)


def is_local(uri: str) -> bool:
    """A hypervisor URI without a remote host (``test:///…``, ``qemu:///system``,
    ``qemu+unix:///system?socket=…``) is this machine."""
    host = _REMOTE.match(uri)
    return uri.startswith("test:") or bool(host and host.group(1) in ("", "localhost"))


def transport_for(_container: str, uri: str) -> Transport:
    """Files of a local container are local; otherwise they move over ssh."""
    return LocalCopyTransport() if is_local(uri) else SshTransport()


def plumbing_for(container: str, uri: str) -> Plumbing:
    """A container's VLAN bridges: over netlink here, over ssh on another machine; none
    for libvirt's test driver, whose VMs have no NICs to plug in."""
    if uri.startswith("test:"):
        return RecordingPlumbing(container)
    return NetlinkPlumbing(container) if is_local(uri) else SshPlumbing(container)


@dataclass
class Power:
    """``driver_factory(container, uri)``, ``transport_factory(container, uri)`` and
    ``plumbing_factory(container, uri)``."""

    driver_factory: Callable[[str, str], HypervisorDriver] = libvirt_driver
    transport_factory: Callable[[str, str], Transport] = transport_for
    plumbing_factory: Callable[[str, str], Plumbing] = plumbing_for
