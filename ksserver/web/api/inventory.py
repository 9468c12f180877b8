"""Appliances, OSes, networks, rolls, bootactions, distros, and a host sheet's import."""

from __future__ import annotations

import marshmallow as ma
from flask import request

from ksserver.errors import KsError
from ksserver.services import boot, distros, hostfile, inventory, rolls, views
from ksserver.web.api.base import Done, Paging, blueprint, page_of, page_slice, params, read, schema, write

blp = blueprint("inventory", "Appliances, OSes, networks, rolls, bootactions, install trees, host sheets")

S, B = ma.fields.String, ma.fields.Boolean


def _listing(path: str, view: views.View, name: str, rows, doc: str) -> None:
    item = schema(view, name)

    def get(page, per_page):
        return page_slice(view.records(read(rows)), page, per_page)

    get.__name__, get.__doc__ = f"list_{name.lower()}s", doc
    blp.get(path)(blp.arguments(Paging, location="query", as_kwargs=True)(
        blp.response(200, page_of(item, f"{name}Page"))(get)))


_listing("/appliances", views.APPLIANCE, "Appliance", inventory.list_appliances,
         "Appliances with their membership, graph and root node (``list appliance``).")
_listing("/oses", views.OS, "Os", inventory.list_oses, "Known OSes (``list os``).")
_listing("/networks", views.NETWORK, "Network", inventory.list_networks,
         "Networks with their subnet, netmask, MTU and DNS zone (``list network``).")
_listing("/rolls", views.ROLL, "Roll", lambda s: rolls.list_rolls(s, ()), "Rolls (``list roll``).")
_listing("/bootactions", views.BOOTACTION, "Bootaction", boot.list_bootactions,
         "Bootactions: kernel, ramdisk, arguments (``list bootaction``).")
_listing("/distros", views.DISTRO, "Distro", distros.list_distros, "Registered install trees (``list distro``).")


class NewAppliance(ma.Schema):
    name = S(required=True)
    membership, node, graph = S(), S(), S()
    public, kickstartable = B(), B()


class NewNetwork(ma.Schema):
    name, subnet, netmask = S(required=True), S(required=True), S(required=True)
    dnszone = S()
    mtu = ma.fields.Integer(validate=ma.validate.Range(min=68, max=65535))
    servedns = B()


class NewOs(ma.Schema):
    name = S(required=True)


class NewRoll(ma.Schema):
    name, version, arch = S(required=True), S(required=True), S(required=True)
    os, url = S(), S()


class RollChange(ma.Schema):
    enabled = B(required=True)
    version, arch, os = S(), S(), S()


class NewBootaction(ma.Schema):
    kernel, ramdisk, args = S(), S(), S()


class NewDistro(ma.Schema):
    name = S(required=True)
    directory = S(required=True, metadata={"description": "a tree with a .treeinfo on the frontend"})
    os = S()
    default = B()


class SheetQuery(ma.Schema):
    dry_run = B(load_default=False, data_key="dry-run", metadata={"description": "only check, write nothing"})
    mode = S(load_default="replace", validate=ma.validate.OneOf(["replace", "merge"]))


@blp.post("/appliances")
@blp.arguments(NewAppliance)
@blp.response(201, Done)
def add_appliance(data):
    args = params(data)
    return write(inventory.add_appliance, args.pop("name"), **args)


@blp.delete("/appliances/<string:name>")
@blp.response(200, Done)
def remove_appliance(name):
    return write(inventory.remove_appliance, name)


@blp.post("/oses")
@blp.arguments(NewOs)
@blp.response(201, Done)
def add_os(data):
    return write(inventory.add_os, data["name"])


@blp.post("/networks")
@blp.arguments(NewNetwork)
@blp.response(201, Done)
def add_network(data):
    args = params(data)
    return write(inventory.add_network, args.pop("name"), args.pop("subnet"), args.pop("netmask"), **args)


@blp.delete("/networks/<string:name>")
@blp.response(200, Done)
def remove_network(name):
    return write(inventory.remove_network, name)


@blp.post("/rolls")
@blp.arguments(NewRoll)
@blp.response(201, Done)
def add_roll(data):
    return write(rolls.add_roll, data["name"], data["version"], data["arch"], data.get("os"), data.get("url"))


@blp.patch("/rolls/<string:name>")
@blp.arguments(RollChange)
@blp.response(200, Done)
def enable_roll(data, name):
    """``enable roll`` / ``disable roll`` (every version and arch unless given)."""
    return write(rolls.enable_roll, name, data["enabled"], data.get("version"), data.get("arch"), data.get("os"))


@blp.delete("/rolls/<string:name>")
@blp.response(200, Done)
def remove_roll(name):
    return write(rolls.remove_roll, name)


@blp.put("/bootactions/<string:action>")
@blp.arguments(NewBootaction)
@blp.response(200, Done)
def put_bootaction(data, action):
    """``add bootaction``: made, or the fields given changed."""
    return write(boot.add_bootaction, action, data.get("kernel"), data.get("ramdisk"), data.get("args"))


@blp.delete("/bootactions/<string:action>")
@blp.response(200, Done)
def remove_bootaction(action):
    return write(boot.remove_bootaction, action)


@blp.post("/distros")
@blp.arguments(NewDistro)
@blp.response(201, Done)
def add_distro(data):
    default = None if data.get("default") is None else ("yes" if data["default"] else "no")
    return write(distros.add_distro, data["name"], data["directory"], data.get("os"), default)


@blp.delete("/distros/<string:name>")
@blp.response(200, Done)
def remove_distro(name):
    return write(distros.remove_distro, name)


@blp.post("/hostfile")
@blp.arguments(SheetQuery, location="query", as_kwargs=True)
@blp.response(200, Done)
@blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})
def load_hostfile(dry_run, mode):
    """``load hostfile``: the request body is the sheet (CSV, Stacki's columns); every bad
    line is reported (``errors``) before anything is written; ``dry-run=true`` only checks."""
    data = request.get_data(cache=False)
    if not data:
        raise KsError("the request body is the host sheet (CSV); it was empty")
    return write(hostfile.load_bytes, data, "hostfile", dry_run, mode)

