"""Metric families under the standard exporter names of DESIGN §3.6: OpenTelemetry HTTP server and
client histograms, cAdvisor container metrics and kube-state-metrics.

Counter families are named without `_total` (OpenMetrics), their samples with it.
"""

from __future__ import annotations

import numpy as np

from evals.scenario import Scenario
from evals.world.faults import Effects
from evals.world.grid import BoolArray, Grid, cumsum_with_resets
from evals.world.histograms import Labels, histogram_series, labels
from evals.world.load import LoadState, PodState
from evals.world.model import FloatArray, MetricFamily, Series
from evals.world.pods import Pod, ServicePods

SERVER = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"
CFS_PERIODS_PER_S = 10.0  # the kernel's default 100 ms CFS period
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def build_families(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], state: LoadState, effects: Effects
) -> list[MetricFamily]:
    ns = scenario.topology.namespace
    index = np.arange(grid.n)
    server: list[Series] = []
    client: list[Series] = []
    cadvisor: dict[str, list[Series]] = {k: [] for k in ("cpu", "mem", "thr", "per")}
    ksm: dict[str, list[Series]] = {k: [] for k in ("restarts", "reason", "phase", "limits")}
    for service, plan in plans.items():
        spec = scenario.topology.services[service]
        sigma = state.services[service].sigma
        for pod in plan.pods:
            ps = state.pods[pod.name]
            exists = (index >= pod.start) & (index < pod.end)
            resets = _restart_mask(grid, pod)
            base = labels(namespace=ns, service=service, pod=pod.name)
            rng = grid.rng("http-server", pod.name)
            for code, share in (("200", 1.0 - np.nan_to_num(ps.err)), ("500", np.nan_to_num(ps.err))):
                parts = [(ps.rate * share, ps.lat_ms)]
                tagged = (*base, ("http_response_status_code", code))
                server += histogram_series(
                    SERVER, tuple(sorted(tagged)), parts, sigma, grid, rng, ps.running, resets
                )
            container = labels(namespace=ns, service=service, pod=pod.name, container=service)
            _cadvisor(cadvisor, grid, container, ps, spec.cpu_limit, spec.memory_limit_bytes, effects, resets)
            _kube_state(ksm, grid, container, pod, exists, spec.cpu_limit, spec.memory_limit_bytes)
    for (caller, callee), edge in state.edges.items():
        rng = grid.rng("http-client", caller, callee)
        present = np.ones(grid.n, dtype=bool)
        for code, parts in edge.parts.items():
            tagged = labels(
                namespace=ns, service=caller, server_address=callee, http_response_status_code=code
            )
            client += histogram_series(
                CLIENT, tagged, parts, state.services[callee].sigma, grid, rng, present, ~present
            )
    return [
        MetricFamily(SERVER, "histogram", "Duration of HTTP server requests.", server),
        MetricFamily(CLIENT, "histogram", "Duration of HTTP client requests.", client),
        MetricFamily(
            "container_cpu_usage_seconds",
            "counter",
            "Cumulative cpu time consumed in seconds.",
            cadvisor["cpu"],
        ),
        MetricFamily(
            "container_memory_working_set_bytes", "gauge", "Current working set in bytes.", cadvisor["mem"]
        ),
        MetricFamily(
            "container_cpu_cfs_throttled_periods",
            "counter",
            "Number of throttled period intervals.",
            cadvisor["thr"],
        ),
        MetricFamily(
            "container_cpu_cfs_periods",
            "counter",
            "Number of elapsed enforcement period intervals.",
            cadvisor["per"],
        ),
        MetricFamily(
            "kube_pod_container_status_restarts",
            "counter",
            "The number of container restarts per container.",
            ksm["restarts"],
        ),
        MetricFamily(
            "kube_pod_container_status_last_terminated_reason",
            "gauge",
            "Describes the last reason the container was in terminated state.",
            ksm["reason"],
        ),
        MetricFamily("kube_pod_status_phase", "gauge", "The pods current phase.", ksm["phase"]),
        MetricFamily(
            "kube_pod_container_resource_limits",
            "gauge",
            "The number of requested limit resource by a container.",
            ksm["limits"],
        ),
        *_deployments(scenario, grid, plans, state),
        _nodes(scenario, grid, effects),
    ]


def _restart_mask(grid: Grid, pod: Pod) -> BoolArray:
    mask = np.zeros(grid.n, dtype=bool)
    for at_ms, _ in pod.terminations:
        at = grid.index(at_ms)
        if at < grid.n:
            mask[at] = True
    return mask


