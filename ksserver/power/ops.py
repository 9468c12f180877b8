"""VM life-cycle operations composed from a :class:`HypervisorDriver`.

These are what ``start/stop/pause/resume/save/restore/move host vm`` call once the
service layer has looked up the VM and its container in the DB.  Each one either
succeeds or raises :class:`KsError` leaving the hypervisors as they were: a failed
start removes the definition it made (and puts back a stale one it replaced); a failed
move removes what it copied to the target and restores the VM on the source.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from ksserver.errors import KsError
from ksserver.power.domain import DomainSpec, render_domain_xml
from ksserver.power.driver import (
    ACTIVE,
    CRASHED,
    NOSTATE,
    PAUSED,
    RUNNING_STATES,
    SHUTOFF,
    HypervisorDriver,
)
from ksserver.power.xmlutil import parse_xml
from ksserver.power.progress import ProgressCallback, ProgressMeter
from ksserver.power.transport import Transport


def _name_and_xml(spec: DomainSpec | str) -> tuple[str, str]:
    if isinstance(spec, DomainSpec):
        return spec.name, render_domain_xml(spec)
    try:
        root = parse_xml(spec)
    except etree.XMLSyntaxError as e:
        raise KsError(f"invalid domain XML: {e}") from None
    name = (root.findtext("name") or "").strip()
    if not name:
        raise KsError("domain XML has no <name>")
    return name, spec


def vm_state(driver: HypervisorDriver, name: str) -> str:
    """active, paused, shutdown, shutoff, crashed or nostate (not defined there)."""
    return driver.state(name)


def start_vm(driver: HypervisorDriver, spec: DomainSpec | str, validate: bool = True) -> str:
    """Define the VM from ``spec`` (a DomainSpec or domain XML) and boot it.

    A stale definition of the same name (not running) is replaced; a running one is an
    error.  If the boot fails, the new definition is removed and a replaced one put back.
    Returns the VM name.
    """
    name, xml = _name_and_xml(spec)
    old_xml = None
    if driver.exists(name):
        state = driver.state(name)
        if state in RUNNING_STATES:
            raise KsError(f"VM {name} is already running on {driver.host}")
        if state == CRASHED:
            driver.stop(name)
        old_xml = driver.xml(name, inactive=True)
        driver.undefine(name)
    try:
        driver.define(xml, validate=validate)
    except KsError:
        _put_back(driver, name, old_xml)
        raise
    try:
        driver.start(name)
    except KsError as e:
        problems = []
        try:
            if driver.exists(name):
                if driver.state(name) in RUNNING_STATES:
                    driver.stop(name)
                driver.undefine(name)
        except KsError as e2:
            problems.append(str(e2))
        problems += _put_back(driver, name, old_xml, quiet=True)
        if problems:
            raise KsError(f"{e}; cleanup failed: {'; '.join(problems)}") from None
        raise
    return name


def _put_back(driver: HypervisorDriver, name: str, old_xml: str | None, quiet: bool = False) -> list[str]:
    if old_xml is None:
        return []
    try:
        driver.define(old_xml, validate=False)
    except KsError as e:
        if not quiet:
            raise
        return [f"could not restore the previous definition of VM {name}: {e}"]
    return []


def stop_vm(driver: HypervisorDriver, name: str) -> bool:
    """Pull the power cord.  Returns False when the VM was not running (nothing done)."""
    if driver.state(name) in RUNNING_STATES | {CRASHED}:
        driver.stop(name)
        return True
    return False


def pause_vm(driver: HypervisorDriver, name: str) -> None:
    """Keep the VM in memory but stop scheduling it."""
    state = driver.state(name)
    if state == PAUSED:
        return
    if state != ACTIVE:
        raise KsError(f"cannot pause VM {name} on {driver.host}: it is not running ({state})")
    driver.pause(name)


def resume_vm(driver: HypervisorDriver, name: str) -> None:
    state = driver.state(name)
    if state == ACTIVE:
        return
    if state != PAUSED:
        raise KsError(f"cannot resume VM {name} on {driver.host}: it is not paused ({state})")
    driver.resume(name)


def save_vm(driver: HypervisorDriver, name: str, path: str) -> None:
    """Write the VM's memory to ``path`` on its container and release it (VM stops)."""
    state = driver.state(name)
    if state not in (ACTIVE, PAUSED):
        raise KsError(f"cannot save VM {name} on {driver.host}: it is not running ({state})")
    driver.save(name, path)


