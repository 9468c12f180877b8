"""Proof of the e2e machinery: boot the installer under QEMU (TCG) through
libvirt against a stub of ksserver's install endpoints.

The stub implements what the installer uses of ksserver: GET
/install/sbin/{site.attrs,rolls.xml,kickstart.cgi}?token=T and POST
/install/sbin/installed?token=T, and records every request with its token and
X-RHN-Provisioning-MAC-0 header.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import libvirt
import pytest
from libvirt_env import DOMAIN_PREFIX, cleanup_domains, remove_paths

BOOT_TIMEOUT = 90.0
GUEST_MAC = "52:54:00:e2:e0:01"
#: The host as seen from a guest on libvirt/QEMU user-mode networking.
HOST_FROM_GUEST = "10.0.2.2"

KICKSTART = """\
# minimal kickstart served by the e2e stub
install
text
reboot
lang en_US.UTF-8
keyboard us
rootpw --iscrypted $1$stub$stub
%packages
@core
%end
%post
echo stub
%end
"""
SITE_ATTRS = "Kickstart_PublicHostname:frontend.e2e\nKickstart_PrivateAddress:10.1.1.1\n"
ROLLS_XML = "<rolls>\n<roll name=\"base\" version=\"7.0\" arch=\"x86_64\" url=\"http://10.0.2.2/install/rolls/\" diskid=\"\"/>\n</rolls>\n"


class StubKsServer:
    """ksserver's install endpoints, in a thread, recording each request."""

    def __init__(self, token: str, kickstart: str = KICKSTART):
        self.token = token
        self.kickstart = kickstart
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt, *args):  # keep pytest output clean
                pass

            def _record(self, body: bytes = b"") -> tuple[str, str | None]:
                parts = urlsplit(self.path)
                token = parse_qs(parts.query).get("token", [None])[0]
                with stub.lock:
                    stub.requests.append({
                        "method": self.command,
                        "path": parts.path,
                        "token": token,
                        "mac_header": self.headers.get("X-RHN-Provisioning-MAC-0"),
                        "body": body.decode("latin-1"),
                        "client": self.client_address[0],
                        "time": time.monotonic(),
                    })
                return parts.path, token

            def _reply(self, code: int, text: str, ctype: str = "text/plain") -> None:
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path, token = self._record()
                if token != stub.token:
                    return self._reply(403, "bad token\n")
                content = {
                    "/install/sbin/site.attrs": (SITE_ATTRS, "text/plain"),
                    "/install/sbin/rolls.xml": (ROLLS_XML, "application/xml"),
                    "/install/sbin/kickstart.cgi": (stub.kickstart, "text/plain"),
                }.get(path)
                if content is None:
                    return self._reply(404, "not found\n")
                self._reply(200, *content)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, token = self._record(body)
                if path != "/install/sbin/installed":
                    return self._reply(404, "not found\n")
                if token != stub.token:
                    return self._reply(403, "bad token\n")
                self._reply(200, "recorded\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)


def domain_xml(name: str, kernel: str, initrd: str, cmdline: str, console_log: str,
               mac: str) -> str:
    """The minimal domain a lights-out install under QEMU/TCG needs."""
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{escape(kernel)}</kernel>
    <initrd>{escape(initrd)}</initrd>
    <cmdline>{escape(cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='user'>
      <mac address='{mac}'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='{escape(console_log)}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='{escape(console_log)}'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def boot_installer(env, image, artifacts, stub_kwargs=None, server_port=None):
    """Boot the installer against a fresh stub; return what happened.

    The domain and its run directory are removed before returning, whatever
    happens; the console log is copied to *artifacts*.
    """
    t0 = time.monotonic()
    kernel_src, initrd_src = image
    token = secrets.token_hex(8)
    name = f"{DOMAIN_PREFIX}boot-{token[:6]}"
    run_dir = env.make_run_dir(prefix=f"{DOMAIN_PREFIX}run-")
    console_log = os.path.join(run_dir, "console.log")
    conn = env.open()
    cleanup_domains(conn, DOMAIN_PREFIX)  # leftovers of an interrupted run
    out = {"token": token, "name": name, "timings": {}, "requests": [], "console": ""}
    timings = out["timings"]
    try:
        kernel = env.stage_file(kernel_src, run_dir)
        initrd = env.stage_file(initrd_src, run_dir)
        with StubKsServer(token, **(stub_kwargs or {})) as stub:
            port = server_port or stub.port
            ks_url = f"http://{HOST_FROM_GUEST}:{port}/install/sbin/kickstart.cgi?token={token}"
            xml = domain_xml(name, kernel, initrd, f"console=ttyS0 panic=1 ks={ks_url}",
                             console_log, GUEST_MAC)
            dom = conn.defineXML(xml)
            t_start = time.monotonic()
            dom.create()
            timings["define+start"] = time.monotonic() - t_start
            deadline = t_start + BOOT_TIMEOUT
            while time.monotonic() < deadline:
                if dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF:
                    break
                time.sleep(0.25)
            timings["start-to-shutoff"] = time.monotonic() - t_start
            out["state"], out["reason"] = dom.state()
            out["requests"] = stub.snapshot()
            for r in out["requests"]:
                timings.setdefault(f"first {r['method']} {os.path.basename(r['path'])}",
                                   r["time"] - t_start)
        out["console"] = _read(console_log)
        out["console_artifact"] = os.path.join(artifacts, f"{name}-console.log")
        with open(out["console_artifact"], "w") as f:
            f.write(out["console"])
    finally:
        cleanup_domains(conn, DOMAIN_PREFIX)
        conn.close()
        remove_paths(run_dir)
        timings["total"] = time.monotonic() - t0
        print("\n[e2e] timings (s): " + ", ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    assert not os.path.exists(run_dir)
    out["context"] = (f"\nrequests: {out['requests']}\nconsole ({out.get('console_artifact')}):\n"
                      + out["console"][-6000:])
    return out


def assert_powered_off(out):
    assert out["state"] == libvirt.VIR_DOMAIN_SHUTOFF, (
        f"domain still in state {out['state']} after {BOOT_TIMEOUT:.0f} s" + out["context"])
    assert out["reason"] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN, (
        f"domain ended with shutoff reason {out['reason']}, not a guest power-off"
        + out["context"])


def assert_requests(out, expected_post_body):
    ctx = out["context"]
    reqs = out["requests"]
    seen = {(r["method"], r["path"]) for r in reqs}
    for method, path in [("GET", "/install/sbin/site.attrs"),
                         ("GET", "/install/sbin/rolls.xml"),
                         ("GET", "/install/sbin/kickstart.cgi"),
                         ("POST", "/install/sbin/installed")]:
        assert (method, path) in seen, f"no {method} {path}" + ctx
    for r in reqs:
        assert r["token"] == out["token"], f"request with wrong token: {r}" + ctx
        assert r["mac_header"] == f"eth0 {GUEST_MAC} virtio_net ks", (
            f"request with wrong MAC header: {r}" + ctx)
    assert [r["body"] for r in reqs if r["method"] == "POST"] == [expected_post_body], ctx


@pytest.mark.e2e
def test_installer_boots_fetches_and_reports(installer_image, libvirt_env, e2e_artifacts):
    out = boot_installer(libvirt_env, installer_image, e2e_artifacts)
    assert_powered_off(out)
    assert_requests(out, "status=ok")
    assert len(out["requests"]) == 4, out["context"]
    assert "ks-installer: kickstart ok" in out["console"], out["context"]
    assert "ks-installer: reported status=ok" in out["console"], out["context"]


@pytest.mark.e2e
def test_installer_reports_a_bad_kickstart_and_still_powers_off(
        installer_image, libvirt_env, e2e_artifacts):
    out = boot_installer(libvirt_env, installer_image, e2e_artifacts,
                         stub_kwargs={"kickstart": "# no sections at all\ntext\n"})
    assert_powered_off(out)
    assert_requests(out, "status=failed")
    assert "ks-installer: kickstart BAD" in out["console"], out["context"]
