"""The install server through the real HTTP stack: gunicorn started as a subprocess,
requests from chosen 127/8 source addresses (each a distinct host)."""

import json

from server_helpers import add_compute, wait_for_status


def _cluster(ks, n=2):
    """compute-0-<i> with a private interface and a loopback interface 127.0.10.<i+1>."""
    ks.ok("add", "network", "loop", "127.0.0.0", "255.0.0.0", "dnszone=loop")
    for i in range(n):
        name = f"compute-0-{i}"
        add_compute(ks, name, f"10.1.255.{254 - i}", f"00:16:3e:00:00:{i:02x}")
        ks.ok("add", "host", "interface", name, "eth1", f"ip=127.0.10.{i + 1}", "subnet=loop",
              f"mac=00:16:3e:00:01:{i:02x}")


def _token(ks, host):
    ks.ok("set", "host", "boot", host, "action=install")
    return json.loads(ks.ok("list", "host", "boot", host, "showtoken=yes", "--json"))[0]["token"]


KS = "/install/sbin/kickstart.cgi"


def test_identification(ks, serve):
    _cluster(ks)
    ks.ok("add", "host", "frontend-0-0-0", "appliance=frontend", "rack=0", "rank=0")
    ks.ok("add", "host", "interface", "frontend-0-0-0", "eth1", "ip=127.0.20.1", "subnet=loop",
          "name=vi-1.rocksclusters.org")
    srv = serve(ks, "workers=1")
    # by source address; the public/ path is the same thing
    for path in (KS, "/install/sbin/public/kickstart.cgi"):
        r = srv.request(path, source="127.0.10.1")
        assert r.status == 200 and "compute-0-0" in r.body and r.body.strip(), r.body
        assert "compute-0-1" not in r.body
    # arch and np are used at once and recorded
    r = srv.request(KS + "?arch=i386&np=4", source="127.0.10.2")
    assert r.status == 200 and "(Compute, linux/i386)" in r.body
    host = json.loads(ks.ok("list", "host", "compute-0-1", "--json"))[0]
    assert host["cpus"] == 4
    assert ks.ok("list", "host", "attr", "compute-0-1", "attr=arch").split()[-2] == "i386"
    for bad in ("?arch=x86_64;rm", "?np=lots", "?np=0"):
        r = srv.request(KS + bad, source="127.0.10.2")
        assert r.status == 400 and len(r.body.splitlines()) == 1, (bad, r.body)
    # unknown source → 403 with one line; no client= backdoor
    r = srv.request(KS + "?client=compute-0-0", source="127.0.99.9")
    assert r.status == 403 and r.body.startswith("forbidden: unknown host 127.0.99.9") and len(r.body.splitlines()) == 1
    # a token identifies a host behind NAT (unknown source)…
    token = _token(ks, "compute-0-0")
    r = srv.request(f"{KS}?token={token}", source="127.0.99.9")
    assert r.status == 200 and "compute-0-0" in r.body
    # …but not from another known host's address, and a made-up token is refused
    r = srv.request(f"{KS}?token={token}", source="127.0.10.2")
    assert r.status == 403 and "another host" in r.body
    assert srv.request(f"{KS}?token=forged", source="127.0.99.9").status == 403
    # MAC headers: a spoof from an unknown address is refused (not trusted by default)
    spoof = {"X-RHN-Provisioning-MAC-0": "eth0 00:16:3E:00:00:00 e1000 ks"}
    r = srv.request(KS, source="127.0.99.8", headers=spoof)
    assert r.status == 403 and "MAC headers are not trusted" in r.body
    # a known host presenting another host's MAC is refused
    assert srv.request(KS, source="127.0.10.2", headers=spoof).status == 403
    # trusted on request: then the MAC names the host
    ks.ok("set", "attr", "trust_mac_headers", "true")
    r = srv.request(KS, source="127.0.99.8", headers=spoof)
    assert r.status == 200 and "compute-0-0" in r.body
    # the frontend VM's kickstart is its own (root node "server"), the same text the CLI prints
    r = srv.request(KS, source="127.0.20.1")
    assert r.status == 200 and r.body == ks.ok("list", "host", "profile", "frontend-0-0-0")
    # a generation error is a logged 500, never an empty 200
    ks.ok("add", "appliance", "gadget", "membership=Gadget", "node=no-such-node")
    ks.ok("set", "host", "appliance", "compute-0-1", "gadget")
    r = srv.request(KS, source="127.0.10.2")
    assert r.status == 500 and r.body.startswith("error: cannot generate profile for compute-0-1")
    assert 'profile for compute-0-1: node "no-such-node" is not in graph "default"' in srv.log.read_text()
    # every fetch is recorded, the MAC header text kept
    status = wait_for_status(ks, {"compute-0-0": {"stage": "profile", "address": "127.0.99.8"},
                                  "compute-0-1": {"stage": "profile error"}})
    assert status["compute-0-0"]["stage"] == "profile" and status["compute-0-0"]["address"] == "127.0.99.8"
    assert status["compute-0-1"]["stage"] == "profile error"


