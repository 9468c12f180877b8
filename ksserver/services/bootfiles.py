"""PXE boot files (docs/original-behaviour.md §5.3): ``pxelinux.cfg/<HEX-IP>`` per host, ``default`` for the frontend.

Rule: the text of every file comes from one function, ``bootfiles``, that reads the whole
selection in a fixed number of queries; ``sync`` writes each file atomically (a temporary
file in the same directory, then ``rename``) and removes the file of a host with no next
boot, so that PXE falls back to ``default``. A host set to install carries its install
token in its kernel arguments (``install_args``).
"""

from __future__ import annotations

import functools
import grp
import os
import socket
import re
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import config, outputs
from ksserver.db import queries
from ksserver.db.models import Bootaction, GlobalAttr, Host, Interface, VMNode
from ksserver.errors import KsError
from ksserver.services import attributes, selection
from ksserver.templating import environment


# A host's PXE file carries its install token while it is set to install: readable by its
# owner and the TFTP server's group (Debian's tftpd-hpa runs as tftp), by no one else.
_MODE = 0o640
TFTP_GROUP = "tftp"


def _tftp_gid() -> int:
    """The TFTP server's group when this runs as root and the group exists, else ours."""
    if os.geteuid() == 0:
        try:
            return grp.getgrnam(TFTP_GROUP).gr_gid
        except KeyError:
            pass
    return os.getegid()


@dataclass(frozen=True)
class BootFile:
    host: str
    name: str  # file name under pxelinux.cfg/ ("default", "0A01FFFE")
    text: str | None  # None: the file must not exist
    mac: str | None = None  # the host's private MAC: its GRUB file is grub/system/<mac>
    grub: str | None = None  # that file's text (shim + GRUB, for Secure Boot); None: no file


_KS_URL = re.compile(r"(?<!\S)(?:inst\.)?ks=(\S+)")
_KS_BARE = re.compile(r"(?<!\S)(inst\.)?ks(?!\S)")


def install_args(args: str | None, token: str | None, kickstart_url: str) -> str:
    """Boot arguments that carry the install token: ``ks=URL`` (``inst.ks=URL``, RHEL 7 and
    later) gains ``token=``; a bare ``ks`` (find the server by DHCP) becomes
    ``ks=<kickstart_url>?token=``."""
    text = args or ""
    if not token:
        return text
    match = _KS_URL.search(text)
    if match:
        url = match.group(1)
        joined = f"{url}{'&' if '?' in url else '?'}token={token}"
        return text[: match.start(1)] + joined + text[match.end(1) :]
    if _KS_BARE.search(text):
        # a function, not a template: a backslash in a value is data, not a group reference
        return _KS_BARE.sub(lambda m: f"{m.group(1) or ''}ks={kickstart_url}?token={token}", text, count=1)
    return text


def hex_ip(ip: str) -> str:
    parts = ip.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) < 256 for p in parts):
        raise KsError(f'"{ip}" is not an IPv4 address')
    return socket.inet_aton(ip).hex().upper()


def _word(attrs: dict[str, str], name: str, default: str = "") -> str:
    """An attribute's value as one boot argument (``outputs.boot_word``) of a line that iPXE
    and GRUB may read too (``outputs.ipxe_line``, ``outputs.grub_words``)."""
    return _checked(name, attrs.get(name) or default)


@functools.lru_cache(maxsize=4096)
def _checked(name: str, value: str) -> str:
    """``_word``'s checks, kept per (attribute, value): a sync reads the same few values
    for 10,000 hosts (bench/netboot.py, sync config unchanged)."""
    what = f'attribute "{name}"'
    outputs.ipxe_line(outputs.boot_word(value, what), what)
    outputs.grub_words(value, what)  # and GRUB's: refused there is refused here
    return value


def install_base(attrs: dict[str, str]) -> str:
    """``http://<kickstart host>/<basedir>``: where installers reach this frontend — the
    kickstart, the iPXE script, the trees all hang below it (one rule for all of them)."""
    host = _word(attrs, "Kickstart_PrivateKickstartHost") or _word(attrs, "Kickstart_PrivateAddress", "localhost")
    base = _word(attrs, "Kickstart_PrivateKickstartBasedir", "install").strip("/")
    return f"http://{host}/{base}"


