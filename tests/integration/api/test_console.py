"""The console through Flask's test client: sign-in, its rate limit, CSRF, roles, the pages'
content. The browser test (tests/e2e/test_console_browser.py) drives the same pages in
Chromium over a served console."""

from __future__ import annotations

import re

from api_helpers import add_user


def _login(client, name, password):
    return client.post("/login", data={"name": name, "password": password, "next": "/"})


def _csrf(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def test_pages_need_a_signed_in_user_and_say_so(api):
    c = api.client
    r = c.get("/hosts?q=compute")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/hosts?q%3Dcompute"
    page = c.get("/login")
    assert page.status_code == 200 and b'name="password" type="password"' in page.data
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    # htmx is served from here, never a CDN
    assert b'src="/static/htmx-2.0.4.min.js"' in page.data and b"//unpkg" not in page.data
    assert c.get("/static/htmx-2.0.4.min.js").status_code == 200


def test_login_is_rate_limited_and_a_good_one_opens_a_session(api, monkeypatch):
    add_user(api.ks, monkeypatch, "alice", "correct horse", role="admin")
    c = api.client
    for _ in range(5):
        r = _login(c, "alice", "wrong password")
        assert r.status_code == 401 and b"wrong user name or password" in r.data
    r = _login(c, "alice", "correct horse")  # even the right one: the name is throttled now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert b"too many failed logins" in r.data
    other = api.app.test_client()
    add_user(api.ks, monkeypatch, "bob", "battery staple")
    r = other.post("/login", data={"name": "bob", "password": "battery staple", "next": "/hosts"},
                   environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 302 and r.headers["Location"] == "/hosts"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert other.get("/hosts").status_code == 200
    assert "bob" in api.ks.ok("list", "user") and "correct horse" not in api.ks.ok("list", "user")
    api.ks.ok("remove", "user", "bob")  # a removed user's session ends at the next request
    assert other.get("/hosts").status_code == 302


def test_every_post_needs_the_sessions_csrf_token(api, monkeypatch):
    add_user(api.ks, monkeypatch, "alice", "correct horse", role="admin")
    api.ks.ok("add", "host", "compute-0-0")
    c = api.client
    _login(c, "alice", "correct horse")
    r = c.post("/hosts/compute-0-0/attr", data={"attr": "x_a", "value": "1"})
    assert r.status_code == 403
    assert "x_a" not in api.ks.ok("list", "host", "attr", "compute-0-0")
    token = _csrf(c.get("/hosts/compute-0-0").data)
    r = c.post("/hosts/compute-0-0/attr", data={"attr": "x_a", "value": "1", "csrf": token})
    assert r.status_code == 302
    assert api.ks.ok("list", "host", "attr", "compute-0-0", "attr=x_a").split()[-2:] == ["1", "H"]
    # a signed-in user reads the API's pages without a token; its data still needs one
    assert c.get("/api/v1/docs").status_code == 200 and c.get("/api/v1/hosts").status_code == 401
    # htmx sends it as a header
    r = c.post("/logout", headers={"X-CSRF-Token": token})
    assert r.status_code == 302 and c.get("/").status_code == 302


def test_a_read_user_sees_but_cannot_change_and_secrets_are_masked(api, monkeypatch):
    add_user(api.ks, monkeypatch, "viewer", "just looking")
    api.ks.ok("add", "host", "compute-0-0")
    api.ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:01", "ip=10.1.0.10",
              "subnet=private")
    c = api.client
    _login(c, "viewer", "just looking")
    page = c.get("/hosts/compute-0-0").get_data(as_text=True)
    kickstart = api.ks.ok("list", "host", "profile", "compute-0-0")
    root_hash = next(line for line in kickstart.splitlines() if line.startswith("rootpw")).split()[-1]
    assert root_hash not in page and "Secrets are masked for read-only users." in page
    assert 'id="set-attr"' not in page  # no form to change anything
    # a value whose name says secret, and a password inside a URL whatever the name: masked
    # on the host's page and in the explain view
    api.ks.ok("set", "attr", "Dhcp_HostsDatabase", "postgresql://kea:s3cret-pw@db.local/kea")
    api.ks.ok("set", "host", "attr", "compute-0-0", "bmc_password", "hunter22")
    page = c.get("/hosts/compute-0-0").get_data(as_text=True)
    assert "postgresql://kea:********@db.local/kea" in page
    for attr in ("Dhcp_HostsDatabase", "bmc_password"):
        explain = c.get(f"/hosts/compute-0-0/explain?attr={attr}").get_data(as_text=True)
        assert "s3cret-pw" not in page + explain and "hunter22" not in page + explain
        assert "********" in explain
    token = _csrf(page)
    r = c.post("/hosts/compute-0-0/attr", data={"attr": "x_a", "value": "1", "csrf": token})
    assert r.status_code == 403
    r = c.post("/vms/compute-0-0/stop", data={"csrf": token})
    assert r.status_code == 403


def test_host_page_shows_interfaces_attributes_with_source_explain_and_graph(api, monkeypatch):
    add_user(api.ks, monkeypatch, "alice", "correct horse", role="admin")
    api.ks.ok("add", "host", "compute-0-0")
    api.ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:01", "ip=10.1.0.10",
              "subnet=private")
    api.ks.ok("set", "appliance", "attr", "compute", "x_queue", "batch")
    c = api.client
    _login(c, "alice", "correct horse")
    page = c.get("/hosts/compute-0-0").get_data(as_text=True)
    assert "52:54:00:00:00:01" in page and "10.1.0.10" in page
    assert re.search(r">x_queue</a></td>\s*<td>batch</td><td>A</td>", page)
    assert api.ks.ok("list", "host", "profile", "compute-0-0") in page.replace("&#34;", '"').replace(
        "&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    explain = c.get("/hosts/compute-0-0/explain?attr=x_queue").get_data(as_text=True)
    assert re.search(r'<tr class="winner"><td>A</td><td>appliance</td><td>compute</td><td>batch</td>', explain)
    svg = c.get("/hosts/compute-0-0/graph.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    # a value is data in the page, never markup
    api.ks.ok("set", "host", "attr", "compute-0-0", "x_note", "<script>alert(1)</script>")
    page = c.get("/hosts/compute-0-0").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_dashboard_counts_stages_and_lists_failures_first(api, monkeypatch):
    add_user(api.ks, monkeypatch, "alice", "correct horse")
    for rank in range(3):
        api.ks.ok("add", "host", f"compute-0-{rank}")
    api.ks.ok("set", "host", "boot", "compute-0-0", "compute-0-1", "action=install")
    c = api.client
    _login(c, "alice", "correct horse")
    live = c.get("/live").get_data(as_text=True)
    assert '<span id="count-hosts">4</span>' in live and '<span id="count-installing">2</span>' in live
    rows = re.findall(r'<a href="/hosts/([^"]+)">[^<]+</a></td><td class="mark">([^<]+)</td>', live)
    assert rows == [("compute-0-0", "( )"), ("compute-0-1", "( )")]


def test_a_move_shows_its_progress_and_discovery_its_machines(vc_api, monkeypatch):
    import time

    api = vc_api
    ks = api.ks
    ks.ok("start", "host", "vm", "hosted-vm-0-0-0")
    add_user(ks, monkeypatch, "alice", "correct horse", role="admin")
    c = api.client
    _login(c, "alice", "correct horse")
    vms = c.get("/vms").get_data(as_text=True)
    assert re.search(r"hosted-vm-0-0-0</a></td><td>0</td><td>1024</td><td>1</td><td>[0-9a-f:]+</td>"
                     r"<td>vm-container-0-0</td><td class=\"status\">active</td>", vms)
    form = c.get("/vms/hosted-vm-0-0-0/move").get_data(as_text=True)
    assert "<option>vm-container-0-1</option>" in form and "<option>vm-container-0-0</option>" in form
    r = c.post("/vms/hosted-vm-0-0-0/move", data={"container": "vm-container-0-1", "csrf": _csrf(form)})
    assert r.status_code == 302 and r.headers["Location"].startswith("/jobs/")
    bar = r.headers["Location"] + "/bar"
    deadline = time.monotonic() + 60
    while 'id="job-state">running<' in (text := c.get(bar).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert '<progress id="job-progress" max="100" value="100">' in text and 'id="job-state">done<' in text
    assert "hosted-vm-0-0-0 moved to vm-container-0-1" in text
    assert "hx-trigger" not in text  # a finished job stops polling
    # discovery: open a session (the stand-in insert-ethers), watch its machines, close it
    page = c.get("/discovery").get_data(as_text=True)
    r = c.post("/discovery/open", data={"appliance": "compute", "rack": "4", "csrf": _csrf(page)})
    assert r.status_code == 302
    while len(re.findall(r'<td class="mark">', text := c.get("/discovery/found").get_data(as_text=True))) < 2:
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert re.findall(r"<td>([0-9a-f:]+)</td><td><a href=\"/hosts/([^\"]+)\">", text) == [
        ("52:54:00:aa:00:02", "compute-4-1"), ("52:54:00:aa:00:01", "compute-4-0")]  # the newest first
    job = re.search(r'name="job" value="(\d+)"', c.get("/discovery").get_data(as_text=True))
    assert job, "a running session offers its close button"
    r = c.post("/discovery/close", data={"job": job.group(1), "csrf": _csrf(page)})
    assert r.status_code == 302
    while "Close the session" in c.get("/discovery").get_data(as_text=True):
        assert time.monotonic() < deadline
        time.sleep(0.1)
