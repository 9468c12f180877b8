"""A host's profile: its resolved attributes walked through the graph of its appliance."""

from __future__ import annotations

import os
import re

from sqlalchemy.orm import Session

from ksserver import config
from ksserver.attrs import defaults
from ksserver.db import queries
from ksserver.db.queries import HostRecord
from ksserver.errors import KsError
from ksserver.outputs import MASK, is_secret
from ksserver.services import attributes, selection


def graph_for(graph: str = "default"):
    from ksserver.graph import Graph  # the engine caches parsed files between requests

    return Graph.load(config.graph_dirs(), graph)


_RUNNERS: dict[tuple, object] = {}


def evaluator(revision: int, attrs: dict[str, str]):
    """The runner of the graph's ``<eval>``s for one inventory revision: their commands read
    the inventory, so a result is kept while the revision stands (``graph.evaluate``). The
    time limit is the ``graph_eval_timeout`` attribute (seconds, default 30)."""
    from ksserver.graph.evaluate import DEFAULT_TIMEOUT, Runner

    try:
        timeout = float(attrs.get("graph_eval_timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        raise KsError(f'attribute "graph_eval_timeout" must be a number of seconds, not "{attrs["graph_eval_timeout"]}"') from None
    # the runner passes this process's KSSERVER_* settings on: one per home and database
    key = (revision, timeout, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KSSERVER_"))))
    run = _RUNNERS.get(key)
    if run is None:
        if len(_RUNNERS) >= 4:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        run = _RUNNERS[key] = Runner(timeout=timeout, salt=revision)
    return run


def entity_attrs(session: Session, rec: HostRecord) -> dict[str, str]:
    """What ``&name;`` entities and ``cond`` expressions see for this host."""
    return defaults.for_graph(attributes.host_attrs(session, rec), rec.graph, rec.node)


def root_of(rec: HostRecord) -> str:
    if not rec.node:
        raise KsError(f'host "{rec.name}" is a {rec.appliance}, which has no root node: it is not kickstartable')
    return rec.node


def render_node(root: str, attrs: dict[str, str], graph: str, kind: str) -> str:
    """A root node rendered from attributes alone, no host record (``list node xml``)."""
    g = graph_for(graph)
    attrs = defaults.for_graph(dict(attrs), graph, root)
    return g.render_xml(root, attrs) if kind == "xml" else g.render_kickstart(root, attrs)


def render_host_xml(session: Session, rec: HostRecord) -> str:
    attrs = entity_attrs(session, rec)
    return graph_for(rec.graph).render_xml(root_of(rec), attrs, evaluator(queries.revision(session), attrs))


def kickstart_of(rec: HostRecord, attrs: dict[str, str], revision: int) -> str:
    """The kickstart of a host with these resolved attributes: what ``list host profile``
    prints and the install server serves (``services.kickstart`` keeps it)."""
    if attrs.get("Kickstart_PrivateSHARootPassword") in defaults.published_root_hashes():
        raise KsError("its root password hash is the published demo one: set Kickstart_PrivateSHARootPassword "
                      "(`ksserver init` without a site.attrs makes one of its own)")
    attrs = defaults.for_graph(attrs, rec.graph, rec.node)
    text = graph_for(rec.graph).render_kickstart(root_of(rec), attrs, evaluator(revision, attrs))
    if not text.strip():
        raise KsError(f"the kickstart of {rec.name} is empty")
    return text


def render_host_kickstart(session: Session, rec: HostRecord) -> str:
    return kickstart_of(rec, attributes.host_attrs(session, rec), queries.revision(session))


def host_profiles(session: Session, selectors: list[str], kind: str) -> list[tuple[str, str]]:
    """(host, text) for each selected host; ``kind`` is ``xml`` or ``kickstart``."""
    records = selection.select_hosts(session, selectors, change=True)
    render = render_host_xml if kind == "xml" else render_host_kickstart
    out = []
    for rec in records:
        try:
            out.append((rec.name, render(session, rec)))
        except KsError as err:  # of several hosts, say which one, when the message does not
            if len(records) == 1 or f'"{rec.name}"' in err.message:
                raise
            raise KsError(f"{rec.name}: {err.message}") from None
    return out


def appliance_samples(session: Session, names: list[str]) -> dict[str, tuple[str, dict[str, str], str]]:
    """For each kickstartable appliance (or those named): (root node, the attributes of a
    host of it — its first host, or a made-up one when it has none —, graph)."""
    from sqlalchemy import select

    from ksserver.db.models import Appliance, Host

    apps = session.scalars(select(Appliance).order_by(Appliance.name)).all()
    if names:
        known = {a.name: a for a in apps}
        missing = [n for n in names if n not in known]
        if missing:
            raise KsError(f'unknown appliance "{missing[0]}"')
        apps = [known[n] for n in names]
    out = {}
    for app in apps:
        if not app.node:
            if names:
                raise KsError(f'appliance "{app.name}" has no root node: it is not kickstartable')
            continue
        host_id = session.scalar(select(Host.id).where(Host.appliance_id == app.id).order_by(Host.id))
        if host_id is not None:
            rec = queries.host_records_by_id(session, [host_id])[0]
            attrs = entity_attrs(session, rec)
        else:
            attrs = {k: v for k, v in queries.global_attrs(session).items()}
            attrs.update(queries.appliance_attrs(session, [app.id]).get(app.id, {}))
            attrs.update(defaults.sample_host(app.name, app.membership, app.graph))
            attrs = defaults.for_graph(attrs, app.graph, app.node)
        out[app.name] = (app.node, attrs, app.graph)
    return out


def check(session: Session, names: list[str]) -> list[str]:
    """Every problem of the graph (files, edges, entities, pykickstart) for the appliances."""
    samples = appliance_samples(session, names)
    problems: list[str] = []
    from ksserver.graph import check_graph

    for graph in sorted({g for _r, _a, g in samples.values()} or {"default"}):
        apps = {n: (root, attrs) for n, (root, attrs, g) in samples.items() if g == graph}
        problems += check_graph(config.graph_dirs(), apps, graph,
                                evaluator(queries.revision(session), queries.global_attrs(session)))
    if names:  # reachability speaks of every appliance; with some named it would mislead
        problems = [p for p in problems if "not reachable from any appliance" not in p]
    return problems


def undefined(session: Session) -> list[str]:
    """One line per kickstartable appliance whose graph uses attributes nothing defines."""
    from ksserver.graph.check import undefined_attributes

    out = []
    for name, (root, attrs, graph) in appliance_samples(session, []).items():
        try:
            missing = undefined_attributes(config.graph_dirs(), root, attrs, graph)
        except KsError:
            continue  # a graph that does not load: check graph says why
        if missing:
            out.append(f"appliance {name}: its graph uses attributes nothing defines: {', '.join(missing)} "
                       "(set them, or its kickstart fails)")
    return out


def dot(session: Session, appliance: str | None) -> str:
    from ksserver.graph import graph_dot

    if appliance is None:
        return graph_dot(graph_for())
    root, attrs, graph = appliance_samples(session, [appliance])[appliance]
    return graph_dot(graph_for(graph), root, attrs)


def svg(session: Session, appliance: str | None) -> str:
    """``report graph format=svg``: the graph as a picture, the appliance's path lit."""
    from ksserver.graph import to_svg

    return to_svg(dot(session, appliance))


def host_kickstart(session: Session, host: str, reveal: bool) -> str:
    """One host's kickstart, as ``list host profile``; without ``reveal`` every value of an
    attribute whose name says it is secret (a password hash, a token, a key) and the
    argument of each ``rootpw`` or ``--password``/``--iscrypted`` is masked."""
    rec = selection.one_host(session, host)
    text = render_host_kickstart(session, rec)
    if reveal:
        return text
    values = sorted({v for k, v in attributes.host_attrs(session, rec).items() if is_secret(k) and v and len(v) >= 4},
                    key=len, reverse=True)
    for value in values:
        text = text.replace(value, MASK)
    text = re.sub(r"(?m)^(rootpw\b.*?)(\S+)$", lambda m: m.group(1) + MASK, text)
    return re.sub(r"(--(?:password|iscrypted-password)[= ])(\S+)", lambda m: m.group(1) + MASK, text)
