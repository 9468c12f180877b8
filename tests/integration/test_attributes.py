"""Attributes through the real CLI: the seed's listing, precedence, explain, report."""

import json
from pathlib import Path

from goldens import expect

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def seed_rows():
    rows = []
    for line in (GOLDEN / "seed" / "list-host-attr-tile-0-0.txt").read_text().splitlines():
        words = line.split()
        rows.append((words[0].rstrip(":"), words[1], " ".join(words[2:-1]), words[-1]))
    return rows


def build_tile(ks_empty, tmp_path):
    """The seed's tile-0-0: globals from a site.attrs, OS attributes, arch on the host."""
    rows = seed_rows()
    site = {attr: value for _h, attr, value, src in rows if src == "G"}
    extra = {  # what init needs to create the networks; removed again below
        "Kickstart_PrivateNetwork": "10.1.0.0",
        "Kickstart_PrivateNetmask": "255.255.0.0",
        "Kickstart_PrivateHostname": "vizagra",
        "Kickstart_PublicDNSDomain": "rocksclusters.org",
        "Kickstart_PublicAddress": "137.110.119.63",
    }
    path = tmp_path / "site.attrs"
    path.write_text("".join(f"{k}:{v}\n" for k, v in {**site, **extra}.items()))
    ks_empty.ok("init", str(path))
    for key in extra:
        ks_empty.ok("remove", "attr", key)
    ks_empty.ok("add", "appliance", "tile", "node=tile")
    ks_empty.ok("add", "host", "tile-0-0")
    ks_empty.ok("set", "host", "attr", "tile-0-0", "arch", "x86_64")
    for _h, attr, value, src in rows:
        if src == "O":
            ks_empty.ok("set", "os", "attr", "linux", attr, value)
    return rows


def test_seed_list_host_attr_layout(ks_empty, tmp_path):
    seed = build_tile(ks_empty, tmp_path)
    out = ks_empty.ok("list", "host", "attr", "tile-0-0")
    expect("cli/list-host-attr-tile-0-0.txt", out)
    lines = out.splitlines()
    header = lines[0]
    assert header.split() == ["HOST", "ATTR", "VALUE", "SOURCE"]
    starts = [header.index(w) for w in ("ATTR", "VALUE", "SOURCE")]
    got = set()
    for line in lines[1:]:
        got.add((line[: starts[0]].strip().rstrip(":"), line[starts[0] : starts[1]].strip(),
                 line[starts[1] : starts[2]].strip(), line[starts[2] :].strip()))
    # every row of the seed's listing is there, cell for cell; the rest are the newer intrinsics
    assert set(seed) <= got
    assert got - set(seed) == {
        ("tile-0-0", "appliance", "tile", "I"),
        ("tile-0-0", "membership", "Tile", "I"),
        ("tile-0-0", "os", "linux", "H"),
    }
    attrs = [line[starts[0] : starts[1]].strip() for line in lines[1:]]
    assert attrs == sorted(attrs, key=lambda s: s.encode())  # byte order: upper case first


