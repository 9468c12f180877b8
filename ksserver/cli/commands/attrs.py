"""Attributes at the four levels, and the resolved view of a host (one function per verb;
the table's rows give the level)."""

from ksserver.attrs import Level
from ksserver.cli.results import Table
from ksserver.services import attributes, settings, views

_LEVEL = {"global": Level.GLOBAL, "os": Level.OS, "appliance": Level.APPLIANCE, "host": Level.HOST}


def _owners(owners: dict) -> list[str]:
    return next((v for v in owners.values() if v is not None), [])


def set_attr(session, attr, value, level, add=False, **owners):
    settings.set_attr(session, _LEVEL[level], _owners(owners), attr, value, add=add)


def remove_attr(session, attr, level, **owners):
    settings.remove_attr(session, _LEVEL[level], _owners(owners), attr)


def list_attr(session, level, **owners):
    rows = attributes.list_level(session, _LEVEL[level], _owners(owners))
    if level == "global":
        return Table(views.GLOBAL_ATTR.header, [r[1:] for r in rows], trim_owner=False)
    return Table(views.level_attr(level).header, rows, trim_owner=False)


def list_host_attr(session, host, attr=None):
    return Table(views.HOST_ATTR.header, attributes.list_host_attrs(session, host, attr), trim_owner=False)


def report_host_attr(session, host, attr=None):
    return attributes.report_host_attrs(session, host, attr)


def explain_host_attr(session, host, attr):
    return Table(views.EXPLAIN.header, attributes.explain_host_attr(session, host, attr))
