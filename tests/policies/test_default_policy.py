"""The shipped policy is safe (DESIGN §3.4 invariant 6)."""

from __future__ import annotations

import pytest

from policies.evaluate import evaluate
from policies.loader import load_default_policy
from policies.model import Policy
from tests.policies.factories import NOW, approval, request, state

DEFAULT = load_default_policy()
ENFORCING = DEFAULT.model_copy(update={"mode": "enforce"})


def test_dry_run_mode_is_on_and_nothing_executes() -> None:
    assert DEFAULT.mode == "dry_run"
    req = request()
    decision = evaluate(req, DEFAULT, state(), [approval(req, approver="alice", roles=("sre",))], NOW)
    assert decision.outcome == "dry_run_only" and decision.enforce_outcome == "allow"


@pytest.mark.parametrize(
    "namespace",
    ["kube-system", "kube-public", "kube-node-lease", "istio-system", "cert-manager", "monitoring", "medic"],
)
@pytest.mark.parametrize("policy", [DEFAULT, ENFORCING])
def test_protected_namespaces_are_denied(namespace: str, policy: Policy) -> None:
    req = request(target=f"{namespace}/deployment/x")
    assert evaluate(req, policy, state(), [approval(req)], NOW).outcome == "deny"


@pytest.mark.parametrize(
    ("current", "wanted", "expected"), [(3, 6, "allow"), (3, 7, "deny"), (4, 2, "allow"), (4, 1, "deny")]
)
def test_scale_is_bounded_within_x2(current: int, wanted: int, expected: str) -> None:
    req = request(kind="scale", params={"replicas": wanted})
    assert evaluate(req, ENFORCING, state(replicas=current), [approval(req)], NOW).outcome == expected


def test_one_pod_per_delete() -> None:
    assert DEFAULT.limits.delete_pod.pods_per_action == 1
    with pytest.raises(ValueError, match="target"):
        request(kind="delete_pod", target="boutique/pod/cart-*")
    req = request(kind="delete_pod", target="boutique/pod/cart-1")
    assert evaluate(req, ENFORCING, state(), [approval(req)], NOW).outcome == "allow"


def test_everything_needs_approval_and_nothing_is_allowed_outright() -> None:
    assert all(rule.effect in ("require_approval", "deny") for rule in DEFAULT.rules)
    assert DEFAULT.default_effect == "deny"
    for req in [
        request(),
        request(kind="rollback"),
        request(kind="scale", params={"replicas": 5}),
        request(kind="delete_pod", target="boutique/pod/a"),
        request(kind="cordon", target="node/a"),
        request(kind="uncordon", target="node/a"),
    ]:
        assert evaluate(req, ENFORCING, state(), [], NOW).outcome == "require_approval"


def test_nodes_need_two_sres_and_never_the_last_schedulable_ones() -> None:
    req = request(kind="cordon", target="node/a")
    two = [approval(req, approver="alice"), approval(req, approver="bob")]
    assert evaluate(req, ENFORCING, state(), two[:1], NOW).outcome == "require_approval"
    assert evaluate(req, ENFORCING, state(schedulable_nodes=3), two, NOW).outcome == "allow"
    assert evaluate(req, ENFORCING, state(schedulable_nodes=2), two, NOW).outcome == "deny"


def test_opted_out_workloads_and_unknown_labels_are_denied() -> None:
    req = request()
    assert (
        evaluate(req, ENFORCING, state(labels={"medic.io/remediation": "off"}), [approval(req)], NOW).outcome
        == "deny"
    )
    no_labels = state().model_copy(update={"labels": None})
    assert evaluate(req, ENFORCING, no_labels, [approval(req)], NOW).outcome == "deny"
