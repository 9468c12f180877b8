"""``/install/boot/ipxe`` through the real server: the host that asks gets its own next
boot, by the same rules as its kickstart; a MAC it sends must be its own."""

import json

from goldens import expect
from server_helpers import add_compute, wait_for_status


def _token(ks, host):
    return json.loads(ks.ok("list", "host", "boot", host, "showtoken=yes", "--json"))[0]["token"]


def test_ipxe_script_follows_the_boot_action(ks, serve):
    ks.ok("add", "network", "loop", "127.0.0.0", "255.0.0.0", "dnszone=loop")
    for i in range(2):
        add_compute(ks, f"compute-0-{i}", f"10.1.255.{254 - i}", f"00:16:3e:00:00:{i:02x}")
        ks.ok("add", "host", "interface", f"compute-0-{i}", "eth1", f"ip=127.0.10.{i + 1}", "subnet=loop")
    ks.ok("set", "host", "boot", "compute-0-0", "action=install")
    token = _token(ks, "compute-0-0")
    srv = serve(ks, "workers=1")
    url = "/install/boot/ipxe?mac=00:16:3e:00:00:00"
    r = srv.request(url, source="127.0.10.1")
    assert r.status == 200 and r.body == ks.ok("report", "host", "ipxe", "compute-0-0")
    expect("server/ipxe-install-compute-0-0.txt", r.body.replace(token, "TOKEN"))
    assert f"?token={token} " in r.body
    # a MAC of another host, a malformed one, a stranger: refused, nothing served
    assert srv.request("/install/boot/ipxe?mac=00:16:3e:00:00:01", source="127.0.10.1").status == 403
    assert srv.request("/install/boot/ipxe?mac=00:16:3e:00:00:01", source="127.0.10.1").body == (
        "forbidden: MAC 00:16:3e:00:00:01 is not compute-0-0's\n")
    assert srv.request("/install/boot/ipxe?mac=nonsense", source="127.0.10.1").status == 400
    assert srv.request(url, source="127.0.99.1").status == 403
    # behind NAT, the install token names the host
    assert srv.request(f"/install/boot/ipxe?token={token}", source="127.0.99.1").body == r.body
    # a host whose next boot is the OS is sent back to its disk
    r = srv.request("/install/boot/ipxe", source="127.0.10.2")
    assert r.status == 200 and r.body.endswith("\nexit\n") and "kernel" not in r.body
    ks.ok("set", "host", "boot", "compute-0-0", "action=os")
    assert srv.request(url, source="127.0.10.1").body == r.body
    wait_for_status(ks, {"compute-0-0": {"stage": "boot script (os)"}, "compute-0-1": {"stage": "boot script (none)"}})


def test_loaders_over_http_for_uefi_http_boot(ks, serve, tmp_path):
    ks.ok("set", "attr", "tftpboot_dir", str(tmp_path / "tftp"))
    ks.ok("set", "attr", "hosts_file", str(tmp_path / "hosts"))
    ks.ok("sync", "config")
    srv = serve(ks, "workers=1")
    got = srv.request("/install/boot/ipxe.efi", source="127.0.99.1")  # public, as over TFTP
    assert got.status == 200 and got.raw == open("/usr/lib/ipxe/ipxe.efi", "rb").read()
    for name in ("hosts", "pxelinux.cfg", "..%2Fhosts", "grub.cfg"):
        assert srv.request(f"/install/boot/{name}").status == 404, name