def test_lights_out_and_completion(ks, serve, tmp_path):
    _cluster(ks, 1)
    ks.ok("set", "attr", "tftpboot_dir", str(tmp_path / "tftp"))
    pxe = tmp_path / "tftp" / "pxelinux.cfg" / "0A01FFFE"  # compute-0-0 at 10.1.255.254
    ks.ok("add", "host", "frontend-0-0-0", "appliance=frontend", "rack=0", "rank=0")
    ks.ok("add", "host", "interface", "frontend-0-0-0", "eth1", "ip=127.0.20.1", "subnet=loop",
          "name=vi-1.rocksclusters.org")
    for roll in ("os", "base", "kernel"):
        ks.ok("add", "roll", roll, "version=5.2", "arch=x86_64")
        ks.ok("set", "host", "roll", "vi-1", roll, "5.2", "x86_64")
    ks.ok("set", "host", "attr", "vi-1", "Kickstart_PublicHostname", "vi-1.rocksclusters.org")
    srv = serve(ks, "workers=1")
    r = srv.request("/install/sbin/rolls.xml", source="127.0.20.1")
    assert r.status == 200 and r.body == ks.ok("report", "host", "roll", "vi-1")
    r = srv.request("/install/sbin/site.attrs", source="127.0.20.1")
    assert r.status == 200 and r.body == ks.ok("report", "host", "attr", "vi-1")
    assert "Kickstart_PublicHostname:vi-1.rocksclusters.org\n" in r.body
    assert srv.request("/install/sbin/site.attrs", source="127.0.99.1").status == 403
    assert srv.request("/install/sbin/rolls.xml", source="127.0.99.1").status == 403
    assert srv.request("/install/sbin/rolls.xml", source="127.0.10.1").status == 500  # not a frontend
    # completion: install → os, token revoked, and the PXE file boots the disk again
    token = _token(ks, "compute-0-0")
    assert f"?token={token} " in pxe.read_text()  # set host boot rewrote it at once
    assert srv.request(f"{KS}?token={token}", source="127.0.99.9").status == 200
    r = srv.request(f"/install/sbin/installed?token={token}", source="127.0.99.9", method="POST")
    assert r.status == 200
    row = json.loads(ks.ok("list", "host", "boot", "compute-0-0", "showtoken=yes", "--json"))[0]
    assert row["action"] == "os" and row["token"] is None
    assert pxe.read_text() == "default rocks\nprompt 0\nlabel rocks\n\tlocalboot 0\n"
    assert srv.request(f"{KS}?token={token}", source="127.0.99.9").status == 403
    # the original's CGI, by source address
    token = _token(ks, "compute-0-0")
    r = srv.request("/install/sbin/public/setPxeboot.cgi?action=os", source="127.0.10.1")
    assert r.status == 200
    assert json.loads(ks.ok("list", "host", "boot", "compute-0-0", "--json"))[0]["action"] == "os"
    wait_for_status(ks, {"frontend-0-0-0": {"stage": "site.attrs"}, "compute-0-0": {"stage": "installed"}})
    stages = json.loads(ks.ok("list", "host", "status", "--json"))
    assert {r["host"]: r["stage"] for r in stages}["frontend-0-0-0"] == "site.attrs"
    assert {r["host"]: r["stage"] for r in stages}["compute-0-0"] == "installed"


