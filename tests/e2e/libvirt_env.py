"""libvirt/QEMU environment for the end-to-end test (software emulation, TCG).

``ensure_libvirt()`` makes sure a libvirt daemon that can run QEMU guests is
reachable and returns a :class:`LibvirtEnv` whose ``uri`` works with
``libvirt.open()`` from this process (and from any process of the same user,
e.g. ``ksserver serve`` started by the test).

How, depending on who runs it:

* ``KSSERVER_E2E_LIBVIRT_URI`` set: that URI is used as it is (nothing is
  started); it must work.
* not root: ``qemu:///session``; libvirt spawns the per-user daemon itself.
* root (CI): QEMU is not run as root.  A dedicated system user
  (``ksserver-e2e``, created with ``useradd`` if missing) runs its own session
  ``libvirtd`` (started with ``runuser``, its runtime directory under
  ``/run/ksserver-e2e-libvirt``), and root talks to it through its socket:
  ``qemu+unix:///session?socket=/run/ksserver-e2e-libvirt/libvirt/libvirt-sock``.
  Nothing of the host's own libvirt (``qemu:///system``, the ``libvirt-qemu``
  user, ``/etc/libvirt``) is touched.  The guest runs as that user, so the
  files it reads (kernel, initrd) and writes (console log) go in a run
  directory from :meth:`LibvirtEnv.make_run_dir`.

Everything is idempotent: a daemon already answering is reused;
:meth:`LibvirtEnv.stop` stops only a daemon this process started.  Missing
pieces raise :class:`LibvirtEnvError` naming the Debian packages to install;
nothing is skipped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import libvirt

E2E_USER = os.environ.get("KSSERVER_E2E_USER", "ksserver-e2e")
E2E_HOME = "/var/lib/ksserver-e2e"
RUNTIME_DIR = os.environ.get("KSSERVER_E2E_LIBVIRT_RUNTIME", "/run/ksserver-e2e-libvirt")

#: Debian packages (install with --no-install-recommends) and what they bring.
DEBIAN_PACKAGES = {
    "qemu-system-x86": "/usr/bin/qemu-system-x86_64",
    "libvirt-daemon": "/usr/sbin/libvirtd",
    "libvirt-daemon-driver-qemu": "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
}

_DAEMON_START_TIMEOUT = 30.0

#: Every domain the e2e tests create is named with this prefix, so that
#: ``cleanup_domains(uri, DOMAIN_PREFIX)`` removes all of them.
DOMAIN_PREFIX = "ksserver-e2e-"


class LibvirtEnvError(RuntimeError):
    """The libvirt/QEMU side cannot be made to work; the message says why."""


# libvirt prints every error to stderr by default; callers get exceptions.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


@dataclass
class LibvirtEnv:
    uri: str
    #: uid/gid the guest's QEMU runs as (owner of run directories).
    uid: int
    gid: int
    runtime_dir: str | None = None
    started_pids: list[int] = field(default_factory=list)

    def open(self) -> libvirt.virConnect:
        return libvirt.open(self.uri)

    def make_run_dir(self, prefix: str = "ksserver-e2e-") -> str:
        """A fresh directory the guest (QEMU) can read and write."""
        path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(path, 0o755)
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)
        return path

    def stage_file(self, src: str, run_dir: str) -> str:
        """Copy *src* into *run_dir*, readable by the guest; return the copy."""
        dest = os.path.join(run_dir, os.path.basename(src))
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o644)
        return dest

    def stop(self) -> None:
        """Stop the daemons this process started (by pid), if any.

        That is the libvirtd started by :func:`ensure_libvirt`, and the
        virtlogd it spawned (which would otherwise linger up to 2 minutes).
        """
        if self.started_pids and self.runtime_dir:
            logd = _read_pid(os.path.join(self.runtime_dir, "libvirt", "virtlogd.pid"))
            if logd and logd not in self.started_pids and _proc_name(logd) == "virtlogd":
                self.started_pids.append(logd)
        for pid in self.started_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for pid in self.started_pids:
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.started_pids.clear()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _proc_name(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def _check_packages() -> None:
    missing = [pkg for pkg, path in DEBIAN_PACKAGES.items() if not os.path.exists(path)]
    if missing:
        raise LibvirtEnvError(
            "the e2e test needs QEMU and libvirt; install the Debian packages: "
            f"apt-get install --no-install-recommends {' '.join(missing)} "
            f"(missing: {', '.join(DEBIAN_PACKAGES[p] for p in missing)})"
        )


def _check_works(uri: str) -> None:
    """Raise LibvirtEnvError unless *uri* opens and can run x86_64 TCG guests."""
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise LibvirtEnvError(f"cannot open libvirt URI {uri}: {exc}") from exc
    try:
        caps = conn.getCapabilities()
    finally:
        conn.close()
    if "<domain type='qemu'" not in caps or "x86_64" not in caps:
        raise LibvirtEnvError(
            f"libvirt at {uri} offers no x86_64 'qemu' (TCG) guests; is "
            "qemu-system-x86 installed? capabilities:\n" + caps[:2000]
        )


def _can_open(uri: str) -> bool:
    try:
        libvirt.open(uri).close()
    except libvirt.libvirtError:
        return False
    return True


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(E2E_USER)
    except KeyError:
        pass
    cmd = [
        "useradd", "--system", "--user-group", "--create-home",
        "--home-dir", E2E_HOME, "--shell", "/usr/sbin/nologin",
        "--comment", "ksserver end-to-end test VMs", E2E_USER,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        with contextlib.suppress(KeyError):  # created concurrently
            return pwd.getpwnam(E2E_USER)
        raise LibvirtEnvError(f"cannot create user {E2E_USER}: {proc.stderr.strip()}")
    return pwd.getpwnam(E2E_USER)


def _ensure_dir(path: str, uid: int, gid: int, mode: int) -> None:
    os.makedirs(path, exist_ok=True)
    st = os.stat(path)
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
    os.chmod(path, mode)


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _root_session(env_uri_socket: str, user: pwd.struct_passwd) -> LibvirtEnv:
    env = LibvirtEnv(
        uri=f"qemu+unix:///session?socket={env_uri_socket}",
        uid=user.pw_uid,
        gid=user.pw_gid,
        runtime_dir=RUNTIME_DIR,
    )
    if _can_open(env.uri):
        return env  # a daemon from an earlier call or run is answering

    home = user.pw_dir if os.path.isdir(user.pw_dir) else E2E_HOME
    _ensure_dir(home, user.pw_uid, user.pw_gid, 0o755)
    _ensure_dir(RUNTIME_DIR, user.pw_uid, user.pw_gid, 0o700)
    # A stale daemon (socket gone, process alive) would block the new one.
    pidfile = os.path.join(RUNTIME_DIR, "libvirt", "libvirtd.pid")
    stale = _read_pid(pidfile)
    if stale and _pid_alive(stale) and _proc_name(stale) == "libvirtd":
        os.kill(stale, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid_alive(stale) and time.monotonic() < deadline:
            time.sleep(0.1)

    daemon_env = {
        "HOME": home,
        "USER": user.pw_name,
        "LOGNAME": user.pw_name,
        "XDG_RUNTIME_DIR": RUNTIME_DIR,
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    }
    cmd = ["runuser", "-u", user.pw_name, "--", "env", "-i"]
    cmd += [f"{k}={v}" for k, v in daemon_env.items()]
    cmd += ["libvirtd", "--daemon"]
    proc = subprocess.run(cmd, cwd="/", capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LibvirtEnvError(
            f"starting libvirtd as {user.pw_name} failed ({proc.returncode}): "
            f"{proc.stderr.strip()}"
        )
    deadline = time.monotonic() + _DAEMON_START_TIMEOUT
    while not _can_open(env.uri):
        if time.monotonic() > deadline:
            raise LibvirtEnvError(
                f"libvirtd (as {user.pw_name}) did not answer on {env_uri_socket} "
                f"within {_DAEMON_START_TIMEOUT:.0f} s"
            )
        time.sleep(0.2)
    pid = _read_pid(pidfile)
    if pid:
        env.started_pids.append(pid)
    return env


def ensure_libvirt() -> LibvirtEnv:
    """Make a QEMU-capable libvirt reachable; return how to reach it."""
    override = os.environ.get("KSSERVER_E2E_LIBVIRT_URI")
    if override:
        _check_works(override)
        return LibvirtEnv(uri=override, uid=os.getuid(), gid=os.getgid())
    _check_packages()
    if os.geteuid() != 0:
        env = LibvirtEnv(uri="qemu:///session", uid=os.getuid(), gid=os.getgid())
    else:
        for tool in ("runuser", "useradd"):
            if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
                raise LibvirtEnvError(f"{tool} not found (Debian packages util-linux, passwd)")
        user = _ensure_user()
        env = _root_session(os.path.join(RUNTIME_DIR, "libvirt", "libvirt-sock"), user)
    _check_works(env.uri)
    return env


# --------------------------------------------------------------------------
# clean-up helpers


def cleanup_domains(uri_or_conn: str | libvirt.virConnect, prefix: str) -> list[str]:
    """Destroy and undefine every domain whose name starts with *prefix*.

    Returns the names handled.  Errors on single domains are ignored (the
    domain may vanish meanwhile, e.g. a transient one that was destroyed).
    """
    if not prefix:
        raise ValueError("refusing to clean up domains with an empty prefix")
    own = isinstance(uri_or_conn, str)
    conn = libvirt.open(uri_or_conn) if own else uri_or_conn
    handled = []
    try:
        for dom in conn.listAllDomains():
            name = dom.name()
            if not name.startswith(prefix):
                continue
            handled.append(name)
            with contextlib.suppress(libvirt.libvirtError):
                if dom.isActive():
                    dom.destroy()
            with contextlib.suppress(libvirt.libvirtError):
                if dom.isPersistent():
                    dom.undefineFlags(
                        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                        | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                    )
    finally:
        if own:
            conn.close()
    return handled


def remove_paths(*paths: str | None) -> None:
    """Remove files and directory trees; missing ones are fine."""
    for path in paths:
        if not path:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
