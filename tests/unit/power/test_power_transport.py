"""Copy transports and the progress renderer (no hypervisor, no network)."""

import io
import os

import pytest

from ksserver.errors import KsError
from ksserver.power.fakes import FailingTransport, FakeRunner
from ksserver.power.progress import (
    Progress,
    ProgressMeter,
    ProgressRenderer,
    human_bytes,
    human_duration,
)
from ksserver.power.transport import LocalCopyTransport, SshTransport

# --- local ----------------------------------------------------------------------------


def test_local_copy_reports_progress_and_keeps_holes(tmp_path):
    src = tmp_path / "disk.hda"
    with open(src, "wb") as f:
        f.write(b"boot")
        f.seek(3 << 20)
        f.write(b"end")
    dst = tmp_path / "copy.hda"
    seen = []
    t = LocalCopyTransport(chunk_size=1 << 20)
    t.copy("a", str(src), "b", str(dst), seen.append)
    assert dst.read_bytes() == src.read_bytes()
    assert seen == [1 << 20, 2 << 20, 3 << 20, (3 << 20) + 3]
    assert os.stat(dst).st_blocks * 512 < (3 << 20)  # the zero chunks stayed holes
    assert t.size("b", str(dst)) == (3 << 20) + 3


def test_local_copy_empty_file_and_errors(tmp_path):
    src = tmp_path / "empty"
    src.write_bytes(b"")
    seen = []
    t = LocalCopyTransport()
    t.copy("", str(src), "", str(tmp_path / "e2"), seen.append)
    assert seen == [0] and (tmp_path / "e2").read_bytes() == b""
    with pytest.raises(KsError, match="cannot copy .*missing"):
        t.copy("", str(tmp_path / "missing"), "", str(tmp_path / "x"))
    t.remove("", str(tmp_path / "missing"))  # missing is fine
    t.ensure_dir("", str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()
    with pytest.raises(KsError, match="cannot read the size"):
        t.size("", str(tmp_path / "missing"))


def test_failing_transport_leaves_a_partial_file(tmp_path):
    src = tmp_path / "s"
    src.write_bytes(b"x" * 5000)
    t = FailingTransport(LocalCopyTransport(), nth=1, partial_bytes=100)
    with pytest.raises(KsError, match="connection reset"):
        t.copy("a", str(src), "b", str(tmp_path / "d"))
    assert (tmp_path / "d").stat().st_size == 100


# --- ssh (command lines only) ---------------------------------------------------------


def test_ssh_copy_runs_on_the_source_container():
    r = FakeRunner(results={"ssh": (0, "1048576\n", "")}, polls=2)
    sleeps = []
    t = SshTransport(r, poll_interval=5, sleep=sleeps.append)
    seen = []
    t.copy("vm-container-0-0", "/state/partition1/xen/disks/a b.hda", "vm-container-1-0", "/state/partition1/xen/disks/a b.hda", seen.append)
    assert r.spawned == [
        [
            "ssh", "-o", "BatchMode=yes", "vm-container-0-0",
            "scp -q -o BatchMode=yes '/state/partition1/xen/disks/a b.hda'"
            " 'vm-container-1-0:/state/partition1/xen/disks/a b.hda'",
        ]
    ]
    size_cmd = [
        "ssh", "-o", "BatchMode=yes", "vm-container-1-0",
        "stat -c %s -- '/state/partition1/xen/disks/a b.hda'",
    ]
    assert r.ran == [size_cmd, size_cmd, size_cmd]  # two polls + the final size
    assert seen == [1048576, 1048576, 1048576]
    assert sleeps == [5, 5]


def test_ssh_copy_from_or_to_this_machine():
    t = SshTransport(FakeRunner())
    assert t.copy_command("localhost", "/a", "vm-container-0-0", "/b") == ["scp", "-q", "-o", "BatchMode=yes", "/a", "vm-container-0-0:/b"]
    assert t.copy_command("vm-container-0-0", "/a", "", "/b") == ["scp", "-q", "-o", "BatchMode=yes", "vm-container-0-0:/a", "/b"]
    assert t.copy_command("", "/a", "localhost", "/b") == ["scp", "-q", "-o", "BatchMode=yes", "/a", "/b"]


def test_ssh_remove_size_mkdir_commands():
    r = FakeRunner(results={("ssh", "-o", "BatchMode=yes", "h", "stat -c %s -- /x"): (0, "42\n", "")})
    t = SshTransport(r)
    assert t.size("h", "/x") == 42
    t.remove("h", "/x;rm -rf /")
    t.ensure_dir("h", "/state/partition1/xen/disks")
    assert r.ran[1:] == [
        ["ssh", "-o", "BatchMode=yes", "h", "rm -f -- '/x;rm -rf /'"],
        ["ssh", "-o", "BatchMode=yes", "h", "mkdir -p -- /state/partition1/xen/disks"],
    ]
    assert t.remove_command("localhost", "/y") == ["rm", "-f", "--", "/y"]


def test_ssh_errors_are_one_line():
    r = FakeRunner(results={"ssh": (255, "", "ssh: connect to host h port 22:\nConnection refused\n")})
    t = SshTransport(r)
    with pytest.raises(KsError) as e:
        t.remove("h", "/x")
    assert str(e.value) == "cannot remove h:/x: ssh: connect to host h port 22: Connection refused"
    with pytest.raises(KsError, match="cannot read the size of h:/x"):
        SshTransport(FakeRunner(results={"ssh": (0, "huge", "")})).size("h", "/x")
    failing = SshTransport(FakeRunner(spawn_rc=1, spawn_err="scp: /x: No space left on device\n"))
    with pytest.raises(KsError, match=r"cannot copy a:/x to b:/x: scp: /x: No space left on device$"):
        failing.copy("a", "/x", "b", "/x")


# --- progress -------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_progress_meter_aggregates_files():
    clock = Clock()
    got = []
    m = ProgressMeter(300, got.append, clock)
    first = m.file("a.saved")
    clock.t += 1
    first(100)
    m.file_done(100)
    second = m.file("a.hda")
    clock.t += 1
    second(100)
    assert got[0] == Progress("a.saved", 100, 300, 100.0, 2.0)
    assert got[1] == Progress("a.hda", 200, 300, 100.0, 1.0)
    assert got[1].fraction == pytest.approx(2 / 3)


def test_renderer_on_a_terminal_overwrites_one_line():
    out = io.StringIO()
    clock = Clock()
    r = ProgressRenderer(out, min_interval=0.5, clock=clock, tty=True)
    r(Progress("x.hda", 512 << 20, 36 << 30, 50 << 20, 726.0))
    clock.t += 0.1
    r(Progress("x.hda", 600 << 20, 36 << 30, 50 << 20, 700.0))  # throttled
    clock.t += 0.1
    r(Progress("x.hda", 36 << 30, 36 << 30, 50 << 20, 0.0))  # final: always shown
    r.close()
    assert out.getvalue() == (
        "\rx.hda  512.0 MiB / 36.0 GiB    1%  50.0 MiB/s  ETA 12:06"
        "\rx.hda  36.0 GiB / 36.0 GiB  100%  50.0 MiB/s  ETA 00:00 \n"
    )


def test_renderer_in_a_log_writes_lines():
    out = io.StringIO()
    r = ProgressRenderer(out, min_interval=0, clock=Clock(), tty=False)
    r(Progress("s", 0, 0, 0.0, None))
    r.close()
    assert out.getvalue() == "s  0 B / 0 B  100%  0 B/s  ETA --:--\n"


def test_human_units():
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 << 40) == "3.0 TiB"
    assert human_duration(3725) == "1:02:05"
    assert human_duration(59.6) == "01:00"


