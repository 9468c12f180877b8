"""The shipped graph rendered for demo hosts: byte-for-byte goldens, pykickstart-valid.

Goldens: ``tests/goldens.py`` (``KSSERVER_UPDATE_GOLDEN=1`` regenerates them).
"""


import pytest
from goldens import expect
from graph_helpers import ROOTS, demo_attrs
from pykickstart.parser import KickstartParser
from pykickstart.version import RHEL9, makeVersion

from ksserver.graph import (
    Graph,
    kickstart_from_xml,
    render_node_kickstart,
    render_node_xml,
)


def golden(name: str, text: str) -> None:
    expect(f"graph/{name}", text)


def pykickstart_parse(text: str):
    parser = KickstartParser(makeVersion(RHEL9))
    parser.readKickstartFromString(text)
    return parser.handler


@pytest.mark.parametrize("appliance", ["compute", "frontend"])
def test_kickstart_golden(shipped, appliance):
    text = Graph.load(shipped).render_kickstart(ROOTS[appliance], demo_attrs(appliance))
    golden(f"{appliance}.ks", text)
    handler = pykickstart_parse(text)
    assert handler.rootpw.isCrypted
    assert handler.rootpw.password.startswith("$6$")


@pytest.mark.parametrize("appliance", ["compute", "frontend"])
def test_xml_golden(shipped, appliance):
    text = render_node_xml(shipped, ROOTS[appliance], demo_attrs(appliance))
    golden(f"{appliance}.xml", text)
    assert text.startswith('<?xml version="1.0" standalone="no"?>\n<!DOCTYPE kickstart [\n')


@pytest.mark.parametrize("appliance", sorted(ROOTS))
def test_every_appliance_is_valid_kickstart(shipped, appliance):
    attrs = demo_attrs(appliance)
    for extra in ({}, {"x11": "true"}, {"ssh_use_dns": "false"}):
        text = render_node_kickstart(shipped, ROOTS[appliance], {**attrs, **extra})
        pykickstart_parse(text)


def test_compute_profile_content(shipped):
    attrs = demo_attrs("compute")
    handler = pykickstart_parse(Graph.load(shipped).render_kickstart("compute", attrs))
    net = handler.network.network[0]
    assert (net.device, net.ip, net.hostname) == ("52:54:00:0a:01:fe", "10.1.255.254", "compute-0-0.local")
    assert handler.url.url == "http://10.1.1.1/install/rocks-dist/x86_64/BaseOS"
    assert "plymouth" in handler.packages.excludedList
    assert "minimal-environment" == handler.packages.environment
    assert handler.skipx.skipx


def test_conditions_switch_nodes_and_tags(shipped):
    g = Graph.load(shipped)
    plain = g.render_kickstart("compute", demo_attrs("compute"))
    x11 = g.render_kickstart("compute", demo_attrs("compute", x11="yes"))
    assert "gnome-shell" not in plain and "\nskipx\n" in plain
    assert "gnome-shell" in x11 and "\nskipx\n" not in x11 and "xconfig --startxonboot" in x11
    assert "UseDNS no" not in plain  # ssh_use_dns:true in the demo attributes
    assert "UseDNS no" in g.render_kickstart("compute", demo_attrs("compute", ssh_use_dns="no"))
    assert "microcode_ctl" not in g.render_kickstart("compute", demo_attrs("compute", arch="aarch64"))


def test_stage_two_from_stage_one_text_matches(shipped):
    g = Graph.load(shipped)
    attrs = demo_attrs("compute", x11="on")
    assert kickstart_from_xml(g.render_xml("compute", attrs)) == g.render_kickstart("compute", attrs)


def test_output_is_deterministic(shipped):
    g = Graph.load(shipped)
    attrs = demo_attrs("frontend")
    a = g.render_kickstart("server", attrs)
    Graph._cache.clear()
    b = Graph.load(shipped).render_kickstart("server", dict(reversed(list(attrs.items()))))
    assert a == b


def test_vm_container_gets_hypervisor_and_bridge(shipped):
    text = render_node_kickstart(shipped, "vm-container", demo_attrs("vm-container"))
    assert "libvirt" in text and "br0.nmconnection" in text
    assert "mac-address=52:54:00:0a:01:fc" in text
    assert "libvirt" not in render_node_kickstart(shipped, "compute", demo_attrs("compute"))
