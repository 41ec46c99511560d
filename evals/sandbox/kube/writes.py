"""Create, update and delete against a `Store`, with the API server's admission rules: server-owned
metadata, resourceVersion preconditions, generation bumps on spec changes, status owned by the status
subresource, and the controllers run after the write (never during a dry run).
"""

from __future__ import annotations

import copy

from evals.sandbox.kube import errors
from evals.sandbox.kube.controller import after_write, collect_garbage, refresh_owner_chain
from evals.sandbox.kube.defaults import apply_defaults
from evals.sandbox.kube.resources import STATUS_SUBRESOURCE_KINDS, ResourceType
from evals.sandbox.kube.store import Obj, Store

_SERVER_OWNED = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "selfLink")


def _validate(rt: ResourceType, obj: Obj) -> None:
    name = obj["metadata"].get("name", "")
    spec = obj.get("spec")
    if rt.kind in ("Deployment", "ReplicaSet", "StatefulSet") and isinstance(spec, dict):
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                rt.kind,
                name,
                f"spec.replicas: Invalid value: {replicas!r}: must be greater than or equal to 0",
            )
        if rt.kind == "Deployment" and not (spec.get("template") or {}).get("spec", {}).get("containers"):
            raise errors.invalid(rt.kind, name, "spec.template.spec.containers: Required value")


def create(store: Store, rt: ResourceType, namespace: str | None, body: Obj, dry_run: bool) -> Obj:
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    obj = copy.deepcopy(body)
    obj.setdefault("apiVersion", rt.group_version)
    obj.setdefault("kind", rt.kind)
    if (obj["apiVersion"], obj["kind"]) != (rt.group_version, rt.kind):
        raise errors.bad_request(
            f"the API version in the data ({obj['apiVersion']}) does not match the expected API version ({rt.group_version})"
        )
    meta = obj.setdefault("metadata", {})
    if rt.namespaced:
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
        if store.get("Namespace", "", namespace or "") is None:
            raise errors.not_found("namespaces", namespace or "")
    if meta.get("resourceVersion"):
        raise errors.bad_request("resourceVersion should not be set on objects to be created")
    for field in _SERVER_OWNED:
        meta.pop(field, None)
    if not meta.get("name") and not meta.get("generateName"):
        raise errors.invalid(rt.kind, "", "metadata.name: Required value: name or generateName is required")
    store.stamp_new(apply_defaults(obj))
    if store.get(rt.kind, meta.get("namespace") or "", meta["name"]) is not None:
        raise errors.already_exists(rt.plural, meta["name"], rt.group)
    _validate(rt, obj)
    stored = store.put(obj)
    return stored if dry_run else after_write(store, None, stored)


def update(
    store: Store, rt: ResourceType, old: Obj, new: Obj, dry_run: bool, subresource: str | None = None
) -> Obj:
    """Replace `old` with `new` as PUT (or a PATCH, already applied) would; a no-op keeps the version."""
    if not isinstance(new, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    meta, old_meta = new.setdefault("metadata", {}) or {}, old["metadata"]
    name = old_meta["name"]
    if meta.get("name", name) != name:
        raise errors.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
        )
    if meta.get("namespace", old_meta.get("namespace")) != old_meta.get("namespace"):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta.get("resourceVersion"):
        raise errors.conflict(rt.plural, name, rt.group)
    if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
        raise errors.conflict(rt.plural, name, rt.group)
    result = copy.deepcopy(new)
    result["apiVersion"], result["kind"] = old["apiVersion"], old["kind"]
    for field in (*_SERVER_OWNED, "name", "namespace", "resourceVersion"):
        if field in old_meta:
            result["metadata"][field] = old_meta[field]
        else:
            result["metadata"].pop(field, None)
    if subresource == "status":
        result = {**copy.deepcopy(old), "status": result.get("status")}
        if result["status"] is None:
            result.pop("status")
    elif rt.kind in STATUS_SUBRESOURCE_KINDS:
        if "status" in old:
            result["status"] = copy.deepcopy(old["status"])
        else:
            result.pop("status", None)
    apply_defaults(result)
    if result == old:
        return copy.deepcopy(old)
    if result.get("spec") != old.get("spec") and "generation" in old_meta:
        result["metadata"]["generation"] = int(old_meta["generation"]) + 1
    _validate(rt, result)
    stored = store.put(result)
    if dry_run:
        stored["metadata"]["resourceVersion"] = old_meta.get("resourceVersion")
        return stored
    return after_write(store, old, stored)


def check_preconditions(rt: ResourceType, obj: Obj, options: Obj | None) -> None:
    pre = (options or {}).get("preconditions") or {}
    meta = obj["metadata"]
    if (pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion")) or (
        pre.get("uid") and pre["uid"] != meta.get("uid")
    ):
        raise errors.conflict(rt.plural, meta["name"], rt.group)


def delete(store: Store, rt: ResourceType, obj: Obj, options: Obj | None, dry_run: bool) -> Obj:
    """Delete `obj`; owned objects go too (unless orphaned) and an owned pod is replaced."""
    check_preconditions(rt, obj, options)
    meta = obj["metadata"]
    if not dry_run:
        store.remove(rt.kind, meta.get("namespace") or "", meta["name"])
        if rt.kind == "Namespace":
            for key in [k for k in store.objects if k[1] == meta["name"]]:
                store.remove(*key)
        if (options or {}).get("propagationPolicy") != "Orphan":
            collect_garbage(store, meta["uid"])
        if rt.kind == "Pod":
            refresh_owner_chain(store, obj)
    if rt.kind == "Pod":  # pods are deleted gracefully: the answer is the pod, marked for deletion
        gone = copy.deepcopy(obj)
        grace = (options or {}).get("gracePeriodSeconds", 30)
        gone["metadata"].update(deletionTimestamp=store.clock(), deletionGracePeriodSeconds=grace)
        return gone
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Success",
        "details": {"name": meta["name"], "group": rt.group, "kind": rt.plural, "uid": meta["uid"]},
    }
