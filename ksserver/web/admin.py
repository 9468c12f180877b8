"""The API and console's app (``serve api=HOST:PORT``): apart from the install server's, so
installers never reach it, and it never answers for their files.

Dependencies come in: ``power`` (how VM actions reach hypervisors; the CLI builds it, tests
pass libvirt's test driver) and ``command`` (the ksserver command line a job runs, such as a
discovery session's ``insert ethers``). Behind the front (``web.front``) the client's address
is ``X-Real-IP``, believed beside the run's secret only.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from flask import Flask, request

from ksserver.config import PACKAGE_DIR
from ksserver.web.front import SECRET_HEADER


def create_admin_app(power, command: Sequence[str], front_secret: str | None = None) -> Flask:
    from ksserver.web import api, console

    app = Flask("ksserver.admin", template_folder=str(PACKAGE_DIR / "templates" / "console"),
                static_folder=str(PACKAGE_DIR / "web" / "static"), static_url_path="/static")
    app.extensions["ksserver.power"] = power
    app.extensions["ksserver.command"] = list(command)

    def client() -> str:
        if front_secret is not None and hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), front_secret):
            return request.headers.get("X-Real-IP", "")
        return request.remote_addr or ""

    app.extensions["ksserver.client"] = client
    if front_secret is not None:
        @app.before_request
        def https_behind_front():
            if request.headers.get("X-Forwarded-Proto") == "https" and hmac.compare_digest(
                    request.headers.get(SECRET_HEADER, ""), front_secret):
                request.environ["wsgi.url_scheme"] = "https"

    api.register(app)
    console.configure(app)
    return app
