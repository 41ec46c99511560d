"""The verbs of the API server over the store: list, get, create, update, patch, delete, the scale
and eviction subresources and pods/log. Every write runs on a clone of the store, committed only when
the request is not a dry run, so `dryRun=All` returns the would-be result and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

from evals.sandbox.kube import errors, writes
from evals.sandbox.kube.logs import LogKey, render_log
from evals.sandbox.kube.patches import json_patch, merge_patch, strategic_merge_patch
from evals.sandbox.kube.resources import ResourceType
from evals.sandbox.kube.selectors import parse_field_selector, parse_label_selector
from evals.sandbox.kube.store import Obj, Store

Params = Mapping[str, str]

PATCH_TYPES: dict[str, Callable[[Obj, object], object]] = {
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/merge-patch+json": merge_patch,
    "application/json-patch+json": json_patch,
}


def is_dry_run(params: Params, body: object = None) -> bool:
    values = [params["dryRun"]] if "dryRun" in params else []
    if isinstance(body, dict):  # DeleteOptions and Eviction carry it in the body too
        options = body.get("deleteOptions") if body.get("kind") == "Eviction" else body
        values += list((options or {}).get("dryRun") or [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dry run value: "{value}": valid values are "All"')
    return bool(values)


def events_v1_view(event: Obj) -> Obj:
    """A core/v1 Event as events.k8s.io/v1 shows it."""
    source = event.get("source") or {}
    view = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": event["metadata"],
        # required by events.k8s.io/v1 clients; legacy events only have first/last timestamps
        "eventTime": event.get("eventTime")
        or event.get("firstTimestamp")
        or event["metadata"].get("creationTimestamp"),
        "reportingController": event.get("reportingComponent") or source.get("component", ""),
        "reportingInstance": event.get("reportingInstance") or source.get("host", ""),
        "action": event.get("action", ""),
        "reason": event.get("reason", ""),
        "regarding": event.get("involvedObject") or {},
        "related": event.get("related"),
        "note": event.get("message", ""),
        "type": event.get("type", ""),
        "deprecatedSource": source,
        "deprecatedFirstTimestamp": event.get("firstTimestamp"),
        "deprecatedLastTimestamp": event.get("lastTimestamp"),
        "deprecatedCount": event.get("count"),
    }
    return {k: v for k, v in view.items() if v is not None}


class KubeApi:
    def __init__(self, store: Store, logs: dict[LogKey, list[str]]) -> None:
        self.store = store
        self.logs = logs

    def _view(self, rt: ResourceType, obj: Obj) -> Obj:
        return events_v1_view(obj) if rt.group == "events.k8s.io" else obj

    def _transaction(self, dry_run: bool, write: Callable[[Store], Obj]) -> Obj:
        work = self.store.clone()
        result = write(work)
        if not dry_run:
            self.store.adopt(work)
        return result

    def list(self, rt: ResourceType, namespace: str | None, params: Params) -> Obj:
        by_label = parse_label_selector(params.get("labelSelector"))
        by_field = parse_field_selector(params.get("fieldSelector"), rt.kind, rt.group == "events.k8s.io")
        items = [o for o in self.store.list(rt.storage_key, namespace) if by_label(o) and by_field(o)]
        return {
            "apiVersion": rt.group_version,
            "kind": f"{rt.kind}List",
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": [self._view(rt, o) for o in items],
        }

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.store.get(rt.storage_key, namespace or "", name)
        if obj is None:
            raise errors.not_found(rt.plural, name, rt.group)
        return self._view(rt, obj)

    def create(self, rt: ResourceType, namespace: str | None, body: Obj, params: Params) -> Obj:
        dry = is_dry_run(params)
        return self._transaction(dry, lambda s: writes.create(s, rt, namespace, body, dry))

    def replace(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Obj,
        params: Params,
        sub: str | None = None,
    ) -> Obj:
        dry = is_dry_run(params)
        old = self.get(rt, namespace, name)
        return self._transaction(dry, lambda s: writes.update(s, rt, old, body, dry, sub))

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: object,
        content_type: str,
        params: Params,
        sub: str | None = None,
    ) -> Obj:
        dry = is_dry_run(params)
        old = self.get(rt, namespace, name)
        patched = self._apply_patch(old, body, content_type)
        return self._transaction(dry, lambda s: writes.update(s, rt, old, patched, dry, sub))

    @staticmethod
    def _apply_patch(target: Obj, body: object, content_type: str) -> Obj:
        patcher = PATCH_TYPES.get(content_type.split(";")[0].strip())
        if patcher is None:
            raise errors.unsupported_media_type(content_type)
        result = patcher(copy.deepcopy(target), body)
        if not isinstance(result, dict):
            raise errors.bad_request("the patch does not produce an object")
        return result

    def delete(
        self, rt: ResourceType, namespace: str | None, name: str, body: Obj | None, params: Params
    ) -> Obj:
        dry = is_dry_run(params, body)
        obj = self.get(rt, namespace, name)
        options = dict(body or {})
        if "propagationPolicy" in params:
            options["propagationPolicy"] = params["propagationPolicy"]
        if "gracePeriodSeconds" in params:
            options["gracePeriodSeconds"] = int(params["gracePeriodSeconds"])
        return self._transaction(dry, lambda s: writes.delete(s, rt, obj, options, dry))

    def delete_collection(self, rt: ResourceType, namespace: str | None, params: Params) -> Obj:
        dry = is_dry_run(params)
        doomed = self.list(rt, namespace, params)["items"]

        def delete_all(store: Store) -> Obj:
            for obj in doomed:
                if store.get(rt.kind, obj["metadata"].get("namespace") or "", obj["metadata"]["name"]):
                    writes.delete(store, rt, obj, None, dry)
            return {**self.list(rt, namespace, params), "items": doomed}

        return self._transaction(dry, delete_all)

    # --- subresources -------------------------------------------------------------------------

    def get_scale(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.get(rt, namespace, name)
        meta = obj["metadata"]
        selector = (obj.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in selector.items()),
            },
        }

    def update_scale(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: object,
        content_type: str | None,
        params: Params,
    ) -> Obj:
        """PUT (content_type None) or PATCH of the autoscaling/v1 Scale; only spec.replicas is taken."""
        dry = is_dry_run(params)
        old = self.get(rt, namespace, name)
        scale = self.get_scale(rt, namespace, name)
        wanted = body if content_type is None else self._apply_patch(scale, body, content_type)
        if not isinstance(wanted, dict):
            raise errors.bad_request("the body of the request must be a Scale object")
        version = (wanted.get("metadata") or {}).get("resourceVersion")
        if version and version != old["metadata"].get("resourceVersion"):
            raise errors.conflict(rt.plural, name, rt.group)
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale",
                name,
                f"spec.replicas: Invalid value: {replicas!r}: must be greater than or equal to 0",
            )
        new = copy.deepcopy(old)
        new["spec"]["replicas"] = replicas

        def write(store: Store) -> Obj:
            stored = writes.update(store, rt, old, new, dry)
            replicas_now = stored["spec"]["replicas"]
            result = {**scale, "spec": {"replicas": replicas_now}}
            result["metadata"] = {
                **scale["metadata"],
                "resourceVersion": stored["metadata"]["resourceVersion"],
            }
            result["status"] = {
                **scale["status"],
                "replicas": (stored.get("status") or {}).get("replicas", 0),
            }
            return result

        return self._transaction(dry, write)

    def evict(
        self, rt: ResourceType, namespace: str | None, name: str, body: Obj | None, params: Params
    ) -> Obj:
        dry = is_dry_run(params, body)
        pod = self.get(rt, namespace, name)
        options = (body or {}).get("deleteOptions") or {}
        self._transaction(dry, lambda s: writes.delete(s, rt, pod, options, dry))
        return {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Success", "code": 201}

    def log(self, rt: ResourceType, namespace: str | None, name: str, params: Params) -> str:
        return render_log(self.get(rt, namespace, name), self.logs, params)
