"""The enforce pass's policy (the configured one, enforcing) and its approvers (whatever is asked)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import JsonValue

from evals.enforce import policy_in_mode, qualified_approvers
from policies.loader import PolicyError, load_default_policy, load_policy
from policies.model import ApprovalRequirement


def test_the_policy_is_the_configured_one_with_only_its_mode_changed(tmp_path: Path) -> None:
    enforcing = load_policy(policy_in_mode(None, "enforce", tmp_path / "policy.yaml"))
    shipped = load_default_policy()
    assert shipped.mode == "dry_run" and enforcing.mode == "enforce"
    assert enforcing.model_copy(update={"mode": "dry_run"}) == shipped  # every rule and limit kept


def test_a_broken_configured_policy_fails_before_any_agent_runs(tmp_path: Path) -> None:
    broken = tmp_path / "mine.yaml"
    broken.write_text("version: 1\nrules: [{name: x, kinds: [scale], effect: sometimes}]\n")
    with pytest.raises(PolicyError, match="effect"):
        policy_in_mode(broken, "enforce", tmp_path / "out.yaml")


def test_approvers_are_as_many_as_the_strictest_requirement_and_hold_every_role_asked() -> None:
    one = ApprovalRequirement(roles=["sre"], min_approvers=1)
    two = ApprovalRequirement(roles=["oncall"], groups=["platform"], min_approvers=2)
    payload: dict[str, JsonValue] = {
        "exact": {"kind": "cordon", "target": "node/n1", "params": {}, "incident_id": "inc-1"},
        "needs": [{"source": "rules/a", "requirement": r.model_dump(mode="json")} for r in (one, two)],
    }
    approvers = qualified_approvers(payload)
    assert [a.identity for a in approvers] == ["eval-approver-1", "eval-approver-2"]
    assert all(a.roles == ["oncall", "sre"] and a.groups == ["platform"] for a in approvers)
    approval = approvers[0].answer(payload, approve=True, now=datetime(2026, 3, 2, tzinfo=UTC))
    assert approval.verdict == "approve" and approval.action.target == "node/n1"
