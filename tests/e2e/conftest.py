"""Fixtures shared by the end-to-end tests (tests/e2e, marker ``e2e``).

* ``installer_image``: ``(kernel, initrd)`` of the tiny installer, built or
  taken from the cache (``KSSERVER_E2E_CACHE``, default ~/.cache/ksserver-e2e).
* ``libvirt_env``: a :class:`libvirt_env.LibvirtEnv` whose ``uri`` runs QEMU
  (TCG) guests; daemons this session started are stopped at the end.
* ``e2e_artifacts``: directory where console logs etc. are kept after the run
  (``KSSERVER_E2E_ARTIFACTS``, else a pytest temporary directory).
"""

from __future__ import annotations

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from installer.build import build_installer  # noqa: E402
from libvirt_env import ensure_libvirt  # noqa: E402


@pytest.fixture(scope="session")
def installer_image():
    started = time.monotonic()
    kernel, initrd = build_installer()
    print(f"\n[e2e] installer image ready in {time.monotonic() - started:.1f} s: {kernel} {initrd}")
    return kernel, initrd


@pytest.fixture(scope="session")
def libvirt_env():
    started = time.monotonic()
    env = ensure_libvirt()
    print(f"\n[e2e] libvirt ready in {time.monotonic() - started:.1f} s: {env.uri}")
    try:
        yield env
    finally:
        env.stop()


@pytest.fixture(scope="session")
def e2e_artifacts(tmp_path_factory):
    path = os.environ.get("KSSERVER_E2E_ARTIFACTS")
    if path:
        os.makedirs(path, exist_ok=True)
        return path
    return str(tmp_path_factory.mktemp("e2e-artifacts"))
