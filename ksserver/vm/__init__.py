"""Pure allocation rules for virtual clusters: MACs, VLANs, placement, names, disks.

Rule of this package: plain values in, plain values out.  Nothing here touches the
database, a hypervisor or the file system, so ``add cluster`` / ``add host vm`` can be
planned (and unit-tested) completely before the service layer writes a single row.
Bad input raises :class:`ksserver.errors.KsError` with a one-line message.
"""

from ksserver.vm.disks import (
    DiskSpec,
    default_disk_spec,
    default_save_path,
    format_disk_spec,
    largest_partition,
    parse_disk_spec,
    parse_size_mb,
)
from ksserver.vm.mac import (
    MAC_MASK,
    format_mac,
    mac_base,
    mac_matches,
    next_macs,
    parse_mac,
)
from ksserver.vm.naming import vm_name, choose_vm_name
from ksserver.vm.placement import round_robin
from ksserver.vm.vlan import VLAN_MAX, VLAN_MIN, choose_vlan, next_free_vlan, vlan_devices

__all__ = [
    "DiskSpec",
    "MAC_MASK",
    "VLAN_MAX",
    "VLAN_MIN",
    "choose_vlan",
    "choose_vm_name",
    "default_disk_spec",
    "default_save_path",
    "format_disk_spec",
    "format_mac",
    "largest_partition",
    "mac_base",
    "mac_matches",
    "next_free_vlan",
    "next_macs",
    "parse_disk_spec",
    "parse_mac",
    "parse_size_mb",
    "round_robin",
    "vlan_devices",
    "vm_name",
]
