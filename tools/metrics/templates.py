"""The PromQL that the metric tools run: named templates, and the OpenTelemetry ones (DESIGN §3.6 names).

Request metrics differ from one convention to the next, so their templates come in metric profiles
(`tools/metrics/profiles.py`); the OpenTelemetry set below is the default profile. Saturation,
kube-state-metrics and alert templates are the same in every profile (`SHARED_TEMPLATES`). A deployment
whose exporters spell things differently still overrides a template by name (`ToolsConfig.promql`).
Templates use `string.Template` placeholders, because PromQL's own braces would fight `str.format`
(a literal `$`, as in label_replace's `$1`, is written `$$`):

    $namespace  a regex matching the namespace(s) (`.*` when the caller gave none)
    $service    an exact service name
    $pod_regex  a regex matching a workload's pods
    $window     the rate window, e.g. 5m
    $lookback   how far back counts of events (restarts) reach, e.g. 1h
    $quantile   e.g. 0.99
    $node       an exact node name

Values are validated names (see `NAME_PATTERN`) and are escaped again when substituted.
"""

from __future__ import annotations

import re
from string import Template

PLACEHOLDERS = frozenset({"namespace", "service", "pod_regex", "window", "lookback", "quantile", "node"})
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$"
DURATION_PATTERN = r"^[0-9]+(ms|s|m|h|d|w)$"

# What each profile's templates must return (the tools read these labels and units). A profile leaves
# out what its convention cannot say; the tools then report the signal as "not available in profile X".
PROFILE_TEMPLATE_CONTRACT: dict[str, str] = {
    "service_names": "series labelled `service` (and `namespace` where known) that reported within $lookback",
    "request_rate": "one series: requests per second served by $service",
    "error_ratio": "one series: share of $service's requests that failed (5xx), 0 to 1",
    "latency_quantile": "one series: the $quantile latency of $service, in seconds",
    "client_request_rate": "per caller (label `service`): requests per second it sends to $service",
    "client_error_ratio": "per caller (label `service`): share of its calls to $service that failed",
    "client_latency_quantile": "per caller (label `service`): $quantile latency of its calls to $service, s",
    "call_edges": "one series per call edge: `service` (the caller) and `server_address` (the callee)",
    "pod_error_ratio": "per pod of the namespace (labels `service`, `pod`): its 5xx share",
    "error_ratio_by_pod": "per pod of $service (label `pod`): its 5xx share",
    "node_pod_latency_quantile": "per pod on $node (label `pod`): its $quantile latency, in seconds",
}

_SERVER = "http_server_request_duration_seconds"
_CLIENT = "http_client_request_duration_seconds"
_SEL = 'namespace=~"$namespace",service="$service"'
_NS = 'namespace=~"$namespace"'
_ERR = 'http_response_status_code=~"5.."'
_POD = 'namespace=~"$namespace",pod=~"$pod_regex"'
_CONTAINER = _POD + ',container!="",container!="POD"'
ON_NODE = 'on (namespace, pod) kube_pod_container_resource_limits{node="$node"}'

# OpenTelemetry HTTP semantic conventions: the default profile (and what the simulator emits)
OTEL_TEMPLATES: dict[str, str] = {
    # which services exist (for discovery and "did you mean")
    "service_names": f"count by (namespace, service) (last_over_time({_SERVER}_count{{{_NS}}}[$lookback]))",
    # golden signals, server side (what the service itself reports)
    "request_rate": f"sum(rate({_SERVER}_count{{{_SEL}}}[$window]))",
    "error_ratio": (
        f"(sum(rate({_SERVER}_count{{{_SEL},{_ERR}}}[$window])) or vector(0))"
        f" / sum(rate({_SERVER}_count{{{_SEL}}}[$window]))"
    ),
    "latency_quantile": (
        f"histogram_quantile($quantile, sum by (le) (rate({_SERVER}_bucket{{{_SEL}}}[$window])))"
    ),
    # golden signals, client side: what the callers see when they call $service (OTel client metrics,
    # `service` = the caller, `server_address` = the callee)
    "client_request_rate": (
        f'sum by (service) (rate({_CLIENT}_count{{namespace=~"$namespace",server_address="$service"}}[$window]))'
    ),
    "client_error_ratio": (
        f'(sum by (service) (rate({_CLIENT}_count{{namespace=~"$namespace",server_address="$service",{_ERR}}}'
        f"[$window])) or (0 * sum by (service) (rate({_CLIENT}_count"
        f'{{namespace=~"$namespace",server_address="$service"}}[$window]))))'
        f' / sum by (service) (rate({_CLIENT}_count{{namespace=~"$namespace",server_address="$service"}}[$window]))'
    ),
    "client_latency_quantile": (
        f"histogram_quantile($quantile, sum by (service, le) (rate({_CLIENT}_bucket"
        f'{{namespace=~"$namespace",server_address="$service"}}[$window])))'
    ),
    "call_edges": f"count by (service, server_address) ({_CLIENT}_count{{{_NS}}})",
    # per pod: one failing pod among healthy siblings (the ranking, the report's chart, node faults)
    "pod_error_ratio": (
        f"(sum by (service, pod) (rate({_SERVER}_count{{{_NS},{_ERR}}}[$window]))"
        f" or (0 * sum by (service, pod) (rate({_SERVER}_count{{{_NS}}}[$window]))))"
        f" / sum by (service, pod) (rate({_SERVER}_count{{{_NS}}}[$window]))"
    ),
    "error_ratio_by_pod": (
        f"(sum by (pod) (rate({_SERVER}_count{{{_SEL},{_ERR}}}[$window]))"
        f" or (0 * sum by (pod) (rate({_SERVER}_count{{{_SEL}}}[$window]))))"
        f" / sum by (pod) (rate({_SERVER}_count{{{_SEL}}}[$window]))"
    ),
    "node_pod_latency_quantile": (
        f"histogram_quantile($quantile, sum by (pod, le) (rate({_SERVER}_bucket{{{_NS}}}[$window])"
        f" and {ON_NODE}))"
    ),
}

