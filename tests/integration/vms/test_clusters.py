"""add/list/remove cluster and list host vm: the seed's outputs, VLANs, placement, rollback."""

from __future__ import annotations

import json

from goldens import expect

from ksserver.errors import KsError
from ksserver.services import vms

# The seed's tables (xen-virtual-clusters.txt), cell by cell; "-" stands for a dash-filled cell.
SEED_LIST_CLUSTER = [
    ["FRONTEND", "CLIENT NODES", "TYPE"],
    ["bayou.rocksclusters.org:", "-", "physical"],
    [":", "vm-container-0-0", "physical"],
    [":", "vm-container-0-1", "physical"],
    ["vi-1.rocksclusters.org:", "-", "VM"],
    [":", "hosted-vm-0-0-0", "VM"],
    [":", "hosted-vm-0-1-0", "VM"],
]
SEED_LIST_CLUSTER_STATUS = [
    ["FRONTEND", "CLIENT NODES", "TYPE", "STATUS"],
    ["bayou.rocksclusters.org:", "-", "physical", "-"],
    [":", "vm-container-0-0", "physical", "-"],
    [":", "vm-container-0-1", "physical", "-"],
    ["vi-1.rocksclusters.org:", "-", "VM", "active"],
    [":", "hosted-vm-0-0-0", "VM", "active"],
    [":", "hosted-vm-0-1-0", "VM", "nostate"],
]
SEED_LIST_HOST_VM_STATUS = [
    ["VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "HOST", "STATUS"],
    ["frontend-0-0-0:", "0", "1024", "1", "72:77:6e:80:00:00", "bayou", "active"],
    ["frontend-0-0-0:", "-", "-", "-", "72:77:6e:80:00:01", "-"],  # the seed shows no STATUS cell
    ["hosted-vm-0-0-0:", "0", "1024", "1", "72:77:6e:80:00:02", "vm-container-0-0", "active"],
    ["hosted-vm-0-1-0:", "0", "1024", "1", "72:77:6e:80:00:03", "vm-container-0-1", "nostate"],
]


def cells(text: str, multiword_header: bool = False) -> list[list[str]]:
    lines = text.splitlines()
    head = lines[0].split()
    if multiword_header:
        head = [head[0], " ".join(head[1:3]), *head[3:]]
    rows = [head]
    for line in lines[1:]:
        rows.append(["-" if set(c) == {"-"} else c for c in line.split()])
    return rows


def same_as_seed(ours: list[list[str]], seed: list[list[str]]) -> None:
    assert len(ours) == len(seed)
    for our_row, seed_row in zip(ours, seed):
        # a seed row may stop early; our formatter fills the missing cells with dashes
        assert our_row[: len(seed_row)] == seed_row
        assert all(c == "-" for c in our_row[len(seed_row):]), our_row


def test_add_cluster_prints_the_seed_lines(vc):
    out = vc.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2")
    expect("vms/add-cluster.txt", out)


def test_list_cluster_and_list_host_vm_match_the_seed(cluster):
    listing = cluster.ok("list", "cluster")
    expect("vms/list-cluster.txt", listing)
    same_as_seed(cells(listing, True), SEED_LIST_CLUSTER)
    expect("vms/list-host-vm.txt", cluster.ok("list", "host", "vm"))


def test_status_columns_match_the_seed(cluster):
    cluster.ok("start", "host", "vm", "frontend-0-0-0", "hosted-vm-0-0-0")
    listing = cluster.ok("list", "cluster", "status=y")
    expect("vms/list-cluster-status.txt", listing)
    same_as_seed(cells(listing, True), SEED_LIST_CLUSTER_STATUS)
    vms_out = cluster.ok("list", "host", "vm", "status=y")
    expect("vms/list-host-vm-status.txt", vms_out)
    same_as_seed(cells(vms_out), SEED_LIST_HOST_VM_STATUS)


def test_cluster_records(cluster):
    ifaces = cluster.ok("list", "host", "interface", "frontend-0-0-0").splitlines()
    assert ifaces[1].split()[:5] == ["private", "eth0", "72:77:6e:80:00:00", "10.1.255.254", "255.255.0.0"]
    assert ifaces[1].split()[-3] == "2"
    assert ifaces[2].split()[:7] == ["public", "eth1", "72:77:6e:80:00:01", "137.110.119.118", "255.255.255.0", "xennet", "vi-1.rocksclusters.org"]
    # the VLAN on the physical frontend and the containers
    for h in ("bayou", "vm-container-0-0", "vm-container-0-1"):
        vlans = [r for r in json.loads(cluster.ok("list", "host", "interface", h, "--json")) if r["iface"].startswith("vlan")]
        assert [(r["iface"], r["subnet"], r["vlan"], r["ip"], r["mac"]) for r in vlans] == [("vlan2", "private", 2, None, None)]
    # the MAC base is stored
    assert "vm_mac_base_addr: 72:77:6e:80:00:00" in " ".join(cluster.ok("list", "attr").split())
    rows = {r["host"]: r for r in json.loads(cluster.ok("list", "host", "frontend-0-0-0", "hosted-vm-0-1-0", "--json"))}
    assert (rows["frontend-0-0-0"]["runaction"], rows["frontend-0-0-0"]["installaction"]) == ("os", "install vm frontend")
    assert (rows["hosted-vm-0-1-0"]["runaction"], rows["hosted-vm-0-1-0"]["installaction"]) == ("os", "install vm")
    # disks: largest partition of vm-container-0-0, vm_disk_dir of vm-container-0-1
    disks = cluster.ok("list", "host", "vm", "showdisks=y")
    assert f"file:{cluster.path.parent / 'state'}/xen/disks/hosted-vm-0-0-0.hda,hda,w" in disks
    assert f"file:{cluster.disks / 'c01'}/hosted-vm-0-1-0.hda,hda,w" in disks


def test_vi_1_names_the_vm_frontend(cluster):
    for word in ("vi-1", "vi-1.rocksclusters.org"):
        assert cluster.ok("list", "host", word, "bayou").splitlines()[2].split()[0] == "frontend-0-0-0:"
    assert cluster.ok("list", "host", "vm", "vi-1").splitlines()[1].split()[3] == "72:77:6e:80:00:00"


def test_vlans_next_free_given_and_taken(cluster):
    cluster.ok("add", "cluster", "vi-2.rocksclusters.org", "137.110.119.119", "1")
    assert "vlan3" in cluster.ok("list", "host", "interface", "vm-container-0-0")
    cluster.ok("add", "cluster", "vi-3.rocksclusters.org", "137.110.119.120", "1", "vlan=7")
    assert "vlan7" in cluster.ok("list", "host", "interface", "bayou")
    err = cluster.fails("add", "cluster", "vi-4.rocksclusters.org", "137.110.119.121", "1", "vlan=7")
    assert err == "error - vlan 7 is already in use"
    err = cluster.fails("add", "cluster", "vi-4.rocksclusters.org", "137.110.119.121", "1", "vlan=4096")
    assert "vlan must be an integer between 2 and 4095" in err
    # MACs continue over every cluster
    assert "72:77:6e:80:00:04" in cluster.ok("list", "host", "vm", "vi-2")


def test_round_robin_with_weights(vc):
    out = vc.ok(
        "add", "cluster", "vi-1.rocksclusters.org", "ip=137.110.119.118", "num-computes=6",
        "container-hosts=vm-container-0-0 vm-container-0-0 vm-container-0-1", "mem-per-compute=2048", "cpus-per-compute=2",
    )
    assert out.splitlines()[1:] == [f"created compute VM named: {n}" for n in (
        "hosted-vm-0-0-0", "hosted-vm-0-0-1", "hosted-vm-0-1-0", "hosted-vm-0-0-2", "hosted-vm-0-0-3", "hosted-vm-0-1-1")]
    rows = [line.split() for line in vc.ok("list", "host", "vm", "hosted-vm%").splitlines()[1:]]
    assert [r[-1] for r in rows].count("vm-container-0-0") == 4
    assert all(r[2] == "2048" and r[3] == "2" for r in rows)


def test_failure_midway_leaves_nothing(vc):
    vc.ok("add", "host", "vm-container-1-0")  # no partition, no vm_disk_dir
    before = {cmd: vc.ok(*cmd.split()) for cmd in ("list host", "list host interface", "list attr")}
    err = vc.fails(
        "add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "3",
        "container-hosts=vm-container-0-0 vm-container-0-1 vm-container-1-0",
    )
    assert err.startswith("error - could not find a partition on host (vm-container-1-0)")
    assert {cmd: vc.ok(*cmd.split()) for cmd in before} == before
    assert vc.ok("list", "host", "vm") == ""


def test_failure_at_the_last_write_leaves_nothing(vc, monkeypatch):
    # every row is written, then the command fails: the transaction takes them all back
    before = vc.ok("list", "host", "interface")
    original_add_cluster = vms.add_cluster

    def add_then_fail(session, *a, **k):
        original_add_cluster(session, *a, **k)
        session.flush()
        raise KsError("injected failure after writing")

    monkeypatch.setattr(vms, "add_cluster", add_then_fail)
    assert vc.fails("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2") == "error - injected failure after writing"
    assert vc.ok("list", "host", "interface") == before
    assert vc.ok("list", "host", "vm") == "" and "vm_mac_base_addr" not in vc.ok("list", "attr")


def test_bad_input(vc):
    assert vc.fails("add", "cluster", "vi-1.rocksclusters.org", "137.110.119", "2").startswith('error - invalid ip "137.110.119"')
    assert "missing num-computes" in vc.fails("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118")
    err = vc.fails("add", "cluster", "bayou.rocksclusters.org", "137.110.119.118", "2")
    assert "already used" in err
    err = vc.fails("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.114", "1")
    assert err == 'error - ip 137.110.119.114 is already used by host "bayou" on network "public"'


def test_remove_cluster_removes_everything(cluster, hv):
    before_vlan = cluster.ok("list", "host", "interface", "vm-container-0-0")
    assert "vlan2" in before_vlan
    cluster.ok("start", "host", "vm", "vi-1")
    assert hv(cluster, "bayou").exists("frontend-0-0-0")
    cluster.ok("remove", "cluster", "vi-1.rocksclusters.org")
    assert cluster.ok("list", "host", "vm") == ""
    assert "vlan2" not in cluster.ok("list", "host", "interface")
    assert not hv(cluster, "bayou").exists("frontend-0-0-0")
    assert cluster.ok("list", "cluster").count("VM") == 0
    assert "not a VM" in cluster.fails("remove", "cluster", "vm-container-0-0")


def test_partitions(vc):
    out = vc.ok("list", "host", "partition", "vm-container-0-0")
    assert out.splitlines()[0].split() == ["DEVICE", "MOUNTPOINT", "SIZE", "FSTYPE"]
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["sda1", "sda5"]
    assert "already has partition" in vc.fails("add", "host", "partition", "vm-container-0-0", "sda5", "size=1GB")
    assert "invalid partition size" in vc.fails("add", "host", "partition", "vm-container-0-0", "sda6", "size=lots")
    vc.ok("remove", "host", "partition", "vm-container-0-0", "sda5")
    assert "sda5" not in vc.ok("list", "host", "partition")
    vc.ok("remove", "host", "partition", "vm-container-0-0")
    assert vc.ok("list", "host", "partition", "vm-container-0-0") == ""


def test_frontend_only_cluster_and_no_containers(ks, tmp_path):
    ks.ok("set", "attr", "vm_disk_dir", str(tmp_path))
    assert ks.fails("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2") == "error - no VM container to place the compute VMs on"
    assert ks.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "0") == "created frontend VM named: frontend-0-0-0\n"


