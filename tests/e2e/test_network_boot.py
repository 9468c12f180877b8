"""Power-on to kickstart with nothing on the VM's command line: network boot, end to end.

In a network namespace this test makes (and removes), with a bridge for the private
network: a real Kea given its configuration by ``ksserver sync config``, ``in.tftpd`` on the
TFTP root ksserver laid out, ``ksserver serve`` on the frontend's private address, and QEMU
through libvirt's embedded driver with each VM's NIC on the bridge. No traffic leaves it.

* a BIOS VM (SeaBIOS, QEMU's iPXE NIC ROM): its DHCP reservation, iPXE sent to
  ``/install/boot/ipxe``, the registered tree's kernel and initrd over HTTP, the kickstart;
* a UEFI VM (OVMF, its NIC ROM off): OVMF's own PXE gets ``snponly.efi`` over TFTP from
  ksserver's TFTP root, and iPXE goes on as above.

Both report completion; the BIOS VM's next network boot is sent back to its disk. All is
asserted from outside: Kea's leases, ``list host status``, the boot actions, and the
kickstart each VM printed against ``list host profile``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kea import KeaServer
from netboot_vms import ensure_qemu_user
from netns import Netns
from trees import make_tree, public_dir
from waiting import wait_until

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).with_name("ksserver"))
HELPER = str(Path(__file__).with_name("netboot_vms.py"))
TREE_URL = "http://10.1.1.1/install/tiny9/x86_64"
MACHINES = {  # host: (firmware, MAC, address)
    "compute-0-0": ("bios", "52:54:00:10:00:01", "10.1.255.254"),
    "compute-0-1": ("uefi", "52:54:00:10:00:02", "10.1.255.253"),
}
OVMF_CODE, OVMF_VARS = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"


def _domain(name: str, firmware: str, mac: str, console: Path, nvram: Path) -> str:
    if firmware == "uefi":
        os_xml = (f"<type arch='x86_64' machine='q35'>hvm</type>"
                  f"<loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>"
                  f"<nvram template='{OVMF_VARS}'>{nvram}</nvram><boot dev='network'/>")
        rom = "<rom enabled='no'/>"  # OVMF's own PXE, not the NIC's iPXE: the TFTP path
    else:
        os_xml, rom = "<type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/>", ""
    return f"""<domain type='qemu'>
  <name>{name}</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
  <os>{os_xml}</os><features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>
  <devices>
    <interface type='bridge'><source bridge='eth0'/><mac address='{mac}'/><model type='virtio'/>{rom}</interface>
    <serial type='file'><source path='{console}' append='on'/><target port='0'/></serial>
  </devices>
