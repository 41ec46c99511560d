"""Reads through the official client: every kind lists and gets, selectors filter like a real server,
pods/log honours its parameters, and errors are Kubernetes Status objects."""

from __future__ import annotations

import json

import httpx
import pytest
from kubernetes.client import ApiException

from tests.evals.sandbox.kube_fixtures import Cluster, cluster_fixture  # noqa: F401 (the fixture)
from tests.evals.sandbox.kube_world import NS


def test_each_kind_lists_and_gets_with_owner_chain(cluster: Cluster) -> None:
    core, apps = cluster.core, cluster.apps
    assert [n.metadata.name for n in core.list_namespace().items] == ["default", NS]
    nodes = core.list_node()
    assert [n.metadata.name for n in nodes.items] == ["node-a", "node-b"]
    assert nodes.metadata.resource_version
    deployment = apps.read_namespaced_deployment("checkout", NS)
    rs_list = apps.list_namespaced_replica_set(NS)
    revisions = {
        rs.metadata.name: rs.metadata.annotations["deployment.kubernetes.io/revision"] for rs in rs_list.items
    }
    assert revisions == {"checkout-aaa111": "1", "checkout-bbb222": "2"}
    assert all(rs.metadata.owner_references[0].uid == deployment.metadata.uid for rs in rs_list.items)
    pod = core.read_namespaced_pod("checkout-bbb222-x1aaa", NS)
    new_rs = apps.read_namespaced_replica_set("checkout-bbb222", NS)
    assert pod.metadata.owner_references[0].uid == new_rs.metadata.uid
    status = pod.status.container_statuses[0]
    assert (status.restart_count, status.ready, status.last_state.terminated.reason) == (3, True, "OOMKilled")
    assert pod.spec.node_name == "node-a" and pod.status.phase == "Running"
    assert [s.metadata.name for s in core.list_namespaced_service(NS).items] == ["checkout"]
    assert len(core.list_pod_for_all_namespaces().items) == 3
    assert len(apps.list_deployment_for_all_namespaces().items) == 1


def test_lists_have_list_kind_and_resource_version(cluster: Cluster) -> None:
    for path, kind in [
        (f"/api/v1/namespaces/{NS}/pods", "PodList"),
        ("/apis/apps/v1/deployments", "DeploymentList"),
    ]:
        body = httpx.get(cluster.url + path).json()
        assert body["kind"] == kind and body["metadata"]["resourceVersion"].isdigit()


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=checkout", {"checkout-bbb222-x1aaa", "checkout-bbb222-x2bbb"}),
        ("app!=checkout", {"redis-0"}),
        ("tier in (cache,frontend)", {"redis-0"}),
        ("tier notin (cache),app", {"checkout-bbb222-x1aaa", "checkout-bbb222-x2bbb"}),
        ("pod-template-hash", {"checkout-bbb222-x1aaa", "checkout-bbb222-x2bbb"}),
        ("!pod-template-hash", {"redis-0"}),
        ("app==checkout,tier=cache", set()),
    ],
)
def test_label_selector(cluster: Cluster, selector: str, expected: set[str]) -> None:
    pods = cluster.core.list_namespaced_pod(NS, label_selector=selector)
    assert {p.metadata.name for p in pods.items} == expected


def test_field_selectors(cluster: Cluster) -> None:
    core = cluster.core
    on_a = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-a")
    assert {p.metadata.name for p in on_a.items} == {"checkout-bbb222-x1aaa", "redis-0"}
    assert core.list_namespaced_pod(NS, field_selector="status.phase!=Running").items == []
    by_name = core.list_namespaced_pod(NS, field_selector="metadata.name==redis-0,metadata.namespace=shop")
    assert [p.metadata.name for p in by_name.items] == ["redis-0"]
    events = core.list_namespaced_event(
        NS, field_selector="involvedObject.name=checkout-bbb222-x1aaa,involvedObject.kind=Pod"
    )
    assert [e.reason for e in events.items] == ["BackOff"]
    pod_uid = core.read_namespaced_pod("checkout-bbb222-x1aaa", NS).metadata.uid
    assert events.items[0].involved_object.uid == pod_uid  # filled in, as kubectl describe matches by uid
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod(NS, field_selector="spec.image=x")
    assert (
        err.value.status == 400
        and "field label not supported" in json.loads(err.value.body or "{}")["message"]
    )


def test_events_v1_view(cluster: Cluster) -> None:
    body = httpx.get(
        f"{cluster.url}/apis/events.k8s.io/v1/namespaces/{NS}/events",
        params={"fieldSelector": "regarding.kind=Deployment"},
    ).json()
    assert [(e["regarding"]["name"], e["note"]) for e in body["items"]] == [
        ("checkout", "Scaled up checkout-bbb222 to 2")
    ]


def test_pod_logs(cluster: Cluster) -> None:
    core = cluster.core
    pod = "checkout-bbb222-x1aaa"
    assert core.read_namespaced_pod_log(pod, NS, tail_lines=2) == "request 8 ok\nrequest 9 ok\n"
    whole = core.read_namespaced_pod_log(pod, NS)
    longer = len(whole.splitlines()) + 2  # a tail longer than the log is the whole log
    assert core.read_namespaced_pod_log(pod, NS, tail_lines=longer) == whole
    assert core.read_namespaced_pod_log(pod, NS, previous=True).splitlines()[-1] == "fatal: out of memory"
    stamped = core.read_namespaced_pod_log(pod, NS, tail_lines=1, timestamps=True)
    assert stamped == "2026-03-02T11:59:00Z request 9 ok\n"
    assert core.read_namespaced_pod_log(pod, NS, since_seconds=120).splitlines() == [
        "request 7 ok",
        "request 8 ok",
        "request 9 ok",
    ]
    assert core.read_namespaced_pod_log(pod, NS, container="server", tail_lines=0) == ""
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("checkout-bbb222-x2bbb", NS, previous=True)
    assert err.value.status == 400 and "previous terminated container" in str(err.value.body)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log(pod, NS, container="sidecar")
    assert err.value.status == 400


def test_missing_object_is_a_not_found_status(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.apps.read_namespaced_deployment("nope", NS)
    status = json.loads(err.value.body or "{}")
    assert err.value.status == 404
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    assert status["message"] == 'deployments.apps "nope" not found'
    with pytest.raises(ApiException) as err:
        cluster.core.read_namespaced_pod_log("nope", NS)
    assert err.value.status == 404


def test_watch_is_refused_clearly(cluster: Cluster) -> None:
    response = httpx.get(f"{cluster.url}/api/v1/namespaces/{NS}/pods", params={"watch": "true"})
    assert response.status_code == 405 and response.json()["reason"] == "MethodNotAllowed"
