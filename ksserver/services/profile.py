"""A host's profile: its resolved attributes walked through the graph of its appliance."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ksserver import config
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.services import attributes, selection


def graph_for(graph: str = "default"):
    from ksserver.graph import Graph  # the engine caches parsed files between requests

    return Graph.load(config.graph_dirs(), graph)


def entity_attrs(session: Session, rec: HostRecord) -> dict[str, str]:
    """What ``&name;`` entities and ``cond`` expressions see for this host."""
    attrs = attributes.host_attrs(session, rec)
    attrs.setdefault("graph", rec.graph)
    attrs.setdefault("arch", "x86_64")
    return attrs


def _root(rec: HostRecord) -> str:
    if not rec.node:
        raise KsError(f'host "{rec.name}" is a {rec.appliance}, which has no root node: it is not kickstartable')
    return rec.node


def render_host_xml(session: Session, rec: HostRecord) -> str:
    return graph_for(rec.graph).render_xml(_root(rec), entity_attrs(session, rec))


def render_host_kickstart(session: Session, rec: HostRecord) -> str:
    return graph_for(rec.graph).render_kickstart(_root(rec), entity_attrs(session, rec))


def host_profiles(session: Session, selectors: list[str], kind: str) -> list[tuple[str, str]]:
    """(host, text) for each selected host; ``kind`` is ``xml`` or ``kickstart``."""
    records = selection.select_hosts(session, selectors, change=True)
    render = render_host_xml if kind == "xml" else render_host_kickstart
    return [(rec.name, render(session, rec)) for rec in records]
