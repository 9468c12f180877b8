"""``ksserver insert-ethers`` as a script runs it: not on a terminal, one JSON line per event."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("ksserver"))


class Session:
    """``ksserver insert-ethers`` as a script runs it: not on a terminal, JSON lines."""

    def __init__(self, ks, *args: str, env: dict | None = None, wrap: list[str] | None = None):
        """``ks``: a test home (its ``env()``), or None with ``env`` given; ``wrap``: what
        to run it under (``ip netns exec NS``)."""
        env = env if env is not None else {**os.environ, **ks.env()}
        self.proc = subprocess.Popen([*(wrap or []), EXE, "insert-ethers", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[dict] = []
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.proc.stdout] + [self.lines.put("")],
                         daemon=True).start()
        self.next()  # "open"

    def next(self, timeout: float = 60) -> dict:
        try:
            line = self.lines.get(timeout=max(0.1, timeout))
        except queue.Empty:
            self.proc.terminate()
            raise AssertionError(f"insert-ethers said nothing in time; it said before: {self.events}; "
                                 f"on stderr: {self.proc.communicate(timeout=30)[1][-2000:]}") from None
        assert line, f"insert-ethers ended: {self.proc.stderr.read()}"
        self.events.append(json.loads(line))
        return self.events[-1]

    def wait(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.next(deadline - time.monotonic())
            if got["event"] == event:
                return got
        raise AssertionError(f"no {event} event: {self.events}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(30)
