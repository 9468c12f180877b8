"""Change notification for graph directories: one cheap question per request.

``DirWatch(dirs).poll()`` answers "did anything in these directories change?" with one
non-blocking read of a Linux inotify descriptor, instead of a stat of every graph and node
file on every request: it returns a generation number that moves on every change seen. For edits on this machine it is exact: the
kernel queues the event before the editor's write returns, so a request that starts after
the edit sees it.

What it cannot see: edits made on another machine to a directory shared over NFS, and
edits to the target of a symlinked node file. It may also be unavailable (not Linux, or
the inotify limits reached): then ``ok`` is false. Callers therefore still verify by file
stamps whenever the generation moved (it moves on every poll while the watch is not
``ok``), and at least every
``FULL_CHECK_SECONDS`` — no worse than the stamps alone on NFS, whose clients cache file
attributes for seconds anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import threading
from collections.abc import Iterable

__all__ = ["DirWatch", "FULL_CHECK_SECONDS"]

FULL_CHECK_SECONDS = 1.0

_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
# modify, attrib, close_write, moved_from, moved_to, create, delete, delete_self, move_self
_MASK = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800

_libc = None
_libc_lock = threading.Lock()
_BUF = 65536


def _lib():
    global _libc
    with _libc_lock:
        if _libc is None:
            try:
                name = ctypes.util.find_library("c") or None
                lib = ctypes.CDLL(name, use_errno=True)
                lib.inotify_init1.argtypes = [ctypes.c_int]
                lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
                # read() through PyDLL keeps the GIL: on the usual empty queue it returns at
                # once, and a request thread that let the GIL go here could wait a switch
                # interval (5 ms) for another thread to give it back
                lib.read_keeping_gil = ctypes.PyDLL(name, use_errno=True).read
                lib.read_keeping_gil.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
                lib.read_keeping_gil.restype = ctypes.c_ssize_t
                _libc = lib
            except (OSError, AttributeError):
                _libc = False
        return _libc


class DirWatch:
    """Watches some directories (those that do not exist yet are noticed through their
    parent, when that is watched). One descriptor per process: a forked child makes its own,
    since an inherited one would share — and steal — the parent's events."""

    def __init__(self, dirs: Iterable[str]):
        self.dirs = tuple(dict.fromkeys(str(d) for d in dirs))
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self.ok = False
        self._closed = False
        self._buf = ctypes.create_string_buffer(_BUF)
        #: moves (under the lock, before ``poll`` returns) whenever a change may have happened
        self.generation = 0

    def _open(self) -> None:
        if self._fd is not None and self._pid != os.getpid():
            self._fd = None  # the parent's descriptor: leave it to the parent
        if self._fd is None:
            lib = _lib()
            fd = lib.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC) if lib else -1
            self._pid = os.getpid()
            self._fd = fd if fd >= 0 else None
        self._arm()

    def _arm(self) -> None:
        """Watch every directory that exists now; ``ok`` only if all of them are watched or
        absent with a watched parent (so their creation is an event)."""
        lib = _lib()
        if self._fd is None or not lib or not self.dirs:
            self.ok = False
            return
        watched = set()
        ok = True
        for d in self.dirs:
            if lib.inotify_add_watch(self._fd, os.fsencode(d), _MASK) >= 0:
                watched.add(d)
            elif os.path.isdir(d) or os.path.dirname(d) not in watched:
                ok = False
        self.ok = ok

    def poll(self) -> int:
        """The generation after taking in every change queued so far."""
        with self._lock:
            if self._closed:
                self.generation += 1  # closed: nothing is known, everything is re-checked
            elif self._fd is None or self._pid != os.getpid():
                self._open()
                self.generation += 1
            elif not self.ok:
                self._arm()
                self.generation += 1
            elif self._drain():
                self._arm()  # a directory created or replaced: watch it from now on
                self.generation += 1
            return self.generation

    def _drain(self) -> bool:
        read = _lib().read_keeping_gil
        buf = self._buf
        seen = False
        while True:
            n = read(self._fd, buf, _BUF)
            if n > 0:
                seen = True
                continue
            if n < 0:
                err = ctypes.get_errno()
                if err == errno.EINTR:
                    continue
                if err not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    self.ok = False
                    return True
            return seen

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
            self.ok = False
            self._closed = True
