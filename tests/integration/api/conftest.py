"""The API and console's app over a throw-away home, with the tokens and users a test needs.

``api.client`` is Flask's test client of ``web.admin.create_admin_app`` (no socket: the
served tests in ``test_api_served.py`` go through ``ksserver serve``); ``api.power`` reaches
libvirt's test driver through the home's ``libvirt_uri`` (``tests/integration/vms``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ksserver.power import Power

HERE = Path(__file__).parent


class Api:
    def __init__(self, ks, app):
        self.ks, self.app = ks, app
        self.client = app.test_client()
        self.admin = {"Authorization": "Bearer " + ks.ok("add", "api", "token", "admin", "role=admin").splitlines()[-1]}
        self.reader = {"Authorization": "Bearer " + ks.ok("add", "api", "token", "reader").splitlines()[-1]}

    def get(self, path, role="reader", **kw):
        return self.client.get(path, headers={**getattr(self, role), **kw.pop("headers", {})}, **kw)

    def send(self, method, path, role="admin", **kw):
        return self.client.open(path, method=method, headers={**getattr(self, role), **kw.pop("headers", {})}, **kw)


@pytest.fixture
def api(ks, monkeypatch, tmp_path):
    """The app with the home's environment for every request (as ``ksserver serve`` has)."""
    from ksserver.web.admin import create_admin_app

    for k, v in ks.env().items():
        monkeypatch.setenv(k, v)
    ks.power = Power()
    from ksserver.services import jobs

    command = [sys.executable, str(HERE / "fake_insert_ethers.py")]
    yield Api(ks, create_admin_app(ks.power, command))
    jobs.stop_all()  # a discovery session a failed test left open


@pytest.fixture
def vc_api(api, tmp_path):
    """``api`` over a virtual cluster (two compute VMs on two containers, each a libvirt
    test hypervisor of its own); a move copies a small disk with the real copier."""
    from ksserver.power import LibvirtDriver, LocalCopyTransport
    from ksserver.power.fakes import RestoreWithoutXml

    hv = tmp_path / "hv"
    hv.mkdir()
    ks = api.ks
    for h in ("bayou", "vm-container-0-0", "vm-container-0-1"):
        (hv / f"{h}.xml").write_text("<node/>")
        if h != "bayou":
            ks.ok("add", "host", h)
        ks.ok("set", "host", "attr", h, "vm_disk_dir", str(tmp_path / "disks" / h))
    ks.ok("set", "attr", "libvirt_uri", f"test://{hv}/{{host}}.xml")
    ks.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2")
    ks.power.driver_factory = lambda c, uri: RestoreWithoutXml(LibvirtDriver(uri, host=c))
    ks.power.transport_factory = lambda c, uri: LocalCopyTransport(chunk_size=1 << 16)
    disk = tmp_path / "disks" / "vm-container-0-0" / "hosted-vm-0-0-0.hda"  # made before the VM starts: kept
    disk.parent.mkdir(parents=True)
    disk.write_bytes(b"disk" * (1 << 18))
    yield api
    for h in ("bayou", "vm-container-0-0", "vm-container-0-1"):
        d = LibvirtDriver(f"test://{hv}/{h}.xml", host=h)
        for n in d.names():
            if d.state(n) in ("active", "paused"):
                d.stop(n)
            if d.exists(n):
                d.undefine(n)
