"""Boot state: what a host's next boot does, and the install token that proves who it is.

Rule: setting a host to ``install`` mints a fresh token (revoking any older one); setting it
to ``os`` revokes it. The token travels in the install boot arguments (``bootfiles.install_args``),
so an installer behind NAT can still prove which host it is.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.db import queries
from ksserver.db.models import Bootaction, Host
from ksserver.errors import KsError
from ksserver.services import bootfiles, selection

BOOT_ACTIONS = ("install", "os", "run")


def set_boot_action(session: Session, host: Host, action: str) -> str | None:
    """Set the next boot of ``host``; returns the new install token, if one was minted."""
    if action not in BOOT_ACTIONS:
        raise KsError(f'invalid action "{action}": action must be "os", "run" or "install"')
    host.boot_action = "os" if action == "run" else action
    host.install_token = secrets.token_urlsafe(24) if action == "install" else None
    session.flush()
    return host.install_token


# --- bootactions: named kernel/ramdisk/args triples (docs/original-behaviour.md §5.1, §5.2) -----------------------

_NONE = "none"


def _major(os_version: str) -> int:
    digits = "".join(c for c in os_version if c.isdigit())
    return int(digits) if digits else 0


def default_bootactions(site: dict[str, str], arch: str) -> list[tuple[str, str, str | None, str | None]]:
    """(action, kernel, ramdisk, args) of the bootactions a frontend starts with (docs/original-behaviour.md §5.2).

    Eras do not mix: for a site whose ``os_version`` is RHEL 7 or later (the shipped graph's
    RHEL 9 when unset), ``install``, ``install headless`` and ``rescue`` boot the kernel of
    the tree the graph's ``url`` line names (``/install/<Kickstart_Distribution>/<arch>``,
    where ``add distro`` serves it) with ``inst.ks``/``inst.repo``; for Rocks-era sites, and
    for the seed's Xen VMs (``install vm…``) whatever the site, the Rocks 5.2 names."""
    from ksserver.graph import DEFAULT_OS_VERSION

    ver = site.get("rocks_version") or "6.1"
    kernel, ramdisk = f"vmlinuz-{ver}-{arch}", f"initrd.img-{ver}-{arch}"
    base = "ks ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6"
    xen_kernel = f"file:///boot/kickstart/xen/vmlinuz-{ver}-{arch}"
    xen_ramdisk = f"file:///boot/kickstart/xen/initrd-xen.iso.gz-{ver}-{arch}"
    public = site.get("Kickstart_PublicHostname", "localhost")
    if _major(site.get("os_version") or DEFAULT_OS_VERSION) >= 7:
        url = tree_url(site, site.get("Kickstart_Distribution") or "rocks-dist", arch)
        tree = bootactions_for("", "images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", url)
        installs = [(plain, k, r, a) for plain, (_n, k, r, a) in zip(("install", "install headless", "rescue"), tree)]
    else:
        installs = [
            ("install", kernel, ramdisk, f"{base} ksdevice=bootif"),
            ("install headless", kernel, ramdisk, f"{base} headless vnc ksdevice=bootif"),
            ("rescue", kernel, ramdisk, f"{base} ksdevice=bootif rescue"),
        ]
    return [
        *installs,
        ("os", "localboot 0", None, None),
        ("memtest", "kernel memtest", None, None),
        ("pxeflash", "kernel memdisk bigraw", "pxeflash.img", "keeppxe"),
        ("install vm", xen_kernel, xen_ramdisk, "ks ramdisk_size=1500000 lang= devfs=nomount kssendmac selinux=0 noipv6"),
        (
            "install vm frontend",
            xen_kernel,
            xen_ramdisk,
            "ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6 "
            f"ks=http://{public}/install/sbin/kickstart.cgi ksdevice=eth1 build airboss=localhost",
        ),
    ]


def tree_url(attrs: dict[str, str], name: str, arch: str) -> str:
    """Where the install server serves the tree ``name`` (``services.distros``)."""
    return f"{bootfiles.install_base(attrs)}/{name}/{arch}"


def bootactions_for(name: str, kernel: str, initrd: str, url: str) -> list[tuple[str, str, str, str]]:
    """(action, kernel, ramdisk, args) of the tree ``name`` served at ``url`` (``kernel``
    and ``initrd``: paths in it): RHEL 7 and later installer arguments."""
    kernel, initrd = f"{url}/{kernel}", f"{url}/{initrd}"
    base = f"inst.ks inst.repo={url} ip=dhcp"
    return [
        (f"install {name}", kernel, initrd, base),
        (f"install {name} headless", kernel, initrd, f"{base} inst.text"),
        (f"rescue {name}", kernel, initrd, f"inst.rescue inst.repo={url} ip=dhcp"),
    ]


