"""The action executor against the Kubernetes emulator over real HTTP: every kind dry-runs without
changing anything and with the right diff, executes exactly its target, and verifies its post-condition."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from kubernetes import client

from tests.evals.sandbox.kube_fixtures import Cluster, cluster_fixture  # noqa: F401 (fixture)
from tests.evals.sandbox.kube_world import NS
from tests.tools.prom_fixture import free_port
from tools.action_diff import diff_objects
from tools.action_request import ActionRequest
from tools.actions import ActionFailed, Executor, Outcome

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def request(kind: str, target: str, **params: object) -> ActionRequest:
    return ActionRequest(kind=kind, target=target, params=params, requested_by="agent:test")


def snapshot(cluster: Cluster) -> str:
    """Everything the cluster holds, for before/after comparison."""
    raw = cluster.raw
    parts = [
        cluster.apps.list_deployment_for_all_namespaces(),
        cluster.apps.list_replica_set_for_all_namespaces(),
        cluster.core.list_pod_for_all_namespaces(),
        cluster.core.list_node(),
    ]
    dumped = [raw.sanitize_for_serialization(p)["items"] for p in parts]
    return json.dumps(dumped, sort_keys=True)


CASES = [
    (request("scale", f"{NS}/deployment/checkout", replicas=4), ["replicas: 2 → 4"]),
    (
        request("rollout_restart", f"{NS}/deployment/checkout"),
        ["pod annotation kubectl.kubernetes.io/restartedAt: None → 2026-03-02T14:00:00Z"],
    ),
    (
        request("rollback", f"{NS}/deployment/checkout"),
        ["container server image: shop/checkout:v2 → shop/checkout:v1"],
    ),
    (
        request("delete_pod", f"{NS}/pod/checkout-bbb222-x1aaa"),
        ["pod checkout-bbb222-x1aaa: deleted (its ReplicaSet creates a replacement)"],
    ),
    (request("cordon", "node/node-b"), ["node node-b unschedulable: false → true"]),
]


@pytest.mark.parametrize(("action", "changes"), CASES, ids=[c[0].kind for c in CASES])
def test_dry_run_changes_nothing_and_shows_the_diff(
    cluster: Cluster, action: ActionRequest, changes: list[str]
) -> None:
    executor = Executor(cluster.raw)
    before = snapshot(cluster)
    outcome = executor.execute(action, dry_run=True, now=NOW)
    assert outcome.dry_run
    assert outcome.changes == changes
    assert snapshot(cluster) == before


@pytest.mark.parametrize(("action", "changes"), CASES, ids=[c[0].kind for c in CASES])
def test_execution_changes_the_target_and_verifies(
    cluster: Cluster, action: ActionRequest, changes: list[str]
) -> None:
    executor = Executor(cluster.raw)
    others = cluster.raw.sanitize_for_serialization(cluster.core.read_namespaced_pod("redis-0", NS))
    outcome = executor.execute(action, dry_run=False, now=NOW)
    assert outcome.changes == changes
    verification = executor.verify(action, outcome, within_s=5)
    assert verification.ok, verification.detail
    # Only the target changed: the unowned pod beside it is untouched.
    assert cluster.raw.sanitize_for_serialization(cluster.core.read_namespaced_pod("redis-0", NS)) == others


def test_real_effects(cluster: Cluster) -> None:
    executor = Executor(cluster.raw)
    executor.execute(request("scale", f"{NS}/deployment/checkout", replicas=3), dry_run=False, now=NOW)
    pods = cluster.core.list_namespaced_pod(NS, label_selector="app=checkout").items
    assert len(pods) == 3
    executor.execute(request("rollback", f"{NS}/deployment/checkout"), dry_run=False, now=NOW)
    deployment = cluster.apps.read_namespaced_deployment("checkout", NS)
    assert deployment.spec.template.spec.containers[0].image == "shop/checkout:v1"
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    executor.execute(request("cordon", "node/node-a"), dry_run=False, now=NOW)
    assert cluster.core.read_node("node-a").spec.unschedulable is True
    facts = executor.facts(request("cordon", "node/node-b").target_ref)
    assert (facts.schedulable_nodes, facts.cordoned_nodes, facts.node_schedulable) == (1, 1, True)


def test_verification_reports_a_post_condition_that_does_not_hold(cluster: Cluster) -> None:
    executor = Executor(cluster.raw)
    action = request("cordon", "node/node-b")
    outcome = executor.execute(action, dry_run=False, now=NOW)
    executor.execute(request("uncordon", "node/node-b"), dry_run=False, now=NOW)  # someone undid it
    verification = executor.verify(action, outcome, within_s=0.2)
    assert not verification.ok
    assert "unschedulable=False" in verification.detail


def test_refusals_are_errors_with_reasons(cluster: Cluster) -> None:
    executor = Executor(cluster.raw)
    with pytest.raises(ActionFailed, match="does not exist"):
        executor.execute(request("scale", f"{NS}/deployment/nope", replicas=1), dry_run=True, now=NOW)
    with pytest.raises(ActionFailed, match="revision 7 not found"):
        executor.execute(
            request("rollback", f"{NS}/deployment/checkout", to_revision=7), dry_run=True, now=NOW
        )


def test_kubectl_equivalents() -> None:
    from tools.action_diff import kubectl_equivalent

    assert kubectl_equivalent(request("rollback", "shop/deployment/checkout", to_revision=4)) == (
        "kubectl -n shop rollout undo deployment/checkout --to-revision=4"
    )
    assert kubectl_equivalent(request("scale", "shop/deployment/checkout", replicas=6)) == (
        "kubectl -n shop scale deployment/checkout --replicas=6"
    )
    assert kubectl_equivalent(request("cordon", "node/node-a")) == "kubectl cordon node-a"


def _with_env(deployment: dict[str, object], env: dict[str, str]) -> dict[str, object]:
    container = {
        "name": "server",
        "image": "shop/checkout:v1",
        "env": [{"name": k, "value": v} for k, v in env.items()],
    }
    return {**deployment, "spec": {"template": {"spec": {"containers": [container]}}}}


def test_the_diff_never_shows_a_secret_env_value() -> None:
    base: dict[str, object] = {"metadata": {"name": "checkout"}}
    before = _with_env(
        base,
        {
            "DB_PASSWORD": "hunter2",
            "DATABASE_URL": "postgres://app:s3cretpw@db/orders",
            "APP_CONFIG": "small",
        },
    )
    after = _with_env(
        base,
        {"DB_PASSWORD": "hunter3", "DATABASE_URL": "postgres://app:n3wpass@db/orders", "APP_CONFIG": "large"},
    )
    changes = diff_objects("rollback", before, after)
    text = "\n".join(changes)
    assert not [s for s in ("hunter2", "hunter3", "s3cretpw", "n3wpass") if s in text], text
    assert "container server env APP_CONFIG: small → large" in changes
    assert "container server env DB_PASSWORD: [REDACTED] → [REDACTED]" in changes
    assert "container server env DATABASE_URL: postgres://app:[REDACTED]@db/orders → " in text


def test_an_unreachable_api_server_is_an_action_failure_not_a_transport_error() -> None:
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    config.retries = 0
    executor = Executor(client.ApiClient(config), timeout_s=2)
    action = request("scale", f"{NS}/deployment/checkout", replicas=4)
    started = time.monotonic()
    with pytest.raises(ActionFailed, match="unreachable"):
        executor.execute(action, dry_run=True, now=NOW)
    with pytest.raises(ActionFailed, match="unreachable"):
        executor.facts(request("cordon", "node/node-a").target_ref)
    outcome = Outcome(dry_run=False, before={}, after=None, changes=[], kubectl="")
    verification = executor.verify(action, outcome, within_s=0.3)
    assert not verification.ok and "unreachable" in verification.detail
    assert time.monotonic() - started < 5
