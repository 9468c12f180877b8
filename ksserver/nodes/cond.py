"""The ``cond`` language of graph edges and node tags, evaluated without Python's ``eval``.

The original compiled ``cond="…"`` (plus the legacy ``arch=``/``os=``/``release=`` comma
lists) into a Python expression and ``eval``-ed it with the attributes as variables.  Node
files written for it use a tiny subset of Python, which is all this module understands:

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := atom (("==" | "!=" | "<" | "<=" | ">" | ">=" | "is" | "is not") atom)*
                                                               (chained as in Python)
    atom    := NAME | STRING | NUMBER | True | False | None | "(" expr ")"

A NAME is an attribute; an unknown attribute is ``None`` (so ``cond="x11"`` is false when
``x11`` is unset).  String values are coerced as the original did: ``on/true/yes/y`` → True,
``off/false/no/n`` → False (any case), else an int, else a float, else the string itself.
Ordering comparisons between values of unrelated types are false instead of an error.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from ksserver.errors import KsError
from ksserver.truth import NO, YES

__all__ = ["Cond", "CondSyntaxError", "TRUE", "coerce", "compile_cond", "make_cond", "CoercedAttrs"]

# "1" and "0" are numbers in a condition, as in the original
_TRUE_WORDS = YES - {"1"}
_FALSE_WORDS = NO - {"0"}
_INT = re.compile(r"\s*[+-]?\d+\s*\Z")
_FLOAT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*\Z")


def coerce(value: Any) -> Any:
    """The original's attribute coercion; non-strings (ints, bools, None) pass unchanged."""
    if not isinstance(value, str):
        return value
    low = value.strip().lower()
    if low in _TRUE_WORDS:
        return True
    if low in _FALSE_WORDS:
        return False
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


class CoercedAttrs:
    """A read-only view of an attribute dict that coerces each value once, on first use."""

    __slots__ = ("_attrs", "_cache")

    def __init__(self, attrs: Mapping[str, Any]):
        self._attrs = attrs
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        try:
            return self._cache[name]
        except KeyError:
            value = coerce(self._attrs.get(name))
            self._cache[name] = value
            return value


class CondSyntaxError(ValueError):
    """A cond that does not parse; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z_])
      | (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)
      | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\))
    )""",
    re.VERBOSE,
)

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_KEYWORDS = {"and", "or", "not", "is", "True", "False", "None"}


