"""The namespace the network tests run in goes away whole, even when a test fails in it."""

import subprocess

import pytest

from netns import Netns


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_the_namespace_and_everything_in_it_are_removed(tmp_path):
    with pytest.raises(RuntimeError):
        with Netns("10.9.0.1/24") as ns:
            name = ns.name
            proc = ns.popen(["sleep", "600"], tmp_path / "sleep.log")
            stray = subprocess.Popen(ns.exec(["sleep", "600"]))  # started another way
            assert name in _namespaces()
            assert ns.run("cat", "/sys/class/net/eth0/operstate").stdout.strip() == "up"
            raise RuntimeError("a failing test")
    assert name not in _namespaces()
    assert proc.poll() is not None and stray.wait(10) is not None
