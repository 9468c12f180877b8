"""PXE boot files (spec §5.3): ``pxelinux.cfg/<HEX-IP>`` per host, ``default`` for the frontend.

Rule: the text of every file comes from one function, ``bootfiles``, that reads the whole
selection in a fixed number of queries; ``sync`` writes each file atomically (a temporary
file in the same directory, then ``rename``) and removes the file of a host with no next
boot, so that PXE falls back to ``default``. A host set to install carries its install
token in its kernel arguments (``boot.install_args``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import config
from ksserver.db.models import Bootaction, Host, VMNode
from ksserver.errors import KsError
from ksserver.services import attributes, boot, selection
from ksserver.templating import render


@dataclass(frozen=True)
class BootFile:
    host: str
    name: str  # file name under pxelinux.cfg/ ("default", "0A01FFFE")
    text: str | None  # None: the file must not exist


def hex_ip(ip: str) -> str:
    parts = ip.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise KsError(f'"{ip}" is not an IPv4 address')
    return "".join(f"{int(p):02X}" for p in parts)


def kickstart_url(attrs: dict[str, str]) -> str:
    host = attrs.get("Kickstart_PrivateKickstartHost") or attrs.get("Kickstart_PrivateAddress") or "localhost"
    base = (attrs.get("Kickstart_PrivateKickstartBasedir") or "install").strip("/")
    cgi = (attrs.get("Kickstart_PrivateKickstartCGI") or "sbin/kickstart.cgi").strip("/")
    return f"http://{host}/{base}/{cgi}"


def pxe_text(action: Bootaction, ip: str | None, attrs: dict[str, str], token: str | None) -> str:
    args = boot.install_args(action.args, token, kickstart_url(attrs))
    if "ksdevice=" in args and ip:
        args += (
            f" ip={ip} gateway={attrs.get('Kickstart_PrivateGateway', '')}"
            f" netmask={attrs.get('Kickstart_PrivateNetmask', '')}"
            f" dns={attrs.get('Kickstart_PrivateDNSServers', '')}"
            f" nextserver={attrs.get('Kickstart_PrivateKickstartHost', '')}"
        )
    if action.ramdisk:
        args = f"{args} initrd={action.ramdisk}".strip()
    return render(
        "pxe/host.j2", kernel=action.kernel or "", append=args.strip(), ipappend="bootif" in (action.args or "")
    )


def bootfiles(session: Session, selectors: Sequence[str]) -> list[BootFile]:
    """The boot file of each selected host (all hosts when none named)."""
    records = selection.select_hosts(session, list(selectors), change=False)
    ids = [r.id for r in records]
    everything = not selectors
    resolved = attributes.resolve_hosts(session, records, everything=everything)
    state = {h_id: (ba, tok) for h_id, ba, tok in session.execute(select(Host.id, Host.boot_action, Host.install_token))} \
        if everything else {}
    if not everything:
        for i in range(0, len(ids), 5000):
            for h_id, ba, tok in session.execute(
                select(Host.id, Host.boot_action, Host.install_token).where(Host.id.in_(ids[i : i + 5000]))
            ):
                state[h_id] = (ba, tok)
    actions = {b.action: b for b in session.scalars(select(Bootaction))}
    vms = dict(session.execute(select(VMNode.host_id, VMNode.virt_type)).all())
    out: list[BootFile] = []
    for rec in records:
        attrs = {k: v.value for k, v in resolved[rec.id].items()}
        ip = attrs.get("hostaddr")
        if rec.appliance == "frontend":
            if rec.name != attrs.get("Kickstart_PrivateHostname"):
                continue
            install = actions.get("install")
            text = None
            if install is not None:
                text = render("pxe/host.j2", kernel=install.kernel if (install.kernel or "").startswith("vmlinuz") else "",
                              append=f"{install.args or ''} initrd={install.ramdisk or ''}".strip(), ipappend=False)
            out.append(BootFile(rec.name, "default", text))
            continue
        if rec.id in vms and (vms[rec.id] != "hvm" or rec.membership == "Hosted VM"):
            continue  # a paravirtual VM boots from its own config, not PXE
        if not ip:
            continue
        boot_action, token = state.get(rec.id, (None, None))
        name = hex_ip(ip)
        if not boot_action:
            out.append(BootFile(rec.name, name, None))
            continue
        label = rec.installaction if boot_action == "install" else rec.runaction
        action = actions.get(label or "")
        if action is None:
            raise KsError(f'bootaction "{label}" for host "{rec.name}" is invalid')
        out.append(BootFile(rec.name, name, pxe_text(action, ip, attrs, token if boot_action == "install" else None)))
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


def sync(session: Session, selectors: Sequence[str], tftpboot: str | None = None) -> tuple[int, int]:
    """Write (or remove) the files; returns (written, removed)."""
    root = Path(tftpboot) if tftpboot else default_dir()
    cfg = root / "pxelinux.cfg"
    cfg.mkdir(parents=True, exist_ok=True)
    written = removed = 0
    for f in bootfiles(session, selectors):
        path = cfg / f.name
        if f.text is None:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{f.name}.", dir=cfg)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(f.text)
            os.chmod(tmp, 0o664)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        written += 1
    return written, removed
