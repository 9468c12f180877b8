"""``<eval>``: a shell fragment of a node file, run on the frontend while a kickstart is made.

The original's graphs compute what only the frontend knows this way (root password hashes,
a host's network files, partitioning): the fragment's text goes to the standard input of its
``shell`` (``sh`` unless said; ``python`` is this Python), and what it prints takes its place
— as text (``mode="quote"``, the default) or as node-file XML (``mode="xml"``).

Running code found in a graph is a trust decision, so it is taken narrowly:

* only from a node file that neither it, its directory nor its graph directory lets others
  write (``trusted``), owned by root or by whoever runs ksserver;
* with no terminal (a session of its own), in the node file's directory, with a time limit;
* with an environment of ``PATH``, ``HOME``, ``LANG``, ksserver's own ``KSSERVER_*`` settings
  (so ``rocks`` and ``ksserver`` commands reach the same inventory) and the attributes its
  text names, nothing else;
* its output is data: XML-escaped in quote mode, parsed without entities or DOCTYPE in xml
  mode, and then judged by the kickstart's own rules like any text of the node file.

A ``Runner`` keeps each result under everything it was given (text, shell, mode, directory,
environment) and its ``salt`` — the caller's word for "the world the commands read", the
inventory revision in ksserver — so a second host, or the same host again, does not run it
twice while nothing it could see has changed.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ksserver.errors import KsError

__all__ = ["Eval", "Runner", "names_in", "trusted"]

DEFAULT_TIMEOUT = 30.0
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PASSED = ("PATH", "HOME", "LANG", "LC_ALL")
_MAX_KEPT = 4096


def names_in(text: str, attrs: Mapping[str, Any]) -> tuple[str, ...]:
    """The attributes an eval's text names (as ``$Name``, ``${Name}``, ``os.environ['Name']``
    or any other word): the ones its environment gets."""
    return tuple(sorted({w for w in _WORD.findall(text) if w in attrs}))


@dataclass(frozen=True)
class Eval:
    where: str  # file:line, for messages
    text: str
    shell: str = "sh"
    mode: str = "quote"
    cwd: str = "."
    env: tuple[tuple[str, str], ...] = ()


def trusted(node_file: Path, graph_dir: Path) -> str | None:
    """Why an ``<eval>`` of ``node_file`` may not run (``None``: it may): the file, its
    directory and the graph directory must be writable by their owner alone, and owned by
    root or by this process's user."""
    me = os.geteuid()
    for path in (node_file, node_file.parent, graph_dir):
        try:
            st = os.stat(path)
        except OSError as err:
            return f"{path}: {err.strerror}"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{path} is writable by {'others' if st.st_mode & stat.S_IWOTH else 'its group'}"
        if st.st_uid not in (0, me):
            return f"{path} belongs to uid {st.st_uid}, neither root nor this server's user"
    return None


class Runner:
    """Runs evals and keeps their results (see the module's docstring)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, salt: Any = None, environ: Mapping[str, str] | None = None):
        self.timeout = timeout
        self.salt = salt
        source = os.environ if environ is None else environ
        self.base = {k: v for k, v in source.items() if k in _PASSED or k.startswith("KSSERVER_")}
        self.base.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        # the `rocks` and `ksserver` commands of this installation come first
        self.base["PATH"] = f"{Path(sys.executable).parent}:{self.base['PATH']}"
        self._kept: dict[Eval, str] = {}
        self._lock = threading.Lock()
        self.runs = 0  # how many evals really ran (the bench reports it)

    def __call__(self, ev: Eval) -> str:
        hit = self._kept.get(ev)
        if hit is not None:
            return hit
        out = self._run(ev)
        with self._lock:
            if len(self._kept) >= _MAX_KEPT:
                self._kept.clear()
            self._kept[ev] = out
        return out

    def _run(self, ev: Eval) -> str:
        argv = [sys.executable, "-"] if ev.shell == "python" else [ev.shell]
        if not argv[0] or any(c.isspace() for c in argv[0]):
            raise KsError(f'{ev.where}: <eval shell="{ev.shell}">: not a program')
        env = {**self.base, **dict(ev.env)}
        self.runs += 1
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=ev.cwd, env=env, start_new_session=True, close_fds=True)
        except OSError as err:
            raise KsError(f"{ev.where}: <eval> cannot run {argv[0]}: {err.strerror}") from None
        try:
            out, err = proc.communicate(ev.text.encode("utf-8"), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # and whatever it started
            except ProcessLookupError:
                pass
            proc.communicate()
            raise KsError(f"{ev.where}: <eval> ran past its time limit of {self.timeout:g} s") from None
        if proc.returncode != 0:
            last = next((line for line in reversed(err.decode("utf-8", "replace").splitlines()) if line.strip()), "")
            raise KsError(f"{ev.where}: <eval> exited with status {proc.returncode}" + (f": {last.strip()}" if last else ""))
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError:
            raise KsError(f"{ev.where}: <eval> printed text that is not UTF-8") from None
