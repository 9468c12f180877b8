"""``sync config``: everything network boot derives from the inventory, in one go; and DHCP
kept current after every command that changes the inventory.

Rule: DHCP is Kea's only when ksserver is told where Kea is (``Dhcp_ControlSocket``) or
Kea's default socket exists; then every command that changes the inventory re-applies the
DHCP configuration once, inside the command's transaction and before it commits — a
candidate Kea refuses undoes the command; a Kea that cannot be reached leaves the change
standing with a warning. The candidate carries its own digest (``user-context``), so a
change DHCP does not see costs one ``config-get`` and nothing more; a change it sees costs
``config-test``, ``config-set`` and ``config-write`` of the whole configuration (Kea 2.2 in
Debian has no command to change one reservation: its host_cmds hook is not packaged).

``sync config`` also lays out the TFTP root (``LOADERS``, copied from their Debian packages),
writes every host's PXE file, and the hosts file's managed block (``hosts_file``, default
/etc/hosts: the lines between the ksserver markers are ksserver's, the rest the site's);
once that block is there, every command that changes the inventory keeps it current.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.db import queries
from ksserver.db.models import Host, Interface, Network
from ksserver.services import bootfiles, dhcp, keahosts

#: the first-stage loaders a TFTP root serves, and the Debian package file each comes from
LOADERS = {
    "undionly.kpxe": ("/usr/lib/ipxe/undionly.kpxe", "ipxe"),
    "snponly.efi": ("/usr/lib/ipxe/snponly.efi", "ipxe"),
    "ipxe.efi": ("/usr/lib/ipxe/ipxe.efi", "ipxe"),
    "pxelinux.0": ("/usr/lib/PXELINUX/pxelinux.0", "pxelinux"),
    "lpxelinux.0": ("/usr/lib/PXELINUX/lpxelinux.0", "pxelinux"),
    "ldlinux.c32": ("/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common"),
    # UEFI Secure Boot: the distribution's signed shim, which loads grubx64.efi beside it
    "shimx64.efi": ("/usr/lib/shim/shimx64.efi.signed", "shim-signed"),
    "grubx64.efi": ("/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", "grub-efi-amd64-signed"),
}
BEGIN, END = "# --- ksserver: begin (report host; do not edit) ---", "# --- ksserver: end ---"


# --- DHCP -------------------------------------------------------------------------------------

def kea_configured(session: Session) -> bool:
    """Whether this frontend's DHCP is Kea's (see the module rule)."""
    return _kea(queries.global_attrs(session)) is not None


def _kea(attrs: dict[str, str]) -> dhcp.Kea | None:
    """Kea's control socket when this frontend's DHCP is Kea's (see the module rule)."""
    path = dhcp.control_socket(attrs)
    if attrs.get("Dhcp_ControlSocket") or os.path.exists(path):
        return dhcp.Kea(path)
    return None


def apply_dhcp(session: Session, kea: dhcp.Kea | None = None, *, always: bool = True) -> str | None:
    """Apply the DHCP plan: ``always`` (``sync dhcp``) whatever Kea holds; otherwise only
    what differs from what Kea holds. What was done, or ``None`` when nothing was. With a
    hosts database, its rows first and Kea's configuration inside the same transaction
    there, so a configuration Kea refuses leaves the rows as they were."""
    plan = dhcp.plan(session)
    candidate = dhcp.kea_config(plan)
    kea = kea or dhcp.Kea(dhcp.control_socket(plan.attrs))
    digest = candidate["Dhcp4"]["user-context"]["ksserver-digest"]
    hosts_db = keahosts.configured(plan.attrs)
    if hosts_db is None:
        if not always and dhcp.held_digest(kea) == digest:
            return None
        return dhcp.apply_candidate(plan, candidate, kea)
    with keahosts.opened(hosts_db) as conn:
        added, changed, removed = keahosts.sync(conn, plan)
        applied = dhcp.apply_candidate(plan, candidate, kea) \
            if always or dhcp.held_digest(kea) != digest else None
    rows = (f"Kea's hosts database {hosts_db.where}: {added} reservation{'' if added == 1 else 's'} added, "
            f"{changed} changed, {removed} removed\n") if added or changed or removed else ""
    return (applied or "") + rows or None


