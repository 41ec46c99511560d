"""The emulator's input: the objects and logs of a scenario world (the STATE.json contract).

`load_state_file` and `build_store` refuse a bad state with `StateError` and a one-line reason. Loading
also does what a real cluster would already have done: server-owned metadata on every object, the
Namespaces the objects live in, and the uids behind ownerReferences and Event involvedObjects given by
name only (kubectl matches both by uid).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.sandbox.kube.defaults import apply_defaults
from evals.sandbox.kube.logs import LogKey
from evals.sandbox.kube.resources import type_for_object
from evals.sandbox.kube.store import Obj, ObjKey, Store, key_of


class StateError(ValueError):
    """The state file cannot be served: unreadable, not the contract's shape, or inconsistent."""


class PodLogRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: str
    pod: str
    container: str
    previous: bool = False
    lines: list[str]


class KubeState(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objects: list[dict[str, Any]] = []
    logs: list[PodLogRecord] = []


def load_state_file(path: Path) -> KubeState:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise StateError(f"state file {path} is not JSON: {exc}") from exc
    try:
        return KubeState.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StateError(f"state file {path}: {where}: {first['msg']}") from exc


def _check(index: int, obj: Obj) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise StateError(f"objects[{index}]: metadata.name is required")
    rt = type_for_object(str(obj.get("apiVersion")), str(obj.get("kind")))
    if rt is None:
        raise StateError(
            f"objects[{index}] ({meta['name']}): unsupported apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}"
        )
    if rt.namespaced and not meta.get("namespace"):
        raise StateError(f"objects[{index}] ({obj['kind']} {meta['name']}): metadata.namespace is required")
    if not rt.namespaced:
        meta.pop("namespace", None)


def _fill_uid_references(objects: dict[ObjKey, Obj]) -> None:
    for obj in objects.values():
        namespace = obj["metadata"].get("namespace", "")
        for ref in obj["metadata"].get("ownerReferences") or []:
            owner = objects.get((str(ref.get("kind")), namespace, str(ref.get("name"))))
            if owner is not None and not ref.get("uid"):
                ref["uid"] = owner["metadata"]["uid"]
        involved = obj.get("involvedObject")
        if obj["kind"] == "Event" and isinstance(involved, dict) and not involved.get("uid"):
            target_ns = involved.get("namespace", namespace) if involved.get("kind") != "Node" else ""
            target = objects.get((str(involved.get("kind")), target_ns or "", str(involved.get("name"))))
            if target is not None:
                involved["uid"] = target["metadata"]["uid"]


def build_store(state: KubeState, store: Store | None = None) -> tuple[Store, dict[LogKey, list[str]]]:
    """A store holding the state's objects (in their given order) and the logs keyed for pods/log."""
    store = store or Store()
    objects: dict[ObjKey, Obj] = {}
    for index, raw in enumerate(state.objects):
        obj = json.loads(json.dumps(raw))  # a private copy
        _check(index, obj)
        key = key_of(obj)
        if key in objects:
            raise StateError(f"objects[{index}]: duplicate {key[0]} {key[1]}/{key[2]}")
        objects[key] = store.stamp_new(apply_defaults(obj))
    for namespace in sorted({k[1] for k in objects if k[1]} | {"default"}):
        if ("Namespace", "", namespace) not in objects:
            ns: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            ns["spec"], ns["status"] = {"finalizers": ["kubernetes"]}, {"phase": "Active"}
            objects[("Namespace", "", namespace)] = store.stamp_new(ns)
    _fill_uid_references(objects)
    for obj in objects.values():
        store.put(obj)
    logs: dict[LogKey, list[str]] = {}
    for record in state.logs:
        logs.setdefault((record.namespace, record.pod, record.container, record.previous), []).extend(
            record.lines
        )
    return store, logs
