"""One small incident, written as OpenMetrics in each metric profile's convention and served by a real
Prometheus through the sandbox's own machinery (promtool backfill, `PrometheusServer`).

Namespace `shop`, two hours before `AS_OF` at 30 s: frontend calls orders and catalog, orders calls
payments. From `FAULT_AT` (20 min before AS_OF) payments fails 30 % of its requests and turns slow
(p99 from ~0.2 s to ~1.5 s). Its callers see the failures on their calls (where the convention has a
client side) but keep their own responses healthy (they fall back), so every convention, with or
without a call graph, has one right answer. Every profile also gets the same cAdvisor and
kube-state-metrics series, CPU following traffic.

Conventions differ where real exporters do: Istio and Linkerd report milliseconds; in Spring one
service has no `application` tag (only the scrape's `service`); in ingress-nginx most series carry the
scrape's renamed `exported_service`/`exported_namespace`, one the plain labels; the gauges name one
service by `job`, give the faulty one's errors as an error-rate gauge instead of a success ratio, and
carry no namespace.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evals.sandbox.openmetrics import WindowFile
from evals.sandbox.processes import ProcessRecord, stop
from evals.sandbox.prometheus import Backfill, PrometheusServer

Array = npt.NDArray[np.float64]
AS_OF = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FAULT_AT = AS_OF - timedelta(minutes=20)
HISTORY = timedelta(hours=2)
STEP_S = 30
NAMESPACE = "shop"
FAULTY = "payments"
CALLS = {"frontend": ("orders", "catalog"), "orders": ("payments",)}
RATES = {"frontend": 20.0, "orders": 8.0, "catalog": 12.0, "payments": 5.0}  # requests/s per service
CALLER = {callee: caller for caller, callees in CALLS.items() for callee in callees}
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_FAST = (0.15, 0.55, 0.85, 0.97, 0.995, 0.999, 1.0, 1.0)  # share of requests at or under each bucket
_SLOW = (0.0, 0.02, 0.05, 0.15, 0.45, 0.8, 0.97, 1.0)
PROFILE_NAMES = (
    "opentelemetry",
    "istio",
    "linkerd",
    "spring-micrometer",
    "ingress-nginx",
    "percentile-gauges",
)


def pods(service: str) -> list[str]:
    return [f"{service}-6d9f7c8b4-{s}" for s in ("k2x9p", "q7w4z")]


TIMES = np.arange(int((AS_OF - HISTORY).timestamp()), int(AS_OF.timestamp()) + 1, STEP_S)


@dataclass(frozen=True)
class Stream:
    """Requests as one exporter counts them: per second, the failing share, and whether slow."""

    rps: Array
    errors: Array
    slow: npt.NDArray[np.bool_]


def _rng(*key: str) -> np.random.Generator:
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate("/".join(key))))


def served(service: str, share: float, *key: str) -> Stream:
    """`share` of the service's traffic, as one pod (or one ingress route) serves it."""
    rng = _rng(service, *key)
    rps = RATES[service] * share * (1 + 0.05 * rng.standard_normal(TIMES.size))
    faulty = (service == FAULTY) & (FAULT_AT.timestamp() <= TIMES)
    errors = np.where(faulty, 0.3, 0.005 * (1 + 0.3 * rng.standard_normal(TIMES.size))).clip(0, 1)
    return Stream(rps.clip(0.1), errors, faulty)


class OpenMetrics:
    """Families collected, then written whole (promtool needs each family's lines together)."""

    def __init__(self) -> None:
        self.families: dict[str, tuple[str, list[str]]] = {}

    def _add(self, family: str, kind: str, name: str, labels: dict[str, str], values: Array) -> None:
        text = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        lines = self.families.setdefault(family, (kind, []))[1]
        lines.extend(f"{text} {v:.6f} {t}" for t, v in zip(TIMES.tolist(), values.tolist(), strict=True))

    def gauge(self, name: str, labels: dict[str, str], values: Array) -> None:
        self._add(name, "gauge", name, labels, values)

    def counter(self, name: str, labels: dict[str, str], per_second: Array) -> None:
        """Cumulative from `per_second`; a name without `_total` (as ingress-nginx's) is typed unknown."""
        family, kind = (
            (name.removesuffix("_total"), "counter") if name.endswith("_total") else (name, "unknown")
        )
        self._add(family, kind, name, labels, np.cumsum(per_second * STEP_S))

    def requests(
        self, name: str, labels: dict[str, str], stream: Stream, status: Callable[[bool], dict[str, str]]
    ) -> None:
        """A request counter split by outcome (`status(failed)` gives the outcome's labels)."""
        for failed in (False, True):
            share = stream.errors if failed else 1 - stream.errors
            self.counter(name, {**labels, **status(failed)}, stream.rps * share)

    def histogram(
        self,
        family: str,
        labels: dict[str, str],
        stream: Stream,
        status: Callable[[bool], dict[str, str]],
        unit: float = 1.0,
    ) -> None:
        """`family`_bucket/_count/_sum split by outcome; `unit` 1000 for milliseconds."""
        for failed in (False, True):
            per_s = stream.rps * (stream.errors if failed else 1 - stream.errors)
            base = {**labels, **status(failed)}
            for i, le in enumerate((*BUCKETS, float("inf"))):
                share = np.where(stream.slow, _SLOW[i], _FAST[i]) if i < len(BUCKETS) else np.ones(TIMES.size)
                le_text = "+Inf" if le == float("inf") else f"{le * unit:g}"
                self._add(
                    family,
                    "histogram",
                    f"{family}_bucket",
                    {**base, "le": le_text},
                    np.cumsum(per_s * share * STEP_S),
                )
            self._add(family, "histogram", f"{family}_count", base, np.cumsum(per_s * STEP_S))
            mean = np.where(stream.slow, 0.4, 0.03) * unit
            self._add(family, "histogram", f"{family}_sum", base, np.cumsum(per_s * mean * STEP_S))

    def write(self, path: Path) -> None:
        with path.open("w") as out:
            for family, (kind, lines) in self.families.items():
                out.write(f"# TYPE {family} {kind}\n")
                out.write("\n".join(lines) + "\n")
            out.write("# EOF\n")


