"""PromQL templates of the request-metric conventions other than OpenTelemetry's (which is in
`templates.py`): each fills the names of `PROFILE_TEMPLATE_CONTRACT` that its metrics can answer.

Units follow the contract whatever the exporter uses: latency in seconds (Istio and Linkerd report
milliseconds), error ratios from 0 to 1, rates per second.
"""

from __future__ import annotations

from tools.metrics.promql_parts import Arm, Key, quantile, rate, ratio, recent, rename, same, sel
from tools.metrics.templates import ON_NODE

_NS = 'namespace=~"$namespace"'


def _edges(caller: Key, metric: str, callee: str, *matchers: str) -> str:
    """Call edges: `service` the caller, `server_address` the callee (from label `callee`)."""
    grouped = caller.by_service("count", same, metric, *matchers, f'{callee}!=""', by=callee)
    return rename(grouped, "server_address", callee)


# Istio/Envoy standard metrics: the destination sidecar's view is the server side, the source
# sidecar's the client side. Workloads name services (`unknown` is Istio's "not in the mesh").
_IREQ, _IDUR = "istio_requests_total", "istio_request_duration_milliseconds_bucket"
_ISERVER = Key((Arm("destination_workload", "destination_workload_namespace"),))
_ICALLER = Key((Arm("source_workload", None),))
_IN, _OUT = 'reporter="destination"', 'reporter="source"'
_INS = 'destination_workload_namespace=~"$namespace"'
_ICALLEE = ('reporter="source"', 'destination_workload="$service"', _INS)
_I5XX = 'response_code=~"5.."'

ISTIO: dict[str, str] = {
    "service_names": _ISERVER.by_service(
        "count", recent, _IREQ, _IN, 'destination_workload!="unknown"', keep_namespace=True
    ),
    "request_rate": f"sum({_ISERVER.of(rate, _IREQ, _IN)})",
    "error_ratio": ratio(
        f"sum({_ISERVER.of(rate, _IREQ, _IN, _I5XX)})", f"sum({_ISERVER.of(rate, _IREQ, _IN)})"
    ),
    "latency_quantile": quantile(_ISERVER.of(rate, _IDUR, _IN), scale=" / 1000"),
    "client_request_rate": _ICALLER.by_service("sum", rate, _IREQ, *_ICALLEE),
    "client_error_ratio": ratio(
        _ICALLER.by_service("sum", rate, _IREQ, *_ICALLEE, _I5XX),
        _ICALLER.by_service("sum", rate, _IREQ, *_ICALLEE),
    ),
    "client_latency_quantile": (
        f"histogram_quantile($quantile, {_ICALLER.by_service('sum', rate, _IDUR, *_ICALLEE, by='le')}) / 1000"
    ),
    "call_edges": _edges(
        _ICALLER,
        _IREQ,
        "destination_workload",
        _OUT,
        'source_workload_namespace=~"$namespace"',
        'source_workload!="unknown"',
        'destination_workload!="unknown"',
    ),
    "pod_error_ratio": ratio(
        _ISERVER.by_service("sum", rate, _IREQ, _IN, _I5XX, by="pod"),
        _ISERVER.by_service("sum", rate, _IREQ, _IN, by="pod"),
    ),
    "error_ratio_by_pod": ratio(
        f"sum by (pod) ({_ISERVER.of(rate, _IREQ, _IN, _I5XX)})",
        f"sum by (pod) ({_ISERVER.of(rate, _IREQ, _IN)})",
    ),
    "node_pod_latency_quantile": quantile(
        f"{rate(sel(_IDUR, _IN, _INS))} and {ON_NODE}", by="pod", scale=" / 1000"
    ),
}

# Linkerd proxy metrics: `direction="inbound"` is the server side; outbound ones name the callee in
# `dst_deployment`. Linkerd classifies each response as success or failure (5xx, gRPC errors).
_LRESP, _LLAT = "response_total", "response_latency_ms_bucket"
_LKEY = Key((Arm("deployment"),))
_LIN, _LFAIL = 'direction="inbound"', 'classification="failure"'
_LCALLEE = ('direction="outbound"', 'dst_deployment="$service"', 'dst_namespace=~"$namespace"')

