"""API tokens: made, listed (never shown again), removed."""

from ksserver.cli.results import Table
from ksserver.services import tokens, views


def add_api_token(session, name, role=None):
    role, token = tokens.add_token(session, name, role)
    return (f"created API token {name} (role {role}); it is shown only now: keep it where a password "
            f"would be kept\n{token}\n")


def list_api_token(session):
    return Table(views.TOKEN.header, tokens.list_tokens(session), trim_owner=False)


def remove_api_token(session, name):
    tokens.remove_token(session, name)


# --- console users ------------------------------------------------------------------------------

def _password(prompt_twice: bool = True) -> str:
    """On a terminal: asked twice, not echoed; otherwise the first line of stdin (scripts)."""
    import getpass
    import sys

    from ksserver.errors import KsError

    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if prompt_twice and getpass.getpass("again: ") != first:
            raise KsError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise KsError("a password is needed on stdin (one line)")
    return line.rstrip("\r\n")


def add_user(session, name, role=None):
    from ksserver.services import users

    users.add_user(session, name, _password(), role)
    return f"created console user {name} (role {role or 'read'})\n"


def set_user_password(session, name):
    from ksserver.services import users

    users.set_password(session, name, _password())


def set_user_role(session, name, role):
    from ksserver.services import users

    users.set_role(session, name, role)


def list_user(session):
    from ksserver.services import users

    return Table(views.USER.header, users.list_users(session), trim_owner=False)


def remove_user(session, name):
    from ksserver.services import users

    users.remove_user(session, name)
