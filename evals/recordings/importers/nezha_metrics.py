"""Nezha's metric tables as OpenMetrics samples.

Per pod (`<pod>_metric.csv`, one row a minute):
- server latency percentiles, workload and success rate → the percentile-gauge names (`gauges.py`)
  with `pod`; client latency percentiles → `client_request_latency_seconds`;
- CPU (millicores) → `container_cpu_usage_seconds_total`, the cAdvisor counter whose rate it is
  (integrated over the kept samples), memory → `container_memory_working_set_bytes`, so the shared
  saturation templates read them as on any cluster;
- the limits the data implies (usage ÷ usage-of-limit ratio, the median over the day) →
  `kube_pod_container_resource_limits`, with the pod's node when the logs name it;
- the node's CPU, memory and network → `node_*` gauges labelled `node` (one pod reports for each node);
- any other column → `pod_<column>`.
A success rate that is never above 0 in the whole table is not reported (Nezha's column is 0
throughout) and is left out: written as 0 it would read as every request failing.
The front file (`front_service.csv`) is the entry's view: its percentiles become the entry service's
`request_latency_seconds` without `pod`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from evals.recordings.importers import gauges
from evals.recordings.importers.nezha_layout import Table

_LATENCY = re.compile(r"^(?:Pod)?(Server|Client)?Latency ?P(\d+(?:\.\d+)?)\(s\)$")
_PERCENT_OF_LIMIT = {"CpuUsageRate(%)", "MemoryUsageRate(%)"}
_NODE = {
    "NodeCpuUsageRate(%)": ("node_cpu_usage_ratio", 0.01),
    "NodeMemoryUsageRate(%)": ("node_memory_usage_ratio", 0.01),
    "NodeNetworkReceiveBytes": ("node_network_receive_bytes_per_second", 1.0),
}
_POD = {
    "PodWorkload(Ops)": (gauges.REQUESTS, 1.0),
    "MemoryUsage(Mi)": ("container_memory_working_set_bytes", 2.0**20),
    "NetworkReceiveBytes": ("pod_network_receive_bytes_per_second", 1.0),
    "NetworkTransmitBytes": ("pod_network_transmit_bytes_per_second", 1.0),
}
_SUCCESS = {"PodSuccessRate(%)", "SuccessRate(%)"}


@dataclass(frozen=True)
class PodInfo:
    service: str
    container: str
    node: str | None
    reports_node: bool  # this pod's table writes its node's gauges


def success_reported(table: Table) -> bool:
    return any(bool(np.nanmax(table.columns[c], initial=0) > 0) for c in _SUCCESS if c in table.columns)


def limits(table: Table) -> dict[str, float]:
    """resource → limit implied by usage and usage-as-a-share-of-limit: cpu in cores, memory in bytes."""
    found = {}
    for resource, usage, share, scale in (
        ("cpu", "CpuUsage(m)", "CpuUsageRate(%)", 1e-3),
        ("memory", "MemoryUsage(Mi)", "MemoryUsageRate(%)", 2.0**20),
    ):
        if usage in table.columns and share in table.columns:
            used, pct = table.columns[usage], table.columns[share]
            ok = (used > 0) & (pct > 0)
            if ok.any():
                found[resource] = float(np.median(used[ok] * scale / (pct[ok] / 100)))
    return found


def add_pod(
    metrics: gauges.MetricsFile, table: Table, keep: npt.NDArray[np.bool_], pod: PodInfo, namespace: str
) -> None:
    at = table.times[keep]
    base = {"namespace": namespace, "service": pod.service, "pod": table.label}
    box = {**base, "container": pod.container}
    for column, values in table.columns.items():
        kept = values[keep]
        latency = _LATENCY.match(column)
        if latency:
            name = gauges.CLIENT_LATENCY if latency[1] == "Client" else gauges.LATENCY
            _series(metrics, name, {**base, "quantile": _quantile(latency[2])}, at, kept)
        elif column in _SUCCESS:
            if success_reported(table):
                _series(metrics, gauges.SUCCESS, base, at, kept * 0.01)
        elif column == "CpuUsage(m)":
            _cpu_counter(metrics, box, table.times, values, keep)
        elif column in _POD:
            name, scale = _POD[column]
            _series(metrics, name, box if name.startswith("container_") else base, at, kept * scale)
        elif column in _NODE:
            if pod.node is not None and pod.reports_node:
                name, scale = _NODE[column]
                _series(metrics, name, {"node": pod.node}, at, kept * scale)
        elif column not in _PERCENT_OF_LIMIT:
            _series(metrics, f"pod_{_snake(column)}", base, at, kept)
    node = {"node": pod.node} if pod.node else {}
    for resource, limit in limits(table).items():
        labels = {**box, **node, "resource": resource, "unit": "core" if resource == "cpu" else "byte"}
        _series(metrics, "kube_pod_container_resource_limits", labels, at, np.full(len(at), round(limit, 3)))


def add_front(
    metrics: gauges.MetricsFile, table: Table, keep: npt.NDArray[np.bool_], service: str, namespace: str
) -> None:
    at = table.times[keep]
    labels = {"namespace": namespace, "service": service}
    for column, values in table.columns.items():
        latency = _LATENCY.match(column)
        if latency and latency[1] != "Client":
            _series(metrics, gauges.LATENCY, {**labels, "quantile": _quantile(latency[2])}, at, values[keep])
        elif column in _SUCCESS and success_reported(table):
            _series(metrics, gauges.SUCCESS, labels, at, values[keep] * 0.01)


def front_p99(table: Table) -> npt.NDArray[np.float64] | None:
    column = next((c for c in table.columns if (m := _LATENCY.match(c)) and m[2] == "99"), None)
    return table.columns[column] if column else None


def front_success(table: Table) -> npt.NDArray[np.float64] | None:
    column = next((c for c in table.columns if c in _SUCCESS), None)
    return table.columns[column] * 0.01 if column and success_reported(table) else None


def _cpu_counter(
    metrics: gauges.MetricsFile,
    labels: dict[str, str],
    times: npt.NDArray[np.float64],
    millicores: npt.NDArray[np.float64],
    keep: npt.NDArray[np.bool_],
) -> None:
    """CPU seconds used so far, over the kept samples only: each adds its rate × the time since the
    previous kept sample, at most one step, so a left-out stretch adds nothing."""
    index = np.flatnonzero(keep)
    if index.size == 0:
        return
    step = float(np.median(np.diff(times))) if len(times) > 1 else 60.0
    gaps = np.minimum(np.diff(times[index], prepend=times[index[0]] - step), step)
    cores = np.nan_to_num(millicores[index] / 1000)
    total = np.cumsum(cores * gaps)
    present = ~np.isnan(millicores[index])
    _series(
        metrics, "container_cpu_usage_seconds_total", labels, times[index][present], total[present], "counter"
    )


def _series(
    metrics: gauges.MetricsFile,
    name: str,
    labels: dict[str, str],
    at: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    kind: str = "gauge",
) -> None:
    for t, v in zip(at.tolist(), values.tolist(), strict=True):
        metrics.add(name, labels, t, v, kind=kind)


def _quantile(percentile: str) -> str:
    return f"{float(percentile) / 100:g}"


def _snake(column: str) -> str:
    text = re.sub(r"\(%\)", "_percent", column)
    text = re.sub(r"\((\w+)\)", r"_\1", text)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
