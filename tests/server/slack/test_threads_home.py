"""Replies in an incident's thread are chat with the incident, answered in the thread; App Home lists
open incidents and the approvals waiting for the user."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from server.bench.slack_stub import SlackStub
from tests.server.api_fixture import services_of
from tests.server.slack.slack_fixture import CHANNEL, command_body, event_body, post
from tests.server.slack.test_approvals import _waiting


def _parent(app: TestClient, stub: SlackStub) -> tuple[str, str]:
    assert post(app, "/slack/commands", command_body(stub, "why is checkout slow?")).status_code == 200
    stub.wait_for(lambda: stub.calls_to("response"), what="the command's answer, once its thread is posted")

    return services_of(app).store.page()[0].id, next(ts for (ch, ts) in stub.messages if ch == CHANNEL)


def _say(app: TestClient, thread_ts: str, text: str, user: str, n: int, **extra: object) -> None:
    ts = f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        **extra,
    }
    assert post(app, "/slack/events", event_body(event, n), json_body=True).status_code == 200


def _replies(stub: SlackStub) -> list[str]:
    return [str(c.args["text"]) for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]


def test_a_thread_reply_is_chat_answered_in_the_thread(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id, thread_ts = _parent(slack_app, slack_stub)
    _say(slack_app, thread_ts, "status?", "URICK", 1)
    slack_stub.wait_for(lambda: _replies(slack_stub), what="the answer in the thread")
    assert "has not produced findings yet (state: queued)" in _replies(slack_stub)[0]
    kinds = [(e.kind, e.text) for e in services_of(slack_app).store.timeline(incident_id)]
    assert ("message", "slack:URICK: status?") in kinds and kinds[-1][0] == "reply"

    _say(slack_app, thread_ts, "what changed?", "UVERA", 2)  # a viewer may read, not talk
    slack_stub.wait_for(lambda: len(_replies(slack_stub)) == 2, what="the refusal")
    assert "needs the responder role" in _replies(slack_stub)[1]
    _say(slack_app, thread_ts, "I am a bot", "UMEDIC", 3, bot_id="BMEDIC")
    _say(slack_app, "999.000001", "not a medic thread", "URICK", 4)
    _say(slack_app, thread_ts, "edited", "URICK", 5, subtype="message_changed")
    time.sleep(0.5)
    assert len(_replies(slack_stub)) == 2
    assert [e.kind for e in services_of(slack_app).store.timeline(incident_id)].count("message") == 1


def test_a_message_delivered_twice_is_answered_once(slack_app: TestClient, slack_stub: SlackStub) -> None:
    _incident_id, thread_ts = _parent(slack_app, slack_stub)
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": "URICK",
        "text": "status",
        "ts": "1700000000.000100",
        "thread_ts": thread_ts,
    }
    event["ts"] = f"{time.time():.6f}"
    for n in (1, 2):  # Slack's retry: the same event, signed again
        assert post(slack_app, "/slack/events", event_body(event, n), json_body=True).status_code == 200
    slack_stub.wait_for(lambda: _replies(slack_stub), what="the answer")
    time.sleep(0.5)
    assert len(_replies(slack_stub)) == 1


def _home(app: TestClient, stub: SlackStub, user: str, n: int) -> str:
    body = event_body({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}, n)
    before = len(stub.calls_to("views.publish"))
    assert post(app, "/slack/events", body, json_body=True).status_code == 200
    stub.wait_for(lambda: len(stub.calls_to("views.publish")) > before, what=f"the home of {user}")
    published = stub.calls_to("views.publish")[-1]
    assert published.args["user_id"] == user
    return json.dumps(published.args["view"])


def test_app_home_shows_open_incidents_and_my_approvals(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id, _ts = _parent(slack_app, slack_stub)
    _waiting(slack_app, incident_id)
    approver = _home(slack_app, slack_stub, "UCAROL", 1)
    assert incident_id in approver and "Waiting for your approval* (1)" in approver
    assert "scale shop/deployment/checkout" in approver and f"<#{CHANNEL}>" in approver
    viewer = _home(slack_app, slack_stub, "UVERA", 2)
    assert incident_id in viewer and "you hold no approver role" in viewer
    stranger = _home(slack_app, slack_stub, "USTRANGER", 3)
    assert incident_id not in stranger and "Nothing to show" in stranger
