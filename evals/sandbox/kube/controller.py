"""The Deployment controller and the garbage collector, run synchronously after each write.

A template change rolls out a ReplicaSet with the next revision (or reuses the old ReplicaSet whose
template matches, which is how `kubectl rollout undo` works), scales the others to zero and replaces
the pods; a replica change scales the current ReplicaSet. Deleting an owner deletes what it owns.
"""

from __future__ import annotations

import copy

from evals.sandbox.kube.pods import is_pod_ready, record_event, sync_replica_set
from evals.sandbox.kube.rollout import (
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    REVISION,
    controller_uid,
    normalized_template,
    owner_reference,
    promote_revision,
    replica_sets_by_revision,
    revision_of,
    same_template,
    set_annotation,
)
from evals.sandbox.kube.store import Obj, Store, template_hash


def _create_replica_set(store: Store, deployment: Obj, revision: int) -> Obj:
    meta = deployment["metadata"]
    spec = deployment.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    pod_hash = template_hash(normalized_template(template))
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    rs: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{pod_hash}",
            "namespace": meta.get("namespace", ""),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {REVISION: str(revision)},
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
        "status": {"replicas": 0},
    }
    store.stamp_new(rs)
    return store.put(rs)


def reconcile_deployment(store: Store, deployment: Obj, template_changed: bool) -> Obj:
    """Roll out or scale `deployment` (already stored) and return it with a fresh status."""
    meta = deployment["metadata"]
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    history = replica_sets_by_revision(store, deployment)
    latest = max((revision_of(rs) for rs in history), default=0)
    current = next(
        (rs for rs in history if same_template(rs["spec"].get("template"), spec.get("template"))), None
    )
    if current is None and not template_changed and history:
        current = history[-1]  # a scale of a deployment whose template was never rolled out here
    if current is None:
        current = _create_replica_set(store, deployment, latest + 1)
    elif revision_of(current) != latest:
        promote_revision(current, latest + 1)
    for rs in replica_sets_by_revision(store, deployment):
        is_current = rs["metadata"]["uid"] == current["metadata"]["uid"]
        if is_current:
            rs["metadata"]["annotations"] = current["metadata"].get("annotations") or {}
            set_annotation(rs, DESIRED_REPLICAS, str(replicas))
            set_annotation(rs, MAX_REPLICAS, str(replicas + 1))
        want = replicas if is_current else 0
        had = int(rs["spec"].get("replicas", 0))
        if had != want or is_current:
            rs["spec"]["replicas"] = want
            rs = store.put(rs)
        if had != want:
            verb = "up" if want > had else "down"
            record_event(
                store,
                deployment,
                "ScalingReplicaSet",
                f"Scaled {verb} replica set {rs['metadata']['name']} to {want} from {had}",
                "deployment-controller",
            )
        sync_replica_set(store, rs)
    fresh = store.get("Deployment", meta.get("namespace", ""), meta["name"]) or deployment
    set_annotation(
        fresh,
        REVISION,
        str(
            revision_of(
                store.get("ReplicaSet", meta.get("namespace", ""), current["metadata"]["name"]) or current
            )
        ),
    )
    fresh["status"] = deployment_status(store, fresh, current)
    return store.put(fresh)


def deployment_status(store: Store, deployment: Obj, current: Obj) -> Obj:
    current_uid = current["metadata"]["uid"]
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    all_pods = [
        pod
        for rs in replica_sets_by_revision(store, deployment)
        for pod in store.list("Pod", deployment["metadata"].get("namespace", ""))
        if controller_uid(pod) == rs["metadata"]["uid"]
    ]
    updated = [p for p in all_pods if controller_uid(p) == current_uid]
    ready = sum(1 for p in all_pods if is_pod_ready(p))
    available = ready >= replicas
    complete = available and len(updated) == replicas == len(all_pods)
    name = current["metadata"]["name"]
    had = {c.get("type"): c for c in (deployment.get("status") or {}).get("conditions") or []}
    now = store.clock()
    return {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": len(all_pods),
        "updatedReplicas": len(updated),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(replicas - ready, 0),
        "conditions": [
            set_condition(
                had.get("Available"),
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                },
                now,
            ),
            set_condition(
                had.get("Progressing"),
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{name}" has successfully progressed.'
                    if complete
                    else f'ReplicaSet "{name}" is progressing.',
                },
                now,
            ),
        ],
    }


def set_condition(old: Obj | None, new: Obj, now: str) -> Obj:
    """A condition as the controller keeps it: unchanged while status, reason and message stay the
    same; lastUpdateTime moves on any change (a rollout to another ReplicaSet names it in the message),
    lastTransitionTime only when the status flips. So the Progressing condition dates the last rollout.
    """
    if old is not None and all(old.get(k) == new[k] for k in ("status", "reason", "message")):
        return old
    since = now
    if old is not None and old.get("status") == new["status"] and old.get("lastTransitionTime"):
        since = old["lastTransitionTime"]
    return {**new, "lastUpdateTime": now, "lastTransitionTime": since}


def refresh_owner_chain(store: Store, obj: Obj) -> None:
    """After a pod or ReplicaSet changed, re-sync the ReplicaSet and the Deployment above it."""
    namespace = obj["metadata"].get("namespace", "")
    owner_uid = controller_uid(obj)
    if obj["kind"] == "Pod":
        rs = next((r for r in store.list("ReplicaSet", namespace) if r["metadata"]["uid"] == owner_uid), None)
        if rs is None:
            return
        obj = sync_replica_set(store, rs)
        owner_uid = controller_uid(obj)
    if obj["kind"] == "ReplicaSet":
        deployment = next(
            (d for d in store.list("Deployment", namespace) if d["metadata"]["uid"] == owner_uid), None
        )
        if deployment is not None:
            reconcile_deployment(store, deployment, template_changed=False)


def after_write(store: Store, old: Obj | None, new: Obj) -> Obj:
    """Run the controllers a real cluster would run in reaction to `new` being stored."""
    if new["kind"] == "Deployment":
        old_spec, new_spec = (old or {}).get("spec") or {}, new.get("spec") or {}
        template_changed = old is None or not same_template(
            old_spec.get("template"), new_spec.get("template")
        )
        rolls_out = template_changed and not new_spec.get("paused")  # a paused deployment only scales
        if rolls_out or old_spec.get("replicas") != new_spec.get("replicas"):
            return reconcile_deployment(store, new, rolls_out)
    elif new["kind"] == "ReplicaSet" and (old or {}).get("spec", {}).get("replicas") != new["spec"].get(
        "replicas"
    ):
        refresh_owner_chain(store, sync_replica_set(store, new))
        return store.get("ReplicaSet", new["metadata"].get("namespace", ""), new["metadata"]["name"]) or new
    return new


def collect_garbage(store: Store, owner_uid: str) -> None:
    """Delete, recursively, everything whose controller reference names `owner_uid`."""
    for key, obj in list(store.objects.items()):
        refs = obj.get("metadata", {}).get("ownerReferences") or []
        if key in store.objects and any(r.get("uid") == owner_uid for r in refs):
            store.remove(*key)
            collect_garbage(store, obj["metadata"]["uid"])
