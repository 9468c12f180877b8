"""``load hostfile`` / ``report hostfile``: Stacki's spreadsheet, every error with its line,
one transaction, ``ip=auto`` from the one allocator, and a round trip."""

from __future__ import annotations

import json

SHEET = """\
# a site's sheet, as Stacki writes it (header case as it comes)
Name,Interface Hostname,Default,Appliance,Rack,Rank,IP,MAC,Interface,Network,Channel,Options,VLAN,InstallAction,OSAction,Groups,Box,Comment
compute-0-0,,True,compute,0,0,10.1.255.254,52:54:00:00:00:01,eth0,private,,,,install,os,,default,
compute-0-0,compute-0-0-ib,,compute,0,0,192.168.9.1,52:54:00:00:09:01,ib0,ib,,,,,,,,

COMPUTE-0-1,,,compute,0,1,auto,52:54:00:00:00:02,eth0,private,,,,,,,,
compute-0-2,,,compute,0,2,AUTO,52:54:00:00:00:03,eth0,private,,,,,,,,
"""


def _setup(ks, tmp_path, text=SHEET):
    ks.ok("add", "network", "ib", "192.168.9.0", "255.255.255.0")
    path = tmp_path / "hosts.csv"
    path.write_text(text)
    return path


def _ifaces(ks):
    return {(r["host"], r["iface"]): (r["ip"], r["mac"]) for r in json.loads(ks.ok("list", "host", "interface", "--json"))}


def test_a_sheet_loads_in_one_go_and_comes_back_the_same(ks, ks_factory_home, tmp_path):
    path = _setup(ks, tmp_path)
    assert ks.ok("load", "hostfile", str(path)) == (
        f"loaded {path}: 3 new hosts, 0 updated, 4 interfaces (2 addresses allocated)\n")
    got = _ifaces(ks)
    assert got[("compute-0-0", "eth0")] == ("10.1.255.254", "52:54:00:00:00:01")
    assert got[("compute-0-0", "ib0")] == ("192.168.9.1", "52:54:00:00:09:01")
    # auto: down from the top of the private network, after the explicit ones are claimed
    assert got[("compute-0-1", "eth0")] == ("10.1.255.253", "52:54:00:00:00:02")
    assert got[("compute-0-2", "eth0")] == ("10.1.255.252", "52:54:00:00:00:03")
    report = ks.ok("report", "hostfile")
    assert report.splitlines()[0] == ("NAME,INTERFACE HOSTNAME,DEFAULT,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK,"
                                      "CHANNEL,OPTIONS,VLAN,INSTALLACTION,OSACTION,GROUPS,BOX,COMMENT")
    assert "compute-0-0,compute-0-0-ib,,compute,0,0,192.168.9.1,52:54:00:00:09:01,ib0,ib," in report
    # what report writes, load reads back: into a fresh home, the same sheet again
    other = ks_factory_home()
    other.ok("add", "network", "ib", "192.168.9.0", "255.255.255.0")
    (tmp_path / "again.csv").write_text(report)
    other.ok("load", "hostfile", str(tmp_path / "again.csv"))
    assert other.ok("report", "hostfile") == report
    # loading it again changes nothing
    assert ks.ok("load", "hostfile", str(tmp_path / "again.csv")) == (
        f"loaded {tmp_path / 'again.csv'}: 0 new hosts, 3 updated, 4 interfaces (0 addresses allocated)\n")
    assert ks.ok("report", "hostfile") == report


