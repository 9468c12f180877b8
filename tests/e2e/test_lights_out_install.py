"""The whole mission in one test: a real VM, started by `ksserver start host vm` through
libvirt (QEMU, software emulation), boots an installer that fetches its site.attrs,
rolls.xml and kickstart from `ksserver serve` over HTTP and reports completion.

Only the installer image and the libvirt daemon come from test fixtures; ksserver runs as
an administrator runs it (its console script, in subprocesses), with the same code paths
as production: the domain type from `vm_domain_type`, user-mode networking from
`vm_network`, the install bootaction's kernel and arguments carrying the install token.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import libvirt
import pytest
from lxml import etree
from libvirt_env import E2E_USER, remove_paths
from waiting import wait_until

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).with_name("ksserver"))
VMS = ("frontend-0-0-0", "hosted-vm-0-0-0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cli:
    def __init__(self, env):
        self.env = env

    def __call__(self, *args: str) -> str:
        res = subprocess.run([EXE, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"ksserver {' '.join(args)}: {res.stderr}"
        return res.stdout

    def json(self, *args: str):
        return json.loads(self(*args, "--json"))

    def status(self, vm: str) -> str:
        return self.json("list", "host", "vm", vm, "status=y")[0]["status"]


def own_disk(cli: Cli, vm: str) -> None:
    """Create the VM's disk file for the unprivileged user QEMU runs as."""
    rows = cli.json("list", "host", "vm", vm, "showdisks=y")
    user = pwd.getpwnam(E2E_USER) if os.geteuid() == 0 else None
    for row in rows:
        spec = row.get("disk")
        if not spec:
            continue
        path = spec.split(":", 1)[1].split(",")[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(64 * 1024 * 1024)
        if user:
            os.chown(path, user.pw_uid, user.pw_gid)


def test_vm_installs_lights_out_from_ksserver(installer_image, libvirt_env, e2e_artifacts, tmp_path):
    started = time.monotonic()
    run_dir = libvirt_env.make_run_dir()
    kernel = libvirt_env.stage_file(installer_image[0], run_dir)
    initrd = libvirt_env.stage_file(installer_image[1], run_dir)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "KSSERVER_HOME": str(home), "KSSERVER_DATABASE_URL": f"sqlite:///{home}/ksserver.db"}
    env.pop("KSSERVER_GRAPH", None)
    cli = Cli(env)
    port = free_port()
    server = None
    server_log = Path(e2e_artifacts) / "ksserver-serve.log"
    try:
        cli("init")
        cli("set", "attr", "libvirt_uri", libvirt_env.uri)
        cli("set", "attr", "vm_domain_type", "qemu")
        cli("set", "attr", "vm_network", "user")
        cli("set", "attr", "vm_console_log", run_dir)
        cli("add", "host", "vm-container-0-0")
        cli("set", "host", "attr", "vm-container-0-0", "vm_disk_dir", run_dir)
        cli("set", "host", "attr", "bayou", "vm_disk_dir", run_dir)
        out = cli("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "1")
        assert out.splitlines()[0] == "created frontend VM named: frontend-0-0-0"
        ks_url = f"http://10.0.2.2:{port}/install/sbin/kickstart.cgi"
        cli("add", "bootaction", "action=install vm e2e", f"kernel=file://{kernel}", f"ramdisk=file://{initrd}",
            f"args=console=ttyS0 panic=1 ks={ks_url}")
        cli("set", "host", "installation", "frontend-0-0-0", "action=install vm e2e")
        # lights-out: the VM frontend's own attributes and rolls, as in the seed
        cli("set", "host", "attr", "vi-1", "Kickstart_PublicHostname", "vi-1.rocksclusters.org")
        cli("set", "host", "attr", "vi-1", "Kickstart_PublicKickstartHost", "bayou.rocksclusters.org")
        for roll in ("os", "base", "kernel"):
            cli("add", "roll", roll, "version=5.2", "arch=x86_64")
            cli("set", "host", "roll", "vi-1", roll, "5.2", "x86_64")
        for vm in VMS:
            own_disk(cli, vm)
        token = cli.json("list", "host", "boot", "frontend-0-0-0", "showtoken=yes")[0]["token"]
        assert token

        with open(server_log, "w") as log:
            server = subprocess.Popen([EXE, "serve", f"bind=127.0.0.1:{port}", "workers=1", "api=no"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: _listening(port), "ksserver serve to listen", 30, 0.5)

        # the installer starts from ksserver's own domain XML, with the token in its command line
        config = cli("report", "host", "vm", "config", "frontend-0-0-0")
        assert config.startswith("<domain type='qemu'>")
        assert f"token={token}" in config
        cli("start", "host", "vm", "frontend-0-0-0")
        assert cli.status("frontend-0-0-0") == "active"

        wait_until(lambda: cli.status("frontend-0-0-0") == "shutoff", "the installer to power off", 90, 0.5)
        console = Path(run_dir, "frontend-0-0-0.log").read_text(errors="replace")
        shutil.copy(Path(run_dir, "frontend-0-0-0.log"), Path(e2e_artifacts) / "frontend-0-0-0.console.log")
        assert "ks-installer: kickstart ok" in console, console[-2000:]

        # the server saw each step, from that host, with its MAC header (events are written
        # behind the responses, within a fraction of a second)
        wait_until(lambda: "installed" in [s for s, _ in _events(env, "frontend-0-0-0")],
                   "the completion to be recorded", 10, 0.5)
        events = _events(env, "frontend-0-0-0")
        stages = [stage for stage, _detail in events]
        for stage in ("site.attrs", "rolls.xml", "profile", "installed"):
            assert stage in stages, events
        mac = cli.json("list", "host", "interface", "frontend-0-0-0")[0]["mac"]
        assert any(mac in (detail or "") for stage, detail in events if stage == "profile"), events

        # what it received is what `list host profile` prints
        printed = re.search(r"kickstart sha256 ([0-9a-f]{64})", console).group(1)
        assert printed == hashlib.sha256(cli("list", "host", "profile", "frontend-0-0-0").encode()).hexdigest()

        # completion flipped its boot to os and revoked the token: nobody can use it now
        assert cli.json("list", "host", "boot", "frontend-0-0-0")[0]["action"] == "os"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/install/sbin/kickstart.cgi?token={token}", timeout=10)
        assert refused.value.code == 403

        # the rest of the life cycle on a running guest: the compute boots the network (its
        # cluster's own frontend installs it), finds no boot file there and keeps trying
        assert [b.get("dev") for b in etree.fromstring(cli("report", "host", "vm", "config", "hosted-vm-0-0-0")
                                                       .encode()).iterfind("os/boot")] == ["network", "hd"]
        cli("start", "host", "vm", "hosted-vm-0-0-0")
        assert cli.status("hosted-vm-0-0-0") == "active"
        cli("pause", "host", "vm", "hosted-vm-0-0-0")
        assert cli.status("hosted-vm-0-0-0") == "paused"
        cli("resume", "host", "vm", "hosted-vm-0-0-0")
        assert cli.status("hosted-vm-0-0-0") == "active"
        saved = os.path.join(run_dir, "hosted-vm-0-0-0.saved")
        cli("save", "host", "vm", "hosted-vm-0-0-0", f"file={saved}")
        assert cli.status("hosted-vm-0-0-0") == "shutoff"
        assert os.path.getsize(saved) > 0
        cli("restore", "host", "vm", "hosted-vm-0-0-0", f"file={saved}")
        assert cli.status("hosted-vm-0-0-0") == "active"
        cli("stop", "host", "vm", "hosted-vm-0-0-0")
        assert cli.status("hosted-vm-0-0-0") == "shutoff"
        print(f"\n[e2e] lights-out install and life cycle in {time.monotonic() - started:.1f} s")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        _destroy(libvirt_env.uri, VMS)
        for vm in VMS:
            log = Path(run_dir, f"{vm}.log")
            if log.exists():
                shutil.copy(log, Path(e2e_artifacts) / f"{vm}.console.log")
        remove_paths(run_dir)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _events(env, host: str):
    from sqlalchemy import create_engine, text

    eng = create_engine(env["KSSERVER_DATABASE_URL"])
    try:
        with eng.connect() as conn:
            return conn.execute(
                text("select e.stage, e.detail from install_events e join hosts h on h.id = e.host_id "
                     "where h.name = :n order by e.id"), {"n": host}
            ).all()
    finally:
        eng.dispose()


def _destroy(uri: str, names) -> None:
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        for name in names:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            if dom.isActive():
                dom.destroy()
            try:
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            except libvirt.libvirtError:
                dom.undefine()
    finally:
        conn.close()
