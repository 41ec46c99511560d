"""Facts the guard hands to `evaluate` besides the target's own: the recent executions from the audit
log (with whether each took effect and whether its symptom receded), and for a rollback, the
deployment's rollout history and the template the rollback would bring back. Whatever cannot be read
comes back as None, which `evaluate` turns into a denial."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import JsonValue, ValidationError

from policies.audit import AuditLog
from policies.history_checks import RESTORING_KINDS
from policies.target_state import RecentAction, Revision
from tools.action_diff import RollbackImpossible, rollback_template
from tools.action_request import ActionRequest, TargetRef
from tools.errors import ToolError
from tools.kube.client import KubeReader
from tools.kube.rollout_history import read_rollout_history
from tools.kube.template_digest import template_digest


class ClusterReads(Protocol):
    """The executor's reads that a rollback's facts need (only the guard may import the executor)."""

    def read(self, ref: TargetRef) -> dict[str, JsonValue] | None: ...

    def replica_sets(
        self, namespace: str, deployment: dict[str, JsonValue]
    ) -> list[dict[str, JsonValue]]: ...


def recent_actions(audit: AuditLog, now: datetime, lookback: timedelta) -> list[RecentAction]:
    """Every execution attempt within `lookback` (rate limits count attempts, whatever came of them)."""
    since = now - lookback
    records = audit.show()
    proposals = {r.action_id: r.payload for r in records if r.kind == "proposal"}
    phases: dict[str, set[str]] = {}
    recovered: dict[str, bool | None] = {}
    for r in records:
        if r.kind == "execution":
            phases.setdefault(r.action_id, set()).add(str(r.payload.get("phase")))
        elif r.kind == "verification":  # the last one counts; no "recovered" key: never re-checked
            value = r.payload.get("recovered")
            recovered[r.action_id] = value if isinstance(value, bool) else None
    out = []
    for r in records:
        if not (r.kind == "execution" and r.payload.get("phase") == "sending" and r.at >= since):
            continue
        proposal = proposals.get(r.action_id)
        if proposal is None:
            continue
        seen = phases.get(r.action_id, set())
        applied = True if "done" in seen else False if "failed" in seen else None
        out.append(
            RecentAction.model_validate(
                {
                    "action_id": r.action_id,
                    "kind": proposal.get("kind"),
                    "target": proposal.get("target"),
                    "at": r.at,
                    "applied": applied,
                    "recovered": recovered.get(r.action_id),
                }
            )
        )
    return out


def rollout_revisions(kube: KubeReader, ref: TargetRef) -> list[Revision] | None:
    """The deployment's rollout history with each template's digest; None when it cannot be read."""
    try:
        history = read_rollout_history(kube, ref.namespace or "", ref.name)
        return [
            Revision(revision=r.revision, template=r.template_digest or "", became_current=r.became_current)
            for r in history
        ]
    except (ToolError, ValidationError):  # unreadable, or a ReplicaSet without a template or a time zone
        return None


def restored_template(
    deployment: dict[str, JsonValue], replica_sets: list[dict[str, JsonValue]], to_revision: JsonValue
) -> str | None:
    """Digest of the template `kubectl rollout undo` would restore; None when there is none."""
    try:
        target = int(str(to_revision)) if to_revision is not None else None
        return template_digest(rollback_template(deployment, replica_sets, target))
    except (RollbackImpossible, ValueError, KeyError, TypeError):
        return None


def rollback_facts(
    cluster: ClusterReads, kube: KubeReader, request: ActionRequest
) -> tuple[list[Revision] | None, str | None]:
    """For an action that can bring back an earlier template (a rollback): the rollout history (with
    when each revision became current) and the digest of the template it would bring back, chosen
    from the ReplicaSets the way the executor will choose it. (None, None) for other actions."""
    if request.kind not in RESTORING_KINDS:
        return None, None
    ref = request.target_ref
    deployment = cluster.read(ref)
    if deployment is None:
        return None, None
    replica_sets = cluster.replica_sets(ref.namespace or "", deployment)
    template = restored_template(deployment, replica_sets, request.params.get("to_revision"))
    return rollout_revisions(kube, ref), template
