"""VM disks: where the image goes and how a disk spec string reads.

A VM's disk image lives on the largest partition of its physical host (that is where
the space is).  Disk specs use the original's ``type:path,device,mode`` notation, e.g.
``file:/state/partition1/xen/disks/hosted-vm-0-0-0.hda,hda,w``; for ``phy`` the path
is a device and is kept whole, otherwise it is split into directory and file name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ksserver.errors import KsError

VBD_TYPES = ("file", "tap:aio", "phy", "qcow2", "qed")

_UNITS_MB = {"": 1.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0**2, "P": 1024.0**3}
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([KMGTP]?)(?:I?B)?\s*\Z", re.I)


def parse_size_mb(size: object) -> float | None:
    """``'36.0GB'`` → 36864.0, ``'512MB'`` → 512.0, ``'1.2TB'``, plain numbers are MB.
    Unparseable → ``None``."""
    if size is None or isinstance(size, bool):
        return None
    if isinstance(size, (int, float)):
        return float(size)
    m = _SIZE_RE.match(str(size))
    if not m:
        return None
    return float(m.group(1)) * _UNITS_MB[m.group(2).upper()]


def _record(rec: object) -> tuple[object, object, object]:
    if isinstance(rec, Mapping):
        return rec.get("device"), rec.get("mountpoint"), rec.get("size")
    if isinstance(rec, (tuple, list)) and len(rec) == 3:
        return rec[0], rec[1], rec[2]
    if all(hasattr(rec, a) for a in ("device", "mountpoint", "size")):
        return rec.device, rec.mountpoint, rec.size  # type: ignore[attr-defined]
    raise KsError(f"partition record must be (device, mountpoint, size): {rec!r}")


def largest_partition(partitions: Iterable[object]) -> str | None:
    """Mount point of the largest usable partition, or ``None``.

    Records are ``(device, mountpoint, size)`` tuples, mappings or objects with those
    fields.  Unusable: mount point empty, ``swap`` or not absolute; size unparseable.
    Ties go to the alphabetically first mount point, so the answer does not depend on
    row order.
    """
    best: tuple[float, str] | None = None
    for rec in partitions:
        _dev, mount, size = _record(rec)
        mount = (str(mount) if mount is not None else "").strip()
        if not mount or mount == "swap" or not mount.startswith("/"):
            continue
        mb = parse_size_mb(size)
        if mb is None:
            continue
        if best is None or mb > best[0] or (mb == best[0] and mount < best[1]):
            best = (mb, mount)
    return best[1] if best else None


@dataclass(frozen=True)
class DiskSpec:
    """One VM disk: ``vbd_type`` file|tap:aio|phy (KVM: qcow2, qed), ``prefix`` (directory,
    '' for phy), ``name`` (file name, or device path for phy), ``device`` (hda, xvda,
    vda…), ``mode`` (w, r; KVM: a bus name such as virtio)."""

    vbd_type: str
    prefix: str
    name: str
    device: str
    mode: str

    @property
    def path(self) -> str:
        """Full path of the image (or the device for phy)."""
        if self.vbd_type == "phy":
            return self.name if self.name.startswith("/") else "/dev/" + self.name
        return posixpath.join(self.prefix, self.name) if self.prefix else self.name


def parse_disk_spec(spec: str) -> DiskSpec:
    """``'file:/state/partition1/xen/disks/x.hda,hda,w'`` → DiskSpec."""
    text = str(spec).strip()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise KsError(f"invalid disk spec ({spec}): expected type:path,device,mode")
    source, device, mode = parts
    vbd_type, sep, path = source.rpartition(":")
    if not sep or not vbd_type or not path:
        raise KsError(f"invalid disk spec ({spec}): expected type:path,device,mode")
    if vbd_type not in VBD_TYPES:
        raise KsError(
            f"invalid disk type ({vbd_type}) in disk spec ({spec}):"
            f" must be one of {', '.join(VBD_TYPES)}"
        )
    if vbd_type == "phy":
        return DiskSpec(vbd_type, "", path, device, mode)
    prefix, name = posixpath.split(path)
    if not name:
        raise KsError(f"invalid disk spec ({spec}): path names a directory")
    return DiskSpec(vbd_type, prefix, name, device, mode)


def format_disk_spec(disk: DiskSpec) -> str:
    """DiskSpec → ``type:prefix/name,device,mode`` (the ``list host vm`` notation)."""
    if disk.vbd_type == "phy":
        path = disk.name
    else:
        path = posixpath.join(disk.prefix, disk.name) if disk.prefix else disk.name
    return f"{disk.vbd_type}:{path},{disk.device},{disk.mode}"


def default_disk_spec(largest: str | None, vm: str, host: str = "", kind: str = "xen") -> DiskSpec:
    """The default disk of a new VM on a host whose largest partition is ``largest``:
    ``file:<largest>/xen/disks/<vm>.hda,hda,w`` (KVM: ``…/kvm/disks/<vm>.vda,vda,virtio``)."""
    if not largest:
        raise KsError(f"could not find a partition on host ({host}) to hold the VM's disk image")
    if kind == "kvm":
        return DiskSpec("file", posixpath.join(largest, "kvm", "disks"), f"{vm}.vda", "vda", "virtio")
    return DiskSpec("file", posixpath.join(largest, "xen", "disks"), f"{vm}.hda", "hda", "w")


def default_save_path(largest: str | None, vm: str, host: str = "", kind: str = "xen") -> str:
    """Where ``save host vm`` writes a VM's memory by default:
    ``<largest partition>/xen/disks/<vm>.saved``."""
    if not largest:
        raise KsError(f"could not find a partition on host ({host}) to hold the VM's saved state")
    return posixpath.join(largest, "kvm" if kind == "kvm" else "xen", "disks", f"{vm}.saved")
