"""``check graph``: everything that can be wrong with graph directories, found up front.

Reports (one line each, ``file:line[:column]: what`` where a place is known): files that are
not well-formed, tags with a malformed ``cond``, edges to or from nodes without a node file,
cycles, node files no appliance can reach, entities used on an appliance's paths that its
sample attributes do not define, and each appliance's kickstart as judged by pykickstart
for its ``os_version``.  pykickstart is imported only inside :func:`validate_kickstart`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ksserver.errors import KsError
from ksserver.graph.evaluate import Runner
from ksserver.graph.engine import NODE_SUBDIRS, Graph, graph_files, var_replacement, xml_files
from ksserver.graph.graphfile import Edge, parse_graph_file
from ksserver.graph.kgen import DEFAULT_OS_VERSION
from ksserver.graph.traverse import reach
from ksserver.nodes.cond import make_cond
from ksserver.nodes.nodefile import load_node_source

__all__ = ["check_graph", "is_note", "undefined_attributes", "validate_kickstart"]


def validate_kickstart(text: str, os_version: str = DEFAULT_OS_VERSION) -> list[str]:
    """pykickstart's verdict on a kickstart (errors and warnings), ``[]`` when clean."""
    import warnings

    from pykickstart.errors import KickstartError
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    try:
        handler = makeVersion(os_version)
    except Exception:  # noqa: BLE001 - pykickstart raises several types for a bad name
        return [f'unknown kickstart version "{os_version}" (os_version)']
    # %include names a file the installer's %pre writes: as ksvalidator does, it is not read here
    parser = KickstartParser(handler, followIncludes=False)
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser.readKickstartFromString(text)
        except KickstartError as err:
            problems.append(" ".join(str(err).split()))
    for w in caught:
        problems.append("warning: " + " ".join(str(w.message).split()))
    return problems


#: what a node file may hold at its top level; anything else has no kickstart form
_KNOWN = frozenset({"main", "package", "pre", "post", "debug", "description", "copyright", "changelog",
                    "configure", "eval", "var"})


def is_note(line: str) -> bool:
    """Whether a line of ``check_graph`` informs (``note:``, ``warning:``) rather than fails."""
    return ": note: " in line or ": warning: " in line


def _notes(label: str, el) -> list[str]:
    """What ``check graph`` says of one element besides errors: every ``<eval>`` (code the
    frontend runs), a ``<configure>`` phase that is skipped, a top-level tag with no kickstart
    form (nothing is dropped silently)."""
    where = f"{label}:{el.sourceline}"
    if el.tag == "var":
        name = el.get("name") or ""
        if el.get("val") is not None or el.get("ref") is not None:
            return [f"{where}: warning: <var name=\"{name}\"> with val= or ref= is deprecated: it assigns for every "
                    "node file after it; set an attribute instead"]
        return [f'{where}: warning: <var name="{name}"/> is deprecated: write {var_replacement(name)}']
    if el.tag == "eval":
        return [f'{where}: note: <eval shell="{el.get("shell") or "sh"}"> runs on the frontend when a kickstart '
                "is made"]
    parent = el.getparent()
    if parent is not None and parent.getparent() is None:  # a top-level tag of the node file
        if el.tag == "configure" and not any("post" in p for p in (el.get("phase") or "").replace(",", " ").split()):
            return [f'{where}: note: <configure phase="{el.get("phase") or ""}"> is skipped: only a phase that '
                    "includes post runs in a kickstart"]
        if el.tag not in _KNOWN:
            return [f"{where}: warning: <{el.tag}> has no kickstart form: it is ignored"]
    return []


def undefined_attributes(dirs: Sequence[str | Path], root: str, attrs: Mapping[str, Any],
                         graph: str = "default") -> list[str]:
    """The entities node files on ``root``'s paths use that ``attrs`` does not define, sorted
    (what ``init`` warns of: a Rocks site.attrs alone may lack what a graph needs)."""
    g = Graph.load(dirs, graph)
    missing: set[str] = set()
    for name in reach(root, g.adjacency) if root in g.adjacency else {root}:
        nf = g.node_files(name)
        if nf is None:
            continue
        for path, label in ((nf.main, nf.main_label), (nf.extend, nf.extend_label)):
            if path is not None:
                try:
                    missing.update(e for e in load_node_source(path, label or str(path)).entities if e not in attrs)
                except KsError:
                    continue  # check graph says why
    return sorted(missing)


def _every_render_error(g: Graph, root: str, attrs: Mapping[str, Any], evaluate: Runner | None) -> list[str]:
    """A render stops at its first error; this renders each node file of the appliance's
    traversal on its own, so that every file's error is reported, in traversal order."""
    from ksserver.graph.kgen import node_part
    from ksserver.nodes.cond import CoercedAttrs

    errors: list[str] = []
    try:
        names = g.traverse(root, attrs)
    except KsError as err:
        return [err.message]
    view = CoercedAttrs(attrs)
    for name in names:
        try:
            sources = g.sources(name)
        except KsError as err:
            errors.append(err.message)
            continue
        for source in sources:
            try:
                node_part(g._block(name, source, attrs, evaluate), view, {})
            except KsError as err:
                errors.append(err.message)
    return errors


