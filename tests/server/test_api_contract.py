"""Every route with every role: who may call what, what a caller's approval records, problem details."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.server.api_fixture import services_of
from tests.server.service_fixture import TOKENS, auth
from tools.action_request import ActionRequest

QUESTION = {"question": "why is checkout slow?", "namespace": "shop", "services": ["checkout"]}
ROLES = [*TOKENS, "nobody"]


def headers(role: str) -> dict[str, str]:
    return auth(role) if role != "nobody" else {"Authorization": "Bearer not-a-token"}


def open_question(api: TestClient) -> str:
    opened = api.post("/v1/incidents", json=QUESTION, headers=auth("responder"))
    assert opened.status_code == 202, opened.text
    return str(opened.json()["id"])


def waiting_for(api: TestClient, incident_id: str, replicas: int = 3) -> str:
    """Put the incident where the guard would leave it: waiting for approval of one action; its id."""
    action = ActionRequest(
        kind="scale",
        target="shop/deployment/checkout",
        params={"replicas": replicas},
        incident_id=incident_id,
        requested_by="agent:rules",
    )
    pending = {"action_id": action.action_id, "exact": action.exact().model_dump(mode="json"), "needs": []}
    services_of(api).store.set_state(incident_id, "awaiting_approval", pending=pending)
    return action.action_id


@pytest.mark.parametrize("role", ROLES)
def test_reading_needs_a_viewer(api: TestClient, role: str) -> None:
    incident_id = open_question(api)
    listed = api.get("/v1/incidents", headers=headers(role))
    one = api.get(f"/v1/incidents/{incident_id}", headers=headers(role))
    expected = {"nobody": 401, "alertmanager": 403}.get(role, 200)  # the alerts-only token reads nothing
    assert (listed.status_code, one.status_code) == (expected, expected)
    if expected == 200:
        assert one.json()["incident"]["id"] == incident_id
        assert [e["kind"] for e in one.json()["timeline"]] == ["opened"]
    else:
        assert listed.headers["content-type"] == "application/problem+json"
        assert listed.json()["status"] == expected


@pytest.mark.parametrize("role", ROLES)
def test_opening_and_chatting_need_a_responder(api: TestClient, role: str) -> None:
    opened = api.post("/v1/incidents", json=QUESTION, headers=headers(role))
    allowed = role in ("responder", "approver", "approver-no-team", "admin")
    assert opened.status_code == (202 if allowed else 401 if role == "nobody" else 403)
    incident_id = open_question(api)
    said = api.post(f"/v1/incidents/{incident_id}/messages", json={"text": "status"}, headers=headers(role))
    assert said.status_code == (200 if allowed else 401 if role == "nobody" else 403)
    fed = api.post(f"/v1/incidents/{incident_id}/feedback", json={"verdict": "right"}, headers=headers(role))
    assert fed.status_code == (201 if allowed else 401 if role == "nobody" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_approvers_approve(api: TestClient, role: str) -> None:
    incident_id = open_question(api)
    action_id = waiting_for(api, incident_id)
    answer = api.post(
        f"/v1/incidents/{incident_id}/actions/{action_id}/approval",
        json={"verdict": "approve"},
        headers=headers(role),
    )
    allowed = role in ("approver", "approver-no-team")  # admin manages medic, approves nothing
    assert answer.status_code == (202 if allowed else 401 if role == "nobody" else 403), answer.text


def test_an_approval_records_the_tokens_subject_and_roles_only(api: TestClient) -> None:
    incident_id = open_question(api)
    action_id = waiting_for(api, incident_id)
    body = {"verdict": "approve", "comment": "roles: [admin, sre]; approver: root", "approver": "root"}
    answer = api.post(
        f"/v1/incidents/{incident_id}/actions/{action_id}/approval", json=body, headers=auth("approver")
    )
    assert answer.status_code == 202 and answer.json()["approver"] == "carol"
    (approval,) = services_of(api).store.approvals_for(incident_id, action_id)
    assert (approval.approver, approval.roles, approval.channel) == ("carol", ["approver", "sre"], "api")
    assert approval.action_id == action_id and approval.action.params == {"replicas": 3}
    assert approval.expires_at > approval.approved_at >= datetime(2026, 1, 1, tzinfo=UTC)


def test_roles_set_in_the_environment_grant_nothing(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MEDIC_APPROVER_ROLES": '["sre", "approver"]',
        "MEDIC_ROLES": "approver",
        "MEDIC_APPROVER": "carol",
    }.items():
        monkeypatch.setenv(name, value)
    incident_id = open_question(api)
    action_id = waiting_for(api, incident_id)
    viewer = api.post(
        f"/v1/incidents/{incident_id}/actions/{action_id}/approval",
        json={"verdict": "approve"},
        headers=auth("viewer"),
    )
    assert viewer.status_code == 403
    assert services_of(api).store.approvals_for(incident_id, action_id) == []


def test_stale_and_repeated_answers_are_conflicts(api: TestClient) -> None:
    incident_id = open_question(api)
    first = waiting_for(api, incident_id, replicas=3)
    url = f"/v1/incidents/{incident_id}/actions/{first}/approval"
    services_of(api).store.set_state(incident_id, "investigating")
    nothing = api.post(url, json={"verdict": "approve"}, headers=auth("approver"))
    assert nothing.status_code == 409 and "waits for approval" in nothing.json()["detail"]
    second = waiting_for(api, incident_id, replicas=4)  # the proposal changed since the button was shown
    stale = api.post(url, json={"verdict": "approve"}, headers=auth("approver"))
    assert stale.status_code == 409 and second in stale.json()["detail"]
    url2 = f"/v1/incidents/{incident_id}/actions/{second}/approval"
    assert api.post(url2, json={"verdict": "reject"}, headers=auth("approver")).status_code == 202
    again = api.post(url2, json={"verdict": "approve"}, headers=auth("approver"))
    assert again.status_code == 409 and "already answered" in again.json()["detail"]


def test_errors_are_problem_details_naming_the_field(api: TestClient) -> None:
    bad = api.post(
        "/v1/incidents", json={"question": "why?", "alert": {"labels": {}}}, headers=auth("responder")
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["detail"].startswith("alert.startsAt")
    neither = api.post("/v1/incidents", json={}, headers=auth("responder"))
    assert neither.status_code == 422 and "exactly one of" in neither.json()["detail"]
    missing = api.get("/v1/incidents/nope", headers=auth("viewer"))
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"
    unauthenticated = api.get("/v1/incidents")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["www-authenticate"] == "Bearer"
    assert "Traceback" not in bad.text + neither.text + missing.text


def test_pages_of_incidents(api: TestClient) -> None:
    ids = [
        api.post(
            "/v1/incidents", json={**QUESTION, "question": f"is shop ok {i}?"}, headers=auth("responder")
        ).json()["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(
            "/v1/incidents",
            params={"limit": 2, **({"before": cursor} if cursor else {})},
            headers=auth("viewer"),
        )
        body = page.json()
        seen += [i["id"] for i in body["incidents"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_health_ready_metrics_and_openapi_need_no_token(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    metrics = api.get("/metrics").text
    assert "medic_queue_depth" in metrics and "medic_investigations_total" not in metrics.split("# HELP")[0]
    schema = api.get("/openapi.json").json()
    assert "/v1/incidents/{incident_id}/actions/{action_id}/approval" in schema["paths"]
