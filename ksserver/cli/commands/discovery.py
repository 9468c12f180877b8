"""``ksserver insert-ethers``: the session's loop, its screen on a terminal, JSON elsewhere.

On a terminal it is the original's screen (curses): the appliance, the newest-first list of
``MAC  name  mark`` — ``( )`` until that host's kickstart is served, ``(*)`` once it is,
``(NNN)`` for an error — a one-line notice for each machine found; F8 (or q) quits, but
waits while a machine found has not fetched its kickstart; F9 quits at once. Anywhere else
(scripts, tests) it writes one JSON object per line for each event. A session ends after
``count=`` machines have fetched their kickstarts, on F8/F9, on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import signal
import sys
import time

from ksserver import __version__
from ksserver.errors import KsError
from ksserver.services import bootfiles, discovery, netboot, transaction
from ksserver.services.discovery import Found, Params
from ksserver.truth import is_yes

NOTICE_SECONDS = 2.0


def insert_ethers(power, appliance=None, rack=None, rank=None, basename=None, hostname=None, ipaddr=None,
                  baseip=None, inc=None, count=None, install=None, replace=None, remove=None, update=None):
    from ksserver.services import inventory, validate

    if remove:
        with transaction() as s, netboot.following(s) as warnings:
            inventory.remove_hosts(s, [remove], power=power)
        _warn(warnings)
        return f"Removed node {remove}\n"
    if update is not None and is_yes(update):
        with transaction() as s:
            return "".join(line + "\n" for line in netboot.sync_config(s))
    params = Params(
        appliance=appliance or "compute",
        basename=basename,
        rack=validate.integer(rack, "rack", 0) if rack is not None else 0,
        rank=validate.integer(rank, "rank", 0) if rank is not None else None,
        hostname=validate.name(hostname, "host") if hostname else None,
        ipaddr=validate.ip(ipaddr) if ipaddr else None,
        baseip=validate.ip(baseip, "baseip") if baseip else None,
        inc=validate.integer(inc, "inc", -65536, 65536) if inc is not None else -1,
        count=validate.integer(count, "count", 1) if count is not None else None,
        install=validate.boolean(install, "install") if install is not None else True,
    )
    if params.inc == 0:
        raise KsError("invalid inc 0: addresses must step up or down")
    if params.hostname or params.ipaddr:
        params.count = 1  # as the original: a name or an address given is one machine
    with transaction() as s:
        where, membership = discovery.prepare(s, params, replace)
    if params.replace:
        with transaction() as s, netboot.following(s) as warnings:
            inventory.remove_hosts(s, [params.replace], power=power)
        _warn(warnings)
    listening = discovery.Listening(params)
    ui = Screen(membership, where) if sys.stdin.isatty() and sys.stdout.isatty() else JsonLines(membership, where)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("term"))
    try:
        _apply_dhcp(ui)
        _loop(listening, params, ui, stop)
    except KeyboardInterrupt:
        pass
    finally:
        listening.close()
        _apply_dhcp(ui)  # the pool and the hook go with the session
        ui.close(listening.params.found)
    return None


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning - {w}", file=sys.stderr)


def _apply_dhcp(ui) -> None:
    with transaction() as s:
        try:
            netboot.apply_dhcp(s, always=False) if netboot.kea_configured(s) else None
        except KsError as err:
            ui.notice(f"DHCP not applied: {err.message}")


def _loop(listening, params: Params, ui, stop: list) -> None:
    unwritten: list[Found] = []  # registered, boot files not yet written
    try:
        _run(listening, params, ui, stop, unwritten)
    finally:
        if unwritten:  # however the session ends, its machines' boot files are written
            with transaction() as s:
                bootfiles.refresh(s, [f.host for f in unwritten])


def _run(listening, params: Params, ui, stop: list, unwritten: list[Found]) -> None:
    found: list[Found] = []
    marks: dict[str, str] = {}
    quitting = False
    last_poll = 0.0
    since = 0.0
    while not stop:
        announced = listening.receive(0.25)
        # boot files once a burst is over (or every 2 s during one): registrations first,
        # as the reservation is what a machine needs first
        if unwritten and (not announced or time.monotonic() - since > 2.0):
            with transaction() as s:
                bootfiles.refresh(s, [f.host for f in unwritten])
            unwritten.clear()
        if announced:
            with transaction() as s, netboot.following(s) as warnings:
                new = discovery.register(s, params, announced)
            for w in warnings:
                ui.notice(w)
            if new:
                listening.record(f.host for f in new)
                for f in new:
                    found.append(f)
                    marks[f.host] = "( )"
                    ui.discovered(f)
                if not unwritten:
                    since = time.monotonic()
                unwritten += new
        if found and time.monotonic() - last_poll > 1.0:
            last_poll = time.monotonic()
            with transaction() as s:
                now = discovery.marks(s, [f.host for f in found])
            for host, mark in now.items():
                if marks.get(host) != mark:
                    marks[host] = mark
                    ui.marked(host, mark)
        pending = [f.host for f in found if marks.get(f.host) == "( )"] if params.install else []
        enough = params.count is not None and len(found) >= params.count and not unwritten
        key = ui.key()
        if key == "force":
            return
        if key == "quit":
            quitting = True
        if (quitting or enough) and not pending:
            return
        if quitting and pending:
            ui.waiting(pending)


class JsonLines:
    """Not on a terminal: one JSON object per event, flushed at once."""

    def __init__(self, membership: str, network: str):
        self._emit({"event": "open", "appliance": membership, "network": network})

    def _emit(self, obj: dict) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def discovered(self, f: Found) -> None:
        self._emit({"event": "discovered", "mac": f.mac, "host": f.host, "ip": f.ip})

    def marked(self, host: str, mark: str) -> None:
        self._emit({"event": "kickstarted" if mark == "(*)" else "kickstart error", "host": host, "mark": mark})

    def notice(self, text: str) -> None:
        self._emit({"event": "notice", "text": text})

    def waiting(self, hosts: list[str]) -> None:
        pass

    def key(self) -> str | None:
        return None

    def close(self, found: list[str]) -> None:
        self._emit({"event": "closed", "found": found})


class Screen:
    """On a terminal: the original's screen, with curses."""

    def __init__(self, membership: str, network: str):
        import curses

        self.curses = curses
        self.win = curses.initscr()
        curses.noecho()
        curses.cbreak()
        self.win.keypad(True)
        self.win.nodelay(True)
        try:
            curses.curs_set(0)
        except curses.error:
            pass
        self.membership, self.network = membership, network
        self.rows: list[list[str]] = []  # newest first: [mac, host, mark]
        self.message, self.message_until = "", 0.0
        self.draw()

    def draw(self) -> None:
        w = self.win
        w.erase()
        height, width = w.getmaxyx()
        put = lambda y, x, text, attr=0: w.addnstr(y, x, text, max(0, width - x - 1), attr)  # noqa: E731
        put(0, 0, f"Insert Ethernet Addresses -- version {__version__}")
        put(1, 0, f"Opened kickstart access to {self.network} network")
        put(3, 0, f"Appliance: {self.membership}")
        box = min(50, width - 2)
        put(5, 0, "┌ Inserted Appliances " + "─" * max(0, box - 22) + "┐")
        lines = max(4, height - 12)
        for i in range(lines):
            row = self.rows[i] if i < len(self.rows) else None
            text = f"{row[0]}  {row[1]}  {row[2]}" if row else ""
            put(6 + i, 0, "│ " + text.ljust(box - 2)[: box - 2] + "│")
        put(6 + lines, 0, "└" + "─" * (box - 1) + "┘")
        if self.message and time.monotonic() < self.message_until:
            put(8 + lines, 0, self.message, self.curses.A_BOLD)
        put(height - 1, 0, " Press <F8> to quit, press <F9> to force quit")
        w.refresh()

    def _say(self, text: str, seconds: float = NOTICE_SECONDS) -> None:
        self.message, self.message_until = text, time.monotonic() + seconds

    def discovered(self, f: Found) -> None:
        self.rows.insert(0, [f.mac, f.host, "( )"])
        self._say(f"Discovered a new appliance with MAC ({f.mac})")
        self.draw()

    def marked(self, host: str, mark: str) -> None:
        for row in self.rows:
            if row[1] == host:
                row[2] = mark
        self.draw()

    def notice(self, text: str) -> None:
        self._say(text, 5.0)
        self.draw()

    def waiting(self, hosts: list[str]) -> None:
        self._say("Not kickstarted, please wait... " + " ".join(hosts), 1.0)
        self.draw()

    def key(self) -> str | None:
        if self.message and time.monotonic() >= self.message_until:
            self.message = ""
            self.draw()
        ch = self.win.getch()
        if ch in (self.curses.KEY_F8, ord("q"), ord("Q")):
            return "quit"
        if ch == self.curses.KEY_F9:
            return "force"
        return None

    def close(self, found: list[str]) -> None:
        c = self.curses
        self.win.keypad(False)
        c.nocbreak()
        c.echo()
        c.endwin()
        print(f"insert-ethers: {len(found)} machine{'' if len(found) == 1 else 's'} found"
              + (f": {', '.join(found)}" if found else ""))
