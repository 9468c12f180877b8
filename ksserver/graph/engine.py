"""The loaded graph of some graph directories: lookup, traversal, the two render stages.

Directories come in the order the caller gives (the shipped graph first, then the site
directories of ``KSSERVER_GRAPH``).  Graph files: every ``graphs/<graph>/*.xml`` of every
directory, in directory order and by file name within one, so site files *add* edges.
Node files for node N: ``N.xml``, ``extend-N.xml`` and ``replace-N.xml`` are each looked
up in the directories from the *last* to the first (a site directory overrides the shipped
one), and within a directory in ``nodes/`` before ``site-nodes/``; the first hit of each
kind wins.  ``replace-N`` stands instead of ``N``; ``extend-N`` is appended after it.

What is kept between renders, and why it stays correct: a ``Graph`` (one per directories
and graph name, ``Graph.load``) holds the parsed graph files, the node listing and each
node file's text for one *generation*, with the stamp of every directory and file it read;
and, for the kickstart, each node block's part (``_part``) under every input it is made of.
``generation()`` moves whenever one of them may have changed: the directory watch
(``graph.watch``) says so at once for edits on this machine, and the stamps are compared
whenever it saw something, cannot tell, or a second has passed (edits over NFS). Output
built at generation G from the same attributes is the same while ``generation()`` is G,
which is what the install server's one rendered-text cache relies on.

Node parts: a ``NodePart`` (``graph.kgen``) is made from a node file's block, parsed with
the values of the entities the file references, and kgen's reading of it, which sees the
attributes its conditions name and what earlier blocks did to the files it writes. The
part is kept under exactly those values — and it is *built* from exactly them (the parse
gets only the referenced entities, kgen a view of only the named attributes and files), so
whatever it is made of is in its key by construction. Most blocks read only site-wide
values: a second host gets them from memory, and renders only its own blocks.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ksserver import outputs
from ksserver.errors import KsError
from ksserver.graph.evaluate import Eval, Runner, names_in, trusted
from ksserver.graph.graphfile import Edge, GraphFile, OrderEdge, parse_graph_file
from ksserver.graph.kgen import NodePart, assemble, block_inputs, kickstart_text, node_part
from ksserver.graph.traverse import merge_order, reach, topological_order
from ksserver.graph.watch import FULL_CHECK_SECONDS, DirWatch
from ksserver.nodes.cond import CoercedAttrs
from ksserver.nodes.entities import internal_subset
from ksserver.nodes.nodefile import NodeSource, load_node_source, xml_parser

__all__ = ["Graph", "NODE_SUBDIRS", "NodeFiles", "Profile", "label_of"]

NODE_SUBDIRS = ("nodes", "site-nodes")
_MAX_GRAPHS = 16  # graphs kept per process (each holds a watch descriptor)
_MAX_PARTS = 200_000  # node blocks and parts kept per graph generation (then begun afresh)
_DROPPED = frozenset({"description", "copyright", "changelog"})
_UNSUPPORTED = {
    "copy": "embedded frontend files; ship them with a <file> in a <post>",
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

    def xml(self) -> str:
        """The original's ``list host xml`` text: XML declaration, DOCTYPE, ``<kickstart>``."""
        subset = internal_subset(self.attrs, sorted(self.attrs), sep="\t")
        body = etree.tostring(self.element, encoding="unicode")
        return f'<?xml version="1.0" standalone="no"?>\n<!DOCTYPE kickstart [\n{subset}\n]>\n{body}\n'

    def kickstart(self) -> str:
        return kickstart_text(self.element, self.attrs)


