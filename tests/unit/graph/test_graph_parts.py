"""The install server's kickstart (``Graph.kickstart``: cached node parts, slot templates)
is the plain path's text (``render_kickstart``), byte for byte, whatever the values.

Each case renders many hosts in a row through one graph, so later hosts are answered from
parts and templates made for earlier ones: a template that is wrong for some value shows
up as a difference."""

from __future__ import annotations

import itertools

import pytest

from graph_helpers import ROOTS, demo_attrs
from ksserver.errors import KsError
from ksserver.graph import Graph
from ksserver.graph import parts as parts_module

TOKENS = ["compute-0-1", "c", "10.1.255.1", "52:54:00:0a:01:fe", "a.b_c-d:e", "0", "9" * 40]
HOSTILE = [
    "", " ", "two words", " lead", "trail ", "new\nline", "%post", "100%", "#comment", "'quote",
    '"dq', "back\\slash", "/etc/passwd", "@group", "-dash", "--nochroot", "KSSERVER-EOF", "ksserver-eof",
    "<b>", "a&b", "]]>", "é", "ksslot0z0", "x\tTab",
]


def both(g: Graph, root: str, attrs: dict) -> tuple[str | Exception, str | Exception]:
    out = []
    for render in (lambda: g.kickstart(root, attrs)[0], lambda: g.render_kickstart(root, attrs)):
        try:
            out.append(render())
        except KsError as err:
            out.append(f"KsError: {err.message}")
    return out[0], out[1]


@pytest.mark.parametrize("appliance", sorted(ROOTS))
def test_shipped_graph_many_hosts(shipped, appliance):
    g = Graph.load(shipped)
    for i, value in enumerate(TOKENS + HOSTILE + TOKENS):
        attrs = demo_attrs(appliance, hostname=f"host-{i}", rack=str(i % 3), rank=str(i),
                           hostaddr=f"10.1.{i}.1", ksmac=f"52:54:00:00:00:{i:02x}", Info_ClusterName=value)
        fast, plain = both(g, ROOTS[appliance], attrs)
        assert fast == plain, (appliance, value)


@pytest.fixture
def tricky(gdir):
    """Entities everywhere kgen looks twice: main commands, package names, meta groups,
    file names/owners/perms, conditions, debug lines, heredocs and scripts that go base64."""
    gdir.node("root", """
        <main>
          <network>--hostname=&h; --device=&dev;</network>
          <timezone>&tz;</timezone>
          <rootpw cond="rank == 0">--lock</rootpw>
        </main>
        <package>&pkg;</package>
        <package type="meta">&grp;</package>
        <package disable="yes">&off;</package>
        <debug>host &h; rank &rank;</debug>
        <pre>echo &h;</pre>
        <post>
        echo "&h; &v;"
        &v;
        <file name="/etc/&fname;" owner="&owner;" perms="&perms;">&v;
        second line &h;</file>
        <file name="/etc/two">&h;</file>
        <file name="/etc/two" mode="append">&v;</file>
        </post>
        <post arg="&arg;" interpreter="&interp;">print("&h;")</post>
        <post cond="&flag;">echo flagged &h;</post>
    """)
    gdir.node("leaf", """
        <post>
        <file name="/etc/two" mode="append">leaf &h;</file>
        echo &v;
        </post>
        <package>&pkg;</package>
    """)
    gdir.edges('<edge from="root" to="leaf"/>')
    return Graph.load([gdir.root])


BASE = dict(h="n0", dev="eth0", tz="UTC", pkg="bash", grp="core", off="sendmail", rank="1", v="plain",
            fname="hosts.d", owner="root", perms="0644", arg="", interp="/bin/sh", flag="True")


def test_tricky_graph_every_value_in_every_place(tricky):
    """Each entity in turn takes every token and hostile value while the others stay put,
    twice over (the second round is answered from the cache), with the host name varying."""
    hosts = itertools.count()
    for _round in range(2):
        for name in BASE:
            for value in TOKENS + HOSTILE:
                attrs = dict(BASE, **{name: value})
                if name != "h":
                    attrs["h"] = f"node-{next(hosts) % 7}"
                fast, plain = both(tricky, "root", attrs)
                assert fast == plain, (name, value)


def test_a_value_that_makes_a_script_base64_is_not_templated(tricky):
    """A line starting with % only for some hosts: the template guard must see it."""
    for v in ["plain", "%end", "plain2", "line\n%post --nochroot", "x"]:
        fast, plain = both(tricky, "root", dict(BASE, v=v, h="n1"))
        assert fast == plain
        assert ("base64 -d" in fast) == ("%" in v)


def test_missing_entity_is_the_same_error(tricky):
    attrs = dict(BASE)
    del attrs["pkg"]
    fast, plain = both(tricky, "root", attrs)
    assert fast == plain and fast.startswith("KsError:") and "undefined entity &pkg;" in fast


def test_hosts_share_parts(shipped):
    """The point of it all: a thousand compute hosts cost one parse of each node file."""
    g = Graph.load(shipped)
    parts_module._cache.clear()
    parsed = []
    real = g._block
    g._block = lambda name, source, values: parsed.append(source.label) or real(name, source, values)
    try:
        texts = {g.kickstart("compute", demo_attrs(hostname=f"compute-0-{i}", rank=str(i),
                                                   hostaddr=f"10.1.255.{i}"))[0] for i in range(200)}
    finally:
        del g._block
    assert len(texts) == 200
    assert len(parsed) == len(set(parsed)) == len(g.traverse("compute", demo_attrs()))
