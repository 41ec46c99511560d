"""Only requests Slack signed for this app, just now and once, get past the Slack routes."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from server.bench.slack_stub import SlackStub
from tests.server.api_fixture import services_of
from tests.server.slack.slack_fixture import FORM, command_body, event_body, post, sign


def test_a_signed_command_is_acknowledged(slack_app: TestClient, slack_stub: SlackStub) -> None:
    body = command_body(slack_stub, "help")
    started = time.monotonic()
    answer = post(slack_app, "/slack/commands", body)
    assert time.monotonic() - started < 3
    assert answer.status_code == 200, answer.text
    assert answer.json()["response_type"] == "ephemeral"
    assert "/medic triage" in answer.json()["text"]


def test_the_events_url_is_verified_with_a_signed_challenge(slack_app: TestClient) -> None:
    body = json.dumps({"token": "unused", "challenge": "c-123", "type": "url_verification"}).encode()
    answer = post(slack_app, "/slack/events", body, json_body=True)
    assert answer.status_code == 200 and "c-123" in answer.text


def _refused(answer_status: int, detail: str, why: str) -> None:
    assert answer_status == 401, detail
    assert why in detail


def test_a_tampered_body_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    signed = command_body(slack_stub, "why is checkout slow?")
    tampered = command_body(slack_stub, "why is payment slow?")
    answer = slack_app.post("/slack/commands", content=tampered, headers={**FORM, **sign(signed)})
    _refused(answer.status_code, answer.json()["detail"], "bad signature")
    assert services_of(slack_app).store.page() == []  # nothing was opened


def test_another_secret_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    body = command_body(slack_stub, "help")
    answer = slack_app.post("/slack/commands", content=body, headers={**FORM, **sign(body, secret="x" * 32)})
    _refused(answer.status_code, answer.json()["detail"], "bad signature")


def test_an_unsigned_request_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    answer = slack_app.post("/slack/interactions", content=b"payload=%7B%7D", headers=FORM)
    _refused(answer.status_code, answer.json()["detail"], "unsigned")
    bad_time = {**FORM, "X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"}
    answer = slack_app.post("/slack/interactions", content=b"payload=%7B%7D", headers=bad_time)
    _refused(answer.status_code, answer.json()["detail"], "not a Unix time")


def test_a_stale_request_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    body = command_body(slack_stub, "why is checkout slow?")
    for age in (301, -301, 3600):
        answer = slack_app.post(
            "/slack/commands", content=body, headers={**FORM, **sign(body, int(time.time()) - age)}
        )
        _refused(answer.status_code, answer.json()["detail"], "stale")
    fresh_enough = slack_app.post(
        "/slack/commands", content=body, headers={**FORM, **sign(body, int(time.time()) - 290)}
    )
    assert fresh_enough.status_code == 200


def test_a_replayed_request_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    body = command_body(slack_stub, "help")
    headers = {**FORM, **sign(body)}
    first = slack_app.post("/slack/commands", content=body, headers=headers)
    again = slack_app.post("/slack/commands", content=body, headers=headers)
    assert first.status_code == 200
    _refused(again.status_code, again.json()["detail"], "replayed")
    events = event_body({"type": "app_home_opened", "user": "UVERA", "tab": "home"})
    headers = {"Content-Type": "application/json", **sign(events)}
    assert slack_app.post("/slack/events", content=events, headers=headers).status_code == 200
    assert slack_app.post("/slack/events", content=events, headers=headers).status_code == 401
