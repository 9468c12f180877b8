"""Parsing domain XML safely: no entity expansion, no network access."""

from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_xml(text: str | bytes) -> etree._Element:
    """Parse XML text (raises ``etree.XMLSyntaxError`` when malformed)."""
    data = text.encode() if isinstance(text, str) else text
    return etree.fromstring(data, _PARSER)
