"""The report: JSON that round-trips, Markdown with every section (world text defused), the guard's
outcome as the guard records it or as a plain mapping, and the eval fields."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agent.diagnosis import Diagnosis, Hypothesis
from agent.report import GuardOutcome, Report, build_report
from policies.approvals import Approval
from policies.decision import ApprovalStatus, Decision, RuleMatch
from policies.guard_record import GuardRecord
from policies.model import ApprovalRequirement
from tests.agent.report_state import GOLDEN, GUARD, NOISE, ROLLOUT, state
from tests.tools.prom_fixture import AS_OF


def test_report_json_round_trips() -> None:
    report = build_report(state(), planner="rules", guard=GUARD)
    text = report.model_dump_json()
    assert Report.model_validate_json(text) == report
    data = json.loads(text)
    assert data["proposal"]["action"]["target"] == "boutique/deployment/checkout"
    assert data["guard"]["decision"] == "require_approval (mode=enforce, action_id=act-1)"
    assert data["cited"] == [ROLLOUT, GOLDEN]
    assert [e["id"] for e in data["evidence"]] == [ROLLOUT, GOLDEN, NOISE]
    assert [t["status"] for t in data["timeline"]] == ["ok", "ok", "error"]
    assert data["timeline"][0]["summary"] == "checkout: errors 30% (was 0.1%)"
    assert data["timeline"][0]["elapsed_s"] == pytest.approx(0.123)


def test_markdown_has_every_section_and_the_guard_details() -> None:
    md = build_report(state(), planner="rules", guard=GUARD).to_markdown()
    for heading in (
        "# medic report",
        "## Summary",
        "## Top hypotheses",
        "## Evidence cited",
        "## Ruled out",
        "## Timeline",
        "## Proposed action",
        "### Guard",
        "## Signals",
        "## Budgets",
    ):
        assert f"\n{heading}" in f"\n{md}", heading
    assert "**Verdict:** CONFIRMED: bad_deploy on checkout (confidence 0.86)." in md
    assert "1. **CONFIRMED** `bad_deploy` on `checkout`, confidence 0.86" in md
    assert "2. **INCONCLUSIVE** `node_pressure` on `node/node-b`, confidence 0.30" in md
    assert f"`{GOLDEN}` (prometheus): checkout 5xx ratio 30% (baseline 0.1%)" in md
    assert "cart: steady, its deploy 3h ago is harmless" in md
    assert "dropped: frontend (cpu_hog)" in md
    assert "| 3 | `pod_logs` | error (retryable) |" in md
    assert "- Action: `rollback` on `boutique/deployment/checkout`" in md
    assert "```diff\nimage: checkout:1.4.2 → checkout:1.4.1\n```" in md
    assert "```sh\nkubectl -n boutique rollout undo deployment/checkout\n```" in md
    assert "- Decision: **require_approval (mode=enforce, action_id=act-1)**" in md
    assert "  - rules/rollback-boutique (require_approval): rollbacks need an SRE" in md
    assert "- Approval: approved (by=alice)" in md
    assert "- Verification: 5xx ratio back under 1% after 3m" in md
    assert "Budgets hit: max_tool_calls at step 3" in md
    assert "no chart was rendered" in md


def test_world_text_cannot_become_links_images_html_or_table_cells() -> None:
    md = build_report(state(), planner="rules", guard=GUARD).to_markdown()
    assert "evil.example" in md  # still shown, as text
    for live in ("![pixel](", "[click](", "<img", "| approved |"):
        assert live not in md, live


def test_proposal_without_guard_and_escalation_render() -> None:
    diagnosis = Diagnosis(
        hypotheses=[
            Hypothesis(
                entity="checkout",
                service="checkout",
                fault_kind="dependency_latency",
                confidence=0.7,
                label="LIKELY",
                summary="slow",
                evidence=[GOLDEN],
            )
        ]
    )
    md = build_report(state(diagnosis), planner="rules").to_markdown()
    assert "- No automated action. escalate to the owner of checkout:" in md
    assert "### Guard" not in md


def test_eval_fields() -> None:
    fields = build_report(state(), planner="rules").eval_fields()
    assert [(p.service, p.kind, p.confidence) for p in fields.predicted] == [
        ("checkout", "bad_deploy", 0.86),
        ("node/node-b", "node_pressure", 0.3),
    ]
    assert (fields.tool_calls, fields.llm_tokens, fields.wall_s) == (3, 0, 4.21)
    assert fields.proposed_action == {"kind": "rollback", "target": "boutique/deployment/checkout"}

    healthy = build_report(state(Diagnosis(healthy=True, summary="all quiet")), planner="rules")
    assert healthy.verdict == "Healthy: no fault found: all quiet."
    assert [(p.service, p.kind) for p in healthy.eval_fields().predicted] == [(None, None)]
    assert healthy.eval_fields().proposed_action is None


def test_guard_outcome_accepts_plain_strings_and_keeps_unknown_keys() -> None:
    guard = GuardOutcome.model_validate({"decision": "deny", "kubectl": ["a", "b"], "audit_seq": 12})
    assert (guard.decision, guard.kubectl, guard.diff) == ("deny", ["a", "b"], [])
    assert guard.model_dump()["audit_seq"] == 12


def test_the_guards_own_record_is_reported() -> None:
    st = state()
    action = st["proposal"].action
    assert action is not None
    decision = Decision(
        outcome="require_approval",
        enforce_outcome="require_approval",
        mode="enforce",
        action_id=action.action_id,
        policy_digest="sha256:abc",
        evaluated_at=AS_OF,
        matched=[RuleMatch(rule="rules/rollback-boutique", effect="require_approval", why="needs an SRE")],
        approvals=[
            ApprovalStatus(source="rules/rollback-boutique", requirement=ApprovalRequirement(roles=["sre"]))
        ],
    )
    record = GuardRecord(
        action=action,
        stage="awaiting_approval",
        decision=decision,
        changes=["image: checkout:1.4.2 → checkout:1.4.1"],
        kubectl="kubectl -n boutique rollout undo deployment/checkout",
    )
    st["guard"] = record
    report = build_report(st, planner="rules")
    assert report.guard is not None
    assert report.guard.decision == "require_approval (enforce mode)"
    assert report.guard.approval == "needs 1 more from sre"
    assert report.guard.execution == "not executed yet: awaiting approval"
    assert report.guard.verification is None
    md = report.to_markdown()
    assert "  - rules/rollback-boutique (require_approval): needs an SRE" in md
    assert "```sh\nkubectl -n boutique rollout undo deployment/checkout\n```" in md
    assert Report.model_validate_json(report.model_dump_json()) == report

    approval = Approval(
        approver="alice",
        roles=["sre"],
        action=action.exact(),
        approved_at=AS_OF,
        expires_at=AS_OF + timedelta(minutes=30),
        channel="slack",
    )
    done = record.model_copy(
        update={
            "stage": "executed",
            "approvals": [approval],
            "decision": decision.model_copy(update={"approvals": []}),
            "executed": True,
            "verified": True,
        }
    )
    guard = build_report(st, planner="rules", guard=done).guard
    assert guard is not None
    assert (guard.approval, guard.execution, guard.verification) == (
        "approved by alice via slack",
        "executed",
        "verified",
    )
