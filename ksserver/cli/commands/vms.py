"""Virtual clusters, VM records, partitions and VM power control.

``add cluster`` / ``remove cluster`` / ``list cluster``; ``list|set|remove|dump|report
host vm``; ``start|stop|pause|resume|save|restore|move host vm``; ``add|list|remove host
partition`` (where VM disk images go). The work is in ``ksserver.services.vms``.
"""

import sys

from ksserver.cli.framework import Table, command, truthy
from ksserver.power import ProgressRenderer
from ksserver.services import transaction, vms


def _lines(lines) -> str:
    return "".join(line + "\n" for line in lines)


@command(
    "add cluster",
    "fqdn ip num-computes",
    ("container-hosts", "cpus-per-compute", "disk-per-compute", "disk-per-frontend", "mem-per-compute", "vlan"),
)
def add_cluster(fqdn, ip, num_computes=None, container_hosts=None, cpus_per_compute=None, disk_per_compute=None,
                disk_per_frontend=None, mem_per_compute=None, vlan=None, **kw):
    """Add a virtual cluster: a VM frontend on this frontend and compute VMs on the containers."""
    num_computes = kw.get("num-computes", num_computes)
    with transaction() as session:
        lines = vms.add_cluster(
            session, fqdn, ip, num_computes,
            container_hosts=container_hosts, cpus_per_compute=cpus_per_compute, disk_per_compute=disk_per_compute,
            disk_per_frontend=disk_per_frontend, mem_per_compute=mem_per_compute, vlan=vlan,
        )
    return _lines(lines)


@command("remove cluster", "frontend+")
def remove_cluster(frontend):
    """Remove virtual clusters (named by their VM frontends): VMs, VLANs and libvirt domains."""
    with transaction() as session:
        vms.remove_cluster(session, frontend)


@command("list cluster", "frontend*", ("status",), json=True)
def list_cluster(frontend, status=None):
    """Each frontend with its client nodes, physical or VM (status=y: libvirt state)."""
    st = truthy(status)
    with transaction() as session:
        rows = vms.list_clusters(session, frontend, status=st)
    header = ["FRONTEND", "CLIENT NODES", "TYPE"] + (["STATUS"] if st else [])
    return Table(header, rows, trim_owner=False)


@command("list host vm", "host*", ("status", "showdisks"), json=True)
def list_host_vm(host, status=None, showdisks=None):
    """VMs: slice, memory, CPUs, MACs, container (status=y, showdisks=y)."""
    st, sd = truthy(status), truthy(showdisks)
    with transaction() as session:
        rows = vms.list_vms(session, host, status=st, showdisks=sd)
    return Table(vms.vm_header(st, sd), rows)


@command("set host vm", "host", ("disk", "disksize", "mem", "cpus", "physnode", "slice", "virt-type"))
def set_host_vm(host, **fields):
    """Change one VM's disks, memory, CPUs, container, slice or virtualisation type."""
    with transaction() as session:
        vms.set_vm(session, host, **fields)


@command("remove host vm", "host+")
def remove_host_vm(host):
    """Forget the VM records of hosts and undefine their libvirt domains (the hosts stay)."""
    with transaction() as session:
        vms.remove_vms(session, host)


@command("dump host vm", "host*")
def dump_host_vm(host):
    """Commands that recreate the VM records."""
    with transaction() as session:
        return vms.dump_vms(session, host)


@command("report host vm", "host")
def report_host_vm(host):
    """The VM's Xen boot configuration (bootKernel, installArgs, disk…)."""
    with transaction() as session:
        return vms.xen_config(session, host)


@command("report host vm config", "host")
def report_host_vm_config(host):
    """The libvirt domain XML that `start host vm` defines."""
    with transaction() as session:
        return vms.domain_xml(session, host)


@command("start host vm", "host+", aliases=("create host vm",))
def start_host_vm(host):
    """Define and boot VMs (install kernel while set to install, else the disk)."""
    with transaction() as session:
        vms.start_vms(session, host)


@command("stop host vm", "host+")
def stop_host_vm(host):
    """Destroy VMs: pull the power cord."""
    with transaction() as session:
        vms.stop_vms(session, host)


@command("pause host vm", "host+")
def pause_host_vm(host):
    """Keep VMs in memory but stop scheduling them."""
    with transaction() as session:
        vms.pause_vms(session, host)


@command("resume host vm", "host+")
def resume_host_vm(host):
    """Resume paused VMs."""
    with transaction() as session:
        vms.resume_vms(session, host)


@command("save host vm", "host+", ("file",))
def save_host_vm(host, file=None):
    """Write VMs' memory to a file on their container and release them."""
    with transaction() as session:
        vms.save_vms(session, host, file=file)


@command("restore host vm", "host+", ("file",))
def restore_host_vm(host, file=None):
    """Bring saved VMs back."""
    with transaction() as session:
        vms.restore_vms(session, host, file=file)


@command("move host vm", "host container", ("file",))
def move_host_vm(host, container, file=None):
    """Move a VM to another container (save, copy disks, restore), with progress on stderr."""
    renderer = ProgressRenderer(sys.stderr)
    try:
        with transaction() as session:
            result = vms.move_vm(session, host, container, file=file, progress=renderer)
    finally:
        renderer.close()
    return _lines(f"warning - {w}" for w in result.warnings) or None


@command("add host partition", "host device", ("mountpoint", "size", "fstype"))
def add_host_partition(host, device, mountpoint=None, size=None, fstype=None):
    """Record a disk partition of a host (VM disk images go on the largest one)."""
    with transaction() as session:
        vms.add_partition(session, host, device, mountpoint=mountpoint, size=size, fstype=fstype)


@command("list host partition", "host*", json=True)
def list_host_partition(host):
    """Partitions of hosts: device, mount point, size, file system."""
    with transaction() as session:
        rows = vms.list_partitions(session, host)
    return Table(["HOST", "DEVICE", "MOUNTPOINT", "SIZE", "FSTYPE"], rows)


@command("remove host partition", "host device?")
def remove_host_partition(host, device=None):
    """Remove one partition record of a host, or all of them."""
    with transaction() as session:
        vms.remove_partitions(session, host, device)
