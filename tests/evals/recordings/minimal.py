"""A minimal recording written by hand into a folder: what a team's own past incident looks like.

Three services of namespace `shop` (web calls cart and pay), two hours of OpenTelemetry HTTP server
histograms at 30 s ending at as_of, two pods each. Twenty minutes before as_of a new revision of
`cart` rolls out and 30 % of its requests fail from then on. Kubernetes objects in the shapes the API
returns (a `DeploymentList` whose items carry no kind, a `List`, a plain array), one pod log, a few
spans. A little of everything is stamped after as_of, and must never be seen by a replay:
`AFTER_ONLY` (a metric with samples only after as_of), a late log line, a late span, a late event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

AS_OF = datetime(2026, 3, 2, 13, 40, tzinfo=UTC)  # the 2h history spans two TSDB blocks (12:00)
ONSET = AS_OF - timedelta(minutes=20)
NAMESPACE = "shop"
CAUSE = "cart"
STEP_S = 30
AFTER_ONLY = "recorded_after_as_of"
LATE_LOG = "this line was written after as_of"
LATE_SPAN = "00000000000000ff"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PODS = {  # service -> (old ReplicaSet hash or None, current hash, pod suffixes)
    "web": (None, "5d8f9c7b6", ("a1b2c", "d3e4f")),
    "cart": ("6c7d8e9f5", "7f9b8c6d4", ("b2k4p", "m8n9q")),
    "pay": (None, "84c6d9f7b", ("q1w2e", "r3t4y")),
}
BUCKETS = ("0.05", "0.1", "0.25", "+Inf")


def stamp(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def pod_names(service: str) -> list[str]:
    _, current, suffixes = PODS[service]
    return [f"{service}-{current}-{s}" for s in suffixes]


def manifest(id: str = "shop-cart-bad-deploy", *, expect: bool = True) -> dict[str, object]:
    data: dict[str, object] = {
        "id": id,
        "title": "shop errors after a cart rollout",
        "as_of": stamp(AS_OF),
        "namespace": NAMESPACE,
        "services": {"web": {"calls": ["cart", "pay"]}, "cart": {}, "pay": {}},
        # No service label: the agent has to find which service is failing.
        "alert": {
            "labels": {"alertname": "ShopHighErrorRate", "severity": "page", "namespace": NAMESPACE},
            "annotations": {"summary": "5xx ratio above 5% in shop"},
            "starts_at": stamp(AS_OF - timedelta(minutes=5)),
        },
        "provenance": {"source": "written by hand for a test"},
    }
    if expect:
        data["expect"] = {
            "root_cause": {"service": CAUSE, "kind": "bad_deploy"},
            "remediation": [{"action": "rollback", "target": f"{NAMESPACE}/deployment/{CAUSE}"}],
        }
    return data


def write_recording(folder: Path, *, id: str = "shop-cart-bad-deploy", expect: bool = True) -> Path:
    """Write the whole recording into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest(id, expect=expect), sort_keys=False))
    for part in ("metrics", "kube", "logs", "spans"):
        (folder / part).mkdir(exist_ok=True)
    (folder / "metrics" / "http.om").write_text(openmetrics())
    _write_kube(folder / "kube")
    (folder / "logs" / f"{pod_names(CAUSE)[0]}.log").write_text(
        "".join(f"{stamp(at)} {text}\n" for at, text in log_lines())
    )
    (folder / "spans" / "traces.jsonl").write_text(spans_line() + "\n")
    return folder


