"""The precedence order, written once; everything that resolves attributes calls ``resolve``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Level(Enum):
    """Where a value came from; the value is the SOURCE letter users know."""

    INTRINSIC = "I"
    GLOBAL = "G"
    OS = "O"
    APPLIANCE = "A"
    HOST = "H"

    @property
    def noun(self) -> str:
        return {"I": "intrinsic", "G": "global", "O": "os", "A": "appliance", "H": "host"}[
            self.value
        ]


#: The settable levels, least specific first: a later level overrides an earlier one.
LEVELS: tuple[Level, ...] = (Level.GLOBAL, Level.OS, Level.APPLIANCE, Level.HOST)

#: Computed from the host record; no level may define them.
INTRINSIC: frozenset[str] = frozenset(
    {"hostname", "rack", "rank", "appliance", "membership", "hostaddr", "ksmac"}
)

#: Host-record values that read as host attributes (source ``H``) and may be set only there.
HOST_ONLY: frozenset[str] = frozenset({"os"})


@dataclass(frozen=True, slots=True)
class Resolved:
    value: str
    source: Level


def resolve(
    intrinsic: Mapping[str, str | None],
    layers: Mapping[Level, Mapping[str, str]],
) -> dict[str, Resolved]:
    """Overlay the levels in precedence order on top of the intrinsic values."""
    out: dict[str, Resolved] = {
        k: Resolved(v, Level.INTRINSIC) for k, v in intrinsic.items() if v is not None
    }
    for level in LEVELS:
        for name, value in layers.get(level, {}).items():
            out[name] = Resolved(value, level)
    return out


def explain(
    name: str,
    intrinsic: Mapping[str, str | None],
    layers: Mapping[Level, Mapping[str, str]],
) -> list[tuple[Level, str | None, bool]]:
    """Every level's value for one attribute, most specific first, the winner marked."""
    winner = resolve(intrinsic, layers).get(name)
    rows = []
    for level in reversed(LEVELS):
        value = layers.get(level, {}).get(name)
        rows.append((level, value, winner is not None and winner.source is level))
    value = intrinsic.get(name)
    rows.append(
        (Level.INTRINSIC, value, winner is not None and winner.source is Level.INTRINSIC)
    )
    return rows