def restore_vm(driver: HypervisorDriver, path: str, name: str | None = None) -> None:
    """Bring a saved VM back from ``path`` on its container."""
    if name is not None and driver.state(name) in RUNNING_STATES:
        raise KsError(f"cannot restore VM {name} on {driver.host}: it is already running")
    driver.restore(path)


def ensure_disks(transport: Transport, host: str, disks: Iterable[tuple[str, int]]) -> list[str]:
    """Create the missing file-backed disk images of a VM on its container as sparse
    files (``(path, size_gb)`` pairs; a GB is 10^9 bytes, as in Rocks' rocks-pygrub).
    Returns the paths created.  Call before :func:`start_vm` for a VM being installed."""
    created = []
    for path, size_gb in disks:
        if transport.ensure_sparse_file(host, path, int(size_gb) * 10**9):
            created.append(path)
    return created


# --- move -----------------------------------------------------------------------------


@dataclass
class MoveResult:
    """Where things ended up.  ``warnings``: post-move clean-ups that failed (the VM
    itself runs on the target)."""

    name: str
    src_host: str
    dst_host: str
    disk_paths: dict[str, str] = field(default_factory=dict)  # old path → new path
    was_running: bool = True
    warnings: list[str] = field(default_factory=list)


def retarget_disks(xml: str, mapping: dict[str, str]) -> str:
    """Domain XML with every file disk source in ``mapping`` replaced."""
    root = parse_xml(xml)
    for src in root.iterfind("devices/disk/source"):
        f = src.get("file")
        if f in mapping:
            src.set("file", mapping[f])
    return etree.tostring(root, encoding="unicode")


