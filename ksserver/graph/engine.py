"""The loaded graph of some graph directories: lookup, traversal, the two render stages.

Directories come in the order the caller gives (the shipped graph first, then the site
directories of ``KSSERVER_GRAPH``).  Graph files: every ``graphs/<graph>/*.xml`` of every
directory, in directory order and by file name within one, so site files *add* edges.
Node files for node N: ``N.xml``, ``extend-N.xml`` and ``replace-N.xml`` are each looked
up in the directories from the *last* to the first (a site directory overrides the shipped
one), and within a directory in ``nodes/`` before ``site-nodes/``; the first hit of each
kind wins.  ``replace-N`` stands instead of ``N``; ``extend-N`` is appended after it.

What is cached, and why it stays correct: the parsed graph files (re-read when any graph
file or graph directory changes), each node file's text (re-read when its mtime or size
changes), the node lookup (re-done when a ``nodes/`` directory changes) and the traversal
per (root, outcome of every edge condition).  The entity substitution is never cached: each
request's node documents are parsed with that request's attributes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from ksserver.errors import KsError
from ksserver.graph.graphfile import Edge, GraphFile, OrderEdge, parse_graph_file
from ksserver.graph.kgen import assemble, kickstart_text
from ksserver.graph.parts import part_for
from ksserver.graph.traverse import merge_order, reach, topological_order
from ksserver.graph.watch import FULL_CHECK_SECONDS, DirWatch
from ksserver.nodes.cond import CoercedAttrs
from ksserver.nodes.entities import internal_subset
from ksserver.nodes.nodefile import NodeSource, load_node_source

__all__ = ["Freshness", "Graph", "Profile", "NodeFiles"]

NODE_SUBDIRS = ("nodes", "site-nodes")
_MAX_WATCHES = 16  # graphs watched per process; the oldest beyond that fall back to stamps
_DROPPED = frozenset({"description", "copyright", "changelog"})
_UNSUPPORTED = {
    "eval": "ran shell on the frontend at generation time; put the commands in a <post>",
    "copy": "embedded frontend files; ship them with a <file> in a <post>",
    "var": "set legacy app_globals variables; use an attribute and &name;",
}


@dataclass(frozen=True)
class NodeFiles:
    """The files that make up one node: the main (or replace) file, then the extend file."""

    name: str
    main: Path
    main_label: str
    extend: Path | None
    extend_label: str | None
    replaced: bool


@dataclass(frozen=True)
class Profile:
    """Stage 1 for one request: the merged ``<kickstart>`` element and what built it."""

    root: str
    element: etree._Element
    attrs: Mapping[str, Any]
    nodes: tuple[str, ...]
    #: (path, stamp) of every node directory and node file this profile was built from,
    #: as they were when read
    stamps: tuple[tuple[str, tuple[int, int] | None], ...] = ()

    def xml(self) -> str:
        """The original's ``list host xml`` text: XML declaration, DOCTYPE, ``<kickstart>``."""
        subset = internal_subset(self.attrs, sorted(self.attrs), sep="\t")
        body = etree.tostring(self.element, encoding="unicode")
        return f'<?xml version="1.0" standalone="no"?>\n<!DOCTYPE kickstart [\n{subset}\n]>\n{body}\n'

    def kickstart(self) -> str:
        return kickstart_text(self.element, self.attrs)


def _recent(seen: tuple[int, float], generation: int, now: float) -> bool:
    """Checked at this watch generation, less than ``FULL_CHECK_SECONDS`` ago."""
    return seen[0] == generation and now - seen[1] < FULL_CHECK_SECONDS


class Freshness:
    """Files read for a cached output, with their stamps, and when those were last known to
    hold: ``holds`` looks at the files again only when the graph's watch saw a change (the
    generation moved) or the last look is old."""

    __slots__ = ("stamps", "seen")

    def __init__(self, stamps: tuple, generation: int):
        self.stamps = stamps
        self.seen = (generation, time.monotonic())  # one attribute: threads replace it whole

    def holds(self, generation: int) -> bool:
        now = time.monotonic()
        if _recent(self.seen, generation, now):
            return True
        if all(_stamp(path) == stamp for path, stamp in self.stamps):
            self.seen = (generation, now)
            return True
        return False