# cAdvisor, kube-state-metrics and Prometheus's own ALERTS: the same whatever the request metrics are
SHARED_TEMPLATES: dict[str, str] = {
    # saturation per pod of a workload
    "cpu_usage_cores": f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{_CONTAINER}}}[$window]))",
    "cpu_limit_cores": f'sum by (pod) (kube_pod_container_resource_limits{{{_POD},resource="cpu"}})',
    "cpu_throttling_ratio": (
        f"sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{{{_CONTAINER}}}[$window]))"
        f" / sum by (pod) (rate(container_cpu_cfs_periods_total{{{_CONTAINER}}}[$window]))"
    ),
    "memory_working_set_bytes": f"sum by (pod) (container_memory_working_set_bytes{{{_CONTAINER}}})",
    "memory_limit_bytes": f'sum by (pod) (kube_pod_container_resource_limits{{{_POD},resource="memory"}})',
    "restarts": f"sum by (pod) (increase(kube_pod_container_status_restarts_total{{{_POD}}}[$lookback]))",
    "oom_killed": (
        f'max by (pod) (kube_pod_container_status_last_terminated_reason{{{_POD},reason="OOMKilled"}})'
    ),
    "workload_names": "count by (namespace, deployment) (kube_deployment_spec_replicas)",
    # alerts as Prometheus recorded them (works for past instants, unlike /api/v1/alerts)
    "firing_alerts": 'ALERTS{alertstate="firing"}',
    # the report's chart (agent/chart_panels.py): per-pod and per-node views over time
    "restart_count": f"sum by (pod) (kube_pod_container_status_restarts_total{{{_POD}}})",
    "replicas_desired": 'sum(kube_deployment_spec_replicas{namespace=~"$namespace",deployment="$service"})',
    "replicas_available": (
        'sum(kube_deployment_status_replicas_available{namespace=~"$namespace",deployment="$service"})'
    ),
    "node_conditions": 'max by (condition) (kube_node_status_condition{node="$node",status="true"})',
    # a node's pods (of the namespace): kube-state-metrics puts the node on each container's limits
    "node_pod_phases": (
        'count by (phase) ((kube_pod_status_phase{namespace=~"$namespace"} == 1)'
        ' and on (namespace, pod) kube_pod_container_resource_limits{node="$node"})'
    ),
    # the ranking's namespace-wide views of nodes and pods
    "node_pressure": 'max by (node) (kube_node_status_condition{condition=~".+Pressure",status="true"})',
    "node_not_ready": 'max by (node) (kube_node_status_condition{condition="Ready",status=~"false|unknown"})',
    "pod_failed": f'sum by (pod) (kube_pod_status_phase{{{_NS},phase=~"Failed|Unknown"}})',
    "pod_node": f"max by (pod, node) (kube_pod_container_resource_limits{{{_NS}}})",
}

# The default profile in full: what `ToolsConfig.promql` holds unless a profile is pinned.
DEFAULT_TEMPLATES: dict[str, str] = {**OTEL_TEMPLATES, **SHARED_TEMPLATES}


def check_template(name: str, text: str) -> None:
    """Refuse a template with a placeholder we never fill (it would reach Prometheus as `$foo`)."""
    template = Template(text)
    if not template.is_valid():
        raise ValueError(f"PromQL template {name!r} has an invalid placeholder")
    unknown = set(template.get_identifiers()) - PLACEHOLDERS
    if unknown:
        raise ValueError(f"PromQL template {name!r} uses unknown placeholders: {', '.join(sorted(unknown))}")


def _string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _regex(value: str) -> str:
    return _string(re.escape(value))


def workload_pod_regex(workload: str) -> str:
    """Pods of a Deployment (`name-<rs hash>-<suffix>`) or StatefulSet (`name-<ordinal>`), and not of a
    workload whose name merely starts with this one (`carts` must not match `carts-db-…`)."""
    return f"{re.escape(workload)}-([a-z0-9]+-[a-z0-9]+|[0-9]+)"


def render(
    template: str,
    *,
    namespace: str | None = None,
    service: str = "",
    pod_regex: str = ".*",
    window: str = "5m",
    lookback: str = "1h",
    quantile: float = 0.99,
    node: str = "",
) -> str:
    """Fill a template; `namespace=None` matches every namespace."""
    return Template(template).substitute(
        namespace=_regex(namespace) if namespace else ".*",
        service=_string(service),
        pod_regex=_string(pod_regex),
        window=window,
        lookback=lookback,
        quantile=repr(float(quantile)),
        node=_string(node),
    )


_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> float:
    """A PromQL duration such as `5m` in seconds (input models already checked `DURATION_PATTERN`)."""
    match = re.fullmatch(r"([0-9]+)(ms|s|m|h|d|w)", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]
