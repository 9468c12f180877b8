"""The install server's kickstart, one node block at a time, each block's part kept.

A ``NodePart`` (``kgen.node_part``) is a function of three things: the block (the node
file parsed with the host's values for the entities it references), the values of the
attributes its conditions read, and the owner/perms earlier blocks gave the files it
names. So the parts are cached per node file (its ``NodeSource``: a new one when the file
changes) under exactly those inputs, and a block whose inputs are the same on many hosts
— most of a graph — is parsed and generated once for all of them.

Slots. Some entities differ on every host (``&hostname;``, ``&hostaddr;``). When such a
value is a plain *token* (``[A-Za-z0-9][A-Za-z0-9._:-]*``, not holding ``KSSERVER``) and
the entity is used only in text — never inside an XML attribute, where it could change a
condition, a file name or an owner — the block is generated once with a unique token (a
sentinel) in its place, and each host's part is that template with its values put back.
That is exact because nothing kgen does treats one such token differently from another:
no whitespace, quote, ``%``, ``#``, ``/``, backslash or newline for ``strip``, ``shlex``,
section-line, package-name, delimiter or path rules to see; a leading letter or digit for
the ``@group`` and option checks. As a guard, a template is used only if every sentinel
reaches the part as often as it occurs in the block's text (a script shipped base64, or
text dropped by a condition, fails that, and the block is generated for the host itself).
``tests/unit/graph/test_parts.py`` holds the result equal to the plain path for hostile
values, entities in attributes, conditions, files and base64 scripts.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from ksserver.errors import KsError
from ksserver.graph.kgen import NodePart, Script, node_part, part_inputs
from ksserver.nodes.cond import CoercedAttrs
from ksserver.nodes.entities import entity_text
from ksserver.nodes.nodefile import NodeSource

__all__ = ["part_for"]

_MISSING = object()
_SLOT = object()  # stands in a cache key for "a token, filled in per host"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*\Z")
_NONCE = secrets.token_hex(6)
_SOURCES = 1024  # node files kept
_PER_SOURCE = 4096  # value combinations kept per node file

Files = Mapping[str, tuple[str | None, str | None]]


def _sentinel(index: int) -> str:
    return f"ksslot{index}z{_NONCE}"


_tokens: dict[str, bool] = {}  # the same values come back for every host


def _token(text: str) -> bool:
    known = _tokens.get(text)
    if known is None:
        if len(_tokens) > 100_000:
            _tokens.clear()
        known = _tokens[text] = (
            bool(_TOKEN.match(text)) and "KSSERVER" not in text.upper() and "ksslot" not in text
        )
    return known


class _Entry:
    """One block shape: what its part reads, and its parts by those inputs."""

    __slots__ = ("cond_names", "file_names", "parts", "sentinels", "counts")

    def __init__(self, block: etree._Element, sentinels: tuple[tuple[str, str], ...]):
        self.cond_names, self.file_names = part_inputs(block)
        self.parts: dict[tuple, NodePart | _Template | None] = {}
        self.sentinels = sentinels  # (entity, sentinel) filled per host; () for exact entries
        if sentinels:
            texts = [t for el in block.iter() for t in (el.text, el.tail if el is not block else None) if t]
            self.counts = tuple(sum(t.count(s) for t in texts) for _, s in sentinels)
        else:
            self.counts = ()


class _Source:
    __slots__ = ("in_attributes", "entries", "lock")

    def __init__(self) -> None:
        self.in_attributes: frozenset[str] | None = None
        self.entries: dict[tuple, _Entry] = {}
        self.lock = threading.Lock()


_cache: dict[NodeSource, _Source] = {}
_cache_lock = threading.Lock()


def _entities_in_attributes(source: NodeSource) -> frozenset[str]:
    """The entities this file uses inside an XML attribute (found by parsing it once with a
    sentinel for every entity); all of them when it does not parse (the plain path then
    reports the error)."""
    sentinels = {name: _sentinel(i) for i, name in enumerate(source.entities)}
    try:
        doc = source.parse(sentinels)
    except KsError:
        return frozenset(source.entities)
    found = set()
    for el in doc.iter():
        for value in el.attrib.values():
            if "ksslot" in value:
                found.update(name for name, s in sentinels.items() if s in value)
    return frozenset(found)


def _count(part: NodePart, sentinel: str) -> int:
    n = sum(s.count(sentinel) for s in (*part.debug, *part.main, *part.enabled, *part.disabled, part.source))
    n += sum(sc.header.count(sentinel) + sc.body.count(sentinel) for sc in (*part.pre, *part.post))
    return n + sum(name.count(sentinel) for name, _ in part.files)


_SENTINEL = re.compile(rf"ksslot(\d+)z{_NONCE}")


def _split(s: str):
    """``s`` as-is when it holds no sentinel, else its pieces: text at even positions,
    entity indices at odd ones."""
    pieces = _SENTINEL.split(s)
    if len(pieces) == 1:
        return s
    return tuple(int(p) if k % 2 else p for k, p in enumerate(pieces))


def _join(compiled, texts: Mapping[int, str]) -> str:
    if isinstance(compiled, str):
        return compiled
    out = list(compiled)
    for k in range(1, len(out), 2):
        out[k] = texts[out[k]]
    return "".join(out)


class _Template:
    """A part generated with sentinels, split once so that filling it in is a few joins;
    fields without a sentinel are the part's own objects, reused as they are, and the last
    fill is kept (blocks whose slotted values are the same on every host)."""

    __slots__ = ("part", "debug", "main", "enabled", "disabled", "pre", "post", "files", "last")

    def __init__(self, part: NodePart):
        self.part = part
        self.debug = self._field(part.debug)
        self.main = self._field(part.main)
        self.enabled = self._field(part.enabled)
        self.disabled = self._field(part.disabled)
        self.pre = self._scripts(part.pre)
        self.post = self._scripts(part.post)
        files = tuple((_split(name), state) for name, state in part.files)
        self.files = None if all(isinstance(n, str) for n, _ in files) else files
        self.last: tuple[tuple, NodePart] | None = None

    @staticmethod
    def _field(items) -> tuple | None:
        """``None`` when no item holds a sentinel, else every item split."""
        split = tuple(map(_split, items))
        return None if all(isinstance(c, str) for c in split) else split

    @staticmethod
    def _scripts(scripts: tuple[Script, ...]) -> tuple | None:
        split = tuple((sc, _split(sc.header), _split(sc.body)) for sc in scripts)
        return None if all(isinstance(h, str) and isinstance(b, str) for _, h, b in split) else split

    def fill(self, texts: dict[int, str]) -> NodePart:
        key = tuple(texts.items())
        last = self.last
        if last is not None and last[0] == key:
            return last[1]
        part = self.part

        def scripts(split, own):
            if split is None:
                return own
            return tuple(
                sc if isinstance(h, str) and isinstance(b, str) else Script(sc.source, _join(h, texts), _join(b, texts))
                for sc, h, b in split
            )

        filled = NodePart(
            part.source,
            part.debug if self.debug is None else tuple(_join(c, texts) for c in self.debug),
            part.main if self.main is None else tuple(_join(c, texts) for c in self.main),
            part.enabled if self.enabled is None else frozenset(_join(c, texts) for c in self.enabled),
            part.disabled if self.disabled is None else frozenset(_join(c, texts) for c in self.disabled),
            scripts(self.pre, part.pre),
            scripts(self.post, part.post),
            part.files if self.files is None else tuple((_join(n, texts), st) for n, st in self.files),
        )
        self.last = (key, filled)
        return filled


def part_for(
    source: NodeSource,
    block_of: Callable[[Mapping[str, Any]], etree._Element],
    attrs: Mapping[str, Any],
    view: CoercedAttrs,
    files_seen: Files,
) -> NodePart:
    """``node_part(block_of(attrs), view, files_seen)``, from the cache when it can be.

    ``block_of(values)`` parses ``source`` with ``values`` into its ``<node>`` block."""
    src = _cache.get(source)
    if src is None:
        with _cache_lock:
            if len(_cache) >= _SOURCES:
                _cache.clear()
            src = _cache.setdefault(source, _Source())
    if src.in_attributes is None:
        src.in_attributes = _entities_in_attributes(source)
    key: list = []
    slots: list[tuple[int, str, str]] = []  # (index, entity, the host's text)
    for i, name in enumerate(source.entities):
        value = attrs.get(name, _MISSING)
        if value is not _MISSING and name not in src.in_attributes:
            text = entity_text(value)
            if _token(text):
                key.append(_SLOT)
                slots.append((i, name, text))
                continue
        key.append(value)
    if slots:
        part = _cached(src, tuple(key), slots, block_of, attrs, view, files_seen)
        if part is not None:
            return part
        key = [attrs.get(name, _MISSING) for name in source.entities]  # no template: exact
    part = _cached(src, tuple(key), [], block_of, attrs, view, files_seen)
    assert part is not None
    return part


def _with(attrs: Mapping[str, Any], sentinels: tuple[tuple[str, str], ...]) -> Mapping[str, Any]:
    """``attrs`` with each slotted entity standing as its sentinel."""
    if not sentinels:
        return attrs
    values = dict(attrs)
    values.update(sentinels)
    return values


def _cached(src: _Source, key: tuple, slots: list[tuple[int, str, str]], block_of, attrs, view,
            files_seen: Files) -> NodePart | None:
    entry = src.entries.get(key)
    block = None
    if entry is None:
        sentinels = tuple((name, _sentinel(i)) for i, name, _ in slots)
        block = block_of(_with(attrs, sentinels))
        entry = _Entry(block, sentinels)
        with src.lock:
            if len(src.entries) >= _PER_SOURCE:
                src.entries.clear()
            src.entries[key] = entry
    inputs = (
        tuple(attrs.get(n, _MISSING) for n in entry.cond_names),
        tuple(files_seen.get(f) for f in entry.file_names),
    )
    try:
        part = entry.parts[inputs]
    except KeyError:
        if block is None:
            block = block_of(_with(attrs, entry.sentinels))
        part = node_part(block, view, files_seen)
        if entry.sentinels:
            if tuple(_count(part, s) for _, s in entry.sentinels) == entry.counts:
                part = _Template(part)
            else:
                part = None  # a sentinel was transformed or dropped: no template for these inputs
        entry.parts[inputs] = part
    if part is None or not entry.sentinels:
        return part
    return part.fill({i: text for i, _, text in slots})
