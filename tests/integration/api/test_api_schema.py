"""schemathesis against the OpenAPI document the app serves: generated requests to every
operation, as an admin, and every answer checked — no 5xx, the status documented, the body,
headers and content type what the document says, and a request the document forbids refused.

Not checked: that every schema-valid request succeeds (``positive_data_acceptance``). The
document gives types and ranges; the inventory's rules (a name that must follow
``<appliance>-<rack>-<rank>``, a network that must exist) are the service layer's, and
their refusal is a documented 4xx with the CLI's line, as it should be."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]

EXAMPLES = 15


def test_every_operation_answers_as_documented(api):
    api.ks.ok("add", "host", "compute-0-0")
    api.ks.ok("add", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:01", "ip=10.1.0.10",
              "subnet=private")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app, headers=api.reader)
    checked = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path == "/api/v1/discovery" and op.method.upper() == "POST":
            continue  # a session starts a process of its own: test_api opens and closes one

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case):
            case.call_and_validate(headers=dict(api.admin), checks=CHECKS)

        check()
        checked.append(f"{op.method.upper()} {op.path}")
    assert len(checked) >= 40, checked
