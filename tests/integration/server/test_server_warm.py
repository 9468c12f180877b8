"""Rendering ahead: ``ksserver serve`` renders the kickstarts of hosts set to install before
they ask, and what it serves is still exactly what ``list host profile`` prints, changes
included."""

from __future__ import annotations

import time

from server_helpers import add_compute
from waiting import wait_until

KS = "/install/sbin/kickstart.cgi"


def _cluster(ks, n: int) -> None:
    ks.ok("add", "network", "loop", "127.0.0.0", "255.0.0.0", "dnszone=loop")
    for i in range(n):
        name = f"compute-0-{i}"
        add_compute(ks, name, f"10.1.255.{254 - i}", f"00:16:3e:00:00:{i:02x}")
        ks.ok("add", "host", "interface", name, "eth1", f"ip=127.0.10.{i + 1}", "subnet=loop")


def _wait_log(srv, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = srv.log.read_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"the server never logged {text!r}:\n{srv.log.read_text()[-2000:]}")


def test_hosts_set_to_install_are_rendered_ahead(ks, serve):
    _cluster(ks, 4)
    ks.ok("set", "host", "boot", "compute-0-0", "compute-0-1", "compute-0-2", "action=install")
    # one of them cannot be generated: rendering ahead skips it, its request reports it
    ks.ok("add", "appliance", "gadget", "membership=Gadget", "node=no-such-node")
    ks.ok("set", "host", "appliance", "compute-0-2", "gadget")
    srv = serve(ks, "workers=1")
    _wait_log(srv, "rendered 2 kickstarts ahead of their hosts' requests")
    for i in (0, 1, 3):
        r = srv.request(KS, source=f"127.0.10.{i + 1}")
        assert r.status == 200 and r.body == ks.ok("list", "host", "profile", f"compute-0-{i}")
    r = srv.request(KS, source="127.0.10.3")
    assert r.status == 500 and r.body.startswith("error: cannot generate profile for compute-0-2")
    # a change after rendering ahead shows in the next answer, and the host set to install
    # since is rendered ahead in its turn
    ks.ok("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Europe/Paris")
    ks.ok("set", "host", "boot", "compute-0-3", "action=install")
    r = srv.request(KS, source="127.0.10.1")
    assert r.status == 200 and "timezone Europe/Paris" in r.body
    assert r.body == ks.ok("list", "host", "profile", "compute-0-0")


def test_after_a_global_change_every_host_is_rendered_ahead_again(ks, serve):
    """Rendering ahead used to skip the hosts it had rendered once, so after any change the
    next burst found nothing ready."""
    _cluster(ks, 3)
    ks.ok("set", "host", "boot", "compute-0-0", "compute-0-1", "compute-0-2", "action=install")
    srv = serve(ks, "workers=1")
    _wait_log(srv, "rendered 3 kickstarts ahead of their hosts' requests")
    ks.ok("set", "attr", "Kickstart_Timezone", "Asia/Tokyo")
    wait_until(lambda: srv.log.read_text().count("rendered 3 kickstarts ahead") == 2,
               "the server to render ahead again after a global change", 30, 0.05)
    for i in range(3):
        r = srv.request(KS, source=f"127.0.10.{i + 1}")
        assert r.status == 200 and "timezone Asia/Tokyo" in r.body
        assert r.body == ks.ok("list", "host", "profile", f"compute-0-{i}")


def test_warm_no_renders_nothing_ahead(ks, serve):
    _cluster(ks, 1)
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    srv = serve(ks, "workers=1", "warm=no")
    r = srv.request(KS, source="127.0.10.1")
    assert r.status == 200 and r.body == ks.ok("list", "host", "profile", "compute-0-0")
    assert "ahead" not in srv.log.read_text()


def test_warm_takes_yes_or_no(ks):
    r = ks.run("serve", "bind=127.0.0.1:1", "warm=maybe")
    assert r.exit_code == 1 and r.stderr.strip() == 'error - warm= takes yes or no, not "maybe"'
