#!/usr/bin/env bash
# Install what ksserver needs on Debian (packages, the virtualenv, the package itself).
# Safe to run any number of times: each step checks first and does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: build deps of libvirt-python, graphviz for the graph picture, PostgreSQL
# for the second database backend of the tests, QEMU + libvirt for the end-to-end VM test;
# network boot: Kea (DHCP; kea-admin brings perfdhcp), tftpd-hpa, iPXE, pxelinux, OVMF (UEFI
# guests), shim + signed GRUB (Secure Boot; grub-common checks GRUB files), ISC dhcpd (only to
# check the dhcpd.conf form), busybox (a DHCP client for tests), tmux (drives the insert-ethers
# screen in its test), chromium (the console's browser tests drive Debian's, through Playwright).
PACKAGES="python3 python3-venv python3-dev gcc pkg-config libvirt-dev libvirt-clients graphviz
postgresql qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libxml2-utils curl openssl
iproute2 kea-dhcp4-server kea-admin tftpd-hpa ipxe pxelinux syslinux-common ovmf isc-dhcp-server busybox
shim-signed grub-efi-amd64-signed grub-common tmux chromium"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# nginx, in front of the install server's workers: any of Debian's nginx packages will do
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error - missing Debian packages:$missing (run this script as root, or install them)" >&2
    exit 1
  fi
  echo "== installing Debian packages:$missing"
  apt-get update -q
  # ksserver starts the servers it needs itself: no package may start its own service here
  # (nginx's would take port 80 on every address)
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || { [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
fi

PYTHON=${PYTHON:-python3}
if ! .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "== creating the virtualenv .venv"
  rm -rf .venv
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi

# Re-install only when the package metadata changed.
stamp=.venv/.ksserver-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/ksserver --version >/dev/null 2>&1; then
  echo "== installing ksserver and its pinned dependencies into .venv"
  .venv/bin/pip install -q -e '.[test]' 2>&1 | grep -v -e '^WARNING: Location' -e '^$' || true
  .venv/bin/ksserver --version >/dev/null
  echo "$want" > "$stamp"
fi
