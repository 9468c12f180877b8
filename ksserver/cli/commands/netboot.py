"""Network boot: DHCP (Kea, or the ISC dhcpd form), and what it hands to booting machines."""

from ksserver.cli.results import Table
from ksserver.services import bootfiles, dhcp, distros, hostfile, netboot, netfiles, selection, views


def report_host_dhcp(session):
    return dhcp.report_kea(session)


def report_host_dhcpd(session):
    return dhcp.report_dhcpd(session)


def sync_dhcp(session):
    return netboot.apply_dhcp(session)


def sync_config(session):
    return "".join(line + "\n" for line in netboot.sync_config(session))


def report_host(session):
    return netboot.report_host(session)


def report_host_network(session, host):
    return netfiles.host_network(session, host)


def report_host_interface(session, host, iface=None):
    return netfiles.host_interfaces(session, host, iface)


def report_host_ipxe(session, host):
    """The iPXE script each host gets from ``/install/boot/ipxe``."""
    records = selection.select_hosts(session, host, change=False)
    texts = [(r.name, bootfiles.ipxe_script(session, r.id)) for r in records]
    if len(texts) == 1:
        return texts[0][1]
    return "".join(f"{name}: {line}\n" for name, text in texts for line in text.splitlines())


def add_distro(session, name, directory, os=None, default=None):
    return "".join(line + "\n" for line in distros.add_distro(session, name, directory, os, default))


def list_distro(session):
    return Table(views.DISTRO.header, distros.list_distros(session), trim_owner=False)


def remove_distro(session, name):
    return "".join(line + "\n" for line in distros.remove_distro(session, name))


def load_hostfile(session, file, dry_run=None, mode=None):
    from ksserver.truth import is_yes

    return "".join(line + "\n" for line in hostfile.load(session, file, is_yes(dry_run), mode or "replace"))


def report_hostfile(session):
    return hostfile.report(session)
