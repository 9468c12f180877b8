"""The kickstart graph: edges, traversal, the merged XML profile and the kickstart text.

Rule: pure.  Everything here is a function of graph directories on disk and an attribute
dict handed in; it imports no web, database, CLI or hypervisor code (an import-linter
contract holds it to that).  Attribute values are data: they reach node documents only as
lxml-expanded entities of an internal DTD, and they can never change the shape of the XML
or the kickstart, nor one host's output another's.

Public API::

    Graph.load(dirs, graph="default") -> Graph            # kept per process; dirs: shipped first
    Graph.generation() -> int                             # moves when a file it read may have
    Graph.render_xml(root, attrs) -> str                  # stage 1 (list host/node xml)
    Graph.render_kickstart(root, attrs) -> str            # stage 2 (list host profile, serve)
    Graph.profile(root, attrs) -> Profile                 # both, from one traversal
    Graph.traverse(root, attrs) -> list[str]              # node names, in kickstart order
    graph_dot(graph, root=None, attrs=None) -> str
    render_node_xml(dirs, root, attrs, graph="default") -> str
    render_node_kickstart(dirs, root, attrs, graph="default") -> str
    kickstart_from_xml(text) -> str                       # stage 2 from stage-1 text
    check_graph(dirs, appliances, graph="default") -> list[str]
    validate_kickstart(text, os_version="RHEL9") -> list[str]
    to_svg(dot) -> bytes
    parse_site_attrs(text, source="site.attrs") -> dict[str, str]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ksserver.attrs.siteattrs import parse_site_attrs
from ksserver.graph.check import check_graph, validate_kickstart
from ksserver.graph.dot import graph_dot, to_svg
from ksserver.graph.engine import Graph, Profile
from ksserver.graph.kgen import DEFAULT_OS_VERSION, kickstart_text

__all__ = [
    "DEFAULT_OS_VERSION",
    "Graph",
    "Profile",
    "check_graph",
    "graph_dot",
    "kickstart_from_xml",
    "parse_site_attrs",
    "render_node_kickstart",
    "render_node_xml",
    "to_svg",
    "validate_kickstart",
]


def render_node_xml(dirs: Sequence[str | Path], root: str, attrs: Mapping[str, Any], graph: str = "default") -> str:
    """Stage 1 for a root node and attributes, no host record needed (``list node xml``)."""
    return Graph.load(dirs, graph).render_xml(root, attrs)


def render_node_kickstart(dirs: Sequence[str | Path], root: str, attrs: Mapping[str, Any], graph: str = "default") -> str:
    return Graph.load(dirs, graph).render_kickstart(root, attrs)


def kickstart_from_xml(text: str | bytes, source: str = "<profile>") -> str:
    """Stage 2 from stage-1 text (what an installer would pipe into ``list host profile``).

    The attributes for the tags' conditions are read back from the DOCTYPE's entities.
    """
    from lxml import etree

    from ksserver.errors import KsError
    from ksserver.nodes.entities import decode_replacement_text
    from ksserver.nodes.nodefile import syntax_error, xml_parser

    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as err:
        raise syntax_error(source, err) from None
    if root.tag != "kickstart":
        raise KsError(f"{source}:{root.sourceline}: the root element is <{root.tag}>, expected <kickstart>")
    attrs: dict[str, str] = {}
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        for ent in dtd.iterentities():
            attrs[ent.name] = decode_replacement_text(ent.content or "")
    return kickstart_text(root, attrs)
