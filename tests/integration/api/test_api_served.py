"""``ksserver serve api=…``: the API and console on their own address, behind the same front;
installers' address never answers for them, and they never answer for installers' files."""

from __future__ import annotations

import http.client
import json

import pytest

from api_helpers import add_user
from ports import free_port


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("ks", ["sqlite"], indirect=True)
def test_the_api_listens_apart_from_the_installers(ks, serve, monkeypatch):
    api_port = free_port()
    token = ks.ok("add", "api", "token", "ops", "role=admin").splitlines()[-1]
    add_user(ks, monkeypatch, "alice", "correct horse")
    server = serve(ks, f"api=127.0.0.1:{api_port}", "workers=1")
    bearer = {"Authorization": f"Bearer {token}"}
    # the installers' address: no API, no console, even when a client claims the other listener
    for path in ("/api/v1/hosts", "/api/v1/openapi.json", "/login", "/"):
        assert server.request(path, headers=bearer).status == 404, path
    assert server.request("/api/v1/hosts", headers={**bearer, "X-Ksserver-Listener": "api"}).status == 404
    # the API's address: the API and console, never an installer's kickstart
    status, headers, body = _get(api_port, "/api/v1/hosts?per_page=1", bearer)
    assert status == 200 and json.loads(body)["items"][0]["host"] == "bayou" and headers["etag"]
    assert _get(api_port, "/api/v1/hosts")[0] == 401
    status, headers, _ = _get(api_port, "/install/sbin/kickstart.cgi")
    assert status == 302 and headers["location"].startswith("/login")
    assert _get(api_port, "/login")[0] == 200
    assert server.request("/install/sbin/site.attrs").status in (200, 403)  # installers are still served


@pytest.mark.parametrize("ks", ["sqlite"], indirect=True)
def test_the_api_and_console_speak_https_with_the_same_certificate(ks, serve, monkeypatch, tmp_path):
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    token = ks.ok("add", "api", "token", "ops").splitlines()[-1]
    add_user(ks, monkeypatch, "alice", "correct horse")
    api_port = free_port()
    serve(ks, f"api=127.0.0.1:{api_port}", "workers=1", f"certfile={cert}", f"keyfile={key}")
    context = ssl.create_default_context(cafile=str(cert))

    def call(method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", api_port, timeout=30, context=context)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    status, _, body = call("GET", "/api/v1/hosts?per_page=1", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["total"] == 1
    status, headers, _ = call("POST", "/login", "name=alice&password=correct+horse&next=%2F",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie  # under HTTPS the session cookie never goes out in clear
