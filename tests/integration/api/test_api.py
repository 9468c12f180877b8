"""The REST API: tokens and roles, pages, ETags, errors, writes as one transaction, and the
same data as the CLI (round trips CLI ⇄ API)."""

from __future__ import annotations

import json
import time

from sqlalchemy import event

from ksserver.outputs import MASK, shown_to_reader
from ksserver.db.session import engine


def _hosts(ks, n: int, rack: int = 0) -> None:
    for rank in range(n):
        ks.ok("add", "host", f"compute-{rack}-{rank}")
        ks.ok("add", "host", "interface", f"compute-{rack}-{rank}", "eth0", f"mac=52:54:00:00:{rack:02x}:{rank:02x}",
              f"ip=10.1.{rack}.{rank + 10}", "subnet=private")


def test_no_anonymous_access_and_a_read_token_cannot_change_anything(api):
    c = api.client
    for path in ("/api/v1/openapi.json", "/api/v1/docs"):  # not even the document, anonymously
        assert c.get(path).status_code == 401
    spec = api.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"] == "3.0.3"
    assert "bearer" in spec.json["components"]["securitySchemes"]
    assert b"/api/v1/hosts" in api.get("/api/v1/docs").data
    r = c.get("/api/v1/hosts")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="ksserver"'
    assert r.json == {"error": "an API token is needed: Authorization: Bearer TOKEN (ksserver add api token NAME)"}
    r = c.get("/api/v1/hosts", headers={"Authorization": "Bearer ks_" + "x" * 43})
    assert (r.status_code, r.json) == (401, {"error": "unknown API token"})
    # every route that changes something, for a read token: 403, and nothing changed
    for rule in api.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            path = rule.rule.replace("<string:", "<").replace("<int:", "<")
            path = "/".join("1" if part.startswith("<") else part for part in path.split("/"))
            r = api.send(method, path, role="reader", json={})
            assert r.status_code == 403, (method, path, r.status_code)
            assert r.json == {"error": f'API token "reader" is read-only: {method} needs an admin token'}
    r = api.send("POST", "/api/v1/vms/hosted-vm-0-0-0/start", role="reader")
    assert r.status_code == 403  # a read token cannot power a VM


def test_hosts_are_paged_with_links_and_the_same_records_as_the_cli(api):
    _hosts(api.ks, 25)
    cli = json.loads(api.ks.ok("list", "host", "compute", "--json"))
    interfaces = json.loads(api.ks.ok("list", "host", "interface", "compute", "--json"))
    seen = []
    for page in (1, 2, 3):
        r = api.get(f"/api/v1/hosts?select=compute&per_page=10&page={page}")
        assert r.status_code == 200
        body = r.json
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 10, 25, 3)
        seen += body["items"]
    assert len(seen) == 25
    assert [{k: v for k, v in h.items() if k != "interfaces"} for h in seen] == cli
    assert [dict(i, host=h["host"]) for h in seen for i in h["interfaces"]] == [
        {k: i[k] for k in i} for i in interfaces]
    link = api.get("/api/v1/hosts?select=compute&per_page=10&page=2").headers["Link"]
    assert 'page=1>; rel="first"' in link and 'page=1>; rel="prev"' in link
    assert 'page=3>; rel="next"' in link and 'page=3>; rel="last"' in link
    # the CLI's selectors: an appliance, rack<N>, a % pattern, a host
    _hosts(api.ks, 2, rack=1)
    names = lambda q: [h["host"] for h in api.get(f"/api/v1/hosts?{q}&per_page=1000").json["items"]]  # noqa: E731
    assert names("select=rack1") == ["compute-1-0", "compute-1-1"]
    assert names("select=compute-0-1%") == ["compute-0-1"] + [f"compute-0-{i}" for i in range(10, 20)]
    assert names("select=compute-1-1&select=compute-0-0") == ["compute-0-0", "compute-1-1"]
    r = api.get("/api/v1/hosts?select=nosuch")
    assert (r.status_code, r.json) == (404, {"error": 'cannot resolve host "nosuch"'})
    r = api.get("/api/v1/hosts?per_page=1001")
    assert r.status_code == 400
    assert r.json["error"] == ("invalid request: per_page: Must be greater than or equal to 1 and less than or "
                               "equal to 1000.")


