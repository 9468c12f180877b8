"""``sync config``: the TFTP root's loaders from their Debian packages, every PXE file, the
hosts file's ksserver block (the rest of the file left as it was), DHCP."""

from __future__ import annotations

import subprocess

import pytest

from goldens import expect
from ksserver.services.netboot import BEGIN, END, LOADERS


def _nothing_to_do(tftp, hosts) -> str:
    """What sync config says when everything is as it should be (and no Kea is set)."""
    return (f"TFTP root {tftp}: 0 loaders copied\n"
            "boot files: wrote 0, removed 0\n"
            f"hosts file {hosts}: unchanged\n"
            "DHCP: no Kea control socket at /run/kea/kea4-ctrl-socket (set Dhcp_ControlSocket); "
            "`ksserver report host dhcpd` prints the ISC dhcpd form\n")


def test_sync_config_lays_out_everything_and_keeps_the_sites_own_lines(ks, tmp_path):
    tftp, hosts = tmp_path / "tftp", tmp_path / "hosts"
    ks.ok("set", "attr", "tftpboot_dir", str(tftp))
    ks.ok("set", "attr", "hosts_file", str(hosts))
    ks.ok("set", "attr", "Dhcp_ControlSocket", str(tmp_path / "no-kea.sock"))
    hosts.write_text("127.0.1.1\tfrontend-site-alias\n10.9.9.9\tnas # the site's own\n")
    for i in range(2):
        ks.ok("add", "host", f"compute-0-{i}")
        ks.ok("add", "host", "interface", f"compute-0-{i}", "eth0", f"mac=52:54:00:00:00:0{i}", f"ip=10.1.255.{254 - i}",
              "subnet=private")
    ks.ok("set", "host", "boot", "compute-0-0", "compute-0-1", "action=os")
    (tftp / "pxelinux.cfg" / "0A01FFFE").unlink()  # a file lost: sync config writes it again
    res = ks.run("sync", "config")
    # DHCP was said to be Kea's and Kea is not there: everything else is done, then the error
    assert res.exit_code == 1
    assert res.stderr == f"error - cannot reach Kea's control socket {tmp_path / 'no-kea.sock'}: No such file or directory\n"
    assert sorted(p.name for p in tftp.iterdir()) == sorted([*LOADERS, "pxelinux.cfg", "grub"])
    for name, (source, _package) in LOADERS.items():
        assert (tftp / name).read_bytes() == open(source, "rb").read()
    assert (tftp / "pxelinux.cfg" / "0A01FFFE").exists()
    # shim + GRUB (Secure Boot): grub/grub.cfg sends each machine to grub/system/<its MAC>
    for path in (tftp / "grub" / "grub.cfg", tftp / "grub" / "system" / "52:54:00:00:00:00"):
        checked = subprocess.run(["grub-script-check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, (path, checked.stderr)
    assert (tftp / "grub" / "system" / "52:54:00:00:00:00").read_text().endswith("\nexit\n")  # boot os
    block = ks.ok("report", "host")
    expect("netboot/report-host.txt", block)
    assert hosts.read_text() == "127.0.1.1\tfrontend-site-alias\n10.9.9.9\tnas # the site's own\n" + block
    # run again after a change: the block is replaced in place, the site's lines stay
    hosts.write_text(hosts.read_text() + "10.9.9.10\tbackup\n")
    ks.ok("remove", "host", "compute-0-1")
    assert "compute-0-1" not in hosts.read_text()  # the command itself kept the block current
    ks.ok("remove", "attr", "Dhcp_ControlSocket")
    assert ks.ok("sync", "config") == _nothing_to_do(tftp, hosts)
    text = hosts.read_text()
    assert text.startswith("127.0.1.1\tfrontend-site-alias\n10.9.9.9\tnas # the site's own\n" + BEGIN + "\n")
    assert text.endswith(END + "\n10.9.9.10\tbackup\n") and "compute-0-1" not in text
    assert not (tftp / "pxelinux.cfg" / "0A01FFFD").exists()  # removing the host removed its files
    assert not (tftp / "grub" / "system" / "52:54:00:00:00:01").exists()


def test_a_pxe_file_follows_its_hosts_address(ks, tmp_path):
    cfg = tmp_path / "tftp" / "pxelinux.cfg"
    ks.ok("set", "attr", "tftpboot_dir", str(tmp_path / "tftp"))
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:01", "ip=10.1.255.254",
          "subnet=private")
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    assert (cfg / "0A01FFFE").exists()
    grub = (tmp_path / "tftp" / "grub" / "system" / "52:54:00:00:00:01").read_text()
    token = grub.split("?token=")[1].split()[0].rstrip("'")
    expect("netboot/grub-install-compute-0-0.cfg", grub.replace(token, "TOKEN"))
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    assert not (cfg / "0A01FFFE").exists() and "token=" in (cfg / "0A01FFC8").read_text()
    ks.ok("remove", "host", "interface", "compute-0-0", "eth0")
    assert not (cfg / "0A01FFC8").exists()
    # an interface added to a host set to boot: its files at once
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:02", "ip=10.1.255.201",
          "subnet=private")
    assert "token=" in (cfg / "0A01FFC9").read_text()
    assert (tmp_path / "tftp" / "grub" / "system" / "52:54:00:00:00:02").exists()
    assert not (tmp_path / "tftp" / "grub" / "system" / "52:54:00:00:00:01").exists()


