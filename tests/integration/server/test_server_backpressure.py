"""Back-pressure through the real gunicorn server, with genuinely slow kickstart generation.

No test hook in the server: a site graph directory (``KSSERVER_GRAPH``) adds an edge
``compute → slow`` whose node lists 300,000 packages, so rendering a compute host's
kickstart takes about a second of CPU while it holds a slot. Rendered kickstarts are cached
per host while nothing changes, so each phase uses hosts not yet rendered (or changes one of
their attributes); and the slow node names the host and ``test_bump`` inside an XML
attribute, so its part is never shared between hosts or bumps (node parts, ``graph.engine``).

Waits are event-driven, never fixed sleeps. A *probe* is a kickstart request from a known
host whose generation fails at once (500): it takes a slot like any known host, so it
answers 503 exactly when every slot is held by someone else; that is how a test knows its
slow requests are generating right now. A probe holds a slot for a moment itself, so a slow
request may meet a 503 at that moment: it asks again, as an installer does. A stranger is
refused (403) before it could take a slot: a flood of them cannot hold installers back.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from server_helpers import add_compute, wait_for_status
from waiting import wait_until

KS = "/install/sbin/kickstart.cgi"
LIMIT = 2
SLOW_PACKAGES = 300_000
UNKNOWN = "127.0.99.99"  # a source address no host has
TIMEOUT = 60  # generous bound of every wait: reaching it is a failure, not a flake


@pytest.fixture(scope="module")
def site_graph(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("slow-site")
    (site / "graphs" / "default").mkdir(parents=True)
    (site / "nodes").mkdir()
    (site / "graphs" / "default" / "slow.xml").write_text('<graph><edge from="compute" to="slow"/></graph>\n')
    with open(site / "nodes" / "slow.xml", "w") as fh:
        fh.write('<kickstart><description host="&hostname; &test_bump;">slow to render</description>\n')
        fh.writelines(f"<package>slow-package-{i}</package>\n" for i in range(SLOW_PACKAGES))
        fh.write("</kickstart>\n")
    # the root node of a "broken" appliance: an undefined entity, so generation fails (500)
    (site / "nodes" / "broken.xml").write_text("<kickstart><post>echo &no_such_attribute;</post></kickstart>\n")
    return site


BROKEN = "127.0.10.9"


def _hosts(ks, n: int) -> dict[str, str]:
    """compute-0-<i> for i < n, by loopback source address 127.0.10.<i+1>; and the probe,
    compute-0-8 at BROKEN, whose appliance's root node references an undefined entity."""
    ks.ok("add", "network", "loop", "127.0.0.0", "255.0.0.0", "dnszone=loop")
    ks.ok("set", "attr", "test_bump", "0")
    hosts = {}
    for i in range(n):
        name = f"compute-0-{i}"
        add_compute(ks, name, f"10.1.255.{254 - i}", f"00:16:3e:00:00:{i:02x}")
        ks.ok("add", "host", "interface", name, "eth1", f"ip=127.0.10.{i + 1}", "subnet=loop",
              f"mac=00:16:3e:00:01:{i:02x}")
        hosts[f"127.0.10.{i + 1}"] = name
    add_compute(ks, "compute-0-8", "10.1.255.200", "00:16:3e:00:00:88")
    ks.ok("add", "host", "interface", "compute-0-8", "eth1", f"ip={BROKEN}", "subnet=loop", "mac=00:16:3e:00:01:88")
    ks.ok("add", "appliance", "broken", "membership=Broken", "node=broken")
    ks.ok("set", "host", "appliance", "compute-0-8", "broken")
    return hosts


def _start(ks, serve, site: Path):
    ks.ok("set", "attr", "max_concurrent_profiles", str(LIMIT))
    return serve(ks, "workers=1", "threads=8", extra_env={"KSSERVER_GRAPH": str(site)})


def _wait(predicate, what: str):
    return wait_until(predicate, what, TIMEOUT, 0.02)


@dataclass
class Reply:
    status: int
    body: str
    headers: dict


def _busy(reply) -> None:
    """The 503 an installer gets beyond the limit: one line, and when to come back."""
    assert reply.status == 503, (reply.status, reply.body)
    assert reply.headers["retry-after"] == "15"
    assert reply.body == "Service is Busy\n"


