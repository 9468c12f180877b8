"""A site's graph in the original's (Rocks') dialect renders valid kickstarts through the CLI.

The graph (``tests/data/rocks-graph``, this project's own files in the original's dialect)
uses every construct a Rocks roll graph holds; it is brought in as a site graph directory
and the compute and frontend appliances are pointed at it (``set appliance graph``). Its
``<eval>``s run the real ``rocks`` command against this home's inventory. Each kickstart
is compared with its golden file and judged by pykickstart for RHEL 5, 7 and 9.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from goldens import expect

from ksserver.graph import validate_kickstart

DATA = Path(__file__).resolve().parents[1] / "data" / "rocks-graph"
ROOT_HASH = "$6$rocksgraph$CnV0oh0cL8S4n8m3Wm1bkFLzFZ5rJQb0wq6fY9d8xqgR1pN2s3T4u5V6w7X8y9Z0a1B2c3D4e5F6g7H8i9J0k."
VERSIONS = ("RHEL5", "RHEL7", "RHEL9")


@pytest.fixture
def rocks(ks, tmp_path, monkeypatch):
    site = tmp_path / "rocks-graph"
    shutil.copytree(DATA, site)
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # nobody else may write a graph that runs code
    monkeypatch.setenv("KSSERVER_GRAPH", str(site))
    ks.ok("remove", "attr", "rocks_version")  # the seed's 5.2: here the OS release decides
    ks.ok("set", "appliance", "graph", "compute", "rocks")
    ks.ok("set", "appliance", "graph", "frontend", "rocks")
    ks.ok("set", "attr", "Kickstart_PrivateSHARootPassword", ROOT_HASH)
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:05:01", "ip=10.1.255.254",
          "subnet=private", "module=e1000")
    ks.site = site
    return ks


def _profile(ks, host: str, version: str) -> str:
    """The kickstart for an os_version; &rocks_version_major; follows it (RHEL7 → 7)."""
    ks.ok("set", "attr", "os_version", version)
    text = ks.ok("list", "host", "profile", host)
    return text.replace(str(ks.site), "SITE")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("host, appliance", [("compute-0-0", "compute"), ("bayou", "frontend")])
def test_compute_and_frontend_kickstarts_match_their_golden_files_and_pykickstart(rocks, host, appliance, version):
    text = _profile(rocks, host, version)
    assert validate_kickstart(text, version) == [], text
    expect(f"rocks/{appliance}-{version.lower()}.ks", text)  # the same text from either database
    # rootpw is set, from the eval
    assert re.search(r"^rootpw --iscrypted \$6\$rocksgraph\$", text, re.MULTILINE), text
    # every %post in graph order: the traversal order the kickstart states
    order = [line[2:].split(" (")[0] for line in text.split("# Node Traversal Order\n#\n", 1)[1].split("\n#\n", 1)[0]
             .splitlines()]
    posts = list(dict.fromkeys(m.group(1) for m in re.finditer(r"^# (\S+) \(\w+\)\n%post", text, re.MULTILINE)))
    assert posts == [f for f in order if f in posts] and posts


def test_the_evals_ran_the_rocks_command_against_this_inventory(rocks):
    text = _profile(rocks, "compute-0-0", "RHEL9")
    assert "cat > /etc/sysconfig/network << 'KSSERVER-EOF'\nNETWORKING=yes\nHOSTNAME=compute-0-0.local\n" in text
    assert "DEVICE=eth0\nHWADDR=52:54:00:00:05:01\nIPADDR=10.1.255.254\nNETMASK=255.255.0.0\nBOOTPROTO=static\n" in text
    assert "echo 'alias eth0 e1000' >> /tmp/modprobe.conf" in text
    assert ("cat > /etc/sysconfig/static-routes << 'KSSERVER-EOF'\nany net 224.0.0.0 netmask 255.255.255.0 dev eth0\n"
            "any host 255.255.255.255 dev eth0\nKSSERVER-EOF") in text
    assert "cat > /etc/sysconfig/iptables << 'KSSERVER-EOF'\n*filter\n" in text and "-A INPUT -i eth0 -j ACCEPT" in text
    assert "install\n%include" not in text and text.count("\n%include /tmp/partition-info\n") == 1
    rhel5 = _profile(rocks, "compute-0-0", "RHEL5")
    assert "\ninstall\n%include /tmp/partition-info\n" in rhel5 and "\nkey --skip\n" in rhel5
    # the inventory changes: the next render runs them again
    rocks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.250")
    assert "IPADDR=10.1.255.250" in _profile(rocks, "compute-0-0", "RHEL9")


def test_check_graph_passes_and_says_what_runs(rocks):
    out = rocks.ok("check", "graph", "compute", "frontend").splitlines()
    assert out[-1] == "graph ok"
    notes = [line.replace(str(rocks.site), "SITE") for line in out[:-1]]
    assert 'SITE/nodes/client-rootpw.xml:7: note: <eval shell="sh"> runs on the frontend when a kickstart is made' \
        in notes
    assert 'SITE/nodes/networking-server.xml:13: warning: <var name="Node_Hostname"/> is deprecated: write ' \
        "&hostname;" in notes
    assert 'SITE/site-nodes/replace-apache.xml:11: note: <configure phase="pre-install"> is skipped: only a ' \
        "phase that includes post runs in a kickstart" in notes
    assert not [n for n in notes if "bootstrap" in n or "null" in n]  # unreachable by design


def test_an_eval_in_a_graph_others_may_write_is_refused(rocks):
    os.chmod(rocks.site / "nodes", 0o777)
    err = rocks.fails("list", "host", "profile", "compute-0-0")
    assert err.startswith(f"error - SITE/nodes/client-rootpw.xml:7: <eval> refused: {rocks.site}/nodes is writable "
                          .replace("SITE", str(rocks.site)))
