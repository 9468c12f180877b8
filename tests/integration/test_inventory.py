"""Hosts, interfaces, appliances, networks, selectors and bad input through the real CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ksserver.db.migrate import head


def test_init_builds_the_frontend_and_is_idempotent(ks):
    assert ks.ok("init") == f"nothing to do\nschema at revision {head()}\n"
    assert ks.ok("list", "network") == (
        "NETWORK  SUBNET        NETMASK       MTU  DNSZONE           SERVEDNS\n"
        "private: 10.1.0.0      255.255.0.0   1500 local             yes     \n"
        "public:  137.110.119.0 255.255.255.0 1500 rocksclusters.org no      \n"
    )
    apps = [r["appliance"] for r in json.loads(ks.ok("list", "appliance", "--json"))]
    assert apps == ["compute", "frontend", "hosted-vm", "nas", "network", "power", "vm-container"]
    assert ks.ok("list", "host", "interface", "bayou") == (
        "SUBNET  IFACE MAC IP              NETMASK       MODULE NAME                    VLAN OPTIONS CHANNEL\n"
        "private eth0  --- 10.1.1.1        255.255.0.0   ------ bayou                   ---- ------- -------\n"
        "public  eth1  --- 137.110.119.114 255.255.255.0 ------ bayou.rocksclusters.org ---- ------- -------\n"
    )


def test_init_from_a_site_attrs_file(ks_empty, tmp_path):
    from ksserver.config import DEMO_SITE_ATTRS

    text = DEMO_SITE_ATTRS.read_text().replace("Kickstart_Timezone:America/Los_Angeles", "Kickstart_Timezone:UTC")
    (tmp_path / "s.attrs").write_text(text + "hostname:ignored\n")
    out = ks_empty.ok("init", str(tmp_path / "s.attrs"))
    assert "created frontend host bayou" in out
    assert ks_empty.ok("report", "host", "attr", "localhost", "attr=Kickstart_Timezone") == "UTC\n"
    assert ks_empty.ok("report", "host", "attr", "bayou", "attr=hostname") == "bayou\n"
    bad = tmp_path / "bad.attrs"
    bad.write_text("Kickstart_Lang:en_US\nthis line has no colon\n")
    assert ks_empty.fails("init", str(bad)) == f'error - {bad}:2: expected "key:value", got "this line has no colon"'


def test_add_host_from_its_name_and_list(ks):
    ks.ok("add", "host", "compute-1-12", "cpus=8")
    ks.ok("add", "host", "nas-0-0")
    ks.ok("add", "host", "login", "appliance=frontend", "rack=0", "rank=1")
    ks.ok("add", "host", "sw1", "membership=Ethernet Switch", "rack=2", "rank=0")
    assert ks.ok("list", "host") == (
        "HOST          MEMBERSHIP      CPUS RACK RANK RUNACTION INSTALLACTION\n"
        "bayou:        Frontend        1    0    0    os        install      \n"
        "compute-1-12: Compute         8    1    12   os        install      \n"
        "login:        Frontend        1    0    1    os        install      \n"
        "nas-0-0:      NAS Appliance   1    0    0    os        install      \n"
        "sw1:          Ethernet Switch 1    2    0    os        install      \n"
    )


def test_hyphenated_forms_are_the_same_commands(ks):
    ks.ok("add-host", "compute-0-0")
    ks.ok("set-attr", "site_x", "1")
    ks.ok("set-host-attr", "compute-0-0", "y", "2")
    assert ks.ok("list-host-attr", "compute-0-0") == ks.ok("list", "host", "attr", "compute-0-0")
    assert "site_x" in ks.ok("list", "host-attr", "compute-0-0", "attr=site_x")


def test_selectors(ks):
    for name in ("compute-0-0", "compute-0-1", "compute-1-0", "compute-0-10", "nas-1-0"):
        ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", "compute-0-1", "eth1", "ip=137.110.119.200", "subnet=public", "name=c01.rocksclusters.org", "mac=00:16:3e:aa:bb:cc")

    def hosts(*sel):
        return [r["host"] for r in json.loads(ks.ok("list", "host", *sel, "--json"))]

    assert hosts("compute") == ["compute-0-0", "compute-0-1", "compute-0-10", "compute-1-0"]
    assert hosts("rack1") == ["compute-1-0", "nas-1-0"]
    assert hosts("compute-0-%") == ["compute-0-0", "compute-0-1", "compute-0-10"]
    assert hosts("c01.rocksclusters.org") == ["compute-0-1"]
    assert hosts("c01") == ["compute-0-1"]
    assert hosts("00:16:3E:AA:BB:CC") == ["compute-0-1"]
    assert hosts("localhost") == ["bayou"]
    assert hosts("bayou.rocksclusters.org", "compute-0-0", "compute-0-0") == ["bayou", "compute-0-0"]
    ks.ok("set", "host", "attr", "rack1", "where", "rack1")
    assert ks.ok("report", "host", "attr", "nas-1-0", "attr=where") == "rack1\n"
    assert ks.fails("list", "host", "nosuch") == 'error - cannot resolve host "nosuch"'
    assert ks.fails("list", "host", "zz%") == 'error - no host matches "zz%"'


def test_changes_never_default_to_every_host(ks):
    err = ks.fails("remove", "host")
    assert err.startswith("error - missing host")
    err = ks.fails("set", "host", "attr", "attr=x", "value=y")
    assert err == "error - missing host (usage: ksserver set host attr HOST… ATTR VALUE)"
    assert "no host named" in ks.fails("set", "host", "attr", "host=", "attr=x", "value=y")
    assert ks.ok("list", "host", "attr", "attr=x") == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (("add", "host", "compute-0-0"), 'error - host "compute-0-0" exists'),
        (("add", "host", "mystery"), 'error - host "mystery": membership not specified (give appliance=NAME)'),
        (("add", "host", "x1", "appliance=toaster", "rack=0", "rank=0"), 'error - unknown appliance "toaster"'),
        (("add", "host", "x1", "appliance=compute", "rack=a", "rank=0"), 'error - invalid rack "a": expected a whole number'),
        (("add", "host", "x1", "appliance=compute", "rack=0", "rank=0", "os=plan9"), 'error - unknown OS "plan9"'),
        (("add", "host", "interface", "ghost", "eth0"), 'error - cannot resolve host "ghost"'),
        (("add", "host", "interface", "compute-0-0", "eth1", "ip=10.1.300.1"), 'error - invalid ip "10.1.300.1": expected an IPv4 address such as 10.1.255.254'),
        (("add", "host", "interface", "compute-0-0", "eth1", "mac=00:16:3e:zz:00:01"), 'error - invalid MAC address "00:16:3e:zz:00:01": expected six hex octets such as 00:16:3e:00:00:01'),
        (("add", "host", "interface", "compute-0-0", "eth1", "subnet=dmz"), 'error - unknown network "dmz"'),
        (("add", "host", "interface", "compute-0-0", "eth1", "ip=10.2.0.1", "subnet=private"), 'error - ip 10.2.0.1 is not on network "private" (10.1.0.0/255.255.0.0)'),
        (("add", "host", "interface", "compute-0-0", "eth1", "ip=10.1.1.1", "subnet=private"), 'error - ip 10.1.1.1 is already used by host "bayou" on network "private"'),
        (("add", "host", "interface", "compute-0-0", "eth0"), 'error - host "compute-0-0" already has interface "eth0"'),
        (("set", "attr", "bad name", "x"), 'error - invalid attribute name "bad name": use letters, digits, "_", "." and "-", starting with a letter or "_"'),
        (("set", "attr", "x", "ok\n%end"), 'error - value of attribute "x" has a line starting with "%", which could end a kickstart section'),
        (("set", "attr", "x"), "error - missing value (usage: ksserver set attr ATTR VALUE)"),
        (("set", "os", "attr", "plan9", "x", "1"), 'error - unknown OS "plan9"'),
        (("set", "appliance", "attr", "toaster", "x", "1"), 'error - unknown appliance "toaster"'),
        (("add", "network", "dmz", "10.9.0.1", "255.255.0.0"), "error - subnet 10.9.0.1 has host bits set for netmask 255.255.0.0 (did you mean 10.9.0.0?)"),
        (("add", "network", "dmz", "10.9.0.0", "255.0.255.0"), 'error - invalid netmask "255.0.255.0": the one bits must come first'),
        (("add", "network", "dmz", "10.9.0.0", "0.0.255.255"), 'error - invalid netmask "0.0.255.255": the one bits must come first'),
        (("remove", "network", "private"), 'error - network "private" is used by 2 interface(s); remove or move them first'),
        (("remove", "appliance", "frontend"), 'error - appliance "frontend" still has 1 host(s); remove them first'),
    ],
)
def test_bad_input_gets_one_line_and_changes_nothing(ks, args, message):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "ip=10.1.255.254", "subnet=private")
    before = ks.ok("list", "host", "interface") + ks.ok("list", "host") + ks.ok("list", "attr")
    assert ks.fails(*args) == message
    assert ks.ok("list", "host", "interface") + ks.ok("list", "host") + ks.ok("list", "attr") == before


@pytest.mark.parametrize("args, shown", [
    (("frobnicate", "host"), "frobnicate host"),
    (("list", "hots"), "list hots"),
    (("lst", "host"), "lst host"),
])
def test_an_unknown_command_is_one_line_and_status_2(ks, args, shown):
    res = ks.run(*args)
    assert (res.exit_code, res.stdout) == (2, "")
    assert res.stderr == f'error - unknown command "{shown}" (`ksserver help` lists the commands)\n'


def test_help_shows_the_topic(ks):
    res = ks.run("help", "set", "host", "attr")
    assert res.exit_code == 0
    assert res.stdout.startswith("ksserver set host attr HOST… ATTR VALUE\n\nSet an attribute at the host level")
    assert ks.ok("set", "host", "attr", "--help") == res.stdout
    under = ks.ok("help", "remove")
    assert "ksserver remove host HOST… [force=…]" in under and "ksserver remove roll NAME" in under
    assert "ksserver list host" not in under
    assert ks.run("help", "frobnicate").exit_code == 2


def test_a_failure_midway_rolls_back_the_whole_command(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-1")
    # the first host gets its attribute before the unknown third name fails the command
    assert ks.fails("set", "host", "attr", "compute-0-0", "compute-0-1", "ghost", "x", "1") == 'error - cannot resolve host "ghost"'
    assert ks.ok("list", "host", "attr", "compute", "attr=x") == ""
    # an interface whose IP clashes is not left half-added
    ks.fails("add", "host", "interface", "compute-0-1", "eth0", "ip=10.1.1.1", "subnet=private", "mac=00:16:3e:00:00:99")
    assert "compute-0-1" not in ks.ok("list", "host", "interface")


def test_interfaces_set_and_remove(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "subnet=private", "ip=10.1.255.254", "mac=00:16:3e:00:00:01", "module=e1000")
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    ks.ok("set", "host", "interface", "mac", "compute-0-0", "eth0", "00-16-3E-00-00-02")
    ks.ok("set", "host", "interface", "vlan", "compute-0-0", "eth0", "5")
    rows = json.loads(ks.ok("list", "host", "interface", "compute-0-0", "--json"))
    assert rows == [{"host": "compute-0-0", "subnet": "private", "iface": "eth0", "mac": "00:16:3e:00:00:02",
                     "ip": "10.1.255.200", "netmask": "255.255.0.0", "module": "e1000", "name": None, "vlan": 5,
                     "options": None, "channel": None}]
    ks.ok("remove", "host", "interface", "compute-0-0", "eth0")
    assert ks.ok("list", "host", "interface", "compute-0-0") == ""
    assert ks.fails("remove", "host", "interface", "compute-0-0", "eth0") == 'error - host "compute-0-0" has no interface "eth0"'


def test_remove_host_takes_its_interfaces_and_attributes(ks):
    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "subnet=private", "ip=10.1.255.254")
    ks.ok("set", "host", "attr", "compute-0-0", "x", "1")
    ks.ok("remove", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-0")
    assert ks.ok("list", "host", "attr", "compute-0-0", "attr=x") == ""
    ks.ok("add", "host", "interface", "compute-0-0", "eth0", "subnet=private", "ip=10.1.255.254")


def test_appliances_and_networks(ks):
    ks.ok("add", "appliance", "login", "node=login")
    ks.ok("add", "network", "ipmi", "10.2.0.0", "255.255.0.0", "mtu=9000")
    assert ks.ok("list", "appliance").splitlines()[4] == "login:        Login                   default login        yes           no    "
    assert "ipmi:    10.2.0.0" in ks.ok("list", "network")
    assert ks.fails("add", "appliance", "login") == 'error - appliance "login" exists'
    ks.ok("remove", "appliance", "login")
    ks.ok("remove", "network", "ipmi")
    assert "login" not in ks.ok("list", "appliance")


def test_no_schema_is_a_clear_error(ks_empty):
    assert ks_empty.fails("list", "host") == "error - the database has no ksserver schema: run `ksserver init` first"


def test_real_console_script_round_trip(ks):
    """The installed `ksserver` executable, as an administrator runs it."""
    exe = Path(sys.executable).with_name("ksserver")
    env = {**os.environ, **ks.env()}
    add = subprocess.run([str(exe), "add", "host", "compute-0-0"], env=env, capture_output=True, text=True)
    assert add.returncode == 0, add.stderr
    out = subprocess.run([str(exe), "list", "host", "attr", "compute-0-0", "attr=rank"], env=env, capture_output=True, text=True)
    assert out.stdout == "HOST         ATTR VALUE SOURCE\ncompute-0-0: rank 0     I     \n"
    bad = subprocess.run([str(exe), "add", "host", "compute-0-0"], env=env, capture_output=True, text=True)
    assert (bad.returncode, bad.stdout, bad.stderr) == (1, "", 'error - host "compute-0-0" exists\n')


def test_init_on_an_unreachable_database_is_one_line(ks_empty, tmp_path):
    if ks_empty.backend != "sqlite":
        ks_empty.url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        assert ks_empty.fails("init").startswith("error - cannot open the database postgresql+psycopg://nobody@127.0.0.1:1/none: ")
        return
    home = type(ks_empty)(tmp_path, f"sqlite:///{tmp_path}/no/such/dir/ks.db", "sqlite")
    assert home.fails("init") == f"error - cannot open the database sqlite:///{tmp_path}/no/such/dir/ks.db: unable to open database file"