@contextmanager
def following(session: Session):
    """Around a command: yields the list its DHCP warnings land in (see ``after_change``)."""
    warnings: list[str] = []
    before = queries.revision(session)
    yield warnings
    warnings += after_change(session, before)


def after_change(session: Session, before: int) -> list[str]:
    """Re-apply DHCP if the command changed the inventory (``before``: the revision when
    it began); warnings for the user. Kea's refusal raises (the command is undone)."""
    if queries.revision(session) == before:
        return []
    attrs = queries.global_attrs(session)
    hosts = Path(attrs.get("hosts_file") or "/etc/hosts")
    if hosts.exists() and BEGIN in hosts.read_text():  # a block sync config wrote: kept current
        write_hosts_file(hosts, report_host(session))
    kea = _kea(attrs)
    if kea is None:
        return []
    try:
        apply_dhcp(session, kea, always=False)
    except dhcp.Unreachable as err:
        return [f"DHCP not applied: {err.message}; `ksserver sync dhcp` applies it once Kea runs"]
    return []


# --- the TFTP root, the hosts file -----------------------------------------------------------

def _copy_if_changed(source: Path, target: Path) -> bool:
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data:
        return False
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, target)
    return True


def lay_out_tftp(root: Path) -> tuple[int, list[str]]:
    """Copy the loaders into the TFTP root; (how many were copied, what is missing)."""
    root.mkdir(parents=True, exist_ok=True)
    copied, missing = 0, []
    for name, (source, package) in LOADERS.items():
        src = Path(source)
        if not src.exists():
            missing.append(f"{name} (Debian package {package})")
            continue
        copied += _copy_if_changed(src, root / name)
    return copied, missing


def loader_file(name: str, url: str | None = None) -> Path | None:
    """``/install/boot/<name>``: a first-stage loader of the TFTP root, over HTTP (UEFI HTTP
    boot fetches ``ipxe.efi`` so); only the loaders ``sync config`` lays out."""
    if name not in LOADERS:
        return None
    from ksserver.db.session import transaction

    with transaction(url) as session:
        path = bootfiles.target_dir(session) / name
    return path if path.is_file() else None


def hosts_file(session: Session) -> str:
    """The ``/etc/hosts`` lines of the inventory (``report host``): each address with the
    name it has on its network (``name.zone name``); the private network's is the host's."""
    rows = session.execute(
        select(Host.name, Interface.device, Interface.name, Interface.ip, Network.name, Network.dnszone)
        .join(Interface, Interface.host_id == Host.id)
        .join(Network, Interface.network_id == Network.id)
        .where(Interface.ip.is_not(None))
        .order_by(Network.id, Host.name, Interface.device)
    ).all()
    lines = ["127.0.0.1\tlocalhost.localdomain localhost"]
    for host, device, iname, ip, network, zone in rows:
        name = host if network == "private" else (iname or f"{host}-{device}")
        short = name.split(".")[0]
        full = name if "." in name else f"{name}.{zone}" if zone else name
        outputs.hosts_word(full, f"host {host} interface {device}: its name on network {network}")
        lines.append(f"{ip}\t{full}" + (f" {short}" if full != short else ""))
    return "\n".join(lines) + "\n"


def report_host(session: Session) -> str:
    return f"{BEGIN}\n{hosts_file(session)}{END}\n"