def _tokenize(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    end = len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise CondSyntaxError(f'unexpected character "{text[pos]}"', pos + 1)
        col = m.start(m.lastgroup) + 1
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "num":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(("lit", value, col))
        elif kind == "str":
            tokens.append(("lit", re.sub(r"\\(.)", r"\1", raw[1:-1]), col))
        elif kind == "name":
            if raw in ("True", "False", "None"):
                tokens.append(("lit", {"True": True, "False": False, "None": None}[raw], col))
            elif raw in _KEYWORDS:
                tokens.append((raw, raw, col))
            else:
                tokens.append(("name", raw, col))
        else:
            tokens.append((raw, raw, col))
        pos = m.end()
    tokens.append(("end", None, len(text) + 1))
    return tokens


Evaluator = Callable[[CoercedAttrs], Any]


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0
        self.names: set[str] = set()

    def peek(self) -> str:
        return self.tokens[self.i][0]

    def take(self) -> tuple[str, Any, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Evaluator:
        if self.peek() == "end":
            raise CondSyntaxError("empty expression", 1)
        fn = self.or_()
        kind, value, col = self.tokens[self.i]
        if kind != "end":
            raise CondSyntaxError(f'unexpected "{value}"', col)
        return fn

    def or_(self) -> Evaluator:
        parts = [self.and_()]
        while self.peek() == "or":
            self.take()
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda a: any(p(a) for p in parts)

    def and_(self) -> Evaluator:
        parts = [self.not_()]
        while self.peek() == "and":
            self.take()
            parts.append(self.not_())
        if len(parts) == 1:
            return parts[0]
        return lambda a: all(p(a) for p in parts)

    def not_(self) -> Evaluator:
        if self.peek() == "not":
            self.take()
            inner = self.not_()
            return lambda a: not inner(a)
        return self.compare()

    def compare(self) -> Evaluator:
        first = self.atom()
        chain: list[tuple[Callable[[Any, Any], bool], Evaluator]] = []
        while self.peek() in _COMPARE or self.peek() == "is":
            word = self.take()[0]
            if word == "is":  # "x is None", "x is not None": identity, as Python reads it
                op = operator.is_not if self.peek() == "not" and self.take() else operator.is_
            else:
                op = _COMPARE[word]
            chain.append((op, self.atom()))
        if not chain:
            return first

        def evaluate(a: CoercedAttrs) -> bool:
            left = first(a)
            for op, right_fn in chain:
                right = right_fn(a)
                try:
                    ok = op(left, right)
                except TypeError:  # e.g. None < 5: Python 2 allowed it, we say "false"
                    ok = False
                if not ok:
                    return False
                left = right
            return True

        return evaluate

    def atom(self) -> Evaluator:
        kind, value, col = self.take()
        if kind == "lit":
            return lambda a: value
        if kind == "name":
            self.names.add(value)
            return lambda a: a.get(value)
        if kind == "(":
            inner = self.or_()
            kind2, value2, col2 = self.take()
            if kind2 != ")":
                raise CondSyntaxError('missing ")"', col2)
            return inner
        if kind == "end":
            raise CondSyntaxError("expression ends too early", col)
        raise CondSyntaxError(f'unexpected "{value}"', col)


class Cond:
    """A compiled condition.  ``text`` is the normalised source (empty = always true)."""

    __slots__ = ("text", "names", "_fn")

    def __init__(self, text: str, fn: Evaluator | None, names: frozenset[str]):
        self.text = text
        self._fn = fn
        self.names = names

    @property
    def always(self) -> bool:
        return self._fn is None

    def __call__(self, attrs: CoercedAttrs | Mapping[str, Any]) -> bool:
        if self._fn is None:
            return True
        if not isinstance(attrs, CoercedAttrs):
            attrs = CoercedAttrs(attrs)
        return bool(self._fn(attrs))

    def __and__(self, other: "Cond") -> "Cond":
        if self.always:
            return other
        if other.always:
            return self
        f, g = self._fn, other._fn
        return Cond(f"({self.text}) and ({other.text})", lambda a: f(a) and g(a), self.names | other.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cond) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Cond({self.text!r})"


TRUE = Cond("", None, frozenset())


@lru_cache(maxsize=4096)
def compile_cond(text: str) -> Cond:
    """Compile one ``cond`` expression; raises :class:`CondSyntaxError` if it does not parse."""
    text = text.strip()
    if not text:
        return TRUE
    parser = _Parser(text)
    return Cond(text, parser.parse(), frozenset(parser.names))


def _legacy(name: str, values: str) -> str:
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not items:
        return ""
    quoted = " or ".join(f'{name} == "{v}"' for v in items if '"' not in v and "\\" not in v)
    return f"({quoted})" if quoted else "False"


def make_cond(
    where: str,
    arch: str | None = None,
    os: str | None = None,
    release: str | None = None,
    cond: str | None = None,
) -> Cond:
    """The condition of one tag or edge: the legacy lists and ``cond`` AND-ed together.

    ``where`` (``file:line``) names the tag in the KsError raised for a malformed cond.
    """
    parts = []
    for name, value in (("arch", arch), ("os", os), ("release", release)):
        if value:
            text = _legacy(name, value)
            if text:
                parts.append(text)
    if cond is not None and cond.strip():
        if "\n" in cond:
            cond = " ".join(cond.split())
        try:
            compile_cond(cond)
        except CondSyntaxError as err:
            raise KsError(f'{where}: bad cond "{cond.strip()}": {err} at column {err.column}') from None
        parts.append(cond.strip() if not parts else f"({cond.strip()})")
    if not parts:
        return TRUE
    return compile_cond(" and ".join(parts))
