"""The command line: reads a command, runs it in one transaction, prints what it returns.

Rule: ``COMMANDS`` (``ksserver.cli.commands``) is the one table of commands; this module
is the one dispatcher. It opens the command's transaction (the only place the CLI does),
passes the hypervisor access to the commands that power VMs, and maps every failure to one
line on stderr: ``error - …`` and exit status 1 for bad input, 2 for a command line that
names no command. A command imports only its own module, so ``help`` and small commands
start fast. No SQL and no rules here: those are the services'.
"""

from __future__ import annotations

import sys
import textwrap

from ksserver.cli.commands import COMMANDS
from ksserver.cli.grammar import Command, Grammar, bind
from ksserver.cli.results import Problems, Table
from ksserver.errors import KsError

GRAMMAR = Grammar(COMMANDS)

_ABOUT = ("Kickstart provisioning server for clusters. Commands read "
          "`ksserver VERB NOUN… [ARGS] [key=value…]`; `ksserver list-host-attr` is `ksserver list host attr`. "
          "`ksserver help TOPIC` shows one command, or the commands under a word.")


class _Usage(Exception):
    """A command line that names no command (exit status 2)."""


def main(argv: list[str] | None = None, power=None) -> int:
    """Run one command line; returns the exit status. ``power``: how VM commands reach
    hypervisors (``power.Power``; libvirt when not given). The command line of the process
    itself (no ``argv``) runs in the resident command process when one serves this home."""
    if argv is None and power is None:
        return _from_shell(sys.argv[1:])
    return _run(list(argv if argv is not None else sys.argv[1:]), power)


def _from_shell(args: list[str]) -> int:
    cmd = GRAMMAR.split(args)[0] if args and args[0] not in ("help", "--help", "-h", "--version") else None
    if cmd is None or not cmd.resident:
        return _run(args, None, settle=True)
    from ksserver.cli import resident

    code = resident.run(args)
    if code is None:
        code = _run(args, None, settle=True)
        resident.start()
    return code


def _run(args: list[str], power, settle: bool = False) -> int:
    try:
        return _main(args, power, settle)
    except _Usage as err:
        print(f"error - {err}", file=sys.stderr)
        return 2
    except Problems as err:
        for line in err.lines:
            print(f"error - {line}", file=sys.stderr)
        return 1
    except KsError as err:
        print(f"error - {err.message}", file=sys.stderr)
        return 1
    except OSError as err:  # a file the command reads or writes: named, in one line
        print(f"error - {err.filename}: {err.strerror}" if err.filename else f"error - {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error - interrupted", file=sys.stderr)
        return 130


def _main(args: list[str], power, settle: bool = False) -> int:
    for i, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise KsError(f'argument {i} ("{shown}") is not UTF-8 text') from None
    if not args or args[0] in ("help", "--help", "-h"):
        return _help(args[1:])
    if args[0] == "--version":
        from ksserver import __version__

        print(f"ksserver {__version__}")
        return 0
    cmd, words, rest = GRAMMAR.split(args)
    if cmd is None:
        shown = " ".join(args[: max(len(words) + 1, 2)])
        raise _Usage(f'unknown command "{shown}" (`ksserver help` lists the commands)')
    line = bind(cmd, rest)
    if line.wants_help:
        return _help(list(cmd.words))
    _emit(_call(cmd, line.kwargs, power, settle), line.as_json)
    return 0


def _call(cmd: Command, kwargs: dict, power, settle: bool = False):
    """``settle``: this process is the command's own (not a caller's that runs many)."""
    func = cmd.function()
    if cmd.power:
        if power is None:
            from ksserver.power import Power

            power = Power()
        kwargs["power"] = power
    if not cmd.session:
        return func(**kwargs)
    from ksserver.services import work

    if settle:
        # what is imported now lives as long as the process: the collector stops walking it
        # (a command that reads 10,000 rows otherwise pays a full collection over every
        # module; the resident does the same once, for all its children)
        import gc

        gc.freeze()
    # one transaction; DHCP follows the inventory once, before it commits (services.work)
    with work.change() as (session, warnings):
        result = func(session, **kwargs)
    for warning in warnings:
        print(f"warning - {warning}", file=sys.stderr)
    return result


def _emit(result, as_json: bool) -> None:
    if result is None:
        return
    if isinstance(result, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
        return
    if isinstance(result, Table):
        from ksserver.table import format_json, format_records, format_table

        if as_json:
            records = result.records
            text = format_records(records) if records is not None else format_json(result.header, result.rows)
        else:
            text = format_table(result.header, result.rows, trim_owner=result.trim_owner)
    else:
        text = str(result)
    sys.stdout.write(text)
    sys.stdout.flush()


def _help(topic: list[str]) -> int:
    """``help``: every command; ``help WORDS``: that command, or the commands under it."""
    if topic:
        cmd, words, rest = GRAMMAR.split(topic)
        if cmd is not None and not rest:
            print(cmd.usage())
            print()
            print(textwrap.fill(cmd.help, 88, break_on_hyphens=False))
            more = [c for c in GRAMMAR.under(list(cmd.words)) if c is not cmd]
            if more:
                print(f"\nand under `{cmd.name}`: " + "; ".join(c.name for c in more))
            return 0
        chosen = GRAMMAR.under(topic)
        if not chosen:
            raise _Usage(f'no command "{" ".join(topic)}" (`ksserver help` lists the commands)')
    else:
        chosen = GRAMMAR.under([])
        print(textwrap.fill(_ABOUT, 88, break_on_hyphens=False))
        print()
    for cmd in chosen:
        print(cmd.usage())
        print(textwrap.indent(textwrap.fill(cmd.help, 84, break_on_hyphens=False), "    "))
    return 0
