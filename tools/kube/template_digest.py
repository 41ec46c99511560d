"""A digest of a pod template that names the workload's *state*: two revisions with the same digest
run the same thing, whenever and however often they were restarted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

HASH_LABEL = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _pruned(value: object) -> object:
    """Nulls and empty containers dropped: serialisers differ on them, the template does not."""
    if isinstance(value, Mapping):
        items = {str(k): _pruned(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def template_digest(template: Mapping[str, object]) -> str:
    """sha256 of a pod template (the API's JSON) as a *state* of the workload: what runs, not when it was
    restarted. Left out: the pod-template-hash label the controller adds, the restart stamp of
    `kubectl rollout restart`, metadata.creationTimestamp, nulls and empty fields."""
    plain = json.loads(json.dumps(template, default=str))
    meta = plain.get("metadata") or {}
    meta.pop("creationTimestamp", None)
    (meta.get("labels") or {}).pop(HASH_LABEL, None)
    (meta.get("annotations") or {}).pop(RESTARTED_AT, None)
    body = json.dumps(_pruned(plain), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
