"""The action executor: the only code in medic that sends a mutating request to Kubernetes.

Only `policies/guard.py` imports this module (an import-linter contract checks it). Every action can
run as a server-side dry-run (`dryRun=All`): the API server validates and returns the would-be object
and changes nothing. The guard always dry-runs first and turns before/after into a readable diff.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import BaseModel, Field

from tools.action_diff import RollbackImpossible, diff_objects, kubectl_equivalent, rollback_template
from tools.action_request import ActionRequest, TargetRef

Obj = dict[str, Any]
T = TypeVar("T")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


class ActionFailed(Exception):
    """The API server refused the action (or its dry-run) or could not be reached; the message says which."""


class _Absent(ActionFailed):
    """404: the object does not exist (`read` turns this into None)."""


class TargetFacts(BaseModel):
    """What the cluster says about a target now: the facts the policy's limits need."""

    exists: bool
    labels: dict[str, str] = Field(default_factory=dict)
    replicas: int | None = None
    revision: int | None = None
    node_schedulable: bool | None = None
    schedulable_nodes: int | None = None
    cordoned_nodes: int | None = None


class Outcome(BaseModel):
    """The result of one (dry-run or real) action: the object before and after, and what changed."""

    dry_run: bool
    before: Obj
    after: Obj | None = Field(description="None when the object is gone (a deleted pod)")
    changes: list[str] = Field(description="human-readable, e.g. 'replicas: 3 → 6'")
    kubectl: str


class Verification(BaseModel):
    """Whether the post-condition of an executed action holds, and what was seen."""

    ok: bool
    detail: str