def _stamp(path: Path | str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def label_of(dirs: Sequence[Path], index: int, path: Path) -> str:
    """How a file is named in messages and profiles: relative in the first (shipped)
    directory, so output does not depend on where the tree lives; absolute elsewhere."""
    if index == 0:
        try:
            return Path(path).relative_to(dirs[0]).as_posix()
        except ValueError:
            pass
    return str(path)


def xml_files(dirs: Sequence[Path], subdirs: Sequence[str]):
    """(path, label) of every ``*.xml`` in each of ``subdirs`` of each directory, in
    directory order and by name within one."""
    for i, d in enumerate(dirs):
        for sub in subdirs:
            where = Path(d) / sub
            try:
                names = sorted(n for n in os.listdir(where) if n.endswith(".xml"))
            except OSError:
                continue
            for n in names:
                yield where / n, label_of(dirs, i, where / n)


def graph_files(dirs: Sequence[Path], graph: str):
    """(path, label) of every graph file, in the order their edges are read."""
    return xml_files(dirs, (f"graphs/{graph}",))


@dataclass
class _State:
    """What one generation of a graph read: its edges, the node listing, node texts."""

    files: tuple[tuple[Path, GraphFile], ...]
    listing: dict[Path, frozenset[str]]
    edges: tuple[Edge, ...] = ()
    orders: tuple[OrderEdge, ...] = ()
    adjacency: dict[str, list[Edge]] = field(default_factory=dict)
    topo: list[str] = field(default_factory=list)
    lookup: dict[str, NodeFiles | None] = field(default_factory=dict)
    sources: dict[Path, NodeSource] = field(default_factory=dict)
    conds: list = field(default_factory=list)
    #: (file, its entity values) -> (block, block_inputs); (that, input values) -> NodePart
    blocks: dict[tuple, tuple[etree._Element, tuple, tuple]] = field(default_factory=dict)
    parts: dict[tuple, NodePart] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.edges = tuple(e for _, f in self.files for e in f.edges)
        self.orders = tuple(o for _, f in self.files for o in f.orders)
        for e in self.edges:
            self.adjacency.setdefault(e.frm, []).append(e)
            self.adjacency.setdefault(e.to, [])
        self.topo = topological_order(self.orders)
        self.conds = sorted({e.cond for e in self.edges if not e.cond.always}, key=lambda c: c.text)


_INCLUDE = re.compile(r"^[ \t]*(%include[ \t]+\S+)[ \t]*$", re.MULTILINE)
#: commands that stand alone once their %include lines are taken out of them
_NO_ARGUMENTS = frozenset({"install", "upgrade", "text", "cmdline", "graphical", "interactive", "reboot",
                           "poweroff", "halt", "shutdown", "skipx", "zerombr", "autostep", "mediacheck"})


def _split_includes(main: etree._Element, written: str) -> None:
    """``%include FILE`` on a line of its own in ``<main>`` or one of its command tags (the
    original's graphs put partitioning there) becomes an ``<include>`` of its own, so it stays
    a line of its own in the kickstart. Only a line the node file itself holds counts: an
    attribute value never makes one."""

    def pieces(text: str | None) -> tuple[str, list[str]]:
        found = [m.group(1) for m in _INCLUDE.finditer(text or "") if m.group(0).strip() in written]
        if not found:
            return text or "", []
        rest = _INCLUDE.sub(lambda m: "" if m.group(1) in found else m.group(0), text or "")
        return rest, found

    def include(line: str, tail: str = "\n") -> etree._Element:
        el = etree.Element("include")
        el.text = line.split(None, 1)[1]
        el.tail = tail
        return el

    rest, found = pieces(main.text)
    if found:
        main.text = rest if rest.strip() else "\n"
        for i, line in enumerate(found):
            main.insert(i, include(line))
    for cmd in list(main):
        if not isinstance(cmd.tag, str) or cmd.tag == "include" or len(cmd):
            continue
        rest, found = pieces(cmd.text)
        if not found:
            continue
        cmd.text = " ".join(rest.split())
        at = main.index(cmd)
        for i, line in enumerate(found, 1):
            inc = include(line)
            for name in ("cond", "arch", "os", "release"):  # under its command's condition
                if cmd.get(name) is not None:
                    inc.set(name, cmd.get(name))
            main.insert(at + i, inc)
        if not cmd.text and cmd.tag not in _NO_ARGUMENTS:
            main[at + len(found)].tail = cmd.tail
            main.remove(cmd)


_RUNNERS: dict[tuple, Runner] = {}


def _default_runner() -> Runner:
    """The runner of a caller that names none: one per set of ksserver settings in this
    process's environment (which its commands get)."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KSSERVER_")))
    run = _RUNNERS.get(key)
    if run is None:
        if len(_RUNNERS) >= 8:
            _RUNNERS.clear()
        run = _RUNNERS[key] = Runner()
    return run


def _put_output(el: etree._Element, out: str, mode: str, where: str) -> None:
    """An eval's place taken by its output: text (``quote``), or the elements and text of
    a node-file fragment (``xml``: parsed with no entities and no DOCTYPE of its own)."""
    parent = el.getparent()
    nodes: list[etree._Element] = []
    text = out
    if mode == "xml":
        if re.search(r"<!DOCTYPE|<!ENTITY|<\?xml", out, re.IGNORECASE):
            raise KsError(f"{where}: <eval mode=\"xml\"> printed a DOCTYPE, an ENTITY or an XML declaration")
        try:
            frag = etree.fromstring(f"<eval-output>{out}</eval-output>", xml_parser())
        except etree.XMLSyntaxError as err:
            raise KsError(f"{where}: <eval mode=\"xml\"> printed what is not XML: {err.msg}") from None
        text, nodes = frag.text or "", list(frag)
        for node in nodes:
            for sub in node.iter():
                sub.sourceline = el.sourceline  # its messages point at the eval
    else:
        outputs.xml_text(out, f"{where}: <eval> output")
    prev = el.getprevious()
    tail = el.tail or ""
    at = parent.index(el)
    parent.remove(el)
    if prev is not None:
        prev.tail = (prev.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    for i, node in enumerate(nodes):
        parent.insert(at + i, node)
    last = nodes[-1] if nodes else (parent[at - 1] if at > 0 else None)
    if last is not None:
        last.tail = (last.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail


#: the original's 5.1 <var> names that 5.2 renamed (../shared/spec/var-and-consoles.md §2.2)
VAR_RENAMES = {"Node_Hostname": "hostname", "Node_Address": "hostaddr", "Node_Membership": "membership",
               "Info_RocksVersion": "version", "Info_RocksRelease": "release"}


def var_replacement(name: str) -> str:
    """What a ``<var name=…/>`` is written as today."""
    if name == "Node_Distribution":
        return "&distribution;/&arch;"
    return f"&{VAR_RENAMES.get(name, name)};"


def _legacy_vars(doc: etree._Element, attrs: Mapping[str, Any], table: dict[str, str]) -> None:
    """The original's ``<var>``, before attributes (Rocks 5.0/5.1): ``<var name="X"/>`` is
    X's value as text (an assignment earlier in the render, else the attribute under its
    5.2 name, else empty, as the original); ``val=`` and ``ref=`` assign and print nothing,
    and hold for the node files after, in traversal order (``check graph`` warns of each)."""

    def value(name: str) -> str:
        if name in table:
            return table[name]
        if name == "Node_Distribution":
            return f"{attrs.get('distribution', '')}/{attrs.get('arch', '')}"
        found = attrs.get(VAR_RENAMES.get(name, name))
        return "" if found is None else str(found)

    for el in list(doc.iter("var")):
        name = el.get("name") or ""
        if el.get("val") is not None:
            table[name] = el.get("val")
            text = ""
        elif el.get("ref") is not None:
            table[name] = value(el.get("ref"))
            text = ""
        else:
            text = value(name)
        _put_output(el, text, "quote", f"var {name}")


def _configure(el: etree._Element, label: str) -> etree._Element:
    """The original's ``<configure phase="…">`` (later Rocks and Stacki): a phase that
    includes post is a ``<post>``; any other is skipped, and the kickstart says so."""
    phases = (el.get("phase") or "").replace(",", " ").split()
    if any("post" in p for p in phases):
        el.tag = "post"
        el.attrib.pop("phase", None)
        return el
    note = etree.Element("debug")
    note.text = f'{label}:{el.sourceline}: <configure phase="{el.get("phase") or ""}"> skipped: ' \
                "only a phase that includes post runs in a kickstart"
    note.tail = el.tail
    return note


def _keep(memo: dict, key: tuple, value: Any) -> None:
    if len(memo) >= _MAX_PARTS:
        memo.clear()
    memo[key] = value


class Graph:
    """One graph (e.g. ``default``) over an ordered list of graph directories."""

    _cache: dict[tuple[tuple[str, ...], str], "Graph"] = {}
    _cache_lock = threading.Lock()

    def __init__(self, dirs: Sequence[str | Path], graph: str, watch: bool = True):
        if not dirs:
            raise KsError("no graph directories given")
        if not graph or "/" in graph or graph.startswith("."):
            raise KsError(f'"{graph}" is not a graph name')
        self.dirs = tuple(Path(d) for d in dirs)
        self.name = graph
        self._node_dirs = tuple(d / sub for d in self.dirs for sub in NODE_SUBDIRS)
        watched = []
        for d in self.dirs:
            watched += [d, d / "graphs", d / "graphs" / graph, *(d / sub for sub in NODE_SUBDIRS)]
        self._watch = DirWatch(watched if watch else ())
        self._lock = threading.RLock()
        self._generation = 0
        self._seen = (-1, 0.0)  # (watch generation, time) of the last look at the stamps
        self._stamps: dict[str, tuple[int, int] | None] = {}  # everything this generation read
        self._state: _State | None = None

    # -- loading and generations -----------------------------------------------------
    @classmethod
    def load(cls, dirs: Sequence[str | Path], graph: str = "default") -> "Graph":
        """The graph named ``graph`` over ``dirs``, current (see ``generation``)."""
        key = (tuple(str(d) for d in dirs), graph)
        g = cls._cache.get(key)
        if g is None:
            with cls._cache_lock:
                g = cls._cache.get(key)
                if g is None:
                    while len(cls._cache) >= _MAX_GRAPHS:
                        cls._cache.pop(next(iter(cls._cache))).close()
                    g = cls._cache[key] = cls(dirs, graph)
        g.generation()
        return g

    @classmethod
    def fixed(cls, dirs: Sequence[str | Path], graph: str, files: Sequence[tuple[Path, GraphFile]]) -> "Graph":
        """A graph of the given parsed graph files, not watched (``check graph``)."""
        g = cls(dirs, graph, watch=False)
        g._state = _State(tuple(files), g._listing({}))
        g._seen = (float("nan"), float("inf"))  # never looked at again
        return g

    def close(self) -> None:
        self._watch.close()

    def generation(self) -> int:
        """A number that moves whenever a file or directory this graph read may have
        changed; one read of the watch while nothing did."""
        polled = self._watch.poll()
        seen = self._seen
        now = time.monotonic()
        if self._state is not None and seen[0] == polled and now - seen[1] < FULL_CHECK_SECONDS:
            return self._generation
        with self._lock:
            if self._state is None or any(_stamp(p) != s for p, s in list(self._stamps.items())):
                self._reload()
            self._seen = (polled, now)
            return self._generation

    def _reload(self) -> None:
        """Read the graph files and the node listing afresh: a new generation. Stamps are
        taken before the files are read, so an edit during the read shows next time."""
        stamps: dict[str, tuple[int, int] | None] = {}
        for d in self.dirs:
            gdir = d / "graphs" / self.name
            stamps[str(gdir)] = _stamp(gdir)
        found = list(graph_files(self.dirs, self.name))
        if not found:
            looked = ", ".join(str(d / "graphs" / self.name) for d in self.dirs)
            raise KsError(f'graph "{self.name}" has no graph files (looked in {looked})')
        for p, _label in found:
            stamps[str(p)] = _stamp(p)
        files = tuple((p, parse_graph_file(p, label)) for p, label in found)
        self._state = _State(files, self._listing(stamps))
        self._stamps = stamps
        self._generation += 1

    def _listing(self, stamps: dict) -> dict[Path, frozenset[str]]:
        listing = {}
        for p in self._node_dirs:
            stamps[str(p)] = _stamp(p)
            try:
                listing[p] = frozenset(os.listdir(p))
            except OSError:
                listing[p] = frozenset()
        return listing

    @property
    def _now(self) -> _State:
        state = self._state
        if state is None:
            raise KsError(f'graph "{self.name}" is not loaded')
        return state

    @property
    def files(self) -> tuple[tuple[Path, GraphFile], ...]:
        return self._now.files

    @property
    def edges(self) -> tuple[Edge, ...]:
        return self._now.edges

    @property
    def adjacency(self) -> dict[str, list[Edge]]:
        return self._now.adjacency

    # -- node lookup -----------------------------------------------------------------
    def _find(self, state: _State, filename: str) -> tuple[Path, str] | None:
        for i in range(len(self.dirs) - 1, -1, -1):
            for sub in NODE_SUBDIRS:
                p = self.dirs[i] / sub
                if filename in state.listing.get(p, ()):
                    return p / filename, label_of(self.dirs, i, p / filename)
        return None

    def node_files(self, name: str) -> NodeFiles | None:
        """Where node ``name`` lives, or ``None`` when it has neither N.xml nor replace-N.xml."""
        state = self._now
        try:
            return state.lookup[name]
        except KeyError:
            pass
        replace = self._find(state, f"replace-{name}.xml")
        main = replace or self._find(state, f"{name}.xml")
        extend = self._find(state, f"extend-{name}.xml")
        result = None
        if main is not None:
            result = NodeFiles(name, main[0], main[1], extend[0] if extend else None,
                               extend[1] if extend else None, replace is not None)
        state.lookup[name] = result
        return result

    def all_node_names(self) -> list[str]:
        """Every node that has an ``N.xml`` or ``replace-N.xml`` in some directory."""
        names = set()
        for files in self._now.listing.values():
            for f in files:
                if f.endswith(".xml") and not f.startswith("extend-"):
                    names.add(f[len("replace-"):-4] if f.startswith("replace-") else f[:-4])
        return sorted(names)

    def _source(self, path: Path, label: str) -> NodeSource:
        state = self._now
        source = state.sources.get(path)
        if source is None:
            stamp = _stamp(path)  # before the read: an edit while reading shows next time
            source = load_node_source(path, label)
            with self._lock:
                if self._state is state:
                    self._stamps[str(path)] = stamp
            state.sources[path] = source
        return source

    def sources(self, name: str, reached_by: Edge | None = None) -> list[NodeSource]:
        files = self.node_files(name)
        if files is None:
            where = f"{reached_by.where}: " if reached_by is not None else ""
            raise KsError(f'{where}cannot find node "{name}" (no {name}.xml or replace-{name}.xml in nodes/ or site-nodes/)')
        out = [self._source(files.main, files.main_label)]
        if files.extend is not None:
            out.append(self._source(files.extend, files.extend_label or str(files.extend)))
        return out

    # -- traversal -------------------------------------------------------------------
    def _traverse(self, root: str, attrs: Mapping[str, Any]) -> tuple[list[str], dict[str, Edge | None]]:
        """The nodes ``root`` gets and the edge that reached each (about 12 µs: not worth
        keeping, bench/profile.py measures the render it is part of)."""
        state = self._now
        if root not in state.adjacency and self.node_files(root) is None:
            raise KsError(f'node "{root}" is not in graph "{self.name}"')
        view = CoercedAttrs(attrs)
        by_cond = {c: c(view) for c in state.conds}
        first = reach(root, state.adjacency, {e: True if e.cond.always else by_cond[e.cond] for e in state.edges})
        return merge_order(state.topo, first), first

    def traverse(self, root: str, attrs: Mapping[str, Any]) -> list[str]:
        """The node names ``root`` gets with ``attrs``, in kickstart order."""
        return list(self._traverse(root, attrs)[0])

    # -- the two stages --------------------------------------------------------------
    def _block(self, name: str, source: NodeSource, attrs: Mapping[str, Any],
               evaluate: Runner | None = None, variables: dict[str, str] | None = None) -> etree._Element:
        """One node file parsed with ``attrs``, as the ``<node>`` block of a profile;
        ``variables``: the legacy ``<var>`` table of this render, in traversal order."""
        for entity, line in source.shell_entities.items():
            if entity in attrs:
                outputs.shell_code(str(attrs[entity]), f'{source.label}:{line}: attribute "{entity}"')
        doc = source.parse(attrs)
        if source.has_vars:
            _legacy_vars(doc, attrs, {} if variables is None else variables)
        if source.eval_words:
            self._run_evals(doc, source, attrs, evaluate or _default_runner())
        block = etree.Element("node", name=name, file=source.label, roll=(doc.get("roll") or "base"))
        block.text = "\n"
        block.tail = "\n"
        for child in list(doc):
            if not isinstance(child.tag, str) or child.tag in _DROPPED:
                continue
            if child.tag == "configure":
                child = _configure(child, source.label)
            if child.tag == "main":
                _split_includes(child, source.text)
            if child.tag in _UNSUPPORTED:
                raise KsError(f"{source.label}:{child.sourceline}: <{child.tag}> is not supported: it {_UNSUPPORTED[child.tag]}")
            child.tail = "\n"
            block.append(child)
        return block

    def _run_evals(self, doc: etree._Element, source: NodeSource, attrs: Mapping[str, Any], run: Runner) -> None:
        """Each ``<eval>`` of a parsed node file, replaced by what it printed."""
        evals = list(doc.iter("eval"))
        if not evals:
            return
        graph_dir = next((d for d in self.dirs if d in source.path.parents), source.path.parent)
        why = trusted(source.path, graph_dir)
        for el in evals:
            where = f"{source.label}:{el.sourceline}"
            if why is not None:
                raise KsError(f"{where}: <eval> refused: {why} (chmod go-w it to let its graph run code)")
            if len(el):
                raise KsError(f"{where}: <eval> may hold only text")
            mode = el.get("mode") or "quote"
            if mode not in ("quote", "xml"):
                raise KsError(f'{where}: <eval mode="{mode}">: expected "quote" or "xml"')
            text = el.text or ""
            env = tuple((n, str(attrs[n])) for n in names_in(text, attrs))
            out = run(Eval(where, text, el.get("shell") or "sh", mode, str(source.path.parent), env))
            _put_output(el, out, mode, where)

    def profile(self, root: str, attrs: Mapping[str, Any], evaluate: Runner | None = None) -> Profile:
        """Stage 1: traverse, parse each node file with ``attrs``, merge into one document."""
        ordered, first = self._traverse(root, attrs)
        top = etree.Element("kickstart", root=root, graph=self.name)
        top.text = "\n"
        variables: dict[str, str] = {}
        for name in ordered:
            for source in self.sources(name, first.get(name)):
                top.append(self._block(name, source, attrs, evaluate, variables))
        return Profile(root, top, attrs, tuple(ordered))

    def render_xml(self, root: str, attrs: Mapping[str, Any], evaluate: Runner | None = None) -> str:
        """Stage 1 text (``list host xml`` / ``list node xml``)."""
        return self.profile(root, attrs, evaluate).xml()

    def render_kickstart(self, root: str, attrs: Mapping[str, Any], evaluate: Runner | None = None) -> str:
        """Stage 2 text (``list host profile``, and what the install server serves): the
        same text as ``profile(root, attrs).kickstart()`` (every block parsed, then each
        generated, so the same error comes first), from kept node blocks and parts.
        ``evaluate`` runs the graph's ``<eval>``s (a ``Runner`` whose salt says which state
        of the world their commands read); without one, a process-wide runner does."""
        ordered, first = self._traverse(root, attrs)
        variables: dict[str, str] = {}
        blocks = [self._kept_block(name, source, attrs, evaluate, variables)
                  for name in ordered for source in self.sources(name, first.get(name))]
        view = CoercedAttrs(attrs)
        files_seen: dict[str, tuple[str | None, str | None]] = {}
        parts = []
        for key, block, names, files in blocks:
            part = self._part(key, block, names, files, attrs, view, files_seen)
            files_seen.update(part.files)
            parts.append(part)
        return assemble(parts, self.name, root, attrs)

    def _kept_block(self, name: str, source: NodeSource, attrs: Mapping[str, Any],
                    evaluate: Runner | None = None, variables: dict[str, str] | None = None) -> tuple:
        """(key, block, condition names, file names) of one node file for these values; the
        block is parsed from only the entities the file references (and, with ``<eval>``s,
        the attributes their text names, and the runner's salt), and kept under them."""
        state = self._now
        if source.has_vars:  # the legacy <var> table runs through the whole render: not kept
            block = self._block(name, source, attrs, evaluate, variables)
            return (None, block, *block_inputs(block))
        try:
            key = (source.path, tuple(attrs[e] for e in source.entities))
            seen = dict(zip(source.entities, key[1]))
            if source.eval_words:
                run = evaluate or _default_runner()
                read = tuple((w, attrs[w]) for w in source.eval_words if w in attrs)
                key = (*key, read, run.salt)
                seen.update(read)
            hit = state.blocks.get(key)
        except (KeyError, TypeError):  # an undefined entity (the parse says so), a value that is no key
            block = self._block(name, source, attrs, evaluate)
            return (None, block, *block_inputs(block))
        if hit is None:
            block = self._block(name, source, seen, evaluate)
            hit = (block, *block_inputs(block))
            _keep(state.blocks, key, hit)
        return (key, *hit)

    def _part(self, key: tuple | None, block: etree._Element, names: tuple, files: tuple,
              attrs: Mapping[str, Any], view: CoercedAttrs,
              files_seen: Mapping[str, tuple[str | None, str | None]]) -> NodePart:
        """One block's part, kept under (and built from) only the attributes its conditions
        name and what earlier blocks did to the files it writes."""
        if key is None:
            return node_part(block, view, files_seen)
        read = tuple(attrs.get(n) for n in names)
        wrote = tuple(files_seen.get(f) for f in files)
        pkey = (key, read, wrote)
        try:
            part = self._now.parts.get(pkey)
        except TypeError:  # a value that is no key: made, not kept
            part, pkey = None, None
        if part is None:
            seen = {f: w for f, w in zip(files, wrote) if w is not None}
            part = node_part(block, CoercedAttrs({n: v for n, v in zip(names, read) if v is not None}), seen)
            if pkey is not None:
                _keep(self._now.parts, pkey, part)
        return part
