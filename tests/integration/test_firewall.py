"""iptables rules at the four levels: the one fold, the original's iptables layout, init's rules."""

from __future__ import annotations

import json

COMPUTE_IPTABLES = """\
<file name="/etc/sysconfig/iptables" perms="500">
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp --dport 8649 -j ACCEPT
# replies
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
# ssh from anywhere
-A INPUT -p tcp --dport ssh -m state --state NEW -j ACCEPT
# the private network is trusted
-A INPUT -i eth0 -j ACCEPT
# gmond &amp; friends
-A INPUT -p udp --dport 8649 -j REJECT
-A INPUT -p tcp --dport 0:1024 -j REJECT
-A INPUT -p udp --dport 0:1024 -j REJECT
COMMIT
</file>
"""


def test_a_hosts_rules_fold_over_the_levels_and_print_as_the_original_did(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "subnet=private", "ip=10.1.255.254")
    ks.ok("add", "appliance", "firewall", "compute", "service=8649", "protocol=udp", "action=REJECT",
          "comment=gmond & friends")
    ks.ok("add", "os", "firewall", "linux", "service=8649", "protocol=tcp", "action=ACCEPT")
    ks.ok("add", "host", "firewall", "compute-0-0", "network=public", "service=www", "protocol=tcp", "action=ACCEPT")
    assert ks.ok("report", "host", "firewall", "compute-0-0") == COMPUTE_IPTABLES  # no public interface: no www
    rows = json.loads(ks.ok("list", "host", "firewall", "compute-0-0", "--json"))
    # sorted by the original's key (chain, networks, service, protocol, action, flags)
    assert [(r["network"], r["service"], r["protocol"], r["action"], r["source"]) for r in rows] == [
        ("all", "8649", "tcp", "ACCEPT", "O"), ("all", "8649", "udp", "REJECT", "A"), ("all", "all", "all", "ACCEPT", "G"),
        ("all", "ssh", "tcp", "ACCEPT", "G"), ("private", "all", "all", "ACCEPT", "G"),
        ("public", "www", "tcp", "ACCEPT", "H")]
    # the same rule at a more specific level takes its place: its comment shows
    ks.ok("add", "host", "firewall", "compute-0-0", "network=private", "service=all", "protocol=all",
          "action=ACCEPT", "comment=trusted, says the host")
    assert "# trusted, says the host\n-A INPUT -i eth0 -j ACCEPT\n" in ks.ok("report", "host", "firewall", "compute-0-0")
    ks.ok("remove", "appliance", "firewall", "compute", "service=8649", "protocol=udp", "action=REJECT")
    assert "8649 -j REJECT" not in ks.ok("report", "host", "firewall", "compute-0-0")


def test_the_frontend_masquerades_for_the_cluster(ks):
    text = ks.ok("report", "host", "firewall", "bayou")
    assert text.startswith('<file name="/etc/sysconfig/iptables" perms="500">\n*nat\n# NAT for the cluster\'s nodes\n'
                           "-A POSTROUTING -o eth1 -j MASQUERADE\nCOMMIT\n\n*filter\n")
    assert "-A INPUT -i eth1 -p tcp --dport https -m state --state NEW -j ACCEPT\n" in text


def test_bad_rules_are_refused_with_one_line(ks):
    assert ks.fails("add", "firewall", "service=ssh", "protocol=tcp", "action=ACCEPT",
                    "flags=-m state --state NEW", "comment=again") == "error - this firewall rule exists"
    assert ks.fails("add", "firewall", "service=ssh;reboot", "protocol=tcp", "action=ACCEPT").startswith(
        'error - invalid service "ssh;reboot"')
    assert ks.fails("add", "firewall", "service=22", "protocol=sctp", "action=ACCEPT").startswith(
        'error - invalid protocol "sctp"')
    assert ks.fails("add", "firewall", "service=22", "protocol=tcp", "action=DROP").startswith(
        'error - invalid action "DROP"')
    assert ks.fails("add", "firewall", "service=22", "protocol=tcp", "action=ACCEPT", "network=nosuch").startswith(
        "error - ")
    assert ks.fails("remove", "firewall", "service=22", "protocol=tcp", "action=ACCEPT") == \
        "error - no such firewall rule"
