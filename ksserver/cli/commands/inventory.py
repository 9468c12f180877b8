"""Hosts, interfaces, appliances, networks and OSes."""

import sys

from ksserver.cli.framework import Table, command, truthy
from ksserver.services import inventory, transaction

_IFACE_FIELDS = ("mac", "ip", "subnet", "vlan", "module", "name", "options", "channel")


@command("add host", "name", ("membership", "appliance", "rack", "rank", "cpus", "os", "arch"))
def add_host(name, membership=None, appliance=None, rack=None, rank=None, cpus=None, os=None, arch=None):
    """Add a host; a name <appliance>-<rack>-<rank> supplies those three."""
    with transaction() as session:
        inventory.add_host(
            session, name, appliance=appliance or membership, rack=rack, rank=rank, cpus=cpus, os=os, arch=arch
        )


@command("list host", "host*", json=True)
def list_host(host):
    """Hosts with their membership, CPUs, rack, rank and boot actions."""
    with transaction() as session:
        rows = inventory.list_hosts(session, host)
    return Table(["HOST", "MEMBERSHIP", "CPUS", "RACK", "RANK", "RUNACTION", "INSTALLACTION"], rows)


@command("remove host", "host+", ("force",))
def remove_host(host, force=None):
    """Remove hosts with their interfaces and attributes, and a VM's libvirt domain;
    force=yes removes a VM's records even when its hypervisor cannot be reached."""
    with transaction() as session:
        warnings = inventory.remove_hosts(session, host, force=truthy(force))
    for line in warnings:
        print(line, file=sys.stderr)


def _host_field(field):
    def run(host, value):
        with transaction() as session:
            inventory.set_host_field(session, host, field, value)

    run.__doc__ = f"Set the {field} of hosts."
    command(f"set host {field}", "host+ value")(run)


for _field in ("cpus", "rack", "rank", "appliance", "membership"):
    _host_field(_field)


@command("add host interface", "host iface", _IFACE_FIELDS)
def add_host_interface(host, iface, **fields):
    """Add a network interface to a host."""
    with transaction() as session:
        inventory.add_interface(session, host, iface, **fields)


@command("list host interface", "host*", json=True)
def list_host_interface(host):
    """Interfaces of hosts: subnet, device, MAC, IP, netmask, module, name, VLAN."""
    with transaction() as session:
        rows = inventory.list_interfaces(session, host)
    return Table(
        ["HOST", "SUBNET", "IFACE", "MAC", "IP", "NETMASK", "MODULE", "NAME", "VLAN", "OPTIONS", "CHANNEL"], rows
    )


def _iface_field(field):
    def run(host, iface, **value):
        with transaction() as session:
            inventory.set_interface(session, host, iface, field, value[field])

    run.__doc__ = f"Set the {field} of one interface of a host."
    command(f"set host interface {field}", f"host iface {field}")(run)


for _field in ("ip", "mac", "subnet", "vlan", "module", "name"):
    _iface_field(_field)


@command("remove host interface", "host iface")
def remove_host_interface(host, iface):
    """Remove one interface of a host."""
    with transaction() as session:
        inventory.remove_interface(session, host, iface)


@command("add appliance", "name", ("membership", "node", "graph", "public", "kickstartable"))
def add_appliance(name, **params):
    """Add an appliance: a kind of machine, rooted at a node of the graph."""
    with transaction() as session:
        inventory.add_appliance(session, name, **params)


@command("list appliance", json=True)
def list_appliance():
    """Appliances with their membership, graph and root node."""
    with transaction() as session:
        rows = inventory.list_appliances(session)
    return Table(["APPLIANCE", "MEMBERSHIP", "GRAPH", "NODE", "KICKSTARTABLE", "PUBLIC"], rows, trim_owner=False)


@command("remove appliance", "name")
def remove_appliance(name):
    """Remove an appliance that no host uses."""
    with transaction() as session:
        inventory.remove_appliance(session, name)


@command("add network", "name subnet netmask", ("dnszone", "mtu", "servedns"))
def add_network(name, subnet, netmask, **params):
    """Add a network (subnet): name, subnet address, netmask."""
    with transaction() as session:
        inventory.add_network(session, name, subnet, netmask, **params)


@command("list network", json=True)
def list_network():
    """Networks with their subnet, netmask, MTU and DNS zone."""
    with transaction() as session:
        rows = inventory.list_networks(session)
    return Table(["NETWORK", "SUBNET", "NETMASK", "MTU", "DNSZONE", "SERVEDNS"], rows, trim_owner=False)


@command("remove network", "name")
def remove_network(name):
    """Remove a network no interface uses."""
    with transaction() as session:
        inventory.remove_network(session, name)


@command("add os", "name")
def add_os(name):
    """Add an OS, so that attributes can be set for it."""
    with transaction() as session:
        inventory.add_os(session, name)


@command("list os", json=True)
def list_os():
    """Known OSes."""
    with transaction() as session:
        rows = inventory.list_oses(session)
    return Table(["OS"], rows, trim_owner=False)
