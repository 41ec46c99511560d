"""A small hand-written cluster for the emulator tests: namespace `shop`, two nodes, Deployment
`checkout` with two ReplicaSet revisions (v1 scaled to 0, v2 running two pods), an unowned `redis`
pod, a Service, Events and pod logs (one pod with a previous, OOM-killed instance)."""

from __future__ import annotations

from typing import Any

from evals.sandbox.kube import KubeState

NS = "shop"
T0 = "2026-03-02T12:00:00Z"
Obj = dict[str, Any]


def _template(image: str, pod_hash: str | None = None) -> Obj:
    labels = {"app": "checkout", "tier": "backend"}
    if pod_hash:
        labels["pod-template-hash"] = pod_hash
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "server", "image": image, "ports": [{"containerPort": 8080}]}]},
    }


def _node(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}, "creationTimestamp": T0},
        "spec": {},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.30.2"},
        },
    }


def _replica_set(pod_hash: str, image: str, revision: int, replicas: int) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"checkout-{pod_hash}",
            "namespace": NS,
            "labels": {"app": "checkout", "tier": "backend", "pod-template-hash": pod_hash},
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout", "controller": True}
            ],
            "creationTimestamp": T0,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "checkout", "pod-template-hash": pod_hash}},
            "template": _template(image, pod_hash),
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def _pod(name: str, node: str, restarts: int, owner: str | None, labels: Obj) -> Obj:
    status: Obj = {
        "name": "server",
        "image": "shop/checkout:v2",
        "ready": True,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": T0}},
        "lastState": {},
    }
    if restarts:
        status["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": T0}}
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels, "creationTimestamp": T0},
        "spec": {"nodeName": node, "containers": [{"name": "server", "image": "shop/checkout:v2"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [status],
        },
    }
    if owner:
        pod["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "controller": True}
        ]
    return pod


def _event(name: str, kind: str, target: str, reason: str, message: str, kind_type: str = "Normal") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": kind, "name": target, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": kind_type,
        "count": 1,
        "source": {"component": "kubelet"},
        "firstTimestamp": T0,
        "lastTimestamp": T0,
    }


def small_world() -> KubeState:
    v2_labels = {"app": "checkout", "tier": "backend", "pod-template-hash": "bbb222"}
    objects: list[Obj] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        _node("node-a"),
        _node("node-b"),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "checkout",
                "namespace": NS,
                "labels": {"app": "checkout"},
                "annotations": {"deployment.kubernetes.io/revision": "2"},
                "creationTimestamp": T0,
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": _template("shop/checkout:v2"),
            },
            "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2},
        },
        _replica_set("aaa111", "shop/checkout:v1", 1, 0),
        _replica_set("bbb222", "shop/checkout:v2", 2, 2),
        _pod("checkout-bbb222-x1aaa", "node-a", 3, "checkout-bbb222", v2_labels),
        _pod("checkout-bbb222-x2bbb", "node-b", 0, "checkout-bbb222", v2_labels),
        _pod("redis-0", "node-a", 0, None, {"app": "redis", "tier": "cache"}),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "checkout", "namespace": NS},
            "spec": {"selector": {"app": "checkout"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        _event(
            "checkout-bbb222-x1aaa.1",
            "Pod",
            "checkout-bbb222-x1aaa",
            "BackOff",
            "Back-off restarting",
            "Warning",
        ),
        _event("checkout.1", "Deployment", "checkout", "ScalingReplicaSet", "Scaled up checkout-bbb222 to 2"),
    ]
    logs = [
        {
            "namespace": NS,
            "pod": "checkout-bbb222-x1aaa",
            "container": "server",
            "lines": [f"2026-03-02T11:5{i}:00Z request {i} ok" for i in range(10)],
        },
        {
            "namespace": NS,
            "pod": "checkout-bbb222-x1aaa",
            "container": "server",
            "previous": True,
            "lines": ["2026-03-02T11:40:00Z starting", "2026-03-02T11:49:59Z fatal: out of memory"],
        },
        {
            "namespace": NS,
            "pod": "checkout-bbb222-x2bbb",
            "container": "server",
            "lines": ["2026-03-02T11:59:00Z up"],
        },
    ]
    return KubeState.model_validate({"objects": objects, "logs": logs})
