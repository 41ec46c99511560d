"""Per-entity signal matrices for root-cause ranking, fetched from Prometheus around `as_of`.

Entities and what each is judged by:
- a service: its own request rate, 5xx ratio and p99 latency (configured templates), what its callers
  see when calling it (client-side errors and latency: the only view of an external, and the one
  that shows packet loss), and its pods' CPU against the limit, throttling, memory against the limit
  and restarts (the worst pod at each instant);
- a pod (`pod/<name>`): its own 5xx ratio, so one failing pod among healthy siblings stands out;
- a node (`node/<name>`): pressure conditions, NotReady, and failed (evicted) pods on it.

Every query is a named template of the investigation's metric profile (`tools/metrics/profiles.py`,
with the deployment's overrides): per service and signal, plus the namespace-wide call edges, per-pod
errors, node conditions and pod phases. A profile without a template (no client-side metrics, no
per-pod view) leaves those signals out; `FetchedSignals.skipped` names them so the tool can say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tools.anomaly.grid import Grid, nanmax_rows, nansum_rows
from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix
from tools.errors import UnknownEntity
from tools.metrics.client import MetricsBackend, RangeSeries
from tools.metrics.templates import render, workload_pod_regex

SERVICE_SIGNALS: dict[str, tuple[str, float, SignalKind]] = {  # signal -> (template, quantile, kind)
    "request_rate": ("request_rate", 0.0, "traffic"),
    "error_ratio": ("error_ratio", 0.0, "errors"),
    "latency_p99": ("latency_quantile", 0.99, "latency"),
}
CALLER_SIGNALS: dict[str, tuple[str, float, SignalKind]] = {  # worst caller's view of the service
    "callers_error_ratio": ("client_error_ratio", 0.0, "errors"),
    "callers_latency_p99": ("client_latency_quantile", 0.99, "latency"),
}
# Shares of a limit, judged as ratios: an idle pod's CPU going from 0.1 % to 5 % of its limit is a
# small change, not 50× its level. A cost per unit of work only counts when it rises.
RATIO_SIGNALS = frozenset({"cpu_vs_limit", "cpu_throttling", "memory_vs_limit"})
RISES_ONLY_SIGNALS = frozenset({"cpu_per_request"})
POD_RESOURCE_SIGNALS: dict[str, SignalKind] = {
    "cpu_vs_limit": "resource",
    "cpu_per_request": "resource",
    "cpu_throttling": "resource",
    "memory_vs_limit": "resource",
    "restarts": "resource",
}
# templates a profile may lack (what each gives): without them the ranking goes on, without those signals
OPTIONAL_TEMPLATES = {
    "call_edges": "the call graph from metrics",
    "client_error_ratio": "callers' errors",
    "client_latency_quantile": "callers' latency",
    "pod_error_ratio": "per-pod errors",
}
_PERCENTILE = re.compile(r"_p(\d{2,3})$")  # latency_p99 → 0.99, latency_p999 → 0.999
MIN_POD_ERROR_RATE = 0.05  # requests/s a pod must serve for its error ratio to be judged


@dataclass
class FetchedSignals:
    """The matrix, plus what the ranking and its explanation need to know about the entities."""

    matrix: SignalMatrix
    services: list[str]
    calls: dict[str, list[str]]  # caller -> callees (metrics), nodes added as dependencies of services
    pod_service: dict[str, str]
    pod_node: dict[str, str]
    queries: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # templates the profile does not have


def metric_key(entity: str, signal: str, kind: SignalKind | None) -> SeriesKey:
    """A metric row's key: shares of a limit are judged as ratios, a cost per request only when it
    rises, a latency percentile knowing which one it is (over few requests it is the slowest one)."""
    named = _PERCENTILE.search(signal)
    return SeriesKey(
        entity,
        signal,
        kind,
        noise="ratio" if signal in RATIO_SIGNALS else None,
        rises_only=(signal in RISES_ONLY_SIGNALS) or None,
        quantile=int(named[1]) / 10 ** len(named[1]) if named and kind == "latency" else None,
    )


def owner_of(pod: str, workloads: Iterable[str]) -> str | None:
    """The workload whose pod-name pattern matches `pod` (longest name first: `carts-db` before `carts`)."""
    for name in sorted(workloads, key=len, reverse=True):
        if re.fullmatch(workload_pod_regex(name), pod):
            return name
    return None


def fetch_signals(
    backend: MetricsBackend,
    templates: Mapping[str, str],
    namespace: str,
    start: datetime,
    end: datetime,
    step_s: float,
    services: list[str] | None = None,
    window: str = "2m",
) -> FetchedSignals:
    """Every entity's signals over [start, end]. `services` limits the services (their pods and
    nodes still count); None means every service of the namespace."""
    grid = Grid(start, end, step_s)
    queries: dict[str, str] = {}
    skipped = [name for name in OPTIONAL_TEMPLATES if name not in templates]

    def run(name: str, promql: str) -> list[RangeSeries]:
        queries[name] = promql
        return backend.range(promql, start, end, step_s)

    def extra(name: str) -> str:
        return render(templates[name], namespace=namespace, window=window)

    edges = [s.labels for s in backend.instant(extra("call_edges"), end)] if "call_edges" in templates else []
    served = {
        s.labels["service"]
        for s in backend.instant(render(templates["service_names"], namespace=namespace), end)
        if "service" in s.labels and s.labels.get("namespace", namespace) == namespace
    }
    calls: dict[str, list[str]] = {}
    for e in edges:
        if "service" in e and "server_address" in e:
            calls.setdefault(e["service"], []).append(e["server_address"])
    known = sorted(served | {c for callees in calls.values() for c in callees})
    if not known:
        raise UnknownEntity(f"no service in namespace {namespace!r} reported request metrics before as_of")
    chosen = known if not services else [s for s in known if s in services]
    if services and not chosen:
        raise UnknownEntity(f"none of {', '.join(services)} reported metrics in {namespace!r}", known[:5])

    series: dict[tuple[str, str], np.ndarray] = {}
    kinds: dict[str, SignalKind] = {}

    def service_queries(service: str) -> list[tuple[str, str, SignalKind, str]]:
        out = []
        table = {**SERVICE_SIGNALS, **CALLER_SIGNALS} if service in served else CALLER_SIGNALS
        for signal, (name, quantile, kind) in table.items():
            if name not in templates:
                continue
            promql = render(
                templates[name], namespace=namespace, service=service, window=window, quantile=quantile
            )
            out.append((service, signal, kind, promql))
        return out

    jobs = [job for service in chosen for job in service_queries(service)]

    def fetch(job: tuple[str, str, SignalKind, str]) -> tuple[str, str, SignalKind, list[RangeSeries]]:
        service, signal, kind, promql = job
        return service, signal, kind, backend.range(promql, start, end, step_s)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(fetch, jobs))
    for (service, signal, _, promql), (_, _, kind, rows) in zip(jobs, results, strict=True):
        queries[f"{service}.{signal}"] = promql
        kinds[signal] = kind
        if rows:
            series[(service, signal)] = nanmax_rows((grid.place(r) for r in rows), grid.times.size)

    workloads = [
        s.labels["deployment"]
        for s in backend.instant(render(templates["workload_names"], namespace=namespace), end)
        if "deployment" in s.labels
    ]
    pod_service: dict[str, str] = {}
    _pod_resources(run, templates, namespace, window, grid, workloads, chosen, pod_service, series, kinds)
    pod_node = {
        s.labels["pod"]: s.labels["node"]
        for s in backend.instant(extra("pod_node"), end)
        if "pod" in s.labels and "node" in s.labels
    }
    if "pod_error_ratio" in templates:
        _pod_errors(run, extra, grid, chosen, pod_service, series, kinds)
    _nodes(run, extra, grid, pod_node, pod_service, series, kinds)
    for pod, node in pod_node.items():  # a node is a dependency of the services running on it
        owner = pod_service.get(pod)
        if owner is not None and f"node/{node}" not in calls.setdefault(owner, []):
            calls[owner].append(f"node/{node}")

    keys = [metric_key(e, s, kinds[s]) for e, s in series]
    values = np.vstack(list(series.values())) if series else np.empty((0, grid.times.size))
    return FetchedSignals(
        matrix=SignalMatrix(times=grid.times, keys=keys, values=values),
        services=chosen,
        calls=calls,
        pod_service=pod_service,
        pod_node=pod_node,
        queries=queries,
        skipped=skipped,
    )


Runner = Callable[[str, str], list[RangeSeries]]


def _pod_resources(
    run: Runner,
    templates: Mapping[str, str],
    namespace: str,
    window: str,
    grid: Grid,
    workloads: list[str],
    services: list[str],
    pod_service: dict[str, str],
    series: dict[tuple[str, str], np.ndarray],
    kinds: dict[str, SignalKind],
) -> None:
    """CPU/memory against limits, throttling and restarts per pod, worst pod per service."""

    def per_pod(name: str, lookback: str = "1h") -> dict[str, np.ndarray]:
        promql = render(
            templates[name], namespace=namespace, pod_regex=".+", window=window, lookback=lookback
        )
        return {r.labels["pod"]: grid.place(r) for r in run(f"pods.{name}", promql) if "pod" in r.labels}

    cpu, cpu_limit = per_pod("cpu_usage_cores"), per_pod("cpu_limit_cores")
    mem, mem_limit = per_pod("memory_working_set_bytes"), per_pod("memory_limit_bytes")
    throttling, restarts = per_pod("cpu_throttling_ratio"), per_pod("restarts", lookback=window)
    pods = set(cpu) | set(mem) | set(restarts)
    for pod in pods:
        owner = owner_of(pod, workloads) or owner_of(pod, services)
        if owner is not None:
            pod_service[pod] = owner
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = {
            "cpu_vs_limit": {p: cpu[p] / cpu_limit[p] for p in cpu if p in cpu_limit},
            "cpu_throttling": throttling,
            "memory_vs_limit": {p: mem[p] / mem_limit[p] for p in mem if p in mem_limit},
            "restarts": restarts,
        }
    for service in services:
        mine = [p for p, owner in pod_service.items() if owner == service]
        rate = series.get((service, "request_rate"))
        if rate is not None and any(p in cpu for p in mine):
            used = nansum_rows((cpu[p] for p in mine if p in cpu), grid.times.size)
            series[(service, "cpu_per_request")] = cpu_per_request(used, rate)
            kinds["cpu_per_request"] = "resource"
        for signal, by_pod in derived.items():
            rows = [by_pod[p] for p in mine if p in by_pod]
            if rows:
                combine = nansum_rows if signal == "restarts" else nanmax_rows
                series[(service, signal)] = combine(rows, grid.times.size)
                kinds[signal] = POD_RESOURCE_SIGNALS[signal]


def cpu_per_request(cpu: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """CPU per request (CPU that follows traffic is load, not a fault), the rate never taken below its
    median over the window: when traffic stops (a caller is down) CPU falls to its idle level slower
    than the rate and the plain ratio would soar like a CPU hog. A hog while traffic falls still shows
    against the usual rate. Rank it `rises_only` (it falls when CPU idles). NaN: no CPU or no rate."""
    with np.errstate(invalid="ignore", divide="ignore"):
        usual = float(np.nanmedian(rate)) if np.isfinite(rate).any() else np.nan
        per_request = cpu / np.fmax(rate, usual)
    return np.where(np.isfinite(per_request), per_request, np.nan)


def _pod_errors(
    run: Runner,
    extra: Callable[[str], str],
    grid: Grid,
    services: list[str],
    pod_service: dict[str, str],
    series: dict[tuple[str, str], np.ndarray],
    kinds: dict[str, SignalKind],
) -> None:
    """Per-pod 5xx ratio of services with several pods (one pod failing among healthy siblings)."""
    rows = [
        r for r in run("pods.error_ratio", extra("pod_error_ratio")) if r.labels.get("service") in services
    ]
    by_service: dict[str, list[RangeSeries]] = {}
    for r in rows:
        by_service.setdefault(r.labels["service"], []).append(r)
    for service, pods in by_service.items():
        if len(pods) < 2:
            continue
        for r in pods:
            pod = r.labels.get("pod")
            if pod:
                pod_service.setdefault(pod, service)
                series[(f"pod/{pod}", "pod_error_ratio")] = grid.place(r)
                kinds["pod_error_ratio"] = "errors"


def _nodes(
    run: Runner,
    extra: Callable[[str], str],
    grid: Grid,
    pod_node: dict[str, str],
    pod_service: dict[str, str],
    series: dict[tuple[str, str], np.ndarray],
    kinds: dict[str, SignalKind],
) -> None:
    """Node conditions and failed pods per node, for nodes that host pods of the namespace."""
    nodes = set(pod_node.values())
    for signal, name in (("pressure", "node_pressure"), ("not_ready", "node_not_ready")):
        for r in run(f"nodes.{signal}", extra(name)):
            node = r.labels.get("node")
            if node in nodes:
                series[(f"node/{node}", signal)] = np.nan_to_num(grid.place(r))
                kinds[signal] = "resource"
    failed: dict[str, list[np.ndarray]] = {}
    for r in run("pods.failed", extra("pod_failed")):
        node = pod_node.get(r.labels.get("pod", ""))
        if node is not None:
            failed.setdefault(node, []).append(np.nan_to_num(grid.place(r)))
    for node in sorted(nodes):
        rows = failed.get(node, [])
        series[(f"node/{node}", "failed_pods")] = (
            np.sum(np.vstack(rows), axis=0) if rows else np.zeros(grid.times.size)
        )
        kinds["failed_pods"] = "resource"
