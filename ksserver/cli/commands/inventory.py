"""Hosts, interfaces, partitions, appliances, networks and OSes."""

import sys

from ksserver.cli.results import Table
from ksserver.services import inventory, views
from ksserver.truth import is_yes


def add_host(session, name, membership=None, appliance=None, rack=None, rank=None, cpus=None, os=None, arch=None):
    inventory.add_host(session, name, appliance=appliance or membership, rack=rack, rank=rank, cpus=cpus, os=os, arch=arch)


def list_host(session, host):
    return Table(views.HOST.header,
                 inventory.list_hosts(session, host))


def remove_host(session, host, power, force=None):
    for line in inventory.remove_hosts(session, host, power, force=is_yes(force)):
        print(line, file=sys.stderr)


def set_host_field(session, host, value, field):
    inventory.set_host_field(session, host, field, value)


def add_host_interface(session, host, iface, **fields):
    inventory.add_interface(session, host, iface, **fields)


def list_host_interface(session, host):
    return Table(views.INTERFACE.header,
                 inventory.list_interfaces(session, host))


def set_interface_field(session, host, iface, field, **value):
    inventory.set_interface(session, host, iface, field, value[field])


def remove_host_interface(session, host, iface):
    inventory.remove_interface(session, host, iface)


def add_host_partition(session, host, device, mountpoint=None, size=None, fstype=None):
    inventory.add_partition(session, host, device, mountpoint=mountpoint, size=size, fstype=fstype)


def list_host_partition(session, host):
    return Table(["HOST", "DEVICE", "MOUNTPOINT", "SIZE", "FSTYPE"], inventory.list_partitions(session, host))


def remove_host_partition(session, host, device=None):
    inventory.remove_partitions(session, host, device)


def add_appliance(session, name, **params):
    inventory.add_appliance(session, name, **params)


def set_appliance_graph(session, appliance, graph, node=None):
    inventory.set_appliance_graph(session, appliance, graph, node)


def list_appliance(session):
    return Table(views.APPLIANCE.header,
                 inventory.list_appliances(session), trim_owner=False)


def remove_appliance(session, name):
    inventory.remove_appliance(session, name)


def add_network(session, name, subnet, netmask, **params):
    inventory.add_network(session, name, subnet, netmask, **params)


def list_network(session):
    return Table(views.NETWORK.header, inventory.list_networks(session),
                 trim_owner=False)


def remove_network(session, name):
    inventory.remove_network(session, name)


def add_os(session, name):
    inventory.add_os(session, name)


def list_os(session):
    return Table(["OS"], inventory.list_oses(session), trim_owner=False)
