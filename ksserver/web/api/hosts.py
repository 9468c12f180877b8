"""Hosts with their interfaces (and, asked for, their resolved attributes), their boot state,
install status and events, kickstart and graph; attributes at every level, and explain."""

from __future__ import annotations

import marshmallow as ma
from flask import Response

from ksserver.attrs import Level
from ksserver.services import attributes, boot, install, inventory, profile, settings, views
from ksserver.web.api.base import (Done, Paging, Selecting, as_json, blueprint, for_reader, is_reader, page_of, page_slice,
                                   paged, params, power, read, schema, write)

blp = blueprint("hosts", "Hosts, their interfaces, boot state, install status and attributes")

S = ma.fields.String
Interface = schema(views.INTERFACE, "Interface")
AttrValue = ma.Schema.from_dict({"value": S(allow_none=True), "source": S(required=True)}, name="AttrValue")
Host = schema(views.HOST, "Host", interfaces=ma.fields.List(ma.fields.Nested(Interface)),
              attrs=ma.fields.Dict(keys=S(), values=ma.fields.Nested(AttrValue),
                                   metadata={"description": "with include=attrs: name → value and its source "
                                                            "(H host, A appliance, O OS, G global, I intrinsic)"}))
HostPage = page_of(Host, "HostPage")
Status = schema(views.STATUS, "Status")
StatusPage = page_of(Status, "StatusPage")
HostAttr = schema(views.HOST_ATTR, "HostAttr")
Explain = schema(views.EXPLAIN, "Explain")
Event = ma.Schema.from_dict({"stage": S(), "time": S(allow_none=True), "address": S(allow_none=True),
                             "detail": S(allow_none=True)}, name="Event")
LevelAttr = schema(views.GLOBAL_ATTR, "LevelAttr")


class HostQuery(Selecting):
    include = ma.fields.String(load_default="", validate=ma.validate.OneOf(["", "attrs"]),
                               metadata={"description": "attrs: each host's resolved attributes with their source"})


class NewHost(ma.Schema):
    name = S(required=True)
    appliance = S()
    rack = ma.fields.Integer(validate=ma.validate.Range(min=0))
    rank = ma.fields.Integer(validate=ma.validate.Range(min=0))
    cpus = ma.fields.Integer(validate=ma.validate.Range(min=1))
    os = S()
    arch = S()


class HostChange(ma.Schema):
    appliance = S()
    rack = ma.fields.Integer(validate=ma.validate.Range(min=0))
    rank = ma.fields.Integer(validate=ma.validate.Range(min=0))
    cpus = ma.fields.Integer(validate=ma.validate.Range(min=1))


class NewInterface(ma.Schema):
    iface = S(required=True, metadata={"description": "the device, eth0"})
    mac, ip, subnet, module, name, options, channel = S(), S(), S(), S(), S(), S(), S()
    vlan = ma.fields.Integer(validate=ma.validate.Range(min=1, max=4094))


class BootChange(ma.Schema):
    action = S(required=True, validate=ma.validate.OneOf(["install", "os"]))


class Force(ma.Schema):
    force = ma.fields.Boolean(load_default=False, metadata={"description": "remove a VM's records even when its "
                                                                           "hypervisor cannot be reached"})


class Value(ma.Schema):
    value = S(required=True)


@blp.get("/hosts")
@blp.arguments(HostQuery, location="query", as_kwargs=True)
@blp.response(200, HostPage)
def list_hosts(select, include, page, per_page):
    """Hosts (``list host``), each with its interfaces; ``include=attrs`` adds its resolved
    attributes (``list host attr``) in the same response. Paged: ``per_page`` at most 1,000."""
    total, items = read(views.hosts, select, offset=(page - 1) * per_page, limit=per_page, attrs=include == "attrs",
                        reader=is_reader())
    return paged(total, items, page, per_page)


@blp.post("/hosts")
@blp.arguments(NewHost)
@blp.response(201, Done)
def add_host(data):
    """``add host``: a name ``<appliance>-<rack>-<rank>`` supplies those three."""
    args = params(data)
    return write(inventory.add_host, args.pop("name"), **args)


@blp.get("/hosts/<string:name>")
@blp.arguments(HostQuery(only=("include",)), location="query", as_kwargs=True)
@blp.response(200, Host)
def get_host(name, include):
    from ksserver.errors import NotFound

    def one(session):
        from ksserver.services import selection

        rec = selection.one_host(session, name)
        items = views.hosts(session, [rec.name], attrs=include == "attrs", reader=is_reader())[1]
        if not items:
            raise NotFound(f'cannot resolve host "{name}"')
        return items[0]

    return read(one)


@blp.patch("/hosts/<string:name>")
@blp.arguments(HostChange)
@blp.response(200, Done)
def change_host(data, name):
    """``set host cpus|rack|rank|appliance``, the fields given, in one transaction."""
    def change(session):
        for field, value in params(data).items():
            inventory.set_host_field(session, [name], field, value)
    return write(change)


