"""The power layer: the only place in ksserver that talks to a hypervisor.

Everything that starts, stops, pauses, saves, restores or moves a VM goes through a
:class:`~ksserver.power.driver.HypervisorDriver` (libvirt in production, libvirt's
``test:///default`` plus fault-injecting fakes in tests), so the rest of the code
(services, CLI, web) never imports libvirt and every hypervisor failure surfaces as a
one-line :class:`~ksserver.errors.KsError` naming the VM and its container.  The DB is
not touched here: callers pass plain values in (a DomainSpec, paths, a driver).
"""

from ksserver.power.access import Power
from ksserver.power.domain import Boot, Disk, DomainSpec, Interface, render_domain_xml
from ksserver.power.driver import (
    ACTIVE,
    CRASHED,
    DEFAULT_URI_TEMPLATE,
    HAVE_DEFINE_VALIDATE,
    NOSTATE,
    PAUSED,
    SHUTDOWN,
    SHUTOFF,
    STATES,
    HypervisorDriver,
    LibvirtDriver,
    close_all,
    uri_for,
)
from ksserver.power.ops import (
    MoveResult,
    ensure_disks,
    move_vm,
    pause_vm,
    restore_vm,
    resume_vm,
    save_vm,
    start_vm,
    stop_vm,
    vm_state,
)
from ksserver.power.plumbing import NetlinkPlumbing, Plumbing, SshPlumbing
from ksserver.power.progress import Progress, ProgressRenderer
from ksserver.power.transport import LocalCopyTransport, SshTransport, Transport
from ksserver.power.xencfg import XenVmConfig, render_xen_config

__all__ = [
    "ACTIVE", "CRASHED", "DEFAULT_URI_TEMPLATE", "HAVE_DEFINE_VALIDATE", "NOSTATE",
    "PAUSED", "SHUTDOWN", "SHUTOFF", "STATES",
    "Boot", "Disk", "DomainSpec", "HypervisorDriver", "Interface", "LibvirtDriver",
    "LocalCopyTransport", "MoveResult", "NetlinkPlumbing", "Plumbing", "Power", "Progress", "ProgressRenderer", "SshPlumbing", "SshTransport",
    "Transport", "XenVmConfig",
    "close_all", "ensure_disks", "move_vm", "pause_vm", "render_domain_xml", "render_xen_config",
    "restore_vm", "resume_vm", "save_vm", "start_vm", "stop_vm", "uri_for", "vm_state",
]
