"""Network boot: DHCP (Kea, or the ISC dhcpd form), and what it hands to booting machines."""

from ksserver.services import bootfiles, dhcp, selection


def report_host_dhcp(session):
    return dhcp.report_kea(session)


def report_host_dhcpd(session):
    return dhcp.report_dhcpd(session)


def sync_dhcp(session):
    return dhcp.apply(session)


def report_host_ipxe(session, host):
    """The iPXE script each host gets from ``/install/boot/ipxe``."""
    records = selection.select_hosts(session, host, change=False)
    texts = [(r.name, bootfiles.ipxe_script(session, r.id)) for r in records]
    if len(texts) == 1:
        return texts[0][1]
    return "".join(f"{name}: {line}\n" for name, text in texts for line in text.splitlines())
