"""The resident command process: a command run through it is the command run on its own.

Each command line is run by the installed ``ksserver`` executable twice — once with the
resident turned off (``KSSERVER_RESIDENT=no``), once handed to the resident — and what the
user sees (exit status, stdout, stderr) must be the same. That the resident really ran it
is seen from the caller: with ``PYTHONPROFILEIMPORTTIME`` the caller's own imports are
listed, and SQLAlchemy is not among them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ksserver.truth
from waiting import wait_until

EXE = str(Path(sys.executable).with_name("ksserver"))


def _env(ks, **more) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KSSERVER_RESIDENT"}
    return {**env, **ks.env(), "KSSERVER_RESIDENT_IDLE": "30", **more}


def _run(ks, *args, cwd=None, **env) -> tuple[int, str, str, list[str]]:
    done = subprocess.run([EXE, *args], env=_env(ks, **env), capture_output=True, cwd=cwd)
    err = done.stderr.decode(errors="replace").splitlines(keepends=True)
    imports = [line for line in err if line.startswith("import time:")]
    return done.returncode, done.stdout.decode(), "".join(l for l in err if l not in imports), imports


def _resident_pid(ks) -> int:
    wait_until(lambda: (ks.path / "cli.sock").exists(), timeout=30, what="the resident's socket")
    return int((ks.path / "cli.lock").read_text())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_command_in_the_resident_is_the_command_on_its_own(ks, tmp_path):
    ks.ok("add", "host", "compute-0-0")
    (tmp_path / "site.attrs").write_bytes(b"Kickstart_Timezone:\xff\n")
    lines = [
        ("list", "host"),
        ("list", "host", "--json"),
        ("list", "host", "attr", "compute-0-0", "attr=rank"),
        ("add", "host", "compute-0-0"),
        ("list", "hots"),
        ("list", "host", "profile", "nosuch"),
        ("set", "host", "attr", "compute-0-0", "rank", "x" * 12 + "\udcff"),
        ("init", "site.attrs"),  # relative: read from the caller's working directory
    ]
    alone = [_run(ks, *line, cwd=tmp_path, KSSERVER_RESIDENT="no")[:3] for line in lines]
    assert not (ks.path / "cli.sock").exists()
    _run(ks, "list", "host")  # the first command of a home starts the resident
    pid = _resident_pid(ks)
    try:
        for line, expected in zip(lines, alone):
            code, out, err, imports = _run(ks, *line, cwd=tmp_path, PYTHONPROFILEIMPORTTIME="1")
            assert (code, out, err) == expected, line
            assert imports and not [i for i in imports if "sqlalchemy" in i], line
        assert alone[3][0] == 1 and alone[4][0] == 2 and alone[7][0] == 1
        assert "site.attrs" in alone[7][2]
        # a write in the resident is committed, as seen by a command on its own
        assert _run(ks, "set", "host", "attr", "compute-0-0", "resident_note", "seen")[0] == 0
        shown = _run(ks, "list", "host", "attr", "compute-0-0", "attr=resident_note", KSSERVER_RESIDENT="no")
        assert shown[1] == "HOST         ATTR          VALUE SOURCE\ncompute-0-0: resident_note seen  H     \n"
        assert int((ks.path / "cli.lock").read_text()) == pid
    finally:
        os.kill(pid, signal.SIGTERM)


def test_the_resident_gives_way_when_its_code_changes(ks):
    _run(ks, "list", "host")
    pid = _resident_pid(ks)
    source = Path(ksserver.truth.__file__)
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        code, out, _err, imports = _run(ks, "list", "host", PYTHONPROFILEIMPORTTIME="1")
        assert code == 0 and "Frontend" in out
        assert [i for i in imports if "sqlalchemy" in i], "a stale resident ran the command"
        wait_until(lambda: not _alive(pid), timeout=10, what="the stale resident to stop")
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    new = _resident_pid(ks)  # the command that found it stale started a new one
    assert new != pid
    os.kill(new, signal.SIGTERM)


def test_a_caller_in_another_network_namespace_runs_its_command_itself(ks):
    """A command under ``ip netns exec`` (``unshare -n`` here) must see that namespace: its
    links, its sockets, its VMs; the resident, outside it, must not run it."""
    _run(ks, "list", "host")
    pid = _resident_pid(ks)
    try:
        env = _env(ks, PYTHONPROFILEIMPORTTIME="1")
        done = subprocess.run(["unshare", "--net", EXE, "list", "host"], env=env, capture_output=True, text=True)
        if ks.backend == "postgresql":  # the server listens on the host's loopback: not in an empty namespace
            assert done.returncode == 1 and "Network is unreachable" in done.stderr, done.stderr[-2000:]
        else:
            assert done.returncode == 0 and "Frontend" in done.stdout, done.stderr[-2000:]
        assert "sqlalchemy" in done.stderr, "the resident ran a command from another network namespace"
        assert _alive(pid)  # and it stays for the callers it can serve
        assert not [i for i in _run(ks, "list", "host", PYTHONPROFILEIMPORTTIME="1")[3] if "sqlalchemy" in i]
    finally:
        os.kill(pid, signal.SIGTERM)


def test_no_resident_for_a_home_that_does_not_exist(tmp_path):
    home = tmp_path / "never"
    env = {**os.environ, "KSSERVER_HOME": str(home)}
    env.pop("KSSERVER_DATABASE_URL", None)
    done = subprocess.run([EXE, "list", "host"], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("error - ")
    time.sleep(0.5)
    assert not home.exists()


def test_the_resident_stops_when_its_home_is_removed(ks):
    _run(ks, "list", "host")
    pid = _resident_pid(ks)
    (ks.path / "cli.sock").unlink()
    wait_until(lambda: not _alive(pid), timeout=15, what="the resident to notice its socket is gone")
