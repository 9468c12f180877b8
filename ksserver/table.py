"""The one table formatter: the original's ``endOutput`` rules, and the same rows as JSON.

Rules (spec §7.3): header words upper-cased; the first column is the owner, printed
``owner:``; an empty cell is filled with the pad character to the column's width; every cell
is left-justified and padded to its width (so lines keep trailing blanks); one space between
columns; no rows prints nothing, not even the header. When every row has the same owner and
the command allows it, the owner column and the header's first word are dropped.
"""

from __future__ import annotations

import json
import re
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
    """Render ``rows`` (first cell: the owner, without its colon) under ``header``."""
    if not rows:
        return ""
    width = len(header)
    table = []
    for row in rows:
        cells = [_text(c) for c in row]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        owner = cells[0]
        cells[0] = f"{owner}:"
        table.append(cells)
    head = [h.upper() for h in header]
    if trim_owner and len({r[0] for r in table}) == 1:
        table = [r[1:] for r in table]
        head = head[1:]
    widths = [len(h) for h in head]
    for r in table:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = [" ".join(h.ljust(w) for h, w in zip(head, widths))]
    for r in table:
        cells = []
        for c, w in zip(r, widths):
            cells.append(c.ljust(w) if c else (pad_char * w if pad_char else ""))
        lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


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
    return json.dumps(table_records(header, rows), indent=2, default=str) + "\n"
