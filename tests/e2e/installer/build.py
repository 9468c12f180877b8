"""Reproducible build of the tiny "installer" booted by the end-to-end test.

The image is the Debian cloud kernel plus a generated initramfs (cpio newc,
gzip) holding a static busybox, the virtio-net modules and ``init.sh`` as
``/init``.  Packages come from the machine's Debian archive with
``apt-get download`` and are unpacked with ``dpkg-deb -x``; nothing is
installed on the host.

Builds are cached in ``$KSSERVER_E2E_CACHE`` (default
``~/.cache/ksserver-e2e``), keyed by the exact package versions and the hash
of this recipe (this file, ``init.sh``, ``udhcpc.script``), so any change
rebuilds.  The initramfs is byte-for-byte reproducible (fixed mtimes, owners
and order; gzip without timestamp).

Usage::

    python tests/e2e/installer/build.py      # prints the kernel and initrd paths

or ``build_installer(cache_dir=None) -> (kernel_path, initrd_path)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

#: Bump to force a rebuild when the recipe changes in a way the hashes miss.
RECIPE_VERSION = 1

KERNEL_META_PACKAGE = "linux-image-cloud-amd64"
BUSYBOX_PACKAGE = "busybox-static"

#: insmod order of the virtio-net stack; any of them may be built in.
VIRTIO_MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
)

RECIPE_FILES = ("build.py", "init.sh", "udhcpc.script")

#: Timestamp written into every initramfs entry (reproducibility).
EPOCH = 0


class InstallerBuildError(RuntimeError):
    """The installer image could not be built; the message says why."""


def default_cache_dir() -> str:
    return os.environ.get("KSSERVER_E2E_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "ksserver-e2e"
    )


def _log(msg: str) -> None:
    print(f"[installer-build] {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], cwd: str | None = None) -> str:
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
    except FileNotFoundError as exc:
        raise InstallerBuildError(
            f"{cmd[0]} not found: the installer build needs apt and dpkg (Debian)"
        ) from exc
    if proc.returncode != 0:
        raise InstallerBuildError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}"
        )
    return proc.stdout


# --------------------------------------------------------------------------
# package resolution and download


def _candidate(package: str) -> dict[str, str]:
    """Version and Depends of the apt candidate of *package* (empty if none)."""
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package],
        capture_output=True,
        text=True,
        check=False,
    )
    fields: dict[str, str] = {}
    if proc.returncode != 0:
        return fields
    for line in proc.stdout.splitlines():
        if not line.strip():
            break  # first stanza only
        m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields


def resolve_packages() -> dict[str, str]:
    """``{package: version}`` for the kernel image and busybox to use.

    Runs ``apt-get update`` once (as root) when the package lists do not know
    the packages yet.
    """
    meta = _candidate(KERNEL_META_PACKAGE)
    if not meta.get("Version"):
        if os.geteuid() != 0:
            raise InstallerBuildError(
                f"apt does not know {KERNEL_META_PACKAGE}; run 'apt-get update' as root"
            )
        _log("package lists lack the kernel package; running apt-get update")
        _run(["apt-get", "update", "-q"])
        meta = _candidate(KERNEL_META_PACKAGE)
        if not meta.get("Version"):
            raise InstallerBuildError(
                f"no candidate for {KERNEL_META_PACKAGE} even after apt-get update"
            )
    m = re.search(r"(linux-image-[0-9][^\s,(]*)", meta.get("Depends", ""))
    if not m:
        raise InstallerBuildError(
            f"cannot find the versioned kernel in Depends of {KERNEL_META_PACKAGE}: "
            f"{meta.get('Depends')!r}"
        )
    kernel_pkg = m.group(1)
    kernel = _candidate(kernel_pkg)
    busybox = _candidate(BUSYBOX_PACKAGE)
    for name, fields in ((kernel_pkg, kernel), (BUSYBOX_PACKAGE, busybox)):
        if not fields.get("Version"):
            raise InstallerBuildError(f"apt has no candidate for {name}")
    return {kernel_pkg: kernel["Version"], BUSYBOX_PACKAGE: busybox["Version"]}


def _download(package: str, version: str, debs_dir: str) -> str:
    """Path of ``package=version`` as a .deb in *debs_dir*, downloading it."""
    quoted_version = version.replace(":", "%3a")
    pattern = os.path.join(debs_dir, f"{package}_{quoted_version}_*.deb")
    found = sorted(glob.glob(pattern))
    if found:
        return found[0]
    os.makedirs(debs_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=debs_dir, prefix=".dl-") as tmp:
        os.chmod(tmp, 0o755)  # lets apt's _apt sandbox user write there
        _log(f"apt-get download {package}={version}")
        _run(["apt-get", "download", "-q", f"{package}={version}"], cwd=tmp)
        got = glob.glob(os.path.join(tmp, "*.deb"))
        if len(got) != 1:
            raise InstallerBuildError(f"apt-get download {package} gave {got}")
        dest = os.path.join(debs_dir, os.path.basename(got[0]))
        os.replace(got[0], dest)
    # Drop other versions of the same package: kernels are ~27 MB each.
    for old in glob.glob(os.path.join(debs_dir, f"{package}_*.deb")):
        if old != dest:
            with contextlib.suppress(OSError):
                os.unlink(old)
    return dest


# --------------------------------------------------------------------------
# cpio newc writer


class _Cpio:
    """Minimal, deterministic writer of the SVR4 "newc" cpio format."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(
        self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)
    ) -> None:
        name_b = name.encode() + b"\0"
        fields = (
            self.ino, mode, 0, 0, 1, EPOCH, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0,
        )
        self.ino += 1
        header = b"070701" + b"".join(b"%08x" % f for f in fields)
        self.buf.write(header + name_b)
        self.buf.write(b"\0" * (-(len(header) + len(name_b)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name: str) -> None:
        self._entry(name, 0o040755)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._entry(name, 0o100000 | perm, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, 0o020000 | perm, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        self.buf.write(b"\0" * (-self.buf.tell() % 512))
        return self.buf.getvalue()


def _read_module(path_without_ext: str) -> bytes | None:
    """Contents of a kernel module, uncompressed, or None if absent."""
    if os.path.exists(path_without_ext + ".ko"):
        with open(path_without_ext + ".ko", "rb") as f:
            return f.read()
    if os.path.exists(path_without_ext + ".ko.xz"):
        with lzma.open(path_without_ext + ".ko.xz") as f:
            return f.read()
    if os.path.exists(path_without_ext + ".ko.gz"):
        with gzip.open(path_without_ext + ".ko.gz") as f:
            return f.read()
    if os.path.exists(path_without_ext + ".ko.zst"):
        return subprocess.run(
            ["zstd", "-dc", path_without_ext + ".ko.zst"],
            capture_output=True, check=True,
        ).stdout
    return None


def _make_initramfs(root_kernel: str, root_busybox: str, kver: str, build_id: str) -> bytes:
    busybox_bin = os.path.join(root_busybox, "bin", "busybox")
    with open(busybox_bin, "rb") as f:
        busybox = f.read()
    applets = _run([busybox_bin, "--list-full"]).split()
    moddir = os.path.join(root_kernel, "lib", "modules", kver)
    with open(os.path.join(moddir, "modules.builtin")) as f:
        builtin_list = f.read()

    modules: dict[str, bytes] = {}
    for name in VIRTIO_MODULES:
        found = glob.glob(os.path.join(moddir, "kernel", "**", f"{name}.ko*"), recursive=True)
        data = _read_module(found[0].split(".ko")[0]) if found else None
        if data is not None:
            modules[name] = data
        elif not re.search(rf"/{re.escape(name)}\.ko", builtin_list):
            _log(f"warning: module {name} neither shipped nor built in")

    cpio = _Cpio()
    dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
            "run", "etc", "etc/ks-installer", "lib", "lib/modules", f"lib/modules/{kver}",
            "root", "var"}
    for applet in applets:
        if os.path.dirname(applet):
            dirs.add(os.path.dirname(applet))
    for d in sorted(dirs):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    cpio.file("bin/busybox", busybox, 0o755)
    for applet in sorted(set(applets)):
        if applet not in ("bin/busybox", "init"):
            cpio.symlink(applet, "/bin/busybox")
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        cpio.file("init", f.read(), 0o755)
    with open(os.path.join(HERE, "udhcpc.script"), "rb") as f:
        cpio.file("etc/ks-installer/udhcpc.script", f.read(), 0o755)
    cpio.file("etc/ks-installer/modules", ("\n".join(VIRTIO_MODULES) + "\n").encode())
    cpio.file("etc/ks-installer/build-id", (build_id + "\n").encode())
    cpio.file(f"lib/modules/{kver}/modules.builtin", builtin_list.encode())
    for name in sorted(modules):
        cpio.file(f"lib/modules/{kver}/{name}.ko", modules[name])

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(cpio.finish())
    return out.getvalue()


# --------------------------------------------------------------------------
# cache and entry point


def _recipe_hash() -> str:
    h = hashlib.sha256()
    h.update(f"recipe={RECIPE_VERSION}\n".encode())
    h.update(("modules=" + ",".join(VIRTIO_MODULES) + "\n").encode())
    for name in RECIPE_FILES:
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def _cache_key(packages: dict[str, str]) -> str:
    doc = json.dumps({"packages": packages, "recipe": _recipe_hash()}, sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:20]


@contextlib.contextmanager
def _locked(cache_dir: str):
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _image_paths(image_dir: str) -> tuple[str, str]:
    return os.path.join(image_dir, "vmlinuz"), os.path.join(image_dir, "initrd.img")


def _cached_image(image_dir: str) -> tuple[str, str] | None:
    kernel, initrd = _image_paths(image_dir)
    if os.path.exists(os.path.join(image_dir, "manifest.json")) and os.path.exists(
        kernel
    ) and os.path.exists(initrd):
        return kernel, initrd
    return None


def build_installer(cache_dir: str | None = None) -> tuple[str, str]:
    """Build (or reuse) the installer image; return ``(kernel, initrd)`` paths."""
    cache_dir = os.path.abspath(cache_dir or default_cache_dir())
    with _locked(cache_dir):
        try:
            packages = resolve_packages()
        except InstallerBuildError as exc:
            # Offline fallback: the last image built on this machine.
            latest = os.path.join(cache_dir, "latest")
            hit = _cached_image(os.path.realpath(latest)) if os.path.islink(latest) else None
            if hit is None:
                raise
            _log(f"warning: {exc}; reusing the last build {os.path.realpath(latest)}")
            return hit

        key = _cache_key(packages)
        image_dir = os.path.join(cache_dir, "images", key)
        hit = _cached_image(image_dir)
        if hit is not None:
            return hit

        started = time.monotonic()
        debs_dir = os.path.join(cache_dir, "debs")
        debs = {pkg: _download(pkg, ver, debs_dir) for pkg, ver in packages.items()}
        kernel_pkg = next(p for p in packages if p.startswith("linux-image-"))
        kver = kernel_pkg[len("linux-image-"):]

        os.makedirs(os.path.join(cache_dir, "images"), exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
            root_kernel = os.path.join(tmp, "kernel")
            root_busybox = os.path.join(tmp, "busybox")
            _run(["dpkg-deb", "-x", debs[kernel_pkg], root_kernel])
            _run(["dpkg-deb", "-x", debs[BUSYBOX_PACKAGE], root_busybox])
            vmlinuz = os.path.join(root_kernel, "boot", f"vmlinuz-{kver}")
            if not os.path.exists(vmlinuz):
                raise InstallerBuildError(f"{kernel_pkg} has no /boot/vmlinuz-{kver}")
            initrd = _make_initramfs(root_kernel, root_busybox, kver, key)

            stage = os.path.join(tmp, "image")
            os.makedirs(stage)
            kernel_out, initrd_out = _image_paths(stage)
            shutil.copyfile(vmlinuz, kernel_out)
            with open(initrd_out, "wb") as f:
                f.write(initrd)
            for path in (kernel_out, initrd_out):
                os.chmod(path, 0o644)
            manifest = {
                "key": key,
                "packages": packages,
                "kernel_version": kver,
                "recipe_sha256": _recipe_hash(),
                "vmlinuz_sha256": hashlib.sha256(open(kernel_out, "rb").read()).hexdigest(),
                "initrd_sha256": hashlib.sha256(initrd).hexdigest(),
                "build_seconds": round(time.monotonic() - started, 2),
            }
            with open(os.path.join(stage, "manifest.json"), "w") as f:
                json.dump(manifest, f, indent=2, sort_keys=True)
                f.write("\n")
            if os.path.exists(image_dir):
                shutil.rmtree(image_dir)  # an incomplete earlier attempt
            os.replace(stage, image_dir)

        latest = os.path.join(cache_dir, "latest")
        tmp_link = latest + ".tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_link)
        os.symlink(os.path.join("images", key), tmp_link)
        os.replace(tmp_link, latest)
        _log(
            f"built {image_dir} in {manifest['build_seconds']} s "
            f"({kernel_pkg} {packages[kernel_pkg]}, busybox {packages[BUSYBOX_PACKAGE]})"
        )
        return _image_paths(image_dir)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cache_dir = argv[0] if argv else None
    try:
        kernel, initrd = build_installer(cache_dir)
    except InstallerBuildError as exc:
        print(f"installer build failed: {exc}", file=sys.stderr)
        return 1
    print(kernel)
    print(initrd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
