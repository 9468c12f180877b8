"""`sync host bootfile` at scale: one compiled template, and files already right left alone."""

import itertools
import json
import os
from pathlib import Path

from ksserver.services.bootfiles import PxeTemplate, is_image
from ksserver.templating import render

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "server"


def test_template_shapes_render_exactly_as_the_template():
    template = PxeTemplate()
    kernels = ("vmlinuz-5.2-x86_64", "localboot 0", "kernel memtest", "", "http://10.1.1.1/install/t/x86_64/vmlinuz")
    appends = ("", "ks ramdisk_size=150000 ksdevice=bootif initrd=initrd.img", "keeppxe", "a {{ b }} %s \\t")
    for kernel, append, ipappend in itertools.product(kernels, appends, (False, True)):
        for _ in range(2):  # first: the shape is rendered; then: taken from the cache
            want = render("pxe/host.j2", kernel=kernel, image=is_image(kernel), append=append, ipappend=ipappend)
            assert template.render(kernel, append, ipappend) == want, (kernel, append, ipappend)


def test_sync_rewrites_only_what_changed(ks, tmp_path):
    for i in range(3):
        name = f"compute-0-{i}"
        ks.ok("add", "host", name)
        ks.ok("add", "host", "interface", name, "eth0", f"ip=10.1.255.{254 - i}", f"mac=00:16:3e:00:00:0{i}",
              "subnet=private", f"name={name}")
        ks.ok("set", "host", "boot", name, "action=os")
    tftp = tmp_path / "tftp"
    cfg = tftp / "pxelinux.cfg"
    # a PXE file per host and the frontend's default, a GRUB file per host (by MAC)
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 7 boot files, removed 0\n"
    assert sorted(p.name for p in (tftp / "grub" / "system").iterdir()) == [f"00:16:3e:00:00:0{i}" for i in range(3)]
    files = {p.name: p for p in cfg.iterdir()}
    assert sorted(files) == ["0A01FFFC", "0A01FFFD", "0A01FFFE", "default"]
    # they carry install tokens: owner and the TFTP server's group only
    assert all(os.stat(p).st_mode & 0o777 == 0o640 for p in files.values())
    inodes = {n: os.stat(p).st_ino for n, p in files.items()}
    # nothing changed: nothing written (same inodes: not even replaced)
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 0 boot files, removed 0\n"
    assert {n: os.stat(p).st_ino for n, p in files.items()} == inodes
    # a file with other bytes, another mode, or a symbolic link in its place is put right
    files["0A01FFFE"].write_text("tampered\n")
    os.chmod(files["0A01FFFD"], 0o600)
    files["0A01FFFC"].unlink()
    (tmp_path / "elsewhere").write_text(files["0A01FFFD"].read_text())
    files["0A01FFFC"].symlink_to(tmp_path / "elsewhere")
    os.chmod(tmp_path / "elsewhere", 0o640)
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 3 boot files, removed 0\n"
    os_text = (GOLDEN / "pxe-os.txt").read_text()
    for name in ("0A01FFFC", "0A01FFFD", "0A01FFFE"):
        assert not files[name].is_symlink() and files[name].read_text() == os_text
        assert os.stat(files[name]).st_mode & 0o777 == 0o640
    # one host to install: only its file is rewritten, with its token
    ks.ok("set", "host", "boot", "compute-0-1", "action=install")
    token = json.loads(ks.ok("list", "host", "boot", "compute-0-1", "showtoken=yes", "--json"))[0]["token"]
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 2 boot files, removed 0\n"
    assert f"?token={token} " in files["0A01FFFD"].read_text()
    assert f"?token={token}' " in (tftp / "grub" / "system" / "00:16:3e:00:00:01").read_text()
    # an attribute no boot file reads: nothing rewritten
    ks.ok("set", "attr", "unused_marker", "1")
    assert ks.ok("sync", "host", "bootfile", "compute-0-2", f"tftpboot={tftp}") == "wrote 0 boot files, removed 0\n"
    # a host with no next boot: its stale file goes (PXE falls back to default)
    ks.ok("add", "host", "compute-0-3")
    ks.ok("add", "host", "interface", "compute-0-3", "eth0", "ip=10.1.255.251", "mac=00:16:3e:00:00:03",
          "subnet=private", "name=compute-0-3")
    (cfg / "0A01FFFB").write_text("stale\n")
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 0 boot files, removed 1\n"
    assert not (cfg / "0A01FFFB").exists()
    assert not [p for p in cfg.iterdir() if p.name.startswith(".")]  # no temporaries left
