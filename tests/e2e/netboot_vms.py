"""Run inside a test's network namespace: libvirt's embedded QEMU driver, holding the VMs.

    ip netns exec NS python netboot_vms.py ROOT

libvirt's embedded driver (``qemu:///embed?root=ROOT``) runs QEMU as this process's
children, in this namespace, with no daemon — what worked for network boot under test
(``../shared/spec/netboot-on-debian12.md``). Commands on stdin, one per line, each answered
with one line on stdout:

* ``start PATH`` — create the domain of the XML file at PATH; ``ok NAME``
* ``state NAME`` — ``running``, ``shutoff`` …
* ``quit`` — destroy every domain and exit (also on end of input)
"""

from __future__ import annotations

import grp
import pwd
import subprocess
import sys
import threading
from pathlib import Path

import libvirt

QEMU_CONF = """\
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
"""

STATES = {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
          libvirt.VIR_DOMAIN_PAUSED: "paused", libvirt.VIR_DOMAIN_CRASHED: "crashed",
          libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown"}


def ensure_qemu_user() -> None:
    """libvirt's QEMU driver will not start, even embedded and told to run QEMU as root,
    unless the user and group it was built with exist (Debian's libvirt-daemon-system makes
    them; this suite installs only libvirt-daemon)."""
    try:
        grp.getgrnam("libvirt-qemu")
    except KeyError:
        subprocess.run(["groupadd", "--system", "libvirt-qemu"], check=True)
    try:
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        subprocess.run(["useradd", "--system", "--gid", "libvirt-qemu", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", "libvirt-qemu"], check=True)


def main(root: str) -> None:
    for etc in (Path(root, "etc"), Path(root, "etc", "qemu")):  # where libvirt versions look for it
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "qemu.conf").write_text(QEMU_CONF)
    libvirt.virEventRegisterDefaultImpl()  # the embedded driver needs the application's event loop

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()
    conn = libvirt.open(f"qemu:///embed?root={root}")
    domains: dict[str, libvirt.virDomain] = {}
    try:
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            try:
                if cmd == "start":
                    dom = conn.createXML(Path(arg).read_text(), 0)
                    domains[dom.name()] = dom
                    reply = f"ok {dom.name()}"
                elif cmd == "state":
                    reply = STATES.get(conn.lookupByName(arg).state()[0], "other")
                elif cmd == "quit":
                    break
                else:
                    reply = f"error unknown command {cmd}"
            except libvirt.libvirtError as err:
                reply = "shutoff" if cmd == "state" else f"error {' '.join(str(err).split())}"
            print(reply, flush=True)
    finally:
        for dom in domains.values():
            try:
                dom.destroy()
            except libvirt.libvirtError:
                pass
        conn.close()


if __name__ == "__main__":
    main(sys.argv[1])
