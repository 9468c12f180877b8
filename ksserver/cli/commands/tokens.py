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
