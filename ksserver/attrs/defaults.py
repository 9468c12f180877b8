"""What a host's attributes hold where nothing set them: every made-up value, in one place.

The graph needs a few values no level may define for a given host (its ``graph``, an
``arch`` before its installer reported one), and two commands render for a host that has
no record (``check graph`` for an appliance with no hosts yet, ``list node xml`` for a
frontend building its own kickstart): those values come from here and nowhere else.
"""

from __future__ import annotations

import platform
from functools import lru_cache
import socket
from collections.abc import Mapping

from ksserver.config import DEMO_SITE_ATTRS

DEFAULT_OS = "linux"
DEFAULT_ARCH = "x86_64"  # what a host's kickstart assumes until its installer says


@lru_cache(maxsize=1)
def published_root_hashes() -> frozenset[str]:
    """Root password hashes anyone can read (the demo site.attrs shipped with ksserver): a
    kickstart never carries one of them."""
    for line in DEMO_SITE_ATTRS.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Kickstart_PrivateSHARootPassword":
            return frozenset({value.strip()})
    return frozenset()


def native_arch() -> str:
    """This machine's architecture, named as Red Hat trees name it (i386 for i?86)."""
    machine = platform.machine() or DEFAULT_ARCH
    return "i386" if machine in {"i486", "i586", "i686"} else machine


def for_graph(attrs: dict[str, str], graph: str) -> dict[str, str]:
    """A host's resolved attributes plus what the graph also needs (its graph, an arch)."""
    attrs.setdefault("graph", graph)
    attrs.setdefault("arch", DEFAULT_ARCH)
    return attrs


def sample_host(appliance: str, membership: str, graph: str) -> dict[str, str]:
    """The intrinsic values of a made-up host of an appliance that has none yet."""
    return {
        "hostname": f"{appliance}-0-0", "rack": "0", "rank": "0", "appliance": appliance,
        "membership": membership, "hostaddr": "10.1.255.254", "ksmac": "00:00:00:00:00:00",
        "os": DEFAULT_OS, "arch": DEFAULT_ARCH, "graph": graph,
    }


def own_frontend(root: str, site: Mapping[str, str], graph: str) -> dict[str, str]:
    """What the original filled in for a machine building its own kickstart from its
    site.attrs, under the values the file gives."""
    values = {
        "hostname": site.get("Kickstart_PrivateHostname") or socket.gethostname().split(".")[0],
        "rack": "0", "rank": "0", "appliance": root, "membership": "Frontend",
        "hostaddr": site.get("Kickstart_PrivateAddress", ""),
        "ksmac": site.get("Kickstart_PrivateEthernet", ""),
        "os": DEFAULT_OS, "arch": platform.machine() or DEFAULT_ARCH, "graph": graph,
    }
    values.update(site)
    return values
