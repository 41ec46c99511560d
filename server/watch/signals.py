"""The watch loop's reads: one PromQL query per signal for every service of the watched namespaces.

Golden signals come from the OpenTelemetry HTTP server metrics (the default metric profile, what
`tools.metrics.templates.OTEL_TEMPLATES` reads per service), aggregated `by (namespace, service)`
instead of filtered to one service. What callers see comes from the client metrics, by the callee
(`server_address`): a dependency without metrics of its own (an external API) or a network between
shows there and nowhere else. Saturation comes from cAdvisor and kube-state-metrics per pod
(`by (namespace, pod)`, as the saturation tool reads it) and is folded into the pod's workload
here: its busiest pod, since one pod at its limit is the one that gets OOM-killed or throttled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tools.metrics.client import InstantSeries, MetricsBackend

_SERVER = "http_server_request_duration_seconds"
_CLIENT = "http_client_request_duration_seconds"
_CONTAINER = 'container!="",container!="POD"'
_ERR = 'http_response_status_code=~"5.."'
# A Deployment's pod is `<name>-<replicaset hash>-<suffix>`, a StatefulSet's `<name>-<ordinal>`.
_POD = re.compile(r"^(?P<workload>.+?)-(?:[a-z0-9]+-[a-z0-9]{5}|[0-9]+)$")

GOLDEN = ("request_rate", "error_ratio", "latency_p99_s")
CALLERS = ("callers_error_ratio", "callers_latency_p99_s")  # by the callee: `server_address`
SATURATION = ("cpu_vs_limit", "memory_vs_limit")
SIGNALS = GOLDEN + CALLERS + SATURATION
LABEL_OF = {"callers_error_ratio": "server_address", "callers_latency_p99_s": "server_address"}


def _templates(ns: str, window: str) -> dict[str, str]:
    sel = f'namespace=~"{ns}"'
    total = f"sum by (namespace, service) (rate({_SERVER}_count{{{sel}}}[{window}]))"
    errors = f"sum by (namespace, service) (rate({_SERVER}_count{{{sel},{_ERR}}}[{window}]))"
    per_pod = "sum by (namespace, pod)"
    calls = f"sum by (namespace, server_address) (rate({_CLIENT}_count{{{sel}}}[{window}]))"
    failed = f"sum by (namespace, server_address) (rate({_CLIENT}_count{{{sel},{_ERR}}}[{window}]))"
    return {
        "request_rate": total,
        "error_ratio": f"({errors} or (0 * {total})) / {total}",
        "latency_p99_s": (
            f"histogram_quantile(0.99, sum by (namespace, service, le) (rate({_SERVER}_bucket{{{sel}}}[{window}])))"
        ),
        "callers_error_ratio": f"({failed} or (0 * {calls})) / {calls}",
        "callers_latency_p99_s": (
            f"histogram_quantile(0.99, sum by (namespace, server_address, le)"
            f" (rate({_CLIENT}_bucket{{{sel}}}[{window}])))"
        ),
        "cpu_vs_limit": (
            f"{per_pod} (rate(container_cpu_usage_seconds_total{{{sel},{_CONTAINER}}}[{window}]))"
            f' / {per_pod} (kube_pod_container_resource_limits{{{sel},resource="cpu"}})'
        ),
        "memory_vs_limit": (
            f"{per_pod} (container_memory_working_set_bytes{{{sel},{_CONTAINER}}})"
            f' / {per_pod} (kube_pod_container_resource_limits{{{sel},resource="memory"}})'
        ),
    }


def queries(namespaces: Iterable[str], window: str) -> dict[str, str]:
    """signal -> PromQL; no namespace means every namespace."""
    names = sorted(namespaces)
    # names are Kubernetes names (WatchConfig checks): only '.' needs escaping, as `\\.` in a PromQL string
    ns = "|".join(n.replace(".", "\\\\.") for n in names) if names else ".*"
    return _templates(ns, window)


def workload_of(pod: str) -> str:
    match = _POD.match(pod)
    return match.group("workload") if match else pod


@dataclass(frozen=True)
class Reading:
    """One step's values: series key -> value, and the pods seen per service (for a scale proposal)."""

    values: dict[str, float]
    pods: dict[str, int]


def service_key(namespace: str, service: str) -> str:
    return f"{namespace}/{service}"


def series_key(service: str, signal: str) -> str:
    return f"{service}:{signal}"


def split_series(key: str) -> tuple[str, str]:
    service, _, signal = key.rpartition(":")
    return service, signal


def _fold(signal: str, rows: list[InstantSeries], values: dict[str, float], pods: dict[str, int]) -> None:
    for row in rows:
        if not math.isfinite(row.value):
            continue
        ns = row.labels.get("namespace", "")
        if signal in SATURATION:
            name = workload_of(row.labels.get("pod", ""))
            key = service_key(ns, name)
            if signal == "cpu_vs_limit":
                pods[key] = pods.get(key, 0) + 1
        else:
            key = service_key(ns, row.labels.get(LABEL_OF.get(signal, "service"), ""))
        if key.endswith("/"):
            continue
        skey = series_key(key, signal)
        values[skey] = max(values.get(skey, -math.inf), row.value)


def read(backend: MetricsBackend, promql: dict[str, str], at: datetime) -> Reading:
    """Every signal of every service at `at` (one query per signal)."""
    values: dict[str, float] = {}
    pods: dict[str, int] = {}
    for signal, text in promql.items():
        _fold(signal, backend.instant(text, at), values, pods)
    return Reading(values=values, pods=pods)
