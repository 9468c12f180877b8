"""What an attribute name and value may be: data, never markup or kickstart syntax."""

from __future__ import annotations

import re

from ksserver.attrs.precedence import HOST_ONLY, INTRINSIC, Level
from ksserver.errors import KsError
from ksserver.outputs import check_setting

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise KsError(
            f'invalid attribute name "{name}": use letters, digits, "_", "." and "-", '
            "starting with a letter or \"_\""
        )
    return name


def check_settable(name: str, level: Level) -> str:
    """Intrinsic names are computed; ``os`` chooses the OS level, so only a host sets it."""
    check_name(name)
    if name in INTRINSIC:
        raise KsError(f'attribute "{name}" is intrinsic (computed from the host record) and cannot be set')
    if name in HOST_ONLY and level is not Level.HOST:
        raise KsError(f'attribute "{name}" can be set only on a host')
    return name


def check_value(name: str, value: str | None) -> str:
    """What no output can carry is refused here, at ``set`` (``outputs.check_setting``)."""
    if value is None:
        raise KsError(f'missing value of attribute "{name}"')
    return check_setting(name, value)
