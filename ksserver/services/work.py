"""One unit of work for a command that changes the inventory, whoever asks (CLI, API, console).

Rule: one transaction; DHCP (and the hosts file) follow the inventory once, before it commits
(``netboot.following``), so a change Kea refuses is undone with the rest. The warnings list
is the caller's to show (stderr, a JSON field, a flash line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from ksserver.db.session import transaction
from ksserver.services import netboot


@contextmanager
def change() -> Iterator[tuple[Session, list[str]]]:
    with transaction() as session, netboot.following(session) as warnings:
        yield session, warnings
