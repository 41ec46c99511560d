"""A cluster one bad deploy into an incident, dated from the wall clock (the emulator stamps its own
writes with it): Deployment `checkout` in `shop` ran v1 for days, v2 went out 20 minutes ago and
serves errors (Kubernetes sees healthy pods). Its ReplicaSets, pods, events and conditions are what a
real cluster shows, down to the Progressing condition naming the new ReplicaSet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from evals.sandbox.kube import KubeState

NS = "shop"
GOOD, BAD = "checkout-good", "checkout-bad"
Obj = dict[str, Any]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _template(image: str, pod_hash: str | None = None) -> Obj:
    labels = {"app": "checkout"} | ({"pod-template-hash": pod_hash} if pod_hash else {})
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "server", "image": image}]}}


def _replica_set(name: str, image: str, revision: int, replicas: int, created: datetime) -> Obj:
    pod_hash = name.removeprefix("checkout-")
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"app": "checkout", "pod-template-hash": pod_hash},
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout", "controller": True}
            ],
            "creationTimestamp": stamp(created),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "checkout", "pod-template-hash": pod_hash}},
            "template": _template(image, pod_hash),
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def _pod(name: str, started: datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"app": "checkout", "pod-template-hash": "bad"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": BAD, "controller": True}
            ],
            "creationTimestamp": stamp(started),
        },
        "spec": {"nodeName": "node-a", "containers": [{"name": "server", "image": "shop/checkout:v2"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "server",
                    "image": "shop/checkout:v2",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": stamp(started)}},
                }
            ],
        },
    }


def _scaling(name: str, message: str, at: datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "checkout",
            "namespace": NS,
        },
        "reason": "ScalingReplicaSet",
        "message": message,
        "type": "Normal",
        "count": 1,
        "source": {"component": "deployment-controller"},
        "firstTimestamp": stamp(at),
        "lastTimestamp": stamp(at),
    }


def bad_deploy_world(deployed: datetime) -> KubeState:
    """v1 since three days before `deployed`, v2 since `deployed`."""
    progressing = {
        "type": "Progressing",
        "status": "True",
        "reason": "NewReplicaSetAvailable",
        "message": f'ReplicaSet "{BAD}" has successfully progressed.',
        "lastUpdateTime": stamp(deployed + timedelta(seconds=30)),
        "lastTransitionTime": stamp(deployed - timedelta(days=3)),
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-a"},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "checkout",
            "namespace": NS,
            "labels": {"app": "checkout"},
            "annotations": {"deployment.kubernetes.io/revision": "2"},
            "creationTimestamp": stamp(deployed - timedelta(days=3)),
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "checkout"}},
            "template": _template("shop/checkout:v2"),
        },
        "status": {
            "replicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "updatedReplicas": 2,
            "conditions": [progressing],
        },
    }
    return KubeState(
        objects=[
            node,
            deployment,
            _replica_set(GOOD, "shop/checkout:v1", 1, 0, deployed - timedelta(days=3)),
            _replica_set(BAD, "shop/checkout:v2", 2, 2, deployed),
            _pod(f"{BAD}-x1aaa", deployed),
            _pod(f"{BAD}-x2bbb", deployed),
            _scaling("checkout.1", f"Scaled up replica set {BAD} to 2 from 0", deployed),
            _scaling("checkout.2", f"Scaled down replica set {GOOD} to 0 from 2", deployed),
        ]
    )
