"""A site graph in place of the shipped one, and what init says a site.attrs lacks."""

from __future__ import annotations

from pathlib import Path

from ksserver import config


def test_an_appliance_can_use_a_site_graph_instead_of_the_shipped_one(ks, tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "graphs" / "rocks").mkdir(parents=True)
    (site / "nodes").mkdir()
    (site / "graphs" / "rocks" / "base.xml").write_text('<graph>\n<edge from="compute" to="site-post"/>\n</graph>\n')
    (site / "nodes" / "compute.xml").write_text("<kickstart>\n<main><rootpw>--iscrypted &Kickstart_PrivateSHARootPassword;</rootpw></main>\n</kickstart>\n")
    (site / "nodes" / "site-post.xml").write_text("<kickstart>\n<post>echo the site's own</post>\n</kickstart>\n")
    err = ks.fails("set", "appliance", "graph", "compute", "rocks")
    assert err.startswith('error - graph "rocks" has no graph files (looked in ')
    monkeypatch.setenv("KSSERVER_GRAPH", str(site))
    ks.ok("set", "appliance", "graph", "compute", "rocks")
    ks.ok("add", "host", "compute-0-0")
    profile = ks.ok("list", "host", "profile", "compute-0-0")
    # the site's edges alone: one bootloader, one partition plan — its own, none of the shipped graph's
    assert f"# {site}/nodes/compute.xml (base)\n# {site}/nodes/site-post.xml (base)\n#\n" in profile
    assert "echo the site's own" in profile and "bootloader" not in profile and "part " not in profile
    frontend = ks.ok("list", "host", "profile", "bayou")
    assert "bootloader" in frontend  # the other appliances keep the shipped graph
    assert config.graph_dirs()[-1] == Path(site)


def test_init_says_which_attributes_a_graph_uses_that_nothing_defines(ks_empty, tmp_path):
    from ksserver.config import DEMO_SITE_ATTRS

    lines = [line for line in DEMO_SITE_ATTRS.read_text().splitlines() if not line.startswith("Kickstart_Timezone")]
    site = tmp_path / "site.attrs"
    site.write_text("\n".join(lines) + "\n")
    out = ks_empty.ok("init", str(site)).splitlines()
    assert "appliance compute: its graph uses attributes nothing defines: Kickstart_Timezone (set them, or its " \
           "kickstart fails)" in out
    assert "Kickstart_Distribution" not in " ".join(line for line in out if "nothing defines" in line)  # a default
