"""Install trees: ``add distro`` reads a tree's .treeinfo, makes its bootactions and the
OS attribute the graph's url line names; the install server serves its files."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from trees import make_tree, public_dir


@pytest.fixture
def public():
    path = public_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)

URL = "http://10.1.1.1/install/tiny9/x86_64"


def _compute(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:01", "ip=10.1.255.254",
          "subnet=private")


def test_add_distro_makes_its_bootactions_and_names_it_to_the_graph(ks, public):
    tree = make_tree(public / "tree")
    _compute(ks)
    assert ks.ok("add", "distro", "tiny9", str(tree)) == (
        f"added distro tiny9: Tiny Linux 9.4 x86_64 at {tree}, served at {URL}/\n"
        "install, install headless and rescue now boot tiny9\n"
        "bootactions: install tiny9, install tiny9 headless, rescue tiny9\n"
        "Kickstart_Distribution=tiny9 and Kickstart_DistroVersion=9.4 for OS linux\n")
    assert json.loads(ks.ok("list", "distro", "--json")) == [
        {"name": "tiny9", "family": "Tiny Linux", "version": "9.4", "arch": "x86_64", "path": str(tree)}]
    actions = {r["action"]: r for r in json.loads(ks.ok("list", "bootaction", "--json"))}
    for action in ("install", "install tiny9"):
        assert actions[action]["kernel"] == f"{URL}/images/pxeboot/vmlinuz"
        assert actions[action]["ramdisk"] == f"{URL}/images/pxeboot/initrd.img"
        assert actions[action]["args"] == f"inst.ks inst.repo={URL} ip=dhcp"
    assert actions["install vm"]["kernel"].startswith("file:///boot/kickstart/xen/")  # the seed's Xen VMs keep theirs
    # the kickstart's url line names the tree; the host's boot files boot its kernel with its token
    assert f"url --url {URL}/BaseOS\n" in ks.ok("list", "host", "profile", "compute-0-0")
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    token = json.loads(ks.ok("list", "host", "boot", "compute-0-0", "showtoken=yes", "--json"))[0]["token"]
    assert ks.ok("report", "host", "ipxe", "compute-0-0") == (
        "#!ipxe\n"
        f"kernel {URL}/images/pxeboot/vmlinuz initrd=initrd.img "
        f"inst.ks=http://10.1.1.1/install/sbin/kickstart.cgi?token={token} inst.repo={URL} ip=dhcp\n"
        f"initrd {URL}/images/pxeboot/initrd.img\n"
        "boot\n")
    pxe = ks.ok("report", "host", "bootfile", "compute-0-0")
    assert f"\tkernel {URL}/images/pxeboot/vmlinuz\n" in pxe
    assert f"\tappend inst.ks=http://10.1.1.1/install/sbin/kickstart.cgi?token={token} " in pxe
    # a second tree does not take the plain names unless asked
    second = make_tree(public / "second", version="9.5")
    out = ks.ok("add", "distro", "tiny95", str(second))
    assert "now boot" not in out
    assert json.loads(ks.ok("list", "bootaction", "--json"))[0]["kernel"] == f"{URL}/images/pxeboot/vmlinuz"


def test_bad_trees_are_one_line_each(ks, public, tmp_path):
    assert ks.fails("add", "distro", "t", str(public / "none")) == f"error - {public / 'none'}: not a directory"
    (public / "empty").mkdir()
    assert ks.fails("add", "distro", "t", str(public / "empty")) == (
        f"error - {public / 'empty' / '.treeinfo'}: no .treeinfo (a Red Hat-family install tree, or a mounted "
        "ISO, has one)")
    broken = make_tree(public / "broken")
    (broken / ".treeinfo").write_text("[release\nname = x\n")
    assert ks.fails("add", "distro", "t", str(broken)).startswith(f"error - {broken / '.treeinfo'}: not a .treeinfo ")
    gone = make_tree(public / "gone")
    (gone / "images" / "pxeboot" / "vmlinuz").unlink()
    assert ks.fails("add", "distro", "t", str(gone)) == (
        f"error - {gone / '.treeinfo'}: names images/pxeboot/vmlinuz, which is not in the tree")
    good = make_tree(public / "good")
    assert ks.fails("add", "distro", "sbin", str(good)).startswith('error - invalid distro name "sbin"')
    ks.ok("add", "distro", "t", str(good))
    assert ks.fails("add", "distro", "t", str(good)) == 'error - distro "t" exists'
    assert ks.fails("add", "distro", "u", str(good), "os=nosuch") == 'error - no OS "nosuch"'
    assert [r["name"] for r in json.loads(ks.ok("list", "distro", "--json"))] == ["t"]  # nothing half-added
    hidden = make_tree(tmp_path / "hidden")  # pytest's tmp_path is its owner's only
    closed = next(p for p in (tmp_path, *tmp_path.parents) if not p.stat().st_mode & 0o001)
    assert ks.fails("add", "distro", "h", str(hidden)) == (
        f"error - {closed}: others may not enter it, so the install server cannot send the tree {hidden} "
        f"(chmod o+x {closed}, or put the tree elsewhere)")


def test_remove_distro_leaves_its_files_and_nothing_dangling(ks, public):
    tree = make_tree(public / "tree")
    other = make_tree(public / "other")
    _compute(ks)
    ks.ok("add", "distro", "tiny9", str(tree))
    assert ks.fails("remove", "distro", "tiny9") == (
        'error - distro "tiny9" is what bootactions install, install headless, rescue boot: add another distro '
        "with default=yes first")
    ks.ok("add", "distro", "other9", str(other), "default=yes")
    ks.ok("set", "host", "installaction", "compute-0-0", "install tiny9")
    assert ks.fails("remove", "distro", "tiny9") == (
        'error - distro "tiny9" is the bootaction of compute-0-0: set theirs to another first')
    ks.ok("set", "host", "installaction", "compute-0-0", "install")
    assert ks.ok("remove", "distro", "tiny9") == f"removed distro tiny9 (its files in {tree} are untouched)\n"
    actions = {r["action"] for r in json.loads(ks.ok("list", "bootaction", "--json"))}
    assert "install tiny9" not in actions and "install other9" in actions
    assert sorted(os.listdir(tree)) == [".treeinfo", "BaseOS", "images"]
