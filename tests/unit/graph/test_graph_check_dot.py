"""check_graph over the shipped graph and over broken ones; the DOT and SVG pictures."""

import shutil

import pytest
from graph_helpers import ROOTS, demo_attrs

from ksserver.errors import KsError
from ksserver.graph import Graph, check_graph, graph_dot, to_svg, validate_kickstart


def appliances():
    return {name: (root, demo_attrs(name)) for name, root in ROOTS.items()}


def test_shipped_graph_is_clean(shipped):
    assert check_graph(shipped, appliances()) == []
    assert check_graph(shipped, appliances()) == []


def test_every_shipped_attribute_reference_is_defined(shipped):
    # with x11 on, the conditional nodes are rendered and validated too
    apps = {name: (root, demo_attrs(name, x11="yes")) for name, root in ROOTS.items()}
    assert check_graph(shipped, apps) == []


def test_problems_are_reported(gdir):
    gdir.node("root", "<main>\n<timezone>&tz;</timezone>\n<bogus>x</bogus>\n</main>")
    gdir.node("a", '<package cond="(">x</package>')
    gdir.node("b", "<post>\n</pots>")
    gdir.node("lonely", "<package>x</package>")
    gdir.node("c1")
    gdir.node("c2")
    gdir.edges("""
        <edge from="root" to="a"/>
        <edge from="root" to="b"/>
        <edge from="root" to="ghost"/>
        <edge from="root" to="c1"/>
        <edge from="c1" to="c2"/>
        <edge from="c2" to="c1"/>
    """)
    (gdir.root / "graphs" / "default" / "zz-broken.xml").write_text("<graph>\n<edge")
    problems = check_graph([gdir.root], {"compute": ("root", {})})
    text = "\n".join(problems)
    assert "graphs/default/zz-broken.xml:2:" in text
    assert 'nodes/a.xml:2: bad cond "("' in text
    assert "nodes/b.xml:3:" in text
    assert 'graph.xml:4: edge root -> ghost: no node file for "ghost"' in text
    assert "cycle c1 -> c2 -> c1" in text
    assert 'nodes/lonely.xml: node "lonely" is not reachable' in text
    assert "nodes/root.xml:3: undefined entity &tz; (appliance compute)" in text
    ok = check_graph([gdir.root], {"compute": ("root", {"tz": "UTC"})})
    assert not any("&tz;" in p for p in ok)


def test_pykickstart_findings_are_reported(gdir):
    gdir.node("root", "<main><bogus>x</bogus></main>")
    gdir.edges('<edge from="root" to="root"/>')
    problems = check_graph([gdir.root], {"compute": ("root", {})})
    assert any(p.startswith("appliance compute: kickstart (RHEL9): ") and "bogus" in p for p in problems)
    assert validate_kickstart("rootpw --plaintext x\n", "NOSUCH") == ['unknown kickstart version "NOSUCH" (os_version)']


def test_unknown_root_is_reported(shipped):
    assert check_graph(shipped, {"odd": ("no-such-node", {})}) == [
        'appliance odd: root node "no-such-node" is not in graph "default"'
    ] + [p for p in check_graph(shipped, {"odd": ("no-such-node", {})})[1:]]


def test_dot_labels_conditions_and_highlights(shipped):
    g = Graph.load(shipped)
    dot = graph_dot(g, "compute", demo_attrs("compute"))
    assert dot.startswith('digraph "default" {')
    assert '"client" -> "x11" [label="x11"]' in dot
    assert '"compute" [style="rounded,filled", fillcolor="#cfe8ff", penwidth=3];' in dot
    assert '"x11";' in dot  # not traversed without x11
    plain = graph_dot(g)
    assert "filled" not in plain


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_svg(shipped):
    svg = to_svg(graph_dot(Graph.load(shipped), "server", demo_attrs("frontend")))
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def test_svg_without_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(KsError, match='Graphviz "dot" program is not installed'):
        to_svg("digraph {}")
