"""Shared helpers for the graph engine's tests: the shipped graph with demo attributes, and
small purpose-built graphs written as real files in a temporary directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ksserver.attrs.siteattrs import parse_site_attrs
from ksserver.config import DEMO_SITE_ATTRS, SHIPPED_GRAPH_DIR

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "graph"

HOSTS = {
    "compute": dict(
        hostname="compute-0-0", rack="0", rank="0", appliance="compute", membership="Compute",
        hostaddr="10.1.255.254", ksmac="52:54:00:0a:01:fe", os="linux", arch="x86_64", graph="default",
    ),
    "frontend": dict(
        hostname="bayou", rack="0", rank="0", appliance="frontend", membership="Frontend",
        hostaddr="10.1.1.1", ksmac="52:54:00:0a:01:01", os="linux", arch="x86_64", graph="default",
    ),
    "nas": dict(
        hostname="nas-0-0", rack="0", rank="0", appliance="nas", membership="NAS Appliance",
        hostaddr="10.1.255.253", ksmac="52:54:00:0a:01:fd", os="linux", arch="x86_64", graph="default",
    ),
    "vm-container": dict(
        hostname="vm-container-0-0", rack="0", rank="0", appliance="vm-container", membership="VM Container",
        hostaddr="10.1.255.252", ksmac="52:54:00:0a:01:fc", os="linux", arch="x86_64", graph="default",
    ),
}
ROOTS = {"compute": "compute", "frontend": "server", "nas": "nas", "vm-container": "vm-container"}


def demo_attrs(appliance: str = "compute", **extra) -> dict:
    attrs = parse_site_attrs(DEMO_SITE_ATTRS.read_text())
    attrs.update(HOSTS[appliance])
    attrs.update(extra)
    return attrs


@pytest.fixture
def shipped():
    return [SHIPPED_GRAPH_DIR]


class GraphDir:
    """A graph directory under tmp_path: ``edges(...)`` writes a graph file, ``node(...)`` a
    node file (bodies are dedented; a <kickstart> wrapper is added when missing)."""

    def __init__(self, root: Path):
        self.root = root
        (root / "graphs" / "default").mkdir(parents=True, exist_ok=True)
        (root / "nodes").mkdir(exist_ok=True)

    def edges(self, body: str, name: str = "graph.xml") -> Path:
        text = textwrap.dedent(body).strip("\n")
        if "<graph" not in text:
            text = f"<graph>\n{text}\n</graph>\n"
        path = self.root / "graphs" / "default" / name
        path.write_text(text)
        return path

    def node(self, name: str, body: str = "", sub: str = "nodes") -> Path:
        text = textwrap.dedent(body).strip("\n")
        if "<kickstart" not in text:
            text = f"<kickstart>\n{text}\n</kickstart>\n"
        (self.root / sub).mkdir(exist_ok=True)
        path = self.root / sub / f"{name}.xml"
        path.write_text(text)
        return path


@pytest.fixture
def gdir(tmp_path):
    return GraphDir(tmp_path / "g0")


@pytest.fixture
def sitedir(tmp_path):
    return GraphDir(tmp_path / "site")
