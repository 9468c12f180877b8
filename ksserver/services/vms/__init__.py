"""Virtual clusters and VM power control, by idea.

* ``records``: which hosts are VMs, their disks' directories, ``list|set|dump host vm``;
* ``clusters``: ``add|list|remove cluster`` (plan everything from bulk reads, then write);
* ``specs``: a VM's records as the power layer's plain values (domain XML, Xen config);
* ``drivers`` and ``lifecycle``: start, stop, pause, resume, save, restore, move;
* ``vlans``: a virtual cluster's VLAN bridges on its containers.

Rule: every function that reaches a hypervisor takes the ``power.Power`` to reach it with
(production passes libvirt, tests pass fakes the same way); a hypervisor change that fails
leaves the hypervisor as it was and raises, so the command's transaction undoes the rest.
"""

from ksserver.services.vms.clusters import add_cluster, cluster_rows, cluster_tree, remove_cluster
from ksserver.services.vms.lifecycle import (
    check_move,
    move_vm,
    pause_vms,
    remove_vm_domains,
    remove_vms,
    restore_vms,
    resume_vms,
    save_vms,
    start_vms,
    stop_vms,
)
from ksserver.services.vms.records import dump_vms, list_vms, set_vm
from ksserver.services.vms.specs import domain_xml, xen_config
from ksserver.services.vms.vlans import sync_host_vlan

__all__ = [
    "add_cluster", "check_move", "cluster_rows", "cluster_tree", "domain_xml", "dump_vms", "list_vms", "move_vm", "pause_vms",
    "remove_cluster", "remove_vm_domains", "remove_vms", "restore_vms", "resume_vms", "save_vms",
    "set_vm", "start_vms", "stop_vms", "sync_host_vlan", "xen_config",
]
