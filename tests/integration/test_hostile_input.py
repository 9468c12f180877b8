"""Hostile and careless input: refused at once with one line naming what is wrong, never a
traceback, never a change half made, never another host's output changed."""

from __future__ import annotations

import os
import stat

import pytest

from ksserver.cli import main


def _compute(ks, name="compute-0-0", ip="10.1.255.254", mac="00:16:3e:00:00:01"):
    ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", name, "eth0", f"ip={ip}", f"mac={mac}", "subnet=private", f"name={name}")


@pytest.mark.parametrize("value, says", [
    ('Europe/"Paris', "<timezone> does not split into words"),
    ("UTC\u2028rootpw --plaintext owned", "the line break U+2028"),
    ("UTC\x85user --name=evil", "the line break U+0085"),
    ("UTC\n %pre\necho owned", 'has a line starting with "%"'),
    ("UTC\u3000\n\u3000%post", 'has a line starting with "%"'),
    ("UTC\x01", "the character U+0001"),
])
def test_a_value_that_cannot_be_rendered_is_refused_when_set(ks, value, says):
    _compute(ks)
    _compute(ks, "compute-0-1", "10.1.255.253", "00:16:3e:00:00:02")
    before = {h: ks.ok("list", "host", "profile", h) for h in ("compute-0-0", "compute-0-1")}
    err = ks.fails("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", value)
    assert 'attribute "Kickstart_Timezone"' in err and says in err
    err = ks.fails("set", "attr", "Kickstart_Timezone", value)
    assert 'attribute "Kickstart_Timezone"' in err and says in err
    assert {h: ks.ok("list", "host", "profile", h) for h in before} == before


def test_a_boot_argument_is_one_word(ks):
    _compute(ks)
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    # read by boot files alone (a kickstart host would also be refused by the kickstart parser)
    err = ks.fails("set", "attr", "Kickstart_PrivateKickstartCGI", "kickstart.cgi inst.ks=http://evil/")
    assert err.startswith('error - attribute "Kickstart_PrivateKickstartCGI": with this value')
    assert "a boot argument is one word" in err


def test_an_attribute_change_rewrites_the_boot_files_at_once(ks, tmp_path):
    _compute(ks)
    ks.ok("set", "attr", "tftpboot_dir", str(tmp_path / "tftp"))
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    pxe = tmp_path / "tftp" / "pxelinux.cfg" / "0A01FFFE"
    assert "http://10.1.1.1/" in pxe.read_text()
    ks.ok("set", "attr", "Kickstart_PrivateKickstartHost", "10.1.1.2")
    assert "http://10.1.1.2/" in pxe.read_text()  # no `sync host bootfile` needed


@pytest.mark.parametrize("args, message", [
    (("add", "host", "compute-0-9\n"), 'error - invalid host name "compute-0-9\n"'),
    (("add", "appliance", "gadget\n"), 'error - invalid appliance name "gadget\n"'),
    (("add", "appliance", "gadget", 'membership=Gad"get'), 'error - invalid membership "Gad"get"'),
    (("add", "network", "dmz\n", "10.9.0.0", "255.255.0.0"), 'error - invalid network name "dmz\n"'),
    (("add", "host", "x1", "appliance=compute", "rack=99999999999", "rank=0"), "error - invalid rack 99999999999"),
    (("add", "host", "x1", "appliance=compute", "rack=0", "rank=0", "cpus=1e9"), 'error - invalid cpus "1e9"'),
    (("add", "host", "x1", "appliance=compute", "rack=0", "rank=0", "arch=x86_64\n"), 'error - invalid arch "x86_64\n"'),
    (("set", "host", "attr", "localhost", "arch", "x86_64; rm -rf /"), 'error - invalid arch "x86_64; rm -rf /"'),
])
def test_names_and_numbers_are_checked_whole(ks, args, message):
    err = ks.fails(*args)
    assert err.startswith(message.split("\n")[0]), err


def test_an_interface_name_with_a_newline_is_refused(ks):
    _compute(ks)
    assert ks.fails("add", "host", "interface", "compute-0-0", "eth1\n").startswith('error - invalid interface name')


def test_bytes_that_are_not_utf8_are_one_line(ks, tmp_path, capsys):
    bad = b"compute-\xff".decode("utf-8", "surrogateescape")
    res = ks.run("add", "host", bad)
    assert (res.exit_code, res.stderr) == (1, 'error - argument 3 ("compute-\\xff") is not UTF-8 text\n')
    site = tmp_path / "site.attrs"
    site.write_bytes(b"Kickstart_PrivateAddress:10.1.1.1\nInfo_ClusterName:caf\xe9\n")
    assert ks.fails("init", str(site)) == f"error - {site}:2: not UTF-8 text"


