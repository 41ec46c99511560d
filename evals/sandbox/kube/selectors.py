"""labelSelector and fieldSelector, with the grammar and the per-kind field labels of the real server.

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>n`, `k<n`.
Field selectors: `f=v`, `f==v`, `f!=v` over the field labels a real server supports for the kind;
any other field label is a 400, as on a real cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from evals.sandbox.kube.errors import bad_request

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Node": ("spec.unschedulable",),
    "ReplicaSet": ("status.replicas",),
    "Namespace": ("status.phase",),
}
# events.k8s.io/v1 names the same fields differently; the real server converts them the same way.
_EVENTS_V1_ALIASES = {"regarding.": "involvedObject.", "reportingController": "reportingComponent"}

_LABEL_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET_RE = re.compile(rf"^\s*({_LABEL_KEY})\s+(in|notin)\s*\((.*)\)\s*$")
_OP_RE = re.compile(rf"^\s*({_LABEL_KEY})\s*(==|!=|=|>|<)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_LABEL_KEY})\s*$")


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _label_requirement(text: str) -> Predicate:
    if m := _SET_RE.match(text):
        key, op, raw_values = m.group(1), m.group(2), m.group(3)
        values = {v.strip() for v in raw_values.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _OP_RE.match(text):
        key, op, value = m.group(1), m.group(2), m.group(3)
        if op in ("=", "=="):
            return lambda labels: labels.get(key) == value
        if op == "!=":
            return lambda labels: labels.get(key) != value
        try:
            bound = int(value)
        except ValueError:
            raise bad_request(
                f"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer: {text}"
            ) from None
        if op == ">":
            return lambda labels: _as_int(labels.get(key)) is not None and _as_int(labels.get(key)) > bound  # type: ignore[operator]
        return lambda labels: _as_int(labels.get(key)) is not None and _as_int(labels.get(key)) < bound  # type: ignore[operator]
    if m := _EXISTS_RE.match(text):
        negate, key = m.group(1) == "!", m.group(2)
        return lambda labels: (key in labels) != negate
    raise bad_request(f"unable to parse requirement: found '{text.strip()}', expected a label requirement")


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def parse_label_selector(text: str | None) -> Predicate:
    """A predicate over an object's metadata.labels."""
    requirements = [_label_requirement(part) for part in _split_top_level(text or "")]

    def matches(obj: Obj) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def selector_from_match_labels(selector: Obj | None) -> Predicate:
    """A predicate for a workload's spec.selector (matchLabels and matchExpressions)."""
    parts = [f"{k}={v}" for k, v in ((selector or {}).get("matchLabels") or {}).items()]
    for expr in (selector or {}).get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op in ("In", "NotIn"):
            parts.append(f"{key} {op.lower()} ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return parse_label_selector(",".join(parts))


def field_value(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if path == "source" and isinstance(value, dict):
        value = value.get("component")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(text: str | None, kind: str, events_v1: bool = False) -> Predicate:
    """A predicate over the object's field labels; 400 for a field label the kind does not support."""
    allowed = set(_COMMON_FIELDS) | set(_FIELDS.get(kind, ()))
    checks: list[tuple[str, str, bool]] = []
    for part in _split_top_level(text or ""):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = m.group(1), m.group(2), m.group(3)
        if events_v1:
            for alias, real in _EVENTS_V1_ALIASES.items():
                field = field.replace(alias, real, 1) if field.startswith(alias) else field
        if field not in allowed:
            raise bad_request(f"field label not supported: {m.group(1)}")
        checks.append((field, value, op == "!="))

    def matches(obj: Obj) -> bool:
        return all((field_value(obj, field) == value) != negate for field, value, negate in checks)

    return matches
