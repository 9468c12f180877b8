"""What a VM's records say to the power layer: its libvirt domain and its Xen config.

The translation from the inventory (the VM's host, interfaces, disks, bootactions and
attributes) to the power layer's plain values (``power.DomainSpec``, ``power.XenVmConfig``)
— the only place that knows both.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import power as hv
from ksserver import vm
from ksserver.db.models import Bootaction, Host, Interface, Network, VMDisk
from ksserver.errors import KsError
from ksserver.services import attributes, bootfiles
from ksserver.services.vms.records import VMInfo, vm_of


@dataclass
class VMBoot:
    info: VMInfo
    host: Host
    attrs: dict[str, str]
    disks: list[VMDisk]
    ifaces: list[Interface]


def load(session: Session, info: VMInfo) -> VMBoot:
    host = session.get(Host, info.host_id)
    attrs = attributes.resolved_values(session, [info.host_id])[info.host_id]
    disks = session.scalars(select(VMDisk).where(VMDisk.vm_node_id == info.vm_node_id).order_by(VMDisk.id)).all()
    ifaces = session.scalars(select(Interface).where(Interface.host_id == info.host_id).order_by(Interface.device)).all()
    return VMBoot(info, host, attrs, list(disks), list(ifaces))


def _bootaction(session: Session, action: str | None, vm_name: str, what: str) -> Bootaction | None:
    if not action:
        return None
    row = session.scalar(select(Bootaction).where(Bootaction.action == action))
    if row is None:
        raise KsError(f'bootaction "{action}" ({what} action of VM {vm_name}) does not exist: add it with `add bootaction`')
    return row


def _ks_url(attrs: dict[str, str]) -> str:
    host = attrs.get("Kickstart_PrivateKickstartHost") or attrs.get("Kickstart_PrivateAddress") or "localhost"
    return f"http://{host}/install/sbin/kickstart.cgi"


def _network_suffix(b: VMBoot) -> dict[str, str | None]:
    """Rocks 5.4: frontend VMs install with their public address on the command line."""
    if b.info.appliance != "frontend":
        return {}
    pub = next((i for i in b.ifaces if i.network and i.network.name == "public" and i.ip), None)
    if pub is None:
        return {}
    dns = (b.attrs.get("Kickstart_PublicDNSServers") or "").replace(",", " ").split()
    return {
        "ip": pub.ip,
        "netmask": pub.network.netmask,
        "dns": dns[0] if dns else None,
        "gateway": b.attrs.get("Kickstart_PublicGateway"),
    }


def disk_specs(b: VMBoot) -> list[vm.DiskSpec]:
    return [vm.DiskSpec(d.vbd_type, d.prefix, d.name, d.device, d.mode) for d in b.disks]


def xen_config(session: Session, host: str) -> str:
    """``report host vm``: the original's per-VM boot config (docs/original-behaviour.md §5.4)."""
    b = load(session, vm_of(session, host))
    run = _bootaction(session, b.host.runaction, b.info.name, "run") if b.host.runaction else None
    inst = _bootaction(session, b.host.installaction, b.info.name, "install") if b.host.installaction else None
    cfg = hv.XenVmConfig(
        name=b.info.name,
        boot_kernel=(run.kernel or "") if run else "",
        boot_ramdisk=(run.ramdisk or "") if run else "",
        boot_args=(run.args or "") if run else "",
        install_kernel=(inst.kernel or "") if inst else "",
        install_ramdisk=(inst.ramdisk or "") if inst else "",
        install_args=(inst.args or "") if inst else "",
        disks=[(s, d.size) for s, d in zip(disk_specs(b), b.disks)],
        force_install=b.host.boot_action == "install",
        **_network_suffix(b),
    )
    return hv.render_xen_config(cfg)


@dataclass
class Devices:
    """A container's network devices, as its interface rows say."""

    plain: dict[int | None, str]  # network id → its first plain device there
    vlan_nets: dict[int, int | None]  # VLAN id → network of its interface carrying it
    private: int | None

    def on(self, network_id: int | None) -> str:
        return self.plain.get(network_id) or "eth0"

    def parent(self, vlan: int) -> str:
        """The device a VLAN rides on: the plain device on the network of the interface
        carrying that VLAN (the original's rule), else on the private network."""
        return self.on(self.vlan_nets.get(vlan, self.private))


