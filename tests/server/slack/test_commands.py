"""`/medic` commands against the service without a worker: acknowledged at once, then the work, and the
Alertmanager incidents routed to their channel."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from server.bench.slack_stub import SlackStub, StubCall
from server.store.slack_threads import SlackThreads
from tests.server.api_fixture import services_of
from tests.server.service_fixture import auth
from tests.server.slack.slack_fixture import CHANNEL, command_body, post
from tests.server.test_alertmanager import payload


def _command(
    app: TestClient, stub: SlackStub, text: str, user: str = "URICK", n: int = 0
) -> tuple[str, StubCall]:
    """Run a command: its acknowledgement, and the answer that followed through its response_url."""
    ack = post(app, "/slack/commands", command_body(stub, text, user=user, n=n))
    assert ack.status_code == 200, ack.text
    assert ack.json()["response_type"] == "ephemeral"
    url = f"/respond/command-{user}-{n}"
    stub.wait_for(lambda: [c for c in stub.calls_to("response") if c.path == url], what=f"/medic {text}")
    [answer] = [c for c in stub.calls_to("response") if c.path == url]
    assert answer.args["response_type"] == "ephemeral" and answer.args["replace_original"] is True
    return ack.json()["text"], answer


def test_a_question_opens_an_incident_and_its_thread_here(
    slack_app: TestClient, slack_stub: SlackStub
) -> None:
    ack, answer = _command(slack_app, slack_stub, "why is checkout slow?")
    assert ack.startswith("🔎 Investigating")
    [record] = services_of(slack_app).store.page()
    assert (record.title, record.namespace, record.incident.requested_by) == (
        "why is checkout slow?",
        "shop",
        "slack:URICK",
    )
    assert f"Incident `{record.id}` is open in namespace `shop`" in answer.args["text"]
    assert f"<#{CHANNEL}>" in answer.args["text"]
    [parent] = slack_stub.calls_to("chat.postMessage")
    assert parent.args["channel"] == CHANNEL and "why is checkout slow?" in str(parent.args["blocks"])
    assert "queued for investigation" in str(parent.args["blocks"])


def test_namespace_and_instant_options(slack_app: TestClient, slack_stub: SlackStub) -> None:
    _command(slack_app, slack_stub, "why is checkout failing? -n boutique --at 2026-03-02T14:00:00Z")
    [record] = services_of(slack_app).store.page()
    assert record.namespace == "boutique" and record.title == "why is checkout failing?"
    assert record.incident.as_of == datetime(2026, 3, 2, 14, tzinfo=UTC)
    bad = post(slack_app, "/slack/commands", command_body(slack_stub, "why? --at tomorrow", n=1)).json()
    assert "not a time like" in bad["text"] and "/medic list" in bad["text"]  # the error, then the help
    assert len(services_of(slack_app).store.page()) == 1


def test_opening_needs_a_responder_and_reading_a_viewer(slack_app: TestClient, slack_stub: SlackStub) -> None:
    _ack, refused = _command(slack_app, slack_stub, "why is checkout slow?", user="UVERA")
    assert "Nothing done: this needs the responder role; <@UVERA> has viewer" in refused.args["text"]
    _ack, stranger = _command(slack_app, slack_stub, "list", user="USTRANGER")
    assert "needs the viewer role; <@USTRANGER> has no medic role" in stranger.args["text"]
    assert services_of(slack_app).store.page() == []
    _ack, listed = _command(slack_app, slack_stub, "list", user="UVERA", n=1)
    assert listed.args["text"] == "*Open incidents*\nnone"


def test_list_and_status(slack_app: TestClient, slack_stub: SlackStub) -> None:
    _command(slack_app, slack_stub, "why is checkout slow?")
    [record] = services_of(slack_app).store.page()
    _ack, listed = _command(slack_app, slack_stub, "list", n=1)
    assert record.id in listed.args["text"] and "queued" in listed.args["text"]
    _ack, latest = _command(slack_app, slack_stub, "status", n=2)
    assert record.id in latest.args["text"]
    _ack, named = _command(slack_app, slack_stub, f"status {record.id}", n=3)
    assert named.args["text"] == latest.args["text"]
    _ack, unknown = _command(slack_app, slack_stub, "status no-such-incident", n=4)
    assert "No incident `no-such-incident`" in unknown.args["text"]


def test_alert_incidents_go_to_their_routed_channel_and_triage_finds_them(
    slack_app: TestClient, slack_stub: SlackStub
) -> None:
    routed = payload(
        group="g-boutique",
        labels={"alertname": "HighErrorRate", "namespace": "boutique", "service": "checkout"},
    )
    elsewhere = payload(
        group="g-other", labels={"alertname": "DiskFull", "namespace": "storage", "service": "minio"}
    )
    for body in (routed, elsewhere):
        assert slack_app.post("/v1/alertmanager", json=body, headers=auth("alertmanager")).status_code == 202
    slack_stub.wait_for(lambda: slack_stub.calls_to("chat.postMessage"), what="the routed alert's thread")
    [posted] = slack_stub.calls_to("chat.postMessage")
    assert posted.args["channel"] == "CALERTS" and "checkout 5xx above 5%" in str(posted.args["blocks"])
    _ack, found = _command(slack_app, slack_stub, "triage HighErrorRate")
    assert "is already open" in found.args["text"] and "<#CALERTS>" in found.args["text"]
    _ack, unrouted = _command(slack_app, slack_stub, "triage DiskFull", n=1)
    assert f"<#{CHANNEL}>" in unrouted.args["text"]  # no route took it: followed where it was asked for
    assert [c.args["channel"] for c in slack_stub.calls_to("chat.postMessage")] == ["CALERTS", CHANNEL]
    _ack, fresh = _command(slack_app, slack_stub, "triage paymentservice", n=2)
    [question] = [r for r in services_of(slack_app).store.page() if r.source == "question"]
    assert question.title == "triage paymentservice" and question.incident.services == ["paymentservice"]
    assert "is open" in fresh.args["text"]


def test_a_channel_medic_is_not_in_says_so(slack_app: TestClient, slack_stub: SlackStub) -> None:
    slack_stub.errors["chat.postMessage"] = "not_in_channel"
    _ack, answer = _command(slack_app, slack_stub, "why is checkout slow?")
    assert "could not be posted here: chat.postMessage: Slack answered not_in_channel" in answer.args["text"]
    [record] = services_of(slack_app).store.page()  # the incident is open all the same
    threads = SlackThreads(services_of(slack_app).store.engine)
    assert threads.of(record.id) is None  # the claim was let go: a later attempt may post it
    assert threads.claim(record.id, CHANNEL)
