"""The verb-noun grammar: ``ksserver <verb> <noun…> [args] [key=value…] [--json]``.

Commands register under their words (``list host attr``); the longest registered prefix
of the command line names the command, and a hyphenated form is the same command
(``list-host-attr`` ≡ ``list host attr``). Words of the form ``key=value`` are parameters;
named positional arguments may be given either way, and unnamed ones are taken in order.
Every failure prints one line, ``error - <what>``, on stderr and exits 1.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from ksserver.errors import KsError
from ksserver.table import format_json, format_table

_PARAM = re.compile(r"^([A-Za-z0-9_+][A-Za-z0-9_+-]*)=(.*)$", re.S)
_TRUE = {"on", "yes", "y", "true", "1"}


@dataclass
class Table:
    """What a listing returns; printed by the one formatter, or as JSON with ``--json``."""

    header: list[str]
    rows: list
    trim_owner: bool = True


@dataclass
class Spec:
    words: tuple[str, ...]
    func: Callable
    args: list[str]
    params: dict[str, object]
    help: str
    takes_json: bool = False
    flags: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return " ".join(self.words)

    def usage(self) -> str:
        parts = ["ksserver", self.name]
        for a in self.args:
            bare = a.rstrip("*+?")
            shown = bare.upper() + ("…" if a[-1] in "*+" else "")
            parts.append(f"[{shown}]" if a[-1] in "*?" else shown)
        for p in self.params:
            parts.append(f"[{p}=…]")
        if self.takes_json:
            parts.append("[--json]")
        return " ".join(parts)


REGISTRY: dict[tuple[str, ...], Spec] = {}
PREFIXES: set[tuple[str, ...]] = set()


def command(name: str, args: str = "", params: tuple[str, ...] | dict = (), *, json: bool = False, aliases: tuple[str, ...] = ()):
    """Register ``func`` under ``name``. ``args`` lists positional names (``host*``,
    ``attr``, ``value?``); ``params`` the ``key=value`` names it also accepts."""

    def wrap(func: Callable) -> Callable:
        pdict = dict(params) if isinstance(params, dict) else {p: None for p in params}
        spec = Spec(tuple(name.split()), func, args.split(), pdict, (func.__doc__ or "").strip(), json)
        for words in (spec.words, *(tuple(a.split()) for a in aliases)):
            REGISTRY[words] = spec
            for i in range(1, len(words) + 1):
                PREFIXES.add(words[:i])
        return func

    return wrap


def error(message: str) -> None:
    click.echo(f"error - {message}", err=True)
    sys.exit(1)


def split_command(argv: list[str]) -> tuple[Spec | None, list[str], list[str]]:
    """The command named by the longest registered prefix of ``argv``, and the rest.

    A hyphenated word is split only when all its parts continue a command, so an argument
    such as ``vm-container-0-0`` is never mistaken for command words."""
    words: list[str] = []
    best: tuple[Spec | None, int] = (None, 0)
    for consumed, arg in enumerate(argv, 1):
        parts = arg.split("-") if "-" in arg and not arg.startswith("-") else [arg]
        if tuple(words + parts) not in PREFIXES:
            break
        words += parts
        if tuple(words) in REGISTRY:
            best = (REGISTRY[tuple(words)], consumed)
    spec, consumed = best
    return spec, words, argv[consumed:]


def parse(spec: Spec, rest: list[str]) -> tuple[dict, bool]:
    """Bind positional words and ``key=value`` parameters to the function's arguments."""
    as_json = False
    positional: list[str] = []
    given: dict[str, str] = {}
    for word in rest:
        if word == "--json" and spec.takes_json:
            as_json = True
            continue
        if word in ("--help", "-h"):
            click.echo(spec.usage())
            if spec.help:
                click.echo("\n" + spec.help)
            sys.exit(0)
        match = _PARAM.match(word)
        if match:
            key = match.group(1).lower()
            if key in given:
                raise KsError(f'parameter "{key}" given twice')
            given[key] = match.group(2)
        elif word.startswith("--"):
            raise KsError(f'unknown option "{word}" for "{spec.name}" (usage: {spec.usage()})')
        else:
            positional.append(word)

    names = [a.rstrip("*+?") for a in spec.args]
    kinds = {a.rstrip("*+?"): (a[-1] if a[-1] in "*+?" else "") for a in spec.args}
    bound: dict[str, object] = {}
    for key in list(given):
        if key in kinds:
            value = given.pop(key)
            bound[key] = value.split() if kinds[key] in ("*", "+") else value
    unknown = [k for k in given if k not in spec.params and k not in kinds]
    if unknown:
        raise KsError(f'unknown parameter "{unknown[0]}" for "{spec.name}" (usage: {spec.usage()})')
    slots = [n for n in names if n not in bound]
    fixed = [n for n in slots if kinds[n] == ""]
    optional = [n for n in slots if kinds[n] == "?"]
    many = [n for n in slots if kinds[n] in "*+" and kinds[n] != ""]
    need = len(fixed) + sum(1 for n in many if kinds[n] == "+")
    if len(positional) < need:
        # name the first slot, in order, that the words given do not reach
        left = len(positional)
        for n in slots:
            want = 1 if kinds[n] in ("", "+") else 0
            if left < want:
                raise KsError(f"missing {n.replace('_', ' ')} (usage: {spec.usage()})")
            left -= want
    extra = len(positional) - need
    take_opt = {n: 0 for n in optional}
    for n in reversed(optional):
        if extra > 0:
            take_opt[n] = 1
            extra -= 1
    if extra > 0 and not many:
        raise KsError(f'unexpected argument "{positional[need + len(optional)]}" for "{spec.name}" (usage: {spec.usage()})')
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
    for key, value in given.items():
        bound[key.replace("-", "_")] = value
    for key in spec.params:
        bound.setdefault(key.replace("-", "_"), spec.params[key])
    return bound, as_json


