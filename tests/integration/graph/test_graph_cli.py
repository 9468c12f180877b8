"""The graph through the real CLI: profiles of hosts in the database, site graph
directories, site.attrs rendering, checks and pictures."""

import os
import subprocess
import sys
from pathlib import Path

from ksserver.config import DEMO_SITE_ATTRS


def compute(ks, name="compute-0-0", ip="10.1.255.254", mac="00:16:3e:00:00:01"):
    ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", name, "eth0", f"ip={ip}", f"mac={mac}", "subnet=private")


def test_profile_of_a_host_is_current_with_the_database(ks):
    compute(ks)
    ks_text = ks.ok("list", "host", "profile", "compute-0-0")
    assert "--ip=10.1.255.254" in ks_text and "--hostname=compute-0-0.local" in ks_text
    assert "%packages" in ks_text and "%end" in ks_text
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    assert "--ip=10.1.255.200" in ks.ok("list", "host", "profile", "compute-0-0")
    xml = ks.ok("list", "host", "xml", "compute-0-0")
    assert xml.startswith("<?xml") and "<kickstart" in xml


def test_x11_condition_follows_the_attribute(ks):
    compute(ks)
    assert "x11.xml" not in ks.ok("list", "host", "profile", "compute-0-0")
    ks.ok("set", "appliance", "attr", "compute", "x11", "yes")
    assert "nodes/x11.xml" in ks.ok("list", "host", "profile", "compute-0-0")


def test_hostile_value_on_one_host_is_literal_and_harms_no_other(ks):
    compute(ks)
    compute(ks, "compute-0-1", "10.1.255.253", "00:16:3e:00:00:02")
    clean = ks.ok("list", "host", "profile", "compute-0-1")
    hostile = "evil\"'\\ <b>&amp; ]]> 100%"
    # in a script, the value comes out literally
    ks.ok("set", "host", "attr", "compute-0-0", "Info_ClusterName", hostile)
    assert f"cluster: {hostile}\n" in ks.ok("list", "host", "profile", "compute-0-0")
    # in a kickstart command, an unbalanced quote would change the command: refused when it
    # is set, in one line naming the attribute, the host, the file, line and command
    before = ks.ok("list", "host", "profile", "compute-0-0")
    assert ks.fails("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", hostile) == (
        'error - attribute "Kickstart_Timezone": with this value compute-0-0 cannot be rendered: '
        "nodes/base.xml:16: <timezone> does not split into words (does an attribute value hold an unbalanced quote?)"
    )
    assert ks.ok("list", "host", "profile", "compute-0-0") == before
    assert ks.ok("list", "host", "profile", "compute-0-1") == clean


def test_not_kickstartable_and_unknown(ks):
    ks.ok("add", "host", "sw-0-0", "appliance=network", "rack=0", "rank=0")
    assert ks.fails("list", "host", "profile", "sw-0-0") == 'error - host "sw-0-0" is a network, which has no root node: it is not kickstartable'
    assert ks.fails("list", "host", "profile", "ghost") == 'error - cannot resolve host "ghost"'


def test_check_graph_on_the_shipped_graph(ks):
    compute(ks)
    assert ks.ok("check", "graph") == "graph ok\n"
    assert ks.ok("check", "graph", "compute", "frontend") == "graph ok\n"


def test_site_graph_directory_adds_edges_and_errors_name_the_file(ks, tmp_path, monkeypatch):
    compute(ks)
    site = tmp_path / "site"
    (site / "graphs" / "default").mkdir(parents=True)
    (site / "nodes").mkdir()
    (site / "graphs" / "default" / "site.xml").write_text('<graph><edge from="compute" to="site-extra"/></graph>\n')
    (site / "nodes" / "site-extra.xml").write_text(
        "<kickstart><description>site</description><package>htop</package>"
        "<post>echo &hostname; on rack &rack;</post></kickstart>\n"
    )
    monkeypatch.setenv("KSSERVER_GRAPH", str(site))
    text = ks.ok("list", "host", "profile", "compute-0-0")
    assert "htop" in text and "echo compute-0-0 on rack 0" in text
    (site / "nodes" / "site-extra.xml").write_text("<kickstart><post>&nosuchattr;</post></kickstart>\n")
    err = ks.fails("list", "host", "profile", "compute-0-0")
    assert f"{site}/nodes/site-extra.xml:1" in err and "nosuchattr" in err
    (site / "nodes" / "site-extra.xml").write_text("<kickstart><post>unclosed</kickstart>\n")
    err = ks.fails("list", "host", "profile", "compute-0-0")
    assert err.startswith(f"error - {site}/nodes/site-extra.xml:1")
    res = ks.run("check", "graph", "compute")
    assert res.exit_code == 1 and f"{site}/nodes/site-extra.xml:1" in res.stderr


def test_list_node_xml_from_site_attrs_without_a_database(tmp_path):
    env = {**os.environ, "KSSERVER_HOME": str(tmp_path), "KSSERVER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    exe = str(Path(sys.executable).with_name("ksserver"))
    res = subprocess.run([exe, "list", "node", "xml", "server", f"attrs={DEMO_SITE_ATTRS}", "format=kickstart"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "bayou.rocksclusters.org" in res.stdout and "%packages" in res.stdout


def test_report_graph_dot_and_svg(ks):
    compute(ks)
    dot = ks.ok("report", "graph", "compute")
    assert dot.startswith('digraph "default"') and '"x11"' in dot
    exe = str(Path(sys.executable).with_name("ksserver"))
    svg = subprocess.run([exe, "report", "graph", "compute", "format=svg"], env={**os.environ, **ks.env()}, capture_output=True)
    assert svg.returncode == 0 and b"<svg" in svg.stdout


def test_profiles_of_several_hosts_are_prefixed(ks):
    compute(ks)
    compute(ks, "compute-0-1", "10.1.255.253", "00:16:3e:00:00:02")
    out = ks.ok("list", "host", "profile", "compute")
    assert all(line.startswith(("compute-0-0: ", "compute-0-1: ")) for line in out.splitlines())
