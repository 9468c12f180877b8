"""What a command returns for the dispatcher to print: text, bytes, a ``Table`` (printed by
the one table formatter, or as JSON with ``--json``), or ``Problems`` raised (one
``error - `` line each, exit 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Table:
    header: list[str]
    rows: list
    trim_owner: bool = True


class Problems(Exception):
    """Several one-line errors at once (``check graph``)."""

    def __init__(self, lines: list[str]):
        super().__init__("; ".join(lines))
        self.lines = lines


def lines(items) -> str:
    return "".join(f"{line}\n" for line in items)
