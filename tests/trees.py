"""Install trees for tests: a directory laid out as a Red Hat-family tree, with the
``.treeinfo`` productmd writes (what ``ksserver add distro`` reads)."""

from __future__ import annotations

from pathlib import Path

TREEINFO = """\
[header]
type = productmd.treeinfo
version = 1.2

[release]
name = {family}
short = Tiny
version = {version}

[tree]
arch = {arch}
build_timestamp = 1715611345
platforms = {arch}
variants = BaseOS

[variant-BaseOS]
id = BaseOS
name = BaseOS
packages = BaseOS/Packages
repository = BaseOS
type = variant
uid = BaseOS

[images-{arch}]
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz
"""


def public_dir() -> Path:
    """A directory anyone may enter (the install server sends trees as user nobody), removed
    with ``shutil.rmtree`` by the caller; pytest's own tmp_path is its owner's only."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ksserver-tree-"))
    path.chmod(0o755)
    return path


def make_tree(root: Path, kernel: bytes = b"kernel\n", initrd: bytes = b"initrd\n", *,
              family: str = "Tiny Linux", version: str = "9.4", arch: str = "x86_64") -> Path:
    (root / "images" / "pxeboot").mkdir(parents=True, exist_ok=True)
    (root / "BaseOS" / "repodata").mkdir(parents=True, exist_ok=True)
    (root / "images" / "pxeboot" / "vmlinuz").write_bytes(kernel)
    (root / "images" / "pxeboot" / "initrd.img").write_bytes(initrd)
    (root / "BaseOS" / "repodata" / "repomd.xml").write_text("<repomd/>\n")
    (root / ".treeinfo").write_text(TREEINFO.format(family=family, version=version, arch=arch))
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root
