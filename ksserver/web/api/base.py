"""What every route of the API shares: the spec, bearer tokens and roles, errors as one JSON
object, pages, ETags, schemas made from ``services.views``, and the unit of work of a write."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator

import marshmallow as ma
import orjson
from flask import Response, current_app, g, jsonify, request, session
from flask_smorest import Api as _Api
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from ksserver import outputs
from ksserver.errors import Forbidden, KsError, NotFound, Problems
from ksserver.services import transaction, users, views, work
from ksserver.services import tokens as token_service

log = logging.getLogger("ksserver.api")
PREFIX = "/api/v1"
#: the document that describes the API, and its pages: for any token, or a console user
DOCUMENT = (f"{PREFIX}/openapi.json", f"{PREFIX}/docs")
READ_METHODS = ("GET", "HEAD", "OPTIONS")


class Error(ma.Schema):
    """Every error: the one line the CLI prints (without ``error - ``); ``errors`` holds each
    line when there are several (a host sheet's every bad line)."""

    error = ma.fields.String(required=True)
    errors = ma.fields.List(ma.fields.String())


class Api(_Api):
    ERROR_SCHEMA = Error

    def handle_http_exception(self, error: HTTPException):
        if not request.path.startswith(PREFIX):
            return error  # the console's pages answer for themselves
        message = error.description or error.name
        data = getattr(error, "data", None) or {}
        extra = {}
        if "messages" in data:  # webargs: {location: {field: [msg]}}
            lines = [f"{field}: {'; '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                     for _loc, fields in data["messages"].items() for field, msgs in _flat(fields)]
            message = f"invalid request: {lines[0]}" if lines else "invalid request"
            extra = {"errors": lines}
        code = 400 if error.code == 422 else error.code
        if code >= 500:
            message = "internal server error (in the server's log)"
        return _error(code, " ".join(str(message).split()), **extra)


def _flat(fields, prefix: str = "") -> Iterator[tuple[str, list]]:
    if isinstance(fields, dict):
        for key, value in fields.items():
            yield from _flat(value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}")
    else:
        yield prefix.rstrip("."), fields


def _error(code: int, message: str, **extra) -> Response:
    resp = jsonify({"error": message, **extra})
    resp.status_code = code
    if code == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ksserver"'
    return resp


def ks_error(err: KsError) -> Response:
    if isinstance(err, Problems):
        return _error(400, err.lines[0] if err.lines else err.message, errors=err.lines)
    code = 404 if isinstance(err, NotFound) else 403 if isinstance(err, Forbidden) else 400
    return _error(code, err.message)


def is_reader() -> bool:
    """Whether this request's token is read-only: it sees no secret
    (``outputs.shown_to_reader``), as a read user of the console does."""
    return g.get("api_role") != "admin"


def for_reader(records: list[dict], attr: str | None = None) -> list[dict]:
    """Attribute records as this request's token may see their ``value``: each named by
    its ``attr`` field, or all by ``attr`` (explain's rows, of one attribute)."""
    if is_reader():
        for rec in records:
            rec["value"] = outputs.shown_to_reader(attr or rec["attr"], rec["value"])
    return records


def authenticate() -> Response | None:
    """Before every API request: a bearer token of a role that may do it, else 401/403.
    Nothing is anonymous; the document (``DOCUMENT``) is also open to a signed-in console
    user, whose browser sends no token."""
    if not request.path.startswith(PREFIX):
        return None
    if request.path in DOCUMENT and session.get("user"):
        with transaction() as s:
            if users.role_of(s, session["user"]) is not None:
                return None
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return _error(401, "an API token is needed: Authorization: Bearer TOKEN (ksserver add api token NAME)")
    with transaction() as s:
        found = token_service.verify(s, presented.strip())
    if found is None:
        return _error(401, "unknown API token")
    g.api_token, g.api_role = found
    if request.method not in READ_METHODS and g.api_role != "admin":
        return _error(403, f'API token "{g.api_token}" is read-only: {request.method} needs an admin token')
    return None


def etag(resp: Response) -> Response:
    """A read's ETag is its body's digest; ``If-None-Match`` with it gets 304, no body."""
    if (request.method == "GET" and resp.status_code == 200 and request.path.startswith(PREFIX)
            and not resp.direct_passthrough):
        resp.set_etag(hashlib.sha256(resp.get_data()).hexdigest()[:32])
        resp.make_conditional(request)
    return resp


# --- schemas from the listings' columns ------------------------------------------------------

_TYPES = {"string": ma.fields.String, "integer": ma.fields.Integer, "boolean": ma.fields.Boolean}


def schema(view: views.View, name: str, **extra) -> type[ma.Schema]:
    """A response schema with ``view``'s fields (each may be null), plus ``extra`` fields."""
    fields = {k: _TYPES[t](allow_none=True) for k, t in view.fields.items()}
    fields.update(extra)
    return ma.Schema.from_dict(fields, name=name)


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
        "total": ma.fields.Integer(required=True),
        "pages": ma.fields.Integer(required=True),
    }, name=name)


