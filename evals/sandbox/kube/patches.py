"""The three PATCH flavours a Kubernetes API server accepts: JSON merge patch (RFC 7386), JSON patch
(RFC 6902) and strategic merge patch, for the list shapes of the built-in kinds that medic and kubectl
patch (containers, env, ports, volumes, conditions, ownerReferences, taints... merged by their key).
"""

from __future__ import annotations

import copy
from typing import Any

from evals.sandbox.kube.errors import bad_request, invalid

# Field name -> the key its list items are merged on (patchMergeKey in the Kubernetes API types).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "taints": "key",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "addresses": "type",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge: like a merge patch, but keyed lists merge item by item and `$patch`
    directives (replace, delete) are honoured."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and _merge_key(key, value):
            result[key] = _merge_list(result.get(key) or [], value, _merge_key(key, value))
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":  # container ports merge on containerPort, service ports on port
        dict_items = [i for i in items if isinstance(i, dict)]
        return "containerPort" if dict_items and all("containerPort" in i for i in dict_items) else "port"
    return MERGE_KEYS.get(field)


def _merge_list(current: list[Any], patch: list[Any], key: str | None) -> list[Any]:
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            if isinstance(item, dict) and item.get("$patch") == "replace":
                return [i for i in patch if not (isinstance(i, dict) and "$patch" in i)]
            raise bad_request(f"map: {item!r} does not contain declared merge key: {key}")
        index = next(
            (i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 operations on a copy of `target`; a failed `test` or a missing path is a 422."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid json patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"json patch operation {kind} needs a value")
        if kind == "add":
            doc = _apply(doc, path, "add", copy.deepcopy(op["value"]))
        elif kind == "replace":
            doc = _apply(doc, path, "replace", copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _apply(doc, path, "remove", None)
        elif kind in ("move", "copy"):
            value = _get(doc, op.get("from", ""))
            if kind == "move":
                doc = _apply(doc, op["from"], "remove", None)
            doc = _apply(doc, path, "add", copy.deepcopy(value))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise invalid("Patch", path, f"testing value {path} failed")
        else:
            raise bad_request(f"unknown json patch operation: {kind}")
    return doc


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"json patch path must start with '/': {path}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for token in _tokens(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise invalid("Patch", path, f"json patch path not found: {path}")
    return node


def _apply(doc: Any, path: str, kind: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return value if kind != "remove" else None
    parent = (
        _get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1]))
        if len(tokens) > 1
        else doc
    )
    last = tokens[-1]
    if isinstance(parent, dict):
        if kind != "add" and last not in parent:
            raise invalid(
                "Patch", path, f"json patch {kind} operation does not apply: doc is missing key: {path}"
            )
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if index < 0 or index > len(parent) or (kind != "add" and index == len(parent)):
            raise invalid("Patch", path, f"json patch index out of range: {path}")
        if kind == "add":
            parent.insert(index, value)
        elif kind == "replace":
            parent[index] = value
        else:
            parent.pop(index)
    else:
        raise invalid("Patch", path, f"json patch path not found: {path}")
    return doc
