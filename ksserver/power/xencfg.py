"""The original roll's per-VM Xen boot config (``rocks report host vm``).

Rocks wrote this ``key = value`` file to ``<container>:/etc/xen/rocks/<vm>``, where its
``rocks-pygrub`` bootloader read it to decide between the install kernel (while
``forceInstall = yes``) and the OS.  ksserver boots VMs through libvirt directly, but
keeps the report so the output of ``report host vm`` stays what Rocks users know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ksserver import outputs
from ksserver.errors import KsError
from ksserver.templating import render
from ksserver.vm.disks import DiskSpec


@dataclass(frozen=True)
class XenVmConfig:
    """Values of one VM's Xen config.  ``boot_*`` come from the VM's run action,
    ``install_*`` from its install action; ``ip``/``netmask``/``dns``/``gateway`` are
    appended to the install arguments when set (Rocks 5.4: frontend VMs only, public
    address, first DNS server).  ``disks`` pairs each disk with its size in GB."""

    name: str
    boot_kernel: str = ""
    boot_ramdisk: str = ""
    boot_args: str = ""
    install_kernel: str = ""
    install_ramdisk: str = ""
    install_args: str = ""
    ip: str | None = None
    netmask: str | None = None
    dns: str | None = None
    gateway: str | None = None
    disks: tuple[tuple[DiskSpec, int | None], ...] | list = field(default_factory=tuple)
    force_install: bool = False


def _clean(value: object, key: str, vm: str) -> str:
    """One ``key = value`` line (``outputs.boot_line``)."""
    text = "" if value is None else str(value)
    try:
        return outputs.boot_line(text, f"{key} of VM {vm}").strip()
    except KsError:
        raise KsError(f"{key} of VM {vm} must not contain a line break or a control character") from None


def install_args_line(cfg: XenVmConfig) -> str:
    """Install arguments plus the ``ip= netmask= dns= gateway=`` network suffix."""
    parts = [_clean(cfg.install_args, "installArgs", cfg.name)]
    for key in ("ip", "netmask", "dns", "gateway"):
        value = _clean(getattr(cfg, key), key, cfg.name)
        if value:
            parts.append(f"{key}={value}")
    return " ".join(p for p in parts if p)


def xen_config_context(cfg: XenVmConfig) -> dict:
    n = cfg.name
    disks = []
    for disk, size in cfg.disks:
        path = "/dev/" + disk.name.removeprefix("/dev/") if disk.vbd_type == "phy" else disk.path
        disks.append({"path": _clean(path, "disk", n), "size": "" if size is None else int(size)})
    return {
        "boot_kernel": _clean(cfg.boot_kernel, "bootKernel", n),
        "boot_ramdisk": _clean(cfg.boot_ramdisk, "bootRamdisk", n),
        "boot_args": _clean(cfg.boot_args, "bootArgs", n),
        "install_kernel": _clean(cfg.install_kernel, "installKernel", n),
        "install_ramdisk": _clean(cfg.install_ramdisk, "installRamdisk", n),
        "install_args": install_args_line(cfg),
        "disks": disks,
        "force_install": cfg.force_install,
    }


def render_xen_config(cfg: XenVmConfig) -> str:
    """The ``key = value`` text of ``report host vm``."""
    return render("power/xen-vm.cfg.j2", **xen_config_context(cfg))
