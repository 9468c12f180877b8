"""Install trees through the real server: public, whole or by Range, nothing outside them."""

from __future__ import annotations

import os
import shutil

import pytest

from trees import make_tree, public_dir


@pytest.fixture
def public():
    path = public_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_install_server_serves_tree_files(ks, serve, public):
    tree = make_tree(public / "tree", kernel=bytes(range(256)) * 4096)
    (public / "secret").write_text("not for installers\n")
    os.symlink(public / "secret", tree / "BaseOS" / "escape")
    ks.ok("add", "distro", "tiny9", str(tree))
    for srv in (serve(ks, "workers=1"), serve(ks, "dev=yes")):
        kernel = (tree / "images" / "pxeboot" / "vmlinuz").read_bytes()
        got = srv.request("/install/tiny9/x86_64/images/pxeboot/vmlinuz", source="127.0.99.1")
        assert got.status == 200 and got.raw == kernel  # public, as the original's /install
        part = srv.request("/install/tiny9/x86_64/images/pxeboot/vmlinuz", source="127.0.99.1",
                           headers={"Range": "bytes=1000-1999"})
        assert part.status == 206 and part.raw == kernel[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(kernel)}"
        for path in ("/install/tiny9/x86_64/BaseOS/escape", "/install/tiny9/x86_64/../../../etc/passwd",
                     "/install/tiny9/x86_64/%2e%2e/%2e%2e/etc/passwd", "/install/tiny9/i386/.treeinfo",
                     "/install/nosuch/x86_64/.treeinfo", "/install/tiny9/x86_64/BaseOS"):
            assert srv.request(path).status == 404, path
        assert srv.request("/install/tiny9/x86_64/.treeinfo").body == (tree / ".treeinfo").read_text()
