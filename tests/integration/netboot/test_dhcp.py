"""DHCP through a real Kea: ``sync dhcp`` applies the inventory, a DHCP client on the
cluster's bridge gets its reservation and the boot file for what it says it is.

Everything runs in a network namespace the test makes (``netns.Netns``): Kea listens on the
frontend's bridge there, and busybox's ``udhcpc`` asks from the far end of a veth pair.
"""

from __future__ import annotations

import json
import os
import subprocess


from goldens import expect
from kea import KeaServer
from kea import ask as _ask

MAC = "52:54:00:00:00:01"


def _cluster(ks, server: KeaServer) -> None:
    for name, value in server.attrs().items():
        ks.ok("set", "attr", name, value)
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")


def test_sync_dhcp_serves_each_reserved_machine_its_address_and_boot_file(ks, kea, tmp_path):
    ns, server = kea
    _cluster(ks, server)
    assert ks.ok("sync", "dhcp") == f"applied DHCP for 1 network and 1 interface (Kea, {server.socket})\n"

    uefi = _ask(ns, tmp_path, MAC, "0x5d:0007")
    assert uefi is not None, server.log.read_text()[-3000:]
    assert (uefi["ip"], uefi["siaddr"], uefi["boot_file"]) == ("10.1.255.254", "10.1.1.1", "snponly.efi")
    assert (uefi["router"], uefi["dns"], uefi["domain"], uefi["mask"]) == ("10.1.1.1", "10.1.1.1", "local", "16")
    assert uefi["hostname"] == "compute-0-0"
    bios = _ask(ns, tmp_path, MAC, "0x5d:0000")
    assert bios["boot_file"] == "undionly.kpxe"
    # iPXE (user class "iPXE"), whatever firmware runs it, is sent to its HTTP script
    ipxe = _ask(ns, tmp_path, MAC, "0x5d:0007", "0x4d:69505845")
    assert ipxe["boot_file"] == "http://10.1.1.1/install/boot/ipxe"
    # UEFI HTTP boot is sent iPXE's EFI binary over HTTP, and told it is an HTTP boot answer
    http = _ask(ns, tmp_path, MAC, "0x5d:0010", vendor="HTTPClient:Arch:00016:UNDI:003001")
    assert http["boot_file"] == "http://10.1.1.1/install/boot/ipxe.efi"
    assert server.leased()[MAC] == "10.1.255.254"
    # a machine the inventory does not know gets nothing: there is no pool
    assert _ask(ns, tmp_path, "52:54:00:00:00:99", "0x5d:0000") is None
    # Kea wrote what it was given to its configuration file (config-write)
    written = json.loads(server.config.read_text())["Dhcp4"]
    assert written["subnet4"][0]["reservations"] == [
        {"hw-address": MAC, "ip-address": "10.1.255.254", "hostname": "compute-0-0"} | _kea_defaults(written)
    ]


def _kea_defaults(written: dict) -> dict:
    """The keys Kea adds to a reservation when it writes it back (its defaults, not ours)."""
    got = written["subnet4"][0]["reservations"][0]
    return {k: v for k, v in got.items() if k not in ("hw-address", "ip-address", "hostname")}


def _commands(server: KeaServer, name: str) -> int:
    return server.log.read_text().count(f"Received command '{name}'")


