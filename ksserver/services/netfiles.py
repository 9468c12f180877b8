"""A host's network files as node-file XML: what the original's graphs pull in with
``<eval mode="xml">rocks report host network|interface &hostname;</eval>``.

The formats are the original's (Rocks 5.4–6.1, Linux hosts):

* ``report host network`` — ``rocksclusters/base:src/command/commands/report/host/network/
  __init__.py`` (``run_linux``): one ``<file name="/etc/sysconfig/network">`` holding
  ``NETWORKING=yes``, ``HOSTNAME=`` (a frontend's public name; any other host's private
  name and ``Kickstart_PrivateDNSDomain``) and ``GATEWAY=`` when the host has a default
  route (``services.routes``; in a home made before routes, the ``Kickstart_PublicGateway``
  attribute for a frontend, ``Kickstart_PrivateGateway`` for any other host).
* ``report host interface`` — ``…/report/host/interface/__init__.py`` (``run_linux``,
  ``writeConfig``, ``writeModprobe``): for each interface, in the order they were added, a
  modprobe alias script in CDATA when it has a module, then ``<file
  name="/etc/sysconfig/network-scripts/ifcfg-DEV">`` with ``DEVICE``, ``HWADDR``, and either
  ``IPADDR``/``NETMASK``/``BOOTPROTO=static``/``ONBOOT=yes`` or ``BOOTPROTO=none``/``ONBOOT=no``;
  a physical host's VLAN interface is ``<dev>.<vlan>`` with ``VLAN=yes``. ``iface=DEV`` prints
  that interface's lines alone, without the ``<file>`` tags.

Every value is XML-escaped (``outputs.xml_escaped``): the output is parsed as node-file XML.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.db.models import Interface, VMNode
from ksserver.services import attributes, routes, selection


def _x(value: object, what: str) -> str:
    return outputs.xml_escaped(str(value), what)


def host_network(session: Session, host: str) -> str:
    rec = selection.one_host(session, host)
    attrs = attributes.host_attrs(session, rec)
    frontend = rec.appliance == "frontend"
    wanted = "public" if frontend else "private"
    ifaces = session.scalars(select(Interface).where(Interface.host_id == rec.id).order_by(Interface.id)).all()
    name = next((i.name for i in ifaces if i.network is not None and i.network.name == wanted and i.name), rec.name)
    domain = None if frontend else attrs.get("Kickstart_PrivateDNSDomain")
    gateway = routes.default_gateway(session, rec) or attrs.get(
        "Kickstart_PublicGateway" if frontend else "Kickstart_PrivateGateway")
    lines = ['<file name="/etc/sysconfig/network">', "NETWORKING=yes",
             f"HOSTNAME={_x(f'{name}.{domain}' if domain else name, 'its host name')}"]
    if gateway:
        lines.append(f"GATEWAY={_x(gateway, 'attribute Kickstart_*Gateway')}")
    lines.append("</file>")
    return "\n".join(lines) + "\n"


def host_interfaces(session: Session, host: str, iface: str | None = None) -> str:
    rec = selection.one_host(session, host)
    physical = session.scalar(select(VMNode.id).where(VMNode.host_id == rec.id)) is None
    ifaces = session.scalars(select(Interface).where(Interface.host_id == rec.id).order_by(Interface.id)).all()
    plain = {i.network_id: i.device for i in ifaces if not i.device.startswith("vlan")}
    out: list[str] = []
    for i in ifaces:
        device = i.device
        if not device.startswith("vlan") and i.module:
            out += ["<![CDATA[",
                    f'grep -v "\\<{device}\\>" /etc/modprobe.conf > /tmp/modprobe.conf',
                    f"echo 'alias {device} {i.module}' >> /tmp/modprobe.conf",
                    "mv /tmp/modprobe.conf /etc/modprobe.conf",
                    "chmod 444 /etc/modprobe.conf",
                    "]]>"]
        if i.vlan and physical:
            dev = plain.get(i.network_id)
            if dev and dev != device:
                device = f"{dev}.{i.vlan}"
        config = [f"DEVICE={_x(device, 'a device name')}"]
        if i.mac:
            config.append(f"HWADDR={_x(i.mac, 'a MAC')}")
        configured = False
        if i.ip and i.network is not None:
            config += [f"IPADDR={_x(i.ip, 'an address')}", f"NETMASK={_x(i.network.netmask, 'a netmask')}",
                       "BOOTPROTO=static", "ONBOOT=yes"]
            configured = True
        if i.vlan and physical:
            config += ["VLAN=yes", "ONBOOT=yes"]
            configured = True
        if not configured:
            config += ["BOOTPROTO=none", "ONBOOT=no"]
        if iface:
            if iface == device:
                out += config
        else:
            out += [f'<file name="/etc/sysconfig/network-scripts/ifcfg-{_x(device, "a device name")}">', *config,
                    "</file>"]
    return "\n".join(out) + ("\n" if out else "")