@blp.delete("/hosts/<string:name>")
@blp.arguments(Force, location="query", as_kwargs=True)
@blp.response(200, Done)
def remove_host(name, force):
    """``remove host``, with its interfaces and attributes, and a VM's libvirt domain."""
    return write(inventory.remove_hosts, [name], power(), force=force)


@blp.post("/hosts/<string:name>/interfaces")
@blp.arguments(NewInterface)
@blp.response(201, Done)
def add_interface(data, name):
    args = params(data)
    return write(inventory.add_interface, name, args.pop("iface"), **args)


@blp.delete("/hosts/<string:name>/interfaces/<string:iface>")
@blp.response(200, Done)
def remove_interface(name, iface):
    return write(inventory.remove_interface, name, iface)


@blp.put("/hosts/<string:name>/boot")
@blp.arguments(BootChange)
@blp.response(200, Done)
def set_boot(data, name):
    """``set host boot action=install|os``: install mints an install token."""
    return write(boot.set_hosts_boot, [name], data["action"])


@blp.get("/status")
@blp.arguments(Selecting, location="query", as_kwargs=True)
@blp.response(200, StatusPage)
def status(select, page, per_page):
    """Install progress (``list host status``): each host's next boot, last stage, time, address."""
    return page_slice(views.STATUS.records(read(install.host_status, select)), page, per_page)


@blp.get("/hosts/<string:name>/events")
@blp.arguments(Paging(only=("per_page",)), location="query", as_kwargs=True)
@blp.response(200, Event(many=True))
def events(name, per_page):
    """The host's install events, newest first: each fetch, report and error of its installer."""
    return read(install.host_events, name, per_page)


@blp.get("/hosts/<string:name>/kickstart")
@blp.response(200, {"type": "string"}, content_type="text/plain")
def kickstart(name):
    """The kickstart its installer gets (``list host profile``); a read-only token sees its
    secrets (password hashes, tokens, keys) masked."""
    text = read(profile.host_kickstart, name, reveal=not is_reader())
    return Response(text, mimetype="text/plain")


# --- attributes -----------------------------------------------------------------------------

@blp.get("/hosts/<string:name>/attrs")
@blp.response(200, HostAttr(many=True))
def host_attrs(name):
    """Every resolved attribute of the host with its source (``list host attr``)."""
    return as_json(for_reader(views.HOST_ATTR.records(read(attributes.list_host_attrs, [name]))))


@blp.get("/hosts/<string:name>/attrs/<string:attr>/explain")
@blp.response(200, Explain(many=True))
def explain(name, attr):
    """Every level's value of one attribute for the host, the winner marked ``*``."""
    return for_reader(views.EXPLAIN.records(read(attributes.explain_host_attr, name, attr)), attr)


_LEVELS = {"host": (Level.HOST, "hosts"), "appliance": (Level.APPLIANCE, "appliances"), "os": (Level.OS, "oses")}


def _level_routes(level_name: str) -> None:
    level, plural = _LEVELS[level_name]

    def put(data, owner, attr):
        return write(settings.set_attr, level, [owner], attr, data["value"])

    def delete(owner, attr):
        return write(settings.remove_attr, level, [owner], attr)

    put.__doc__ = f"Set an attribute at the {level_name} level (``set {level_name} attr``); a value that " \
                  "cannot be rendered is refused, naming the host."
    delete.__doc__ = f"Remove an attribute from the {level_name} level."
    put.__name__, delete.__name__ = f"set_{level_name}_attr", f"remove_{level_name}_attr"
    path = f"/{plural}/<string:owner>/attrs/<string:attr>"
    blp.put(path)(blp.arguments(Value)(blp.response(200, Done)(put)))
    blp.delete(path)(blp.response(200, Done)(delete))
    if level is not Level.HOST:
        def get(owner):
            return for_reader(views.GLOBAL_ATTR.records([r[1:] for r in read(attributes.list_level, level, [owner])]))

        get.__doc__ = f"The attributes set at the {level_name} level for one {level_name}."
        get.__name__ = f"list_{level_name}_attrs"
        blp.get(f"/{plural}/<string:owner>/attrs")(blp.response(200, LevelAttr(many=True))(get))


for _level in _LEVELS:
    _level_routes(_level)


@blp.get("/attrs")
@blp.response(200, LevelAttr(many=True))
def global_attrs():
    """The attributes set at the global level (``list attr``)."""
    return for_reader(views.GLOBAL_ATTR.records([r[1:] for r in read(attributes.list_level, Level.GLOBAL, [])]))


@blp.put("/attrs/<string:attr>")
@blp.arguments(Value)
@blp.response(200, Done)
def set_global_attr(data, attr):
    return write(settings.set_attr, Level.GLOBAL, [], attr, data["value"])


@blp.delete("/attrs/<string:attr>")
@blp.response(200, Done)
def remove_global_attr(attr):
    return write(settings.remove_attr, Level.GLOBAL, [], attr)