def move_vm(
    src_driver: HypervisorDriver,
    dst_driver: HypervisorDriver,
    name: str,
    save_path: str,
    disk_paths: Iterable[str],
    transport: Transport,
    dst_dir: str,
    progress: ProgressCallback | None = None,
    *,
    src_host: str | None = None,
    dst_host: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> MoveResult:
    """Move VM ``name`` to another container: save it on the source (to ``save_path``),
    copy the save file and the file-backed disks in ``disk_paths`` into ``dst_dir`` on
    the target, restore it there, make it persistent there and forget it on the source.

    A VM that is not running is moved cold (disks copied, definition moved).  If any step
    before the VM runs on the target fails, partial copies on the target are removed, the
    VM is restored on the source, and KsError is raised.  The source disk files are left
    in place (the caller may delete them once the DB points at the new ones).

    Nothing this does can delete the only copy of anything: a file already at a target
    path (the source itself, when both containers share the directory; an older saved
    state) refuses the move before anything happens, so every file it removes on the
    target is one it made.
    """
    src_host = src_host or src_driver.host
    dst_host = dst_host or dst_driver.host
    where = f"VM {name} from {src_driver.host} to {dst_driver.host}"
    if src_driver.host == dst_driver.host:
        raise KsError(f"VM {name} is already on {dst_driver.host}")
    if not src_driver.exists(name):
        raise KsError(f"cannot move VM {name}: it is not defined on {src_driver.host}")
    if dst_driver.exists(name):
        raise KsError(f"cannot move {where}: a VM of that name already exists on {dst_driver.host}")
    state = src_driver.state(name)
    if state not in (ACTIVE, PAUSED, SHUTOFF, NOSTATE):
        raise KsError(f"cannot move {where}: it is {state}")
    was_running = state in (ACTIVE, PAUSED)

    disks = list(dict.fromkeys(disk_paths))
    mapping = {p: posixpath.join(dst_dir, posixpath.basename(p)) for p in disks}
    dst_save = posixpath.join(dst_dir, posixpath.basename(save_path))
    inactive_xml = retarget_disks(src_driver.xml(name, inactive=True), mapping)
    live_xml = retarget_disks(src_driver.xml(name), mapping) if was_running else None
    paths_change = any(old != new for old, new in mapping.items())

    result = MoveResult(name, src_driver.host, dst_driver.host, mapping, was_running)
    copied: list[str] = []
    saved = False

    def rollback(reason: str) -> KsError:
        problems = []
        for p in reversed(copied):
            try:
                transport.remove(dst_host, p)
            except KsError as e:
                problems.append(str(e))
        try:
            if dst_driver.exists(name):
                if dst_driver.state(name) in RUNNING_STATES:
                    dst_driver.stop(name)
                if dst_driver.exists(name):
                    dst_driver.undefine(name)
        except KsError as e:
            problems.append(str(e))
        back = ""
        if saved:
            try:
                src_driver.restore(save_path)
                back = f"; VM restored on {src_driver.host}"
                try:
                    transport.remove(src_host, save_path)
                except KsError:
                    pass
            except KsError as e:
                back = (
                    f"; could not restore it on {src_driver.host} ({e}),"
                    f" its saved state is in {src_host}:{save_path}"
                )
        extra = f"; cleanup failed: {'; '.join(problems)}" if problems else ""
        return KsError(f"cannot move {where}: {reason}{back}{extra}")

    try:
        transport.ensure_dir(dst_host, dst_dir)
        sizes = {p: transport.size(src_host, p) for p in disks}
        targets = [mapping[p] for p in disks] + ([dst_save] if was_running else [])
        taken = [f"{dst_host}:{t}" for t in targets if transport.exists(dst_host, t)]
        if was_running and transport.exists(src_host, save_path):
            taken.insert(0, f"{src_host}:{save_path}")
    except KsError as e:
        raise KsError(f"cannot move {where}: {e}") from None
    if taken:
        raise KsError(f"cannot move {where}: {taken[0]} exists already (the same directory on both containers, or an earlier copy); "
                      "a move never overwrites a file")

    if was_running:
        try:
            src_driver.save(name, save_path)
        except KsError as e:
            raise KsError(f"cannot move {where}: {e}") from None
        saved = True

    try:
        files = []
        if was_running:
            files.append((save_path, dst_save, transport.size(src_host, save_path)))
        files += [(p, mapping[p], sizes[p]) for p in disks]
        meter = ProgressMeter(sum(f[2] for f in files), progress, clock)
        for src_path, dst_path, size in files:
            copied.append(dst_path)
            transport.copy(src_host, src_path, dst_host, dst_path, meter.file(posixpath.basename(src_path)))
            meter.file_done(size)
        if was_running:
            dst_driver.restore(dst_save, live_xml if paths_change else None)
        dst_driver.define(inactive_xml, validate=False)
    except KsError as e:
        raise rollback(str(e)) from None
    except Exception as e:  # a transport bug must not strand the VM
        raise rollback(" ".join(str(e).split()) or type(e).__name__) from None

    # The VM now lives on the target: from here on failures are only warnings.
    for step, fn in (
        (f"forget VM {name} on {src_driver.host}", lambda: src_driver.undefine(name)),
        (f"remove {dst_host}:{dst_save}", lambda: transport.remove(dst_host, dst_save) if was_running else None),
        (f"remove {src_host}:{save_path}", lambda: transport.remove(src_host, save_path) if was_running else None),
    ):
        try:
            fn()
        except KsError as e:
            result.warnings.append(f"could not {step}: {e}")
    return result
