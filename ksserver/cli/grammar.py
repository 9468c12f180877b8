"""The verb-noun grammar: ``ksserver <verb> <noun…> [args] [key=value…] [--json]``.

The longest command of the table that the words begin with names the command, and a
hyphenated form is the same command (``list-host-attr`` ≡ ``list host attr``); a word such
as ``vm-container-0-0`` is split only when all its parts continue a command. Words of the
form ``key=value`` are parameters; named positional arguments may be given either way, and
unnamed ones are taken in order. Pure: this module knows no database and prints nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ksserver.errors import KsError

_PARAM = re.compile(r"([A-Za-z0-9_+][A-Za-z0-9_+-]*)=(.*)\Z", re.S)


@dataclass(frozen=True)
class Command:
    """One row of the command table (``ksserver.cli.commands.COMMANDS``).

    ``run`` is ``module:function`` in ``ksserver.cli.commands``, imported only when the
    command runs. ``args`` lists positional names (``host*``, ``attr``, ``value?``);
    ``params`` the ``key=value`` names it also takes; ``fixed`` keyword arguments the row
    always passes (one function serving several rows). The dispatcher gives the function
    the command's one transaction first (``session``) and the hypervisor access
    (``power=``) when asked. ``resident=False``: always run in the caller's own process
    (a long-lived server), never in the resident (``ksserver.cli.resident``)."""

    name: str
    run: str
    help: str
    args: str = ""
    params: tuple[str, ...] = ()
    json: bool = False
    session: bool = True
    power: bool = False
    fixed: tuple[tuple[str, object], ...] = ()
    aliases: tuple[str, ...] = ()
    resident: bool = True

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    def usage(self) -> str:
        parts = ["ksserver", self.name]
        for a in self.args.split():
            bare = a.rstrip("*+?")
            shown = bare.upper() + ("…" if a[-1] in "*+" else "")
            parts.append(f"[{shown}]" if a[-1] in "*?" else shown)
        parts += [f"[{p}=…]" for p in self.params]
        if self.json:
            parts.append("[--json]")
        return " ".join(parts)

    def function(self) -> Callable:
        module, _, name = self.run.partition(":")
        return getattr(importlib.import_module(f"ksserver.cli.commands.{module}"), name)


@dataclass
class Bound:
    """A command line bound to its command: keyword arguments, and the two flags."""

    kwargs: dict
    as_json: bool = False
    wants_help: bool = False


class Grammar:
    def __init__(self, commands: Iterable[Command]):
        self.commands: dict[tuple[str, ...], Command] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        for cmd in commands:
            for words in (cmd.words, *(tuple(a.split()) for a in cmd.aliases)):
                if words in self.commands:
                    raise ValueError(f"two commands named {' '.join(words)}")
                self.commands[words] = cmd
                self.prefixes.update(words[:i] for i in range(1, len(words) + 1))

    def split(self, argv: list[str]) -> tuple[Command | None, list[str], list[str]]:
        """The command named by the longest prefix of ``argv``, the command words read,
        and the rest of the line."""
        words: list[str] = []
        best: tuple[Command | None, int] = (None, 0)
        for consumed, arg in enumerate(argv, 1):
            parts = arg.split("-") if "-" in arg and not arg.startswith("-") else [arg]
            if tuple(words + parts) not in self.prefixes:
                break
            words += parts
            if tuple(words) in self.commands:
                best = (self.commands[tuple(words)], consumed)
        cmd, consumed = best
        return cmd, words, argv[consumed:]

    def under(self, words: list[str]) -> list[Command]:
        """The commands whose names begin with ``words`` (``list host`` → ``list host attr``…)."""
        seen = {c.name: c for w, c in self.commands.items() if w[: len(words)] == tuple(words)}
        return sorted(seen.values(), key=lambda c: c.words)


def bind(cmd: Command, rest: list[str]) -> Bound:
    """Bind positional words and ``key=value`` parameters to the command's arguments."""
    out = Bound({})
    positional: list[str] = []
    given: dict[str, str] = {}
    for word in rest:
        if word == "--json" and cmd.json:
            out.as_json = True
            continue
        if word in ("--help", "-h"):
            out.wants_help = True
            return out
        match = _PARAM.match(word)
        if match:
            key = match.group(1).lower()
            if key in given:
                raise KsError(f'parameter "{key}" given twice')
            given[key] = match.group(2)
        elif word.startswith("--"):
            raise KsError(f'unknown option "{word}" for "{cmd.name}" (usage: {cmd.usage()})')
        else:
            positional.append(word)

    specs = cmd.args.split()
    names = [a.rstrip("*+?") for a in specs]
    kinds = {a.rstrip("*+?"): (a[-1] if a[-1] in "*+?" else "") for a in specs}
    bound: dict[str, object] = {}
    for key in list(given):
        if key in kinds:
            value = given.pop(key)
            bound[key] = value.split() if kinds[key] in ("*", "+") else value
    unknown = [k for k in given if k not in cmd.params and k not in kinds]
    if unknown:
        raise KsError(f'unknown parameter "{unknown[0]}" for "{cmd.name}" (usage: {cmd.usage()})')
    slots = [n for n in names if n not in bound]
    fixed = [n for n in slots if kinds[n] == ""]
    optional = [n for n in slots if kinds[n] == "?"]
    many = [n for n in slots if kinds[n] in ("*", "+")]
    need = len(fixed) + sum(1 for n in many if kinds[n] == "+")
    if len(positional) < need:
        left = len(positional)  # name the first slot, in order, that the words do not reach
        for n in slots:
            want = 1 if kinds[n] in ("", "+") else 0
            if left < want:
                raise KsError(f"missing {n.replace('_', ' ')} (usage: {cmd.usage()})")
            left -= want
    extra = len(positional) - need
    take_opt = {n: 0 for n in optional}
    for n in reversed(optional):
        if extra > 0:
            take_opt[n] = 1
            extra -= 1
    if extra > 0 and not many:
        raise KsError(f'unexpected argument "{positional[need + len(optional)]}" for "{cmd.name}" (usage: {cmd.usage()})')
    i = 0
    for n in slots:
        kind = kinds[n]
        if kind == "":
            bound[n] = positional[i]
            i += 1
        elif kind == "?":
            bound[n] = positional[i] if take_opt[n] else None
            i += take_opt[n]
        else:
            count = (1 if kind == "+" else 0) + extra
            bound[n] = positional[i : i + count]
            i += count
            extra = 0
    bound.update(given)
    for key in cmd.params:
        bound.setdefault(key, None)
    out.kwargs = {k.replace("-", "_"): v for k, v in bound.items()}
    out.kwargs.update(dict(cmd.fixed))
    return out
