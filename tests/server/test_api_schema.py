"""schemathesis against the published OpenAPI schema: whatever a client sends, no 5xx.

Every operation of the schema gets generated requests (hypothesis) carrying a token with the right
role, so they reach the routes' own validation and logic, not only the authentication before them.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from tests.server.service_fixture import auth


def test_no_request_makes_the_api_fail(api: TestClient) -> None:
    for i in range(3):  # some incidents exist, so real ids are reached as well as unknown ones
        api.post("/v1/incidents", json={"question": f"is shop ok {i}?"}, headers=auth("responder"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    tried: list[str] = []
    for operation in operations:
        if operation.path.endswith("/events"):
            continue  # a stream that ends only when its incident rests: the service flow test reads it
        token = auth("alertmanager") if operation.path == "/v1/alertmanager" else auth("approver")

        run = _no_server_error(operation, token)
        run()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/incidents/{incident_id}/actions/{action_id}/approval" in tried


def _no_server_error(operation: APIOperation, token: dict[str, str]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Case) -> None:
        case.call_and_validate(headers={**(case.headers or {}), **token}, checks=[checks.not_a_server_error])

    return run
