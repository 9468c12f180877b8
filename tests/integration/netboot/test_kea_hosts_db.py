"""Kea's reservations in its hosts database (``Dhcp_HostsDatabase``): a real Kea in the test's
network namespace reads them from a real PostgreSQL (the suite's server, Kea's schema made
by ``kea-admin db-init pgsql`` as a site makes it), and busybox's ``udhcpc`` asks.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from kea import ask as _ask
from kea import hosts_database

MAC = "52:54:00:00:00:01"


@pytest.fixture
def hosts_db(pg_server):
    """Its URL: the attribute's value, and what psycopg connects with."""
    with hosts_database(pg_server) as url:
        yield url


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [(bytes(i).hex(":"), s, ip, n, c) for i, s, ip, n, c in conn.execute(
            "SELECT dhcp_identifier, dhcp4_subnet_id, ipv4_address, hostname, user_context FROM hosts "
            "ORDER BY host_id")]


def _ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def _commands(server, name: str) -> int:
    return server.log.read_text().count(f"Received command '{name}'")


def test_reservations_are_rows_kea_reads_and_a_host_change_sends_kea_nothing(ks, kea, hosts_db, tmp_path):
    ns, server = kea
    url = hosts_db
    for name, value in server.attrs().items():
        ks.ok("set", "attr", name, value)
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")
    private = json.loads(ks.ok("report", "host", "dhcp"))["Dhcp4"]["subnet4"][0]["id"]

    ks.ok("set", "attr", "Dhcp_HostsDatabase", url)  # DHCP follows: the row, and the configuration naming it
    mark = '{"ksserver": true}'
    assert _rows(url) == [(MAC, private, _ip("10.1.255.254"), "compute-0-0", mark)]
    written = json.loads(server.config.read_text())["Dhcp4"]
    assert written["subnet4"][0].get("reservations", []) == []  # Kea writes its empty default
    assert [d["name"] for d in written["hosts-databases"]] == [url.split("/")[3].split("?")[0]]
    assert written["host-reservation-identifiers"] == ["hw-address"]
    got = _ask(ns, tmp_path, MAC, "0x5d:0000")
    assert got is not None, server.log.read_text()[-3000:]
    assert (got["ip"], got["hostname"], got["boot_file"]) == ("10.1.255.254", "compute-0-0", "undionly.kpxe")

    # one host's change is one row; Kea is sent no configuration, and answers with it at once
    sets = _commands(server, "config-set")
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    assert _commands(server, "config-set") == sets
    assert _rows(url) == [(MAC, private, _ip("10.1.255.200"), "compute-0-0", mark)]
    assert _ask(ns, tmp_path, MAC, "0x5d:0000")["ip"] == "10.1.255.200"
    # sync dhcp with nothing to change reports the configuration applied, no row touched
    assert ks.ok("sync", "dhcp") == f"applied DHCP for 1 network and 1 interface (Kea, {server.socket})\n"
    ks.ok("add", "host", "compute-0-1")
    ks.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:02", "ip=10.1.255.253",
          "subnet=private")
    assert len(_rows(url)) == 2 and _commands(server, "config-set") == sets + 1

    # a site's own reservation stays; one that holds a MAC ksserver needs is named, and the
    # command that needed it is undone
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, ipv4_address, "
                     "hostname) VALUES (%s, 0, %s, %s, 'printer')",
                     (bytes.fromhex("525400000003"), private, _ip("10.1.200.1")))
    ks.ok("add", "host", "compute-0-2")
    err = ks.fails("add", "host", "interface", "compute-0-2", "eth0", "mac=52:54:00:00:00:03", "ip=10.1.255.252",
                   "subnet=private")
    assert err == ("error - host compute-0-2 interface eth0: 52:54:00:00:00:03 is also held on network private by "
                   "a reservation ksserver did not write in Kea's hosts database (printer)")
    assert "eth0" not in ks.ok("list", "host", "interface", "compute-0-2")
    ks.ok("remove", "host", "compute-0-1")
    ks.ok("remove", "host", "compute-0-2")
    assert [r[3] for r in _rows(url)] == ["compute-0-0", "printer"]
    assert _ask(ns, tmp_path, "52:54:00:00:00:03", "0x5d:0000")["ip"] == "10.1.200.1"

    # back to the configuration file: the reservations go back into it; the database, no longer named, stays
    ks.ok("remove", "attr", "Dhcp_HostsDatabase")
    assert [r[3] for r in _rows(url)] == ["compute-0-0", "printer"]  # no database named: left as they are
    written = json.loads(server.config.read_text())["Dhcp4"]
    assert "hosts-databases" not in written and "hosts-database" not in written
    assert [r["hw-address"] for r in written["subnet4"][0]["reservations"]] == [MAC]


