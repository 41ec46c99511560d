"""Approvals: the exact action, unexpired, an approver with the role, not the requester, distinct people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from policies.approvals import Approval
from policies.evaluate import evaluate
from policies.model import Policy
from tests.policies.factories import NOW, approval, policy, request, state
from tools.action_request import ActionRequest


def decide(approvals: list[Approval], pol: Policy | None = None, **req: object) -> tuple[str, list[str]]:
    r = request(**req)  # type: ignore[arg-type]
    decision = evaluate(r, pol or policy(), state(), approvals, NOW)
    return decision.outcome, [x.why for s in decision.approvals for x in s.rejected]


def test_a_valid_approval_allows() -> None:
    assert decide([approval(request())])[0] == "allow"


def test_no_approval_requires_approval() -> None:
    assert decide([]) == ("require_approval", [])


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda r: approval(request(kind="rollback", params={"to_revision": 2})), "another action"),
        (lambda r: approval(request(incident_id="inc-2")), "another action"),
        (lambda r: approval(request(target="boutique/deployment/frontend")), "another action"),
        (lambda r: approval(r, at=NOW - timedelta(minutes=40), ttl=timedelta(minutes=30)), "expired"),
        (lambda r: approval(r, at=NOW - timedelta(minutes=30), ttl=timedelta(minutes=30)), "expired"),
        (lambda r: approval(r, at=NOW - timedelta(hours=2), ttl=timedelta(days=1)), "max_age"),
        (lambda r: approval(r, at=NOW + timedelta(minutes=1)), "in the future"),
        (lambda r: approval(r, roles=("developer",)), "approver role"),
        (lambda r: approval(r, roles=()), "approver role"),
        (lambda r: approval(r, approver="agent:rules"), "own action"),
        (lambda r: approval(r, approver=" Agent:Rules "), "own action"),
    ],
)
def test_approvals_that_do_not_count(make: Callable[[ActionRequest], Approval], why: str) -> None:
    outcome, rejected = decide([make(request())])
    assert outcome == "require_approval"
    assert any(why in r for r in rejected), rejected


def test_an_approval_names_the_exact_params() -> None:
    approved = approval(request(kind="scale", params={"replicas": 6}))
    assert decide([approved], kind="scale", params={"replicas": 6})[0] == "allow"
    assert decide([approved], kind="scale", params={"replicas": 8})[0] == "require_approval"


def test_self_approval_only_when_the_rule_allows_it() -> None:
    selfish = policy(rules=[{"name": "all", "kinds": ["*"], "effect": "require_approval",
                             "approval": {"roles": ["sre"], "allow_self_approval": True}}])  # fmt: skip
    req = request(requested_by="alice")
    assert decide([approval(req, approver="alice")], requested_by="alice")[0] == "require_approval"
    assert decide([approval(req, approver="alice")], selfish, requested_by="alice")[0] == "allow"


def test_distinct_approvers_are_counted() -> None:
    two = policy(rules=[{"name": "all", "kinds": ["*"], "effect": "require_approval",
                         "approval": {"roles": ["sre"], "min_approvers": 2}}])  # fmt: skip
    req = request()
    same = [approval(req, approver="alice"), approval(req, approver="ALICE", channel="api")]
    outcome, rejected = decide(same, two)
    assert outcome == "require_approval" and rejected == ["already counted (distinct approvers)"]
    assert decide([approval(req, approver="alice"), approval(req, approver="bob")], two)[0] == "allow"


def test_group_membership_counts_as_the_approver_role() -> None:
    grouped = policy(rules=[{"name": "all", "kinds": ["*"], "effect": "require_approval",
                             "approval": {"groups": ["platform-oncall"]}}])  # fmt: skip
    req = request()
    assert decide([approval(req, roles=(), groups=("platform-oncall",))], grouped)[0] == "allow"
    assert decide([approval(req, roles=("platform-oncall",), groups=())], grouped)[0] == "require_approval"


def test_a_qualified_refusal_vetoes_and_the_requester_may_withdraw() -> None:
    req = request(requested_by="carol")
    approvals = [approval(req, approver="alice"), approval(req, approver="bob", verdict="reject")]
    assert decide(approvals, requested_by="carol")[0] == "deny"
    withdrawn = [approval(req, approver="alice"), approval(req, approver="carol", roles=(), verdict="reject")]
    assert decide(withdrawn, requested_by="carol")[0] == "deny"
    unqualified = [
        approval(req, approver="alice"),
        approval(req, approver="mallory", roles=(), verdict="reject"),
    ]
    assert decide(unqualified, requested_by="carol")[0] == "allow"


def test_an_approval_cannot_expire_before_it_was_given() -> None:
    with pytest.raises(ValueError, match="expires_at"):
        approval(request(), ttl=timedelta(0))


def test_approval_for_an_allow_rule_is_irrelevant_and_deny_is_not_overridden() -> None:
    deny_all = policy(rules=[{"name": "none", "kinds": ["*"], "effect": "deny"}])
    assert decide([approval(request())], deny_all)[0] == "deny"