LINKERD: dict[str, str] = {
    "service_names": _LKEY.by_service("count", recent, _LRESP, _LIN, keep_namespace=True),
    "request_rate": f"sum({_LKEY.of(rate, _LRESP, _LIN)})",
    "error_ratio": ratio(
        f"sum({_LKEY.of(rate, _LRESP, _LIN, _LFAIL)})", f"sum({_LKEY.of(rate, _LRESP, _LIN)})"
    ),
    "latency_quantile": quantile(_LKEY.of(rate, _LLAT, _LIN), scale=" / 1000"),
    "client_request_rate": _LKEY.by_service("sum", rate, _LRESP, *_LCALLEE, namespace=False),
    "client_error_ratio": ratio(
        _LKEY.by_service("sum", rate, _LRESP, *_LCALLEE, _LFAIL, namespace=False),
        _LKEY.by_service("sum", rate, _LRESP, *_LCALLEE, namespace=False),
    ),
    "client_latency_quantile": (
        "histogram_quantile($quantile, "
        f"{_LKEY.by_service('sum', rate, _LLAT, *_LCALLEE, by='le', namespace=False)}) / 1000"
    ),
    "call_edges": _edges(_LKEY, _LRESP, "dst_deployment", 'direction="outbound"'),
    "pod_error_ratio": ratio(
        _LKEY.by_service("sum", rate, _LRESP, _LIN, _LFAIL, by="pod"),
        _LKEY.by_service("sum", rate, _LRESP, _LIN, by="pod"),
    ),
    "error_ratio_by_pod": ratio(
        f"sum by (pod) ({_LKEY.of(rate, _LRESP, _LIN, _LFAIL)})",
        f"sum by (pod) ({_LKEY.of(rate, _LRESP, _LIN)})",
    ),
    "node_pod_latency_quantile": quantile(
        f"{rate(sel(_LLAT, _LIN, _NS))} and {ON_NODE}", by="pod", scale=" / 1000"
    ),
}

# Spring Boot / Micrometer: the `application` common tag names the service, else the `service` label a
# Prometheus Operator scrape adds. Actuator endpoints (probes, the scrape itself) are not traffic.
# Latency quantiles need `percentiles-histogram` on (Micrometer publishes no buckets by default).
_SREQ, _SBUCKET = "http_server_requests_seconds_count", "http_server_requests_seconds_bucket"
_CREQ, _CBUCKET = "http_client_requests_seconds_count", "http_client_requests_seconds_bucket"
_SKEY = Key((Arm("application"), Arm("service")))
_STRAFFIC, _S5XX = 'uri!~"/actuator.*"', 'status=~"5.."'
_SCALLEE = ('client_name="$service"', _NS)

SPRING: dict[str, str] = {
    "service_names": _SKEY.by_service("count", recent, _SREQ, keep_namespace=True),
    "request_rate": f"sum({_SKEY.of(rate, _SREQ, _STRAFFIC)})",
    "error_ratio": ratio(
        f"sum({_SKEY.of(rate, _SREQ, _STRAFFIC, _S5XX)})", f"sum({_SKEY.of(rate, _SREQ, _STRAFFIC)})"
    ),
    "latency_quantile": quantile(_SKEY.of(rate, _SBUCKET, _STRAFFIC)),
    "client_request_rate": _SKEY.by_service("sum", rate, _CREQ, *_SCALLEE, namespace=False),
    "client_error_ratio": ratio(
        _SKEY.by_service("sum", rate, _CREQ, *_SCALLEE, _S5XX, namespace=False),
        _SKEY.by_service("sum", rate, _CREQ, *_SCALLEE, namespace=False),
    ),
    "client_latency_quantile": (
        f"histogram_quantile($quantile, {_SKEY.by_service('sum', rate, _CBUCKET, *_SCALLEE, by='le', namespace=False)})"
    ),
    "call_edges": _edges(_SKEY, _CREQ, "client_name"),
    "pod_error_ratio": ratio(
        _SKEY.by_service("sum", rate, _SREQ, _STRAFFIC, _S5XX, by="pod"),
        _SKEY.by_service("sum", rate, _SREQ, _STRAFFIC, by="pod"),
    ),
    "error_ratio_by_pod": ratio(
        f"sum by (pod) ({_SKEY.of(rate, _SREQ, _STRAFFIC, _S5XX)})",
        f"sum by (pod) ({_SKEY.of(rate, _SREQ, _STRAFFIC)})",
    ),
    "node_pod_latency_quantile": quantile(f"{rate(sel(_SBUCKET, _NS))} and {ON_NODE}", by="pod"),
}

