"""A slash command end to end, on a real sandbox in enforce mode: the acknowledgement, the thread
created and redrawn through the investigation, a thread reply answered, two approvers pressing
Approve at once, the rollback executed once, and the message showing who approved and what ran."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from server.bench.slack_stub import SlackStub, StubMessage
from tests.policies.guard_fixtures import clock
from tests.server.service_fixture import Service, running_service
from tests.server.slack.slack_fixture import CHANNEL, command_body, event_body, post, press_body, slack_config
from tests.server.test_service_flow import _image


@pytest.fixture
def slack_service(tmp_path: Path, tsdb_cache: Path, slack_stub: SlackStub) -> Iterator[Service]:
    with running_service(tmp_path, tsdb_cache, slack_config(slack_stub, sync_interval_s=0.2)) as running:
        yield running


def _parent(stub: SlackStub) -> StubMessage:
    [parent] = [m for m in stub.messages.values() if m.thread_ts is None]
    return parent


def _shown(stub: SlackStub) -> str:
    return json.dumps(_parent(stub).blocks, ensure_ascii=False)


@pytest.mark.sandbox
def test_a_slash_command_to_an_approved_rollback_executed_once(
    slack_service: Service, slack_stub: SlackStub
) -> None:
    svc, stub = slack_service, slack_stub
    at = svc.scenario.end_utc.isoformat().replace("+00:00", "Z")
    started = time.monotonic()
    ack = post(
        svc.client, "/slack/commands", command_body(stub, f"why is checkout failing? -n boutique --at {at}")
    )
    assert ack.status_code == 200 and time.monotonic() - started < 3
    assert ack.json() == {
        "response_type": "ephemeral",
        "text": "🔎 Investigating… the incident's thread follows in this channel.",
    }

    stub.wait_for(lambda: stub.calls_to("response"), what="the command's answer")
    incident_id = stub.calls_to("response")[0].args["text"].split("`")[1]
    waiting = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"})
    assert waiting["incident"]["state"] == "awaiting_approval", waiting["timeline"]
    action_id = waiting["incident"]["pending"]["action_id"]

    # one parent message in the channel, redrawn in place through the investigation
    stub.wait_for(lambda: action_id in _shown(stub), what="the buttons for the waiting action")
    parent = _parent(stub)
    assert parent.channel == CHANNEL and parent.edits >= 2
    drawn = [json.dumps(c.args.get("blocks"), ensure_ascii=False) for c in stub.calls_to("chat.update")]
    assert any("investigating: " in d and "tool calls" in d for d in drawn), "no redraw while investigating"
    shown = _shown(stub)
    for part in ("bad_deploy on checkoutservice", "*Evidence*", "*Ruled out", "*Proposed action:* `rollback boutique/deployment/checkoutservice`",
                 "*Diff*", "checkoutservice:1.4.2", "*kubectl equivalent*", "rollout undo", "*Policy decision:* require_approval (enforce mode)"):  # fmt: skip
        assert part in shown, part
    buttons = [e for b in parent.blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[index]
    assert [json.loads(b["value"]) for b in buttons] == [{"incident": incident_id, "action": action_id}] * 2  # type: ignore[index]

    # the chart, uploaded into the thread with files.uploadV2's three steps
    stub.wait_for(lambda: stub.calls_to("files.completeUploadExternal"), what="the chart upload")
    [completed] = stub.calls_to("files.completeUploadExternal")
    assert completed.args["thread_ts"] == parent.ts and completed.args["channel_id"] == CHANNEL
    assert stub.calls_to("upload")[0].args["bytes"] > 1000
    stub.wait_for(lambda: "signals chart in the thread" in _shown(stub), what="the chart noted")

    # a reply in the thread is chat with the incident
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": "URICK",
        "text": "what would you do?",
        "ts": f"{time.time():.6f}",
        "thread_ts": parent.ts,
    }
    assert post(svc.client, "/slack/events", event_body(event), json_body=True).status_code == 200
    replies = lambda: [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts") == parent.ts]  # noqa: E731
    stub.wait_for(replies, what="the answer in the thread")
    assert "rollback" in replies()[0].args["text"]

    # two approvers press at once: one execution
    before = _image(svc, "checkoutservice")
    bodies = [
        press_body(stub, user, incident_id, action_id, n=n) for n, user in enumerate(("UCAROL", "UDAN"))
    ]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda b: post(svc.client, "/slack/interactions", b), bodies))
    assert [a.status_code for a in answers] == [200, 200]
    done = svc.wait_for(incident_id, {"finished", "failed"}, timeout_s=120)
    assert done["incident"]["state"] == "finished", done["timeline"]
    guard = done["incident"]["report"]["guard"]
    assert guard["execution"].startswith("executed"), guard
    assert _image(svc, "checkoutservice") != before
    log = AuditLog(SqliteAuditStore(svc.agent.audit_url), clock)
    sends = [r for r in log.show() if r.kind == "execution" and r.payload.get("phase") == "sending"]
    assert len(sends) == 1
    approvers = {r.actor for r in log.show() if r.kind == "approval"}
    assert approvers and approvers <= {"slack:UCAROL", "slack:UDAN"}

    # the message shows who approved, the execution and its verification; no buttons any more
    stub.wait_for(lambda: "*Execution*\\nexecuted" in _shown(stub), what="the result in the thread")
    shown = _shown(stub)
    assert "approved by <@UCAROL>" in shown or "approved by <@UDAN>" in shown
    assert "*Verification*" in shown and '"actions"' not in shown