def _unreachable_by_design(name: str) -> bool:
    """The original's nodes no appliance reaches on purpose: the installer's bootstrap
    packages and the empty ``null`` node."""
    return name == "null" or name.startswith("bootstrap")


def _cycles(adjacency: dict[str, list[Edge]]) -> list[list[Edge]]:
    """One cycle per back edge of a DFS over all nodes (sorted, edges in declaration order)."""
    colour: dict[str, int] = {}
    found: list[list[Edge]] = []
    for start in sorted(adjacency):
        if start in colour:
            continue
        colour[start] = 1
        path: list[Edge] = []
        stack = [(start, iter(adjacency[start]))]
        while stack:
            node, it = stack[-1]
            edge = next(it, None)
            if edge is None:
                colour[node] = 2
                stack.pop()
                if path:
                    path.pop()
                continue
            state = colour.get(edge.to, 0)
            if state == 1:
                names = [n for n, _ in stack]
                cycle = path[names.index(edge.to):] + [edge]
                found.append(cycle)
            elif state == 0:
                colour[edge.to] = 1
                path.append(edge)
                stack.append((edge.to, iter(adjacency.get(edge.to, ()))))
    return found


def check_graph(
    dirs: Sequence[str | Path],
    appliances: Mapping[str, tuple[str, Mapping[str, Any]]],
    graph: str = "default",
    evaluate: Runner | None = None,
) -> list[str]:
    """Problems with graph ``graph`` over ``dirs``; ``appliances`` maps an appliance name to
    ``(root node, sample attributes)``.  An empty list means the graph is clean."""
    dirs = [Path(d) for d in dirs]
    problems: list[str] = []

    files = []
    for path, label in graph_files(dirs, graph):
        try:
            files.append((path, parse_graph_file(path, label)))
        except KsError as err:
            problems.append(err.message)
    if not files and not problems:
        return [f'graph "{graph}" has no graph files in {", ".join(str(d) for d in dirs)}']
    g = Graph.fixed(dirs, graph, files)

    entity_lines: dict[Path, dict[str, int]] = {}
    broken: set[Path] = set()
    for path, label in xml_files(dirs, NODE_SUBDIRS):
        try:
            source = load_node_source(path, label)
            doc = source.parse({name: "" for name in source.entities})
            for el in doc.iter():
                if not isinstance(el.tag, str):
                    continue
                if any(el.get(a) is not None for a in ("cond", "arch", "os", "release")):
                    try:  # every bad condition of the file, not only the first
                        make_cond(f"{label}:{el.sourceline}", el.get("arch"), el.get("os"), el.get("release"),
                                  el.get("cond"))
                    except KsError as err:
                        problems.append(err.message)
                        broken.add(path)
                problems.extend(_notes(label, el))
            lines: dict[str, int] = {}
            for name in source.entities:
                idx = source.text.find(f"&{name};")
                lines[name] = source.text.count("\n", 0, idx) + 1
            entity_lines[path] = lines
        except KsError as err:
            problems.append(err.message)
            broken.add(path)

    for edge in g.edges:
        for name in (edge.frm, edge.to):
            if g.node_files(name) is None:
                problems.append(f'{edge.where}: edge {edge.frm} -> {edge.to}: no node file for "{name}"')

    for cycle in _cycles(g.adjacency):
        route = " -> ".join([cycle[0].frm] + [e.to for e in cycle])
        problems.append(f"{cycle[-1].where}: cycle {route}")

    reachable: set[str] = set()
    for appliance, (root, attrs) in sorted(appliances.items()):
        if root not in g.adjacency and g.node_files(root) is None:
            problems.append(f'appliance {appliance}: root node "{root}" is not in graph "{graph}"')
            continue
        names = reach(root, g.adjacency)
        reachable.update(names)
        before = len(problems)
        try:  # the entities that must be defined: those on the paths this appliance takes
            taken = set(g.traverse(root, attrs))
        except KsError:
            taken = names
        for name in sorted(set(names) & taken):
            nf = g.node_files(name)
            if nf is None:
                continue
            for path, label in ((nf.main, nf.main_label), (nf.extend, nf.extend_label)):
                if path is None or path in broken:
                    continue
                for entity, line in entity_lines.get(path, {}).items():
                    if entity not in attrs:
                        problems.append(f"{label}:{line}: undefined entity &{entity}; (appliance {appliance})")
        if len(problems) > before:
            continue  # rendering would only repeat the first of these
        try:
            text = g.render_kickstart(root, attrs, evaluate)
        except KsError as err:
            found = _every_render_error(g, root, attrs, evaluate) or [err.message]
            problems.extend(f"appliance {appliance}: {message}" for message in found)
            continue
        version = str(attrs.get("os_version") or DEFAULT_OS_VERSION)
        for msg in validate_kickstart(text, version):
            problems.append(f"appliance {appliance}: kickstart ({version}): {msg}")

    if appliances:
        for name in g.all_node_names():
            if name not in reachable and name not in ("HEAD", "TAIL") and not _unreachable_by_design(name):
                nf = g.node_files(name)
                label = nf.main_label if nf else name
                problems.append(f'{label}: node "{name}" is not reachable from any appliance\'s root')

    # the same problem may arise from two appliances; keep the first of each
    seen: set[str] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]