# ingress-nginx: what the ingress controller saw of each backend Service. A scrape whose target has
# `service`/`namespace` labels of its own renames the metric's to `exported_service`/`exported_namespace`.
# The controller is the only caller it sees and its pods are not the backend's: no client-side or
# per-pod views.
_NREQ, _NBUCKET = (
    "nginx_ingress_controller_requests",
    "nginx_ingress_controller_request_duration_seconds_bucket",
)
_NKEY = Key((Arm("exported_service", "exported_namespace"), Arm("service")))
_N5XX = 'status=~"5.."'

INGRESS_NGINX: dict[str, str] = {
    "service_names": _NKEY.by_service("count", recent, _NREQ, keep_namespace=True),
    "request_rate": f"sum({_NKEY.of(rate, _NREQ)})",
    "error_ratio": ratio(f"sum({_NKEY.of(rate, _NREQ, _N5XX)})", f"sum({_NKEY.of(rate, _NREQ)})"),
    "latency_quantile": quantile(_NKEY.of(rate, _NBUCKET)),
}

# Gauges of latency percentiles and of success (or errors and requests) per service, e.g. from a
# monitoring system that exports statistics instead of counters:
#   request_latency_seconds{quantile="0.5"|"0.9"|"0.99"}  the percentile over the last interval
#   request_success_ratio                                 successful share, 0 to 1
#   requests_per_second, request_errors_per_second        (the error ratio where no success gauge is)
# `service` names the service, else `job`; `pod` (optional) the pod a series is about; `namespace`
# (optional) its namespace: a series without one counts in every namespace.
_GLAT, _GOK = "request_latency_seconds", "request_success_ratio"
_GREQ, _GERR = "requests_per_second", "request_errors_per_second"
_GKEY = Key((Arm("service"), Arm("job")), namespace_optional=True)
_GQ = 'quantile="$quantile"'
_GPOD = 'pod!=""'
_GNS = 'namespace=~"$namespace|"'


def _gauge_error_ratio(by: str = "") -> str:
    group = f" by ({by})" if by else ""
    ok = f"1 - avg{group} ({_GKEY.of(same, _GOK, _GPOD if by else '')})"
    counts = f"sum{group} ({_GKEY.of(same, _GERR, _GPOD if by else '')})"
    total = f"sum{group} ({_GKEY.of(same, _GREQ, _GPOD if by else '')})"
    return f"({ok}) or ({counts} / {total})"


PERCENTILE_GAUGES: dict[str, str] = {
    # one metric at a time: last_over_time drops the name, so two metrics' series would collide
    "service_names": " or ".join(
        _GKEY.by_service("count", recent, metric, keep_namespace=True) for metric in (_GLAT, _GOK, _GREQ)
    ),
    "request_rate": f"sum({_GKEY.of(same, _GREQ)})",
    "error_ratio": _gauge_error_ratio(),
    "latency_quantile": f"max({_GKEY.of(same, _GLAT, _GQ)})",
    "pod_error_ratio": (
        f"(1 - {_GKEY.by_service('avg', same, _GOK, _GPOD, by='pod')})"
        f" or ({_GKEY.by_service('sum', same, _GERR, _GPOD, by='pod')}"
        f" / {_GKEY.by_service('sum', same, _GREQ, _GPOD, by='pod')})"
    ),
    "error_ratio_by_pod": _gauge_error_ratio(by="pod"),
    "node_pod_latency_quantile": f"max by (pod) ({sel(_GLAT, _GQ, _GNS)} and on (pod) "
    'kube_pod_container_resource_limits{node="$node"})',
}
