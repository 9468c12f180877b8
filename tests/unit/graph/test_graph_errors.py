"""Bad input ends in one KsError line naming the file and line."""

import pytest

from ksserver.errors import KsError
from ksserver.graph import Graph


def render(gdir, root="root", attrs=None):
    return Graph.load([gdir.root]).render_kickstart(root, attrs or {})


def test_malformed_node_file(gdir):
    gdir.node("root", "<kickstart>\n<post>\necho hi\n</pots>\n</kickstart>\n")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:4:\d+: .*mismatch"):
        render(gdir)


def test_malformed_graph_file(gdir):
    gdir.node("root")
    (gdir.root / "graphs" / "default" / "bad.xml").write_text('<graph>\n<edge from="root" to="root">\n</graph>\n')
    with pytest.raises(KsError, match=r"^graphs/default/bad\.xml:3:\d+: "):
        Graph.load([gdir.root])


def test_undefined_entity(gdir):
    gdir.node("root", "<main>\n<timezone>&tz;</timezone>\n</main>\n<post>&nope;</post>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:5: undefined entity &nope;$"):
        render(gdir, attrs={"tz": "UTC"})
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: undefined entity &tz;$"):
        render(gdir, attrs={"nope": "x"})


def test_missing_node_file(gdir):
    gdir.node("root")
    gdir.edges('<edge from="root" to="root"/>\n<edge from="root" to="ghost"/>')
    with pytest.raises(KsError, match=r'^graphs/default/graph\.xml:3: cannot find node "ghost"'):
        render(gdir)


@pytest.mark.parametrize(
    "edges, message",
    [
        ('<edge from="root"/>', r"graph\.xml:2: <edge> needs from= and to="),
        ('<edge from="root"><to></to></edge>', r"graph\.xml:2: <to> names no node"),
        ('<edge from="root" to="a b"/>', r'graph\.xml:2: edge to= names "a b"'),
        ('<edge from="root" to="x" cond="x ="/>', r'graph\.xml:2: bad cond "x ="'),
        ('<edge from="root"><to cond="(">x</to></edge>', r'graph\.xml:2: bad cond "\("'),
        ('<edgy from="root" to="x"/>', r"graph\.xml:2: unknown tag <edgy>"),
    ],
)
def test_bad_edges(gdir, edges, message):
    gdir.node("root")
    gdir.edges(edges)
    with pytest.raises(KsError, match=message):
        render(gdir)


def test_bad_cond_on_a_tag(gdir):
    gdir.node("root", '<package>a</package>\n<package cond="a and">b</package>')
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r'^nodes/root\.xml:3: bad cond "a and"'):
        render(gdir)


@pytest.mark.parametrize(
    "body, message",
    [
        ('<post><file>x</file></post>', r"<file> needs name="),
        ('<post><file name="/x" mode="upsert">x</file></post>', r'mode="upsert"'),
        ('<post><file name="/x" perms="rw; reboot">x</file></post>', r"is not a chmod mode"),
        ('<post><file name="/x" owner="root; reboot">x</file></post>', r"owner="),
        ("<post><b>x</b></post>", r"<b> is not allowed inside <post>"),
        ("<package>two\nlines</package>", r'"two.lines" is not a package name'),
        ("<package>two  spaces</package>", r'"two  spaces" is not a package name'),
        ("<main>network</main>", r"<main> holds text outside a command tag"),
        ("<copy src='/etc/passwd'/>", r"<copy> is not supported"),
        ('<graph/>', r"the root element is <graph>"),
    ],
)
def test_bad_node_content(gdir, body, message):
    if body.startswith("<graph"):
        (gdir.root / "nodes" / "root.xml").write_text(body)
    else:
        gdir.node("root", body)
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"nodes/root\.xml:\d+: .*" + message):
        render(gdir)


def test_no_graph_files(tmp_path):
    with pytest.raises(KsError, match='graph "default" has no graph files'):
        Graph.load([tmp_path])


def test_undefined_entity_with_no_attributes_at_all(gdir):
    gdir.node("root", "<post>\necho &nope;\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: undefined entity &nope;$"):
        render(gdir, attrs={})


def test_error_in_one_host_leaves_the_next_unharmed(gdir):
    gdir.node("root", "<main><timezone>&tz;</timezone></main>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError):
        render(gdir, attrs={"tz": "a\x00b"})
    assert "timezone UTC" in render(gdir, attrs={"tz": "UTC"})
