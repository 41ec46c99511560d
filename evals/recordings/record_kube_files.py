"""Writing captured Kubernetes objects and pod logs into a recording, secrets redacted as the tools
redact them.

- Env values go through `redact_env_value` (tools/redact.py), as `tools/kube/convert.py` shows them,
  each secret written as `[REDACTED:<tag>]`, the tag a keyed digest with a key used for this recording
  only and then dropped. A replay's tools redact the tag again, so they show exactly what the live
  tools showed, and two revisions that differ only in a secret still differ, as the tools' env
  digests tell live. Where the tools' rules would not redact a tag again (a bearer token's alphabet
  has no brackets), the value is written as the tools show it: shown the same, its digest lost.
- Container args and commands, and event messages, go through `redact` (over-redaction is the safe
  failure). The `last-applied-configuration` annotation (a copy of the spec, secrets included) and
  `managedFields` (bookkeeping no tool reads) are left out.
- Log lines go through `redact`, as the pod_logs tool does, and lines stamped after `as_of` are
  dropped: nothing in a recording is later than the instant investigated.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.recordings.record_kube import KubeCapture, Obj
from tools.kube.logs import parse_timestamp
from tools.redact import MASK, redact, redact_env_value, secret_env_name

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# The pod_logs tool's own reading of a line's timestamp: a line that does not start with one is kept.
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
FILES = {
    "Deployment": "deployments.json",
    "ReplicaSet": "replicasets.json",
    "Pod": "pods.json",
    "Event": "events.json",
    "Node": "nodes.json",
}


class Redactor:
    """Redacts objects with one key for the whole recording (equal secrets get equal tags)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _tag(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:12]

    def env_value(self, name: str, value: str) -> str:
        """The value a replay shows exactly as the live tools showed it: each secret as a tag that the
        tools redact again (so their env digests still tell two secrets apart), or, where their rules
        would not redact the tag again, as the tools show it."""
        shown = redact_env_value(name, value)
        if shown == value:
            return value
        marker = f"{MASK.removesuffix(']')}:{self._tag(value)}]"  # [REDACTED:<tag>]
        tagged = marker if secret_env_name(name) else shown.replace(MASK, marker)
        return tagged if redact_env_value(name, tagged) == shown else shown

    def object(self, obj: Obj) -> Obj:
        out = copy.deepcopy(obj)
        meta = out.get("metadata") or {}
        meta.pop("managedFields", None)
        (meta.get("annotations") or {}).pop(LAST_APPLIED, None)
        if out.get("kind") == "Event" and isinstance(out.get("message"), str):
            out["message"] = redact(out["message"])
        spec = out.get("spec") or {}
        pod_spec = spec if out.get("kind") == "Pod" else (spec.get("template") or {}).get("spec")
        for container in _containers(pod_spec):
            for env in container.get("env") or []:
                if isinstance(env, dict) and isinstance(env.get("value"), str):
                    env["value"] = self.env_value(str(env.get("name", "")), env["value"])
            for key in ("args", "command"):
                if isinstance(container.get(key), list):
                    container[key] = [redact(a) if isinstance(a, str) else a for a in container[key]]
        return out


def _containers(pod_spec: Any) -> list[dict[str, Any]]:
    if not isinstance(pod_spec, dict):
        return []
    found = (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or [])
    return [c for c in found if isinstance(c, dict)]


def write_objects(capture: KubeCapture, folder: Path, redactor: Redactor) -> dict[str, int]:
    """kube/<kind>s.json, each a `List` as `kubectl get -o json` writes it; returns objects per file."""
    by_kind: dict[str, list[Obj]] = defaultdict(list)
    for (kind, _, _), obj in sorted(capture.objects.items()):
        if kind in FILES:
            by_kind[kind].append(redactor.object(obj))
    counts = {}
    for kind, objects in by_kind.items():
        path = folder / "kube" / FILES[kind]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=1) + "\n")
        counts[path.name] = len(objects)
    return counts


def log_lines(text: str, as_of: datetime) -> list[str]:
    """The lines as the pod_logs tool would keep them: redacted, none stamped after `as_of`."""
    kept = []
    for line in text.splitlines():
        match = _TIMESTAMP.match(line)
        when = parse_timestamp(match.group(1)) if match else None
        if when is not None and when > as_of:
            continue
        kept.append(redact(line))
    return kept


def write_logs(capture: KubeCapture, folder: Path, as_of: datetime) -> int:
    """logs/<pod>.log and logs/<pod>.previous.log; returns how many files were written."""
    written = 0
    for (_, pod, previous), text in sorted(capture.logs.items()):
        lines = log_lines(text, as_of)
        path = folder / "logs" / f"{pod}{'.previous' if previous else ''}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines))
        written += 1
    return written
