"""Virtual clusters, VM records and VM power control (the work is in ``services.vms``)."""

import sys

from ksserver.cli.results import Table, lines
from ksserver.services import views, vms
from ksserver.truth import is_yes


def add_cluster(session, fqdn, ip, num_computes, container_hosts=None, cpus_per_compute=None, disk_per_compute=None,
                disk_per_frontend=None, mem_per_compute=None, vlan=None):
    return lines(vms.add_cluster(
        session, fqdn, ip, num_computes,
        container_hosts=container_hosts, cpus_per_compute=cpus_per_compute, disk_per_compute=disk_per_compute,
        disk_per_frontend=disk_per_frontend, mem_per_compute=mem_per_compute, vlan=vlan,
    ))


def remove_cluster(session, frontend, power):
    vms.remove_cluster(session, frontend, power)


def list_cluster(session, frontend, power, status=None):
    st = is_yes(status)
    tree = vms.cluster_tree(session, frontend, power if st else None)
    return Table(["FRONTEND", "CLIENT NODES", "TYPE"] + (["STATUS"] if st else []), vms.cluster_rows(tree),
                 trim_owner=False, records=tree)


def list_host_vm(session, host, power, status=None, showdisks=None):
    st, sd = is_yes(status), is_yes(showdisks)
    return Table(views.vm_view(st, sd).header, vms.list_vms(session, host, power if st else None, showdisks=sd))


def set_host_vm(session, host, **fields):
    vms.set_vm(session, host, **fields)


def remove_host_vm(session, host, power):
    vms.remove_vms(session, host, power)


def dump_host_vm(session, host):
    return vms.dump_vms(session, host)


def report_host_vm(session, host):
    return vms.xen_config(session, host)


def report_host_vm_config(session, host):
    return vms.domain_xml(session, host)


def start_host_vm(session, host, power):
    vms.start_vms(session, host, power)


def sync_host_vlan(session, host, power):
    return Table(["HOST", "VLAN", "BRIDGE"], vms.sync_host_vlan(session, host, power))


def stop_host_vm(session, host, power):
    vms.stop_vms(session, host, power)


def pause_host_vm(session, host, power):
    vms.pause_vms(session, host, power)


def resume_host_vm(session, host, power):
    vms.resume_vms(session, host, power)


def save_host_vm(session, host, power, file=None):
    vms.save_vms(session, host, power, file=file)


def restore_host_vm(session, host, power, file=None):
    vms.restore_vms(session, host, power, file=file)


def move_host_vm(session, host, container, power, file=None):
    from ksserver.power import ProgressRenderer

    renderer = ProgressRenderer(sys.stderr)
    try:
        result = vms.move_vm(session, host, container, power, file=file, progress=renderer)
    finally:
        renderer.close()
    return lines(f"warning - {w}" for w in result.warnings) or None