def test_dhcp_follows_each_command_and_a_refused_change_is_undone(ks, kea, tmp_path):
    ns, server = kea
    _cluster(ks, server)  # setting the socket applied DHCP already: no sync needed
    assert _ask(ns, tmp_path, MAC, "0x5d:0000")["ip"] == "10.1.255.254"
    # a change DHCP does not see applies nothing; one it sees applies once
    sets = _commands(server, "config-set")
    ks.ok("set", "host", "attr", "compute-0-0", "rack_note", "x")
    assert _commands(server, "config-set") == sets
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    assert _commands(server, "config-set") == sets + 1
    assert _ask(ns, tmp_path, MAC, "0x5d:0000")["ip"] == "10.1.255.200"
    # a change Kea refuses is undone, and the last good configuration still serves
    ks.ok("add", "network", "ipmi", "192.168.7.0", "255.255.255.0")
    err = ks.fails("add", "host", "interface", "localhost", "ipmi0", "ip=192.168.7.1", "subnet=ipmi")
    assert err.startswith("error - Kea refused the configuration for network ipmi (interface ipmi0): ")
    assert "\n" not in err and "ipmi0" not in ks.ok("list", "host", "interface", "localhost")
    assert _ask(ns, tmp_path, MAC, "0x5d:0000")["ip"] == "10.1.255.200"
    # Kea gone: the change stands, with a warning saying how to apply it later
    server.proc.terminate()
    server.proc.wait(10)
    res = ks.run("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.201")
    assert res.exit_code == 0 and res.stdout == ""
    assert res.stderr == (f"warning - DHCP not applied: cannot reach Kea's control socket {server.socket}: "
                          "No such file or directory; `ksserver sync dhcp` applies it once Kea runs\n")


def test_the_plan_names_the_host_kea_could_not_serve(ks):
    """The inventory refuses a MAC twice; a row written around it (by hand, by another tool)
    must not reach Kea as two reservations: the plan names both hosts."""
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-1")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")
    ks.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:02", "ip=10.1.255.253",
          "subnet=private")
    assert ks.fails("set", "host", "interface", "mac", "compute-0-1", "eth0", MAC.upper()) == (
        f'error - MAC {MAC} is already used by host "compute-0-0"')
    from sqlalchemy import create_engine, text

    engine = create_engine(ks.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE interfaces SET mac = :mac WHERE ip = '10.1.255.253'"), {"mac": MAC})
    engine.dispose()
    assert ks.fails("report", "host", "dhcp") == (
        f"error - host compute-0-1 interface eth0: {MAC} is also compute-0-0 interface eth0's on network private")


def test_the_dhcpd_form_is_what_isc_dhcpd_reads(ks, tmp_path):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")
    conf = tmp_path / "dhcpd.conf"
    conf.write_text(ks.ok("report", "host", "dhcpd"))
    checked = subprocess.run(["dhcpd", "-t", "-cf", str(conf)], capture_output=True, text=True,
                             env={**os.environ, "PATH": "/usr/sbin:/sbin:" + os.environ.get("PATH", "")})
    assert checked.returncode == 0, checked.stderr
    text = conf.read_text()
    assert f"\thost compute-0-0-eth0 {{\n\t\thardware ethernet {MAC};\n\t\tfixed-address 10.1.255.254;\n" in text


def test_dhcp_configurations_of_a_small_cluster(ks):
    """Both forms, whole, for a frontend and three computes (one with a second NIC on a
    network the frontend does not serve: no reservation for it)."""
    ks.ok("add", "network", "ib", "192.168.9.0", "255.255.255.0")
    for i, last in enumerate((254, 253, 252)):
        ks.ok("add", "host", f"compute-0-{i}")
        ks.ok("add", "host", "interface", f"compute-0-{i}", "eth0", f"mac=52:54:00:00:00:0{i + 1}",
              f"ip=10.1.255.{last}", "subnet=private")
    ks.ok("add", "host", "interface", "compute-0-2", "ib0", "mac=52:54:00:00:09:03", "ip=192.168.9.3", "subnet=ib")
    ks.ok("set", "attr", "Dhcp_UefiLoader", "ipxe.efi")
    expect("netboot/kea-dhcp4.json", ks.ok("report", "host", "dhcp"))
    expect("netboot/dhcpd.conf", ks.ok("report", "host", "dhcpd"))


def test_with_a_hosts_database_kea_is_given_no_reservation_but_the_database(ks):
    """``Dhcp_HostsDatabase``: the reservations are rows there (test_kea_hosts_db.py); Kea's
    configuration names the database and asks it by MAC only."""
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")
    ks.ok("set", "attr", "Dhcp_HostsDatabase", "postgresql://kea:s3cret@db.local:5433/kea?connect_timeout=5")
    expect("netboot/kea-dhcp4-hostsdb.json", ks.ok("report", "host", "dhcp"))
