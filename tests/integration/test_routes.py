"""Static routes at the four levels: the one fold, the original's report format, init's."""

from __future__ import annotations

import json


def test_init_makes_the_originals_routes_and_a_host_folds_its_levels(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "subnet=private", "ip=10.1.255.254")
    assert ks.ok("list", "route").splitlines() == [
        "NETWORK          NETMASK         GATEWAY ",
        "0.0.0.0:         0.0.0.0         10.1.1.1",
        "224.0.0.0:       255.255.255.0   private ",
        "255.255.255.255: 255.255.255.255 private "]
    ks.ok("add", "appliance", "route", "compute", "192.168.5.0", "10.1.1.5", "netmask=255.255.255.0")
    ks.ok("add", "os", "route", "linux", "192.168.5.0", "10.1.1.9", "netmask=255.255.255.0")
    ks.ok("add", "host", "route", "compute-0-0", "172.16.0.7", "10.1.1.6")
    rows = json.loads(ks.ok("list", "host", "route", "compute-0-0", "--json"))
    assert [(r["network"], r["gateway"], r["source"]) for r in rows] == [
        ("0.0.0.0", "10.1.1.1", "G"), ("172.16.0.7", "10.1.1.6", "H"), ("192.168.5.0", "10.1.1.5", "A"),
        ("224.0.0.0", "private", "G"), ("255.255.255.255", "private", "G")]
    # the original's static-routes lines; the default route is not among them
    assert ks.ok("report", "host", "route", "compute-0-0") == (
        "any host 172.16.0.7 gw 10.1.1.6\n"
        "any net 192.168.5.0 netmask 255.255.255.0 gw 10.1.1.5\n"
        "any net 224.0.0.0 netmask 255.255.255.0 dev eth0\n"
        "any host 255.255.255.255 dev eth0\n")
    # report host network's GATEWAY is the default route: the frontend's own, the others' global
    assert "GATEWAY=137.110.119.1\n" in ks.ok("report", "host", "network", "bayou")
    ks.ok("remove", "route", "0.0.0.0")
    ks.ok("add", "route", "0.0.0.0", "10.1.1.254", "netmask=0.0.0.0")
    assert "GATEWAY=10.1.1.254\n" in ks.ok("report", "host", "network", "compute-0-0")
    ks.ok("remove", "appliance", "route", "compute", "192.168.5.0")
    assert "192.168.5.0 netmask 255.255.255.0 gw 10.1.1.9" in ks.ok("report", "host", "route", "compute-0-0")


def test_bad_routes_are_refused_with_one_line(ks):
    assert ks.fails("add", "route", "0.0.0.0", "10.1.1.2", "netmask=0.0.0.0") == 'error - route "0.0.0.0" exists'
    assert ks.fails("add", "route", "10.0.0.0", "1.2.3.4", "netmask=0.0.0.255") == (
        'error - invalid netmask "0.0.0.255": the one bits must come first')
    assert ks.fails("add", "route", "10.0.0.1", "1.2.3.4", "netmask=255.0.0.0") == (
        "error - invalid route 10.0.0.1/255.0.0.0: the netmask leaves host bits in the network")
    assert ks.fails("add", "route", "10.0.0.300", "1.2.3.4") == 'error - invalid network "10.0.0.300": expected an IPv4 address such as 10.1.255.254'
    assert ks.fails("remove", "host", "route", "bayou", "1.1.1.1") == 'error - no route "1.1.1.1" for host "bayou"'
    assert ks.fails("add", "host", "route", "nosuch", "1.1.1.1", "10.1.1.1").startswith("error - ")