def _shared(om: OpenMetrics) -> None:
    """cAdvisor and kube-state-metrics: CPU follows traffic, memory flat, limits on node-1."""
    for service in RATES:
        om.gauge(
            "kube_deployment_spec_replicas",
            {"namespace": NAMESPACE, "deployment": service},
            np.full(TIMES.size, 2.0),
        )
        for pod in pods(service):
            base = {"namespace": NAMESPACE, "pod": pod, "container": service}
            om.counter("container_cpu_usage_seconds_total", base, served(service, 0.5, pod).rps * 0.01)
            om.gauge("container_memory_working_set_bytes", base, np.full(TIMES.size, 2.0e8))
            for resource, value in (("cpu", 1.0), ("memory", 5.0e8)):
                labels = {**base, "resource": resource, "node": "node-1"}
                om.gauge("kube_pod_container_resource_limits", labels, np.full(TIMES.size, value))


def _code(label: str, ok: str = "200", bad: str = "500") -> Callable[[bool], dict[str, str]]:
    return lambda failed: {label: bad if failed else ok}


def _otel(om: OpenMetrics) -> None:
    for service in RATES:
        for pod in pods(service):
            labels = {"namespace": NAMESPACE, "service": service, "pod": pod}
            om.histogram(
                "http_server_request_duration_seconds",
                labels,
                served(service, 0.5, pod),
                _code("http_response_status_code"),
            )
    for callee, caller in CALLER.items():
        for pod in pods(caller):
            labels = {"namespace": NAMESPACE, "service": caller, "pod": pod, "server_address": callee}
            om.histogram(
                "http_client_request_duration_seconds",
                labels,
                served(callee, 0.5, pod),
                _code("http_response_status_code"),
            )


def _istio(om: OpenMetrics) -> None:
    def both(labels: dict[str, str], stream: Stream) -> None:
        om.requests("istio_requests_total", labels, stream, _code("response_code", bad="503"))
        om.histogram(
            "istio_request_duration_milliseconds", labels, stream, _code("response_code", bad="503"), 1000
        )

    where = {"destination_workload_namespace": NAMESPACE, "namespace": NAMESPACE}
    for service in RATES:
        source = CALLER.get(service, "unknown")
        for pod in pods(service):
            labels = {
                **where,
                "reporter": "destination",
                "destination_workload": service,
                "destination_service_name": service,
                "source_workload": source,
                "pod": pod,
            }
            both(labels, served(service, 0.5, pod))
    for callee, caller in CALLER.items():
        for pod in pods(caller):
            labels = {
                **where,
                "reporter": "source",
                "source_workload": caller,
                "source_workload_namespace": NAMESPACE,
                "destination_workload": callee,
                "destination_service_name": callee,
                "pod": pod,
            }
            both(labels, served(callee, 0.5, pod))


def _linkerd(om: OpenMetrics) -> None:
    def outcome(failed: bool) -> dict[str, str]:
        return {
            "classification": "failure" if failed else "success",
            "status_code": "500" if failed else "200",
        }

    for service in RATES:
        for pod in pods(service):
            labels = {"direction": "inbound", "deployment": service, "namespace": NAMESPACE, "pod": pod}
            om.requests("response_total", labels, served(service, 0.5, pod), outcome)
            om.histogram("response_latency_ms", labels, served(service, 0.5, pod), outcome, 1000)
    for callee, caller in CALLER.items():
        for pod in pods(caller):
            labels = {
                "direction": "outbound",
                "deployment": caller,
                "namespace": NAMESPACE,
                "pod": pod,
                "dst_deployment": callee,
                "dst_namespace": NAMESPACE,
            }
            om.requests("response_total", labels, served(callee, 0.5, pod), outcome)
            om.histogram("response_latency_ms", labels, served(callee, 0.5, pod), outcome, 1000)