def kickstart_url(attrs: dict[str, str]) -> str:
    cgi = _word(attrs, "Kickstart_PrivateKickstartCGI", "sbin/kickstart.cgi").strip("/")
    return f"{install_base(attrs)}/{cgi}"


# the attributes a boot file reads (copied out of each host's resolution, nothing more)
_ATTRS = (
    "hostaddr",
    "Kickstart_PrivateHostname",
    "Kickstart_PrivateKickstartHost",
    "Kickstart_PrivateAddress",
    "Kickstart_PrivateKickstartBasedir",
    "Kickstart_PrivateKickstartCGI",
    "Kickstart_PrivateGateway",
    "Kickstart_PrivateNetmask",
    "Kickstart_PrivateDNSServers",
    "ksmac",
)
_MARK = "\ue000append\ue000"  # a private-use marker (a kernel holding it: rendered whole, below)


_URL = re.compile(r"(https?|tftp)://")  # what boot loaders fetch by themselves


def is_image(kernel: str) -> bool:
    """Whether a bootaction's kernel names a kernel image (a file under the TFTP root, or a
    URL that lpxelinux and iPXE fetch), not a pxelinux directive (``localboot 0``)."""
    return kernel.startswith("vmlinuz") or bool(_URL.match(kernel))


class PxeTemplate:
    """``pxe/host.j2``, compiled once for a whole run.

    Boot files differ between hosts only in their ``append`` line, so each distinct
    (kernel, append or none, ipappend) is rendered once, with a marker standing for the
    arguments, and a host's text is that rendering with its own arguments in the marker's
    place. Should the template ever do anything to the arguments but print them (the marker
    not found exactly once), every text is rendered in full instead.
    """

    def __init__(self) -> None:
        self._template = environment().get_template("pxe/host.j2")
        self._shapes: dict[tuple[str, bool, bool], tuple[str, ...]] = {}

    def render(self, kernel: str, append: str, ipappend: bool) -> str:
        key = (kernel, bool(append), ipappend)
        parts = self._shapes.get(key)
        if parts is None:
            pieces = self._template.render(kernel=kernel, image=is_image(kernel), append=_MARK if append else "",
                                           ipappend=ipappend).split(_MARK)
            parts = self._shapes[key] = tuple(pieces) if len(pieces) == (2 if append else 1) else ()
        if not parts:
            return self._template.render(kernel=kernel, image=is_image(kernel), append=append, ipappend=ipappend)
        return parts[0] + append + parts[1] if append else parts[0]


def kernel_args(action: Bootaction, ip: str | None, attrs: dict[str, str], token: str | None) -> str:
    """The kernel arguments of ``action`` for a host: the install token in its ``ks=`` URL,
    and the host's network when the installer is told which device to use."""
    what = f'bootaction "{action.action}"'
    args = install_args(outputs.boot_line(action.args or "", what), token, kickstart_url(attrs))
    if "ksdevice=" in args and ip:
        args += (
            f" ip={ip} gateway={_word(attrs, 'Kickstart_PrivateGateway')}"
            f" netmask={_word(attrs, 'Kickstart_PrivateNetmask')}"
            f" dns={_word(attrs, 'Kickstart_PrivateDNSServers')}"
            f" nextserver={_word(attrs, 'Kickstart_PrivateKickstartHost')}"
        )
    return args.strip()


def pxe_text(action: Bootaction, ip: str | None, attrs: dict[str, str], token: str | None,
             template: PxeTemplate | None = None, args: str | None = None) -> str:
    """``args``: ``kernel_args`` when the caller has them already (it makes GRUB's too)."""
    what = f'bootaction "{action.action}"'
    args = kernel_args(action, ip, attrs, token) if args is None else args
    if action.ramdisk:
        args = f"{args} initrd={outputs.boot_word(action.ramdisk, what)}".strip()
    kernel = outputs.boot_line(action.kernel or "", what)
    return (template or PxeTemplate()).render(kernel, args.strip(), "bootif" in (action.args or ""))


_LOCAL = "#!ipxe\n# the next boot is from the local disk: back to the firmware's boot order\nexit\n"


