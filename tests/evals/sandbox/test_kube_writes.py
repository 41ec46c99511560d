"""Writes through the official client: dryRun=All changes nothing, PUT honours resourceVersion, and
the Deployment controller scales, rolls out and rolls back the way medic's actions rely on."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from kubernetes.client import ApiException

from tests.evals.sandbox.kube_fixtures import Cluster, cluster_fixture  # noqa: F401 (the fixture)
from tests.evals.sandbox.kube_world import NS

_COLLECTIONS = [
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/api/v1/pods",
    "/api/v1/events",
    "/api/v1/services",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
]


def dump(cluster: Cluster) -> dict[str, Any]:
    """Everything the API shows, with the list resourceVersions (the global write counter)."""
    return {path: httpx.get(cluster.url + path).json() for path in _COLLECTIONS}


def revisions(cluster: Cluster) -> dict[str, tuple[str, int]]:
    return {
        rs.metadata.name: (rs.metadata.annotations["deployment.kubernetes.io/revision"], rs.spec.replicas)
        for rs in cluster.apps.list_namespaced_replica_set(NS).items
    }


def pods_of(cluster: Cluster, selector: str = "app=checkout") -> list[Any]:
    return cluster.core.list_namespaced_pod(NS, label_selector=selector).items


def test_dry_run_all_changes_nothing(cluster: Cluster) -> None:
    core, apps = cluster.core, cluster.apps
    before = dump(cluster)
    restart = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}
    }
    patched = apps.patch_namespaced_deployment("checkout", NS, restart, dry_run="All")
    assert patched.spec.template.metadata.annotations == {"kubectl.kubernetes.io/restartedAt": "t"}
    scaled = apps.patch_namespaced_deployment_scale("checkout", NS, {"spec": {"replicas": 4}}, dry_run="All")
    assert scaled.spec.replicas == 4
    apps.replace_namespaced_deployment_scale(
        "checkout", NS, {"metadata": {"name": "checkout"}, "spec": {"replicas": 0}}, dry_run="All"
    )
    deleted = core.delete_namespaced_pod("checkout-bbb222-x1aaa", NS, dry_run="All")
    assert deleted.metadata.name == "checkout-bbb222-x1aaa"
    core.patch_node("node-a", {"spec": {"unschedulable": True}}, dry_run="All")
    apps.delete_namespaced_deployment("checkout", NS, dry_run="All")
    core.create_namespaced_pod(
        NS,
        {"metadata": {"name": "extra"}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        dry_run="All",
    )
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "checkout-bbb222-x2bbb"}}
    eviction["deleteOptions"] = {"dryRun": ["All"]}
    core.create_namespaced_pod_eviction("checkout-bbb222-x2bbb", NS, eviction)
    assert dump(cluster) == before


def test_invalid_dry_run_value_is_refused(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.apps.patch_namespaced_deployment("checkout", NS, {"spec": {"replicas": 3}}, dry_run="Maybe")
    assert err.value.status == 400


def test_scale_changes_pod_count_and_status(cluster: Cluster) -> None:
    apps = cluster.apps
    apps.patch_namespaced_deployment_scale("checkout", NS, {"spec": {"replicas": 4}})
    assert len(pods_of(cluster)) == 4
    assert {p.metadata.owner_references[0].name for p in pods_of(cluster)} == {"checkout-bbb222"}
    restarted_copy = [p for p in pods_of(cluster) if p.metadata.name.startswith("checkout-bbb222-")]
    assert len(restarted_copy) == 4
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert (deployment.status.replicas, deployment.status.ready_replicas, deployment.spec.replicas) == (
        4,
        4,
        4,
    )
    assert apps.read_namespaced_deployment_scale("checkout", NS).status.replicas == 4
    apps.patch_namespaced_deployment("checkout", NS, {"spec": {"replicas": 1}})
    assert len(pods_of(cluster)) == 1
    assert revisions(cluster) == {"checkout-aaa111": ("1", 0), "checkout-bbb222": ("2", 1)}


def test_rollout_restart_creates_next_revision_and_replaces_pods(cluster: Cluster) -> None:
    apps = cluster.apps
    old_pods = {p.metadata.name for p in pods_of(cluster)}
    generation = apps.read_namespaced_deployment("checkout", NS).metadata.generation
    restart = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}
    }
    apps.patch_namespaced_deployment("checkout", NS, restart)
    history = revisions(cluster)
    new_rs = [name for name, (rev, _) in history.items() if rev == "3"]
    assert len(new_rs) == 1 and history[new_rs[0]] == ("3", 2)
    assert history["checkout-aaa111"][1] == history["checkout-bbb222"][1] == 0
    pods = pods_of(cluster)
    assert len(pods) == 2 and not old_pods & {p.metadata.name for p in pods}
    assert {p.metadata.owner_references[0].name for p in pods} == set(new_rs)
    deployment = apps.read_namespaced_deployment("checkout", NS)
    assert deployment.metadata.generation == generation + 1
    assert deployment.status.observed_generation == generation + 1
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert deployment.status.updated_replicas == 2
    conditions = {c.type: c.status for c in deployment.status.conditions}
    assert conditions == {"Available": "True", "Progressing": "True"}


def test_rollback_restores_old_template_and_reuses_its_replica_set(cluster: Cluster) -> None:
    apps = cluster.apps
    old = apps.read_namespaced_replica_set("checkout-aaa111", NS)
    template = cluster.raw.sanitize_for_serialization(old.spec.template)
    del template["metadata"]["labels"]["pod-template-hash"]
    # What `kubectl rollout undo` sends: a JSON patch replacing the template.
    apps.patch_namespaced_deployment(
        "checkout", NS, [{"op": "replace", "path": "/spec/template", "value": template}]
    )
    assert (
        apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image
        == "shop/checkout:v1"
    )
    assert revisions(cluster) == {"checkout-aaa111": ("3", 2), "checkout-bbb222": ("2", 0)}
    reused = apps.read_namespaced_replica_set("checkout-aaa111", NS)
    assert reused.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert {p.spec.containers[0].image for p in pods_of(cluster)} == {"shop/checkout:v1"}


def _undo_to(cluster: Cluster, replica_set: str) -> None:
    template = cluster.raw.sanitize_for_serialization(
        cluster.apps.read_namespaced_replica_set(replica_set, NS).spec.template
    )
    del template["metadata"]["labels"]["pod-template-hash"]
    patch = [{"op": "replace", "path": "/spec/template", "value": template}]
    cluster.apps.patch_namespaced_deployment("checkout", NS, patch)


def test_a_rollback_is_dated_where_kubectl_describe_shows_it(cluster: Cluster) -> None:
    """The reused ReplicaSet keeps its old creationTimestamp; the Deployment's Progressing condition
    (naming it, with a fresh lastUpdateTime) and its ScalingReplicaSet events say when it came back."""
    created = cluster.apps.read_namespaced_replica_set("checkout-aaa111", NS).metadata.creation_timestamp
    _undo_to(cluster, "checkout-aaa111")
    deployment = cluster.apps.read_namespaced_deployment("checkout", NS)
    progressing = next(c for c in deployment.status.conditions if c.type == "Progressing")
    assert progressing.message == 'ReplicaSet "checkout-aaa111" has successfully progressed.'
    assert progressing.last_update_time > created
    stamped = progressing.last_update_time
    time.sleep(1.1)  # the emulator's clock has whole seconds: a re-stamped condition would show
    cluster.core.delete_namespaced_pod(pods_of(cluster)[0].metadata.name, NS)  # replaced: no rollout
    again = cluster.apps.read_namespaced_deployment("checkout", NS).status.conditions
    assert next(c for c in again if c.type == "Progressing").last_update_time == stamped
    _undo_to(cluster, "checkout-bbb222")
    _undo_to(cluster, "checkout-aaa111")  # the same scale-up again: one event, counted twice
    events = cluster.core.list_namespaced_event(NS, field_selector="involvedObject.name=checkout").items
    ups = [e for e in events if e.message.startswith("Scaled up replica set checkout-aaa111 to ")]
    assert [(e.reason, e.message, e.count) for e in ups] == [
        ("ScalingReplicaSet", "Scaled up replica set checkout-aaa111 to 2 from 0", 2)
    ]
    assert ups[0].last_timestamp >= ups[0].first_timestamp >= stamped


def test_stale_resource_version_conflicts(cluster: Cluster) -> None:
    apps = cluster.apps
    stale = apps.read_namespaced_deployment("checkout", NS)
    apps.patch_namespaced_deployment("checkout", NS, {"metadata": {"labels": {"team": "pay"}}})
    stale.spec.replicas = 3
    with pytest.raises(ApiException) as err:
        apps.replace_namespaced_deployment("checkout", NS, stale)
    assert err.value.status == 409 and json.loads(err.value.body or "{}")["reason"] == "Conflict"
    fresh = apps.read_namespaced_deployment("checkout", NS)
    fresh.spec.replicas = 3
    replaced = apps.replace_namespaced_deployment("checkout", NS, fresh)
    assert int(replaced.metadata.resource_version) > int(fresh.metadata.resource_version)
    assert len(pods_of(cluster)) == 3


def test_metadata_patch_bumps_version_not_generation_and_noop_keeps_version(cluster: Cluster) -> None:
    apps = cluster.apps
    before = apps.read_namespaced_deployment("checkout", NS)
    after = apps.patch_namespaced_deployment("checkout", NS, {"metadata": {"annotations": {"owner": "pay"}}})
    assert after.metadata.generation == before.metadata.generation
    assert int(after.metadata.resource_version) > int(before.metadata.resource_version)
    again = apps.patch_namespaced_deployment("checkout", NS, {"metadata": {"annotations": {"owner": "pay"}}})
    assert again.metadata.resource_version == after.metadata.resource_version


def test_strategic_merge_keeps_other_containers_fields(cluster: Cluster) -> None:
    image = {
        "spec": {"template": {"spec": {"containers": [{"name": "server", "image": "shop/checkout:v3"}]}}}
    }
    result = cluster.apps.patch_namespaced_deployment("checkout", NS, image)
    container = result.spec.template.spec.containers[0]
    assert (container.image, container.ports[0].container_port) == ("shop/checkout:v3", 8080)


def test_deleting_an_owned_pod_replaces_it(cluster: Cluster) -> None:
    core = cluster.core
    gone = core.delete_namespaced_pod("checkout-bbb222-x1aaa", NS)
    assert gone.metadata.deletion_timestamp is not None
    names = {p.metadata.name for p in pods_of(cluster)}
    assert len(names) == 2 and "checkout-bbb222-x1aaa" not in names and "checkout-bbb222-x2bbb" in names
    assert all(n.startswith("checkout-bbb222-") for n in names)
    core.delete_namespaced_pod("redis-0", NS)
    assert pods_of(cluster, "app=redis") == []
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_pod("redis-0", NS)
    assert err.value.status == 404


def test_cordon_and_scheduling(cluster: Cluster) -> None:
    node = cluster.core.patch_node("node-b", {"spec": {"unschedulable": True}})
    assert node.spec.unschedulable is True
    cluster.apps.patch_namespaced_deployment_scale("checkout", NS, {"spec": {"replicas": 4}})
    new = [
        p
        for p in pods_of(cluster)
        if p.metadata.name not in ("checkout-bbb222-x1aaa", "checkout-bbb222-x2bbb")
    ]
    assert {p.spec.node_name for p in new} == {"node-a"}
    cordoned = cluster.core.list_node(field_selector="spec.unschedulable=true")
    assert [n.metadata.name for n in cordoned.items] == ["node-b"]


def test_create_conflict_and_namespace_checks(cluster: Cluster) -> None:
    body = {"metadata": {"name": "job"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    created = cluster.core.create_namespaced_pod(NS, body)
    assert created.metadata.uid and created.metadata.creation_timestamp
    with pytest.raises(ApiException) as err:
        cluster.core.create_namespaced_pod(NS, body)
    assert err.value.status == 409 and json.loads(err.value.body or "{}")["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as err:
        cluster.core.create_namespaced_pod("nowhere", body)
    assert err.value.status == 404
