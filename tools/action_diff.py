"""Pure helpers for actions: what a rollback restores, the readable diff, the kubectl equivalent."""

from __future__ import annotations

import copy
from typing import Any

from tools.action_request import ActionRequest
from tools.redact import redact_env_value

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


class RollbackImpossible(ValueError):
    """There is no revision to roll back to (none before the current one, or not that number)."""


def revision_of(obj: Obj) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))


def rollback_template(deployment: Obj, replica_sets: list[Obj], to_revision: int | None) -> Obj:
    """The pod template `kubectl rollout undo` would restore: the named revision, or the newest one
    before the current. The ReplicaSet's `pod-template-hash` label is dropped, as kubectl does."""
    current = revision_of(deployment)
    by_revision = {revision_of(rs): rs for rs in replica_sets}
    if to_revision is None:
        older = [r for r in by_revision if r < current]
        if not older:
            raise RollbackImpossible(f"no revision before {current} in the ReplicaSet history")
        to_revision = max(older)
    if to_revision not in by_revision:
        known = ", ".join(str(r) for r in sorted(by_revision)) or "none"
        raise RollbackImpossible(f"revision {to_revision} not found (revisions: {known})")
    if to_revision == current:
        raise RollbackImpossible(f"revision {to_revision} is the current revision")
    template = copy.deepcopy(by_revision[to_revision]["spec"]["template"])
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return template


def diff_objects(kind: str, before: Obj, after: Obj | None) -> list[str]:
    """What the action changes, in the words an approver reads: 'replicas: 3 → 6'."""
    name = before["metadata"]["name"]
    if after is None:
        return [f"pod {name}: deleted (its ReplicaSet creates a replacement)"]
    changes: list[str] = []
    if kind == "scale":
        changes.append(f"replicas: {before['spec'].get('replicas')} → {after['spec'].get('replicas')}")
    if kind in ("cordon", "uncordon"):
        was, now = bool(before["spec"].get("unschedulable")), bool(after["spec"].get("unschedulable"))
        changes.append(f"node {name} unschedulable: {str(was).lower()} → {str(now).lower()}")
    if kind in ("rollback", "rollout_restart"):
        changes.extend(_template_changes(before["spec"]["template"], after["spec"]["template"]))
    return changes or ["no change"]


def _template_changes(old: Obj, new: Obj) -> list[str]:
    changes = []
    old_annotations = (old.get("metadata") or {}).get("annotations") or {}
    new_annotations = (new.get("metadata") or {}).get("annotations") or {}
    for key in sorted(set(old_annotations) | set(new_annotations)):
        if old_annotations.get(key) != new_annotations.get(key):
            changes.append(f"pod annotation {key}: {old_annotations.get(key)} → {new_annotations.get(key)}")
    old_containers = {c["name"]: c for c in old["spec"].get("containers", [])}
    for container in new["spec"].get("containers", []):
        before = old_containers.get(container["name"], {})
        if before.get("image") != container.get("image"):
            changes.append(
                f"container {container['name']} image: {before.get('image')} → {container.get('image')}"
            )
        old_env = {e["name"]: e.get("value") for e in before.get("env") or []}
        new_env = {e["name"]: e.get("value") for e in container.get("env") or []}
        for key in sorted(set(old_env) | set(new_env)):
            if old_env.get(key) != new_env.get(key):
                was, now = _shown_env(key, old_env.get(key)), _shown_env(key, new_env.get(key))
                changes.append(f"container {container['name']} env {key}: {was} → {now}")
        if before.get("resources") != container.get("resources"):
            changes.append(
                f"container {container['name']} resources: {before.get('resources')} → {container.get('resources')}"
            )
    return changes


def _shown_env(name: str, value: str | None) -> str:
    """The diff goes to approvers and the audit log: an env value never appears there unredacted."""
    return "None" if value is None else redact_env_value(name, str(value))


def kubectl_equivalent(request: ActionRequest) -> str:
    """The kubectl command a human would type for the same change."""
    ref = request.target_ref
    ns = f"-n {ref.namespace} " if ref.namespace else ""
    if request.kind == "scale":
        return f"kubectl {ns}scale deployment/{ref.name} --replicas={request.params['replicas']}"
    if request.kind == "rollout_restart":
        return f"kubectl {ns}rollout restart deployment/{ref.name}"
    if request.kind == "rollback":
        to = request.params.get("to_revision")
        return f"kubectl {ns}rollout undo deployment/{ref.name}" + (f" --to-revision={to}" if to else "")
    if request.kind == "delete_pod":
        return f"kubectl {ns}delete pod {ref.name}"
    return f"kubectl {request.kind} {ref.name}"
