"""The metric tools against a real Prometheus (tests/tools/prom_fixture.py)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

from tests.tools.conftest import at, js
from tests.tools.prom_fixture import AS_OF, BURST_START, WIDE_SERIES
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.metrics.client import PrometheusBackend
from tools.registry import default_registry
from tools.summary import count_tokens

REGISTRY = default_registry()


def test_golden_signals_show_the_error_burst_at_as_of_and_not_before(prom_ctx: ToolContext) -> None:
    now = REGISTRY.run("golden_signals", {"service": "checkout", "namespace": "boutique"}, prom_ctx)
    assert now.status == "ok", now.summary
    server = js(now)["server"]
    assert isinstance(server, dict)
    assert abs(server["error_ratio"]["now"] - 0.3) < 0.01
    assert server["error_ratio"]["before"] < 0.01
    assert server["latency_p99_s"]["now"] > 3 * server["latency_p99_s"]["before"]
    assert abs(server["request_rate"]["now"] - 20) < 0.5  # 2 pods x 10/s
    units = {signal: values["unit"] for signal, values in server.items()}
    assert units == {
        "request_rate": "per_second",
        "error_ratio": "ratio",
        "latency_p50_s": "seconds",
        "latency_p99_s": "seconds",
    }
    callers = js(now)["callers"]
    assert isinstance(callers, dict) and abs(callers["frontend"]["error_ratio"] - 0.3) < 0.01
    assert "error ratio: 30 %" in now.summary and "caller frontend" in now.summary
    assert any(e.id.startswith("prom:golden.error_ratio:checkout:") for e in now.evidence)

    earlier = REGISTRY.run(
        "golden_signals", {"service": "checkout"}, at(prom_ctx, BURST_START - timedelta(minutes=6))
    )
    assert earlier.status == "ok"
    assert js(earlier)["server"]["error_ratio"]["now"] < 0.01
    healthy = REGISTRY.run("golden_signals", {"service": "cart"}, prom_ctx)
    assert js(healthy)["server"]["error_ratio"]["now"] < 0.01


def test_evidence_ids_are_stable_across_runs_and_differ_by_instant(prom_ctx: ToolContext) -> None:
    first = REGISTRY.run("golden_signals", {"service": "checkout"}, prom_ctx)
    again = REGISTRY.run("golden_signals", {"service": "checkout"}, prom_ctx)
    other = REGISTRY.run(
        "golden_signals", {"service": "checkout"}, at(prom_ctx, AS_OF - timedelta(minutes=1))
    )
    assert [e.id for e in first.evidence] == [e.id for e in again.evidence]
    assert not {e.id for e in first.evidence} & {e.id for e in other.evidence}


def test_invalid_promql_is_a_retryable_error_with_prometheus_message(prom_ctx: ToolContext) -> None:
    result = REGISTRY.run(
        "prom_query", {"promql": "sum(rate(http_server_request_duration_seconds_count[5m])"}, prom_ctx
    )
    assert result.status == "error" and result.retryable
    assert "parse error" in result.summary and "unclosed left parenthesis" in result.summary


def test_unknown_service_is_no_data_with_the_closest_names(prom_ctx: ToolContext) -> None:
    result = REGISTRY.run("golden_signals", {"service": "checkot"}, prom_ctx)
    assert result.status == "no_data" and result.retryable
    assert js(result)["closest"][0] == "checkout"
    workload = REGISTRY.run("workload_saturation", {"workload": "carts"}, prom_ctx)
    assert workload.status == "no_data" and "cart" in js(workload)["closest"]


def test_a_huge_result_is_truncated_and_the_summary_says_so(prom_ctx: ToolContext) -> None:
    result = REGISTRY.run("prom_query", {"promql": "fixture_wide_gauge"}, prom_ctx)
    assert result.status == "ok" and result.truncated
    assert js(result)["series_total"] == WIDE_SERIES
    assert len(js(result)["series"]) == prom_ctx.config.max_series
    assert js(result)["series"][0]["value"] == WIDE_SERIES - 1  # largest first
    assert count_tokens(result.summary) <= 400
    assert f"more series not shown ({WIDE_SERIES} in all)" in result.summary
    assert "topk(10, fixture_wide_gauge)" in result.summary


def test_a_range_query_step_is_raised_to_cap_the_points(prom_ctx: ToolContext) -> None:
    cfg = ToolsConfig(max_points=100)
    ctx = ToolContext(as_of=AS_OF, metrics=prom_ctx.metrics, config=cfg)
    result = REGISTRY.run(
        "prom_query", {"promql": 'fixture_wide_gauge{shard="s007"}', "range": "1h", "step": "1s"}, ctx
    )
    assert result.status == "ok", result.summary
    assert js(result)["step_s"] == 36
    points = js(result)["series"][0]["points"]
    assert len(points) <= 101 and points[-1][1] == 7  # only the last 10 minutes have data


def test_saturation_flags_the_oom_killed_pod_and_the_throttled_one(prom_ctx: ToolContext) -> None:
    cart = REGISTRY.run("workload_saturation", {"workload": "cart", "namespace": "boutique"}, prom_ctx)
    assert cart.status == "ok", cart.summary
    pods = {p["pod"]: p for p in js(cart)["pods"]}
    oom = pods["cart-7c9d8f6b5-abcde"]
    assert oom["restarts"] >= 2.5 and oom["oom_killed"] == 1 and oom["memory_vs_limit"] > 0.95
    assert "last termination OOMKilled" in oom["flags"]
    assert pods["cart-7c9d8f6b5-fghij"]["flags"] == []
    assert cart.summary.splitlines()[1].startswith("cart-7c9d8f6b5-abcde")  # flagged pods first
    frontend = REGISTRY.run("workload_saturation", {"workload": "frontend"}, prom_ctx)
    assert all("CPU throttled" in p["flags"] for p in js(frontend)["pods"])


def test_discovery_and_alerts(prom_ctx: ToolContext) -> None:
    names = REGISTRY.run("prom_list_metrics", {"contains": "HTTP_server"}, prom_ctx)
    assert js(names)["names"] == [
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_sum",
    ]
    values = REGISTRY.run(
        "prom_label_values",
        {"label": "service", "metric": "kube_pod_container_status_restarts_total"},
        prom_ctx,
    )
    assert values.status == "no_data"  # that metric has no `service` label, but it exists
    unknown = REGISTRY.run(
        "prom_label_values", {"label": "pod", "metric": "kube_pod_restarts_total"}, prom_ctx
    )
    assert (
        unknown.status == "no_data" and "kube_pod_container_status_restarts_total" in js(unknown)["closest"]
    )
    alerts = REGISTRY.run("firing_alerts", {}, prom_ctx)
    assert alerts.status == "no_data" and alerts.evidence


class _AlertsApi(BaseHTTPRequestHandler):
    """Prometheus's HTTP API as far as alerts go: ALERTS at as_of holds one firing alert, while the rule
    manager (/api/v1/alerts) now holds another one, active since before as_of."""

    seen_paths: ClassVar[list[str]] = []

    def _send(self, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self) -> None:
        url = urlparse(self.path)
        self.seen_paths.append(url.path)
        if url.path == "/api/v1/query":
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(url.query) | parse_qs(self.rfile.read(length).decode())
            firing = float(form["time"][0]) == AS_OF.timestamp()
            result = [
                {
                    "metric": {"__name__": "ALERTS", "alertname": name, "alertstate": "firing"},
                    "value": [0, "1"],
                }
                for name in ("CheckoutErrors", "CheckoutErrorsBurn")
                if firing
            ]
            self._send({"status": "success", "data": {"resultType": "vector", "result": result}})
        elif url.path == "/api/v1/alerts":
            alert = {
                "labels": {"alertname": "DiskFull"},
                "annotations": {},
                "state": "firing",
                "activeAt": (AS_OF - timedelta(hours=1)).isoformat(),
            }
            self._send({"status": "success", "data": {"alerts": [alert]}})
        else:
            self.send_error(404)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


def test_firing_alerts_are_the_alerts_series_at_as_of_only() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlertsApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    backend = PrometheusBackend(url, timeout_s=2)
    try:
        ctx = ToolContext(as_of=AS_OF, metrics=backend, config=ToolsConfig(prometheus_url=url))
        alerts = REGISTRY.run("firing_alerts", {}, ctx)
        assert alerts.status == "ok", alerts.summary
        names = [a["labels"]["alertname"] for a in js(alerts)["alerts"]]
        assert names == ["CheckoutErrors", "CheckoutErrorsBurn"]  # not DiskFull: that is the rule manager now
        one = REGISTRY.run("firing_alerts", {"alertname": "CheckoutErrors"}, ctx)
        assert [a["labels"]["alertname"] for a in js(one)["alerts"]] == ["CheckoutErrors"]
        earlier = REGISTRY.run("firing_alerts", {}, at(ctx, AS_OF - timedelta(minutes=30)))
        assert earlier.status == "no_data"
        assert "/api/v1/alerts" not in _AlertsApi.seen_paths
    finally:
        backend.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
