"""VLAN plumbing on another container: the commands ssh runs there, and their errors.

(On this machine the netlink form runs in a namespace: tests/integration/power/test_vlan_netlink.py.)
"""

import subprocess

import pytest

from ksserver.errors import KsError
from ksserver.power.access import plumbing_for
from ksserver.power.fakes import FakeRunner, RecordingPlumbing
from ksserver.power.plumbing import NetlinkPlumbing, SshPlumbing


def test_ssh_plumbing_runs_one_quoted_script_on_the_container():
    runner = FakeRunner()
    assert SshPlumbing("vm-container-0-1", runner).ensure_vlan("eth0", 7) == "xenbr.eth0.7"
    (argv,) = runner.ran
    assert argv[:4] == ["ssh", "-o", "BatchMode=yes", "vm-container-0-1"]
    assert argv[4].endswith("sh eth0 xenbr.eth0.7 eth0.7 7 yes")


def test_ssh_plumbing_script_is_idempotent_in_a_real_shell(tmp_path):
    """The script, run twice against an ``ip`` that logs and knows what exists, adds each
    link once."""
    state = tmp_path / "links"
    state.write_text("eth0\n")
    fake_ip = tmp_path / "ip"
    fake_ip.write_text(f"""#!/bin/sh
echo "$*" >> {tmp_path}/log
case "$1 $2" in
  "link show") grep -qx "$3" {state} ;;
  "link add") if [ "$3" = link ]; then echo "$6" >> {state}; else echo "$3" >> {state}; fi ;;
esac
""")
    fake_ip.chmod(0o755)
    runner = FakeRunner()
    plumbing = SshPlumbing("c", runner)
    plumbing.ensure_vlan("eth0", 3)
    script_argv = runner.ran[0][4]
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run(["sh", "-c", script_argv], env=env, check=True)
    adds = [line for line in (tmp_path / "log").read_text().splitlines() if line.startswith("link add")]
    assert adds == ["link add xenbr.eth0.3 type bridge", "link add link eth0 name eth0.3 type vlan id 3"]


def test_ssh_plumbing_without_uplink_and_failures_name_the_container():
    runner = FakeRunner({"ssh": (255, "", "ssh: connect to host c2 port 22: No route to host\n")})
    with pytest.raises(KsError, match=r"^cannot make vlan 2's bridge xenbr.eth0.2 on c2: ssh: connect to host c2"):
        SshPlumbing("c2", runner).ensure_vlan("eth0", 2, uplink=False)
    assert runner.ran[0][4].endswith(" no")


def test_plumbing_follows_the_containers_uri():
    assert isinstance(plumbing_for("vm-container-0-0", "qemu+ssh://vm-container-0-0/system"), SshPlumbing)
    assert isinstance(plumbing_for("vm-container-0-0", "xen://vm-container-0-0/"), SshPlumbing)
    assert isinstance(plumbing_for("bayou", "qemu:///system"), NetlinkPlumbing)
    assert isinstance(plumbing_for("bayou", "qemu+unix:///system?socket=/run/ns/libvirt-sock"), NetlinkPlumbing)
    assert isinstance(plumbing_for("bayou", "test:///default"), RecordingPlumbing)  # its VMs have no NICs
