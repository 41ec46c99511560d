"""Block Kit payloads stay within Slack's documented limits whatever the incident holds, and world text
can neither ping nor forge a link. Each payload is checked twice: by our checker and by slack_sdk's
block models (an independent reading of the same limits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.diagnosis import Diagnosis, Hypothesis, MissingEvidence
from agent.incident import incident_from_question
from agent.report import GuardOutcome, Report
from agent.state import Proposal
from policies.approvals import Approval
from server.bench.slack_stub import invalid_blocks
from server.slack import blocks as bk
from server.slack import limits
from server.slack.incident_message import IncidentView, parent_message
from server.store.models import IncidentRecord, TimelineEntry
from tools.action_request import ActionRequest
from tools.contract import Evidence

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
PING = "<!channel> <https://evil.example|click> & "


def _huge_record(state: str = "awaiting_approval") -> tuple[IncidentRecord, str]:
    incident = incident_from_question(
        "why " + "is checkout slow " * 40,
        as_of=NOW,
        namespace="shop",
        known_services=[],
        asked_by="slack:URICK",
    )
    action = ActionRequest(
        kind="scale",
        target="shop/deployment/checkout",
        params={"replicas": 4},
        incident_id=incident.id,
        reason=PING * 90,
        requested_by="agent:rules",
    )
    evidence = [Evidence(id=f"ev:{n}", source="logs", description=PING + "x" * 5000) for n in range(120)]
    hypotheses = [
        Hypothesis(
            entity=f"svc-{n}",
            confidence=0.5,
            label="LIKELY",
            summary=PING + "s" * 1900,
            evidence=[e.id for e in evidence],
            ruled_out=[PING + "r" * 900] * 30,
        )
        for n in range(12)
    ]
    missing = [MissingEvidence(source="traces", why=PING + "w" * 900)] * 5
    report = Report(
        incident=incident,
        planner="rules",
        verdict=PING * 200,
        symptom=PING * 100,
        diagnosis=Diagnosis(hypotheses=hypotheses, missing=missing),
        evidence=evidence,
        cited=[e.id for e in evidence],
        proposal=Proposal(action=action, reason=PING * 200),
        guard=GuardOutcome(
            decision=PING * 50,
            matched_rules=[PING * 20] * 80,
            diff=[PING * 10] * 400,
            kubectl=["kubectl " + PING * 300],
            approval=PING * 100,
            execution=PING * 100,
            verification=PING * 100,
        ),
    )
    pending = {
        "action": action.model_dump(mode="json"),
        "exact": action.exact().model_dump(mode="json"),
        "action_id": action.action_id,
        "kubectl": "kubectl " + "k" * 5000,
    }
    record = IncidentRecord(
        id=incident.id,
        title="t" * 500 + PING,
        source="question",
        namespace="shop",
        state=state,
        opened_by="slack:URICK",
        created_at=NOW,
        updated_at=NOW,
        incident=incident,
        report=report.model_dump(mode="json"),
        pending=pending,
    )
    return record, action.action_id


def _approvals(record: IncidentRecord, n: int) -> list[Approval]:
    exact = (record.pending or {})["exact"]
    return [
        Approval.model_validate(
            {
                "approver": f"slack:U{i:04d}",
                "action": exact,
                "approved_at": NOW,
                "expires_at": NOW.replace(hour=15),
                "channel": "slack",
                "verdict": "approve",
            }
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("state", ["queued", "investigating", "awaiting_approval", "finished", "failed"])
def test_the_parent_message_of_a_huge_incident_fits(state: str) -> None:
    record, action_id = _huge_record(state)
    timeline = [
        TimelineEntry(seq=n, at=NOW, kind=kind, text=PING * 200, data={"tool": "t" * 300, "status": "ok"})
        for n in range(300)
        for kind in ("tool", "diagnosis", "error")
    ]
    view = IncidentView(record=record, timeline=timeline, answers=_approvals(record, 300), note=PING * 300)
    blocks, text = parent_message(view)
    limits.check_message(blocks)
    assert invalid_blocks(blocks, limits.MESSAGE_BLOCKS) is None  # slack_sdk's reading of the limits
    assert 0 < len(text) <= limits.MESSAGE_TEXT
    shown = str(blocks)
    assert "<!channel>" not in shown and "<https://evil" not in shown and "&lt;!channel&gt;" in shown
    if state == "awaiting_approval":
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[union-attr]
        assert [b["action_id"] for b in buttons] == ["medic_approve", "medic_refuse"]  # type: ignore[index]
        assert all(action_id in str(b["value"]) for b in buttons)  # type: ignore[index]
        assert "<@U0000>" in shown  # medic's own subjects become mentions


def test_many_blocks_are_cut_to_the_limit_saying_how_many_were_left_out() -> None:
    many = [bk.section(f"line {n}") for n in range(130)]
    kept = bk.fit(many)
    assert len(kept) == limits.MESSAGE_BLOCKS and "81 more blocks" in str(kept[-1])
    limits.check_message(kept)
    assert len(bk.fit(many, limits.VIEW_BLOCKS)) == limits.VIEW_BLOCKS


@pytest.mark.parametrize(
    ("blocks", "why"),
    [
        ([bk.section("x")] * 51, "51 blocks, at most 50"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            "3001 characters, at most 3000",
        ),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "at most 150"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "must be plain_text"),
        ([{"type": "section", "fields": [bk.mrkdwn("x")] * 11}], "at most 10"),
        ([{"type": "context", "elements": [bk.mrkdwn("x")] * 11}], "1 to 10"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "non-empty"),
        ([{"type": "image", "image_url": "https://x"}], "unknown block type"),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "button", "text": bk.plain("x"), "action_id": "a" * 256}],
                }
            ],
            "at most 255",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {**bk.button("ok", "a", "v"), "text": {"type": "plain_text", "text": "x" * 76}}
                    ],
                }
            ],
            "at most 75",
        ),
    ],
)
def test_the_checker_refuses_what_slack_would(blocks: list[bk.Block], why: str) -> None:
    with pytest.raises(limits.BlockKitError, match=why):
        limits.check_message(blocks)


def test_a_button_value_is_never_cut() -> None:
    with pytest.raises(limits.BlockKitError, match="at most 2000"):
        bk.button("Approve", "medic_approve", "v" * 2001)


def test_text_builders_cut_to_their_place() -> None:
    assert len(bk.header("h" * 1000)["text"]["text"]) == limits.HEADER_TEXT  # type: ignore[index]
    assert len(bk.section("s" * 9000)["text"]["text"]) == limits.SECTION_TEXT  # type: ignore[index]
    fenced = bk.code(["line " * 1000] * 10, 500)
    assert len(fenced) <= 500 and fenced.startswith("```\n") and fenced.endswith("\n```")
    listed = bk.bullets([f"item {n}" for n in range(1000)], 300)
    assert len(listed) <= 300 and listed.endswith("more")
    assert len(limits.fallback_text("x" * 50_000)) == limits.MESSAGE_TEXT
