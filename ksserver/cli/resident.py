"""A resident command process, so a command does not pay for importing SQLAlchemy each time.

Rule: a command runs exactly as it would in its own process — the same ``main``, its
arguments, environment, working directory, umask and standard streams, its own database
connections, its exit status — only forked from a process that has already imported
ksserver. This is Mercurial's ``chg`` design: the first command of a home runs as usual and
starts the resident in the background; later ones hand their command line and their three
file descriptors to it over a Unix socket in the home (``cli.sock``, owner only, the peer's
uid and namespaces checked), and it forks one child per command. The resident holds no database connection
(a child opens its own), stops after ``KSSERVER_RESIDENT_IDLE`` seconds without a command
(default 600) or when its socket is gone, and refuses to serve once any file it imported
has changed (an upgrade), so a command never runs old code. ``KSSERVER_RESIDENT=no`` turns
it off; commands marked ``resident=False`` (``serve``) always run in the caller's process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

SOCKET = "cli.sock"
LOCK = "cli.lock"  # held by the living resident; holds its pid
_HEADER = struct.Struct("!I")
_OFF = ("no", "0", "off", "false")


def _home() -> str:
    return os.environ.get("KSSERVER_HOME") or os.path.join(os.path.expanduser("~"), ".ksserver")


_NAMESPACES = ("net", "mnt", "uts", "ipc", "pid", "user")


def _identity() -> dict:
    """What must match for a resident to run this caller's commands: the same installation,
    and the same namespaces (a command run under ``ip netns exec`` must make its links,
    bind its sockets and start its VMs in that namespace, not in the resident's)."""
    import ksserver

    spaces = {}
    for kind in _NAMESPACES:
        try:
            spaces[kind] = os.readlink(f"/proc/self/ns/{kind}")
        except OSError:
            spaces[kind] = None
    return {"python": sys.executable, "package": ksserver.__file__, "namespaces": spaces}


# --- the caller's side ----------------------------------------------------------------------

def run(args: list[str]) -> int | None:
    """Run ``args`` in the resident; ``None`` when it cannot (the caller runs the command
    itself, then ``start()``s one)."""
    if os.environ.get("KSSERVER_RESIDENT", "").lower() in _OFF:
        return None
    path = os.path.join(_home(), SOCKET)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        request = json.dumps({
            "argv": args, "env": dict(os.environ), "cwd": os.getcwd(), "umask": _umask(),
            "encoding": sys.stdout.encoding, "errors": sys.stdout.errors, **_identity(),
        }).encode()
        sys.stdout.flush()
        sys.stderr.flush()
        socket.send_fds(sock, [_HEADER.pack(len(request))], [0, 1, 2])
        sock.sendall(request)
        replies = sock.makefile("rb")
        first = json.loads(replies.readline() or b"{}")
    except (OSError, ValueError):
        sock.close()
        return None
    if "pid" not in first:  # stale or another installation's: not ours to use
        sock.close()
        return None
    pid = first["pid"]

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    while True:
        try:
            line = replies.readline()
            break
        except InterruptedError:  # a forwarded signal; the child decides what it means
            continue
    sock.close()
    try:
        return int(json.loads(line)["exit"])
    except (ValueError, KeyError, TypeError):
        print(f"error - the command process {pid} ended without an exit status", file=sys.stderr)
        return 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def start() -> None:
    """Start a resident for this home in the background, if the home exists (a command
    on a home that was never initialised creates nothing)."""
    if os.environ.get("KSSERVER_RESIDENT", "").lower() in _OFF or not os.path.isdir(_home()):
        return
    import subprocess

    try:
        subprocess.Popen([sys.executable, "-m", "ksserver.cli.resident", _home()],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError:
        pass  # the command has run; the next one will try again


# --- the resident -----------------------------------------------------------------------------

def serve(home: str) -> None:
    import fcntl

    lock = os.open(os.path.join(home, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another resident serves this home
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())
    _preload()
    import gc
    import time

    gc.freeze()  # what every child inherits is never garbage: see cli._call

    identity = _identity()
    stamps = _stamps()
    path = os.path.join(home, SOCKET)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(64)
    mine = os.stat(path).st_ino
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    idle = float(os.environ.get("KSSERVER_RESIDENT_IDLE", "600"))
    listener.settimeout(min(5.0, idle))
    last = time.monotonic()
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                if time.monotonic() - last > idle or not _still(path, mine):
                    return
                continue
            last = time.monotonic()
            with conn:
                if not _handle(conn, listener, stamps, identity):
                    return
    finally:
        if _still(path, mine):
            os.unlink(path)


def _still(path: str, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _handle(conn: socket.socket, listener: socket.socket, stamps: dict, identity: dict) -> bool:
    """Fork the child for one command; ``False`` when this resident must stop."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    if struct.unpack("3i", creds)[1] != os.getuid():
        return True
    conn.settimeout(10)
    try:
        head, fds, _flags, _addr = socket.recv_fds(conn, _HEADER.size, 3)
        while len(head) < _HEADER.size:
            head += conn.recv(_HEADER.size - len(head))
        (size,) = _HEADER.unpack(head)
        body = b""
        while len(body) < size:
            chunk = conn.recv(min(size - len(body), 1 << 20))
            if not chunk:
                raise OSError("short request")
            body += chunk
        request = json.loads(body)
    except (OSError, ValueError, struct.error):
        return True
    try:
        if len(fds) != 3:
            return True
        if {k: request.get(k) for k in identity} != identity:
            conn.sendall(b'{"other": true}\n')
            return True
        if _stamps(stamps) != stamps:  # ksserver or a library was upgraded under us
            conn.sendall(b'{"stale": true}\n')
            return False
        if os.fork() == 0:
            _child(conn, listener, request, fds)
        return True
    finally:
        for fd in fds:
            os.close(fd)


def _child(conn: socket.socket, listener: socket.socket, request: dict, fds: list[int]) -> None:
    code = 1
    try:
        listener.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        enc, errors = request["encoding"] or "utf-8", request["errors"] or "strict"
        sys.stdin = open(0, encoding=enc, errors=errors, closefd=False)
        sys.stdout = open(1, "w", 1 if os.isatty(1) else -1, enc, errors, closefd=False)
        sys.stderr = open(2, "w", 1, enc, "backslashreplace", closefd=False)
        sys.argv = ["ksserver", *request["argv"]]
        import random

        random.seed()
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        from ksserver.cli import main

        try:
            code = main(request["argv"])
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        import atexit

        atexit._run_exitfuncs()  # what a process of its own would do on exit (queued events)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
    finally:
        os._exit(code if isinstance(code, int) else 1)


def _preload() -> None:
    """Import what commands import, so a child starts with it done. Nothing here may
    open a connection or read the environment: children bring their own."""
    import importlib

    from ksserver.cli import GRAMMAR

    for module in sorted({cmd.run.partition(":")[0] for cmd in GRAMMAR.commands.values()}):
        importlib.import_module(f"ksserver.cli.commands.{module}")
    importlib.import_module("ksserver.services")
    importlib.import_module("ksserver.table")
    for dialect in ("sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql"):
        importlib.import_module(dialect)


def _stamps(paths=None) -> dict[str, int]:
    """Modification times of the files the resident imported (``paths``: those recorded)."""
    if paths is None:
        paths = [p for p in (getattr(m, "__file__", None) for m in list(sys.modules.values())) if p]
    stamps = {}
    for path in paths:
        try:
            stamps[path] = os.stat(path).st_mtime_ns
        except OSError:
            stamps[path] = -1
    return stamps


if __name__ == "__main__":
    serve(sys.argv[1])
