"""A libvirt daemon of a test's own, inside its network namespace: the physical frontend's
hypervisor in ``test_virtual_cluster``.

ksserver's commands are separate processes, so their hypervisor must outlive each of them:
a daemon, not libvirt's embedded driver (whose VMs a second process kills when it
reconnects). ``libvirtd`` runs as root under ``ip netns exec`` — its VMs' taps are made in
the namespace, on its bridges — and in a mount namespace of its own where tmpfs hides the
host's ``/etc/libvirt``, ``/run/libvirt``, ``/var/lib/libvirt``, ``/var/cache/libvirt`` and
``/var/log/libvirt``: nothing of the machine's own libvirt is read or touched. Its socket is
in the test's directory (``unix_sock_dir``), and clients reach it with
``qemu+unix:///system?socket=…``. QEMU runs as root without a security driver, cgroups or
virtlogd, which a namespace like this one lacks (``../shared/spec/netboot-on-debian12.md``).
"""

from __future__ import annotations

from pathlib import Path

from netboot_vms import QEMU_CONF, ensure_qemu_user
from waiting import wait_until

LIBVIRTD_CONF = """\
unix_sock_dir = "{sock}"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
"""

RUN = """set -e
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
  mkdir -p "$d"; mount -t tmpfs -o mode=0755 tmpfs "$d"
done
cp "$1/qemu.conf" /etc/libvirt/qemu.conf
cp "$1/libvirtd.conf" /etc/libvirt/libvirtd.conf
exec /usr/sbin/libvirtd --config /etc/libvirt/libvirtd.conf
"""


def start_libvirtd(ns, directory: Path, log: Path) -> str:
    """Start the daemon in ``ns`` (stopped with it); its URI. ``directory`` must be short:
    the socket's path is limited to 108 bytes."""
    ensure_qemu_user()
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "sock"
    sock.mkdir(exist_ok=True)
    (directory / "qemu.conf").write_text(QEMU_CONF)
    (directory / "libvirtd.conf").write_text(LIBVIRTD_CONF.format(sock=sock))
    (directory / "run.sh").write_text(RUN)
    proc = ns.popen(["unshare", "--mount", "--propagation", "private", "sh", str(directory / "run.sh"),
                     str(directory)], log)
    wait_until(lambda: (sock / "libvirt-sock").exists() or proc.poll() is not None, timeout=30,
               what="the namespace's libvirtd")
    if proc.poll() is not None:
        raise AssertionError(f"libvirtd did not start: {log.read_text()[-2000:]}")
    return f"qemu+unix:///system?socket={sock / 'libvirt-sock'}"