def openmetrics() -> str:
    """Cumulative histograms per pod and status code, ending two steps after as_of."""
    first = AS_OF - timedelta(hours=2)
    times = [first + timedelta(seconds=STEP_S * i) for i in range(2 * 3600 // STEP_S + 3)]
    lines = ["# TYPE http_server_request_duration_seconds histogram"]
    for service in PODS:
        for pod in pod_names(service):
            ok = err = 0.0
            series: dict[str, list[str]] = {}
            for at in times:
                failing = service == CAUSE and at > ONSET
                ok += 20 * STEP_S * (0.7 if failing else 1.0)
                err += 20 * STEP_S * 0.3 if failing else 0.0
                ts = int(at.timestamp())
                for code, count in (("200", ok), ("500", err)):
                    if code == "500" and count == 0:
                        continue  # the series appears with the first error, as an exporter's does
                    base = f'namespace="{NAMESPACE}",service="{service}",pod="{pod}",http_response_status_code="{code}"'
                    slow = 0.6 if failing else 0.95
                    for le, share in zip(BUCKETS, (slow, 0.98, 0.995, 1.0), strict=True):
                        key = f'http_server_request_duration_seconds_bucket{{{base},le="{le}"}}'
                        series.setdefault(key, []).append(f"{key} {round(count * share)} {ts}")
                    for suffix, value in (("sum", count * 0.031), ("count", count)):
                        key = f"http_server_request_duration_seconds_{suffix}{{{base}}}"
                        series.setdefault(key, []).append(f"{key} {value:.3f} {ts}")
            for samples in series.values():
                lines += samples
    late = [AS_OF + timedelta(seconds=STEP_S), AS_OF + timedelta(seconds=2 * STEP_S)]
    lines += [f'{AFTER_ONLY}{{namespace="{NAMESPACE}"}} 1 {int(at.timestamp())}' for at in late]
    return "\n".join(lines) + "\n# EOF\n"


def log_lines() -> list[tuple[datetime, str]]:
    return [
        (ONSET - timedelta(minutes=5), "INFO serving on :8080"),
        (ONSET + timedelta(minutes=1), "ERROR checkout failed: upstream returned invalid cart payload"),
        (ONSET + timedelta(minutes=2), "ERROR checkout failed: upstream returned invalid cart payload"),
        (AS_OF + timedelta(minutes=1), f"ERROR {LATE_LOG}"),
    ]


def spans_line() -> str:
    """One OTLP request: a web span and its cart child, and a span that ended after as_of."""

    def span(span_id: str, parent: str, start: datetime, seconds: float, error: bool) -> dict[str, object]:
        start_ns = int(start.timestamp()) * 10**9
        return {
            "traceId": TRACE_ID,
            "spanId": span_id,
            **({"parentSpanId": parent} if parent else {}),
            "name": "GET /cart",
            "kind": 2,
            "startTimeUnixNano": str(start_ns),
            "endTimeUnixNano": str(start_ns + int(seconds * 1e9)),
            "status": {"code": 2} if error else {},
        }

    def resource(service: str, spans: list[dict[str, object]]) -> dict[str, object]:
        attributes = [{"key": "service.name", "value": {"stringValue": service}}]
        return {"resource": {"attributes": attributes}, "scopeSpans": [{"scope": {}, "spans": spans}]}

    at = AS_OF - timedelta(minutes=3)
    late = AS_OF - timedelta(seconds=1)  # starts before as_of but ends after it
    return json.dumps(
        {
            "resourceSpans": [
                resource("web", [span("00000000000000a1", "", at, 0.2, True)]),
                resource(
                    "cart",
                    [
                        span("00000000000000b2", "00000000000000a1", at, 0.15, True),
                        span(LATE_SPAN, "", late, 5, False),
                    ],
                ),
            ]
        }
    )


def _meta(name: str, created: datetime, **extra: object) -> dict[str, object]:
    return {"name": name, "namespace": NAMESPACE, "creationTimestamp": stamp(created), **extra}


def _template(service: str, tag: str) -> dict[str, object]:
    container = {"name": service, "image": f"registry.example/{service}:{tag}"}
    return {"metadata": {"labels": {"app": service}}, "spec": {"containers": [container]}}


def _write_kube(folder: Path) -> None:
    long_ago = AS_OF - timedelta(days=20)
    deployments, replicasets, pods = [], [], []
    for service, (old, current, _) in PODS.items():
        revision = 2 if old else 1
        deployments.append(  # items of a DeploymentList carry no kind or apiVersion, as the API sends them
            {
                "metadata": _meta(
                    service, long_ago, annotations={"deployment.kubernetes.io/revision": str(revision)}
                ),
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": service}},
                    "template": _template(service, f"1.{revision}"),
                },
                "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2},
            }
        )
        owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": service, "controller": True}
        for number, rs_hash in ((1, old), (revision, current)):
            if rs_hash is None:
                continue
            replicas = 2 if rs_hash == current else 0
            created = ONSET if number == 2 else long_ago
            template = _template(service, f"1.{number}")
            template["metadata"] = {"labels": {"app": service, "pod-template-hash": rs_hash}}
            replicasets.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": _meta(
                        f"{service}-{rs_hash}",
                        created,
                        labels={"app": service, "pod-template-hash": rs_hash},
                        annotations={"deployment.kubernetes.io/revision": str(number)},
                        ownerReferences=[owner],
                    ),
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": service, "pod-template-hash": rs_hash}},
                        "template": template,
                    },
                    "status": {
                        "replicas": replicas,
                        "readyReplicas": replicas,
                        "availableReplicas": replicas,
                    },
                }
            )
        started = ONSET if old else long_ago
        rs_owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": f"{service}-{current}",
            "controller": True,
        }
        for pod in pod_names(service):
            pods.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": _meta(
                        pod,
                        started,
                        labels={"app": service, "pod-template-hash": current},
                        ownerReferences=[rs_owner],
                    ),
                    "spec": {
                        "containers": _template(service, f"1.{revision}")["spec"]["containers"],
                        "nodeName": "node-a",
                    },  # type: ignore[index]
                    "status": {
                        "phase": "Running",
                        "startTime": stamp(started),
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [
                            {
                                "name": service,
                                "ready": True,
                                "restartCount": 0,
                                "state": {"running": {"startedAt": stamp(started)}},
                            }
                        ],
                    },
                }
            )
    events = [
        _event(
            "cart-rollout",
            ONSET,
            "ScalingReplicaSet",
            f"Scaled up replica set cart-{PODS['cart'][1]} to 2",
            "Deployment",
            "cart",
        ),
        _event(
            "cart-late",
            AS_OF + timedelta(minutes=2),
            "Killing",
            "Stopping container cart",
            "Pod",
            pod_names(CAUSE)[0],
        ),
    ]
    (folder / "deployments.json").write_text(
        json.dumps({"apiVersion": "apps/v1", "kind": "DeploymentList", "items": deployments})
    )
    (folder / "replicasets.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": replicasets})
    )
    (folder / "pods.json").write_text(json.dumps(pods))
    (folder / "events.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "EventList", "items": events})
    )


def _event(name: str, at: datetime, reason: str, message: str, kind: str, obj: str) -> dict[str, object]:
    return {
        "metadata": _meta(name, at),
        "involvedObject": {"kind": kind, "name": obj, "namespace": NAMESPACE},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "count": 1,
        "firstTimestamp": stamp(at),
        "lastTimestamp": stamp(at),
    }
