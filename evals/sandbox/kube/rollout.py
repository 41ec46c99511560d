"""ReplicaSet revision history of a Deployment: what `kubectl rollout undo` reads and what the
Deployment controller uses to decide between a new ReplicaSet and reusing an old one.
"""

from __future__ import annotations

import copy
from typing import Any

from evals.sandbox.kube.store import Obj, Store

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"


def _prune(value: Any) -> Any:
    """Drop nulls and empty containers, so a template round-tripped through a Go client (which
    writes `creationTimestamp: null`, `resources: {}`) compares equal to the original."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def normalized_template(template: Obj | None) -> Obj:
    """A pod template without the fields that do not make it a different revision."""
    result = copy.deepcopy(template or {})
    meta = result.get("metadata") or {}
    meta.pop("creationTimestamp", None)
    (meta.get("labels") or {}).pop(HASH_LABEL, None)
    pruned: Obj = _prune(result)
    return pruned


def same_template(a: Obj | None, b: Obj | None) -> bool:
    return normalized_template(a) == normalized_template(b)


def revision_of(obj: Obj) -> int:
    try:
        return int((obj.get("metadata", {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def controller_uid(obj: Obj) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def owned_by(store: Store, kind: str, owner: Obj) -> list[Obj]:
    """Objects of `kind` in the owner's namespace whose controller reference names the owner."""
    meta = owner["metadata"]
    return [o for o in store.list(kind, meta.get("namespace", "")) if controller_uid(o) == meta["uid"]]


def replica_sets_by_revision(store: Store, deployment: Obj) -> list[Obj]:
    """The Deployment's ReplicaSets, oldest revision first."""
    return sorted(owned_by(store, "ReplicaSet", deployment), key=revision_of)


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def set_annotation(obj: Obj, key: str, value: str) -> None:
    meta = obj.setdefault("metadata", {})
    annotations = meta.get("annotations") or {}
    annotations[key] = value
    meta["annotations"] = annotations


def promote_revision(rs: Obj, new_revision: int) -> None:
    """Give a reused ReplicaSet the next revision, remembering its old one, as the controller does."""
    old = revision_of(rs)
    annotations = rs["metadata"].get("annotations") or {}
    history = [h for h in (annotations.get(REVISION_HISTORY) or "").split(",") if h]
    if old and str(old) not in history:
        history.append(str(old))
    if history:
        set_annotation(rs, REVISION_HISTORY, ",".join(history))
    set_annotation(rs, REVISION, str(new_revision))
