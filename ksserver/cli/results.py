"""What a command returns for the dispatcher to print: text, bytes, a ``Table`` (printed by
the one table formatter, or as JSON with ``--json``), or ``Problems`` raised (one
``error - `` line each, exit 1)."""

from __future__ import annotations

from dataclasses import dataclass

from ksserver.errors import Problems  # noqa: F401  (raised by commands; printed by the dispatcher)


@dataclass
class Table:
    header: list[str]
    rows: list
    trim_owner: bool = True
    records: list | None = None  # what --json prints when the rows flatten a nesting (list cluster)


def lines(items) -> str:
    return "".join(f"{line}\n" for line in items)