def _restart_count(grid: Grid, pod: Pod) -> FloatArray:
    times = np.asarray([ms for ms, _ in pod.terminations], dtype=np.int64)
    return np.searchsorted(np.sort(times), grid.ts_ms, side="right").astype(np.float64)


def _cadvisor(
    out: dict[str, list[Series]],
    grid: Grid,
    base: Labels,
    ps: PodState,
    cpu_limit: float,
    memory_limit: int,
    effects: Effects,
    resets: BoolArray,
) -> None:
    alive = ~np.isnan(ps.cpu)
    if not alive.any():
        return

    def counter(values: FloatArray) -> FloatArray:
        total = cumsum_with_resets(np.nan_to_num(values), resets)
        total[~alive] = np.nan
        return total

    periods = np.where(alive, CFS_PERIODS_PER_S * grid.step_s, 0.0)
    out["cpu"].append(Series("container_cpu_usage_seconds_total", base, counter(ps.cpu * grid.step_s)))
    mem = np.where(alive, effects.pods[ps.pod.name].mem_frac * memory_limit, np.nan)
    out["mem"].append(Series("container_memory_working_set_bytes", base, np.round(mem).astype(np.float64)))
    out["thr"].append(
        Series("container_cpu_cfs_throttled_periods_total", base, counter(np.round(periods * ps.throttled)))
    )
    out["per"].append(Series("container_cpu_cfs_periods_total", base, counter(periods)))


def _kube_state(
    out: dict[str, list[Series]],
    grid: Grid,
    base: Labels,
    pod: Pod,
    exists: BoolArray,
    cpu: float,
    memory: int,
) -> None:
    def shown(values: FloatArray) -> FloatArray:
        return np.where(exists, values, np.nan)

    restarts = _restart_count(grid, pod)
    out["restarts"].append(Series("kube_pod_container_status_restarts_total", base, shown(restarts)))
    for reason in sorted({r for _, r in pod.terminations}):
        first = min(ms for ms, r in pod.terminations if r == reason)
        tagged = tuple(sorted((*base, ("reason", reason))))
        values = np.where(grid.ts_ms >= first, 1.0, np.nan)
        out["reason"].append(
            Series("kube_pod_container_status_last_terminated_reason", tagged, shown(values))
        )
    failed = np.zeros(grid.n, dtype=bool) if pod.evicted_at is None else np.arange(grid.n) >= pod.evicted_at
    pod_labels = tuple(p for p in base if p[0] != "container")
    for phase in PHASES:
        value = {"Running": ~failed, "Failed": failed}.get(phase, np.zeros(grid.n, dtype=bool))
        tagged = tuple(sorted((*pod_labels, ("phase", phase))))
        out["phase"].append(Series("kube_pod_status_phase", tagged, shown(value.astype(np.float64))))
    for resource, unit, amount in (("cpu", "core", cpu), ("memory", "byte", float(memory))):
        tagged = tuple(sorted((*base, ("node", pod.node), ("resource", resource), ("unit", unit))))
        out["limits"].append(
            Series("kube_pod_container_resource_limits", tagged, shown(np.full(grid.n, amount)))
        )


def _deployments(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], state: LoadState
) -> list[MetricFamily]:
    ns = scenario.topology.namespace
    spec_series, available = [], []
    for service in plans:
        base = labels(namespace=ns, deployment=service, service=service)
        replicas = float(scenario.topology.services[service].replicas)
        spec_series.append(Series("kube_deployment_spec_replicas", base, np.full(grid.n, replicas)))
        available.append(
            Series("kube_deployment_status_replicas_available", base, state.services[service].ready.copy())
        )
    return [
        MetricFamily(
            "kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment.", spec_series
        ),
        MetricFamily(
            "kube_deployment_status_replicas_available",
            "gauge",
            "The number of available replicas per deployment.",
            available,
        ),
    ]


def _nodes(scenario: Scenario, grid: Grid, effects: Effects) -> MetricFamily:
    series = []
    for node in scenario.topology.nodes:
        pressure = effects.node_conditions.get(node)
        for condition in NODE_CONDITIONS:
            healthy = condition == "Ready"
            true = np.full(grid.n, healthy)
            if pressure is not None and pressure[0] == condition:
                true = grid.ts_ms >= pressure[1]
            for status, value in (
                ("true", true),
                ("false", ~true),
                ("unknown", np.zeros(grid.n, dtype=bool)),
            ):
                tagged = labels(node=node, condition=condition, status=status)
                series.append(Series("kube_node_status_condition", tagged, value.astype(np.float64)))
    return MetricFamily("kube_node_status_condition", "gauge", "The condition of a cluster node.", series)
