"""Bootactions, boot state, rolls and PXE files through the real CLI (both backends)."""

import json

from goldens import expect

from ksserver.db.migrate import head

SEED_ROLLS = """<rolls>
<roll
  name="os"
  version="5.2"
  arch="x86_64"
  url="http://bayou.rocksclusters.org/install/rolls/"
  diskid=""
/>
<roll
  name="base"
  version="5.2"
  arch="x86_64"
  url="http://bayou.rocksclusters.org/install/rolls/"
  diskid=""
/>
<roll
  name="kernel"
  version="5.2"
  arch="x86_64"
  url="http://bayou.rocksclusters.org/install/rolls/"
  diskid=""
/>
</rolls>
"""


def _vm_frontend(ks):
    ks.ok("add", "host", "frontend-0-0-0", "appliance=frontend", "rack=0", "rank=0")
    ks.ok("add", "host", "interface", "frontend-0-0-0", "eth1", "ip=137.110.119.118", "subnet=public",
          "name=vi-1.rocksclusters.org")
    for roll in ("os", "base", "kernel"):
        ks.ok("add", "roll", roll, "version=5.2", "arch=x86_64")


def test_seed_rolls(ks):
    _vm_frontend(ks)
    for roll in ("os", "base", "kernel"):
        ks.ok("set", "host", "roll", "vi-1", roll, "5.2", "x86_64")
    ks.ok("set", "host", "roll", "vi-1", "os", "5.2", "x86_64")  # again: no duplicate
    assert ks.ok("list", "host", "roll", "vi-1") == (
        "HOST            NAME   VERSION ARCH   OS   \n"
        "frontend-0-0-0: os     5.2     x86_64 linux\n"
        "frontend-0-0-0: base   5.2     x86_64 linux\n"
        "frontend-0-0-0: kernel 5.2     x86_64 linux\n"
    )
    assert ks.ok("report", "host", "roll", "vi-1") == SEED_ROLLS
    ks.ok("remove", "host", "roll", "vi-1", "base")
    assert [r["name"] for r in json.loads(ks.ok("list", "host", "roll", "vi-1", "--json"))] == ["os", "kernel"]


def test_roll_rules(ks):
    _vm_frontend(ks)
    ks.ok("add", "host", "compute-0-0")
    assert ks.fails("set", "host", "roll", "compute-0-0", "os", "5.2", "x86_64") == (
        'error - host "compute-0-0" is not a frontend appliance'
    )
    assert ks.fails("set", "host", "roll", "vi-1", "os", "9.9", "x86_64") == (
        "error - roll name/version/arch/os os/9.9/x86_64/linux is not in the database"
    )
    assert ks.fails("add", "roll", "os", "version=5.2", "arch=x86_64") == "error - roll os/5.2/x86_64/linux exists"
    assert ks.fails("add", "roll", "xen", "arch=x86_64").startswith("error - must supply a version")
    ks.ok("disable", "roll", "kernel")
    rows = {r["name"]: r["enabled"] for r in json.loads(ks.ok("list", "roll", "--json"))}
    assert rows == {"base": "yes", "kernel": "no", "os": "yes"}
    ks.ok("enable", "roll", "kernel")
    ks.ok("set", "host", "roll", "vi-1", "kernel", "5.2", "x86_64")
    ks.ok("remove", "roll", "kernel")
    assert ks.ok("list", "host", "roll", "vi-1") == ""
    assert ks.ok("report", "host", "roll", "compute-0-0") == ""  # not a frontend: skipped


