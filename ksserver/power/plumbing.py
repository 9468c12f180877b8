"""A virtual cluster's VLAN on a container: the VLAN link over its private device, and the
bridge its VMs' NICs join (the original's ``<dev>.<vlan>`` and ``xenbr.<dev>.<vlan>``).

``start host vm`` and ``sync host vlan`` make them, ``remove cluster`` removes them; every
step looks first, so running it twice changes nothing. On this machine (a container whose
libvirt URI names no remote host) the links are made over netlink with pyroute2; on another
container, with ``ip link`` over ssh. The bridge is the VMs' switch, not an IP interface of
the container: it answers no ARP and has no IPv6, so a container whose own address is the
VM frontend's too (both 10.1.1.1 on their private networks) never answers for it on the
cluster's VLAN. Without an uplink (``uplink=False``) only the bridge is
made: enough when every VM of the VLAN runs on this container, and what a kernel without
802.1Q support allows.
"""

from __future__ import annotations

import shlex
from typing import Protocol, runtime_checkable

from ksserver.errors import KsError
from ksserver.power.transport import Runner, SubprocessRunner
from ksserver.vm import vlan_devices

_NO_8021Q = ("the kernel of {host} cannot make VLAN links (802.1Q: load the 8021q module), or set the attribute "
             "vm_vlan_uplink=no on {host} when every VM of vlan {vlan} runs there")


@runtime_checkable
class Plumbing(Protocol):
    def ensure_vlan(self, parent: str, vlan: int, uplink: bool = True) -> str:
        """Make VLAN ``vlan``'s bridge (and, with ``uplink``, its VLAN link over
        ``parent`` as a port of it), all up; returns the bridge's name."""

    def remove_vlan(self, parent: str, vlan: int) -> None:
        """Remove what ``ensure_vlan`` made, when nothing else is plugged into the bridge."""


def _no_ipv6(ifname: str) -> None:
    try:
        with open(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "w") as f:
            f.write("1")
    except OSError:
        pass  # no IPv6 in this kernel: nothing to keep quiet


class NetlinkPlumbing:
    """This machine, in the network namespace the command runs in (pyroute2)."""

    def __init__(self, host: str = "localhost"):
        self.host = host

    def _fail(self, what: str, err: Exception) -> KsError:
        text = getattr(err, "args", [None, None])
        detail = text[1] if len(text) > 1 and isinstance(text[1], str) else str(err)
        return KsError(f"cannot {what} on {self.host}: {detail}")

    def ensure_vlan(self, parent: str, vlan: int, uplink: bool = True) -> str:
        from pyroute2 import IPRoute
        from pyroute2.netlink.exceptions import NetlinkError

        link, bridge = vlan_devices(parent, vlan)
        with IPRoute() as ip:
            made = None  # a bridge this call made goes again if the rest fails
            try:
                br = self._index(ip, bridge)
                if br is None:
                    ip.link("add", ifname=bridge, kind="bridge")
                    br = made = self._index(ip, bridge)
                elif self._kind(ip, br) != "bridge":
                    raise KsError(f"{bridge} on {self.host} exists and is not a bridge: vlan {vlan} needs that name")
                if uplink:
                    dev = self._index(ip, parent)
                    if dev is None:
                        raise KsError(f"cannot make vlan {vlan} on {self.host}: it has no device {parent}")
                    vl = self._index(ip, link)
                    if vl is None:
                        try:
                            ip.link("add", ifname=link, kind="vlan", link=dev, vlan_id=int(vlan))
                        except NetlinkError as err:
                            if err.code == 95:  # EOPNOTSUPP: no 802.1Q in this kernel
                                raise KsError(_NO_8021Q.format(host=self.host, vlan=vlan)) from None
                            raise
                        vl = self._index(ip, link)
                    elif self._kind(ip, vl) != "vlan":
                        raise KsError(f"{link} on {self.host} exists and is not a VLAN link: vlan {vlan} needs that name")
                    ip.link("set", index=vl, master=br, state="up")
                ip.link("set", index=br, state="up", arp=False)
                _no_ipv6(bridge)
            except (NetlinkError, KsError) as err:
                if made is not None:
                    try:
                        ip.link("del", index=made)
                    except NetlinkError:
                        pass
                if isinstance(err, KsError):
                    raise
                raise self._fail(f"make vlan {vlan}'s bridge {bridge}", err) from None
        return bridge

    def remove_vlan(self, parent: str, vlan: int) -> None:
        from pyroute2 import IPRoute
        from pyroute2.netlink.exceptions import NetlinkError

        link, bridge = vlan_devices(parent, vlan)
        with IPRoute() as ip:
            try:
                br = self._index(ip, bridge)
                vl = self._index(ip, link)
                ports = {m["index"] for m in ip.get_links() if m.get_attr("IFLA_MASTER") == br} if br else set()
                if ports - {vl}:
                    return  # something else still uses the bridge: leave it
                if vl is not None and self._kind(ip, vl) == "vlan":
                    ip.link("del", index=vl)
                if br is not None and self._kind(ip, br) == "bridge":
                    ip.link("del", index=br)
            except NetlinkError as err:
                raise self._fail(f"remove vlan {vlan}'s bridge {bridge}", err) from None

    @staticmethod
    def _index(ip, name: str) -> int | None:
        found = ip.link_lookup(ifname=name)
        return found[0] if found else None

    @staticmethod
    def _kind(ip, index: int) -> str | None:
        info = ip.link("get", index=index)[0].get_attr("IFLA_LINKINFO")
        return info.get_attr("IFLA_INFO_KIND") if info else None