def test_the_database_kea_cannot_use_is_refused_in_one_line(ks, kea, hosts_db, tmp_path):
    ns, server = kea
    url = hosts_db
    for name, value in server.attrs().items():
        ks.ok("set", "attr", name, value)
    assert ks.fails("set", "attr", "Dhcp_HostsDatabase", "mysql://kea@localhost/kea") == (
        'error - attribute "Dhcp_HostsDatabase" must be a PostgreSQL URL, '
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (Kea's hosts database)")
    assert ks.fails("set", "attr", "Dhcp_HostsDatabase", "postgresql://kea@localhost/kea?sslmode=require") == (
        'error - attribute "Dhcp_HostsDatabase": Kea cannot be given the connection parameter sslmode')
    assert ks.fails("set", "attr", "Dhcp_HostsDatabase", "postgresql://kea:a%20b@localhost/kea") == (
        'error - attribute "Dhcp_HostsDatabase": its password holds a space, a quote, a backslash or an "=", '
        "which Kea cannot pass on")
    # a database without Kea's schema
    bare = url.replace("/kea_hosts_", "/postgres?x=").split("?x=")[0] + "?" + url.split("?")[1]
    assert ks.fails("set", "attr", "Dhcp_HostsDatabase", bare).startswith(
        "error - Kea's hosts database ksserver@")
    assert "no hosts table: create Kea's schema there first (kea-admin db-init pgsql)" in ks.fails(
        "set", "attr", "Dhcp_HostsDatabase", bare)
    assert "Dhcp_HostsDatabase" not in ks.ok("list", "attr")


def test_two_writers_take_turns_on_kea_s_hosts_database(ks, kea, hosts_db):
    """Several web nodes may apply DHCP at once: a command waits for the writer before it
    (the advisory lock), then reads what that one committed."""
    import threading

    from ksserver.services import keahosts
    from waiting import wait_until

    _ns, server = kea
    url = hosts_db
    for name, value in server.attrs().items():
        ks.ok("set", "attr", name, value)
    ks.ok("set", "attr", "Dhcp_HostsDatabase", url)
    ks.ok("add", "host", "compute-0-0")
    done = []
    with psycopg.connect(url) as other:  # another node, in the middle of its own apply
        other.execute("SELECT pg_advisory_xact_lock(%s)", (keahosts.LOCK,))
        worker = threading.Thread(target=lambda: done.append(ks.run(
            "add", "host", "interface", "compute-0-0", "eth0", f"mac={MAC}", "ip=10.1.255.254", "subnet=private")))
        worker.start()
        with psycopg.connect(url, autocommit=True) as look:
            wait_until(lambda: look.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                            "AND NOT granted").fetchone()[0] == 1,
                       timeout=30, what="the command to wait for the lock")
        assert worker.is_alive() and _rows(url) == []
    # the other node committed: the command goes on
    worker.join(60)
    assert done and done[0].exit_code == 0, done and done[0].stderr
    assert [r[:4] for r in _rows(url)] == [(MAC, _subnet(ks), _ip("10.1.255.254"), "compute-0-0")]


def _subnet(ks) -> int:
    return json.loads(ks.ok("report", "host", "dhcp"))["Dhcp4"]["subnet4"][0]["id"]
