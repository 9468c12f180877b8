"""Kea's hosts database: the DHCP plan's reservations as rows of Kea's own PostgreSQL schema
(``kea-admin db-init pgsql``), for sites whose reservations are many.

Rule: with ``Dhcp_HostsDatabase`` set (a PostgreSQL URL), Kea's configuration carries no
reservation: it names the database, and Kea looks each client up there when it asks (Kea
2.2 keeps no cache of hosts). A change of reservations is then a few rows in one transaction
and no Kea command at all, where the configuration file costs a ``config-test`` and a
``config-set`` of every reservation (0.6 to 1.2 s at 10,000 hosts, bench/netboot.py). Only the rows ksserver
wrote (``MARK`` in their ``user_context``) are changed or removed; a site's own reservation
stays, and one that holds a MAC or an address ksserver needs is named in the error.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

from ksserver import outputs
from ksserver.errors import KsError, Unreachable
from ksserver.services import validate

ATTR = "Dhcp_HostsDatabase"
MARK = json.dumps({"ksserver": True})  # the user_context of the rows ksserver owns
HW_ADDRESS = 0  # Kea's host_identifier_type for a MAC
LOCK = 0x6B73_6B65_6168  # ksserver's advisory lock on Kea's database ("kskeah")
_ALLOWED = {"user", "password", "host", "port", "dbname", "connect_timeout"}


@dataclass(frozen=True)
class Database:
    """Where Kea's hosts are: the URL as given (what ksserver connects with) and its parts."""

    url: str
    params: dict

    @property
    def where(self) -> str:
        p = self.params
        return f"{p.get('user') or ''}@{p.get('host') or 'localhost'}:{p.get('port') or 5432}/{p['dbname']}"

    def kea(self) -> dict:
        """The ``hosts-database`` entry of Kea's configuration: the same database, and Kea
        keeps serving (leases and the configured subnets) while it reconnects."""
        p = self.params
        entry = {"type": "postgresql", "name": p["dbname"]}
        for key in ("user", "password", "host"):
            if p.get(key):
                entry[key] = p[key]
        if p.get("port"):
            entry["port"] = int(p["port"])
        if p.get("connect_timeout"):
            entry["connect-timeout"] = int(p["connect_timeout"])
        entry.update({"max-reconnect-tries": 3600, "reconnect-wait-time": 1000, "on-fail": "serve-retry-continue"})
        return entry


def configured(attrs: dict[str, str]) -> Database | None:
    """The hosts database ``attrs`` name, or ``None`` (reservations in Kea's configuration);
    a ``KsError`` naming the attribute for a URL Kea could not be given."""
    url = (attrs.get(ATTR) or "").strip()
    if not url:
        return None
    from psycopg.conninfo import conninfo_to_dict

    what = f'attribute "{ATTR}"'
    if not url.startswith(("postgresql://", "postgres://")):
        raise KsError(f"{what} must be a PostgreSQL URL, postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME "
                      "(Kea's hosts database)")
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except Exception as err:  # psycopg's ProgrammingError: its text names what is wrong
        raise KsError(f"{what} is not a PostgreSQL URL: {str(err).splitlines()[0]}") from None
    unknown = sorted(set(params) - _ALLOWED)
    if unknown:
        raise KsError(f"{what}: Kea cannot be given the connection parameter {unknown[0]}")
    if not params.get("dbname"):
        raise KsError(f"{what} names no database (postgresql://USER@HOST/DBNAME)")
    for key, value in params.items():
        outputs.kea_db_word(value, f"{what}: its {key}")
    for key in ("port", "connect_timeout"):
        if key in params and not params[key].isdigit():
            raise KsError(f"{what}: its {key} must be a number (not \"{params[key]}\")")
    return Database(url, params)


