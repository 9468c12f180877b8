"""The graph: a host's XML profile and kickstart, rendering from site.attrs, checks, pictures."""

import sys
from pathlib import Path

from ksserver import config
from ksserver.cli.framework import command
from ksserver.errors import KsError
from ksserver.services import profile, transaction


def _per_host(pairs):
    """One host: the bare text; several: each line prefixed ``host: `` (as the original)."""
    if len(pairs) == 1:
        return pairs[0][1]
    return "".join(f"{host}: {line}\n" for host, text in pairs for line in text.splitlines())


@command("list host xml", "host+")
def list_host_xml(host):
    """The merged XML profile of hosts (stage one: the graph walked, entities expanded)."""
    with transaction() as session:
        return _per_host(profile.host_profiles(session, host, "xml"))


@command("list host profile", "host+")
def list_host_profile(host):
    """The kickstart file of hosts (stage two), as an installer receives it."""
    with transaction() as session:
        return _per_host(profile.host_profiles(session, host, "kickstart"))


@command("list node xml", "root", ("attrs", "graph", "format"))
def list_node_xml(root, attrs=None, graph=None, format=None):
    """Render a root node from a site.attrs file, with no host record and no database
    (how a frontend builds its own kickstart). format=kickstart gives stage two."""
    from ksserver.attrs import defaults
    from ksserver.graph import Graph, parse_site_attrs

    values: dict[str, str] = {}
    if attrs:
        try:
            values = parse_site_attrs(Path(attrs).read_text(), attrs)
        except OSError as err:
            raise KsError(f"cannot read {attrs}: {err.strerror}") from None
    values = defaults.own_frontend(root, values, graph or "default")
    g = Graph.load(config.graph_dirs(), graph or "default")
    if format in (None, "xml"):
        return g.render_xml(root, values)
    if format == "kickstart":
        return g.render_kickstart(root, values)
    raise KsError(f'invalid format "{format}": use xml or kickstart')


@command("check graph", "appliance*")
def check_graph(appliance):
    """Check the graph for every kickstartable appliance (or those named): well-formed
    files, edges, cycles, unreachable nodes, undefined entities, and pykickstart's verdict."""
    with transaction() as session:
        problems = profile.check(session, appliance)
    if problems:
        for line in problems:
            print(f"error - {line}", file=sys.stderr)
        sys.exit(1)
    return "graph ok\n"


@command("report graph", "appliance?", ("format",))
def report_graph(appliance=None, format=None):
    """The graph as Graphviz DOT (format=dot, default) or SVG (format=svg); with an
    appliance, the nodes its hosts traverse are highlighted."""
    from ksserver.graph import to_svg

    with transaction() as session:
        text = profile.dot(session, appliance)
    if format in (None, "dot"):
        return text
    if format == "svg":
        sys.stdout.buffer.write(to_svg(text))
        sys.stdout.flush()
        return None
    raise KsError(f'invalid format "{format}": use dot or svg')