def _stamp(path: Path | str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class Graph:
    """One graph (e.g. ``default``) over an ordered list of graph directories."""

    _cache: dict[tuple[tuple[str, ...], str], "Graph"] = {}
    _cache_lock = threading.Lock()
    _watches: dict[tuple[tuple[str, ...], str], DirWatch] = {}

    def __init__(self, dirs: Sequence[Path], graph: str, files: Sequence[tuple[Path, GraphFile]], stamp: tuple):
        self.dirs = tuple(Path(d) for d in dirs)
        self.name = graph
        self.files = tuple(files)
        self._stamp = stamp
        # the graph directories' and graph files' stamps (see load): whether it still stands
        self._mark = Freshness((), -1)
        self.edges: tuple[Edge, ...] = tuple(e for _, f in files for e in f.edges)
        self.orders: tuple[OrderEdge, ...] = tuple(o for _, f in files for o in f.orders)
        self.adjacency: dict[str, list[Edge]] = {}
        for e in self.edges:
            self.adjacency.setdefault(e.frm, []).append(e)
            self.adjacency.setdefault(e.to, [])
        self.topo = topological_order(self.orders)
        self._conds = sorted({e.cond for e in self.edges if not e.cond.always}, key=lambda c: c.text)
        self._traversals: dict[tuple, tuple[tuple[str, ...], dict[str, Edge | None]]] = {}
        self._lookup: dict[str, NodeFiles | None] = {}
        self._listing_stamp: tuple | None = None
        self._listing: dict[Path, frozenset[str]] = {}
        self._node_dirs = tuple(Path(d) / sub for d in self.dirs for sub in NODE_SUBDIRS)
        self._node_dir_strs = tuple(str(p) for p in self._node_dirs)
        self._lock = threading.Lock()
        self._watch: DirWatch = DirWatch(())
        self._sources_seen = (-1, 0.0)  # (watch generation, time) of the node listing and _sources_memo
        self._sources_memo: dict[str, list[NodeSource]] = {}

    # -- loading ---------------------------------------------------------------------
    @staticmethod
    def _graph_stamp(dirs: Sequence[Path], graph: str) -> tuple[tuple, list[tuple[Path, str]]]:
        parts: list = []
        found: list[tuple[Path, str]] = []
        for i, d in enumerate(dirs):
            gdir = Path(d) / "graphs" / graph
            parts.append(_stamp(gdir))
            try:
                names = sorted(n for n in os.listdir(gdir) if n.endswith(".xml"))
            except OSError:
                continue
            for n in names:
                p = gdir / n
                parts.append((n, _stamp(p)))
                found.append((p, _label(dirs, i, p)))
        return tuple(parts), found

    def _fresh(self) -> bool:
        """Whether this cached graph still stands: the watch first (one read), then, when it
        saw something, cannot tell or a while has passed, a plain ``os.stat`` of the graph
        directories (a file added or removed changes them) and each known graph file."""
        return self._mark.holds(self._watch.poll())

    @property
    def generation(self) -> int:
        """Read after ``Graph.load`` and before reading any file for a new mark."""
        return self._watch.generation

    def unchanged(self, mark: Freshness) -> bool:
        """Whether the files behind ``mark`` (a cached output's stamps) are as they were;
        call after ``Graph.load`` returned this graph in the same request."""
        return mark.holds(self._watch.generation)

    def freshness(self, stamps: tuple, generation: int) -> Freshness:
        """A mark for output built from ``stamps``, all read after ``generation`` was."""
        return Freshness(stamps, generation)

    @classmethod
    def _watch_for(cls, dirs: Sequence[Path], graph: str) -> DirWatch:
        paths = []
        for d in dirs:
            paths += [d, d / "graphs", d / "graphs" / graph, *(d / sub for sub in NODE_SUBDIRS)]
        return DirWatch(paths)

    @classmethod
    def load(cls, dirs: Sequence[str | Path], graph: str = "default") -> "Graph":
        """The graph named ``graph`` over ``dirs``; cached until a graph file changes."""
        key = (tuple(str(d) for d in dirs), graph)
        hit = cls._cache.get(key)
        if hit is not None and hit._fresh():
            return hit
        dirs = [Path(d) for d in dirs]
        # the watch first, then the stamps, then the files: a change after any of these
        # steps moves the generation (or the stamps), so nothing read here is trusted stale
        watch = cls._watches.get(key)
        if watch is None:
            with cls._cache_lock:
                watch = cls._watches.get(key)
                if watch is None:
                    while len(cls._watches) >= _MAX_WATCHES:  # each holds a descriptor
                        cls._watches.pop(next(iter(cls._watches))).close()
                    watch = cls._watches[key] = cls._watch_for(dirs, graph)
        generation = watch.poll()
        if not dirs:
            raise KsError("no graph directories given")
        if not graph or "/" in graph or graph.startswith("."):
            raise KsError(f'"{graph}" is not a graph name')
        # stamps first, files second: a file edited while it is parsed is read again next time
        gdirs = [str(Path(d) / "graphs" / graph) for d in dirs]
        quick = tuple((d, _stamp(d)) for d in gdirs)
        stamp, found = cls._graph_stamp(dirs, graph)
        quick += tuple((str(p), _stamp(p)) for p, _label in found)
        hit = cls._cache.get(key)
        if hit is not None and hit._stamp == stamp:
            hit._mark = Freshness(quick, generation)
            return hit
        if not found:
            raise KsError(f'graph "{graph}" has no graph files (looked in {", ".join(str(d / "graphs" / graph) for d in dirs)})')
        files = [(p, parse_graph_file(p, label)) for p, label in found]
        g = cls(dirs, graph, files, stamp)
        g._mark = Freshness(quick, generation)
        g._watch = watch
        with cls._cache_lock:
            cls._cache[key] = g
        return g

    # -- node lookup -----------------------------------------------------------------
    def _refresh_listing(self) -> None:
        stamp = tuple(_stamp(p) for p in self._node_dir_strs)
        if stamp == self._listing_stamp:
            return
        listing = {}
        for p in self._node_dirs:
            try:
                listing[p] = frozenset(os.listdir(p))
            except OSError:
                listing[p] = frozenset()
        with self._lock:
            self._listing = listing
            self._lookup = {}
            self._listing_stamp = stamp

    def _find(self, filename: str) -> tuple[Path, str] | None:
        for i in range(len(self.dirs) - 1, -1, -1):
            for sub in NODE_SUBDIRS:
                p = self.dirs[i] / sub
                if filename in self._listing.get(p, ()):
                    return p / filename, _label(self.dirs, i, p / filename)
        return None

    def node_files(self, name: str, refresh: bool = True) -> NodeFiles | None:
        """Where node ``name`` lives, or ``None`` when it has neither N.xml nor replace-N.xml."""
        if refresh:
            self._refresh_listing()
        try:
            return self._lookup[name]
        except KeyError:
            pass
        replace = self._find(f"replace-{name}.xml")
        main = replace or self._find(f"{name}.xml")
        extend = self._find(f"extend-{name}.xml")
        result = None
        if main is not None:
            result = NodeFiles(name, main[0], main[1], extend[0] if extend else None, extend[1] if extend else None, replace is not None)
        self._lookup[name] = result
        return result

    def all_node_names(self) -> list[str]:
        """Every node that has an ``N.xml`` or ``replace-N.xml`` in some directory."""
        self._refresh_listing()
        names = set()
        for files in self._listing.values():
            for f in files:
                if f.endswith(".xml") and not f.startswith("extend-"):
                    names.add(f[len("replace-"):-4] if f.startswith("replace-") else f[:-4])
        return sorted(names)

    # -- traversal -------------------------------------------------------------------
    def _check_root(self, root: str) -> None:
        if root not in self.adjacency and self.node_files(root) is None:
            raise KsError(f'node "{root}" is not in graph "{self.name}"')

    def traverse(self, root: str, attrs: Mapping[str, Any]) -> list[str]:
        """The node names ``root`` gets with ``attrs``, in kickstart order."""
        return list(self._traverse(root, CoercedAttrs(attrs))[0])

    def _traverse(self, root: str, view: CoercedAttrs) -> tuple[tuple[str, ...], dict[str, Edge | None]]:
        values = tuple(c(view) for c in self._conds)
        key = (root, values)
        hit = self._traversals.get(key)
        if hit is not None:
            return hit
        self._check_root(root)
        by_cond = dict(zip(self._conds, values))
        outcome = {e: (True if e.cond.always else by_cond[e.cond]) for e in self.edges}
        first = reach(root, self.adjacency, outcome)
        ordered = tuple(merge_order(self.topo, first))
        result = (ordered, first)
        if len(self._traversals) > 4096:
            self._traversals.clear()
        self._traversals[key] = result
        return result

    # -- stage 1 ---------------------------------------------------------------------
    def sources(self, name: str, reached_by: Edge | None = None, refresh: bool = True) -> list[NodeSource]:
        files = self.node_files(name, refresh)
        if files is None:
            where = f"{reached_by.where}: " if reached_by is not None else ""
            raise KsError(f'{where}cannot find node "{name}" (no {name}.xml or replace-{name}.xml in nodes/ or site-nodes/)')
        out = [load_node_source(files.main, files.main_label)]
        if files.extend is not None:
            out.append(load_node_source(files.extend, files.extend_label or str(files.extend)))
        return out

    def _block(self, name: str, source: NodeSource, attrs: Mapping[str, Any]) -> etree._Element:
        """One node file parsed with ``attrs``, as the ``<node>`` block of a profile."""
        doc = source.parse(attrs)
        block = etree.Element("node", name=name, file=source.label, roll=(doc.get("roll") or "base"))
        block.text = "\n"
        block.tail = "\n"
        for child in list(doc):
            if not isinstance(child.tag, str) or child.tag in _DROPPED:
                continue
            if child.tag in _UNSUPPORTED:
                raise KsError(f"{source.label}:{child.sourceline}: <{child.tag}> is not supported: it {_UNSUPPORTED[child.tag]}")
            child.tail = "\n"
            block.append(child)
        return block

    def profile(self, root: str, attrs: Mapping[str, Any]) -> Profile:
        """Stage 1: traverse, parse each node file with ``attrs``, merge into one document."""
        ordered, first = self._traverse(root, CoercedAttrs(attrs))
        self._refresh_listing()  # once per profile, not once per node
        stamps = list(zip(self._node_dir_strs, self._listing_stamp))
        top = etree.Element("kickstart", root=root, graph=self.name)
        top.text = "\n"
        for name in ordered:
            for source in self.sources(name, first.get(name), refresh=False):
                stamps.append((source.path_str, source.stamp))
                top.append(self._block(name, source, attrs))
        return Profile(root, top, attrs, ordered, tuple(stamps))

    def kickstart(self, root: str, attrs: Mapping[str, Any]) -> tuple[str, tuple]:
        """Stage 2 for the install server: the text of ``profile(root, attrs).kickstart()``
        (a test holds them equal), built from each block's ``NodePart``, kept for the next
        host whose values for that block are the same (``graph.parts``); and the stamps of the
        node directories and files it was built from (for ``freshness``)."""
        view = CoercedAttrs(attrs)
        ordered, first = self._traverse(root, view)
        # the node listing and each node's files, verified (stat) only when the directory
        # watch saw something or a while has passed; the generation is read before any stat
        generation, now = self._watch.generation, time.monotonic()
        fast = _recent(self._sources_seen, generation, now)
        if not fast:
            self._refresh_listing()
            self._sources_memo = {}
        memo = self._sources_memo
        stamps = list(zip(self._node_dir_strs, self._listing_stamp))
        files_seen: dict[str, tuple[str | None, str | None]] = {}
        parts = []
        for name in ordered:
            sources = memo.get(name)
            if sources is None:
                sources = memo[name] = self.sources(name, first.get(name), refresh=False)
            for source in sources:
                stamps.append((source.path_str, source.stamp))
                part = part_for(source, lambda values, n=name, src=source: self._block(n, src, values),
                                attrs, view, files_seen)
                files_seen.update(part.files)
                parts.append(part)
        if not fast:
            self._sources_seen = (generation, now)
        return assemble(parts, self.name, root, attrs), tuple(stamps)

    def render_xml(self, root: str, attrs: Mapping[str, Any]) -> str:
        """Stage 1 text (``list host xml`` / ``list node xml``)."""
        return self.profile(root, attrs).xml()

    def render_kickstart(self, root: str, attrs: Mapping[str, Any]) -> str:
        """Stage 2 text (``list host profile``): the kickstart file."""
        return self.profile(root, attrs).kickstart()

    # -- the rest --------------------------------------------------------------------
    def check(self, appliances: Mapping[str, tuple[str, Mapping[str, Any]]]) -> list[str]:
        from ksserver.graph.check import check_graph

        return check_graph(self.dirs, appliances, graph=self.name)

    def to_dot(self, root: str | None = None, attrs: Mapping[str, Any] | None = None) -> str:
        from ksserver.graph.dot import graph_dot

        return graph_dot(self, root, attrs)


def _label(dirs: Sequence[Path], index: int, path: Path) -> str:
    """How a file is named in messages and profiles: relative in the first (shipped)
    directory, so output does not depend on where the tree lives; absolute elsewhere."""
    if index == 0:
        try:
            return Path(path).relative_to(dirs[0]).as_posix()
        except ValueError:
            pass
    return str(path)