def test_bootactions(ks):
    listing = json.loads(ks.ok("list", "bootaction", "--json"))
    assert [r["action"] for r in listing] == [
        "install", "install headless", "install vm", "install vm frontend", "memtest", "os", "pxeflash", "rescue",
    ]
    vmfe = next(r for r in listing if r["action"] == "install vm frontend")
    assert "ks=http://bayou.rocksclusters.org/install/sbin/kickstart.cgi ksdevice=eth1 build" in vmfe["args"]
    assert ks.ok("init").endswith(f"schema at revision {head()}\n")  # idempotent
    assert len(json.loads(ks.ok("list", "bootaction", "--json"))) == 8
    ks.ok("add", "bootaction", "action=diag", "kernel=vmlinuz-diag", "args=quiet")
    ks.ok("add", "bootaction", "action=diag", "ramdisk=initrd-diag")
    row = next(r for r in json.loads(ks.ok("list", "bootaction", "--json")) if r["action"] == "diag")
    assert (row["kernel"], row["ramdisk"], row["args"]) == ("vmlinuz-diag", "initrd-diag", "quiet")
    assert ks.fails("add", "bootaction", "kernel=x") == "error - must supply an action"
    ks.ok("add", "host", "compute-0-0")
    assert ks.fails("set", "host", "installaction", "compute-0-0", "nope") == 'error - action "nope" does not exist'
    ks.ok("set", "host", "installation", "compute-0-0", "action=diag")
    ks.ok("set", "host", "runaction", "compute-0-0", "none")
    row = json.loads(ks.ok("list", "host", "boot", "compute-0-0", "--json"))[0]
    assert (row["installaction"], row["runaction"]) == ("diag", None)
    assert ks.fails("remove", "bootaction", "action=diag") == (
        'error - bootaction "diag" is the install or run action of 1 host(s) (compute-0-0); give them another first'
    )
    ks.ok("set", "host", "installaction", "compute-0-0", "install")
    ks.ok("remove", "bootaction", "action=diag")
    assert ks.fails("remove", "bootaction", "action=diag") == 'error - action "diag" does not exist'
    assert ks.fails("set", "host", "boot", "compute-0-0", "action=reboot") == (
        'error - invalid action "reboot": action must be "os", "run" or "install"'
    )
    assert ks.fails("set", "host", "boot", "action=install").startswith("error - missing host")


def test_boot_token_and_pxe_files(ks, tmp_path):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "ip=10.1.255.254", "mac=00:16:3e:00:00:01",
          "subnet=private", "name=compute-0-0")
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    token = json.loads(ks.ok("list", "host", "boot", "compute-0-0", "showtoken=yes", "--json"))[0]["token"]
    assert len(token) >= 32
    text = ks.ok("report", "host", "bootfile", "compute-0-0")
    expect("server/pxe-install.txt", text.replace(token, "@TOKEN@"))
    tftp = tmp_path / "tftp"
    # its PXE file, the frontend's default, and its GRUB file (by MAC)
    assert ks.ok("sync", "host", "bootfile", f"tftpboot={tftp}") == "wrote 3 boot files, removed 0\n"
    assert (tftp / "pxelinux.cfg" / "0A01FFFE").read_text() == text
    assert f"?token={token}' " in (tftp / "grub" / "system" / "00:16:3e:00:00:01").read_text()
    expect("server/pxe-default.txt", (tftp / "pxelinux.cfg" / "default").read_text())
    ks.ok("set", "host", "boot", "compute-0-0", "action=os")
    assert json.loads(ks.ok("list", "host", "boot", "compute-0-0", "showtoken=yes", "--json"))[0]["token"] is None
    expect("server/pxe-os.txt", ks.ok("report", "host", "bootfile", "compute-0-0"))
    ks.ok("sync", "host", "bootfile", "compute-0-0", f"tftpboot={tftp}")
    expect("server/pxe-os.txt", (tftp / "pxelinux.cfg" / "0A01FFFE").read_text())
    assert not [p for p in (tftp / "pxelinux.cfg").iterdir() if p.name.startswith(".")]  # no temporaries
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    ks.ok("set", "host", "installaction", "compute-0-0", "memtest")
    assert "\tkernel memtest\n" in ks.ok("report", "host", "bootfile", "compute-0-0")


def test_sync_bootfile_into_a_directory_it_cannot_create(ks):
    assert ks.fails("sync", "host", "bootfile", "tftpboot=/proc/ksserver-nope") == (
        "error - cannot write boot files in /proc/ksserver-nope: No such file or directory"
    )