@contextmanager
def opened(db: Database):
    """One transaction on Kea's hosts database: committed when the block ends, rolled back
    when it raises (the caller applies Kea's configuration inside it, so a refusal undoes
    the rows too)."""
    import psycopg

    try:
        conn = psycopg.connect(db.url, connect_timeout=int(db.params.get("connect_timeout") or 10))
    except psycopg.OperationalError as err:
        first = (str(err).strip().splitlines() or ["no answer"])[-1]
        raise Unreachable(f"cannot reach Kea's hosts database {db.where}: {first}") from None
    try:
        with conn.transaction():
            yield conn
    except psycopg.errors.UndefinedTable:
        raise KsError(f"Kea's hosts database {db.where} has no hosts table: create Kea's schema there "
                      "first (kea-admin db-init pgsql)") from None
    except psycopg.Error as err:
        raise KsError(f"Kea's hosts database {db.where}: {str(err).strip().splitlines()[0]}") from None
    finally:
        conn.close()


def sync(conn, plan) -> tuple[int, int, int]:
    """Make ksserver's rows the plan's reservations: (added, changed, removed). Rows are read
    as text (PostgreSQL spells each MAC and address), so comparing 10,000 of them with the
    plan converts nothing in Python; only what is written is converted."""
    # one writer at a time (several web nodes may apply DHCP at once): the second reads
    # what the first committed, instead of both adding the same row
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
    want = {(r.subnet, r.mac.replace(":", "")): r for r in plan.reservations}
    have: dict[tuple[int, str], tuple[int, str | None, str | None]] = {}
    foreign = []
    for host_id, ident, subnet, ip, name, ours in conn.execute(
        "SELECT host_id, encode(dhcp_identifier, 'hex'), dhcp4_subnet_id, host('0.0.0.0'::inet + ipv4_address), "
        "hostname, user_context = %s FROM hosts WHERE dhcp_identifier_type = %s AND dhcp4_subnet_id IS NOT NULL",
        (MARK, HW_ADDRESS),
    ).fetchall():
        if ours:
            have[(subnet, ident)] = (host_id, ip, name)
        else:
            foreign.append((ident, subnet, ip, name))
    if foreign:
        _check_foreign(plan, want, foreign)
    gone = [host_id for key, (host_id, _ip_, _name) in have.items() if key not in want]
    changed = []
    for key, (host_id, ip, name) in have.items():
        r = want.get(key)
        if r is not None and (r.ip != ip or r.host != name):
            changed.append((validate.ip_number(r.ip), r.host, host_id))
    new = [r for key, r in want.items() if key not in have]
    with conn.cursor() as cur:
        if gone:
            cur.execute("DELETE FROM hosts WHERE host_id = ANY(%s)", (gone,))
        if changed:
            cur.executemany("UPDATE hosts SET ipv4_address = %s, hostname = %s WHERE host_id = %s", changed)
        if new:
            with cur.copy("COPY hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, ipv4_address, "
                          "hostname, user_context) FROM STDIN") as copy:
                for r in new:
                    copy.write_row((bytes.fromhex(r.mac.replace(":", "")), HW_ADDRESS, r.subnet,
                                    validate.ip_number(r.ip), r.host, MARK))
    return len(new), len(changed), len(gone)


def _check_foreign(plan, want, foreign) -> None:
    """A site's own reservation that holds a MAC or an address of the plan, named."""
    ips = {(r.subnet, r.ip): r for r in want.values()}
    names = {s.id: s.name for s in plan.subnets}
    for ident, subnet, ip, name in foreign:
        r, held = want.get((subnet, ident)), ":".join(ident[i:i + 2] for i in range(0, len(ident), 2))
        if r is None and ip is not None:
            r, held = ips.get((subnet, ip)), ip
        if r is not None:
            raise KsError(f"host {r.host} interface {r.device}: {held} is also held on network "
                          f"{names.get(subnet, subnet)} by a reservation ksserver did not write in Kea's hosts "
                          f"database ({name or 'no hostname'})")
