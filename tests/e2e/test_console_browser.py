"""The console in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``;
Playwright's own browser is never downloaded) against ``ksserver serve api=…``.

It signs in, follows a simulated rack install on the dashboard (installers fetch their
kickstarts from the install listener; the page updates itself), changes an attribute and
reads its explain view, and powers a VM on libvirt's test driver. Screenshots are kept
(``KSSERVER_E2E_ARTIFACTS``/console, else pytest's temporary directory)."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from ports import free_port

CHROMIUM = "/usr/bin/chromium"
# what this machine's closed network needs: nothing of Chromium's own reaches out
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RACK = 6


@pytest.fixture
def shots(e2e_artifacts):
    path = Path(e2e_artifacts) / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("ks", ["sqlite"], indirect=True)
def test_console_in_chromium(ks, tmp_path, monkeypatch, shots):
    from playwright.sync_api import expect, sync_playwright

    from integration.conftest import start_server

    assert os.path.exists(CHROMIUM), "Debian's chromium is installed by scripts/setup.sh"
    # a rack set to install, and a virtual cluster on libvirt's test driver
    for rank in range(RACK):
        ks.ok("add", "host", f"compute-0-{rank}")
        ks.ok("add", "host", "interface", f"compute-0-{rank}", "eth0", f"mac=52:54:00:00:00:{rank:02x}",
              f"ip=10.1.0.{10 + rank}", "subnet=private")
    ks.ok("set", "host", "boot", "compute", "action=install")
    hv = tmp_path / "hv"
    hv.mkdir()
    for h in ("bayou", "vm-container-0-0"):
        (hv / f"{h}.xml").write_text("<node/>")
    ks.ok("add", "host", "vm-container-0-0")
    ks.ok("set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(tmp_path / "disks"))
    ks.ok("set", "host", "attr", "bayou", "vm_disk_dir", str(tmp_path / "disks-fe"))
    ks.ok("set", "attr", "libvirt_uri", f"test://{hv}/{{host}}.xml")
    ks.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "1")
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))
    ks.ok("add", "user", "alice", "role=admin")
    tokens = {r["host"]: r["token"] for r in json.loads(ks.ok("list", "host", "boot", "compute", "showtoken=yes",
                                                                "--json"))}
    api_port = free_port()
    # one worker: libvirt's test driver keeps its state in the process that opened it
    server = start_server(ks, f"api=127.0.0.1:{api_port}", "workers=1", "warm=no")
    base = f"http://127.0.0.1:{api_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/")
            expect(page).to_have_url(f"{base}/login?next=/")
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", "wrong password")
            page.click("button[type=submit]")
            expect(page.locator(".flash.error")).to_have_text("wrong user name or password")
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", "correct horse")
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/")

            # the rack installs: the dashboard follows without a reload
            installing = sum(r["boot"] == "install" for r in json.loads(ks.ok("list", "host", "status", "--json")))
            assert installing == RACK + 2  # the rack, and the virtual cluster's two VMs
            expect(page.locator("#count-installing")).to_have_text(str(installing))
            marks = page.locator("#live-table tr:has-text('compute-0-') td.mark")
            expect(marks).to_have_text(["( )"] * RACK)
            page.screenshot(path=str(shots / "dashboard-before.png"), full_page=True)
            for host in sorted(tokens)[:4]:
                reply = server.request(f"/install/sbin/kickstart.cgi?token={tokens[host]}")
                assert reply.status == 200, reply.body
            expect(marks).to_have_text(["(*)"] * 4 + ["( )"] * 2, timeout=15000)
            expect(page.locator("#live-table tr:has-text('(*)') td:first-child")).to_have_text(
                [f"compute-0-{i}" for i in (3, 2, 1, 0)])  # the latest first
            page.screenshot(path=str(shots / "dashboard-installing.png"), full_page=True)

            # an attribute changed on the host's page, and its explain view
            page.click("nav >> text=Hosts")
            page.fill("input[name=q]", "compute-0-%")
            page.click("form.filter button")
            expect(page.locator("#hosts tr")).to_have_count(RACK + 1)
            page.click("#hosts >> text=compute-0-1")
            expect(page.locator("h1")).to_have_text("compute-0-1")
            page.fill("#set-attr input[name=attr]", "x_queue")
            page.fill("#set-attr input[name=value]", "short")
            page.click("#set-attr button:not([name=remove])")
            expect(page.locator(".flash.ok")).to_have_text("set x_queue for compute-0-1")
            page.click("#attr-table >> text=x_queue")
            winner = page.locator("#explain-view tr.winner td")
            expect(winner).to_have_text(["H", "host", "compute-0-1", "short", "*"])
            expect(page.locator("img.graph")).to_be_visible()
            page.screenshot(path=str(shots / "host-explain.png"), full_page=True)
            assert ks.ok("list", "host", "attr", "compute-0-1", "attr=x_queue").split()[-2:] == ["short", "H"]

            # a VM powered on, after its confirmation
            page.click("nav >> text=VMs")
            page.click("#vms tr:has-text('hosted-vm-0-0-0') >> text=start")
            expect(page.locator("h1")).to_have_text("Start hosted-vm-0-0-0?")
            page.click("#confirm")
            expect(page.locator(".flash.ok")).to_have_text("start: hosted-vm-0-0-0")
            expect(page.locator("#vms tr:has-text('hosted-vm-0-0-0') td.status")).to_have_text("active")
            page.screenshot(path=str(shots / "vms.png"), full_page=True)
            page.click("nav >> text=Clusters")
            expect(page.locator("#clusters")).to_contain_text("hosted-vm-0-0-0")
            browser.close()
    finally:
        server.stop()
