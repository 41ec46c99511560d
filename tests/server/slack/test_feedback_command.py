"""`/medic feedback`: its text, and the command kept on the incident like the API's feedback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from server.bench.slack_stub import SlackStub
from server.slack.command_text import BadCommand, parse
from server.store.memory import feedback_of
from tests.server.api_fixture import services_of
from tests.server.slack.slack_fixture import command_body, post

NOW = datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_feedback_words_become_the_api_body() -> None:
    command = parse(
        "feedback inc-1 wrong cause payments:memory_leak fixed-by restarted payments notes the cache", NOW
    )
    assert (command.kind, command.argument) == ("feedback", "inc-1")
    given = command.feedback
    assert given is not None and given.verdict == "wrong" and given.fixed_by == "restarted payments"
    assert given.cause is not None and (given.cause.service, given.cause.kind) == ("payments", "memory_leak")
    assert given.notes == "the cache"
    plain = parse("feedback inc-1 RIGHT spot on", NOW).feedback
    assert plain is not None and (plain.verdict, plain.notes, plain.cause) == ("right", "spot on", None)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("feedback inc-1", "right or wrong"),
        ("feedback inc-1 maybe", "right or wrong"),
        ("feedback inc-1 wrong cause payments:leak", "unknown fault kind"),
    ],
)
def test_bad_feedback_says_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(BadCommand) as raised:
        parse(text, NOW)
    assert says in str(raised.value) and "/medic feedback <incident>" in str(raised.value)


def test_a_responders_feedback_is_kept_on_the_incident(slack_app: TestClient, slack_stub: SlackStub) -> None:
    opened = post(slack_app, "/slack/commands", command_body(slack_stub, "why is checkout slow?"))
    assert opened.status_code == 200
    slack_stub.wait_for(lambda: services_of(slack_app).store.page(), what="the incident")
    [record] = services_of(slack_app).store.page()
    text = f"feedback {record.id} wrong cause payments:memory_leak fixed-by restarted payments"
    ack = post(slack_app, "/slack/commands", command_body(slack_stub, text, n=1))
    assert ack.json()["text"] == "Recording your feedback…"
    url = "/respond/command-URICK-1"
    slack_stub.wait_for(lambda: [c for c in slack_stub.calls_to("response") if c.path == url], what="answer")
    [answer] = [c for c in slack_stub.calls_to("response") if c.path == url]
    assert "recorded" in answer.args["text"] and "true cause: payments:memory_leak" in answer.args["text"]
    [kept] = feedback_of(services_of(slack_app).store.engine, [record.id])[record.id]
    assert kept.by == "slack:URICK" and kept.fixed_by == "restarted payments"
