"""Moving VM files (save image, disk images) between containers.

``move host vm`` copies tens of gigabytes; the copy step is an interface so tests use a
local copy (or a failing fake) while production uses ssh/scp between containers, the
way Rocks clusters are already wired (root ssh keys from the frontend to every node).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from ksserver.errors import KsError

#: progress callback of one file copy: bytes of that file copied so far
ByteProgress = Callable[[int], None]

LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


@runtime_checkable
class Transport(Protocol):
    def copy(
        self,
        src_host: str,
        src_path: str,
        dst_host: str,
        dst_path: str,
        progress: ByteProgress | None = None,
    ) -> None:
        """Copy one file; call ``progress(bytes_so_far)`` as it goes."""

    def size(self, host: str, path: str) -> int:
        """Size of a file in bytes."""

    def remove(self, host: str, path: str) -> None:
        """Remove a file; a missing file is not an error."""

    def exists(self, host: str, path: str) -> bool:
        """Whether a file (or anything else) is at ``path``."""

    def ensure_dir(self, host: str, path: str) -> None:
        """Create a directory (and parents) if missing."""

    def ensure_sparse_file(self, host: str, path: str, size: int) -> bool:
        """Create a sparse file of ``size`` bytes (and its directory) unless ``path``
        exists; True when it was created."""


class LocalCopyTransport:
    """Both ends on this machine: a chunked copy that reports progress and keeps
    all-zero chunks as holes, so sparse disk images stay sparse.  Hosts are ignored."""

    def __init__(self, chunk_size: int = 4 << 20):
        self.chunk_size = chunk_size

    def copy(self, src_host, src_path, dst_host, dst_path, progress=None) -> None:
        done = 0
        try:
            with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
                while True:
                    chunk = src.read(self.chunk_size)
                    if not chunk:
                        break
                    if chunk.count(0) == len(chunk):
                        dst.seek(len(chunk), os.SEEK_CUR)
                    else:
                        dst.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done)
                dst.truncate(done)
        except OSError as e:
            raise KsError(f"cannot copy {src_path} to {dst_path}: {e.strerror or e}") from None
        if progress and done == 0:
            progress(0)

    def size(self, host, path) -> int:
        try:
            return os.path.getsize(path)
        except OSError as e:
            raise KsError(f"cannot read the size of {path}: {e.strerror or e}") from None

    def exists(self, host, path) -> bool:
        return os.path.lexists(path)

    def remove(self, host, path) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise KsError(f"cannot remove {path}: {e.strerror or e}") from None

    def ensure_dir(self, host, path) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            raise KsError(f"cannot create directory {path}: {e.strerror or e}") from None

    def ensure_sparse_file(self, host, path, size) -> bool:
        if os.path.exists(path):
            return False
        self.ensure_dir(host, os.path.dirname(path) or ".")
        try:
            with open(path, "xb") as f:
                f.truncate(size)
        except FileExistsError:
            return False
        except OSError as e:
            raise KsError(f"cannot create disk image {path}: {e.strerror or e}") from None
        return True


# --- ssh ------------------------------------------------------------------------------


class Process(Protocol):
    def poll(self) -> int | None: ...
    def wait(self) -> int: ...
    def stderr_text(self) -> str: ...


class Runner(Protocol):
    """Runs commands; the fake in the tests records argv lists instead."""

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]: ...
    def spawn(self, argv: Sequence[str]) -> Process: ...


class _Popen:
    def __init__(self, argv):
        self._p = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self._err = ""

    def poll(self):
        return self._p.poll()

    def wait(self):
        _out, err = self._p.communicate()
        self._err = err or ""
        return self._p.returncode

    def stderr_text(self):
        return self._err


class SubprocessRunner:
    def run(self, argv):
        try:
            p = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True)
        except OSError as e:
            return 127, "", str(e)
        return p.returncode, p.stdout, p.stderr

    def spawn(self, argv):
        return _Popen(argv)


class SshTransport:
    """Copy between containers with ``scp``, run from the source container so the data
    goes container → container, not through the frontend:

        ssh <src> scp -q -o BatchMode=yes <src_path> <dst>:<dst_path>

    (from this machine when ``src_host`` is local).  Progress is the destination file
    size, polled with ``ssh <dst> stat -c %s`` every ``poll_interval`` seconds.
    ``BatchMode`` makes a missing key fail at once instead of prompting.
    """

    SSH = ("ssh", "-o", "BatchMode=yes")
    SCP = ("scp", "-q", "-o", "BatchMode=yes")

    def __init__(
        self,
        runner: Runner | None = None,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.runner = runner or SubprocessRunner()
        self.poll_interval = poll_interval
        self.sleep = sleep

    # command lines (public so they can be shown and tested)
    @staticmethod
    def is_local(host: str | None) -> bool:
        return (host or "") in LOCAL_HOSTS

    def remote(self, host: str, *argv: str) -> list[str]:
        """``argv`` run on ``host`` (each word quoted for the remote shell), or here."""
        if self.is_local(host):
            return list(argv)
        return [*self.SSH, host, " ".join(shlex.quote(a) for a in argv)]

    def copy_command(self, src_host, src_path, dst_host, dst_path) -> list[str]:
        """Run where the data is: on the source container (straight to the target), or
        here when either end is this machine."""
        src_local, dst_local = self.is_local(src_host), self.is_local(dst_host)
        if src_local:
            return [*self.SCP, src_path, dst_path if dst_local else f"{dst_host}:{dst_path}"]
        if dst_local:
            return [*self.SCP, f"{src_host}:{src_path}", dst_path]
        return self.remote(src_host, *self.SCP, src_path, f"{dst_host}:{dst_path}")

    def size_command(self, host, path) -> list[str]:
        return self.remote(host, "stat", "-c", "%s", "--", path)

    def remove_command(self, host, path) -> list[str]:
        return self.remote(host, "rm", "-f", "--", path)

    def mkdir_command(self, host, path) -> list[str]:
        return self.remote(host, "mkdir", "-p", "--", path)

    def sparse_file_command(self, host, path, size: int) -> list[str]:
        """Prints ``created`` when it made the file, nothing when it existed."""
        script = 'test -e "$1" && exit 0; mkdir -p -- "$(dirname -- "$1")" && truncate -s "$2" -- "$1" && echo created'
        return self.remote(host, "sh", "-c", script, "sh", path, str(int(size)))

    # the interface
    def _check(self, argv, what: str) -> str:
        rc, out, err = self.runner.run(argv)
        if rc != 0:
            detail = " ".join((err or out or f"exit status {rc}").split())
            raise KsError(f"{what}: {detail}")
        return out

    def size(self, host, path) -> int:
        out = self._check(self.size_command(host, path), f"cannot read the size of {host}:{path}")
        try:
            return int(out.strip())
        except ValueError:
            raise KsError(f"cannot read the size of {host}:{path}: {out.strip()!r}") from None

    def remove(self, host, path) -> None:
        self._check(self.remove_command(host, path), f"cannot remove {host}:{path}")

    def exists_command(self, host, path) -> list[str]:
        return self.remote(host, "sh", "-c", 'test -e "$1" || test -L "$1" && echo yes || echo no', "sh", path)

    def exists(self, host, path) -> bool:
        out = self._check(self.exists_command(host, path), f"cannot look for {host}:{path}")
        return out.strip() == "yes"

    def ensure_dir(self, host, path) -> None:
        self._check(self.mkdir_command(host, path), f"cannot create directory {host}:{path}")

    def ensure_sparse_file(self, host, path, size) -> bool:
        out = self._check(self.sparse_file_command(host, path, size), f"cannot create disk image {host}:{path}")
        return out.strip() == "created"

    def copy(self, src_host, src_path, dst_host, dst_path, progress=None) -> None:
        what = f"cannot copy {src_host}:{src_path} to {dst_host}:{dst_path}"
        proc = self.runner.spawn(self.copy_command(src_host, src_path, dst_host, dst_path))
        while proc.poll() is None:
            if progress:
                rc, out, _err = self.runner.run(self.size_command(dst_host, dst_path))
                if rc == 0 and out.strip().isdigit():
                    progress(int(out.strip()))
            self.sleep(self.poll_interval)
        rc = proc.wait()
        if rc != 0:
            detail = " ".join((proc.stderr_text() or f"exit status {rc}").split())
            raise KsError(f"{what}: {detail}")
        if progress:
            progress(self.size(dst_host, dst_path))
