"""The insert-ethers screen on a real terminal: tmux runs it, send-keys presses F8 and F9,
capture-pane reads what the administrator sees."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from waiting import wait_until

EXE = str(Path(sys.executable).with_name("ksserver"))
MAC = "52:54:00:cc:00:01"


class Tmux:
    def __init__(self, ks, name: str, *args: str):
        self.name = name
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {**ks.env(), "TERM": "xterm"}.items())
        # the pane stays after the command ends, so its last words can be read
        command = f"env {env} {EXE} insert-ethers {' '.join(args)}; echo EXIT=$?; sleep 600"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def shows(self, text: str, timeout: float = 30) -> str:
        try:
            return wait_until(lambda: text in self.screen() and self.screen(), timeout=timeout,
                              what=f"the screen to show {text!r}")
        except AssertionError as err:
            raise AssertionError(f"{err}; it shows:\n{self.screen()}") from None

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux(ks, tmp_path):
    made = []

    def start(*args):
        made.append(Tmux(ks, f"ks{os.getpid()}x{len(made)}", *args))
        return made[-1]

    ks.ok("set", "attr", "Discovery_Socket", str(tmp_path / "run" / "discovery.sock"))
    yield start
    for t in made:
        t.close()


def _announce(tmp_path, mac: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.sendto(json.dumps({"mac": mac, "ip": "", "iface": "eth0"}).encode(), str(tmp_path / "run" / "discovery.sock"))


def _kickstart(ks, srv, host: str) -> None:
    token = json.loads(ks.ok("list", "host", "boot", host, "showtoken=yes", "--json"))[0]["token"]
    assert srv.request(f"/install/sbin/kickstart.cgi?token={token}", source="127.0.99.1").status == 200


def test_the_screen_lists_marks_and_waits_for_kickstarts(ks, tmux, tmp_path, serve):
    srv = serve(ks, "workers=1")
    t = tmux()
    first = t.shows("Press <F8> to quit, press <F9> to force quit")
    assert "Insert Ethernet Addresses -- version " in first
    assert "Opened kickstart access to 10.1.0.0/255.255.0.0 network" in first and "Appliance: Compute" in first
    _announce(tmp_path, MAC)
    shown = t.shows(f"{MAC}  compute-0-0  ( )")
    assert f"Discovered a new appliance with MAC ({MAC})" in shown
    _kickstart(ks, srv, "compute-0-0")
    t.shows(f"{MAC}  compute-0-0  (*)")
    _announce(tmp_path, "52:54:00:cc:00:02")
    shown = t.shows("52:54:00:cc:00:02  compute-0-1  ( )")
    lines = shown.splitlines()  # newest first
    assert [i for i, l in enumerate(lines) if "compute-0-1" in l] < [i for i, l in enumerate(lines) if "compute-0-0" in l]
    t.keys("F8")  # compute-0-1 has no kickstart yet: it says so and waits
    assert "compute-0-1" in t.shows("Not kickstarted, please wait...")
    assert "EXIT=" not in t.screen()
    _kickstart(ks, srv, "compute-0-1")  # and once it has, the session ends
    assert "insert-ethers: 2 machines found: compute-0-0, compute-0-1" in t.shows("EXIT=0")


def test_f9_quits_at_once(ks, tmux, tmp_path):
    t = tmux()
    t.shows("Press <F8> to quit")
    _announce(tmp_path, MAC)
    t.shows(f"{MAC}  compute-0-0  ( )")
    t.keys("F9")
    assert "insert-ethers: 1 machine found: compute-0-0" in t.shows("EXIT=0")
