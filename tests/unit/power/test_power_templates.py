"""Domain XML and Xen config generation: golden files, escaping, schema validation.

Golden files live in tests/golden/power; regenerate with KSSERVER_UPDATE_GOLDEN=1
(then read the diff before committing it).
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from goldens import expect
from lxml import etree

from ksserver.errors import KsError
from ksserver.power import HAVE_DEFINE_VALIDATE, LibvirtDriver
from ksserver.power.domain import (
    Boot,
    Disk,
    DomainSpec,
    Interface,
    local_path,
    render_domain_xml,
)
from ksserver.power.xencfg import XenVmConfig, render_xen_config
from ksserver.vm import parse_disk_spec

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "power"

INSTALL_VM = Boot(
    "install",
    kernel="file:///boot/kickstart/xen/vmlinuz-5.2-x86_64",
    initrd="file:///boot/kickstart/xen/initrd-xen.iso.gz-5.2-x86_64",
    cmdline="ks ramdisk_size=1500000 lang= devfs=nomount kssendmac selinux=0 noipv6",
)
FE_ARGS = (
    "ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6"
    " ks=http://bayou.rocksclusters.org/install/sbin/kickstart.cgi ksdevice=eth1 build"
)

VARIANTS = {
    # the talk's VM frontend: two NICs (private vlan, public), installing
    "xen-para-install": DomainSpec(
        "frontend-0-0-0",
        mem_mb=1024,
        cpus=1,
        interfaces=[
            Interface("72:77:6e:80:00:00", "xenbr.eth0.2"),
            Interface("72:77:6e:80:00:01", "xenbr.eth1"),
        ],
        disks=[Disk("/state/partition1/xen/disks/frontend-0-0-0.hda", "hda", size_gb=36)],
        boot=Boot("install", INSTALL_VM.kernel, INSTALL_VM.initrd, FE_ARGS),
    ),
    "xen-para-os": DomainSpec(
        "hosted-vm-0-0-0",
        mem_mb=2048,
        cpus=2,
        interfaces=[Interface("72:77:6e:80:00:02", "xenbr.eth0.2")],
        disks=[
            Disk("/state/partition1/xen/disks/hosted-vm-0-0-0.hda", "hda"),
            Disk("sdb1", "hdb", vbd_type="phy"),
            Disk("/state/partition1/xen/disks/scratch.img", "hdc", vbd_type="tap:aio", mode="r"),
        ],
    ),
    "xen-hvm-install": DomainSpec(
        "hosted-vm-0-1-0",
        virt_type="hvm",
        interfaces=[Interface("72:77:6e:80:00:03", "xenbr.eth0.2")],
        disks=[Disk("/state/partition1/xen/disks/hosted-vm-0-1-0.hda", "hda")],
        boot=INSTALL_VM,
    ),
    "kvm-os": DomainSpec(
        "hosted-vm-0-2-0",
        domain_type="kvm",
        mem_mb=4096,
        cpus=4,
        interfaces=[
            Interface("72:77:6e:80:00:04", "eth0.2", kind="direct"),
            Interface("72:77:6e:80:00:05", "default", kind="network"),
        ],
        disks=[Disk("/state/partition1/kvm/disks/hosted-vm-0-2-0.vda", "vda", mode="virtio")],
    ),
    # a virtual cluster's compute: its VLAN's bridge, PXE from its cluster's frontend, then its disk
    "kvm-network-boot": DomainSpec(
        "hosted-vm-0-0-1",
        domain_type="kvm",
        interfaces=[Interface("72:77:6e:80:00:06", "xenbr.eth0.2")],
        disks=[Disk("/state/partition1/kvm/disks/hosted-vm-0-0-1.vda", "vda", mode="virtio")],
        boot=Boot("network"),
    ),
    "qemu-install-user-net": DomainSpec(
        "e2e-compute",
        domain_type="qemu",
        mem_mb=768,
        interfaces=[Interface("52:54:00:12:34:56", kind="user", model="e1000")],
        disks=[Disk("/var/tmp/e2e/compute.qcow2", "vda", vbd_type="qcow2", mode="virtio")],
        boot=Boot("install", "/var/tmp/e2e/vmlinuz", "/var/tmp/e2e/initrd.img", "console=ttyS0 ks=http://10.0.2.2:8080/ks"),
        console_log="/var/tmp/e2e/console.log",
    ),
}


def _golden(name: str, text: str) -> None:
    expect(f"power/{name}", text)


# --- domain XML -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_domain_xml_golden(variant):
    _golden(f"domain-{variant}.xml", render_domain_xml(VARIANTS[variant]))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_domain_xml_passes_virt_xml_validate(variant, tmp_path):
    tool = shutil.which("virt-xml-validate")
    assert tool, "virt-xml-validate missing: apt-get install libvirt-clients"
    f = tmp_path / "d.xml"
    f.write_text(render_domain_xml(VARIANTS[variant]))
    r = subprocess.run([tool, str(f), "domain"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_domain_xml_defines_with_validation_on_the_test_driver(variant):
    assert HAVE_DEFINE_VALIDATE  # libvirt 9.0 has it; the driver falls back without it
    drv = LibvirtDriver("test:///default")
    spec = VARIANTS[variant]
    name = f"tmpl-{variant}"
    xml = render_domain_xml(DomainSpec(**{**spec.__dict__, "name": name}))
    assert drv.define(xml, validate=True) == name
    try:
        got = etree.fromstring(drv.xml(name, inactive=True).encode())
        assert got.get("type") == spec.domain_type
        assert [m.get("address") for m in got.iterfind("devices/interface/mac")] == [
            i.mac for i in spec.interfaces
        ]
    finally:
        drv.undefine(name)


def test_define_validate_rejects_schema_errors():
    drv = LibvirtDriver("test:///default")
    bad = "<domain type='xen'><name>bad-1</name><memory>1</memory><os><type>xen</type></os><bogus/></domain>"
    with pytest.raises(KsError, match="cannot define VM bad-1 on test:///default"):
        drv.define(bad, validate=True)
    assert not drv.exists("bad-1")


def _parse(spec):
    return etree.fromstring(render_domain_xml(spec).encode())


def test_xen_para_defaults():
    d = _parse(VARIANTS["xen-para-os"])
    assert d.get("type") == "xen"
    assert d.findtext("os/type") == "xen"
    assert d.findtext("bootloader") == "pygrub"
    assert d.find("features") is None
    assert d.findtext("on_poweroff") == "destroy"
    assert d.findtext("on_reboot") == "restart"
    assert {t.get("bus") for t in d.iterfind("devices/disk/target")} == {"xen"}
    assert d.find("devices/disk[@type='block']/source").get("dev") == "/dev/sdb1"
    assert d.find("devices/disk/driver[@name='tap']").get("type") == "aio"
    assert d.find("devices/disk/readonly") is not None
    g = d.find("devices/graphics")
    assert (g.get("type"), g.get("port"), g.get("autoport")) == ("vnc", "-1", "yes")
    assert d.find("devices/console/target").get("type") == "xen"
    assert d.findtext("memory") == "2048" and d.find("memory").get("unit") == "MiB"
    assert d.findtext("vcpu") == "2"


def test_install_mode_boots_kernel_directly_and_does_not_loop():
    d = _parse(VARIANTS["xen-para-install"])
    assert d.findtext("os/kernel") == "/boot/kickstart/xen/vmlinuz-5.2-x86_64"
    assert d.findtext("os/initrd") == "/boot/kickstart/xen/initrd-xen.iso.gz-5.2-x86_64"
    assert d.findtext("os/cmdline") == FE_ARGS
    assert d.find("bootloader") is None
    # a reboot at the end of the install must not start the installer again
    assert d.findtext("on_reboot") == "destroy"


def test_hvm_and_kvm_have_acpi_serial_and_boot_from_disk():
    for variant in ("xen-hvm-install", "kvm-os", "qemu-install-user-net"):
        d = _parse(VARIANTS[variant])
        assert d.findtext("os/type") == "hvm"
        assert d.find("features/acpi") is not None
        assert d.find("devices/serial") is not None
        assert d.find("devices/console/target").get("type") == "serial"
    kvm = _parse(VARIANTS["kvm-os"])
    assert kvm.find("os/boot").get("dev") == "hd"
    assert kvm.find("devices/disk/target").get("bus") == "virtio"
    assert kvm.find("devices/disk/driver").get("type") == "raw"
    assert kvm.find("devices/interface[@type='direct']/source").get("dev") == "eth0.2"
    assert kvm.find("devices/interface/model").get("type") == "virtio"
    hvm = _parse(VARIANTS["xen-hvm-install"])
    assert hvm.find("devices/disk/target").get("bus") == "ide"
    q = _parse(VARIANTS["qemu-install-user-net"])
    assert q.find("devices/interface").get("type") == "user"
    assert q.find("devices/interface/source") is None
    assert q.find("devices/serial/log").get("file") == "/var/tmp/e2e/console.log"


def test_every_value_is_escaped():
    nasty = 'a&b<c>"d\'e'
    spec = DomainSpec(
        nasty,
        interfaces=[Interface("72:77:6e:80:00:00", "br&<0")],
        disks=[Disk(f"/x/{nasty}.hda")],
        boot=Boot("install", "/k", "", f"ks={nasty} x=<y>"),
    )
    d = _parse(spec)  # well-formed
    assert d.findtext("name") == nasty
    assert d.findtext("os/cmdline") == f"ks={nasty} x=<y>"
    assert d.find("devices/disk/source").get("file") == f"/x/{nasty}.hda"
    assert d.find("devices/interface/source").get("bridge") == "br&<0"
    assert len(d) == len(_parse(DomainSpec("plain", interfaces=spec.interfaces, disks=spec.disks, boot=spec.boot)))


def test_local_path_from_file_urls():
    assert local_path("file:///boot/kickstart/xen/vmlinuz", "k", "vm") == "/boot/kickstart/xen/vmlinuz"
    assert local_path("file://localhost/a%20b", "k", "vm") == "/a b"
    assert local_path("/boot/x", "k", "vm") == "/boot/x"
    assert local_path("", "k", "vm") == ""
    with pytest.raises(KsError, match="install kernel of VM vm-1 must be a file:// URL"):
        render_domain_xml(DomainSpec("vm-1", boot=Boot("install", "http://fe/vmlinuz")))


def test_network_boot_tries_the_network_then_the_disk():
    root = _parse(VARIANTS["kvm-network-boot"])
    assert [b.get("dev") for b in root.iterfind("os/boot")] == ["network", "hd"]
    assert root.find("os/kernel") is None and root.findtext("on_reboot") == "restart"


@pytest.mark.parametrize(
    "spec, message",
    [
        (DomainSpec(""), "VM name must not be empty"),
        (DomainSpec("v", domain_type="lxc"), r"invalid domain type \(lxc\) for VM v"),
        (DomainSpec("v", virt_type="full"), r"invalid virt-type \(full\)"),
        (DomainSpec("v", domain_type="kvm", virt_type="para"), "kvm supports only 'hvm'"),
        (DomainSpec("v", mem_mb=0), "must be positive"),
        (DomainSpec("v", cpus="many"), "must be integers"),
        (DomainSpec("v", boot=Boot("pxe")), r"invalid boot mode \(pxe\)"),
        (DomainSpec("v", boot=Boot("install")), "VM v has no install kernel"),
        (DomainSpec("v", boot=Boot("network")), "VM v boots from the network: that needs virt-type hvm"),
        (DomainSpec("v", interfaces=[Interface("m", "x", kind="tap")]), r"invalid interface kind \(tap\)"),
        (DomainSpec("v", interfaces=[Interface("m")]), "interface m of VM v needs a bridge name"),
        (DomainSpec("v", on_reboot="explode"), r"invalid on_reboot"),
    ],
)
def test_domain_spec_errors(spec, message):
    with pytest.raises(KsError, match=message):
        render_domain_xml(spec)


# --- Xen config (report host vm) ------------------------------------------------------


FE_CFG = XenVmConfig(
    "frontend-0-0-0",
    install_kernel="file:///boot/kickstart/xen/vmlinuz-5.2-x86_64",
    install_ramdisk="file:///boot/kickstart/xen/initrd-xen.iso.gz-5.2-x86_64",
    install_args=FE_ARGS,
    ip="137.110.119.118",
    netmask="255.255.255.0",
    dns="132.239.0.252",
    gateway="137.110.119.1",
    disks=[(parse_disk_spec("file:/state/partition1/xen/disks/frontend-0-0-0.hda,hda,w"), 36)],
    force_install=True,
)

COMPUTE_OS_CFG = XenVmConfig(
    "hosted-vm-0-0-0",
    boot_kernel="file:///boot/kickstart/xen/vmlinuz-os",
    boot_ramdisk="file:///boot/kickstart/xen/initrd-os",
    boot_args="ro root=LABEL=/",
    install_kernel="file:///boot/kickstart/xen/vmlinuz-5.2-x86_64",
    install_ramdisk="file:///boot/kickstart/xen/initrd-xen.iso.gz-5.2-x86_64",
    install_args="ks ramdisk_size=1500000 lang= devfs=nomount kssendmac selinux=0 noipv6",
    disks=[
        (parse_disk_spec("file:/state/partition1/xen/disks/hosted-vm-0-0-0.hda,hda,w"), 36),
        (parse_disk_spec("phy:sdb1,hdb,w"), 100),
    ],
)


def test_xen_config_frontend_install_golden():
    _golden("xen-frontend-0-0-0.cfg", render_xen_config(FE_CFG))


def test_xen_config_compute_os_golden():
    _golden("xen-hosted-vm-0-0-0.cfg", render_xen_config(COMPUTE_OS_CFG))


def test_xen_config_shape():
    text = render_xen_config(FE_CFG)
    lines = dict(line.split(" = ", 1) for line in text.splitlines())
    assert lines["installArgs"].endswith(
        "build ip=137.110.119.118 netmask=255.255.255.0 dns=132.239.0.252 gateway=137.110.119.1"
    )
    assert lines["disk"] == "/state/partition1/xen/disks/frontend-0-0-0.hda"
    assert lines["disksize"] == "36"
    assert lines["forceInstall"] == "yes"
    assert lines["bootKernel"] == ""
    os_text = render_xen_config(COMPUTE_OS_CFG)
    assert "forceInstall" not in os_text
    assert "disk = /dev/sdb1\ndisksize = 100\n" in os_text
    assert " ip=" not in os_text


def test_xen_config_values_are_not_escaped_but_line_breaks_rejected():
    cfg = XenVmConfig("v", install_args="ks a&b <x>")
    assert "installArgs = ks a&b <x>\n" in render_xen_config(cfg)
    with pytest.raises(KsError, match="installArgs of VM v must not contain a line break"):
        render_xen_config(XenVmConfig("v", install_args="ks\nforceInstall = yes"))
    with pytest.raises(KsError, match="gateway of VM v"):
        render_xen_config(XenVmConfig("v", gateway="1.2.3.4\r"))

