"""The VLAN bridges of a container made over netlink (pyroute2), in a network namespace of
the test's own: made once however often asked, left while something else is plugged in,
removed after. Whether this kernel can make 802.1Q links decides which of the two outcomes
an uplink gets; both are asserted exactly."""

from __future__ import annotations

import json
import sys

from netns import Netns

SCRIPT = """
import json, sys
from ksserver.errors import KsError
from ksserver.power.plumbing import NetlinkPlumbing
op, vlan, uplink = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes"
p = NetlinkPlumbing("vm-container-0-0")
try:
    out = p.ensure_vlan("eth0", vlan, uplink) if op == "ensure" else p.remove_vlan("eth0", vlan)
    print(json.dumps({"ok": out}))
except KsError as err:
    print(json.dumps({"error": str(err)}))
"""


def _plumb(ns: Netns, op: str, vlan: int, uplink: bool = True) -> dict:
    out = ns.run(sys.executable, "-c", SCRIPT, op, str(vlan), "yes" if uplink else "no").stdout
    return json.loads(out)


def _links(ns: Netns) -> dict[str, dict]:
    return {link["ifname"]: link for link in json.loads(ns.run("ip", "-d", "-j", "link", "show").stdout)}


def test_bridges_are_made_once_kept_while_used_and_removed(tmp_path):
    with Netns("10.1.1.1/16") as ns:
        assert _plumb(ns, "ensure", 2, uplink=False) == {"ok": "xenbr.eth0.2"}
        assert _plumb(ns, "ensure", 2, uplink=False) == {"ok": "xenbr.eth0.2"}
        links = _links(ns)
        assert links["xenbr.eth0.2"]["linkinfo"]["info_kind"] == "bridge"
        assert "UP" in links["xenbr.eth0.2"]["flags"]
        # the VMs' switch, not an address of the container: no ARP answers, no IPv6
        assert "NOARP" in links["xenbr.eth0.2"]["flags"]
        assert ns.run("cat", "/proc/sys/net/ipv6/conf/xenbr.eth0.2/disable_ipv6").stdout.strip() == "1"
        # a VM's port on it keeps it; once gone, the bridge goes
        ns.run("ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet0p")
        ns.run("ip", "link", "set", "vnet0", "master", "xenbr.eth0.2")
        assert _plumb(ns, "remove", 2) == {"ok": None}
        assert "xenbr.eth0.2" in _links(ns)
        ns.run("ip", "link", "del", "vnet0")
        assert _plumb(ns, "remove", 2) == {"ok": None}
        assert "xenbr.eth0.2" not in _links(ns)
        # a name taken by something else is refused, not reused
        ns.run("ip", "link", "add", "xenbr.eth0.5", "type", "veth", "peer", "name", "other")
        assert _plumb(ns, "ensure", 5, uplink=False) == {
            "error": "xenbr.eth0.5 on vm-container-0-0 exists and is not a bridge: vlan 5 needs that name"}


def test_an_uplink_is_an_802_1q_link_on_the_private_device_or_a_clear_error(tmp_path):
    with Netns("10.1.1.1/16") as ns:
        probe = ns.run("ip", "link", "add", "link", "eth0", "name", "probe", "type", "vlan", "id", "9", check=False)
        got = _plumb(ns, "ensure", 3)
        if probe.returncode == 0:
            assert got == {"ok": "xenbr.eth0.3"}
            links = _links(ns)
            assert links["eth0.3"]["linkinfo"]["info_data"]["id"] == 3
            assert links["eth0.3"]["link"] == "eth0" and links["eth0.3"]["master"] == "xenbr.eth0.3"
            assert _plumb(ns, "remove", 3) == {"ok": None}
            assert "eth0.3" not in _links(ns) and "xenbr.eth0.3" not in _links(ns)
        else:  # this kernel has no 802.1Q: the administrator is told what to do
            assert got == {"error": "the kernel of vm-container-0-0 cannot make VLAN links (802.1Q: load the 8021q "
                                    "module), or set the attribute vm_vlan_uplink=no on vm-container-0-0 when "
                                    "every VM of vlan 3 runs there"}
            assert "xenbr.eth0.3" not in _links(ns)  # the bridge it made first went again
        assert _plumb(ns, "ensure", 3, uplink=True) == got  # and asking again changes nothing
