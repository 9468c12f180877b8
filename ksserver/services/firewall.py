"""Firewall rules at the four levels, and a host's iptables file: the original's ``add|list|
remove [os|appliance|host] firewall`` and ``report host firewall``.

A host's rules fold as its attributes do, most specific level last: a rule is keyed by what
the original keyed it by (chain, in and out network, service, protocol, action, flags), and a
rule with the same key at a more specific level takes its place. ``report host firewall``
prints ``/etc/sysconfig/iptables`` as node-file XML in the original's layout
(``rocksclusters/base:src/command/commands/report/host/firewall/__init__.py``: ``run``,
``getNat``, ``getPreamble``, ``buildRule``): a ``*nat`` table when a MASQUERADE ``nat`` rule
applies, then ``*filter`` with its preamble, the ACCEPT rules, the REJECT rules (each sorted by
key, a comment line before a rule that has one), the two default REJECTs of ports 0:1024 and
``COMMIT``. A rule whose network the host has no plain interface on is left out, as there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.attrs import LEVELS, Level
from ksserver.db.models import FirewallRule, Interface, Network
from ksserver.errors import KsError
from ksserver.services import attributes, lookup, selection

ACTIONS = ("ACCEPT", "REJECT", "MASQUERADE")  # what the original's report writes
CHAINS = ("INPUT", "OUTPUT", "FORWARD", "POSTROUTING", "PREROUTING")
PROTOCOLS = ("all", "tcp", "udp", "icmp")
_SERVICE = re.compile(r"(all|nat|[A-Za-z][A-Za-z0-9-]*|\d{1,5}(:\d{1,5})?)\Z")


def _network(session: Session, name: str | None) -> str | None:
    if not name or name == "all":
        return None
    return lookup.network(session, name).name


def _rule(session: Session, network, output_network, service, protocol, action, chain, flags, comment) -> dict:
    service = (service or "").strip()
    if not _SERVICE.match(service):
        raise KsError(f'invalid service "{service}": all, nat, a port, a port range a:b or a service name')
    protocol = (protocol or "").strip().lower()
    if protocol not in PROTOCOLS:
        raise KsError(f'invalid protocol "{protocol}": one of {", ".join(PROTOCOLS)}')
    action = (action or "").strip().upper()
    if action not in ACTIONS:
        raise KsError(f'invalid action "{action}": one of {", ".join(ACTIONS)}')
    chain = (chain or "INPUT").strip().upper()
    if chain not in CHAINS:
        raise KsError(f'invalid chain "{chain}": one of {", ".join(CHAINS)}')
    flags = outputs.kickstart_line(outputs.xml_text((flags or "").strip(), "flags"), "flags") or None
    comment = outputs.kickstart_line(outputs.xml_text((comment or "").strip(), "comment"), "comment") or None
    return dict(network=_network(session, network), output_network=_network(session, output_network),
                service=service, protocol=protocol, action=action, chain=chain, flags=flags,
                comment=comment)


def _same(rule: dict):
    return [getattr(FirewallRule, k) == v if v is not None else getattr(FirewallRule, k).is_(None)
            for k, v in rule.items() if k != "comment"]


def add_firewall(session: Session, level: Level, names: Sequence[str], *, network=None, output_network=None,
                 service=None, protocol=None, action=None, chain=None, flags=None, comment=None) -> None:
    rule = _rule(session, network, output_network, service, protocol, action, chain, flags, comment)
    for owner_id, owner_name in attributes.owners(session, level, names, change=True):
        owner = FirewallRule.owner_id.is_(None) if owner_id is None else FirewallRule.owner_id == owner_id
        if session.scalar(select(FirewallRule.id).where(FirewallRule.level == level.letter, owner,
                                                        *_same(rule))) is not None:
            where = "" if level is Level.GLOBAL else f' for {level.noun} "{owner_name}"'
            raise KsError(f"this firewall rule exists{where}")
        session.add(FirewallRule(level=level.letter, owner_id=owner_id, **rule))
    session.flush()


def remove_firewall(session: Session, level: Level, names: Sequence[str], *, network=None, output_network=None,
                    service=None, protocol=None, action=None, chain=None, flags=None) -> None:
    rule = _rule(session, network, output_network, service, protocol, action, chain, flags, None)
    for owner_id, owner_name in attributes.owners(session, level, names, change=True):
        owner = FirewallRule.owner_id.is_(None) if owner_id is None else FirewallRule.owner_id == owner_id
        rows = session.scalars(select(FirewallRule).where(FirewallRule.level == level.letter, owner,
                                                          *_same(rule))).all()
        if not rows:
            where = "" if level is Level.GLOBAL else f' for {level.noun} "{owner_name}"'
            raise KsError(f"no such firewall rule{where}")
        for row in rows:
            session.delete(row)
    session.flush()


def _key(r: FirewallRule) -> str:
    return "-".join(str(v) for v in (r.chain, r.network, r.output_network, r.service, r.protocol, r.action, r.flags))


def host_rules(session: Session, rec, rows: Sequence[FirewallRule] | None = None) -> list[tuple[FirewallRule, Level]]:
    """The host's rules after the fold, each with the level it came from; ``rows``: every
    rule, when the caller read them once for many hosts."""
    owners = {Level.GLOBAL: None, Level.OS: rec.os_id, Level.APPLIANCE: rec.appliance_id, Level.HOST: rec.id}
    if rows is None:
        rows = session.scalars(select(FirewallRule).order_by(FirewallRule.id)).all()
    folded: dict[str, tuple[FirewallRule, Level]] = {}
    for level in LEVELS:
        for r in rows:
            if r.level == level.letter and owners[level] == r.owner_id:
                folded[_key(r)] = (r, level)
    return [folded[k] for k in sorted(folded)]


def list_host_firewall(session: Session, selectors: Sequence[str]) -> list[tuple]:
    out = []
    every = session.scalars(select(FirewallRule).order_by(FirewallRule.id)).all()  # read once, folded per host
    for rec in selection.select_hosts(session, list(selectors), change=False):
        for r, level in host_rules(session, rec, every):
            out.append((rec.name, r.network or "all", r.output_network or "all", r.service, r.protocol, r.chain,
                        r.action, r.flags or "", r.comment or "", level.letter))
    return out


def list_firewall(session: Session, level: Level, names: Sequence[str]) -> list[tuple]:
    owners = dict(attributes.owners(session, level, names, change=False))
    rows = session.scalars(select(FirewallRule).where(FirewallRule.level == level.letter)
                           .order_by(FirewallRule.id)).all()
    return [(owners[r.owner_id], r.network or "all", r.output_network or "all", r.service, r.protocol, r.chain,
             r.action, r.flags or "", r.comment or "") for r in rows if r.owner_id in owners]


def _build(devices: dict[str, str], r: FirewallRule) -> str | None:
    rule = f"-A {r.chain}"
    for net, option in ((r.network, "-i"), (r.output_network, "-o")):
        if net:
            dev = devices.get(net)
            if dev is None:
                return None  # no interface of the host on that network: the rule is left out
            rule += f" {option} {dev}"
    service = r.service
    if service == "all":
        if r.protocol and r.protocol != "all":
            rule += f" -p {r.protocol}"
    elif service != "nat":
        rule += f" -p {r.protocol} --dport {service}"
    if r.flags:
        rule += f" {r.flags}"
    return rule + f" -j {r.action}"


def report_host_firewall(session: Session, host: str) -> str:
    rec = selection.one_host(session, host)
    devices: dict[str, str] = {}
    for name, dev in session.execute(select(Network.name, Interface.device).join(
            Interface, Interface.network_id == Network.id).where(Interface.host_id == rec.id,
                                                                  Interface.device.not_like("vlan%"))
            .order_by(Interface.id)):
        devices.setdefault(name, dev)
    rules = host_rules(session, rec)
    lines = ['<file name="/etc/sysconfig/iptables" perms="500">']

    def emit(r: FirewallRule) -> None:
        built = _build(devices, r)
        if built:
            if r.comment:
                lines.append(outputs.xml_escaped(f"# {r.comment}", "a firewall comment"))
            lines.append(outputs.xml_escaped(built, "a firewall rule"))

    if any(r.chain == "POSTROUTING" and r.action == "MASQUERADE" and r.service == "nat" for r, _ in rules):
        lines.append("*nat")
        for r, _ in rules:
            if r.action == "MASQUERADE":
                emit(r)
        lines += ["COMMIT", ""]
    lines += ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "-A INPUT -i lo -j ACCEPT"]
    for action in ("ACCEPT", "REJECT"):
        for r, _ in rules:
            if r.action == action:
                emit(r)
    lines += ["-A INPUT -p tcp --dport 0:1024 -j REJECT", "-A INPUT -p udp --dport 0:1024 -j REJECT",
              "COMMIT", "</file>"]
    return "\n".join(lines) + "\n"


def default_rules(session: Session) -> list[str]:
    """The original's rules at install (its database-data node), while there are none."""
    if session.scalar(select(FirewallRule.id).limit(1)) is not None:
        return []
    glob = Level.GLOBAL
    add_firewall(session, glob, [], network="private", service="all", protocol="all", action="ACCEPT",
                 comment="the private network is trusted")
    add_firewall(session, glob, [], service="all", protocol="all", action="ACCEPT",
                 flags="-m state --state RELATED,ESTABLISHED", comment="replies")
    add_firewall(session, glob, [], service="ssh", protocol="tcp", action="ACCEPT", flags="-m state --state NEW",
                 comment="ssh from anywhere")
    add_firewall(session, Level.APPLIANCE, ["frontend"], network="public", service="https", protocol="tcp",
                 action="ACCEPT", flags="-m state --state NEW", comment="the frontend's web pages")
    add_firewall(session, Level.APPLIANCE, ["frontend"], output_network="public", service="nat", protocol="all",
                 action="MASQUERADE", chain="POSTROUTING", comment="NAT for the cluster's nodes")
    return ["firewall: the private network, replies and ssh for every host; https and NAT on the frontend"]
