"""The graph: a host's XML profile and kickstart, rendering from site.attrs, checks, pictures."""

from pathlib import Path

from ksserver.cli.results import Problems
from ksserver.errors import KsError
from ksserver.services import profile


def _per_host(pairs):
    """One host: the bare text; several: each line prefixed ``host: `` (as the original)."""
    if len(pairs) == 1:
        return pairs[0][1]
    return "".join(f"{host}: {line}\n" for host, text in pairs for line in text.splitlines())


def list_host_xml(session, host):
    return _per_host(profile.host_profiles(session, host, "xml"))


def list_host_profile(session, host):
    return _per_host(profile.host_profiles(session, host, "kickstart"))


def list_node_xml(root, attrs=None, graph=None, format=None):
    from ksserver.attrs import defaults, parse_site_attrs

    if format not in (None, "xml", "kickstart"):
        raise KsError(f'invalid format "{format}": use xml or kickstart')
    values: dict[str, str] = {}
    if attrs:
        try:
            values = parse_site_attrs(Path(attrs).read_text(), attrs)
        except OSError as err:
            raise KsError(f"cannot read {attrs}: {err.strerror}") from None
    values = defaults.own_frontend(root, values, graph or "default")
    return profile.render_node(root, values, graph or "default", format or "xml")


def check_graph(session, appliance):
    from ksserver.graph.check import is_note

    found = profile.check(session, appliance)
    problems = [p for p in found if not is_note(p)]
    if problems:
        print("".join(f"{n}\n" for n in found if is_note(n)), end="")
        raise Problems(problems)
    return "".join(f"{n}\n" for n in found) + "graph ok\n"


def report_graph(session, appliance=None, format=None):
    if format not in (None, "dot", "svg"):
        raise KsError(f'invalid format "{format}": use dot or svg')
    text = profile.dot(session, appliance)
    if format == "svg":
        from ksserver.graph import to_svg

        return to_svg(text)
    return text
