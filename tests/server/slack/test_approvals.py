"""Approve / Refuse presses against the service without a worker: who may press, stale buttons, what a
press records, and that nothing is recorded when Slack cannot show the press."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from server.bench.slack_stub import SlackStub, StubCall
from tests.server.api_fixture import services_of
from tests.server.slack.slack_fixture import CHANNEL, command_body, post, press_body
from tools.action_request import ActionRequest


def _thread_of_a_question(app: TestClient, stub: SlackStub) -> str:
    """A question opened with /medic, its thread posted; the incident's id."""
    assert post(app, "/slack/commands", command_body(stub, "is checkout ok?")).status_code == 200
    stub.wait_for(lambda: stub.calls_to("response"), what="the command's answer, once its thread is posted")
    return services_of(app).store.page()[0].id


def _waiting(app: TestClient, incident_id: str, replicas: int = 3) -> str:
    """Where the guard leaves an incident: waiting for approval of one action; the action's id."""
    action = ActionRequest(
        kind="scale",
        target="shop/deployment/checkout",
        params={"replicas": replicas},
        incident_id=incident_id,
        requested_by="agent:rules",
    )
    pending = {
        "action": action.model_dump(mode="json"),
        "exact": action.exact().model_dump(mode="json"),
        "action_id": action.action_id,
        "changes": [f"replicas: 2 → {replicas}"],
        "kubectl": f"kubectl -n shop scale deployment/checkout --replicas={replicas}",
        "needs": [{"requirement": {"roles": ["sre"], "min_approvers": 1}}],
    }
    services_of(app).store.set_state(incident_id, "awaiting_approval", pending=pending)
    return action.action_id


def _send_press(
    app: TestClient, stub: SlackStub, user: str, incident_id: str, action_id: str, n: int, verdict: str
) -> None:
    """One signed button press, accepted at once (the answer follows)."""
    body = press_body(stub, user, incident_id, action_id, verdict, n=n)
    assert post(app, "/slack/interactions", body).status_code == 200


def _press(
    app: TestClient,
    stub: SlackStub,
    user: str,
    incident_id: str,
    action_id: str,
    n: int,
    verdict: str = "approve",
) -> StubCall:
    """Press a button that is not recorded; the ephemeral answer the presser got."""
    _send_press(app, stub, user, incident_id, action_id, n, verdict)
    url = f"/respond/press-{user}-{n}"
    told = stub.wait_for(
        lambda: [c for c in stub.calls_to("response") if c.path == url], what=f"the answer to {user}"
    )
    return told[0]  # type: ignore[index,no-any-return]


def _recorded(
    app: TestClient,
    stub: SlackStub,
    user: str,
    incident_id: str,
    action_id: str,
    n: int,
    verdict: str = "approve",
) -> None:
    """Press a button that is recorded."""
    _send_press(app, stub, user, incident_id, action_id, n, verdict)
    store = services_of(app).store
    stub.wait_for(
        lambda: any(a.approver == f"slack:{user}" for a in store.approvals_for(incident_id, action_id)),
        what=f"the answer of {user} recorded",
    )
    assert not [c for c in stub.calls_to("response") if c.path == f"/respond/press-{user}-{n}"]


