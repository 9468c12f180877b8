"""Libvirt domain XML for a VM, from ``templates/power/domain.xml.j2``.

The spec is a plain dataclass so the service layer can fill it from the DB without this
module knowing about rows.  Xen paravirtualised is the default (the original roll);
``hvm`` and the ``kvm``/``qemu`` domain types exist for fully virtualised guests and
for tests that boot a real VM under QEMU.  Every VM gets a VNC display (autoport) and a
serial/Xen console so ``virt-manager`` or ``virsh console`` shows the installer.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from ksserver.errors import KsError
from ksserver.templating import render

DOMAIN_TYPES = ("xen", "kvm", "qemu")
VIRT_TYPES = ("para", "hvm")
INTERFACE_KINDS = ("bridge", "network", "direct", "user")
BOOT_MODES = ("install", "os", "network")


@dataclass(frozen=True)
class Interface:
    """One NIC.  ``kind``: ``bridge`` (source = bridge name, e.g. ``xenbr0`` or
    ``xenbr.eth0.5``), ``network`` (source = libvirt network), ``direct`` (source = host
    device for macvtap, e.g. ``eth0.5``), ``user`` (QEMU user-mode networking, no
    source; for tests).  ``model``: NIC model; default virtio on kvm/qemu."""

    mac: str
    source: str = ""
    kind: str = "bridge"
    model: str | None = None


@dataclass(frozen=True)
class Disk:
    """One disk.  ``vbd_type``: file, tap:aio, phy (block device), qcow2, qed;
    ``device``: target name (hda, xvda, vda, sda); ``mode``: w, r (read-only) or a
    KVM bus name; ``size_gb`` is informational (the image is created elsewhere)."""

    path: str
    device: str = "hda"
    vbd_type: str = "file"
    mode: str = "w"
    size_gb: int | None = None


@dataclass(frozen=True)
class Boot:
    """``install``: boot ``kernel``/``initrd`` with ``cmdline`` directly (the install
    bootaction; ``file://`` URLs become local paths on the container); ``os``: boot the
    first disk (``bootloader`` for Xen para, e.g. pygrub); ``network``: boot the network
    (PXE), then the first disk (fully virtualised only)."""

    mode: str = "os"
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""
    bootloader: str = "pygrub"


@dataclass(frozen=True)
class DomainSpec:
    name: str
    mem_mb: int = 1024
    cpus: int = 1
    domain_type: str = "xen"
    virt_type: str | None = None  # None: 'para' on xen, 'hvm' on kvm/qemu
    interfaces: tuple[Interface, ...] | list[Interface] = field(default_factory=tuple)
    disks: tuple[Disk, ...] | list[Disk] = field(default_factory=tuple)
    boot: Boot = field(default_factory=Boot)
    vnc_listen: str = "127.0.0.1"
    on_reboot: str | None = None  # None: 'destroy' while installing, else 'restart'
    uuid: str | None = None
    console_log: str | None = None  # also copy the serial/Xen console to this file


def local_path(url: str, what: str, vm: str) -> str:
    """``file:///boot/x`` → ``/boot/x``; a plain absolute path stays; other URLs are an
    error (libvirt needs a file on the container)."""
    url = (url or "").strip()
    if not url:
        return ""
    if url.startswith("/"):
        return url
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return urllib.request.url2pathname(parsed.path)
    raise KsError(
        f"{what} of VM {vm} must be a file:// URL or an absolute path on the container ({url})"
    )


def _bus(spec_domain: str, virt: str, disk: Disk) -> str:
    if spec_domain == "xen" and virt == "para":
        return "xen"
    if disk.mode not in ("w", "r", "ro", "rw", ""):
        return disk.mode  # KVM stores the bus in the mode column (virtio, ide, scsi, sata)
    dev = disk.device
    if dev.startswith("vd"):
        return "virtio"
    if dev.startswith("xvd"):
        return "xen"
    if dev.startswith("sd"):
        return "scsi"
    return "ide"


def _driver(spec_domain: str, disk: Disk) -> tuple[str | None, str | None]:
    """(driver name, driver type) for a disk."""
    t = disk.vbd_type
    if spec_domain == "xen":
        if t == "tap:aio":
            return "tap", "aio"
        if t == "phy":
            return "phy", None
        if t in ("qcow2", "qed"):
            return "qemu", t
        return "file", None
    if t in ("qcow2", "qed"):
        return "qemu", t
    return "qemu", "raw"


def domain_context(spec: DomainSpec) -> dict:
    """Validate a spec and compute everything the template needs."""
    name = (spec.name or "").strip()
    if not name:
        raise KsError("VM name must not be empty")
    if spec.domain_type not in DOMAIN_TYPES:
        raise KsError(
            f"invalid domain type ({spec.domain_type}) for VM {name}: must be one of"
            f" {', '.join(DOMAIN_TYPES)}"
        )
    virt = spec.virt_type or ("para" if spec.domain_type == "xen" else "hvm")
    if virt not in VIRT_TYPES:
        raise KsError(f"invalid virt-type ({virt}) for VM {name}: must be para or hvm")
    if virt == "para" and spec.domain_type != "xen":
        raise KsError(f"{spec.domain_type} supports only 'hvm' virtualization (VM {name})")
    try:
        mem = int(spec.mem_mb)
        cpus = int(spec.cpus)
    except (TypeError, ValueError):
        raise KsError(f"memory and cpus of VM {name} must be integers") from None
    if mem <= 0 or cpus <= 0:
        raise KsError(f"memory and cpus of VM {name} must be positive")
    boot = spec.boot
    if boot.mode not in BOOT_MODES:
        raise KsError(f"invalid boot mode ({boot.mode}) for VM {name}: must be install, os or network")
    if boot.mode == "network" and virt != "hvm":
        raise KsError(f"VM {name} boots from the network: that needs virt-type hvm")
    kernel = initrd = cmdline = ""
    if boot.mode == "install":
        kernel = local_path(boot.kernel, "install kernel", name)
        if not kernel:
            raise KsError(f"VM {name} has no install kernel to boot")
        initrd = local_path(boot.initrd, "install ramdisk", name)
        cmdline = boot.cmdline or ""
    kvm_like = spec.domain_type in ("kvm", "qemu")
    nics = []
    for nic in spec.interfaces:
        if nic.kind not in INTERFACE_KINDS:
            raise KsError(
                f"invalid interface kind ({nic.kind}) for VM {name}: must be one of"
                f" {', '.join(INTERFACE_KINDS)}"
            )
        if nic.kind != "user" and not nic.source:
            raise KsError(f"interface {nic.mac} of VM {name} needs a {nic.kind} name")
        nics.append(
            {
                "mac": nic.mac,
                "kind": nic.kind,
                "source": nic.source,
                "model": nic.model or ("virtio" if kvm_like else None),
            }
        )
    disks = []
    for d in spec.disks:
        drv_name, drv_type = _driver(spec.domain_type, d)
        path = d.path if d.vbd_type != "phy" or d.path.startswith("/") else "/dev/" + d.path
        disks.append(
            {
                "block": d.vbd_type == "phy",
                "path": path,
                "device": d.device,
                "bus": _bus(spec.domain_type, virt, d),
                "driver_name": drv_name,
                "driver_type": drv_type,
                "readonly": d.mode in ("r", "ro"),
            }
        )
    on_reboot = spec.on_reboot or ("destroy" if boot.mode == "install" else "restart")
    if on_reboot not in ("destroy", "restart", "preserve", "rename-restart"):
        raise KsError(f"invalid on_reboot ({on_reboot}) for VM {name}")
    return {
        "name": name,
        "uuid": spec.uuid,
        "domain_type": spec.domain_type,
        "para": virt == "para",
        "hvm": virt == "hvm",
        "mem_mb": mem,
        "cpus": cpus,
        "install": boot.mode == "install",
        "network": boot.mode == "network",
        "kernel": kernel,
        "initrd": initrd,
        "cmdline": cmdline,
        "bootloader": boot.bootloader if (virt == "para" and boot.mode == "os") else "",
        "interfaces": nics,
        "disks": disks,
        "vnc_listen": spec.vnc_listen,
        "on_reboot": on_reboot,
        "console_log": spec.console_log or "",
    }


def render_domain_xml(spec: DomainSpec) -> str:
    """The libvirt ``<domain>`` XML for ``spec`` (every value XML-escaped)."""
    return render("power/domain.xml.j2", **domain_context(spec))