def test_include_attrs_gives_each_hosts_resolved_attributes_with_their_source(api):
    _hosts(api.ks, 3)
    api.ks.ok("set", "host", "attr", "compute-0-1", "x_site", "rack-a")
    items = api.get("/api/v1/hosts?select=compute&include=attrs", role="admin").json["items"]
    cli = json.loads(api.ks.ok("list", "host", "attr", "compute", "--json"))
    assert [(h["host"], k, v["value"], v["source"]) for h in items for k, v in h["attrs"].items()] == [
        (r["host"], r["attr"], r["value"], r["source"]) for r in cli]
    # a read token: the same, its secrets masked (the root password's hash among them)
    read = api.get("/api/v1/hosts?select=compute&include=attrs").json["items"]
    assert [(h["host"], k, v["value"], v["source"]) for h in read for k, v in h["attrs"].items()] == [
        (r["host"], r["attr"], shown_to_reader(r["attr"], r["value"]), r["source"]) for r in cli]
    assert read[0]["attrs"]["Kickstart_PrivateSHARootPassword"]["value"] == MASK
    assert items[1]["attrs"]["x_site"] == {"value": "rack-a", "source": "H"}
    assert items[1]["attrs"]["hostname"] == {"value": "compute-0-1", "source": "I"}
    assert "attrs" not in api.get("/api/v1/hosts?select=compute").json["items"][0]


