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
from ksserver.power.transport import LocalCopyTransport, SshTransport, Transport

_REMOTE = re.compile(r"[a-z0-9+]+://([^/]*)/")


def libvirt_driver(container: str, uri: str) -> HypervisorDriver:
    return LibvirtDriver(uri, host=container)


def transport_for(_container: str, uri: str) -> Transport:
    """A hypervisor URI without a remote host (``test:///…``, ``qemu:///system``) runs on
    this machine, so its files are local; otherwise files move over ssh."""
    host = _REMOTE.match(uri)
    if uri.startswith("test:") or (host and host.group(1) in ("", "localhost")):
        return LocalCopyTransport()
    return SshTransport()


@dataclass
class Power:
    """``driver_factory(container, uri)`` and ``transport_factory(container, uri)``."""

    driver_factory: Callable[[str, str], HypervisorDriver] = libvirt_driver
    transport_factory: Callable[[str, str], Transport] = transport_for
