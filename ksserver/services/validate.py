"""Parsing of user-typed values: each failure names the value and what it should be."""

from __future__ import annotations

import ipaddress
import re
import socket

from ksserver.errors import KsError
from ksserver.truth import NO, YES

_MAC = re.compile(r"[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}\Z")


def ip(value: str, what: str = "ip") -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except (ipaddress.AddressValueError, ValueError):
        raise KsError(f'invalid {what} "{value}": expected an IPv4 address such as 10.1.255.254') from None


def ip_number(value: str) -> int:
    """An address as a number, -1 for what is not one: a fast reading of addresses already
    checked when they were set (the DHCP plan and the allocator read 10,000 of them)."""
    try:
        return int.from_bytes(socket.inet_aton(value), "big")
    except OSError:
        return -1


def netmask(value: str) -> str:
    text = ip(value, "netmask")
    try:
        net = ipaddress.IPv4Network(f"0.0.0.0/{text}")
    except ValueError:
        net = None
    if net is None or str(net.netmask) != text:  # ipaddress reads 0.0.0.255 as a host mask
        raise KsError(f'invalid netmask "{value}": the one bits must come first')
    return text


def mac(value: str) -> str:
    text = value.strip().lower()
    if not _MAC.match(text):
        raise KsError(f'invalid MAC address "{value}": expected six hex octets such as 00:16:3e:00:00:01')
    return ":".join(f"{int(part, 16):02x}" for part in re.split("[:-]", text))


INT_MAX = 2**31 - 1  # the largest INTEGER every database backend stores


def integer(value: str | int, what: str, minimum: int | None = None, maximum: int | None = INT_MAX) -> int:
    text = str(value).strip()
    if not text.isascii() or not text.lstrip("+-").isdigit():
        raise KsError(f'invalid {what} "{value}": expected a whole number')
    number = int(text)
    if minimum is not None and number < minimum:
        raise KsError(f"invalid {what} {number}: must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise KsError(f"invalid {what} {number}: must be at most {maximum}")
    return number


def boolean(value: str | bool, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise KsError(f'invalid {what} "{value}": expected yes or no')


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
ARCH = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")  # what installers report and hosts are set to


def arch(value: str) -> str:
    if not ARCH.match(value or ""):
        raise KsError(f'invalid arch "{value}": use letters, digits, "_" and "-" (x86_64, i386, aarch64)')
    return value


_MEMBERSHIP = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]*\Z")


def membership(value: str) -> str:
    """An appliance's membership ("Compute", "VM Container"): a host's intrinsic value, so
    it lands in graphs wherever they put it, shell code included: words, nothing to quote."""
    if not _MEMBERSHIP.match(value or ""):
        raise KsError(f'invalid membership "{value}": use letters, digits, spaces, "-", "_" and "."')
    return value


def name(value: str, what: str) -> str:
    if not value or not _NAME.match(value):
        raise KsError(f'invalid {what} name "{value}": use letters, digits, "-", "_" and "."')
    return value
