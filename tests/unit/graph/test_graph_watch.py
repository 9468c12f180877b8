"""The graph directories' watch: one read per request instead of a stat per file, and never
a stale answer for an edit made on this machine."""

from __future__ import annotations

import os
import time

from ksserver.graph import Graph
from ksserver.graph import watch as watch_module
from ksserver.graph.watch import DirWatch


def test_generation_moves_on_every_kind_of_change(tmp_path):
    (tmp_path / "nodes").mkdir()
    node = tmp_path / "nodes" / "a.xml"
    node.write_text("<kickstart/>")
    w = DirWatch([tmp_path, tmp_path / "nodes", tmp_path / "site-nodes"])
    g0 = w.poll()
    assert w.ok
    assert w.poll() == g0  # nothing happened
    steps = [
        lambda: node.write_text("<kickstart><post/></kickstart>"),  # edit
        lambda: os.utime(node, ns=(1, 1)),  # touch
        lambda: (tmp_path / "nodes" / "b.xml").write_text("x"),  # create
        lambda: (tmp_path / "nodes" / "b.xml").rename(tmp_path / "nodes" / "c.xml"),  # rename
        lambda: (tmp_path / "nodes" / "c.xml").unlink(),  # delete
        lambda: (tmp_path / "site-nodes").mkdir(),  # a directory that did not exist
        lambda: (tmp_path / "site-nodes" / "d.xml").write_text("x"),  # ...and is watched now
    ]
    last = g0
    for step in steps:
        step()
        now = w.poll()
        assert now > last, step
        assert w.poll() == now
        last = now
    w.close()
    first = w.poll()
    assert w.poll() > first  # closed: nothing is known any more, every poll says so


def test_without_inotify_every_poll_says_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(watch_module, "_libc", False)
    w = DirWatch([tmp_path])
    first = w.poll()
    assert w.poll() > first and not w.ok


def test_a_forked_child_gets_its_own_watch(tmp_path):
    w = DirWatch([tmp_path])
    w.poll()
    r, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first poll opens its own descriptor
        try:
            g = w.poll()
            (tmp_path / "child.txt").write_text("x")
            os.write(wr, b"1" if w.poll() > g and w.ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    # the parent sees the child's file as its own event, not stolen by the child
    g = w.generation
    assert w.poll() > g


def test_a_node_file_edit_shows_in_the_next_kickstart(gdir):
    node = gdir.node("root", "<post>echo one</post>")
    gdir.edges('<edge from="root" to="root"/>')
    g = Graph.load([gdir.root])
    assert "echo one" in g.render_kickstart("root", {})
    mark = g.generation()
    node.write_text("<kickstart><post>echo two</post></kickstart>")
    g2 = Graph.load([gdir.root])
    assert g2 is g
    assert g.generation() != mark
    assert "echo two" in g.render_kickstart("root", {})
    # and with nothing changed, the generation holds without a stat of the files
    mark = g.generation()
    Graph.load([gdir.root])
    assert g.generation() == mark


def test_a_graph_file_edit_reloads_the_graph(gdir):
    gdir.node("root", "<post>echo root</post>")
    gdir.node("leaf", "<post>echo leaf</post>")
    gdir.edges('<edge from="root" to="root"/>')
    g = Graph.load([gdir.root])
    mark = g.generation()
    assert "echo leaf" not in g.render_kickstart("root", {})
    gdir.edges('<edge from="root" to="leaf"/>', name="more.xml")
    g2 = Graph.load([gdir.root])
    assert g2.generation() != mark and "echo leaf" in g2.render_kickstart("root", {})


def test_stamps_are_rechecked_after_a_while_even_without_events(gdir, monkeypatch):
    """What the watch cannot see (another machine's NFS write) shows within the period."""
    node = gdir.node("root", "<post>echo one</post>")
    gdir.edges('<edge from="root" to="root"/>')
    g = Graph.load([gdir.root])
    g.render_kickstart("root", {})
    mark = g.generation()
    real_watch = g._watch

    class Blind:  # a watch that misses the edit, as for one made on another machine
        generation = real_watch.generation

        def poll(self):
            return self.generation

    monkeypatch.setattr(g, "_watch", Blind())
    node.write_text("<kickstart><post>echo three</post></kickstart>")
    assert g.generation() == mark  # within the period the generation is trusted...
    monkeypatch.setattr(time, "monotonic", lambda real=time.monotonic: real() + 2)
    assert g.generation() != mark  # ...after it, the stamps are looked at
    assert "echo three" in g.render_kickstart("root", {})
