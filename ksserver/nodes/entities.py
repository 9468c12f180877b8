"""Attributes as XML entities: the internal DTD that lets node files say ``&name;``.

Attribute values are data.  Each one is written into its ``<!ENTITY>`` declaration with
every character outside a small safe set as ``&#38;#N;``: the parser turns that into
``&#N;`` in the entity's replacement text, and expanding the entity then yields the
character itself, never markup.  (A single ``&#60;`` would not do: character references in
an entity value are expanded at declaration time, so ``<`` would be re-parsed as a tag.)
So ``<``, ``&``, quotes, ``%``, ``]]>``, backslashes and newlines arrive in the node
document literally, and nothing one host's value holds can reach another host's document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ksserver.errors import KsError

__all__ = ["ENTITY_NAME", "entity_text", "escape_entity_value", "internal_subset", "ENTITY_REF"]

ENTITY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
# A general entity reference in a node file (the five predefined ones are not attributes).
ENTITY_REF = re.compile(r"&([A-Za-z_][A-Za-z0-9_.\-]*);")
PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})

_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:;/=+\-@$!?*(){}|~^`#\[\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML = re.compile(r"[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def entity_text(value: Any) -> str:
    """The text an attribute value stands for: ``None`` is empty, other types ``str()``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def escape_entity_value(name: str, value: Any) -> str:
    """The value as it goes between the quotes of ``<!ENTITY name "…">``."""
    text = entity_text(value)
    bad = _NOT_XML.search(text)
    if bad:
        raise KsError(
            f'attribute "{name}": its value holds the character U+{ord(bad.group()):04X}, '
            "which XML cannot carry"
        )
    return _UNSAFE.sub(lambda m: f"&#38;#{ord(m.group())};", text)


def internal_subset(attrs: Mapping[str, Any], names: Iterable[str] | None = None, sep: str = "") -> str:
    """``<!ENTITY …>`` declarations for ``names`` (default: every attribute), in that order.

    Names that are not XML names cannot be referenced and are left out.
    """
    keys = attrs.keys() if names is None else names
    out = []
    for name in keys:
        if name in attrs and name not in PREDEFINED and ENTITY_NAME.match(name):
            out.append(f'{sep}<!ENTITY {name} "{escape_entity_value(name, attrs[name])}">')
    return "\n".join(out) if sep else "".join(out)


_CHARREF = re.compile(r"&#(\d+);|&#x([0-9A-Fa-f]+);")


def decode_replacement_text(text: str) -> str:
    """The inverse of :func:`escape_entity_value` once the parser has read the declaration
    (lxml reports the replacement text, which still holds ``&#N;``)."""
    return _CHARREF.sub(lambda m: chr(int(m.group(1))) if m.group(1) else chr(int(m.group(2), 16)), text)