def ensure_default_bootactions(session: Session, site: dict[str, str], arch: str) -> list[str]:
    """Create the default bootactions that do not exist yet (never changes existing ones)."""
    have = set(session.scalars(select(Bootaction.action)).all())
    done = []
    for action, kernel, ramdisk, args in default_bootactions(site, arch):
        if action not in have:
            session.add(Bootaction(action=action, kernel=kernel, ramdisk=ramdisk, args=args))
            done.append(f"created bootaction {action}")
    session.flush()
    return done


def _bootaction(session: Session, action: str):
    return session.scalar(select(Bootaction).where(Bootaction.action == action))


def add_bootaction(session: Session, action: str | None, kernel=None, ramdisk=None, args=None) -> None:
    """Insert a bootaction, or update only the columns given when it exists."""
    if not action or not action.strip():
        raise KsError("must supply an action")
    if action == _NONE:
        raise KsError('"none" is reserved: it means "no bootaction"')
    what = f'bootaction "{action}"'
    for value in (kernel, args):
        if value:
            outputs.ipxe_line(value, what)  # what every boot file (PXE, iPXE, GRUB) can carry
            outputs.grub_words(value, what)
    if ramdisk:
        outputs.ipxe_line(outputs.boot_word(ramdisk, what), what)
    row = _bootaction(session, action)
    if row is None:
        session.add(Bootaction(action=action, kernel=kernel, ramdisk=ramdisk, args=args))
    else:
        for col, value in (("kernel", kernel), ("ramdisk", ramdisk), ("args", args)):
            if value is not None:
                setattr(row, col, value)
    session.flush()
    if row is not None:
        _refresh(session, _users_of(session, action))


def list_bootactions(session: Session) -> list[tuple]:
    rows = session.execute(
        select(Bootaction.action, Bootaction.kernel, Bootaction.ramdisk, Bootaction.args)
    ).all()
    return sorted((tuple(c or "" for c in r) for r in rows), key=lambda r: r[0])


def remove_bootaction(session: Session, action: str | None) -> None:
    if not action:
        raise KsError("must supply an action")
    row = _bootaction(session, action)
    if row is None:
        raise KsError(f'action "{action}" does not exist')
    users = _users_of(session, action)
    if users:
        shown = ", ".join(sorted(users)[:3]) + (", …" if len(users) > 3 else "")
        raise KsError(
            f'bootaction "{action}" is the install or run action of {len(users)} host(s) ({shown}); '
            "give them another first"
        )
    session.delete(row)
    session.flush()


def _users_of(session: Session, action: str) -> list[str]:
    return list(
        session.scalars(select(Host.name).where((Host.installaction == action) | (Host.runaction == action)))
    )


def _refresh(session: Session, names: list[str]) -> None:

    bootfiles.refresh(session, names)


def set_host_action(session: Session, selectors: list[str], kind: str, action: str) -> None:
    """``kind`` is ``installaction`` or ``runaction``; ``none`` clears it."""
    if kind not in ("installaction", "runaction"):
        raise KsError(f"unknown action kind {kind}")
    if not action:
        raise KsError("must supply an action")
    value = None if action == _NONE else action
    if value is not None and _bootaction(session, value) is None:
        raise KsError(f'action "{action}" does not exist')
    records = selection.select_hosts(session, selectors, change=True)
    for rec in records:
        host = session.get(Host, rec.id)
        setattr(host, kind, value)
    session.flush()
    _refresh(session, [r.name for r in records])


def set_hosts_boot(session: Session, selectors: list[str], action: str | None,
                   refresh: bool = True) -> dict[str, str | None]:
    """``set host boot``: each host's next boot; returns host → token (install only).
    ``refresh=False``: the caller rewrites their boot files (``bootfiles.refresh``) itself."""
    if action is None:
        raise KsError('must supply action=os, action=run or action=install')
    if action not in BOOT_ACTIONS:
        raise KsError(f'invalid action "{action}": action must be "os", "run" or "install"')
    out = {}
    for rec in selection.select_hosts(session, selectors, change=True):
        out[rec.name] = set_boot_action(session, session.get(Host, rec.id), action)
    if refresh:
        _refresh(session, list(out))
    return out


def list_host_boot(session: Session, selectors: list[str], show_token: bool = False) -> list[tuple]:
    records = selection.select_hosts(session, selectors, change=False)
    hosts = {h.id: h for h in _hosts(session, [r.id for r in records])}
    rows = []
    for rec in records:
        h = hosts[rec.id]
        row = [rec.name, h.boot_action or "", rec.installaction or "", rec.runaction or ""]
        if show_token:
            row.append(h.install_token or "")
        rows.append(tuple(row))
    return rows


def _hosts(session: Session, ids: list[int]) -> list[Host]:
    out: list[Host] = []
    for chunk in queries.chunks(ids):
        out += session.scalars(select(Host).where(Host.id.in_(chunk))).all()
    return out
