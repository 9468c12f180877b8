"""One XML node file of the kickstart graph: its text, its entities, its conditions.

Rule: pure. This package parses a node file with lxml (internal entities only, no network,
no external DTD), expands ``&attr;`` from the attributes handed in, and evaluates the
``cond`` language without ``eval``.  It imports no web, database, CLI or hypervisor code;
edges, traversal and the kickstart text live in :mod:`ksserver.graph`.
"""

from ksserver.nodes.cond import TRUE, CoercedAttrs, Cond, CondSyntaxError, coerce, compile_cond, make_cond
from ksserver.nodes.entities import escape_entity_value, internal_subset
from ksserver.nodes.nodefile import NodeSource, load_node_source, xml_parser

__all__ = [
    "TRUE",
    "CoercedAttrs",
    "Cond",
    "CondSyntaxError",
    "NodeSource",
    "coerce",
    "compile_cond",
    "escape_entity_value",
    "internal_subset",
    "load_node_source",
    "make_cond",
    "xml_parser",
]
