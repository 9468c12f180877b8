"""insert-ethers through a real Kea: an unknown machine's DHCP request reaches the session
(Kea's run_script hook), it is named and registered, and its next DHCP request gets its
reservation; the session's JSON lines say so; the kickstart it fetches marks it done."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from pathlib import Path

import pytest

from insert_ethers import Session
from kea import KeaServer, ask, hosts_database
from netns import Netns
from waiting import wait_until

EXE = str(Path(sys.executable).with_name("ksserver"))
UNKNOWN = "52:54:00:aa:00:01"


@pytest.fixture(params=["file", "hosts-database"])
def kea(ks, tmp_path, request):
    """Kea with the reservations in its configuration, or in its hosts database (then a
    machine found is a row Kea reads at its next request)."""
    with contextlib.ExitStack() as stack:
        ns = stack.enter_context(Netns("10.1.1.1/16"))
        (tmp_path / "kea").mkdir()
        server = KeaServer(ns, tmp_path / "kea")
        for name, value in server.attrs().items():
            ks.ok("set", "attr", name, value)
        if request.param == "hosts-database":
            ks.ok("set", "attr", "Dhcp_HostsDatabase",
                  stack.enter_context(hosts_database(request.getfixturevalue("pg_server"))))
        ks.ok("set", "attr", "Discovery_Socket", str(tmp_path / "run" / "discovery.sock"))
        yield ns, server


def _dhcp(ns: Netns, tmp_path: Path, mac: str) -> dict | None:
    return ask(ns, tmp_path, mac, "0x5d:0000")


def test_an_unknown_machine_is_named_registered_and_reserved(ks, kea, tmp_path, serve):
    ns, server = kea
    ks.ok("add", "host", "compute-0-0")  # a taken name: the session takes the next one, it does not stall
    assert _dhcp(ns, tmp_path, UNKNOWN) is None  # no session: an unknown machine gets nothing
    session = Session(ks, "count=1")
    try:
        assert session.events[0] == {"event": "open", "appliance": "Compute", "network": "10.1.0.0/255.255.0.0"}
        # while it runs, a machine not yet known that asks for its iPXE script is told to ask DHCP again
        srv = serve(ks, "workers=1")
        retry = srv.request("/install/boot/ipxe", source="127.0.99.2")
        assert retry.status == 200 and retry.body.endswith("sleep 5\ndhcp\nchain --autofree ${filename}\n")
        first = _dhcp(ns, tmp_path, UNKNOWN)  # a pool lease, and the MAC to the session
        assert first is not None and first["ip"].startswith("10.1.0."), server.log.read_text()[-2000:]
        found = session.wait("discovered")
        assert found == {"event": "discovered", "mac": UNKNOWN, "host": "compute-0-1", "ip": "10.1.255.254"}
        again = wait_until(lambda: (_dhcp(ns, tmp_path, UNKNOWN) or {}).get("ip") == "10.1.255.254", timeout=30,
                           what="the reservation to be live in Kea")
        assert again
        row = json.loads(ks.ok("list", "host", "boot", "compute-0-1", "showtoken=yes", "--json"))[0]
        assert row["action"] == "install" and row["token"]
        # its kickstart fetched: marked, and with count=1 reached the session ends by itself
        assert srv.request(f"/install/sbin/kickstart.cgi?token={row['token']}", source="127.0.99.1").status == 200
        assert session.wait("kickstarted") == {"event": "kickstarted", "host": "compute-0-1", "mark": "(*)"}
        assert session.wait("closed") == {"event": "closed", "found": ["compute-0-1"]}
        assert session.proc.wait(30) == 0
        # the pool and the hook went with the session: an unknown machine gets nothing again
        assert "hooks-libraries" not in ks.ok("report", "host", "dhcp")
        assert _dhcp(ns, tmp_path, "52:54:00:aa:00:02") is None
        assert srv.request("/install/boot/ipxe", source="127.0.99.2").status == 403
    finally:
        session.stop()


def test_one_session_at_a_time_and_a_burst_is_named_in_order(ks, tmp_path):
    ks.ok("set", "attr", "Discovery_Socket", str(tmp_path / "run" / "discovery.sock"))
    session = Session(ks, "rack=3")
    try:
        res = ks.run("insert-ethers")
        assert res.exit_code == 1 and res.stderr.startswith("error - insert-ethers is already running (pid ")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        macs = [f"52:54:00:bb:00:{i:02x}" for i in range(20)]
        for mac in macs + macs[:5]:  # repeats are one machine each
            sock.sendto(json.dumps({"mac": mac.upper(), "ip": "", "iface": "eth0"}).encode(),
                        str(tmp_path / "run" / "discovery.sock"))
        found = [session.wait("discovered") for _ in macs]
        assert [f["mac"] for f in found] == macs
        assert [f["host"] for f in found] == [f"compute-3-{i}" for i in range(20)]
        assert [f["ip"] for f in found] == [f"10.1.255.{254 - i}" for i in range(20)]
    finally:
        session.stop()
    assert session.events[-1]["event"] in ("closed", "discovered")
    assert ks.run("insert-ethers", "count=0").stderr.startswith("error - invalid count 0")


def _announce(tmp_path, mac: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.sendto(json.dumps({"mac": mac, "ip": "", "iface": "eth0"}).encode(), str(tmp_path / "run" / "discovery.sock"))


def test_replace_remove_and_one_named_machine(ks, tmp_path):
    ks.ok("set", "attr", "Discovery_Socket", str(tmp_path / "run" / "discovery.sock"))
    ks.ok("set", "attr", "tftpboot_dir", str(tmp_path / "tftp"))
    ks.ok("add", "host", "compute-0-5")
    ks.ok("add", "host", "interface", "compute-0-5", "eth0", "mac=52:54:00:dd:00:01", "ip=10.1.255.254",
          "subnet=private")
    # replace: the broken machine's name, rack and rank go to the one that takes its place
    session = Session(ks, "replace=compute-0-5", "install=no")
    _announce(tmp_path, "52:54:00:dd:00:02")
    assert session.wait("discovered") == {"event": "discovered", "mac": "52:54:00:dd:00:02", "host": "compute-0-5",
                                          "ip": "10.1.255.254"}
    assert session.wait("closed") == {"event": "closed", "found": ["compute-0-5"]}
    rows = json.loads(ks.ok("list", "host", "interface", "compute-0-5", "--json"))
    assert [(r["iface"], r["mac"]) for r in rows] == [("eth0", "52:54:00:dd:00:02")]
    # its boot files are written before the session ends (after the burst: reservations first)
    assert "localboot" in (tmp_path / "tftp" / "pxelinux.cfg" / "0A01FFFE").read_text()
    assert (tmp_path / "tftp" / "grub" / "system" / "52:54:00:dd:00:02").exists()
    # hostname= and ipaddr=: one machine, that name and address
    session = Session(ks, "hostname=login-0-0", "ipaddr=10.1.100.1", "install=no")
    _announce(tmp_path, "52:54:00:dd:00:03")
    _announce(tmp_path, "52:54:00:dd:00:04")  # a second machine: not this session's
    assert session.wait("discovered")["host"] == "login-0-0"
    assert session.wait("closed") == {"event": "closed", "found": ["login-0-0"]}
    assert json.loads(ks.ok("list", "host", "interface", "login-0-0", "--json"))[0]["ip"] == "10.1.100.1"
    assert "52:54:00:dd:00:04" not in ks.ok("list", "host", "interface")
    assert ks.ok("insert-ethers", "remove=login-0-0") == "Removed node login-0-0\n"
    assert "login-0-0" not in ks.ok("list", "host")
