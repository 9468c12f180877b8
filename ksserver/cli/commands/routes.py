"""Static routes at the four levels, and a host's (the table's rows give the level)."""

from ksserver.attrs import Level
from ksserver.cli.results import Table
from ksserver.services import routes

_LEVEL = {"global": Level.GLOBAL, "os": Level.OS, "appliance": Level.APPLIANCE, "host": Level.HOST}


def _owners(owners: dict) -> list[str]:
    return next((v for v in owners.values() if v is not None), [])


def add_route(session, network, gateway, level, netmask=None, **owners):
    routes.add_route(session, _LEVEL[level], _owners(owners), network, gateway, netmask)


def remove_route(session, network, level, **owners):
    routes.remove_route(session, _LEVEL[level], _owners(owners), network)


def list_route(session, level):
    return Table(["NETWORK", "NETMASK", "GATEWAY"], [r[1:] for r in routes.list_routes(session, _LEVEL[level], [])],
                 trim_owner=False)


def list_host_route(session, host):
    return Table(["HOST", "NETWORK", "NETMASK", "GATEWAY", "SOURCE"], routes.list_host_routes(session, host),
                 trim_owner=False)


def report_host_route(session, host):
    return routes.report_host_route(session, host)
