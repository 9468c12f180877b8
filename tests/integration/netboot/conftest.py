"""A real Kea in a network namespace of the test's own, for the DHCP tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kea import KeaServer
from netns import Netns


@pytest.fixture
def kea(tmp_path):
    """(the namespace, Kea listening on its bridge)."""
    for tool in ("kea-dhcp4", "busybox", "dhcpd"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} is not installed (scripts/setup.sh installs it)")
    with Netns("10.1.1.1/16") as ns:
        directory = tmp_path / "kea"
        directory.mkdir()
        yield ns, KeaServer(ns, directory)
