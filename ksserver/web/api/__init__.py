"""The REST API, ``/api/v1/``: the service layer over HTTP, described by OpenAPI 3.

Rule: no logic of its own. A route parses its arguments (marshmallow schemas, which also
make the OpenAPI document at ``/api/v1/openapi.json``), calls the service functions the CLI
calls, in one unit of work for a write (``services.work``), and returns their records, whose
columns and types come from ``services.views``, so ``ksserver list … --json`` and the API
agree. Every route but the document and its pages needs a bearer token (``ksserver add api
token``); a ``read`` token may only read (GET), checked in one place (``base.authenticate``)
for every route. Errors are one JSON object, ``{"error": …}``, holding the CLI's line. Lists
are paged (at most ``views.MAX_PAGE``), reads carry an ETag.
"""

from __future__ import annotations

from flask import Flask, g, render_template

from ksserver.errors import KsError
from ksserver.web.api import base, hosts, inventory, vms

BLUEPRINTS = (hosts.blp, inventory.blp, vms.blp)


def register(app: Flask) -> base.Api:
    app.config.update(
        API_TITLE="ksserver", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=base.PREFIX, OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "The inventory, attributes, kickstarts, virtual clusters and VM power of a "
                                    "ksserver frontend. Authenticate with `Authorization: Bearer TOKEN` "
                                    "(`ksserver add api token NAME [role=read|admin]`)."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = base.Api(app)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.before_request(base.authenticate)
    app.after_request(base.etag)
    app.after_request(_link)
    app.register_error_handler(KsError, _ks_error)

    @app.get(f"{base.PREFIX}/docs")
    def docs():
        """The API's pages, made from its OpenAPI document on the server (nothing fetched)."""
        return render_template("api_docs.html", spec=api.spec.to_dict())

    return api


def _link(resp):
    link = g.get("link_header")
    if link:
        resp.headers["Link"] = link
    return resp


def _ks_error(err: KsError):
    from flask import request

    if not request.path.startswith(base.PREFIX):
        raise err
    return base.ks_error(err)
