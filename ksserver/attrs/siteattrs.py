"""The ``site.attrs`` format (docs/original-behaviour.md §4.1): one ``key:value`` line per attribute.

Split on the first colon, both sides stripped; blank lines and ``#`` comments are skipped
(the original had none, but hand-written files do).
"""

from __future__ import annotations

from collections.abc import Mapping

from ksserver.attrs.names import check_name
from ksserver.errors import KsError
from ksserver.outputs import key_value


def parse_site_attrs(text: str, source: str = "site.attrs") -> dict[str, str]:
    attrs: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise KsError(f'{source}:{lineno}: expected "key:value", got "{line.strip()}"')
        key = key.strip()
        try:
            check_name(key)
        except KsError as err:
            raise KsError(f"{source}:{lineno}: {err.message}") from None
        attrs[key] = value.strip()
    return attrs


def format_site_attrs(attrs: Mapping[str, str]) -> str:
    """Sorted by key in byte order; the lines of a multi-line value are joined with spaces,
    because the format holds one line per attribute."""
    from ksserver.templating import render  # Jinja2 only for the commands that print one

    items = [(k, key_value(v)) for k, v in sorted(attrs.items())]
    return render("siteattrs.j2", items=items)