def test_every_error_is_named_with_its_line_and_nothing_is_written(ks, tmp_path):
    ks.ok("add", "host", "compute-9-9")
    ks.ok("add", "host", "interface", "compute-9-9", "eth0", "mac=52:54:00:00:99:99", "ip=10.1.200.1", "subnet=private")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "NAME,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK\n"
        "compute-1-0,compute,1,0,10.1.255.254,52:54:00:00:00:01,eth0,private\n"      # 2: fine
        "compute-1-1,compute,1,1,10.1.255.254,52:54:00:00:00:02,eth0,private\n"      # 3: IP of line 2
        "compute-1-2,compute,1,2,10.1.255.250,52:54:00:00:00:01,eth0,private\n"      # 4: MAC of line 2
        "compute-1-3,toaster,1,3,10.1.255.249,52:54:00:00:00:04,eth0,private\n"      # 5: appliance
        "compute-1-4,compute,1,4,10.1.200.1,52:54:00:00:00:05,eth0,private\n"        # 6: IP in the database
        "compute-1-5,compute,1,x,999.1.1.1,zz,eth0,nowhere\n"                        # 7: three errors
        "compute-1-6,compute,1,6,192.168.1.1,52:54:00:00:00:07,eth0,private\n"       # 8: off the network
        "compute-1-7,compute,1,7,,52:54:00:00:99:99,eth0,\n"                         # 9: MAC in the database
    )
    res = ks.run("load", "hostfile", str(bad))
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.splitlines() == [
        f'error - {bad}:7: invalid rank "x": expected a whole number',
        f'error - {bad}:7: invalid ip "999.1.1.1": expected an IPv4 address such as 10.1.255.254',
        f'error - {bad}:7: invalid MAC address "zz": expected six hex octets such as 00:16:3e:00:00:01',
    ]  # the sheet itself is read first; the database's checks come once it reads
    bad.write_text(bad.read_text().replace("compute-1-5,compute,1,x,999.1.1.1,zz,eth0,nowhere",
                                           "compute-1-5,compute,1,5,10.1.255.248,52:54:00:00:00:06,eth0,nowhere"))
    res = ks.run("load", "hostfile", str(bad))
    assert res.stderr.splitlines() == [
        f"error - {bad}:3: IP 10.1.255.254 of compute-1-1 eth0 is also compute-1-0 eth0 (line 2) on network private",
        f"error - {bad}:4: MAC 52:54:00:00:00:01 of compute-1-2 eth0 is also compute-1-0 eth0 (line 2)",
        f'error - {bad}:5: unknown appliance "toaster"',
        f"error - {bad}:6: IP 10.1.200.1 of compute-1-4 eth0 is also compute-9-9 eth0 (in the database) on network private",
        f'error - {bad}:7: unknown network "nowhere"',
        f"error - {bad}:8: IP 192.168.1.1 of compute-1-6 eth0 is not on network private (10.1.0.0/16)",
        f"error - {bad}:9: MAC 52:54:00:00:99:99 of compute-1-7 eth0 is also compute-9-9 eth0 (in the database)",
    ]
    assert [r["host"] for r in json.loads(ks.ok("list", "host", "--json"))] == [
        json.loads(ks.ok("list", "host", "--json"))[0]["host"], "compute-9-9"]


def test_dry_run_shows_the_addresses_and_writes_nothing(ks, tmp_path):
    path = _setup(ks, tmp_path)
    assert ks.ok("load", "hostfile", str(path), "dry-run=yes") == (
        "dry run: 3 new hosts, 0 updated, 4 interfaces (2 addresses allocated); nothing written\n"
        "compute-0-1 eth0 10.1.255.253\n"
        "compute-0-2 eth0 10.1.255.252\n")
    assert "compute-0-0" not in ks.ok("list", "host")


def test_replace_and_merge(ks, tmp_path):
    path = _setup(ks, tmp_path)
    ks.ok("load", "hostfile", str(path))
    one = tmp_path / "one.csv"
    one.write_text("NAME,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK\n"
                   "compute-0-0,,,,10.1.255.100,52:54:00:00:00:01,eth0,private\n")
    ks.ok("load", "hostfile", str(one), "mode=merge")
    got = _ifaces(ks)
    assert got[("compute-0-0", "eth0")][0] == "10.1.255.100" and ("compute-0-0", "ib0") in got
    ks.ok("load", "hostfile", str(one))  # replace: the sheet's interfaces are the host's
    assert ("compute-0-0", "ib0") not in _ifaces(ks)


def test_a_sheet_with_stray_carriage_returns_gets_line_errors_not_a_traceback(ks, tmp_path):
    sheet = tmp_path / "cr.csv"
    sheet.write_bytes(b"NAME,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK\r\n"
                      b"compute-1-0,compute,1,0,10.1.255.254,52:54:00:00:00:01,eth0,private\r0\n")
    res = ks.run("load", "hostfile", str(sheet))
    assert res.exit_code == 1 and res.stderr.startswith(f"error - {sheet}:3: "), res.stderr
    assert all(line.startswith("error - ") for line in res.stderr.splitlines())
    assert "compute-1-0" not in ks.ok("list", "host")