class RawKs:
    """A kickstart request on a bare socket, so the client can walk away mid-request."""

    def __init__(self, srv, source: str):
        self.source = source
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT, source_address=(source, 0))
        self.sock.sendall(f"GET {KS} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    def answered(self) -> bool:
        return bool(select.select([self.sock], [], [], 0)[0])

    def reply(self) -> Reply:
        chunks = []
        try:
            while chunk := self.sock.recv(1 << 20):
                chunks.append(chunk)
        finally:
            self.sock.close()
        head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
        if not sep:
            raise ConnectionError(f"no reply to {self.source}: {head[:200]!r}")
        status, *fields = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        return Reply(int(status.split()[1]), body.decode(), headers)

    def abandon(self, reset: bool = False) -> None:
        if reset:  # RST instead of FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def _saturate(ks, srv, hosts: dict[str, str]) -> dict[str, RawKs]:
    """Slow requests from ``hosts`` (LIMIT of them); returns once a probe has seen every
    slot held by them (each probe's 503 checked on the way)."""
    assert len(hosts) == LIMIT
    reqs = {s: RawKs(srv, s) for s in hosts}
    bumps = itertools.count()

    def full() -> bool:
        for source, req in reqs.items():
            if req.answered():
                reply = req.reply()
                if reply.status == 200:  # done before a probe saw it: make it render again
                    ks.ok("set", "host", "attr", hosts[source], "test_bump", str(next(bumps)))
                else:  # a probe held a slot just then
                    _busy(reply)
                reqs[source] = RawKs(srv, source)
        reply = srv.request(KS, source=BROKEN)
        if reply.status == 503:
            _busy(reply)
            return True
        assert reply.status == 500, (reply.status, reply.body)
        return False

    _wait(full, "the slow requests to hold every slot")
    return reqs


def _no_slot_held(ks, srv) -> None:
    """With the limit at 1, a probe gets a slot only if none is held: every one came back."""
    ks.ok("set", "attr", "max_concurrent_profiles", "1")
    _wait(lambda: srv.request(KS, source=BROKEN).status == 500, "every slot to be free")
    ks.ok("set", "attr", "max_concurrent_profiles", str(LIMIT))


def _limit_concurrent_ok(ks, srv, hosts: dict[str, str]) -> None:
    """LIMIT slow requests, seen holding every slot at once, all end in 200."""
    for source, req in _saturate(ks, srv, hosts).items():
        reply = req.reply()
        assert reply.status == 200, (source, reply.status, reply.body[:300])
        assert "slow-package-0\n" in reply.body and f"slow-package-{SLOW_PACKAGES - 1}\n" in reply.body


def _stages(ks) -> dict[str, str | None]:
    return {r["host"]: r["stage"] for r in json.loads(ks.ok("list", "host", "status", "--json"))}


def _pick(hosts: dict[str, str], *indexes: int) -> dict[str, str]:
    items = list(hosts.items())
    return dict(items[i] for i in indexes)


def test_beyond_the_limit_503_and_no_slot_leaks(ks, serve, site_graph):
    hosts = _hosts(ks, 4)
    broken = BROKEN
    srv = _start(ks, serve, site_graph)

    # (a) LIMIT generations in progress: beyond them, a known host gets a one-line 503 with
    # Retry-After: 15 (checked in _saturate, on every probe that met it); a stranger is
    # still refused outright, without a slot
    first = _pick(hosts, 0, 1)
    abandoned = _saturate(ks, srv, first)
    _busy(srv.request(KS, source=broken))
    stranger = srv.request(KS, source=UNKNOWN)
    assert (stranger.status, stranger.body) == (403, f"forbidden: unknown host {UNKNOWN}\n")

    # (b) ...whose clients then go away mid-request, one closing, one resetting the connection:
    # generation runs to its end (and is recorded), the reply meets a closed socket
    a, b = abandoned.values()
    a.abandon()
    b.abandon(reset=True)
    _wait(lambda: all(_stages(ks).get(h) == "profile" for h in first.values()), "the abandoned generations to end")
    # clients that go away while still sending the request never reach a slot
    for source in _pick(hosts, 2, 3):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10, source_address=(source, 0)) as s:
            s.sendall(f"GET {KS} HTTP/1.1\r\nHo".encode())
    # generation errors, more of them than there are slots: each a one-line, logged 500
    for _ in range(LIMIT + 1):
        r = srv.request(KS, source=broken)
        assert r.status == 500 and r.body == "error: cannot generate profile for compute-0-8\n", (r.status, r.body)
    wait_for_status(ks, {"compute-0-8": {"stage": "profile error"}})
    assert _stages(ks)["compute-0-8"] == "profile error"
    assert "no_such_attribute" in srv.log.read_text()

    # after all that, no slot is held, and LIMIT concurrent requests all get 200
    _no_slot_held(ks, srv)
    _limit_concurrent_ok(ks, srv, _pick(hosts, 2, 3))
    _no_slot_held(ks, srv)
    assert srv.proc.poll() is None


def _workers(master: int) -> set[int]:
    """The live child processes of ``master`` (gunicorn's workers), from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if int(ppid) == master and state != "Z" and comm != "nginx":  # nginx: the front, not a worker
            found.add(int(entry))
    return found


def test_worker_killed_mid_generation_leaks_no_slot(ks, serve, site_graph):
    hosts = _hosts(ks, 4)
    srv = _start(ks, serve, site_graph)
    assert srv.request(KS, source=UNKNOWN).status == 403  # the worker is up
    assert srv.request(KS, source=BROKEN).status == 500
    (worker,) = _workers(srv.proc.pid)
    doomed = _saturate(ks, srv, _pick(hosts, 0, 1))  # this worker holds every slot
    os.kill(worker, signal.SIGKILL)
    for req in doomed.values():
        # their worker died: the front asks again on a live one (a GET is safe to repeat),
        # or, when there is none yet, tells the installer to come back
        reply = req.reply()
        if reply.status == 200:
            assert f"slow-package-{SLOW_PACKAGES - 1}\n" in reply.body
        else:
            _busy(reply)
    # gunicorn's master replaces the worker
    new = _wait(lambda: (w := _workers(srv.proc.pid)) and worker not in w and w, "a new worker")
    assert len(new) == 1 and srv.proc.poll() is None
    # every slot is free in the server, and LIMIT concurrent requests all get 200
    _no_slot_held(ks, srv)
    _limit_concurrent_ok(ks, srv, _pick(hosts, 2, 3))
    assert f"(pid:{worker}) was sent SIGKILL" in srv.log.read_text()
