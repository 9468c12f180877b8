"""API tokens: made here, shown once, kept as their SHA-256 only.

A token is ``ks_`` and 43 random URL-safe characters (256 bits, ``secrets``): a digest of it
cannot be turned back into it, and a lookup by digest reveals nothing a guess would not.
``verify`` is what the REST API asks of a bearer token; a role is ``read`` (the default:
listings only) or ``admin``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.db.models import ApiToken
from ksserver.errors import KsError, NotFound
from ksserver.services import validate
from ksserver.services.when import shown

ROLES = ("read", "admin")
PREFIX = "ks_"
LAST_USED_EVERY = 60  # seconds


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(session: Session, name: str, role: str | None = None) -> tuple[str, str]:
    """(role, the new token): the only time the token exists outside the caller's hands."""
    validate.name(name, "token")
    role = (role or "read").strip().lower()
    if role not in ROLES:
        raise KsError(f'invalid role "{role}": read or admin')
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise KsError(f'API token "{name}" exists')
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, digest=digest(token), created=datetime.now(timezone.utc)))
    session.flush()
    return role, token


def remove_token(session: Session, name: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise NotFound(f'no API token "{name}"')
    session.delete(row)
    session.flush()


def list_tokens(session: Session) -> list[tuple]:
    return [(t.name, t.role, shown(t.created), shown(t.last_used))
            for t in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def verify(session: Session, presented: str | None) -> tuple[str, str] | None:
    """(name, role) of the token presented, or None; its last use is recorded (to the minute)."""
    if not presented or not presented.startswith(PREFIX):
        return None
    wanted = digest(presented)
    row = session.scalar(select(ApiToken).where(ApiToken.digest == wanted))
    if row is None or not hmac.compare_digest(row.digest, wanted):
        return None
    now = datetime.now(timezone.utc)
    last = row.last_used.replace(tzinfo=timezone.utc) if row.last_used and row.last_used.tzinfo is None else row.last_used
    if last is None or (now - last).total_seconds() >= LAST_USED_EVERY:
        row.last_used = now  # at most once a minute: a dashboard polling makes no write per request
    return row.name, row.role