def test_ensure_disks_creates_missing_sparse_images(tmp_path):
    from ksserver.power import ensure_disks

    existing = tmp_path / "d" / "old.hda"
    existing.parent.mkdir()
    existing.write_bytes(b"keep")
    new = tmp_path / "d" / "sub" / "new.hda"
    made = ensure_disks(LocalCopyTransport(), "vm-container-0-0", [(str(existing), 36), (str(new), 36)])
    assert made == [str(new)]
    assert existing.read_bytes() == b"keep"
    assert new.stat().st_size == 36 * 10**9 and new.stat().st_blocks == 0


def test_ssh_sparse_file_command():
    r = FakeRunner(results={"ssh": (0, "created\n", "")})
    t = SshTransport(r)
    assert t.ensure_sparse_file("vm-container-0-0", "/state/partition1/xen/disks/a.hda", 36 * 10**9) is True
    assert r.ran == [[
        "ssh", "-o", "BatchMode=yes", "vm-container-0-0",
        "sh -c 'test -e \"$1\" && exit 0; mkdir -p -- \"$(dirname -- \"$1\")\" && truncate -s \"$2\" -- \"$1\" && echo created'"
        " sh /state/partition1/xen/disks/a.hda 36000000000",
    ]]
    assert SshTransport(FakeRunner()).ensure_sparse_file("h", "/x", 1) is False
