"""Attributes at the four levels, and the resolved view of a host."""

from ksserver.attrs import Level
from ksserver.cli.framework import Table, command
from ksserver.services import attributes, transaction

_OWNER = {Level.OS: "os", Level.APPLIANCE: "appliance", Level.HOST: "host"}


def _register(level: Level) -> None:
    noun = "" if level is Level.GLOBAL else _OWNER[level] + " "
    owner_arg = "" if level is Level.GLOBAL else f"{_OWNER[level]}+ "
    list_arg = "" if level is Level.GLOBAL else f"{_OWNER[level]}*"

    def setter(add: bool):
        def run(attr, value, **owner):
            names = next(iter(owner.values()), [])
            with transaction() as session:
                attributes.set_attr(session, level, names, attr, value, add=add)

        return run

    def add_run(**kw):
        return setter(True)(kw.pop("attr"), kw.pop("value"), **kw)

    def set_run(**kw):
        return setter(False)(kw.pop("attr"), kw.pop("value"), **kw)

    set_run.__doc__ = f"Set an attribute at the {level.noun} level (create or replace)."
    add_run.__doc__ = f"Add an attribute at the {level.noun} level; fails if it exists."
    command(f"set {noun}attr", f"{owner_arg}attr value")(set_run)
    command(f"add {noun}attr", f"{owner_arg}attr value")(add_run)

    def remove_run(attr, **owner):
        """Remove an attribute from this level."""
        names = next(iter(owner.values()), [])
        with transaction() as session:
            attributes.remove_attr(session, level, names, attr)

    remove_run.__doc__ = f"Remove an attribute from the {level.noun} level."
    command(f"remove {noun}attr", f"{owner_arg}attr")(remove_run)

    if level is Level.HOST:
        return  # `list host attr` shows resolved values; see below

    def list_run(**owner):
        names = next(iter(owner.values()), [])
        with transaction() as session:
            rows = attributes.list_level(session, level, names)
        if level is Level.GLOBAL:
            return Table(["ATTR", "VALUE"], [r[1:] for r in rows], trim_owner=False)
        return Table([_OWNER[level].upper(), "ATTR", "VALUE"], rows, trim_owner=False)

    list_run.__doc__ = f"List the attributes set at the {level.noun} level."
    command(f"list {noun}attr", list_arg, json=True)(list_run)


for _level in (Level.GLOBAL, Level.OS, Level.APPLIANCE, Level.HOST):
    _register(_level)


@command("list host attr", "host*", ("attr",), json=True)
def list_host_attr(host, attr=None):
    """Every resolved attribute of the hosts, with the level it came from
    (SOURCE: H host, A appliance, O OS, G global, I intrinsic)."""
    with transaction() as session:
        rows = attributes.list_host_attrs(session, host, attr)
    return Table(["HOST", "ATTR", "VALUE", "SOURCE"], rows, trim_owner=False)


@command("report host attr", "host+", ("attr",))
def report_host_attr(host, attr=None):
    """The hosts' resolved attributes as a site.attrs file; attr=NAME prints one bare value."""
    with transaction() as session:
        return attributes.report_host_attrs(session, host, attr)


@command("explain host attr", "host attr", json=True)
def explain_host_attr(host, attr):
    """Every level's value of one attribute for a host, the winner marked with *."""
    with transaction() as session:
        rows = attributes.explain_host_attr(session, host, attr)
    return Table(["HOST", "SOURCE", "LEVEL", "OWNER", "VALUE", "WINNER"], rows)
