"""iptables rules at the four levels, and a host's (the table's rows give the level)."""

from ksserver.attrs import Level
from ksserver.cli.results import Table
from ksserver.services import firewall

_LEVEL = {"global": Level.GLOBAL, "os": Level.OS, "appliance": Level.APPLIANCE, "host": Level.HOST}
_OWNERS = ("os", "appliance", "host")
_COLUMNS = ["NETWORK", "OUTPUT-NETWORK", "SERVICE", "PROTOCOL", "CHAIN", "ACTION", "FLAGS", "COMMENT"]


def _split(params: dict) -> tuple[list[str], dict]:
    owners = next((params.pop(k) for k in _OWNERS if params.get(k) is not None), [])
    for k in _OWNERS:
        params.pop(k, None)
    return owners, params


def add_firewall(session, level, **params):
    owners, rule = _split(params)
    firewall.add_firewall(session, _LEVEL[level], owners, **rule)


def remove_firewall(session, level, **params):
    owners, rule = _split(params)
    firewall.remove_firewall(session, _LEVEL[level], owners, **rule)


def list_firewall(session, level):
    return Table(_COLUMNS, [r[1:] for r in firewall.list_firewall(session, _LEVEL[level], [])], trim_owner=False)


def list_host_firewall(session, host):
    return Table(["HOST", *_COLUMNS, "SOURCE"], firewall.list_host_firewall(session, host), trim_owner=False)


def report_host_firewall(session, host):
    return firewall.report_host_firewall(session, host)
