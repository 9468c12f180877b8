"""The graph as a picture: Graphviz DOT text, and SVG through the ``dot`` program.

Edges carry their condition as a label (pruned ``<to>``/``<from>`` edges are dashed); with
a root and attributes, the nodes that root's appliance gets are filled and the root is
drawn bold, so "why did this host get that package" can be read off the drawing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ksserver.errors import KsError

if TYPE_CHECKING:  # pragma: no cover
    from ksserver.graph.engine import Graph

__all__ = ["graph_dot", "to_svg"]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_dot(graph: "Graph", root: str | None = None, attrs: Mapping[str, Any] | None = None) -> str:
    kept: set[str] = set()
    if root is not None:
        kept = set(graph.traverse(root, attrs or {}))
    names = sorted(set(graph.adjacency) | set(graph.all_node_names()))
    lines = [
        f"digraph {_q(graph.name)} {{",
        "\trankdir=LR;",
        '\tnode [shape=box, style="rounded", fontname="Helvetica"];',
        '\tedge [fontname="Helvetica", fontsize=10];',
    ]
    for name in names:
        style = []
        if name in kept:
            style.append('style="rounded,filled", fillcolor="#cfe8ff"')
        if name == root:
            style.append("penwidth=3")
        if graph.node_files(name) is None:
            style.append('color="red"')
        lines.append(f"\t{_q(name)}{' [' + ', '.join(style) + ']' if style else ''};")
    for e in graph.edges:
        opts = []
        if not e.cond.always:
            opts.append(f"label={_q(e.cond.text)}")
        if e.prune:
            opts.append("style=dashed")
        if e.frm in kept and e.to in kept:
            opts.append("penwidth=2")
        lines.append(f"\t{_q(e.frm)} -> {_q(e.to)}{' [' + ', '.join(opts) + ']' if opts else ''};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(dot: str) -> bytes:
    """SVG for DOT text, drawn by Graphviz's ``dot -Tsvg``."""
    exe = shutil.which("dot")
    if exe is None:
        raise KsError('cannot draw the graph: the Graphviz "dot" program is not installed (install the graphviz package)')
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise KsError(f'cannot draw the graph: "dot" failed: {err}') from None
    if done.returncode != 0:
        msg = " ".join(done.stderr.decode("utf-8", "replace").split()) or f"exit status {done.returncode}"
        raise KsError(f'cannot draw the graph: "dot" failed: {msg}')
    return done.stdout