def _fetched(name: str, what: str) -> str:
    """Where iPXE fetches a bootaction's kernel or ramdisk: a URL as given, a bare name from
    the TFTP server DHCP named."""
    if _URL.match(name):
        return name
    if "://" in name:
        raise KsError(f"{what}: iPXE cannot fetch {name}")
    return "tftp://${next-server}/" + name.lstrip("/")


def ipxe_text(action: Bootaction | None, ip: str | None, attrs: dict[str, str], token: str | None) -> str:
    """The iPXE script of a host's next boot: its bootaction's kernel, ramdisk and
    arguments, or back to the firmware (local disk) for ``os``-like actions."""
    kernel = (action.kernel or "").strip() if action else ""
    if action is None or not kernel or kernel.startswith(("localboot", "kernel memtest")):
        return _LOCAL
    what = f'bootaction "{action.action}"'
    kernel = outputs.ipxe_line(kernel.removeprefix("kernel ").strip().split()[0], what)
    args = outputs.ipxe_line(kernel_args(action, ip, attrs, token), f"the kernel arguments of {what}")
    lines = ["#!ipxe"]
    initrd = ""
    if action.ramdisk:
        ramdisk = _fetched(outputs.ipxe_line(outputs.boot_word(action.ramdisk, what), what), what)
        initrd = f" initrd={ramdisk.rsplit('/', 1)[-1]}"
    lines.append(f"kernel {_fetched(kernel, what)}{initrd} {args}".rstrip())
    if action.ramdisk:
        lines.append(f"initrd {ramdisk}")
    lines.append("boot")
    return "\n".join(lines) + "\n"


_GRUB_LOCAL = "# the next boot is from the local disk: back to the firmware's boot order\nexit\n"


def _grub_path(name: str, what: str) -> str:
    """A kernel or ramdisk as GRUB names it: ``(http,HOST)/PATH`` for a URL, a path on the
    TFTP server GRUB was loaded from otherwise (the path quoted for GRUB where it must be)."""
    m = re.match(r"(https?)://([A-Za-z0-9.:-]+)(/\S*)\Z", name)
    if m:
        return f"({m.group(1)},{m.group(2)}){outputs.grub_words(m.group(3), what)}"
    if "://" in name:
        raise KsError(f"{what}: GRUB cannot fetch {name}")
    return outputs.grub_words("/" + name.lstrip("/"), what)


def grub_text(action: Bootaction | None, ip: str | None, attrs: dict[str, str], token: str | None,
              args: str | None = None) -> str:
    """``grub/system/<mac>``: what shim + GRUB (UEFI Secure Boot) boot next; GRUB 2.06
    syntax (``linux``/``initrd``, not ``linuxefi``)."""
    kernel = (action.kernel or "").strip() if action else ""
    if action is None or not is_image(kernel.removeprefix("kernel ").strip()):
        return _GRUB_LOCAL
    what = f'bootaction "{action.action}"'
    path = _grub_path(kernel.removeprefix("kernel ").strip().split()[0], what)
    args = outputs.grub_words(kernel_args(action, ip, attrs, token) if args is None else args,
                              f"the kernel arguments of {what}")
    lines = ["set timeout=0", f"linux {path} {args}".rstrip()]
    if action.ramdisk:
        lines.append(f"initrd {_grub_path(outputs.boot_word(action.ramdisk, what), what)}")
    lines.append("boot")
    return "\n".join(lines) + "\n"


#: grub/grub.cfg: what Debian's signed grubnetx64 (prefix /grub on the TFTP server) reads
#: first; each machine's own file is by its MAC, as GRUB names it
GRUB_CFG = """\
# ksserver (sync host bootfile): each machine boots grub/system/<its MAC>
set timeout=0
if [ -n "$net_default_mac" ]; then
	configfile "$prefix/system/$net_default_mac"
fi
exit
"""


def ipxe_script(session: Session, host_id: int, boot: str | None = None) -> str:
    """``/install/boot/ipxe`` for one host: what its next network boot does (``boot``:
    what it would do were its next boot that — ``set attr`` checks ``install``)."""
    rec = session.get(Host, host_id)
    mine = attributes.resolve_hosts(session, selection.select_hosts(session, [rec.name], change=False))[host_id]
    attrs = {k: mine[k].value for k in _ATTRS if k in mine}
    boot = boot or rec.boot_action
    if boot not in ("install", "os"):
        return _LOCAL
    label = rec.installaction if boot == "install" else rec.runaction
    action = session.scalar(select(Bootaction).where(Bootaction.action == (label or "")))
    if action is None and label:
        raise KsError(f'bootaction "{label}" for host "{rec.name}" is invalid')
    token = (rec.install_token or "TOKEN") if boot == "install" else None
    return ipxe_text(action, attrs.get("hostaddr"), attrs, token)