def test_sync_config_renders_nothing_when_nothing_changed_and_mends_what_was_touched(ks, tmp_path, monkeypatch):
    """The stamp the last whole sync left (``netboot._stamp``): the same inventory revision
    and the same files on disk mean nothing to render; any change to either renders all."""
    from ksserver.services import bootfiles, netboot

    tftp, hosts = tmp_path / "tftp", tmp_path / "hosts"
    ks.ok("set", "attr", "tftpboot_dir", str(tftp))
    ks.ok("set", "attr", "hosts_file", str(hosts))
    for i in range(2):
        ks.ok("add", "host", f"compute-0-{i}")
        ks.ok("add", "host", "interface", f"compute-0-{i}", "eth0", f"mac=52:54:00:00:00:0{i}", f"ip=10.1.255.{254 - i}",
              "subnet=private")
    ks.ok("set", "host", "boot", "compute-0-0", "compute-0-1", "action=install")
    assert "boot files: wrote 0, removed 0\n" in ks.ok("sync", "config")  # set host boot wrote them
    assert (tftp / netboot.STAMP).exists()
    pxe = tftp / "pxelinux.cfg" / "0A01FFFE"
    text = pxe.read_text()

    def no_render(*_args, **_kwargs):
        raise AssertionError("sync config rendered the boot files again")

    with monkeypatch.context() as m:
        m.setattr(bootfiles, "sync", no_render)
        m.setattr(netboot, "report_host", no_render)
        assert ks.ok("sync", "config") == _nothing_to_do(tftp, hosts)
        pxe.write_text(text.replace("ks", "KS"))  # a file touched by hand: everything is rendered again
        with pytest.raises(AssertionError, match="rendered the boot files again"):
            ks.run("sync", "config")
    mended = ks.ok("sync", "config")
    assert "boot files: wrote 1, removed 0\n" in mended and pxe.read_text() == text
    # an inventory change that wrote no file (by hand in SQL, or another node's): the
    # revision moved, so the next sync renders what it changed
    from sqlalchemy import create_engine, text as sql

    engine = create_engine(ks.url)
    with engine.begin() as conn:
        conn.execute(sql("UPDATE global_attributes SET value = '10.1.1.2' "
                         "WHERE name = 'Kickstart_PrivateKickstartHost'"))
    engine.dispose()
    assert pxe.read_text() == text
    assert "boot files: wrote 4, removed 0\n" in ks.ok("sync", "config")
    assert "10.1.1.2" in pxe.read_text()
    # a sync that fails (Kea said to be there and absent) leaves no stamp: the next renders
    ks.ok("set", "attr", "Dhcp_ControlSocket", str(tmp_path / "no-kea.sock"))
    ks.fails("sync", "config")
    assert not (tftp / netboot.STAMP).exists()