def test_the_physical_frontend_can_hold_the_whole_cluster(ks, tmp_path):
    ks.ok("set", "attr", "vm_disk_dir", str(tmp_path))
    out = ks.ok("add", "cluster", "vi-1.rocksclusters.org", "137.110.119.118", "2", "container-hosts=bayou")
    assert out.splitlines() == ["created frontend VM named: frontend-0-0-0", "created compute VM named: hosted-vm-0-0-1",
                                "created compute VM named: hosted-vm-0-0-2"]
    vlans = [r for r in json.loads(ks.ok("list", "host", "interface", "bayou", "--json")) if r["iface"] == "vlan2"]
    assert [(r["subnet"], r["vlan"]) for r in vlans] == [("private", 2)]  # one VLAN device, not one per role


def test_add_cluster_runs_a_constant_number_of_statements(vc):
    from sqlalchemy import event

    from ksserver.db import session as dbsession

    eng = dbsession.engine(vc.url)
    counts = []
    for i, n in enumerate((2, 40)):
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(eng, "before_cursor_execute", listener)
        try:
            vc.ok("add", "cluster", f"vi-{i}.rocksclusters.org", f"137.110.119.{120 + i}", str(n))
        finally:
            event.remove(eng, "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[1] <= counts[0] + 2, counts


def test_json(cluster):
    import json

    rows = json.loads(cluster.ok("list", "host", "vm", "--json"))
    assert rows[0]["vm_host"] == "frontend-0-0-0" and rows[0]["mac"] == "72:77:6e:80:00:00"
    # nested, as the API gives it: each frontend with its client nodes
    assert json.loads(cluster.ok("list", "cluster", "--json")) == [
        {"frontend": "bayou.rocksclusters.org", "type": "physical",
         "nodes": [{"name": "vm-container-0-0", "type": "physical"}, {"name": "vm-container-0-1", "type": "physical"}]},
        {"frontend": "vi-1.rocksclusters.org", "type": "VM",
         "nodes": [{"name": "hosted-vm-0-0-0", "type": "VM"}, {"name": "hosted-vm-0-1-0", "type": "VM"}]},
    ]


def test_remove_host_refuses_a_container_that_holds_vms_and_removes_a_vm(cluster):
    err = cluster.fails("remove", "host", "vm-container-0-0")
    assert err == "error - cannot remove a container that still holds VMs (hosted-vm-0-0-0); remove or move them first"
    cluster.ok("remove", "host", "hosted-vm-0-0-0")
    cluster.ok("remove", "host", "vm-container-0-0")
    assert "hosted-vm-0-0-0" not in cluster.ok("list", "host", "vm")


def test_remove_host_of_a_vm_whose_hypervisor_is_gone_needs_force(cluster):
    cluster.ok("set", "host", "attr", "vm-container-0-0", "libvirt_uri", "test:///nonexistent/ksserver-gone.xml")
    err = cluster.fails("remove", "host", "hosted-vm-0-0-0")
    assert err.startswith("error - ") and err.endswith("(force=yes removes the records anyway)")
    assert "hosted-vm-0-0-0" in cluster.ok("list", "host", "vm")
    res = cluster.run("remove", "host", "hosted-vm-0-0-0", "force=yes")
    assert res.exit_code == 0 and res.stderr.startswith("warning - ") and "the domain is not" in res.stderr
    assert "hosted-vm-0-0-0" not in cluster.ok("list", "host", "vm")
