"""Network boot: DHCP (Kea, or the ISC dhcpd form), and what it hands to booting machines."""

from ksserver.services import dhcp


def report_host_dhcp(session):
    return dhcp.report_kea(session)


def report_host_dhcpd(session):
    return dhcp.report_dhcpd(session)


def sync_dhcp(session):
    return dhcp.apply(session)