def test_two_servers_share_one_postgresql(ks, serve):
    if ks.backend != "postgresql":
        return
    _cluster(ks, 1)
    a, b = serve(ks, "workers=1"), serve(ks, "workers=1")
    assert "marker-one" not in a.request(KS, source="127.0.10.1").body
    ks.ok("set", "attr", "Kickstart_Timezone", "marker-one/Zone")
    for srv in (a, b):
        r = srv.request(KS, source="127.0.10.1")
        assert r.status == 200 and "marker-one/Zone" in r.body
    ks.ok("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "marker-two/Zone")
    for srv in (b, a):
        assert "marker-two/Zone" in srv.request(KS, source="127.0.10.1").body


def test_the_server_outlives_its_database_connections(ks, serve):
    """PostgreSQL drops every connection of the server (a restart, a failover): the next
    requests are answered all the same, on new connections."""
    if ks.backend != "postgresql":
        return
    import psycopg

    _cluster(ks, 1)
    srv = serve(ks, "workers=1", "threads=2")
    first = srv.request(KS, source="127.0.10.1")
    attrs = srv.request("/install/sbin/site.attrs", source="127.0.10.1")  # the other engine's path
    assert first.status == 200 and attrs.status == 200
    conninfo = ks.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert dropped >= 1
    for _ in range(3):
        r = srv.request(KS, source="127.0.10.1")
        assert (r.status, r.body) == (200, first.body)
        r = srv.request("/install/sbin/site.attrs", source="127.0.10.1")
        assert (r.status, r.body) == (200, attrs.body)
    assert "lost the database connection" in srv.log.read_text()  # seen, and said so



def test_https_with_certfile_and_keyfile(ks, serve, tmp_path):
    """With certfile= and keyfile=, installers fetch over HTTPS (the original always did)."""
    import http.client
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    _cluster(ks, 1)
    srv = serve(ks, "workers=1", f"certfile={cert}", f"keyfile={key}")
    context = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=30, source_address=("127.0.10.1", 0), context=context)
    try:
        conn.request("GET", KS)
        resp = conn.getresponse()
        body = resp.read().decode()
    finally:
        conn.close()
    assert resp.status == 200 and body == ks.ok("list", "host", "profile", "compute-0-0")
    assert ks.fails("serve", f"certfile={cert}") == "error - HTTPS needs both certfile= and keyfile="
    assert ks.fails("serve", f"certfile={cert}", f"keyfile={tmp_path}/nope.pem") == (
        f"error - cannot read keyfile {tmp_path}/nope.pem: No such file or directory"
    )


def test_half_sent_requests_from_a_stranger_hold_back_no_known_host(ks, serve):
    """64 connections from an unknown address send half a request line and stop: the front
    waits for them, the workers never see them, and a known host's kickstart comes at once."""
    import socket
    import time

    ks.ok("add", "network", "loop", "127.0.0.0", "255.0.0.0", "dnszone=loop")
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "ip=10.1.255.254", "mac=00:16:3e:00:00:01", "subnet=private")
    ks.ok("add", "host", "interface", "compute-0-0", "eth1", "ip=127.0.10.1", "subnet=loop")
    srv = serve(ks, "workers=1", "threads=2")
    stalled = []
    try:
        for _ in range(64):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5, source_address=("127.0.99.99", 0))
            s.sendall(b"GET /install/sbin/kicks")
            stalled.append(s)
        t = time.monotonic()
        for _ in range(20):
            r = srv.request("/install/sbin/kickstart.cgi", source="127.0.10.1")
            assert r.status == 200 and r.body == ks.ok("list", "host", "profile", "compute-0-0")
        assert time.monotonic() - t < 10
    finally:
        for s in stalled:
            s.close()


def test_no_gunicorn_control_socket_is_shared(ks, serve, tmp_path):
    """gunicorn's control socket would be one per machine ($XDG_RUNTIME_DIR/gunicorn.ctl),
    shared by every server on it: serve makes none."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    srv = serve(ks, "workers=1", extra_env={"XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)})
    assert srv.request("/install/sbin/kickstart.cgi", source="127.0.99.99").status == 403
    assert list(runtime.iterdir()) == [] and not (tmp_path / ".gunicorn").exists()