def _buttons(stub: SlackStub) -> list[dict]:
    parent = next(m for m in stub.messages.values() if m.thread_ts is None)
    return [e for b in parent.blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_user_without_the_approver_role_is_refused_and_told_why(
    slack_app: TestClient, slack_stub: SlackStub
) -> None:
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    action_id = _waiting(slack_app, incident_id)
    slack_stub.wait_for(lambda: _buttons(slack_stub), what="the buttons")
    assert {json.loads(b["value"])["action"] for b in _buttons(slack_stub)} == {action_id}
    for n, user in enumerate(("URICK", "UVERA", "UNOBODY")):
        told = _press(slack_app, slack_stub, user, incident_id, action_id, n)
        assert "Not recorded: this needs the approver role" in told.args["text"]
        assert told.args["response_type"] == "ephemeral"
    assert "has responder" in _press(slack_app, slack_stub, "URICK", incident_id, action_id, 9).args["text"]
    assert services_of(slack_app).store.approvals_for(incident_id, action_id) == []


def test_a_stale_button_is_refused(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    shown = _waiting(slack_app, incident_id, replicas=3)
    now = _waiting(slack_app, incident_id, replicas=4)  # the proposal changed since the button was drawn
    told = _press(slack_app, slack_stub, "UCAROL", incident_id, shown, 1)
    assert "stale" in told.args["text"] and now in told.args["text"]
    slack_stub.wait_for(
        lambda: {json.loads(b["value"])["action"] for b in _buttons(slack_stub)} == {now},
        what="the redrawn buttons",
    )
    services_of(slack_app).store.set_state(incident_id, "finished")
    told = _press(slack_app, slack_stub, "UCAROL", incident_id, now, 2)
    assert "no action of incident" in told.args["text"]
    assert services_of(slack_app).store.approvals_for(incident_id, now) == []
    slack_stub.wait_for(lambda: not _buttons(slack_stub), what="the buttons to go")


def test_a_press_is_shown_then_recorded_once_per_person(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    action_id = _waiting(slack_app, incident_id)
    store = services_of(slack_app).store
    _recorded(slack_app, slack_stub, "UGRACE", incident_id, action_id, 1)  # a member of SONCALL
    [approval] = store.approvals_for(incident_id, action_id)
    assert (approval.approver, approval.channel, approval.verdict) == ("slack:UGRACE", "slack", "approve")
    assert approval.roles == ["approver", "sre"] and approval.groups == ["SONCALL"]
    showing = [c for c in slack_stub.calls_to("chat.update") if "<@UGRACE> approved" in json.dumps(c.args)]
    assert showing, "the press was shown in the thread before it was recorded"
    again = _press(slack_app, slack_stub, "UGRACE", incident_id, action_id, 2)
    assert "already answered" in again.args["text"]
    late = _press(slack_app, slack_stub, "UCAROL", incident_id, action_id, 3)
    assert "already approved by slack:UGRACE" in late.args["text"]
    assert [e.kind for e in store.timeline(incident_id)].count("approval") == 1


def test_a_refusal_decides_the_action(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    action_id = _waiting(slack_app, incident_id)
    _recorded(slack_app, slack_stub, "UDAN", incident_id, action_id, 1, verdict="reject")
    told = _press(slack_app, slack_stub, "UCAROL", incident_id, action_id, 2)
    assert "already refused by slack:UDAN" in told.args["text"]
    slack_stub.wait_for(
        lambda: "refused by <@UDAN>" in json.dumps(next(iter(slack_stub.messages.values())).blocks),
        what="the refusal in the thread",
    )


def test_slack_unreachable_records_nothing(slack_app: TestClient, slack_stub: SlackStub) -> None:
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    action_id = _waiting(slack_app, incident_id)
    store = services_of(slack_app).store
    slack_stub.pause()
    try:
        body = press_body(slack_stub, "UCAROL", incident_id, action_id, n=1)
        assert post(slack_app, "/slack/interactions", body).status_code == 200
        slack_stub.wait_for(
            lambda: any("nothing was recorded" in e.text for e in store.timeline(incident_id)),
            what="the unconfirmed press on the timeline",
        )
    finally:
        slack_stub.resume()
    assert store.approvals_for(incident_id, action_id) == []
    assert store.get(incident_id).state == "awaiting_approval"
    _recorded(slack_app, slack_stub, "UCAROL", incident_id, action_id, 2)  # Slack is back
    assert [a.approver for a in store.approvals_for(incident_id, action_id)] == ["slack:UCAROL"]
    assert all(c.args.get("channel") == CHANNEL for c in slack_stub.calls_to("chat.update"))


def test_a_group_slack_does_not_confirm_grants_nothing(slack_app: TestClient, slack_stub: SlackStub) -> None:
    slack_stub.errors["usergroups.users.list"] = "ratelimited"  # before any lookup could be cached
    incident_id = _thread_of_a_question(slack_app, slack_stub)
    action_id = _waiting(slack_app, incident_id)
    told = _press(slack_app, slack_stub, "UGRACE", incident_id, action_id, 1)
    assert "needs the approver role" in told.args["text"]
    assert "Slack did not confirm your membership of SONCALL" in told.args["text"]
    assert services_of(slack_app).store.approvals_for(incident_id, action_id) == []