def test_statements_per_page_do_not_grow_with_the_page(api):
    _hosts(api.ks, 60)
    api.get("/api/v1/hosts?per_page=1")  # the token's last use is written once a minute: not in what is counted
    eng = engine()
    counts = []
    for per_page in (5, 50):
        seen = []

        def count(*_a, **_k):
            seen.append(1)

        event.listen(eng, "before_cursor_execute", count)
        try:
            assert api.get(f"/api/v1/hosts?include=attrs&per_page={per_page}").status_code == 200
        finally:
            event.remove(eng, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 10, counts


def test_reads_carry_an_etag_and_an_unchanged_one_gets_304(api):
    _hosts(api.ks, 2)
    r = api.get("/api/v1/hosts")
    tag = r.headers["ETag"]
    again = api.get("/api/v1/hosts", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    api.ks.ok("set", "host", "rack", "compute-0-1", "3")
    changed = api.get("/api/v1/hosts", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_errors_are_the_clis_line_and_a_write_is_one_transaction(api):
    _hosts(api.ks, 1)
    r = api.send("POST", "/api/v1/hosts", json={"name": "compute-0-0"})
    assert r.status_code == 400
    assert r.json == {"error": api.ks.fails("add", "host", "compute-0-0").removeprefix("error - ")}
    r = api.send("POST", "/api/v1/hosts", json={"name": "compute-0-1"})
    assert (r.status_code, r.json) == (201, {"messages": [], "warnings": []})
    assert json.loads(api.ks.ok("list", "host", "compute-0-1", "--json"))[0]["rack"] == 0
    # two fields, the second refused: the first is not kept either
    r = api.send("PATCH", "/api/v1/hosts/compute-0-1", json={"rack": 7, "appliance": "nosuch"})
    assert (r.status_code, r.json) == (404, {"error": 'unknown appliance "nosuch"'})
    assert json.loads(api.ks.ok("list", "host", "compute-0-1", "--json"))[0]["rack"] == 0
    r = api.send("PATCH", "/api/v1/hosts/compute-0-1", json={"rack": 7, "rank": 4})
    assert r.status_code == 200
    assert json.loads(api.ks.ok("list", "host", "compute-0-1", "--json"))[0]["rank"] == 4
    r = api.send("POST", "/api/v1/hosts", json={"rack": "x"})
    assert r.status_code == 400 and r.json["error"].startswith("invalid request: ")
    assert set(r.json["errors"]) == {"name: Missing data for required field.", "rack: Not a valid integer."}
    assert api.get("/api/v1/nosuch").status_code == 404 and api.get("/api/v1/nosuch").json["error"]


def test_attributes_set_explained_and_removed_round_trip_with_the_cli(api):
    _hosts(api.ks, 1)
    r = api.send("PUT", "/api/v1/appliances/compute/attrs/x_queue", json={"value": "batch"})
    assert r.status_code == 200
    assert api.get("/api/v1/appliances/compute/attrs", role="admin").json == [
        {"attr": r["attr"], "value": r["value"]}
        for r in json.loads(api.ks.ok("list", "appliance", "attr", "compute", "--json"))]
    assert {"attr": "x_queue", "value": "batch"} in api.get("/api/v1/appliances/compute/attrs").json
    api.ks.ok("set", "host", "attr", "compute-0-0", "x_queue", "fast")
    explain = api.get("/api/v1/hosts/compute-0-0/attrs/x_queue/explain").json
    assert explain == json.loads(api.ks.ok("explain", "host", "attr", "compute-0-0", "x_queue", "--json"))
    assert [(e["level"], e["value"], e["winner"]) for e in explain[:2]] == [("host", "fast", "*"),
                                                                         ("appliance", "batch", None)]
    assert api.get("/api/v1/hosts/compute-0-0/attrs", role="admin").json == json.loads(
        api.ks.ok("list", "host", "attr", "compute-0-0", "--json"))
    assert api.get("/api/v1/hosts/compute-0-0/attrs").json == [
        {**r, "value": shown_to_reader(r["attr"], r["value"])}
        for r in json.loads(api.ks.ok("list", "host", "attr", "compute-0-0", "--json"))]
    assert api.send("DELETE", "/api/v1/hosts/compute-0-0/attrs/x_queue").status_code == 200
    assert api.ks.ok("list", "host", "attr", "compute-0-0", "attr=x_queue") .split()[-2:] == ["batch", "A"]
    r = api.send("PUT", "/api/v1/attrs/Kickstart_PrivateKickstartHost", json={"value": "10.1.1.1\nrootpw x"})
    assert r.status_code == 400  # refused at set, as the CLI refuses it
    assert r.json["error"] == api.ks.fails("set", "attr", "Kickstart_PrivateKickstartHost",
                                           "10.1.1.1\nrootpw x").removeprefix("error - ")
    assert api.send("PUT", "/api/v1/attrs/x_global", json={"value": "1"}).status_code == 200
    assert {"attr": "x_global", "value": "1"} in api.get("/api/v1/attrs").json


def test_a_read_token_sees_the_kickstart_with_its_secrets_masked(api):
    _hosts(api.ks, 1)
    full = api.get("/api/v1/hosts/compute-0-0/kickstart", role="admin")
    assert full.status_code == 200 and full.mimetype == "text/plain"
    assert full.get_data(as_text=True) == api.ks.ok("list", "host", "profile", "compute-0-0")
    masked = api.get("/api/v1/hosts/compute-0-0/kickstart").get_data(as_text=True)
    root = next(line for line in full.get_data(as_text=True).splitlines() if line.startswith("rootpw"))
    assert root.split()[-1] not in masked
    assert next(line for line in masked.splitlines() if line.startswith("rootpw")).endswith("********")


def test_a_read_token_sees_no_secret_in_any_attribute_listing(api):
    """What a read-only console user is not shown, a read token is not sent either: values
    whose name says secret, and a URL's password (``outputs.shown_to_reader``)."""
    _hosts(api.ks, 1)
    secrets = {"hunter22-bmc", "s3cret-db-pw", "appliance-key-99", "global-token-77"}
    api.ks.ok("set", "host", "attr", "compute-0-0", "bmc_password", "hunter22-bmc")
    api.ks.ok("set", "attr", "Dhcp_HostsDatabase", "postgresql://kea:s3cret-db-pw@db.local/kea")
    api.ks.ok("set", "appliance", "attr", "compute", "ssh_key", "appliance-key-99")
    api.ks.ok("set", "os", "attr", "linux", "api_token", "global-token-77")
    paths = ["/api/v1/hosts?include=attrs", "/api/v1/hosts/compute-0-0?include=attrs", "/api/v1/hosts/compute-0-0/attrs",
             "/api/v1/attrs", "/api/v1/appliances/compute/attrs", "/api/v1/oses/linux/attrs",
             *(f"/api/v1/hosts/compute-0-0/attrs/{a}/explain"
               for a in ("bmc_password", "Dhcp_HostsDatabase", "ssh_key", "api_token"))]
    for path in paths:
        admin, read = api.get(path, role="admin"), api.get(path)
        assert admin.status_code == read.status_code == 200, path
        assert any(secret in admin.get_data(as_text=True) for secret in secrets), path
        assert not any(secret in read.get_data(as_text=True) for secret in secrets), path
        assert MASK in read.get_data(as_text=True), path
    assert "postgresql://kea:********@db.local/kea" in api.get("/api/v1/attrs").get_data(as_text=True)


def test_every_listing_is_the_clis(api):
    for path, words in (("appliances", ("list", "appliance")), ("oses", ("list", "os")),
                        ("networks", ("list", "network")), ("rolls", ("list", "roll")),
                        ("bootactions", ("list", "bootaction")), ("distros", ("list", "distro"))):
        body = api.get(f"/api/v1/{path}?per_page=1000").json
        assert body["items"] == json.loads(api.ks.ok(*words, "--json") or "[]"), path
    assert api.get("/api/v1/status").json["items"] == json.loads(api.ks.ok("list", "host", "status", "--json"))


def test_a_host_sheet_is_checked_and_loaded(api):
    sheet = ("NAME,APPLIANCE,RACK,RANK,IP,MAC,INTERFACE,NETWORK\n"
             "compute-0-5,compute,0,5,auto,52:54:00:00:00:05,eth0,private\n")
    r = api.send("POST", "/api/v1/hostfile?dry-run=true", data=sheet, content_type="text/csv")
    assert r.json == {"messages": ["dry run: 1 new host, 0 updated, 1 interface (1 address allocated); nothing written",
                                   "compute-0-5 eth0 10.1.255.254"], "warnings": []}
    assert "compute-0-5" not in api.ks.ok("list", "host")
    bad = sheet + "compute-0-6,nosuch,0,6,auto,52:54:00:00:00:06,eth0,private\n"
    r = api.send("POST", "/api/v1/hostfile", data=bad, content_type="text/csv")
    assert r.status_code == 400 and r.json["errors"] == ['hostfile:3: unknown appliance "nosuch"']
    assert "compute-0-5" not in api.ks.ok("list", "host")  # nothing of it written
    r = api.send("POST", "/api/v1/hostfile", data=sheet, content_type="text/csv")
    assert r.json["messages"] == ["loaded hostfile: 1 new host, 0 updated, 1 interface (1 address allocated)"]
    assert "compute-0-5" in api.ks.ok("list", "host")


def test_a_discovery_session_is_a_job_whose_machines_arrive(api):
    r = api.send("POST", "/api/v1/discovery", json={"appliance": "compute", "rack": 2})
    assert r.status_code == 202, r.json
    job = r.json
    assert r.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}") and job["state"] == "running"
    deadline = time.monotonic() + 30
    while len(api.get("/api/v1/discovery").json["found"]) < 2:
        assert time.monotonic() < deadline, api.get(f"/api/v1/jobs/{job['id']}").json
        time.sleep(0.1)
    state = api.get("/api/v1/discovery").json
    assert state["found"] == [{"mac": "52:54:00:aa:00:01", "host": "compute-2-0", "ip": "10.1.255.254", "mark": "( )"},
                              {"mac": "52:54:00:aa:00:02", "host": "compute-2-1", "ip": "10.1.255.253", "mark": "( )"}]
    assert api.send("DELETE", f"/api/v1/jobs/{job['id']}").status_code == 200
    while api.get(f"/api/v1/jobs/{job['id']}").json["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    done = api.get(f"/api/v1/jobs/{job['id']}").json
    assert done["state"] == "done" and json.loads(done["log"][-1]) == {"event": "closed",
                                                                        "found": ["compute-2-0", "compute-2-1"]}


def test_clusters_nest_their_nodes_as_list_cluster_json_does(vc_api):
    api = vc_api
    assert api.get("/api/v1/clusters").json == json.loads(api.ks.ok("list", "cluster", "--json"))
    vms = api.get("/api/v1/vms?per_page=1000").json["items"]
    assert vms == json.loads(api.ks.ok("list", "host", "vm", "--json"))


def test_vm_power_through_the_api_and_a_move_is_a_job_with_progress(vc_api, tmp_path):
    api = vc_api
    vm = "hosted-vm-0-0-0"

    def status():
        rows = api.get(f"/api/v1/vms?select={vm}&status=true").json["items"]
        return rows[0]["status"]

    assert status() == "nostate"
    for action, expected in (("start", "active"), ("pause", "paused"), ("resume", "active"), ("stop", "shutoff")):
        r = api.send("POST", f"/api/v1/vms/{vm}/{action}")
        assert r.status_code == 200, (action, r.json)
        assert status() == expected, action
    assert api.send("POST", f"/api/v1/vms/{vm}/start").status_code == 200
    r = api.send("POST", f"/api/v1/vms/{vm}/move", json={"container": "vm-container-0-0"})
    assert (r.status_code, r.json) == (400, {"error": f"VM {vm} is already on vm-container-0-0"})
    r = api.send("POST", f"/api/v1/vms/{vm}/move", json={"container": "vm-container-0-1"})
    assert r.status_code == 202
    job_url = r.headers["Location"]
    deadline = time.monotonic() + 60
    while (job := api.get(job_url).json)["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["state"] == "done", job["message"]
    assert (job["percent"], job["message"]) == (100, f"{vm} moved to vm-container-0-1")
    rows = api.get(f"/api/v1/vms?select={vm}&status=true").json["items"]
    assert (rows[0]["host"], rows[0]["status"]) == ("vm-container-0-1", "active")
    assert api.ks.ok("list", "host", "vm", vm).split("\n")[1].split()[4] == "vm-container-0-1"
    assert (tmp_path / "disks" / "vm-container-0-1" / f"{vm}.hda").read_bytes() == b"disk" * (1 << 18)


def test_a_host_added_or_removed_is_in_the_next_page_at_once(api):
    _hosts(api.ks, 3)
    names = lambda: [h["host"] for h in api.get("/api/v1/hosts?per_page=2&page=2").json["items"]]  # noqa: E731
    assert names() == ["compute-0-1", "compute-0-2"]  # bayou, compute-0-0 on the first page
    api.ks.ok("add", "host", "compute-0-10")
    api.ks.ok("remove", "host", "compute-0-1")
    assert names() == ["compute-0-2", "compute-0-10"]
    assert api.get("/api/v1/hosts?per_page=2&page=2").json["total"] == 4