class Executor:
    """Sends actions through the official Kubernetes client; one method per action kind."""

    def __init__(self, api: client.ApiClient, timeout_s: float = 10.0) -> None:
        self._apps = client.AppsV1Api(api)
        self._core = client.CoreV1Api(api)
        self._api = api
        self._timeout = timeout_s

    # Reads (the guard needs the current state before it decides) -------------------------------
    def read(self, ref: TargetRef) -> Obj | None:
        ns, timeout = ref.namespace or "", self._timeout

        def get() -> object:
            if ref.resource == "deployment":
                return self._apps.read_namespaced_deployment(ref.name, ns, _request_timeout=timeout)
            if ref.resource == "pod":
                return self._core.read_namespaced_pod(ref.name, ns, _request_timeout=timeout)
            return self._core.read_node(ref.name, _request_timeout=timeout)

        try:
            return self._plain(self._call(get))
        except _Absent:
            return None

    def facts(self, ref: TargetRef) -> TargetFacts:
        obj = self.read(ref)
        if obj is None:
            return TargetFacts(exists=False)
        labels = obj["metadata"].get("labels") or {}
        if ref.resource == "deployment":
            annotations = obj["metadata"].get("annotations") or {}
            revision = annotations.get("deployment.kubernetes.io/revision")
            return TargetFacts(
                exists=True,
                labels=labels,
                replicas=obj["spec"].get("replicas", 1),
                revision=int(revision) if revision else None,
            )
        if ref.resource == "node":
            nodes = self._plain(self._call(lambda: self._core.list_node(_request_timeout=self._timeout)))[
                "items"
            ]
            cordoned = sum(1 for n in nodes if n.get("spec", {}).get("unschedulable"))
            return TargetFacts(
                exists=True,
                labels=labels,
                node_schedulable=not obj.get("spec", {}).get("unschedulable", False),
                schedulable_nodes=len(nodes) - cordoned,
                cordoned_nodes=cordoned,
            )
        return TargetFacts(exists=True, labels=labels)

    def replica_sets(self, namespace: str, deployment: Obj) -> list[Obj]:
        """The Deployment's ReplicaSet history (owned by it), oldest revision first."""
        selector = ",".join(
            f"{k}={v}" for k, v in deployment["spec"]["selector"].get("matchLabels", {}).items()
        )
        items = self._plain(
            self._call(
                lambda: self._apps.list_namespaced_replica_set(
                    namespace, label_selector=selector, _request_timeout=self._timeout
                )
            )
        )["items"]
        uid = deployment["metadata"]["uid"]
        owned = [
            rs
            for rs in items
            if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])
        ]
        return sorted(
            owned,
            key=lambda rs: int(
                rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", "0")
            ),
        )

    # The one mutating entry point ----------------------------------------------------------------
    def execute(self, request: ActionRequest, *, dry_run: bool, now: datetime) -> Outcome:
        """Send `request` (as a server-side dry-run when `dry_run`); raises ActionFailed if refused."""
        ref = request.target_ref
        before = self.read(ref)
        if before is None:
            raise ActionFailed(f"{request.target} does not exist")
        dry = "All" if dry_run else None
        try:
            after = self._call(lambda: self._send(request, ref, before, dry, now))
        except RollbackImpossible as exc:
            raise ActionFailed(str(exc)) from None
        return Outcome(
            dry_run=dry_run,
            before=before,
            after=after,
            changes=diff_objects(request.kind, before, after),
            kubectl=kubectl_equivalent(request),
        )

    def _send(
        self, request: ActionRequest, ref: TargetRef, before: Obj, dry: str | None, now: datetime
    ) -> Obj | None:
        ns, name, timeout = ref.namespace or "", ref.name, self._timeout
        kind = request.kind
        body: object
        if kind == "scale":
            body = {"spec": {"replicas": request.params["replicas"]}}
            self._apps.patch_namespaced_deployment_scale(
                name, ns, body, dry_run=dry, _request_timeout=timeout
            )
            if dry is None:
                return self.read(ref)
            # The scale subresource answers with a Scale; show the Deployment as it would become.
            return _with_replicas(before, int(str(request.params["replicas"])))
        if kind == "rollout_restart":
            stamp = now.isoformat().replace("+00:00", "Z")
            body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
            return self._plain(
                self._apps.patch_namespaced_deployment(name, ns, body, dry_run=dry, _request_timeout=timeout)
            )
        if kind == "rollback":
            to_revision = request.params.get("to_revision")
            history = self.replica_sets(ns, before)
            template = rollback_template(
                before, history, int(to_revision) if to_revision is not None else None
            )
            body = [{"op": "replace", "path": "/spec/template", "value": template}]
            return self._plain(
                self._apps.patch_namespaced_deployment(name, ns, body, dry_run=dry, _request_timeout=timeout)
            )
        if kind == "delete_pod":
            grace = request.params.get("grace_period_seconds")
            grace = int(grace) if grace is not None else None
            self._core.delete_namespaced_pod(
                name, ns, dry_run=dry, grace_period_seconds=grace, _request_timeout=timeout
            )
            return None  # gone (or, in a dry-run, would be)
        if kind in ("cordon", "uncordon"):
            body = {"spec": {"unschedulable": kind == "cordon"}}
            return self._plain(self._core.patch_node(name, body, dry_run=dry, _request_timeout=timeout))
        raise ActionFailed(f"unknown action kind {kind!r}")  # unreachable: ActionRequest validates kinds

    # Verification: did the change take hold? -----------------------------------------------------
    def verify(self, request: ActionRequest, outcome: Outcome, *, within_s: float = 30.0) -> Verification:
        """Poll the post-condition of an executed action until it holds or `within_s` passes."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                result = self._check(request, outcome)
            except ActionFailed as exc:  # an unreadable target proves nothing: not verified (yet)
                result = Verification(ok=False, detail=f"could not read {request.target}: {exc}")
            if result.ok or time.monotonic() >= deadline:
                return result
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _check(self, request: ActionRequest, outcome: Outcome) -> Verification:
        ref = request.target_ref
        now = self.read(ref)
        if request.kind == "delete_pod":
            gone = now is None or now["metadata"].get("uid") != outcome.before["metadata"].get("uid")
            return Verification(ok=gone, detail=f"pod {ref.name} {'is gone' if gone else 'still exists'}")
        if now is None:
            return Verification(ok=False, detail=f"{request.target} no longer exists")
        if request.kind in ("cordon", "uncordon"):
            want = request.kind == "cordon"
            ok = bool(now["spec"].get("unschedulable")) == want
            return Verification(
                ok=ok, detail=f"node {ref.name} unschedulable={bool(now['spec'].get('unschedulable'))}"
            )
        spec, status = now["spec"], now.get("status") or {}
        wanted = spec.get("replicas", 1)
        rolled_out = (
            status.get("observedGeneration", 0) >= now["metadata"].get("generation", 0)
            and status.get("updatedReplicas", 0) == wanted
            and status.get("availableReplicas", 0) == wanted
            and status.get("replicas", 0) == wanted
        )
        detail = (
            f"deployment {ref.name}: {status.get('availableReplicas', 0)}/{wanted} available, "
            f"{status.get('updatedReplicas', 0)} updated"
        )
        if request.kind == "scale" and wanted != request.params["replicas"]:
            return Verification(
                ok=False, detail=f"{detail}; spec.replicas is {wanted}, not {request.params['replicas']}"
            )
        if request.kind == "rollback" and outcome.after is not None:
            expected = _images(outcome.after["spec"]["template"])
            if _images(spec["template"]) != expected:
                return Verification(ok=False, detail=f"{detail}; images are not those of the rollback target")
        return Verification(ok=rolled_out, detail=detail + ("" if rolled_out else "; rollout not finished"))

    @staticmethod
    def _call(send: Callable[[], T]) -> T:
        """Run one API call (or a sequence of them), mapping every failure to ActionFailed: the guard
        must never see a raw transport error (with retries off, urllib3's errors surface as they are)."""
        try:
            return send()
        except ApiException as exc:
            raise (_Absent if exc.status == 404 else ActionFailed)(_reason(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ActionFailed(f"Kubernetes API server unreachable ({type(exc).__name__}: {exc})") from None

    def _plain(self, obj: object) -> Obj:
        result = self._api.sanitize_for_serialization(obj)
        assert isinstance(result, dict)
        return result


def _images(template: Obj) -> dict[str, str]:
    return {c["name"]: c.get("image", "") for c in template["spec"].get("containers", [])}


def _with_replicas(deployment: Obj, replicas: int) -> Obj:
    return {**deployment, "spec": {**deployment["spec"], "replicas": replicas}}


def _reason(exc: ApiException) -> str:
    try:
        status = json.loads(exc.body or "{}")
        return f"{status.get('reason') or exc.reason} ({exc.status}): {status.get('message') or exc.body}"
    except ValueError:
        return f"{exc.reason} ({exc.status}): {exc.body}"
