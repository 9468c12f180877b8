"""One XML node file: its text read once per graph generation, parsed per render with entities.

The graph (``graph.engine``) keeps each file's ``NodeSource`` while its files are unchanged; what must
be fresh on every render — the ``&attr;`` substitution — is done by lxml parsing that text
behind an internal DTD built from the request's attributes.  The DTD is written on the same
line as the file's first line, so lxml's line numbers are the file's own.

The parser resolves internal entities only, never loads an external DTD and never touches
the network: ``<!ENTITY x SYSTEM "file:///etc/passwd">`` can not be written in a node file
(it may hold no DOCTYPE at all) and would not be expanded if it were.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lxml import etree

from ksserver.errors import KsError
from ksserver.nodes.entities import ENTITY_REF, PREDEFINED, internal_subset

__all__ = ["NodeSource", "entity_references", "load_node_source", "prolog_doctype", "xml_parser", "syntax_error"]

_XML_DECL = re.compile(r"\A(\ufeff)?\s*<\?xml[^>]*\?>")
_PROLOG_ITEM = re.compile(r"\s+|<!--.*?-->|<\?.*?\?>", re.DOTALL)
_NOT_MARKUP = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.DOTALL)


def prolog_doctype(text: str) -> int | None:
    """Where a DOCTYPE stands in ``text``'s prolog (before its first element), or None. Only
    there is it one: the same letters in a comment, in CDATA (a manifest a file embeds) or
    in element text are data."""
    pos = 0
    while True:
        m = _PROLOG_ITEM.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return pos if text[pos:pos + 9].upper() == "<!DOCTYPE" else None


def entity_references(text: str) -> list[str]:
    """The ``&name;`` references of a file, in first-use order: not those in comments or
    CDATA sections, which the parser does not expand."""
    names: dict[str, None] = {}
    for name in ENTITY_REF.findall(_NOT_MARKUP.sub("", text)):
        if name not in PREDEFINED:
            names.setdefault(name)
    return list(names)

_local = threading.local()


def xml_parser() -> etree.XMLParser:
    """A per-thread lxml parser: internal entities only, no DTD loading, no network."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities="internal",
            load_dtd=False,
            no_network=True,
            dtd_validation=False,
            remove_blank_text=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
        )
        _local.parser = parser
    return parser


_UNDEFINED = re.compile(r"Entity '([^']+)' not defined")


def syntax_error(label: str, err: etree.XMLSyntaxError, col_shift: int = 0) -> KsError:
    """A lxml error as ``file:line: what`` (undefined entities named as such)."""
    line, col = (err.position if err.position else (err.lineno or 0, 0))
    msg = err.msg or str(err)
    msg = re.sub(r",? line \d+, column \d+\s*$", "", msg).strip()
    m = _UNDEFINED.search(msg)
    if m:
        return KsError(f"{label}:{line}: undefined entity &{m.group(1)};")
    if line == 1 and col_shift:
        col = max(col - col_shift, 1)
    return KsError(f"{label}:{line}:{col}: {msg}")


@dataclass(frozen=True)
class NodeSource:
    """The text of one node file with what does not depend on attributes worked out."""

    path: Path
    label: str  # how errors and the profile name the file (e.g. "nodes/compute.xml")
    text: str  # the file without its <?xml?> declaration, line structure kept
    entities: tuple[str, ...]  # names referenced as &name;, in first-use order

    def parse(self, attrs: Mapping[str, Any]) -> etree._Element:
        """The file's ``<kickstart>`` element with the entities of ``attrs`` expanded."""
        subset = internal_subset(attrs, self.entities)
        prefix = f"<!DOCTYPE kickstart [{subset}]>" if subset else ""
        try:
            root = etree.fromstring(prefix + self.text, xml_parser())
        except etree.XMLSyntaxError as err:
            raise syntax_error(self.label, err, len(prefix)) from None
        if root.tag != "kickstart":
            raise KsError(f"{self.label}:{root.sourceline}: the root element is <{root.tag}>, expected <kickstart>")
        return root

    @cached_property
    def shell_entities(self) -> dict[str, int]:
        """Entity name → line, for each entity that lands in shell code: the text of a
        ``<pre>`` or ``<post>`` outside its ``<file>`` tags (a file's text travels in a
        quoted here-document and is never run), a ``<file expr=…>``, and an ``<eval>``
        (run on the frontend while the kickstart is made)."""
        marks = {name: f"\ue001{i}\ue002" for i, name in enumerate(self.entities)}
        if not marks:
            return {}
        found: dict[str, int] = {}
        doc = self.parse(marks)
        for ev in doc.iter("eval"):  # run on the frontend itself
            for name, mark in marks.items():
                if mark in (ev.text or "") and name not in found:
                    found[name] = self._line_of(name, ev.sourceline)
        for script in doc.iter("pre", "post"):
            pieces = [(script.text or "", script.sourceline)]
            for child in script:
                pieces.append((child.tail or "", child.sourceline))
                if child.tag == "file":
                    pieces.append((child.get("expr") or "", child.sourceline))
            for text, line in pieces:
                for name, mark in marks.items():
                    if mark in text and name not in found:
                        found[name] = self._line_of(name, line)
        return found

    @cached_property
    def has_vars(self) -> bool:
        """Whether the file uses the legacy ``<var>`` tag."""
        return re.search(r"<var[\s/>]", self.text) is not None

    @cached_property
    def eval_words(self) -> tuple[str, ...]:
        """Every word written inside an ``<eval>`` of this file: the attributes it may read
        are among them (``graph.evaluate.names_in``)."""
        if "<eval" not in self.text:
            return ()
        words: set[str] = set()
        for ev in self.parse({name: "" for name in self.entities}).iter("eval"):
            words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ev.text or ""))
        return tuple(sorted(words))

    def _line_of(self, entity: str, start: int) -> int:
        """The first line, from ``start`` on, where ``&entity;`` is written."""
        for n, text in enumerate(self.text.split("\n")[start - 1 :], start):
            if f"&{entity};" in text:
                return n
        return start

    def check(self) -> None:
        """Well-formedness independent of attribute values (every entity stands for "")."""
        self.parse({name: "" for name in self.entities})


def load_node_source(path: Path, label: str) -> NodeSource:
    """The :class:`NodeSource` of the file at ``path`` as it is now."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise KsError(f"{label}: cannot read node file: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise KsError(f"{label}:{line}: not UTF-8 text") from None
    m = _XML_DECL.match(text)
    if m:
        # keep the newlines so line numbers stay the file's own
        text = "\n" * m.group(0).count("\n") + text[m.end():]
    at = prolog_doctype(text)
    if at is not None:
        line = text.count("\n", 0, at) + 1
        raise KsError(
            f"{label}:{line}: a node file may not declare a DOCTYPE; attributes are its only entities"
        )
    return NodeSource(path=path, label=label, text=text, entities=tuple(entity_references(text)))
