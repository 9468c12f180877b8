"""Find one named thing or fail with a one-line error naming it."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ksserver.db.models import OS, Appliance, Network
from ksserver.errors import NotFound


def os_(session: Session, name: str) -> OS:
    row = session.scalar(select(OS).where(OS.name == name))
    if row is None:
        raise NotFound(f'unknown OS "{name}"')
    return row


def appliance(session: Session, name: str) -> Appliance:
    """By appliance name or by membership name (``compute`` or ``Compute``)."""
    row = session.scalar(select(Appliance).where(Appliance.name == name))
    if row is None:
        row = session.scalar(
            select(Appliance).where(
                or_(Appliance.membership == name, func.lower(Appliance.membership) == name.lower())
            )
        )
    if row is None:
        raise NotFound(f'unknown appliance "{name}"')
    return row


def network(session: Session, name: str) -> Network:
    row = session.scalar(select(Network).where(Network.name == name))
    if row is None:
        raise NotFound(f'unknown network "{name}"')
    return row