def bootfiles(session: Session, selectors: Sequence[str]) -> list[BootFile]:
    """The boot file of each selected host (all hosts when none named)."""
    records = selection.select_hosts(session, list(selectors), change=False)
    ids = [r.id for r in records]
    everything = not selectors
    resolved = attributes.resolve_hosts(session, records, everything=everything)
    state = {h_id: (ba, tok) for h_id, ba, tok in session.execute(select(Host.id, Host.boot_action, Host.install_token))} \
        if everything else {}
    if not everything:
        for chunk in queries.chunks(ids):
            for h_id, ba, tok in session.execute(
                select(Host.id, Host.boot_action, Host.install_token).where(Host.id.in_(chunk))
            ):
                state[h_id] = (ba, tok)
    actions = {b.action: b for b in session.scalars(select(Bootaction))}
    vms = dict(session.execute(select(VMNode.host_id, VMNode.virt_type)).all())
    template = PxeTemplate()
    out: list[BootFile] = []
    for rec in records:
        mine = resolved[rec.id]
        attrs = {k: mine[k].value for k in _ATTRS if k in mine}
        ip = attrs.get("hostaddr")
        if rec.appliance == "frontend":
            if rec.name != attrs.get("Kickstart_PrivateHostname"):
                continue
            install = actions.get("install")
            text = None
            if install is not None:
                text = template.render(install.kernel if is_image(install.kernel or "") else "",
                                       f"{install.args or ''} initrd={install.ramdisk or ''}".strip(), False)
            out.append(BootFile(rec.name, "default", text))
            continue
        if rec.id in vms and (vms[rec.id] != "hvm" or rec.membership == "Hosted VM"):
            continue  # a paravirtual VM boots from its own config, not PXE
        if not ip:
            continue
        boot_action, token = state.get(rec.id, (None, None))
        name = hex_ip(ip)
        mac = attrs.get("ksmac") or None
        if not boot_action:
            out.append(BootFile(rec.name, name, None, mac))
            continue
        label = rec.installaction if boot_action == "install" else rec.runaction
        action = actions.get(label or "")
        if action is None:
            raise KsError(f'bootaction "{label}" for host "{rec.name}" is invalid')
        token = token if boot_action == "install" else None
        args = kernel_args(action, ip, attrs, token)
        out.append(BootFile(rec.name, name, pxe_text(action, ip, attrs, token, template, args), mac,
                            grub_text(action, ip, attrs, token, args) if mac else None))
    return out


def report(session: Session, selectors: Sequence[str]) -> str:
    files = bootfiles(session, selectors)
    several = len(files) > 1
    text = []
    for f in files:
        body = f.text or ""
        text.append("".join(f"{f.host}: {line}\n" for line in body.splitlines()) if several else body)
    return "".join(text)


def default_dir() -> Path:
    return config.home() / "tftpboot"


def _unchanged(path: str, data: bytes) -> bool:
    """Whether ``path`` is already a regular file of mode ``_MODE`` holding exactly ``data``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != _MODE or st.st_size != len(data):
            return False
        return os.read(fd, len(data) + 1) == data
    finally:
        os.close(fd)


def _write(directory: str, name: str, data: bytes, gid: int | None = None) -> None:
    """``directory/name`` replaced atomically: a temporary file beside it, then ``rename``
    (``gid``: the TFTP group, looked up once by a caller that writes many)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, _MODE)
            if os.geteuid() == 0:
                os.fchown(fd, -1, _tftp_gid() if gid is None else gid)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def target_dir(session: Session, tftpboot: str | None = None) -> Path:
    """Where PXE files go: ``tftpboot=`` when given, else the global attribute
    ``tftpboot_dir`` (e.g. /tftpboot/pxelinux on a frontend), else $KSSERVER_HOME/tftpboot."""
    if tftpboot:
        return Path(tftpboot)
    configured = session.scalar(select(GlobalAttr.value).where(GlobalAttr.name == "tftpboot_dir"))
    return Path(configured) if configured else default_dir()


