"""evaluate(): rules, protected namespaces, mode, blast radius, rate limits, fail-closed on missing facts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from policies.approvals import Approval
from policies.evaluate import evaluate
from policies.model import Policy
from policies.target_state import RecentAction, TargetState
from tests.policies.factories import NOW, SRE_APPROVAL, approval, policy, request, state
from tools.action_request import ActionRequest

ALLOW_ALL = [{"name": "all", "kinds": ["*"], "effect": "allow"}]


def outcome(
    req: ActionRequest, pol: Policy, st: TargetState | None = None, approvals: list[Approval] | None = None
) -> str:
    return evaluate(req, pol, st or state(), approvals or [], NOW).outcome


def recent(kind: str, target: str, ago: timedelta, recovered: bool | None = True) -> RecentAction:
    """An earlier execution; by default one whose symptom receded (see test_history for the others)."""
    return RecentAction.model_validate(
        {"action_id": "act-x", "kind": kind, "target": target, "at": NOW - ago, "recovered": recovered}
    )


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease"])
def test_core_namespaces_are_denied_even_by_an_allow_all_policy_that_forgets_them(namespace: str) -> None:
    pol = policy(rules=ALLOW_ALL, protected_namespaces=[])
    decision = evaluate(request(target=f"{namespace}/deployment/coredns"), pol, state(), [], NOW)
    assert decision.outcome == "deny"
    assert decision.matched[0].rule == "protected_namespaces"


def test_protected_namespace_globs_and_approvals_do_not_help() -> None:
    pol = policy(protected_namespaces=["*-system"])
    req = request(target="istio-system/deployment/istiod")
    assert outcome(req, pol, approvals=[approval(req)]) == "deny"


def test_dry_run_mode_never_allows_but_reports_what_enforce_would_do() -> None:
    req = request()
    decision = evaluate(req, policy(mode="dry_run", rules=ALLOW_ALL), state(), [], NOW)
    assert (decision.outcome, decision.enforce_outcome, decision.may_execute) == (
        "dry_run_only",
        "allow",
        False,
    )
    denied = evaluate(request(target="kube-system/deployment/x"), policy(mode="dry_run"), state(), [], NOW)
    assert denied.outcome == "deny"


def test_mode_defaults_to_dry_run() -> None:
    assert Policy.model_validate({"rules": ALLOW_ALL}).mode == "dry_run"


def test_first_matching_rule_decides_and_no_match_is_the_default_deny() -> None:
    pol = policy(
        rules=[
            {
                "name": "no-db-restarts",
                "kinds": ["rollout_restart"],
                "targets": ["*/deployment/*-db"],
                "effect": "deny",
            },
            {
                "name": "shop",
                "kinds": ["rollout_restart", "rollback"],
                "namespaces": ["shop-*"],
                "effect": "allow",
            },
        ]
    )
    assert outcome(request(target="shop-eu/deployment/carts"), pol) == "allow"
    assert outcome(request(target="shop-eu/deployment/carts-db"), pol) == "deny"
    decision = evaluate(request(target="boutique/deployment/carts"), pol, state(), [], NOW)
    assert decision.outcome == "deny" and decision.matched[-1].rule == "default"
    assert (
        outcome(request(kind="scale", target="shop-eu/deployment/carts", params={"replicas": 5}), pol)
        == "deny"
    )


def test_a_rule_listing_namespaces_never_matches_a_node() -> None:
    pol = policy(rules=[{"name": "ns", "kinds": ["cordon"], "namespaces": ["*"], "effect": "allow"}])
    assert outcome(request(kind="cordon", target="node/a"), pol) == "deny"


def test_label_selectors_match_the_target_labels() -> None:
    pol = policy(
        rules=[
            {"name": "opt-out", "kinds": ["*"], "selector": {"matchLabels": {"medic.io/remediation": "off"}}, "effect": "deny"},
            {
                "name": "stateless",
                "kinds": ["*"],
                "selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]},
                                                  {"key": "stateful", "operator": "DoesNotExist"}]},
                "effect": "allow",
            },
        ]
    )  # fmt: skip
    assert outcome(request(), pol, state(labels={"tier": "web"})) == "allow"
    assert outcome(request(), pol, state(labels={"tier": "web", "medic.io/remediation": "off"})) == "deny"
    assert outcome(request(), pol, state(labels={"tier": "web", "stateful": "yes"})) == "deny"
    assert outcome(request(), pol, state(labels={"tier": "batch"})) == "deny"


def test_a_selector_with_unknown_labels_fails_closed() -> None:
    pol = policy(
        rules=[
            {"name": "web", "kinds": ["*"], "selector": {"matchLabels": {"tier": "web"}}, "effect": "allow"}
        ]
    )
    decision = evaluate(request(), pol, TargetState(recent_actions=[]), [], NOW)
    assert decision.outcome == "deny" and "no labels" in decision.reasons[0]


@pytest.mark.parametrize(
    ("current", "wanted", "expected"),
    [(4, 8, "allow"), (4, 9, "deny"), (4, 2, "allow"), (4, 1, "deny"), (5, 3, "allow"), (5, 2, "deny"),
     (4, 4, "allow"), (30, 51, "deny"), (1, 0, "deny"), (0, 1, "deny")],
)  # fmt: skip
def test_scale_is_bounded_relative_and_absolute(current: int, wanted: int, expected: str) -> None:
    pol = policy(
        rules=ALLOW_ALL, limits={"scale": {"max_factor_up": 2, "max_factor_down": 2, "max_replicas": 50}}
    )
    req = request(kind="scale", params={"replicas": wanted})
    assert outcome(req, pol, state(replicas=current)) == expected


def test_scale_without_current_replicas_is_denied() -> None:
    decision = evaluate(
        request(kind="scale", params={"replicas": 3}), policy(rules=ALLOW_ALL), state(replicas=None), [], NOW
    )
    assert decision.outcome == "deny" and "current replicas" in " ".join(decision.reasons)


def test_pod_deletions_are_budgeted_per_namespace_and_hour() -> None:
    pol = policy(rules=ALLOW_ALL, limits={"delete_pod": {"max_per_hour": 2}})
    req = request(kind="delete_pod", target="boutique/pod/cart-1")
    busy = [recent("delete_pod", "boutique/pod/cart-2", timedelta(minutes=10)),
            recent("delete_pod", "boutique/pod/cart-3", timedelta(minutes=50))]  # fmt: skip
    assert outcome(req, pol, state(recent=busy)) == "deny"
    older = [busy[0], recent("delete_pod", "boutique/pod/cart-3", timedelta(minutes=61))]
    assert outcome(req, pol, state(recent=older)) == "allow"
    elsewhere = [busy[0], recent("delete_pod", "shop/pod/carts-1", timedelta(minutes=5))]
    assert outcome(req, pol, state(recent=elsewhere)) == "allow"


@pytest.mark.parametrize(
    ("schedulable", "cordoned", "node_schedulable", "expected"),
    [
        (3, 0, True, "allow"),
        (1, 0, True, "deny"),
        (2, 0, True, "deny"),
        (3, 1, True, "deny"),
        (1, 1, False, "allow"),
    ],
)
def test_cordon_never_takes_the_last_schedulable_nodes(
    schedulable: int, cordoned: int, node_schedulable: bool, expected: str
) -> None:
    pol = policy(rules=ALLOW_ALL, limits={"cordon": {"min_schedulable_nodes": 2, "max_cordoned_nodes": 1}})
    st = state(schedulable_nodes=schedulable, cordoned_nodes=cordoned, node_schedulable=node_schedulable)
    assert outcome(request(kind="cordon", target="node/a"), pol, st) == expected


def test_cordon_without_node_counts_is_denied_and_uncordon_is_not_bounded() -> None:
    pol = policy(rules=ALLOW_ALL)
    st = state(schedulable_nodes=None, cordoned_nodes=None, node_schedulable=None)
    assert outcome(request(kind="cordon", target="node/a"), pol, st) == "deny"
    assert outcome(request(kind="uncordon", target="node/a"), pol, st) == "allow"


def test_rate_limit_per_target() -> None:
    pol = policy(rules=ALLOW_ALL, limits={"per_target": {"max_actions": 2, "window": "30m"}})
    target = "boutique/deployment/checkoutservice"
    two = [
        recent("rollback", target, timedelta(minutes=5)),
        recent("rollout_restart", target, timedelta(minutes=20)),
    ]
    assert outcome(request(), pol, state(recent=two)) == "deny"
    assert (
        outcome(request(), pol, state(recent=[two[0], recent("rollback", target, timedelta(minutes=31))]))
        == "allow"
    )
    other = [two[0], recent("rollback", "boutique/deployment/frontend", timedelta(minutes=1))]
    assert outcome(request(), pol, state(recent=other)) == "allow"
    future = [recent("rollback", target, timedelta(minutes=-5))] * 2  # clock skew: counted, not ignored
    assert outcome(request(), pol, state(recent=future)) == "deny"


def test_unknown_recent_actions_fail_closed() -> None:
    st = TargetState(labels={}, replicas=4)
    decision = evaluate(request(), policy(rules=ALLOW_ALL), st, [], NOW)
    assert decision.outcome == "deny" and "recent_actions" in decision.reasons[0]


def test_guardrails_tighten_an_approved_action_too() -> None:
    req = request(kind="scale", params={"replicas": 20})
    assert outcome(req, policy(), state(replicas=4), [approval(req)]) == "deny"


def test_an_unknown_kind_built_without_validation_is_denied() -> None:
    forged = request().model_copy(update={"kind": "drain"})
    assert outcome(forged, policy(rules=ALLOW_ALL)) == "deny"


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(request(), policy(), state(), [], datetime(2026, 1, 1))


def test_decision_explains_itself() -> None:
    req = request()
    decision = evaluate(req, policy(), state(), [], NOW)
    assert decision.outcome == "require_approval" and decision.action_id == req.action_id
    assert (
        decision.approvals[0].missing == 1
        and decision.approvals[0].requirement.roles == SRE_APPROVAL["roles"]
    )
    assert "needs 1 more approval(s) from sre" in decision.summary()
    assert decision.policy_digest == policy().digest != policy(mode="dry_run").digest
