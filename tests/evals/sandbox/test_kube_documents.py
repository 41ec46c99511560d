"""The emulator takes objects as JSON the way the API and kubectl return them, and serves them back to
the official client as a cluster would."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from evals.sandbox.kube import KubeState, run_in_thread
from evals.sandbox.kube.documents import objects_from_document
from evals.sandbox.kube.state import StateError

DEPLOYMENT: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}},
    },
}
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}


def test_a_typed_list_names_the_kind_and_version_its_items_leave_out() -> None:
    [obj] = objects_from_document({"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [DEPLOYMENT]})
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) == ("apps/v1", "Deployment", "web")


def test_lists_arrays_and_single_objects_are_all_accepted() -> None:
    kubectl = {"apiVersion": "v1", "kind": "List", "items": [NODE]}
    assert objects_from_document(kubectl) == objects_from_document([NODE]) == objects_from_document(NODE)
    [defaulted] = objects_from_document([{"kind": "Deployment", **DEPLOYMENT}])
    assert defaulted["apiVersion"] == "apps/v1", "the one version the emulator serves the kind at"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"kind": "List", "items": [{"metadata": {"name": "x"}}]}, "items[0] (x): kind is required"),
        ([{"kind": "Pod", "metadata": {}}], "[0]: metadata.name is required"),
        ([{"kind": "Secret", "metadata": {"name": "s"}}], "[0] (Secret s): kind Secret is not served"),
        ("pods", "expected a List object or a JSON array of objects, got str"),
    ],
)
def test_what_is_wrong_is_named(document: object, problem: str) -> None:
    with pytest.raises(StateError) as raised:
        objects_from_document(document)
    assert str(raised.value).startswith(problem)


def test_the_official_client_reads_back_what_a_deployment_list_held() -> None:
    objects = objects_from_document(
        {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [DEPLOYMENT]}
    )
    with run_in_thread(KubeState(objects=[*objects, NODE])) as running:
        config = client.Configuration()
        config.host = running.url
        with client.ApiClient(config) as api:
            deployment = client.AppsV1Api(api).read_namespaced_deployment("web", "shop")
            nodes = client.CoreV1Api(api).list_node().items
    assert deployment.spec.replicas == 2 and deployment.metadata.uid
    assert [n.metadata.name for n in nodes] == ["node-a"]
