"""Traversal rules on small purpose-built graphs (docs/original-behaviour.md §2.5, with §8.3's bug fixed)."""

import pytest

from ksserver.errors import KsError
from ksserver.graph import Graph


def names(g, root, **attrs):
    return Graph.load(g, "default").traverse(root, attrs)


def nodes(gd, *names_):
    for n in names_:
        gd.node(n, f"<package>{n}-pkg</package>")


def test_dfs_alphabetical_without_order_and_conditions(gdir):
    nodes(gdir, "root", "b", "a", "c", "x11", "gnome")
    gdir.edges("""
        <edge from="root"><to>b</to><to>a</to></edge>
        <edge from="a" to="c"/>
        <edge from="root" to="x11" cond="x11"/>
        <edge from="x11" to="gnome"/>
    """)
    assert names([gdir.root], "root") == ["a", "b", "c", "root"]
    assert names([gdir.root], "root", x11="yes") == ["a", "b", "c", "gnome", "root", "x11"]


def test_left_out_node_does_not_bring_its_children(gdir):
    # the original (docs/original-behaviour.md §8.3) kept "gnome" here; we do not go through a dropped node
    nodes(gdir, "root", "x11", "gnome")
    gdir.edges('<edge from="root" to="x11" cond="x11"/><edge from="x11" to="gnome"/>')
    assert names([gdir.root], "root") == ["root"]


def test_first_edge_wins(gdir):
    nodes(gdir, "root", "a", "b", "shared")
    gdir.edges("""
        <edge from="root" to="a"/>
        <edge from="root" to="b"/>
        <edge from="a" to="shared" cond="want"/>
        <edge from="b" to="shared"/>
    """)
    # shared is first reached from a with a false cond: left out though b reaches it freely
    assert names([gdir.root], "root") == ["a", "b", "root"]
    assert names([gdir.root], "root", want="y") == ["a", "b", "root", "shared"]


def test_pruned_child_edge_reaches_nothing(gdir):
    nodes(gdir, "root", "a", "b", "shared")
    gdir.edges("""
        <edge from="root" to="a"/>
        <edge from="root" to="b"/>
        <edge from="a"><to cond="want">shared</to></edge>
        <edge from="b" to="shared"/>
    """)
    # a false <to cond> child edge does not exist, so b's edge is the first to reach shared
    assert names([gdir.root], "root") == ["a", "b", "root", "shared"]


def test_child_conditions_are_anded_with_the_edge(gdir):
    nodes(gdir, "root", "a", "b")
    gdir.edges("""
        <edge from="root" cond="p"><to cond="q">a</to><to>b</to></edge>
    """)
    assert names([gdir.root], "root", p="y") == ["b", "root"]
    assert names([gdir.root], "root", p="y", q="y") == ["a", "b", "root"]
    assert names([gdir.root], "root", q="y") == ["root"]


def test_from_children_and_legacy_arch(gdir):
    nodes(gdir, "root", "other", "tgt", "arm")
    gdir.edges("""
        <edge to="tgt"><from>root</from><from>other</from></edge>
        <edge from="root" to="arm" arch="aarch64"/>
    """)
    assert names([gdir.root], "root", arch="x86_64") == ["root", "tgt"]
    assert names([gdir.root], "root", arch="aarch64") == ["arm", "root", "tgt"]


def test_cycles_terminate(gdir):
    nodes(gdir, "a", "b", "c")
    gdir.edges('<edge from="a" to="b"/><edge from="b" to="c"/><edge from="c" to="a"/>')
    assert names([gdir.root], "a") == ["a", "b", "c"]


def test_order_head_tail(gdir):
    nodes(gdir, "root", "first", "second", "mid1", "mid2", "last", "orphan-order")
    gdir.edges("""
        <edge from="root"><to>last</to><to>mid2</to><to>second</to><to>mid1</to><to>first</to></edge>
        <order head="HEAD"><tail>first</tail></order>
        <order tail="second"><head>first</head></order>
        <order head="TAIL" tail="last"/>
        <order head="TAIL"><tail>root</tail></order>
        <order head="second" tail="orphan-order"/>
        <order head="x" tail="y" gen="other"/>
    """)
    # first, second by order; the unordered rest alphabetically at TAIL; then last, root
    assert names([gdir.root], "root") == ["first", "second", "mid1", "mid2", "last", "root"]


def test_without_tail_unordered_nodes_go_last(gdir):
    nodes(gdir, "root", "a", "z")
    gdir.edges('<edge from="root" to="a"/><edge from="root" to="z"/><order head="z" tail="root"/>')
    assert names([gdir.root], "root") == ["z", "root", "a"]


def test_site_dir_adds_edges_and_overrides_nodes(gdir, sitedir):
    nodes(gdir, "root", "a")
    gdir.edges('<edge from="root" to="a"/>')
    sitedir.edges('<edge from="root" to="extra"/>', name="site.xml")
    sitedir.node("extra", "<package>extra-pkg</package>")
    dirs = [gdir.root, sitedir.root]
    assert names(dirs, "root") == ["a", "extra", "root"]
    g = Graph.load(dirs)
    assert "\na-pkg\n" in g.render_kickstart("root", {})
    sitedir.node("a", "<package>site-a</package>")  # a site N.xml wins over the shipped one
    ks = Graph.load(dirs).render_kickstart("root", {})
    assert "\nsite-a\n" in ks and "\na-pkg\n" not in ks


def test_extend_and_replace(gdir, sitedir):
    nodes(gdir, "root", "a", "b")
    gdir.edges('<edge from="root" to="a"/><edge from="root" to="b"/>')
    sitedir.node("extend-a", "<package>more-a</package>", sub="site-nodes")
    sitedir.node("replace-b", "<package>new-b</package>")
    g = Graph.load([gdir.root, sitedir.root])
    ks = g.render_kickstart("root", {})
    assert "a-pkg" in ks and "more-a" in ks
    assert "new-b" in ks and "b-pkg" not in ks
    order = ks.split("%packages")[0]
    assert order.index("nodes/a.xml") < order.index("extend-a.xml")


def test_root_not_in_graph(gdir):
    nodes(gdir, "a")
    gdir.edges('<edge from="a" to="a"/>')
    with pytest.raises(KsError, match='node "nope" is not in graph "default"'):
        Graph.load([gdir.root]).traverse("nope", {})


def test_graph_files_from_several_dirs_merge_sorted(gdir, sitedir):
    nodes(gdir, "root", "a", "b")
    gdir.edges('<edge from="root" to="b" cond="c"/>', name="2.xml")
    gdir.edges('<edge from="root" to="b"/>', name="1.xml")  # sorted first: b is kept
    assert names([gdir.root], "root") == ["b", "root"]


def test_edits_invalidate_caches(gdir):
    nodes(gdir, "root")
    gdir.edges('<edge from="root" to="root"/>')
    g = Graph.load([gdir.root])
    assert "root-pkg" in g.render_kickstart("root", {})
    import os
    import time
    p = gdir.node("root", "<package>changed-package-name</package>")
    os.utime(p, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert "changed-package-name" in Graph.load([gdir.root]).render_kickstart("root", {})
    nodes(gdir, "new")
    gp = gdir.edges('<edge from="root" to="new"/>')
    os.utime(gp, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
    assert Graph.load([gdir.root]).traverse("root", {}) == ["new", "root"]