def devices(session: Session, container_id: int) -> Devices:
    plain: dict[int | None, str] = {}
    vlan_nets: dict[int, int | None] = {}
    for net_id, dev, vlan_id in session.execute(
        select(Interface.network_id, Interface.device, Interface.vlan)
        .where(Interface.host_id == container_id)
        .order_by(Interface.device)
    ):
        if vlan_id:
            vlan_nets.setdefault(vlan_id, net_id)
        elif not dev.startswith("vlan"):
            plain.setdefault(net_id, dev)
    return Devices(plain, vlan_nets, session.scalar(select(Network.id).where(Network.name == "private")))


def vlan_ports(b: VMBoot) -> list[int]:
    """The VLANs whose bridges a VM's NICs join on its container (none unless
    ``vm_network`` is ``bridge``)."""
    if (b.attrs.get("vm_network") or "bridge").strip() != "bridge":
        return []
    return sorted({i.vlan for i in b.ifaces if i.mac and i.vlan})


def _boot(session: Session, b: VMBoot, domain_type: str) -> hv.Boot:
    """A frontend VM installs from the kernel on its command line (the physical frontend
    installs it); any other fully virtualised VM boots the network, then its disk: its
    installs come from whichever frontend answers DHCP on its network (a virtual cluster's
    own frontend), as the original's KVM roll did. Paravirtualised Xen VMs have no network
    boot and keep the install kernel."""
    info = b.info
    hvm = (info.virt_type or ("para" if domain_type == "xen" else "hvm")) == "hvm"
    if hvm and info.appliance != "frontend":
        return hv.Boot("network")
    if b.host.boot_action != "install":
        return hv.Boot("os")
    ba = _bootaction(session, b.host.installaction, info.name, "install")
    if ba is None:
        raise KsError(f"VM {info.name} is set to install but has no install action")
    cmdline = bootfiles.install_args(ba.args, b.host.install_token, _ks_url(b.attrs))
    extra = " ".join(f"{k}={v}" for k, v in _network_suffix(b).items() if v)
    cmdline = f"{cmdline} {extra}".strip() if extra else cmdline
    return hv.Boot("install", ba.kernel or "", ba.ramdisk or "", cmdline)


def domain_spec(session: Session, b: VMBoot) -> hv.DomainSpec:
    info, attrs = b.info, b.attrs
    domain_type = attrs.get("vm_domain_type") or "xen"
    bootspec = _boot(session, b, domain_type)
    network = (attrs.get("vm_network") or "bridge").strip()
    devs = devices(session, info.physnode_id)
    nics = []
    for i in b.ifaces:
        if not i.mac:
            continue
        if network == "user":
            nics.append(hv.Interface(i.mac, kind="user"))
        elif network == "bridge" and i.vlan:
            nics.append(hv.Interface(i.mac, vm.vlan_devices(devs.parent(i.vlan), i.vlan)[1]))
        elif network == "bridge":
            nics.append(hv.Interface(i.mac, f"xenbr.{devs.on(i.network_id)}"))
        else:
            nics.append(hv.Interface(i.mac, network, kind="network"))
    console_dir = (attrs.get("vm_console_log") or "").strip()
    return hv.DomainSpec(
        name=info.name,
        mem_mb=info.mem,
        cpus=b.host.cpus,
        domain_type=domain_type,
        virt_type=info.virt_type or None,
        interfaces=nics,
        disks=[hv.Disk(s.path, s.device, s.vbd_type, s.mode, d.size) for s, d in zip(disk_specs(b), b.disks)],
        boot=bootspec,
        console_log=posixpath.join(console_dir, f"{info.name}.log") if console_dir else None,
    )


def domain_xml(session: Session, host: str) -> str:
    """``report host vm config``: the libvirt domain XML ``start host vm`` defines."""
    return hv.render_domain_xml(domain_spec(session, load(session, vm_of(session, host))))


