"""Copy progress: an aggregate over several files, and a terminal renderer.

``move host vm`` copies the save image and every disk; the user wants one line that
says how far along the whole move is, how fast, and how long is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Progress:
    label: str  # the file being copied
    done: int  # bytes copied so far, all files
    total: int  # bytes to copy, all files
    rate: float  # bytes per second since the start
    eta: float | None  # seconds left, None while unknown

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Turns per-file byte counts into :class:`Progress` over all files."""

    def __init__(self, total: int, callback: ProgressCallback | None, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.callback = callback
        self.clock = clock
        self.start = clock()
        self.finished = 0  # bytes of files already copied

    def file(self, label: str) -> Callable[[int], None]:
        """Byte callback for the next file."""

        def report(done_in_file: int) -> None:
            if self.callback is None:
                return
            done = self.finished + done_in_file
            elapsed = max(self.clock() - self.start, 1e-9)
            rate = done / elapsed
            eta = (self.total - done) / rate if rate > 0 and self.total >= done else None
            self.callback(Progress(label, done, self.total, rate, eta))

        return report

    def file_done(self, size: int) -> None:
        self.finished += size


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressRenderer:
    """Writes ``label  1.2 GiB / 36.0 GiB  3%  45.3 MiB/s  ETA 12:34`` to ``stream``.

    On a terminal each update overwrites the line (``\\r``); elsewhere (a log) one line
    per update, at most every ``min_interval`` seconds plus the final one.
    Call :meth:`close` when done to end the line.
    """

    def __init__(self, stream: TextIO, min_interval: float = 0.5, clock: Callable[[], float] = time.monotonic, tty: bool | None = None):
        self.stream = stream
        self.min_interval = min_interval
        self.clock = clock
        self.tty = stream.isatty() if tty is None else tty
        self._last: float | None = None
        self._width = 0
        self._open = False

    @staticmethod
    def format(p: Progress) -> str:
        pct = f"{p.fraction * 100:3.0f}%"
        return (
            f"{p.label}  {human_bytes(p.done)} / {human_bytes(p.total)}  {pct}"
            f"  {human_bytes(p.rate)}/s  ETA {human_duration(p.eta)}"
        )

    def __call__(self, p: Progress) -> None:
        now = self.clock()
        final = p.total and p.done >= p.total
        if self._last is not None and not final and now - self._last < self.min_interval:
            return
        self._last = now
        line = self.format(p)
        if self.tty:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
            self._open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