class Paging(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10**9),
                             metadata={"description": "page number, from 1"})
    per_page = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=views.MAX_PAGE),
                                 metadata={"description": f"items per page, at most {views.MAX_PAGE}"})


class Selecting(Paging):
    select = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=255)), load_default=list,
                            metadata={"description": "host selectors, as the CLI's: a host, an appliance, "
                                                     "rack<N>, a pattern with %; repeat for several"})


def paged(total: int, items: list, page: int, per_page: int) -> dict:
    pages = max(1, -(-total // per_page))
    links = []
    for rel, number in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", pages)):
        if 1 <= number <= pages and (rel in ("first", "last") or number != page):
            args = request.args.to_dict(flat=False)
            args["page"] = [str(number)]
            query = "&".join(f"{k}={v}" for k, vs in args.items() for v in vs)
            links.append(f'<{request.base_url}?{query}>; rel="{rel}"')
    g.link_header = ", ".join(links)
    return as_json({"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages})


def as_json(data) -> Response:
    """A listing's records as they are: ``services.views`` made them of the documented types,
    so they skip marshmallow's dump (three quarters of a page's time at 1,000 hosts with
    their attributes); the schema still documents them, and schemathesis holds them to it."""
    return Response(orjson.dumps(data) + b"\n", mimetype="application/json")  # 8× the stdlib's speed here


def page_slice(rows: list, page: int, per_page: int) -> dict:
    """A page of a listing the service gives whole (the small inventories: appliances…)."""
    return paged(len(rows), rows[(page - 1) * per_page: page * per_page], page, per_page)


# --- writes -----------------------------------------------------------------------------------

class Done(ma.Schema):
    """What a write says: the lines the CLI would print, and DHCP's warnings."""

    messages = ma.fields.List(ma.fields.String(), required=True)
    warnings = ma.fields.List(ma.fields.String(), required=True)


def write(action: Callable, *args, **kwargs) -> dict:
    """Run one service call in one unit of work (a failure changes nothing)."""
    with work.change() as (session, warnings):
        result = action(session, *args, **kwargs)
    if isinstance(result, str):
        lines = result.splitlines()
    elif isinstance(result, (list, tuple)):
        lines = [str(x) for x in result]
    else:
        lines = []  # nothing to say, or a record the CLI does not print either
    return {"messages": lines, "warnings": list(warnings)}


def params(data: dict) -> dict:
    """A request's fields as the service functions take the CLI's ``key=value``: text, a
    boolean as yes or no, an absent field left out."""
    return {k: ("yes" if v else "no") if isinstance(v, bool) else str(v) for k, v in data.items() if v is not None}


def read(action: Callable, *args, **kwargs):
    with transaction() as session:
        return action(session, *args, **kwargs)


def power():
    return current_app.extensions["ksserver.power"]


def blueprint(name: str, description: str) -> Blueprint:
    return Blueprint(name, f"ksserver.api.{name}", url_prefix=PREFIX, description=description)