def test_precedence_across_all_four_levels(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-1")
    ks.ok("set", "attr", "level", "global")
    ks.ok("set", "os", "attr", "linux", "level", "os")
    ks.ok("set", "appliance", "attr", "compute", "level", "appliance")
    ks.ok("set", "host", "attr", "compute-0-0", "level", "host")
    out = ks.ok("list", "host", "attr", "compute", "attr=level")
    assert out.splitlines()[1:] == [
        "compute-0-0: level host      H     ",
        "compute-0-1: level appliance A     ",
    ]
    ks.ok("remove", "appliance", "attr", "compute", "level")
    assert ks.ok("list", "host", "attr", "compute-0-1", "attr=level").splitlines()[1] == "compute-0-1: level os    O     "
    ks.ok("remove", "os", "attr", "linux", "level")
    assert ks.ok("list", "host", "attr", "compute-0-1", "attr=level").splitlines()[1] == "compute-0-1: level global G     "
    assert ks.ok("report", "host", "attr", "compute-0-0", "attr=level") == "host\n"


def test_explain_shows_every_level_and_the_winner(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("set", "attr", "x11", "false")
    ks.ok("set", "appliance", "attr", "compute", "x11", "true")
    out = ks.ok("explain", "host", "attr", "compute-0-0", "x11")
    assert out == (
        "SOURCE LEVEL     OWNER       VALUE WINNER\n"
        "H      host      compute-0-0 ----- ------\n"
        "A      appliance compute     true  *     \n"
        "O      os        linux       ----- ------\n"
        "G      global    global      false ------\n"
        "I      intrinsic compute-0-0 ----- ------\n"
    )


def test_intrinsics_and_host_values(ks):
    ks.ok("add", "host", "compute-0-3", "arch=x86_64")
    ks.ok("add", "host", "interface", "compute-0-3", "eth0", "ip=10.1.255.250", "mac=00:16:3E:00:00:0A", "subnet=private")
    rows = {r["attr"]: r for r in json.loads(ks.ok("list", "host", "attr", "compute-0-3", "--json"))}
    assert {k: (rows[k]["value"], rows[k]["source"]) for k in ("hostname", "rack", "rank", "appliance", "membership", "hostaddr", "ksmac", "os", "arch")} == {
        "hostname": ("compute-0-3", "I"),
        "rack": ("0", "I"),
        "rank": ("3", "I"),
        "appliance": ("compute", "I"),
        "membership": ("Compute", "I"),
        "hostaddr": ("10.1.255.250", "I"),
        "ksmac": ("00:16:3e:00:00:0a", "I"),
        "os": ("linux", "H"),
        "arch": ("x86_64", "H"),
    }
    assert set(rows["hostname"]) == {"host", "attr", "value", "source"}
    err = ks.fails("set", "host", "attr", "compute-0-3", "hostname", "x")
    assert err == 'error - attribute "hostname" is intrinsic (computed from the host record) and cannot be set'
    assert "can be set only on a host" in ks.fails("set", "attr", "os", "sunos")
    assert ks.fails("set", "host", "attr", "compute-0-3", "os", "sunos") == 'error - unknown OS "sunos"'


def test_report_host_attr_is_site_attrs(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-1")
    one = ks.ok("report", "host", "attr", "compute-0-0")
    lines = one.splitlines()
    assert lines == sorted(lines, key=lambda s: s.split(":", 1)[0].encode())
    assert "Kickstart_PublicHostname:bayou.rocksclusters.org" in lines
    assert "hostname:compute-0-0" in lines
    two = ks.ok("report", "host", "attr", "compute-0-0", "compute-0-1", "attr=hostname")
    assert two == "compute-0-0: compute-0-0\ncompute-0-1: compute-0-1\n"


def test_level_listings_and_add_attr(ks):
    ks.ok("set", "appliance", "attr", "compute", "x11", "true")
    assert ks.ok("list", "appliance", "attr", "compute") == (
        "APPLIANCE ATTR    VALUE\n"
        "compute:  managed true \n"
        "compute:  x11     true \n"
    )
    assert ks.fails("add", "appliance", "attr", "compute", "x11", "false") == 'error - attribute "x11" exists for appliance "compute"'
    assert "Kickstart_Timezone:                America/Los_Angeles" in ks.ok("list", "attr")
    assert ks.fails("add", "attr", "Kickstart_Timezone", "UTC") == 'error - attribute "Kickstart_Timezone" exists'
    assert ks.fails("remove", "attr", "nosuch") == 'error - attribute "nosuch" is not set'
    assert json.loads(ks.ok("list", "os", "attr", "--json")) == []


def test_hostile_values_are_stored_literally(ks):
    ks.ok("add", "host", "compute-0-0")
    value = "a\"b'c\\d<e>&f;]]>%g"
    ks.ok("set", "host", "attr", "compute-0-0", "weird", value)
    assert ks.ok("report", "host", "attr", "compute-0-0", "attr=weird") == value + "\n"