def refresh(session: Session, names: Sequence[str]) -> None:
    """Rewrite the PXE files of these hosts after a change to their boot (as the original's
    ``set host boot`` did), so that the next PXE boot does what the database says."""
    if names:
        sync(session, sorted(set(names)))


def sync(session: Session, selectors: Sequence[str], tftpboot: str | None = None) -> tuple[int, int]:
    """Write (or remove) the files; returns (written, removed). A file already as it should
    be (same bytes, mode 0664) is left alone and not counted."""
    root = target_dir(session, tftpboot)
    cfg = root / "pxelinux.cfg"
    try:
        if not cfg.exists():
            cfg.mkdir(mode=0o750, parents=True)
            if os.geteuid() == 0:
                os.chown(cfg, -1, _tftp_gid())
        files = bootfiles(session, selectors)
        written, removed = _sync_into(str(cfg), files)
        grub = root / "grub" / "system"
        if not grub.exists():
            grub.mkdir(mode=0o750, parents=True)
            if os.geteuid() == 0:
                os.chown(grub, -1, _tftp_gid())
        if not _unchanged(str(root / "grub" / "grub.cfg"), GRUB_CFG.encode()):
            _write(str(root / "grub"), "grub.cfg", GRUB_CFG.encode())
        more, fewer = _sync_into(str(grub), [BootFile(f.host, f.mac, f.grub) for f in files if f.mac])
        return written + more, removed + fewer + (prune(session, tftpboot) if not selectors else 0)
    except OSError as err:
        where = err.filename or cfg
        raise KsError(f"cannot write boot files in {where}: {err.strerror}") from None


_HEX_NAME = re.compile(r"[0-9A-F]{8}\Z")
_MAC_NAME = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")


def forget(session: Session, ips: Sequence[str | None], macs: Sequence[str | None]) -> int:
    """Remove the boot files named by these addresses and MACs (a host removed, an address
    or an interface gone) unless an interface still has them: a machine that gets that
    address next must not boot their text. The targeted form of ``prune``."""
    root = target_dir(session)
    held = {v.lower() for row in session.execute(
        select(Interface.ip, Interface.mac).where(Interface.ip.in_([i for i in ips if i])
                                                  | Interface.mac.in_([m for m in macs if m]))) for v in row if v}
    paths = []
    for ip in ips:
        if ip and ip.lower() not in held:
            try:
                paths.append(root / "pxelinux.cfg" / hex_ip(ip))
            except KsError:
                pass
    paths += [root / "grub" / "system" / m.lower() for m in macs if m and m.lower() not in held]
    removed = 0
    for path in paths:
        try:
            os.unlink(path)
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def prune(session: Session, tftpboot: str | None = None) -> int:
    """Remove the PXE files named by an address, and the GRUB files named by a MAC, that no
    host has any more (a host removed, an address changed): a machine that gets that
    address next must not boot their text."""
    root = target_dir(session, tftpboot)
    held = set()
    for ip, mac in session.execute(select(Interface.ip, Interface.mac)):
        if mac:
            held.add(mac.lower())
        try:
            held.add(hex_ip(ip or ""))
        except KsError:
            continue
    removed = 0
    for directory, named in ((root / "pxelinux.cfg", _HEX_NAME.match), (root / "grub" / "system", _MAC_NAME.match)):
        try:
            names = [n for n in os.listdir(directory) if named(n)]
        except FileNotFoundError:
            continue
        for name in names:
            if name not in held:
                try:
                    os.unlink(directory / name)
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


def _sync_into(directory: str, files) -> tuple[int, int]:
    written = removed = 0
    gid = _tftp_gid()  # once: each lookup reads the group database (0.5 s over 20,000 files)
    for f in files:
        path = os.path.join(directory, f.name)
        if f.text is None:
            try:
                os.unlink(path)
                removed += 1
            except FileNotFoundError:
                pass
            continue
        data = f.text.encode()
        if _unchanged(path, data):
            continue
        _write(directory, f.name, data, gid)
        written += 1
    return written, removed
