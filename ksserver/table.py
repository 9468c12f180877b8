"""The one table formatter: the original's ``endOutput`` rules, and the same rows as JSON.

Rules (docs/original-behaviour.md §7.3): header words upper-cased; the first column is the owner, printed
``owner:``; an empty cell is filled with the pad character to the column's width; every cell
is left-justified and padded to its width (so lines keep trailing blanks); one space between
columns; no rows prints nothing, not even the header. When every row has the same owner and
the command allows it, the owner column and the header's first word are dropped.
"""

from __future__ import annotations

import json
import re
from itertools import starmap
from collections.abc import Sequence
from typing import Any

Cell = Any


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    return str(cell)


def format_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    trim_owner: bool = True,
    pad_char: str = "-",
) -> str:
    """Render ``rows`` (first cell: the owner, without its colon) under ``header``.

    Works column by column, so that a million-row listing stays well under a second."""
    if not rows:
        return ""
    ncols = len(header)
    columns = [list(col) for col in zip(*(_fill(r, ncols) for r in rows))]
    for i, col in enumerate(columns):
        if set(map(type, col)) != {str}:
            columns[i] = [_text(c) for c in col]
    columns[0] = [f"{c}:" for c in columns[0]]
    head = [h.upper() for h in header]
    if trim_owner and len(set(columns[0])) == 1:
        columns, head = columns[1:], head[1:]
    widths = [max(len(h), max(map(len, col))) for h, col in zip(head, columns)]
    for i, (col, w) in enumerate(zip(columns, widths)):
        if "" in col:
            filler = pad_char * w
            columns[i] = [c or filler for c in col]
    fmt = " ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head)]
    lines += starmap(fmt.format, zip(*columns))
    return "\n".join(lines) + "\n"


def _fill(row: Sequence[Cell], ncols: int) -> Sequence[Cell]:
    return row if len(row) == ncols else list(row) + [""] * (ncols - len(row))


def json_key(column: str) -> str:
    """``VM-HOST`` → ``vm_host``; ``CLIENT NODES`` → ``client_nodes``."""
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")


def table_records(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[dict]:
    """The rows as objects keyed by the lower-cased column names; empty cells are null."""
    keys = [json_key(h) for h in header]
    out = []
    for row in rows:
        cells = list(row) + [None] * (len(keys) - len(row))
        out.append({k: (None if c in ("", None) else c) for k, c in zip(keys, cells)})
    return out


def format_json(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    return format_records(table_records(header, rows))


def format_records(records: list) -> str:
    """Records (``table_records``, or a listing's nested form such as ``list cluster``'s) as JSON."""
    return json.dumps(records, indent=2, default=str) + "\n"