_ENSURE = """set -e
ip link show "$2" >/dev/null 2>&1 || ip link add "$2" type bridge
if [ "$5" = yes ]; then
  ip link show "$3" >/dev/null 2>&1 || ip link add link "$1" name "$3" type vlan id "$4"
  ip link set "$3" master "$2" up
fi
ip link set "$2" arp off up
! [ -w /proc/sys/net/ipv6/conf/"$2"/disable_ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/"$2"/disable_ipv6
"""

_REMOVE = """set -e
others=$(ls /sys/class/net/"$2"/brif 2>/dev/null | grep -vx "$3" || true)
[ -z "$others" ] || exit 0
! ip link show "$3" >/dev/null 2>&1 || ip link del "$3"
! ip link show "$2" >/dev/null 2>&1 || ip link del "$2"
"""


class SshPlumbing:
    """Another container, over ``ssh`` (root keys, as the original's ``sync host vlan``)."""

    SSH = ("ssh", "-o", "BatchMode=yes")

    def __init__(self, host: str, runner: Runner | None = None):
        self.host = host
        self.runner = runner or SubprocessRunner()

    def command(self, script: str, *args: str) -> list[str]:
        return [*self.SSH, self.host, " ".join(shlex.quote(a) for a in ("sh", "-c", script, "sh", *args))]

    def _run(self, what: str, argv: list[str]) -> None:
        rc, out, err = self.runner.run(argv)
        if rc != 0:
            detail = " ".join((err or out or f"exit status {rc}").split())
            raise KsError(f"cannot {what} on {self.host}: {detail}")

    def ensure_vlan(self, parent: str, vlan: int, uplink: bool = True) -> str:
        link, bridge = vlan_devices(parent, vlan)
        self._run(f"make vlan {vlan}'s bridge {bridge}",
                  self.command(_ENSURE, parent, bridge, link, str(int(vlan)), "yes" if uplink else "no"))
        return bridge

    def remove_vlan(self, parent: str, vlan: int) -> None:
        link, bridge = vlan_devices(parent, vlan)
        self._run(f"remove vlan {vlan}'s bridge {bridge}", self.command(_REMOVE, parent, bridge, link))

