"""Graph files: ``<edge>`` and ``<order>`` declarations, merged over several files.

Syntax (the original's, docs/original-behaviour.md §2.3):

* ``<edge from="A" to="B" [arch= os= release= cond=]/>`` — including A pulls in B.  Its
  condition decides, when B is first reached through it, whether B is kept.
* ``<edge from="A"><to [arch/os/release/cond]>B</to>…</edge>`` and
  ``<edge to="B"><from …>A</from>…</edge>`` — one edge per child; the child's condition is
  AND-ed with the edge's.  As in the original such a child edge is *pruned* when that
  condition is false: it does not exist for the traversal (it reaches nothing).  Unlike
  the original, a child cond under an edge without one is simply the child's cond.
* ``<order head="A" tail="B"/>``, ``<order head="A"><tail>B</tail>…</order>``,
  ``<order tail="B"><head>A</head>…</order>`` — A's sections come before B's; ``HEAD`` and
  ``TAIL`` are pseudo-nodes.  ``gen=`` other than ``kgen`` drops the edge or order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ksserver.errors import KsError
from ksserver.nodes.cond import Cond, make_cond
from ksserver.nodes.nodefile import prolog_doctype, syntax_error, xml_parser

__all__ = ["Edge", "OrderEdge", "GraphFile", "parse_graph_file", "NODE_NAME"]

NODE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]*\Z")
GENERATOR = "kgen"


@dataclass(frozen=True)
class Edge:
    frm: str
    to: str
    cond: Cond
    prune: bool  # a <to>/<from> child edge: absent (not merely suppressing) when cond is false
    where: str  # "file:line" of the declaration
    roll: str


@dataclass(frozen=True)
class OrderEdge:
    head: str
    tail: str
    where: str


@dataclass(frozen=True)
class GraphFile:
    label: str
    roll: str
    edges: tuple[Edge, ...]
    orders: tuple[OrderEdge, ...]


def _name(text: str | None, where: str, what: str) -> str:
    name = (text or "").strip()
    if not name:
        raise KsError(f"{where}: {what} names no node")
    if not NODE_NAME.match(name):
        raise KsError(f'{where}: {what} names "{name}", which is not a node name')
    return name


def _cond(el: etree._Element, where: str) -> Cond:
    return make_cond(where, el.get("arch"), el.get("os"), el.get("release"), el.get("cond"))


def _wrong_gen(el: etree._Element) -> bool:
    gen = el.get("gen")
    return gen is not None and gen.strip() not in ("", GENERATOR)


def parse_graph_text(text: bytes | str, label: str) -> GraphFile:
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    at = prolog_doctype(decoded)
    if at is not None:  # as a node file: a graph file defines no entities of its own
        raise KsError(f"{label}:{decoded.count(chr(10), 0, at) + 1}: a graph file may not declare a DOCTYPE")
    try:
        root = etree.fromstring(text if isinstance(text, bytes) else text.encode("utf-8"), xml_parser())
    except etree.XMLSyntaxError as err:
        raise syntax_error(label, err) from None
    if root.tag != "graph":
        raise KsError(f"{label}:{root.sourceline}: the root element is <{root.tag}>, expected <graph>")
    roll = (root.get("roll") or "base").strip() or "base"
    edges: list[Edge] = []
    orders: list[OrderEdge] = []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        where = f"{label}:{el.sourceline}"
        if el.tag == "edge":
            if _wrong_gen(el):
                continue
            cond = _cond(el, where)
            frm, to = el.get("from"), el.get("to")
            children = [c for c in el if isinstance(c.tag, str)]
            if frm is not None and to is not None:
                edges.append(Edge(_name(frm, where, "edge from="), _name(to, where, "edge to="), cond, False, where, roll))
            elif not children:
                raise KsError(f"{where}: <edge> needs from= and to=, or <to>/<from> children")
            for child in children:
                cwhere = f"{label}:{child.sourceline}"
                if child.tag == "to" and frm is not None:
                    a, b = _name(frm, where, "edge from="), _name(child.text, cwhere, "<to>")
                elif child.tag == "from" and to is not None:
                    a, b = _name(child.text, cwhere, "<from>"), _name(to, where, "edge to=")
                else:
                    raise KsError(
                        f"{cwhere}: <{child.tag}> inside <edge> needs the edge's "
                        f"{'from' if child.tag == 'to' else 'to'}= (a <to> goes with from=, a <from> with to=)"
                    )
                if _wrong_gen(child):
                    continue
                edges.append(Edge(a, b, cond & _cond(child, cwhere), True, cwhere, roll))
        elif el.tag == "order":
            if _wrong_gen(el):
                continue
            head, tail = el.get("head"), el.get("tail")
            children = [c for c in el if isinstance(c.tag, str)]
            if head is not None and tail is not None:
                orders.append(OrderEdge(_name(head, where, "order head="), _name(tail, where, "order tail="), where))
            elif not children:
                raise KsError(f"{where}: <order> needs head= and tail=, or <head>/<tail> children")
            for child in children:
                cwhere = f"{label}:{child.sourceline}"
                if _wrong_gen(child):
                    continue
                if child.tag == "tail" and head is not None:
                    orders.append(OrderEdge(_name(head, where, "order head="), _name(child.text, cwhere, "<tail>"), cwhere))
                elif child.tag == "head" and tail is not None:
                    orders.append(OrderEdge(_name(child.text, cwhere, "<head>"), _name(tail, where, "order tail="), cwhere))
                else:
                    raise KsError(f"{cwhere}: <{child.tag}> inside <order> does not fit its head=/tail=")
        elif el.tag in ("description", "copyright", "changelog"):
            continue
        else:
            raise KsError(f"{where}: unknown tag <{el.tag}> in a graph file (expected <edge> or <order>)")
    return GraphFile(label, roll, tuple(edges), tuple(orders))


def parse_graph_file(path: Path, label: str) -> GraphFile:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KsError(f"{label}: cannot read graph file: {err.strerror}") from None
    return parse_graph_text(data, label)
