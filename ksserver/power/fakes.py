"""Fakes for fault injection: real behaviour, with a failure where you ask for it.

Why fakes over mocks: a :class:`FaultyDriver` wraps a real driver (libvirt's
``test:///default`` in the tests), so everything except the injected failure really
happens on a hypervisor, and a test can check that the hypervisor ended up as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from ksserver.errors import KsError
from ksserver.vm import vlan_devices

DRIVER_OPERATIONS = (
    "define", "start", "stop", "pause", "resume", "save", "restore",
    "state", "undefine", "exists", "xml",
)


class RestoreWithoutXml:
    """libvirt's test driver cannot change a domain's disk paths on restore (nor can Xen):
    a move on it restores the domain as it was saved, its disks where the copy put them."""

    def __init__(self, inner):
        self.inner = inner

    def restore(self, path, xml=None):
        return self.inner.restore(path)

    def __getattr__(self, a):
        return getattr(self.inner, a)


class FaultyDriver:
    """Delegates to ``inner``; raises ``KsError`` on the ``nth`` call (1-based) of
    operation ``fail_on`` — or on every call from then on with ``sticky=True``.
    ``calls`` records every operation name in order."""

    def __init__(self, inner, fail_on: str, nth: int = 1, sticky: bool = False, message: str | None = None):
        if fail_on not in DRIVER_OPERATIONS:
            raise ValueError(f"unknown driver operation {fail_on!r}")
        self.inner = inner
        self.host = inner.host
        self.fail_on = fail_on
        self.nth = nth
        self.sticky = sticky
        self.message = message or f"injected failure in {fail_on}"
        self.calls: list[str] = []
        self._count = 0

    def _call(self, op: str, *args, **kwargs):
        self.calls.append(op)
        if op == self.fail_on:
            self._count += 1
            if self._count == self.nth or (self.sticky and self._count > self.nth):
                raise KsError(f"cannot {op} on {self.host}: {self.message}")
        return getattr(self.inner, op)(*args, **kwargs)

    def __getattr__(self, op):
        if op in DRIVER_OPERATIONS:
            return lambda *a, **k: self._call(op, *a, **k)
        return getattr(self.inner, op)


class FailingTransport:
    """Delegates to ``inner``; the ``nth`` copy writes ``partial_bytes`` of the file to
    the target (a half-finished transfer) and then raises ``KsError``."""

    def __init__(self, inner, nth: int = 1, partial_bytes: int = 1024, message: str = "connection reset"):
        self.inner = inner
        self.nth = nth
        self.partial_bytes = partial_bytes
        self.message = message
        self.copies: list[tuple[str, str]] = []

    def copy(self, src_host, src_path, dst_host, dst_path, progress=None):
        self.copies.append((src_path, dst_path))
        if len(self.copies) == self.nth:
            with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
                dst.write(src.read(self.partial_bytes))
            if progress:
                progress(self.partial_bytes)
            raise KsError(f"cannot copy {src_path} to {dst_host}:{dst_path}: {self.message}")
        return self.inner.copy(src_host, src_path, dst_host, dst_path, progress)

    def size(self, host, path):
        return self.inner.size(host, path)

    def exists(self, host, path):
        return self.inner.exists(host, path)

    def remove(self, host, path):
        return self.inner.remove(host, path)

    def ensure_dir(self, host, path):
        return self.inner.ensure_dir(host, path)

    def ensure_sparse_file(self, host, path, size):
        return self.inner.ensure_sparse_file(host, path, size)


class FakeRunner:
    """A :class:`~ksserver.power.transport.Runner` that records argv lists and answers
    from a script: ``results`` maps the first word (or a full argv tuple) to
    ``(rc, stdout, stderr)``; spawned processes finish after ``polls`` polls."""

    def __init__(self, results: dict | None = None, polls: int = 0, spawn_rc: int = 0, spawn_err: str = ""):
        self.results = results or {}
        self.polls = polls
        self.spawn_rc = spawn_rc
        self.spawn_err = spawn_err
        self.ran: list[list[str]] = []
        self.spawned: list[list[str]] = []

    def run(self, argv: Iterable[str]):
        argv = list(argv)
        self.ran.append(argv)
        for key in (tuple(argv), argv[0]):
            if key in self.results:
                return self.results[key]
        return 0, "", ""

    def spawn(self, argv):
        self.spawned.append(list(argv))
        runner = self

        class _P:
            left = runner.polls

            def poll(self):
                if self.left > 0:
                    self.left -= 1
                    return None
                return runner.spawn_rc

            def wait(self):
                return runner.spawn_rc

            def stderr_text(self):
                return runner.spawn_err

        return _P()


class RecordingPlumbing:
    """For tests of the service layer: remembers which bridges exist, touches no kernel."""

    def __init__(self, host: str = "localhost", fail: str | None = None):
        self.host = host
        self.fail = fail
        self.bridges: dict[str, bool] = {}  # bridge → has an uplink
        self.calls: list[tuple] = []

    def ensure_vlan(self, parent: str, vlan: int, uplink: bool = True) -> str:
        self.calls.append(("ensure", parent, int(vlan), uplink))
        if self.fail:
            raise KsError(self.fail)
        link, bridge = vlan_devices(parent, vlan)
        self.bridges[bridge] = self.bridges.get(bridge, False) or uplink
        return bridge

    def remove_vlan(self, parent: str, vlan: int) -> None:
        self.calls.append(("remove", parent, int(vlan)))
        self.bridges.pop(vlan_devices(parent, vlan)[1], None)
