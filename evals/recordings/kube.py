"""A recording's kube/*.json and logs/<pod>.log, checked and turned into the Kubernetes emulator's state.

Objects are what the API returns (a `List`, a `<Kind>List`, a JSON array of objects, or one object,
see `evals.sandbox.kube.documents`); each needs `kind` and `metadata.name`, and a namespaced one
without a namespace is in the manifest's. A pod log is served for its Pod's default container (the
`kubectl.kubernetes.io/default-container` annotation, else the first container), so the Pod must be
in kube/*.json. Log lines start with their RFC 3339 timestamp, as `kubectl logs --timestamps` prints
them (a line without one is kept, as the pod_logs tool keeps it).

Nothing after as_of is served: objects created after it, events last seen after it (the rule the
events tool applies) and log lines written after it are left out.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.recordings.manifest import RecordingError
from evals.recordings.parts import Recording
from evals.sandbox.kube.documents import objects_from_document
from evals.sandbox.kube.resources import type_for_object
from evals.sandbox.kube.state import KubeState, PodLogRecord, StateError

Obj = dict[str, Any]
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")


def read_kube(recording: Recording) -> KubeState:
    """The objects and pod logs visible at the recording's as_of; raises `RecordingError`."""
    manifest = recording.manifest
    objects: dict[tuple[str, str, str], tuple[Obj, Path]] = {}
    later: set[tuple[str, str, str]] = set()  # created after as_of
    for path in recording.files("kube"):
        for obj in _objects(path, manifest.namespace):
            meta = obj["metadata"]
            key = (obj["kind"], str(meta.get("namespace") or ""), meta["name"])
            if key in objects or key in later:
                first = objects[key][1] if key in objects else "an earlier kube file"
                raise RecordingError(
                    f"{path}: {key[0]} {'/'.join(key[1:]).lstrip('/')} is there twice (also in {first})"
                )
            if _after(_created(obj), manifest.as_of) or _after(_event_last_seen(obj), manifest.as_of):
                later.add(key)
            else:
                objects[key] = (obj, path)
    logs = []
    for (pod, previous), path in sorted(recording.logs().items()):
        found = _pod(pod, manifest.namespace, [o for o, _ in objects.values()])
        if found is None:
            if any(k[0] == "Pod" and k[2] == pod for k in later):
                continue  # the pod did not exist yet at as_of: nor did its log
            raise RecordingError(
                f"{path}: no Pod {pod} in kube/*.json; a pod's log is served with its Pod (add the Pod, "
                "or remove the log)"
            )
        lines = _lines(path, manifest.as_of)
        namespace = found["metadata"]["namespace"]
        logs.append(
            PodLogRecord(
                namespace=namespace,
                pod=pod,
                container=_container(found, path),
                previous=previous,
                lines=lines,
            )
        )
    return KubeState(objects=[obj for obj, _ in objects.values()], logs=logs)


def _objects(path: Path, namespace: str) -> list[Obj]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: cannot read it as UTF-8 text: {exc}") from None
    try:
        objects = objects_from_document(document)
    except StateError as exc:
        raise RecordingError(f"{path}: {exc} (see the README's Recordings)") from None
    for obj in objects:
        served = type_for_object(obj["apiVersion"], obj["kind"])
        if served is not None and served.namespaced and not obj["metadata"].get("namespace"):
            obj["metadata"] = {**obj["metadata"], "namespace": namespace}
    return objects


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _created(obj: Obj) -> datetime | None:
    return _parse_time(obj["metadata"].get("creationTimestamp"))


def _event_last_seen(obj: Obj) -> datetime | None:
    """When an Event was last seen, as the events tool reads it (None for other objects)."""
    if obj["kind"] != "Event":
        return None
    series = obj.get("series")
    series = series if isinstance(series, dict) else {}
    times = [
        _parse_time(t)
        for t in (obj.get("lastTimestamp"), series.get("lastObservedTime"), obj.get("eventTime"))
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else _parse_time(obj.get("firstTimestamp"))


def _after(when: datetime | None, as_of: datetime) -> bool:
    return when is not None and when.tzinfo is not None and when > as_of


def _pod(name: str, namespace: str, objects: list[Obj]) -> Obj | None:
    """The Pod of a log: the one in the manifest's namespace, else the only one of that name."""
    pods = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"] == name]
    ours = [p for p in pods if p["metadata"].get("namespace") == namespace]
    if ours:
        return ours[0]
    return pods[0] if len(pods) == 1 else None


def _container(pod: Obj, path: Path) -> str:
    chosen = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER)
    containers = [
        c.get("name") for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)
    ]
    if isinstance(chosen, str) and chosen:
        return chosen
    if not containers or not isinstance(containers[0], str):
        raise RecordingError(f"{path}: its Pod has no spec.containers[0].name to serve the log for")
    return containers[0]


def _lines(path: Path, as_of: datetime) -> list[str]:
    kept = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: cannot read it as UTF-8 text: {exc}") from None
    for line in text.splitlines():
        stamp = _STAMP.match(line)
        when = _parse_time(stamp[1]) if stamp else None
        if when is None or when <= as_of:  # a line without a timestamp is kept, as the pod_logs tool does
            kept.append(line)
    return kept
