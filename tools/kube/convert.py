"""Official-client objects (V1Deployment, V1Pod, ...) to our views. The client has no type stubs, so
these functions are the one place that walks its attributes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

from tools.kube.models import (
    ContainerSpec,
    ContainerStatus,
    Deployment,
    Event,
    Node,
    NodeCondition,
    Pod,
    ReplicaSet,
)
from tools.kube.template_digest import template_digest
from tools.redact import redact_env_value

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


# Per-process key: digests let two revisions be compared without the value being guessable from them.
_DIGEST_KEY = secrets.token_bytes(32)


def _env_value(env: object) -> str:
    """The value as it may be shown: literals through `redact_env_value`, references as <from ...>."""
    value = getattr(env, "value", None)
    if value is not None:
        return redact_env_value(str(getattr(env, "name", "")), str(value))
    source = getattr(env, "value_from", None)
    for kind in ("secret_key_ref", "config_map_key_ref", "field_ref", "resource_field_ref"):
        ref = getattr(source, kind, None) if source is not None else None
        if ref is not None:
            target = (
                getattr(ref, "name", None) or getattr(ref, "field_path", None) or getattr(ref, "resource", "")
            )
            return f"<from {kind.removesuffix('_ref').replace('_', '')} {target}>"
    return ""


def _env_digests(env: list[object]) -> dict[str, str]:
    """Digests of the literal values that redaction changed (see ContainerSpec.env_digests)."""
    out = {}
    for e in env:
        name, value = str(getattr(e, "name", "")), getattr(e, "value", None)
        if value is not None and redact_env_value(name, str(value)) != str(value):
            out[name] = hmac.new(_DIGEST_KEY, str(value).encode(), hashlib.sha256).hexdigest()
    return out


def containers(pod_spec: object) -> list[ContainerSpec]:
    out = []
    for c in getattr(pod_spec, "containers", None) or []:
        resources = c.resources
        out.append(
            ContainerSpec(
                name=c.name,
                image=c.image or "",
                env={e.name: _env_value(e) for e in c.env or []},
                env_digests=_env_digests(c.env or []),
                requests={k: str(v) for k, v in ((resources.requests if resources else None) or {}).items()},
                limits={k: str(v) for k, v in ((resources.limits if resources else None) or {}).items()},
                args=[str(a) for a in (c.args or [])],
            )
        )
    return out


def deployment(d: object) -> Deployment:
    meta, spec, status = d.metadata, d.spec, d.status  # type: ignore[attr-defined]
    return Deployment(
        namespace=meta.namespace or "",
        name=meta.name,
        replicas=spec.replicas or 0,
        ready_replicas=(status.ready_replicas if status else 0) or 0,
        available_replicas=(status.available_replicas if status else 0) or 0,
        updated_replicas=(status.updated_replicas if status else 0) or 0,
        revision=_int((meta.annotations or {}).get(REVISION)),
        selector=dict((spec.selector.match_labels if spec.selector else None) or {}),
        containers=containers(spec.template.spec),
        conditions=[
            {
                "type": c.type,
                "status": c.status,
                "reason": c.reason or "",
                "message": c.message or "",
                "last_update": c.last_update_time.isoformat() if c.last_update_time else "",
            }
            for c in ((status.conditions if status else None) or [])
        ],
    )


def _revisions(text: str | None) -> list[int]:
    numbers = [_int(part) for part in (text or "").split(",")]
    return [n for n in numbers if n is not None]


def replicaset(r: object, template: Mapping[str, object] | None = None) -> ReplicaSet:
    """`template`: the pod template as the API's JSON (the client's models serialised), for its digest."""
    meta, spec = r.metadata, r.spec  # type: ignore[attr-defined]
    owners = [o.name for o in meta.owner_references or [] if o.kind == "Deployment"]
    annotations = meta.annotations or {}
    return ReplicaSet(
        namespace=meta.namespace or "",
        name=meta.name,
        revision=_int(annotations.get(REVISION)),
        revision_history=_revisions(annotations.get(REVISION_HISTORY)),
        created=meta.creation_timestamp,
        template_digest=template_digest(template) if template else None,
        replicas=spec.replicas or 0,
        owner=owners[0] if owners else None,
        change_cause=annotations.get(CHANGE_CAUSE),
        containers=containers(spec.template.spec if spec.template else None),
    )


def _state(state: object) -> str:
    if state is None:
        return "unknown"
    if getattr(state, "running", None):
        return "running"
    waiting = getattr(state, "waiting", None)
    if waiting:
        return f"waiting:{waiting.reason or ''}"
    terminated = getattr(state, "terminated", None)
    if terminated:
        return f"terminated:{terminated.reason or terminated.exit_code}"
    return "unknown"


def pod(p: object) -> Pod:
    meta, spec, status = p.metadata, p.spec, p.status  # type: ignore[attr-defined]
    statuses = []
    for cs in (status.container_statuses if status else None) or []:
        last = cs.last_state.terminated if cs.last_state else None
        statuses.append(
            ContainerStatus(
                name=cs.name,
                ready=bool(cs.ready),
                restart_count=cs.restart_count or 0,
                state=_state(cs.state),
                last_termination_reason=last.reason if last else None,
                last_termination_exit_code=last.exit_code if last else None,
                last_termination_at=last.finished_at if last else None,
            )
        )
    return Pod(
        namespace=meta.namespace or "",
        name=meta.name,
        phase=(status.phase if status else None) or "Unknown",
        node=spec.node_name if spec else None,
        labels=dict(meta.labels or {}),
        created=meta.creation_timestamp,
        containers=statuses,
        reason=status.reason if status else None,
    )


def _latest(*candidates: datetime | None) -> datetime | None:
    present = [c for c in candidates if c is not None]
    return max(present) if present else None


def event(e: object) -> Event:
    meta, obj = e.metadata, e.involved_object  # type: ignore[attr-defined]
    series_last = e.series.last_observed_time if getattr(e, "series", None) else None  # type: ignore[attr-defined]
    first = e.first_timestamp or e.event_time or meta.creation_timestamp  # type: ignore[attr-defined]
    return Event(
        namespace=meta.namespace or "",
        type=e.type or "Normal",  # type: ignore[attr-defined]
        reason=e.reason or "",  # type: ignore[attr-defined]
        message=e.message or "",  # type: ignore[attr-defined]
        object_kind=(obj.kind if obj else "") or "",
        object_name=(obj.name if obj else "") or "",
        count=e.count or 1,  # type: ignore[attr-defined]
        first_seen=first,
        last_seen=_latest(e.last_timestamp, series_last, first),  # type: ignore[attr-defined]
    )


def node(n: object) -> Node:
    meta, spec, status = n.metadata, n.spec, n.status  # type: ignore[attr-defined]
    return Node(
        name=meta.name,
        unschedulable=bool(spec.unschedulable) if spec else False,
        conditions=[
            NodeCondition(
                type=c.type,
                status=c.status,
                reason=c.reason or "",
                message=c.message or "",
                last_transition=c.last_transition_time,
            )
            for c in ((status.conditions if status else None) or [])
        ],
        allocatable={k: str(v) for k, v in ((status.allocatable if status else None) or {}).items()},
    )
