"""``ksserver serve api=…``: the API and console on their own address, behind the same front;
installers' address never answers for them, and they never answer for installers' files."""

from __future__ import annotations

import http.client
import json

import pytest

from conftest import add_user
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
