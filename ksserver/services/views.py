"""The listings, once: each one's columns and their JSON types, for the CLI and the API.

Rule: ``ksserver list X --json`` and ``GET /api/v1/X`` are the same records because both are
``View.records`` of the same service rows under the same columns (a column ``VM-HOST`` is
the key ``vm_host``, ``table.json_key``); the API's schemas are made from these types, so the
OpenAPI document cannot drift from what is served. ``hosts`` is the one paged read of hosts
with their interfaces and resolved attributes, in a fixed number of statements per page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ksserver import outputs
from ksserver.table import json_key, table_records


@dataclass(frozen=True)
class View:
    columns: tuple[tuple[str, str], ...]  # (column, JSON type: string, integer or boolean)

    @property
    def header(self) -> list[str]:
        return [c for c, _t in self.columns]

    @property
    def fields(self) -> dict[str, str]:
        return {json_key(c): t for c, t in self.columns}

    def records(self, rows: Sequence[Sequence]) -> list[dict]:
        return table_records(self.header, rows)


def _v(*columns: str) -> View:
    """Columns, each ``NAME`` (a string) or ``NAME:integer`` / ``NAME:boolean``."""
    return View(tuple((c.partition(":")[0], c.partition(":")[2] or "string") for c in columns))


HOST = _v("HOST", "MEMBERSHIP", "CPUS:integer", "RACK:integer", "RANK:integer", "RUNACTION", "INSTALLACTION")
INTERFACE = _v("HOST", "SUBNET", "IFACE", "MAC", "IP", "NETMASK", "MODULE", "NAME", "VLAN:integer", "OPTIONS",
               "CHANNEL")
APPLIANCE = _v("APPLIANCE", "MEMBERSHIP", "GRAPH", "NODE", "KICKSTARTABLE:boolean", "PUBLIC:boolean")
NETWORK = _v("NETWORK", "SUBNET", "NETMASK", "MTU:integer", "DNSZONE", "SERVEDNS:boolean")
OS = _v("OS")
BOOTACTION = _v("ACTION", "KERNEL", "RAMDISK", "ARGS")
ROLL = _v("NAME", "VERSION", "ARCH", "OS", "ENABLED", "URL")
DISTRO = _v("NAME", "FAMILY", "VERSION", "ARCH", "PATH")
STATUS = _v("HOST", "BOOT", "STAGE", "TIME", "ADDRESS")
HOST_ATTR = _v("HOST", "ATTR", "VALUE", "SOURCE")
GLOBAL_ATTR = _v("ATTR", "VALUE")
EXPLAIN = _v("HOST", "SOURCE", "LEVEL", "OWNER", "VALUE", "WINNER")
TOKEN = _v("NAME", "ROLE", "CREATED", "LAST-USED")
USER = _v("NAME", "ROLE", "CREATED", "LAST-LOGIN")
VM = _v("VM-HOST", "SLICE:integer", "MEM:integer", "CPUS:integer", "MAC", "HOST", "STATUS", "DISK", "DISKSIZE:integer")


def level_attr(level: str) -> View:
    """``list os|appliance|host attr``: the owner's column, then ATTR and VALUE."""
    return _v(level.upper(), "ATTR", "VALUE")


def vm_view(status: bool, showdisks: bool) -> View:
    wanted = {"STATUS": status, "DISK": showdisks, "DISKSIZE": showdisks}
    return View(tuple(c for c in VM.columns if wanted.get(c[0], True)))


# --- hosts, paged ------------------------------------------------------------------------


def _attr_record(value: str, level) -> dict:
    return {"value": value, "source": level.letter}


#: the most hosts one page of the API holds (the default is 100)
MAX_PAGE = 1000


def hosts(session: Session, selectors: Sequence[str], *, offset: int = 0, limit: int = 100,
          interfaces: bool = True, attrs: bool = False, reader: bool = False) -> tuple[int, list[dict]]:
    """(how many hosts the selectors name, the records of ``limit`` of them from ``offset``):
    each ``list host``'s record with its ``interfaces`` (``list host interface``'s records
    without the host) and, with ``attrs``, its resolved attributes as ``{name: {value,
    source}}`` (``list host attr``), as a read-only viewer sees them when ``reader``. Statements: the selection, one for the interfaces, the
    attribute levels' few — the same for a page of 10 or of 1,000."""
    from ksserver.services import attributes, inventory, selection

    total, page = selection.select_page(session, list(selectors), offset, limit)
    every = not selectors and len(page) == total  # the page is every host: no list of ids is sent
    out = HOST.records([(r.name, r.membership, r.cpus, r.rack, r.rank, r.runaction, r.installaction)
                        for r in page])
    if interfaces:
        by_host: dict[str, list[dict]] = defaultdict(list)
        for rec in INTERFACE.records(inventory.interface_rows(session, page, every=every)):
            by_host[rec.pop("host")].append(rec)
        for item in out:
            item["interfaces"] = by_host.get(item["host"], [])
    if attrs and page:
        # the records made by the fold itself: a value of the global, OS or appliance level is
        # made once for every host that shares it, and each host's attributes are only sorted
        resolved = attributes.resolve_hosts(session, page, everything=every, make=_attr_record,
                                            shown=outputs.shown_to_reader if reader else None)
        for item, rec in zip(out, page):
            item["attrs"] = dict(sorted(resolved[rec.id].items()))
    return total, out
