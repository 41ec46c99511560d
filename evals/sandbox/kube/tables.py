"""Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for: without it kubectl
shows only NAME and AGE. Columns follow the real server's for the kinds a responder looks at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evals.sandbox.kube.resources import ResourceType
from evals.sandbox.kube.store import Obj

TABLE_ACCEPT = "as=Table"


def _age(stamp: str | None) -> str:
    if not stamp:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _pod_cells(pod: Obj) -> list[Any]:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    reason = status.get("reason") or status.get("phase", "Unknown")
    for cs in statuses:
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        reason = waiting.get("reason") or terminated.get("reason") or reason
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    spec = pod.get("spec") or {}
    return [
        f"{ready}/{total}",
        reason,
        restarts,
        _age(pod["metadata"].get("creationTimestamp")),
        status.get("podIP", "<none>"),
        spec.get("nodeName", "<none>"),
    ]


def _node_cells(node: Obj) -> list[Any]:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), "Unknown")
    state = "Ready" if ready == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = node["metadata"].get("labels") or {}
    roles = (
        ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")))
        or "<none>"
    )
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [state, roles, _age(node["metadata"].get("creationTimestamp")), version]


def _workload_cells(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    age = _age(obj["metadata"].get("creationTimestamp"))
    ready, want = status.get("readyReplicas", 0), spec.get("replicas", 1)
    if obj["kind"] == "Deployment":
        return [f"{ready}/{want}", status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age]
    return [want, status.get("replicas", 0), ready, age]


def _event_cells(event: Obj) -> list[Any]:
    involved = event.get("involvedObject") or event.get("regarding") or {}
    seen = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
    return [
        _age(seen),
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        event.get("message") or event.get("note", ""),
    ]


_COLUMNS: dict[str, list[tuple[str, str, int]]] = {
    "Pod": [
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "integer", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
    ],
    "Node": [("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0), ("Version", "string", 0)],
    "Deployment": [
        ("Ready", "string", 0),
        ("Up-to-date", "integer", 0),
        ("Available", "integer", 0),
        ("Age", "string", 0),
    ],
    "ReplicaSet": [
        ("Desired", "integer", 0),
        ("Current", "integer", 0),
        ("Ready", "integer", 0),
        ("Age", "string", 0),
    ],
    "Event": [
        ("Last Seen", "string", 0),
        ("Type", "string", 0),
        ("Reason", "string", 0),
        ("Object", "string", 0),
        ("Message", "string", 0),
    ],
}
_CELLS = {
    "Pod": _pod_cells,
    "Node": _node_cells,
    "Deployment": _workload_cells,
    "ReplicaSet": _workload_cells,
    "Event": _event_cells,
}


def as_table(rt: ResourceType, items: list[Obj], listing: Obj | None) -> Obj:
    columns = [("Name", "string", 0), *_COLUMNS.get(rt.kind, [("Age", "string", 0)])]
    cells = _CELLS.get(rt.kind, lambda o: [_age(o["metadata"].get("creationTimestamp"))])
    rows = [
        {
            "cells": [obj["metadata"]["name"], *cells(obj)],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            },
        }
        for obj in items
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": (listing or {}).get("metadata", {}).get("resourceVersion", "")},
        "columnDefinitions": [
            {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": n, "priority": p}
            for n, t, p in columns
        ],
        "rows": rows,
    }