def test_the_frontend_is_removed_only_when_forced(ks):
    err = ks.fails("remove", "host", "localhost")
    assert err.startswith('error - "') and "is this frontend" in err and "force=yes" in err
    assert ks.ok("list", "host", "localhost")


def test_one_failing_host_of_several_is_named(ks):
    _compute(ks)
    ks.ok("add", "host", "compute-0-1")  # no interface: no &hostaddr;
    err = ks.fails("list", "host", "profile", "compute-0-1", "compute-0-0")
    assert err.startswith("error - compute-0-1: ")


def test_a_home_never_initialised_is_not_created(tmp_path, monkeypatch, capsys):
    home = tmp_path / "nowhere"
    monkeypatch.setenv("KSSERVER_HOME", str(home))
    monkeypatch.delenv("KSSERVER_DATABASE_URL", raising=False)
    assert main(["list", "host", "status"]) == 1
    assert capsys.readouterr().err == (f"error - no ksserver database at {home / 'ksserver.db'}: run `ksserver init` "
                                       "first (or set KSSERVER_HOME)\n")
    assert not home.exists()


def test_secrets_at_rest_are_not_world_readable(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("KSSERVER_HOME", str(home))
    monkeypatch.delenv("KSSERVER_DATABASE_URL", raising=False)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "root password of the hosts this frontend installs: " in out
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for name in os.listdir(home):  # the database and its -wal/-shm
        if name.startswith("ksserver.db"):
            assert stat.S_IMODE(os.stat(home / name).st_mode) == 0o600, name
    assert main(["set", "host", "boot", "localhost", "action=install"]) == 0
    for path in (home / "tftpboot" / "pxelinux.cfg").iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_the_published_demo_root_password_is_never_served(ks):
    from ksserver.attrs import defaults

    _compute(ks)
    assert "rootpw --iscrypted $6$" in ks.ok("list", "host", "profile", "compute-0-0")
    (demo,) = defaults.published_root_hashes()
    assert demo not in ks.ok("list", "host", "profile", "compute-0-0")
    err = ks.fails("set", "attr", "Kickstart_PrivateSHARootPassword", demo)
    assert err.startswith('error - attribute "Kickstart_PrivateSHARootPassword"') and "published demo one" in err


def test_bogus_tokens_are_not_kept(ks):
    from contextlib import nullcontext

    from ksserver.errors import Forbidden
    from ksserver.services.install import Ask
    from ksserver.services.kickstart import Kickstarts

    _compute(ks)
    k = Kickstarts(ks.url)
    for i in range(200):
        with pytest.raises(Forbidden):
            k.answer(Ask("127.0.0.1", token=f"bogus-{i}" * 50), lambda _l: nullcontext())
    assert len(k._askers) == 0


def test_an_arch_with_a_newline_from_an_installer_is_400(ks):
    from contextlib import nullcontext

    from ksserver.services.install import Ask, BadRequest
    from ksserver.services.kickstart import Kickstarts

    _compute(ks)
    with pytest.raises(BadRequest, match="bad arch value"):
        Kickstarts(ks.url).answer(Ask("10.1.255.254", arch="x86_64\n"), lambda _l: nullcontext())
    assert "x86_64\n" not in ks.ok("list", "host", "attr", "compute-0-0", "attr=arch")


def test_serve_listens_on_the_private_address_unless_told(ks, monkeypatch):
    """Not on every interface by default: where the frontend's installers reach it."""
    from ksserver.web.serve import parse_bind

    monkeypatch.setenv("KSSERVER_HOME", str(ks.path))
    monkeypatch.setenv("KSSERVER_DATABASE_URL", ks.url)
    assert parse_bind(None) == "10.1.1.1:8080"  # Kickstart_PrivateAddress of the demo site
    # the graph needs it: removing it is refused, as any change that breaks a host's kickstart
    err = ks.fails("remove", "attr", "Kickstart_PrivateAddress")
    assert err.startswith('error - attribute "Kickstart_PrivateAddress": without it bayou cannot be rendered')
    from sqlalchemy import create_engine, text

    eng = create_engine(ks.url)  # a site that never had one
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM global_attributes WHERE name = 'Kickstart_PrivateAddress'"))
    eng.dispose()
    assert parse_bind(None) == "127.0.0.1:8080"
    assert parse_bind("0.0.0.0:9000") == "0.0.0.0:9000"  # when asked, anywhere


def test_help_says_every_command_whole(ks):
    """Every command's help, as the table gives it, not cut at its first line."""
    from ksserver.cli.commands import COMMANDS

    for cmd in COMMANDS:
        shown = " ".join(ks.ok("help", *cmd.name.split()).split())
        assert " ".join(cmd.help.split()) in shown, cmd.name
        assert cmd.usage() in ks.ok("help")