def write_hosts_file(path: Path, block: str) -> bool:
    """Replace the ksserver block of ``path`` (or append one), keeping every other line."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines(keepends=True)
    try:
        start = lines.index(BEGIN + "\n")
        end = lines.index(END + "\n", start)
        new = "".join(lines[:start]) + block + "".join(lines[end + 1:])
    except ValueError:
        new = old + ("" if not old or old.endswith("\n") else "\n") + block
    if new == old:
        return False
    tmp = path.with_name(f".{path.name}.ksserver")
    tmp.write_text(new)
    if path.exists():
        shutil.copymode(path, tmp)
    else:
        tmp.chmod(0o644)
    os.replace(tmp, path)
    return True


# --- what sync config leaves, stamped --------------------------------------------------------

STAMP = ".ksserver-sync"  # in the TFTP root


@functools.cache
def _renderers() -> bytes:
    """The text of what renders boot files and the hosts file: a new ksserver renders anew."""
    from ksserver import templating

    h = hashlib.sha256()
    for path in (Path(bootfiles.__file__), Path(outputs.__file__), Path(__file__),
                 Path(templating.__file__).parent / "templates" / "pxe" / "host.j2"):
        h.update(path.read_bytes())
    return h.digest()


def _stamp(session: Session, root: Path, hosts: Path) -> str:
    """What ``sync config``'s files depend on and what they are: the inventory's revisions,
    the renderers, and every file in the directories it writes, and the hosts file, as the
    file system has them now (name, size, time, inode, mode, owner). The same stamp as the
    last whole sync left means there is nothing to render: the files are as it wrote them
    and nothing they are made from has changed since."""
    state = queries.serving_state(session)
    h = hashlib.sha256(_renderers())
    h.update(f"{state.revision} {state.params}\0{root}\0{hosts}\0".encode())
    for directory in (root / "pxelinux.cfg", root / "grub" / "system", root / "grub"):
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            h.update(b"-\0")
            continue
        for e in entries:
            st = e.stat(follow_symlinks=False)
            h.update(f"{e.name} {st.st_size} {st.st_mtime_ns} {st.st_ino} {st.st_mode} {st.st_uid} "
                     f"{st.st_gid}\n".encode())
    try:
        st = hosts.stat()
        h.update(f"{st.st_size} {st.st_mtime_ns} {st.st_ino}".encode())
    except FileNotFoundError:
        h.update(b"-")
    return h.hexdigest()


def _stamp_after_commit(session: Session, root: Path, stamp: str) -> None:
    """Leave ``stamp`` once the transaction commits, never before: a command undone must not
    leave a stamp of a revision the counter will reach again with other contents."""
    from sqlalchemy import event

    def leave(_session) -> None:
        try:
            tmp = root / f".{STAMP}.tmp"
            tmp.write_text(stamp + "\n")
            os.replace(tmp, root / STAMP)
        except OSError:
            pass  # the next sync renders everything: slower, never wrong

    event.listen(session, "after_commit", leave, once=True)


def sync_config(session: Session) -> list[str]:
    attrs = queries.global_attrs(session)
    out = []
    root = bootfiles.target_dir(session)
    copied, missing = lay_out_tftp(root)
    out.append(f"TFTP root {root}: {copied} loader{'' if copied == 1 else 's'} copied"
               + (f"; missing: {', '.join(missing)}" if missing else ""))
    hosts = Path(attrs.get("hosts_file") or "/etc/hosts")
    try:
        left = (root / STAMP).read_text().strip()
    except OSError:
        left = None
    if left is not None and left == _stamp(session, root, hosts):
        # nothing to render (see _stamp): what a render would report
        out += ["boot files: wrote 0, removed 0", f"hosts file {hosts}: unchanged"]
    else:
        (root / STAMP).unlink(missing_ok=True)
        written, removed = bootfiles.sync(session, [])
        out.append(f"boot files: wrote {written}, removed {removed}")
        changed = write_hosts_file(hosts, report_host(session))
        out.append(f"hosts file {hosts}: {'rewritten' if changed else 'unchanged'}")
        _stamp_after_commit(session, root, _stamp(session, root, hosts))
    kea = _kea(attrs)
    if kea is None:
        out.append(f"DHCP: no Kea control socket at {dhcp.control_socket(attrs)} (set Dhcp_ControlSocket); "
                   "`ksserver report host dhcpd` prints the ISC dhcpd form")
    else:
        done = apply_dhcp(session, kea, always=False)
        out.append(done.strip() if done else f"DHCP: Kea ({kea.path}) already runs this configuration")
    return out
