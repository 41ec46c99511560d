"""Objects from JSON as the API server or kubectl returns them, for the emulator's state.

A list request answers a `<Kind>List` whose items carry no `kind` or `apiVersion` (the list says
them once); `kubectl get -o json` answers a `List` whose items carry both; a get answers one object.
All three are accepted, and so is a plain JSON array of objects.
"""

from __future__ import annotations

from typing import Any

from evals.sandbox.kube.resources import RESOURCE_TYPES, type_for_kind, type_for_object
from evals.sandbox.kube.state import StateError
from evals.sandbox.kube.store import Obj

SERVED_KINDS = sorted({rt.kind for rt in RESOURCE_TYPES if not rt.read_only})


def objects_from_document(document: Any) -> list[Obj]:
    """The objects of one JSON document, each with `apiVersion` and `kind` filled in and checked to be a
    type the emulator serves; a `StateError` names the item (`items[3]`) and what is wrong."""
    if isinstance(document, list):
        return [_object(item, f"[{i}]", None, None) for i, item in enumerate(document)]
    if not isinstance(document, dict):
        raise StateError(f"expected a List object or a JSON array of objects, got {type(document).__name__}")
    kind = document.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in document:
        items = document["items"]
        if not isinstance(items, list):
            raise StateError(f"items: expected an array, got {type(items).__name__}")
        item_kind = kind.removesuffix("List") or None  # `List` (kubectl) names no kind for its items
        version = document.get("apiVersion") if item_kind else None
        return [
            _object(item, f"items[{i}]", item_kind, version if isinstance(version, str) else None)
            for i, item in enumerate(items)
        ]
    return [_object(document, "the object", None, None)]


def _object(raw: Any, where: str, kind: str | None, api_version: str | None) -> Obj:
    if not isinstance(raw, dict):
        raise StateError(f"{where}: expected an object, got {type(raw).__name__}")
    obj: Obj = dict(raw)
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        raise StateError(f"{where}: metadata.name is required")
    obj.setdefault("kind", kind)
    if not isinstance(obj["kind"], str) or not obj["kind"]:
        raise StateError(f"{where} ({name}): kind is required")
    if not obj.get("apiVersion"):
        obj["apiVersion"] = api_version or _default_version(obj["kind"], where, name)
    if type_for_object(str(obj["apiVersion"]), obj["kind"]) is None:
        raise StateError(
            f"{where} ({obj['kind']} {name}): {obj['apiVersion']}/{obj['kind']} is not served by the "
            f"emulator (it serves {', '.join(SERVED_KINDS)})"
        )
    return obj


def _default_version(kind: str, where: str, name: str) -> str:
    try:
        return type_for_kind(kind).group_version
    except KeyError:
        raise StateError(
            f"{where} ({kind} {name}): kind {kind} is not served by the emulator (it serves "
            f"{', '.join(SERVED_KINDS)})"
        ) from None