</domain>
"""


class Vms:
    """The libvirt-embed helper inside the namespace (``netboot_vms.py``)."""

    def __init__(self, ns: Netns, root: Path, log: Path):
        ensure_qemu_user()
        self.proc = subprocess.Popen(ns.exec([sys.executable, HELPER, str(root)]), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(log, "ab"), text=True, start_new_session=True)
        ns.procs.append(self.proc)

    def quit(self) -> None:
        self.proc.stdin.close()  # the helper destroys its domains at the end of its input
        self.proc.wait(60)

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        assert reply and not reply.startswith("error"), f"{line}: {reply or 'the helper ended'}"
        return reply


def test_bios_and_uefi_machines_install_from_the_network(installer_image, e2e_artifacts, tmp_path):
    for path in (OVMF_CODE, OVMF_VARS, "/usr/sbin/in.tftpd", "/usr/lib/ipxe/snponly.efi"):
        assert os.path.exists(path), f"{path} is missing (scripts/setup.sh installs ovmf, tftpd-hpa, ipxe)"
    public = public_dir()
    home = tmp_path / "home"
    env = {**os.environ, "KSSERVER_HOME": str(home)}
    env.pop("KSSERVER_DATABASE_URL", None)
    logs = tmp_path / "logs"
    logs.mkdir()

    def ks(*args: str, check: bool = True) -> str:
        res = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120)
        assert not check or res.returncode == 0, f"ksserver {' '.join(args)}: {res.stderr}"
        return res.stdout

    try:
        with Netns("10.1.1.1/16") as ns:
            kea = KeaServer(ns, logs)
            ks("init")
            kernel, initrd = (Path(p).read_bytes() for p in installer_image)
            make_tree(public / "tree", kernel, initrd)
            ks("add", "distro", "tiny9", str(public / "tree"))
            ks("add", "bootaction", "install", f"args=inst.ks inst.repo={TREE_URL} ip=dhcp console=ttyS0 panic=1")
            for name, value in (("tftpboot_dir", str(public / "tftp")), ("hosts_file", str(tmp_path / "hosts")),
                                *kea.attrs().items()):
                ks("set", "attr", name, value)
            for host, (_fw, mac, ip) in MACHINES.items():
                ks("add", "host", host)
                ks("add", "host", "interface", host, "eth0", f"mac={mac}", f"ip={ip}", "subnet=private")
                ks("set", "host", "boot", host, "action=install")
            out = ks("sync", "config")
            # each command that changed the inventory applied DHCP already: nothing left to apply
            assert f"DHCP: Kea ({kea.socket}) already runs this configuration" in out, out
            assert "reservations" in ks("report", "host", "dhcp") and len(kea.leased()) == 0
            ns.popen(["in.tftpd", "--foreground", "--address", "10.1.1.1:69", "--secure", str(public / "tftp")],
                     logs / "tftpd.log")
            serve = ns.popen([EXE, "serve", "bind=10.1.1.1:80", "workers=1", "api=no"], logs / "serve.log", env=env)
            wait_until(lambda: ns.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                      f"{TREE_URL}/.treeinfo", check=False).stdout == "200"
                       or serve.poll() is not None, timeout=60, what="ksserver serve in the namespace")
            assert serve.poll() is None, (logs / "serve.log").read_text()[-3000:]

            vms = Vms(ns, public / "virt", logs / "libvirt.log")  # short: QEMU's sockets live under it
            consoles = {}
            for host, (firmware, mac, _ip) in MACHINES.items():
                consoles[host] = logs / f"{host}.console.log"
                xml = tmp_path / f"{host}.xml"
                xml.write_text(_domain(f"ksnb-{host}", firmware, mac, consoles[host], tmp_path / f"{host}.VARS.fd"))
                vms.ask(f"start {xml}")

            def status():
                rows = {r["host"]: r for r in json.loads(ks("list", "host", "status", "--json"))}
                return rows if all(rows[h]["stage"] == "installed" for h in MACHINES) else None

            try:
                wait_until(status, timeout=420, interval=2, what="both machines to report their install")
            except AssertionError as err:
                tails = {h: c.read_text(errors="replace")[-1500:] if c.exists() else "(no console)"
                         for h, c in consoles.items()}
                raise AssertionError(f"{err}; status: {ks('list', 'host', 'status')}; consoles: {tails}") from None

            # from outside: Kea leased each its reserved address; the kickstart each printed is
            # the one ksserver renders for it; both are set to boot their disk now
            assert {mac: kea.leased().get(mac) for _h, (_f, mac, _i) in MACHINES.items()} == {
                mac: ip for _h, (_f, mac, ip) in MACHINES.items()}
            for host in MACHINES:
                console = consoles[host].read_text(errors="replace")
                printed = re.search(r"kickstart sha256 ([0-9a-f]{64})", console)
                assert printed, console[-2000:]
                profile = subprocess.run([EXE, "list", "host", "profile", host], env=env, capture_output=True).stdout
                assert printed.group(1) == hashlib.sha256(profile).hexdigest()
                assert json.loads(ks("list", "host", "boot", host, "--json"))[0]["action"] == "os"
            # each firmware took its path: iPXE's ROM under SeaBIOS, OVMF's PXE loading snponly.efi
            # from ksserver's TFTP root (iPXE then says it drives the NIC through SNP)
            uefi = consoles["compute-0-1"].read_text(errors="replace")
            assert "using SNP" in uefi and "Filename: http://10.1.1.1/install/boot/ipxe" in uefi, uefi[:3000]
            # the next network boot of the BIOS machine is sent back to its disk
            wait_until(lambda: vms.ask("state ksnb-compute-0-0") == "shutoff", timeout=60,
                       what="the BIOS machine to power off after its install")
            vms.ask(f"start {tmp_path / 'compute-0-0.xml'}")
            wait_until(lambda: {r["host"]: r["stage"] for r in json.loads(ks("list", "host", "status", "--json"))}
                       ["compute-0-0"] == "boot script (os)", timeout=180, interval=2,
                       what="the BIOS machine's second network boot to be told to boot its disk")
            vms.quit()
    finally:
        for log in logs.glob("*.log"):
            shutil.copy(log, Path(e2e_artifacts) / f"netboot-{log.name}")
        shutil.rmtree(public, ignore_errors=True)
