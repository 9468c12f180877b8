"""Console users: a name, a role (``read`` or ``admin``, as API tokens) and an argon2 hash.

The password is hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommendation) and never kept or logged; ``authenticate`` spends the same work on an
unknown name as on a wrong password, so a login's time does not say which names exist. A
hash made with older parameters is re-made at the next good login.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ksserver.db.models import User
from ksserver.errors import KsError, NotFound
from ksserver.services import validate
from ksserver.services.tokens import ROLES
from ksserver.services.when import shown

MIN_PASSWORD = 8
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password of anyone's")


def _role(role: str | None) -> str:
    role = (role or "read").strip().lower()
    if role not in ROLES:
        raise KsError(f'invalid role "{role}": read or admin')
    return role


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise KsError(f"a password needs at least {MIN_PASSWORD} characters")
    if "\n" in password or "\r" in password:
        raise KsError("a password is one line")
    return password


def add_user(session: Session, name: str, password: str, role: str | None = None) -> None:
    validate.name(name, "user")
    role = _role(role)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise KsError(f'user "{name}" exists')
    session.add(User(name=name, role=role, password_hash=_hasher.hash(_password(password)),
                     created=datetime.now(timezone.utc)))
    session.flush()


def _user(session: Session, name: str) -> User:
    row = session.scalar(select(User).where(User.name == name))
    if row is None:
        raise NotFound(f'no user "{name}"')
    return row


def set_password(session: Session, name: str, password: str) -> None:
    _user(session, name).password_hash = _hasher.hash(_password(password))
    session.flush()


def set_role(session: Session, name: str, role: str) -> None:
    _user(session, name).role = _role(role)
    session.flush()


def remove_user(session: Session, name: str) -> None:
    session.delete(_user(session, name))
    session.flush()


def list_users(session: Session) -> list[tuple]:
    return [(u.name, u.role, shown(u.created), shown(u.last_login))
            for u in session.scalars(select(User).order_by(User.name))]


def authenticate(session: Session, name: str, password: str) -> str | None:
    """The user's role if the password is theirs, else None (the same work either way)."""
    row = session.scalar(select(User).where(User.name == name)) if name else None
    try:
        _hasher.verify(row.password_hash if row else _DUMMY, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login = datetime.now(timezone.utc)
    return row.role


def role_of(session: Session, name: str) -> str | None:
    """A signed-in user's role now (None once removed): a session cookie outlives no change."""
    return session.scalar(select(User.role).where(User.name == name))


# --- the console's sign-in: its rate limit and its cookie key ---------------------------------

#: failed logins allowed in ``WINDOW`` seconds from one address, or for one user name
MAX_FAILURES, WINDOW = 5, 300


def throttled(session: Session, address: str, name: str) -> int:
    """Seconds until this address may try this name again (0: now)."""
    from sqlalchemy import delete, func, or_

    from ksserver.db.models import LoginFailure

    now = datetime.now(timezone.utc)
    since = now - timedelta(seconds=WINDOW)
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    for column, value in ((LoginFailure.address, address), (LoginFailure.name, name)):
        count, first = session.execute(select(func.count(LoginFailure.id), func.min(LoginFailure.at))
                                       .where(column == value, or_(LoginFailure.at >= since))).one()
        if count >= MAX_FAILURES:
            first = first.replace(tzinfo=timezone.utc) if first.tzinfo is None else first
            return max(1, int(WINDOW - (now - first).total_seconds()))
    return 0


def failed(session: Session, address: str, name: str) -> None:
    from ksserver.db.models import LoginFailure

    session.add(LoginFailure(address=address[:64], name=name[:64], at=datetime.now(timezone.utc)))


def site_secret(session: Session, name: str) -> str:
    """A random secret of the site's, made on first use and kept in the database."""
    import secrets

    from ksserver.db.models import SiteSecret

    value = session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    if value is None:
        value = secrets.token_urlsafe(48)
        session.add(SiteSecret(name=name, value=value))
        session.flush()
    return value
