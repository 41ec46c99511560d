"""What the ReplicaSet controller and the scheduler would do, synchronously: make a ReplicaSet's pods
match its replica count, place new pods on schedulable nodes, and record the Events they would.
"""

from __future__ import annotations

import copy
import hashlib

from evals.sandbox.kube.rollout import owned_by, owner_reference
from evals.sandbox.kube.store import Obj, Store


def is_pod_ready(pod: Obj) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all(s.get("ready") for s in statuses)


def _schedulable_node(store: Store) -> str | None:
    """The schedulable, Ready node with the fewest pods (ties by name), like a spreading scheduler."""
    load: dict[str, int] = {}
    for node in store.list("Node"):
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        conditions = (node.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") != "True" for c in conditions):
            continue
        load[node["metadata"]["name"]] = 0
    for pod in store.list("Pod"):
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name in load:
            load[node_name] += 1
    return min(load, key=lambda n: (load[n], n)) if load else None


def _pod_ip(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return f"10.244.{digest[0] % 250 + 1}.{digest[1] % 250 + 2}"


def _container_statuses(store: Store, containers: list[Obj], source: Obj | None, now: str) -> list[Obj]:
    copied = {s.get("name"): s for s in ((source or {}).get("status") or {}).get("containerStatuses") or []}
    statuses = []
    for container in containers:
        name = container.get("name")
        status: Obj = {
            "name": name,
            "image": container.get("image", ""),
            "imageID": "",
            "containerID": f"containerd://{store.fresh_token(str(name))}{store.fresh_token('cid')}",
            "ready": True,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": now}},
            "lastState": {},
        }
        if name in copied:  # a broken revision stays broken: take the state its running pods show
            status["state"] = copy.deepcopy(copied[name].get("state") or status["state"])
            status["ready"] = bool(copied[name].get("ready"))
            status["started"] = bool(copied[name].get("started", status["ready"]))
        statuses.append(status)
    return statuses


def new_pod(store: Store, rs: Obj, source: Obj | None) -> Obj:
    """A pod of `rs`, with its status copied from `source` (a sibling pod) when there is one."""
    meta = rs["metadata"]
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    now = store.clock()
    name = f"{meta['name']}-{store.fresh_token(meta['name'])}"
    spec = template.get("spec") or {}
    node = spec.get("nodeName") or _schedulable_node(store)
    if node:
        spec["nodeName"] = node
    statuses = _container_statuses(store, spec.get("containers") or [], source, now)
    ready = node is not None and all(s["ready"] for s in statuses)
    phase = ((source or {}).get("status") or {}).get("phase", "Running") if node else "Pending"

    def condition(kind: str, ok: bool) -> Obj:
        return {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": now}

    status: Obj = {"phase": phase, "qosClass": "Burstable"}
    if node:
        status.update(
            hostIP=_pod_ip(node),
            podIP=_pod_ip(name),
            startTime=now,
            containerStatuses=statuses,
            conditions=[
                condition("Initialized", True),
                condition("Ready", ready),
                condition("ContainersReady", ready),
                condition("PodScheduled", True),
            ],
        )
    else:
        status["conditions"] = [
            {
                **condition("PodScheduled", False),
                "reason": "Unschedulable",
                "message": "0/0 nodes are available",
            }
        ]
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": meta.get("namespace", ""),
            "labels": dict((template.get("metadata") or {}).get("labels") or {}),
            "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
            "ownerReferences": [owner_reference(rs)],
        },
        "spec": spec,
        "status": status,
    }
    store.stamp_new(pod)
    return store.put(pod)


def record_event(
    store: Store, involved: Obj, reason: str, message: str, component: str, kind: str = "Normal"
) -> None:
    """An Event like the controllers write, so `kubectl describe` shows what the emulator did. A repeat
    of an event (same object, reason, message and source) bumps its count and lastTimestamp, as the
    client-go event recorder does, rather than adding a second one."""
    meta = involved["metadata"]
    now = store.clock()
    for seen in store.list("Event", meta.get("namespace") or "default"):
        if (
            (seen.get("involvedObject") or {}).get("uid") == meta["uid"]
            and (seen.get("reason"), seen.get("message"), seen.get("type")) == (reason, message, kind)
            and (seen.get("source") or {}).get("component") == component
        ):
            seen.update(count=int(seen.get("count") or 1) + 1, lastTimestamp=now)
            store.put(seen)
            return
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{store.fresh_token(reason)}",
            "namespace": meta.get("namespace") or "default",
        },
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta["uid"],
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {"component": component},
        "reportingComponent": component,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
    }
    store.stamp_new(event)
    store.put(event)


def sync_replica_set(store: Store, rs: Obj) -> Obj:
    """Create or delete pods until the ReplicaSet has spec.replicas of them; update its status."""
    desired = int((rs.get("spec") or {}).get("replicas", 1))
    pods = owned_by(store, "Pod", rs)
    while len(pods) < desired:
        source = next((p for p in pods if p.get("status")), None)
        pod = new_pod(store, rs, source)
        record_event(
            store, rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", "replicaset-controller"
        )
        pods.append(pod)
    if len(pods) > desired:
        # Like the real controller: unready pods go first, then the newest.
        doomed = sorted(pods, key=lambda p: (is_pod_ready(p), p["metadata"].get("creationTimestamp", "")))
        doomed = sorted(doomed[: len(pods) - desired], key=lambda p: p["metadata"]["name"])
        for pod in doomed:
            store.remove("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
            record_event(
                store,
                rs,
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                "replicaset-controller",
            )
        pods = owned_by(store, "Pod", rs)
    ready = sum(1 for p in pods if is_pod_ready(p))
    current = store.get("ReplicaSet", rs["metadata"].get("namespace", ""), rs["metadata"]["name"]) or rs
    current["status"] = {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": current["metadata"].get("generation", 1),
    }
    return store.put(current)
