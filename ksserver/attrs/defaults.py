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


#: what a graph may use that a site's attributes may not define (a Rocks 5.2 site.attrs has
#: no Kickstart_Distribution): the original's own defaults
GRAPH_DEFAULTS = {"Kickstart_Distribution": "rocks-dist", "Kickstart_PrivateKickstartBasedir": "install"}
DEFAULT_VERSION = "9"  # the release a graph is rendered for with no distro registered


def rocks_entities(attrs: Mapping[str, str], root: str | None) -> dict[str, str]:
    """The entities the original defined for every node file (``&version;``, ``&release;``,
    ``&distribution;``, ``&rocks_version_major;``, ``&root;`` …), from the attributes:
    ``rocks_version`` if a site set it, else the registered distro's version
    (``Kickstart_DistroVersion``, set by ``add distro``), else the release of the kickstart's
    ``os_version`` (RHEL7 → 7), so that a graph's ``rocks_version_major > 6`` speaks of the
    OS it installs."""
    version = (attrs.get("rocks_version") or attrs.get("Kickstart_DistroVersion")
               or "".join(c for c in str(attrs.get("os_version") or "") if c.isdigit() or c == ".") or DEFAULT_VERSION)
    release = attrs.get("rocks_release") or version
    out = {"version": version, "rocks_version": version, "rocks_version_major": version.split(".")[0],
           "release": release, "rocks_release": release,
           "distribution": attrs.get("Kickstart_Distribution") or GRAPH_DEFAULTS["Kickstart_Distribution"]}
    if root:
        out["root"] = root
    return out


def for_graph(attrs: dict[str, str], graph: str, root: str | None = None) -> dict[str, str]:
    """A host's resolved attributes plus what the graph also needs: its graph, an arch,
    the original's defaults and built-in entities (an attribute of the same name wins)."""
    attrs.setdefault("graph", graph)
    attrs.setdefault("arch", DEFAULT_ARCH)
    for name, value in GRAPH_DEFAULTS.items():
        attrs.setdefault(name, value)
    for name, value in rocks_entities(attrs, root).items():
        attrs.setdefault(name, value)
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