def _spring_app(service: str) -> dict[str, str]:
    """catalog has no `application` tag: only the `service` label a Prometheus Operator scrape adds."""
    return (
        {"service": service}
        if service == "catalog"
        else {"application": service, "service": f"{service}-svc"}
    )


def _spring(om: OpenMetrics) -> None:
    def status(failed: bool) -> dict[str, str]:
        return (
            {"status": "500", "outcome": "SERVER_ERROR"}
            if failed
            else {"status": "200", "outcome": "SUCCESS"}
        )

    for service in RATES:
        for pod in pods(service):
            labels = {
                **_spring_app(service),
                "namespace": NAMESPACE,
                "pod": pod,
                "method": "GET",
                "uri": f"/api/{service}",
            }
            om.histogram("http_server_requests_seconds", labels, served(service, 0.5, pod), status)
            probe = Stream(np.full(TIMES.size, 0.2), np.zeros(TIMES.size), np.zeros(TIMES.size, dtype=bool))
            om.histogram("http_server_requests_seconds", {**labels, "uri": "/actuator/health"}, probe, status)
    for callee, caller in CALLER.items():
        for pod in pods(caller):
            labels = {
                **_spring_app(caller),
                "namespace": NAMESPACE,
                "pod": pod,
                "client_name": callee,
                "method": "GET",
                "uri": "/",
            }
            om.histogram("http_client_requests_seconds", labels, served(callee, 0.5, pod), status)


def _nginx(om: OpenMetrics) -> None:
    scrape = {
        "namespace": "ingress-nginx",
        "service": "ingress-nginx-controller-metrics",
        "pod": "ingress-nginx-controller-5f7d9-abcde",
        "controller_pod": "ingress-nginx-controller-5f7d9-abcde",
    }
    for service in RATES:
        if service == "catalog":  # scraped with honor_labels: the metric's own labels kept
            labels = {"namespace": NAMESPACE, "service": service, "ingress": service}
        else:
            labels = {
                **scrape,
                "exported_namespace": NAMESPACE,
                "exported_service": service,
                "ingress": service,
            }
        stream = served(service, 1.0, "ingress")
        om.requests("nginx_ingress_controller_requests", labels, stream, _code("status"))
        om.histogram("nginx_ingress_controller_request_duration_seconds", labels, stream, _code("status"))


def _gauges(om: OpenMetrics) -> None:
    for service in RATES:
        for pod in pods(service):
            labels = (
                {"job": service, "pod": pod} if service == "catalog" else {"service": service, "pod": pod}
            )
            stream = served(service, 0.5, pod)
            noise = 1 + 0.05 * _rng("gauge", pod).standard_normal(TIMES.size)
            for quantile, fast, slow in (("0.5", 0.02, 0.3), ("0.9", 0.05, 0.8), ("0.99", 0.1, 1.5)):
                value = np.where(stream.slow, slow, fast) * noise
                om.gauge("request_latency_seconds", {**labels, "quantile": quantile}, value)
            if service == FAULTY:  # an error-rate gauge instead of the success ratio
                om.gauge("request_errors_per_second", labels, stream.rps * stream.errors)
            else:
                om.gauge("request_success_ratio", labels, 1 - stream.errors)
            om.gauge("requests_per_second", labels, stream.rps)


WRITERS: dict[str, Callable[[OpenMetrics], None]] = {
    "opentelemetry": _otel,
    "istio": _istio,
    "linkerd": _linkerd,
    "spring-micrometer": _spring,
    "ingress-nginx": _nginx,
    "percentile-gauges": _gauges,
}


def write_incident(profile: str, path: Path) -> None:
    """The incident's metrics in `profile`'s convention, with the shared series, as one OpenMetrics file."""
    om = OpenMetrics()
    WRITERS[profile](om)
    _shared(om)
    om.write(path)


@contextmanager
def serving(profile: str, workdir: Path) -> Iterator[str]:
    """Backfill the incident in `profile`'s convention and serve it; yields the URL, stops by pid."""
    source = workdir / f"{profile}.om"
    write_incident(profile, source)
    work = workdir / "backfill.om"  # promtool's input is removed once backfilled; keep the source
    shutil.copyfile(source, work)
    tsdb = workdir / "tsdb"
    tsdb.mkdir()
    backfill = Backfill("promtool", tsdb)
    backfill.submit(WindowFile(work, int(TIMES[0]) * 1000, 0))
    backfill.wait()
    started: list[ProcessRecord] = []
    server = PrometheusServer("prometheus", tsdb, workdir / "prometheus.log", started.append)
    try:
        server.start()
        server.wait_ready('count({__name__="kube_deployment_spec_replicas"})', AS_OF, time.monotonic() + 60)
        yield server.url
    finally:
        for record in started:
            stop(record)