def run(spec: Spec, rest: list[str]) -> None:
    try:
        kwargs, as_json = parse(spec, rest)
        result = spec.func(**kwargs)
    except KsError as err:
        error(err.message)
        return
    except OSError as err:  # a file the command reads or writes; name it, in one line
        error(f"{err.filename}: {err.strerror}" if err.filename else str(err))
        return
    emit(result, as_json)


def emit(result, as_json: bool) -> None:
    if result is None:
        return
    if isinstance(result, Table):
        text = format_json(result.header, result.rows) if as_json else format_table(
            result.header, result.rows, trim_owner=result.trim_owner
        )
    else:
        text = str(result)
    sys.stdout.write(text)
    sys.stdout.flush()


def truthy(value) -> bool:
    return str(value or "").strip().lower() in _TRUE


class VerbNounGroup(click.Group):
    """Click dispatches; the grammar above decides which command a line names."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["ksserver.argv"] = list(args)
        if not args or args[0] in ("--help", "-h", "help"):
            click.echo(ctx.get_help())
            ctx.exit(0)
        if args[0] == "--version":
            from ksserver import __version__

            click.echo(f"ksserver {__version__}")
            ctx.exit(0)
        return []

    def invoke(self, ctx: click.Context):
        argv = ctx.meta["ksserver.argv"]
        spec, words, rest = split_command(argv)
        if spec is None:
            below = sorted(" ".join(w) for w in REGISTRY if words and w[: len(words)] == tuple(words))
            if below:
                click.echo("commands under '" + " ".join(words) + "':")
                for line in below:
                    click.echo("  ksserver " + line)
                ctx.exit(0)
            error(f'invalid command "{" ".join(argv[:3])}"')
        run(spec, rest)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        seen = {}
        for spec in REGISTRY.values():
            seen[spec.name] = spec
        rows = [(spec.usage()[len("ksserver "):], (spec.help.splitlines() or [""])[0]) for spec in sorted(seen.values(), key=lambda s: s.words)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
