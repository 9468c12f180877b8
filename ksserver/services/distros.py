"""Install trees (``ksserver add distro NAME DIR``): a Red Hat-family tree on this
frontend's disk, served to installers at ``/install/<NAME>/<ARCH>/``.

Rule: what a tree is comes from its ``.treeinfo`` (read with productmd, the parser Pungi and
koji write it with), never from guessing at file names. Adding one makes its bootactions
(``install NAME``, ``install NAME headless``, ``rescue NAME``: its kernel and initrd over
HTTP, ``inst.ks``/``inst.repo`` arguments) and sets ``Kickstart_Distribution`` for its OS,
the entity the graph's ``url`` and ``repo`` lines name; the first tree (or ``default=yes``)
also becomes what the plain ``install``, ``install headless`` and ``rescue`` boot — the
Rocks 5.2 names of the seed's Xen VMs stay as they are. Removing one never touches its
files. ``tree_file`` is the one rule for what a request may read of a tree.
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.attrs import Level
from ksserver.db import queries
from ksserver.db.models import OS, Bootaction, Distro, Host
from ksserver.errors import KsError, NotFound
from ksserver.services import attributes, boot, validate
from ksserver.services.boot import bootactions_for, tree_url
from ksserver.truth import is_yes

#: names the install server's own URLs take under /install/
RESERVED = ("sbin", "boot")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


@dataclass(frozen=True)
class TreeInfo:
    family: str
    version: str
    arch: str
    kernel: str
    initrd: str


def read_treeinfo(directory: Path) -> TreeInfo:
    """What ``directory/.treeinfo`` says of the tree, or a one-line ``KsError``."""
    import productmd.treeinfo

    path = directory / ".treeinfo"
    if not directory.is_dir():
        raise KsError(f"{directory}: not a directory")
    if not path.is_file():
        raise KsError(f"{path}: no .treeinfo (a Red Hat-family install tree, or a mounted ISO, has one)")
    info = productmd.treeinfo.TreeInfo()
    try:
        info.load(str(path))
    except (configparser.Error, ValueError, KeyError, TypeError) as err:
        raise KsError(f"{path}: not a .treeinfo productmd can read: {' '.join(str(err).split())}") from None
    arch = info.tree.arch
    images = info.images.images.get(arch) or next(iter(info.images.images.values()), {})
    kernel, initrd = images.get("kernel"), images.get("initrd")
    if not kernel or not initrd:
        raise KsError(f"{path}: names no kernel and initrd for {arch} (an [images-{arch}] section)")
    for rel in (kernel, initrd):
        if not _inside(directory, rel).is_file():
            raise KsError(f"{path}: names {rel}, which is not in the tree")
    _world_readable(directory, [directory / ".treeinfo", directory / kernel, directory / initrd])
    return TreeInfo(info.release.name, info.release.version, arch, kernel, initrd)


def _world_readable(root: Path, files: list[Path]) -> None:
    """The install server's front sends tree files as an unprivileged user (nobody, when
    ``serve`` runs as root): refuse a tree it could not read, naming what to open up."""
    import stat

    root = root.resolve()
    for directory in (root, *root.parents):
        if not directory.stat().st_mode & stat.S_IXOTH:
            raise KsError(f"{directory}: others may not enter it, so the install server cannot send the tree "
                          f"{root} (chmod o+x {directory}, or put the tree elsewhere)")
    for path in files:
        if not path.resolve().stat().st_mode & stat.S_IROTH:
            raise KsError(f"{path}: others may not read it, so the install server cannot send it (chmod o+r)")


def _inside(root: Path, rel: str) -> Path:
    resolved = (root / rel).resolve()
    if resolved != root.resolve() and root.resolve() not in resolved.parents:
        raise KsError(f"{rel}: outside the tree {root}")
    return resolved


def add_distro(session: Session, name: str, directory: str, os: str | None = None,
               default: str | None = None) -> list[str]:
    if not _NAME.match(name) or name in RESERVED:
        raise KsError(f'invalid distro name "{name}" (letters, digits, ".", "_", "-"; not {" or ".join(RESERVED)})')
    if session.scalar(select(Distro.id).where(Distro.name == name)) is not None:
        raise KsError(f'distro "{name}" exists')
    root = Path(directory).absolute()
    tree = read_treeinfo(root)
    if not validate.ARCH.match(tree.arch):
        raise KsError(f"{root / '.treeinfo'}: arch {tree.arch!r} is not an architecture ksserver installs")
    os_name = os or "linux"
    if session.scalar(select(OS.id).where(OS.name == os_name)) is None:
        raise NotFound(f'no OS "{os_name}"')
    first = session.scalar(select(Distro.id).limit(1)) is None
    session.add(Distro(name=name, path=str(root), family=tree.family, version=tree.version, arch=tree.arch,
                       kernel=tree.kernel, initrd=tree.initrd))
    url = tree_url(queries.global_attrs(session), name, tree.arch)
    actions = bootactions_for(name, tree.kernel, tree.initrd, url)
    done = [f"added distro {name}: {tree.family} {tree.version} {tree.arch} at {root}, served at {url}/"]
    if (first and default is None) or is_yes(default):
        plain = ("install", "install headless", "rescue")
        actions += [(p, k, r, a) for p, (_n, k, r, a) in zip(plain, actions)]
        done.append(f"install, install headless and rescue now boot {name}")
    for action, kernel, ramdisk, args in actions:
        boot.add_bootaction(session, action, kernel, ramdisk, args)
    done.append("bootactions: " + ", ".join(a for a, *_ in actions[:3]))
    attributes.set_attr(session, Level.OS, [os_name], "Kickstart_Distribution", name)
    attributes.set_attr(session, Level.OS, [os_name], "Kickstart_DistroVersion", tree.version)
    done.append(f"Kickstart_Distribution={name} and Kickstart_DistroVersion={tree.version} for OS {os_name}")
    return done


def list_distros(session: Session) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(Distro.name, Distro.family, Distro.version, Distro.arch, Distro.path).order_by(Distro.name))]


def remove_distro(session: Session, name: str) -> list[str]:
    """Forget a tree and its bootactions; its files stay. Refused while a host installs or
    runs with one of its bootactions."""
    row = session.scalar(select(Distro).where(Distro.name == name))
    if row is None:
        raise NotFound(f'no distro "{name}"')
    mine = [a for a, *_ in bootactions_for(name, row.kernel, row.initrd, "")]
    users = session.scalars(select(Host.name).where(
        Host.installaction.in_(mine) | Host.runaction.in_(mine)).order_by(Host.name)).all()
    if users:
        raise KsError(f'distro "{name}" is the bootaction of {", ".join(users[:5])}'
                      f'{" …" if len(users) > 5 else ""}: set theirs to another first')
    url = tree_url(queries.global_attrs(session), name, row.arch) + "/"
    others = session.scalars(select(Bootaction.action).where(
        Bootaction.kernel.startswith(url, autoescape=True), Bootaction.action.not_in(mine))
        .order_by(Bootaction.action)).all()
    if others:
        one = len(others) == 1
        raise KsError(f'distro "{name}" is what bootaction{"" if one else "s"} {", ".join(others)} '
                      f'boot{"s" if one else ""}: add another distro with default=yes first')
    for action in mine:
        ba = session.scalar(select(Bootaction).where(Bootaction.action == action))
        if ba is not None:
            session.delete(ba)
    session.delete(row)
    session.flush()
    return [f"removed distro {name} (its files in {row.path} are untouched)"]


def served_file(name: str, arch: str, rel: str, url: str | None = None) -> Path | None:
    """``tree_file`` in a transaction of its own (the install server's request)."""
    from ksserver.db.session import transaction

    with transaction(url) as session:
        return tree_file(session, name, arch, rel)


def tree_file(session: Session, name: str, arch: str, rel: str) -> Path | None:
    """The file ``/install/<name>/<arch>/<rel>`` serves: a regular file inside a registered
    tree (symbolic links resolved first), else ``None``."""
    row = session.execute(select(Distro.path, Distro.arch).where(Distro.name == name)).first()
    if row is None or row.arch != arch:
        return None
    root = Path(row.path).resolve()
    try:
        path = (root / rel).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if root not in path.parents or not path.is_file() or not os.access(path, os.R_OK):
        return None
    return path
