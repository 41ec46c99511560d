"""The chart's data over Prometheus's HTTP API (a loopback server speaking `query_range`): the alert's
marker from the ALERTS series Prometheus records, a panel per chosen template, limits drawn once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from agent.chart_data import Window, alert_start
from agent.chart_panels import ChartSubject
from agent.report_chart import render_chart
from tools.metrics.client import PrometheusBackend

AS_OF = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
FIRING_FROM = AS_OF - timedelta(minutes=12)
STEP_S = 60


def _matrix(query: str, start: float, end: float, step: float) -> list[dict[str, object]]:
    """What a Prometheus with recorded alerts and a leaking `carts` would answer."""
    times = [start + step * i for i in range(int((end - start) // step) + 1)]
    if query.startswith("ALERTS"):
        earlier = [t for t in times if AS_OF.timestamp() - 3000 <= t <= AS_OF.timestamp() - 2400]
        firing = earlier + [t for t in times if t >= FIRING_FROM.timestamp()]  # fired, resolved, fired again
        other = [t for t in times if t >= AS_OF.timestamp() - 1800]
        return [
            {"metric": {"alertname": "KubePodCrashLooping"}, "values": [[t, "1"] for t in firing]},
            {"metric": {"alertname": "SomethingElse"}, "values": [[t, "1"] for t in other]},
        ]
    if "resource_limits" in query:
        return [
            {"metric": {"pod": f"carts-7d9f-{p}"}, "values": [[t, str(2**29)] for t in times]} for p in "ab"
        ]
    if "working_set" in query:
        return [
            {
                "metric": {"pod": f"carts-7d9f-{p}"},
                "values": [[t, str(2**28 + 1e6 * i)] for i, t in enumerate(times)],
            }
            for p in "ab"
        ]
    return []  # restarts: no data here


class _Prometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/api/v1/query_range":
            self.send_error(404)
            return
        result = _matrix(args["query"], float(args["start"]), float(args["end"]), float(args["step"]))
        body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[PrometheusBackend]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = PrometheusBackend(f"http://127.0.0.1:{server.server_address[1]}", timeout_s=5)
    yield client
    client.close()
    server.shutdown()
    server.server_close()


def test_the_alert_marker_is_the_start_of_its_latest_firing_run(backend: PrometheusBackend) -> None:
    window = Window(AS_OF - timedelta(hours=1), AS_OF, STEP_S)
    assert alert_start(backend, {}, "KubePodCrashLooping", window) == FIRING_FROM
    assert alert_start(backend, {}, "NeverFired", window) is None


def test_a_leak_chart_with_the_alert_marked_and_one_limit_line(
    backend: PrometheusBackend, tmp_path: Path
) -> None:
    subject = ChartSubject(entity="carts", service="carts", namespace="shop", fault_kind="memory_leak")
    chart = render_chart(
        backend,
        out=tmp_path / "c.png",
        subject=subject,
        as_of=AS_OF,
        onset=AS_OF - timedelta(minutes=30),
        alertname="KubePodCrashLooping",
    )
    assert chart.panels == ["memory vs limit"], chart.note
    assert chart.note == "restarts: no data"
    assert chart.alert == FIRING_FROM
    assert chart.points["memory vs limit"] == 2 * 241  # two pods' working sets at 15 s; the limit is no value
    assert chart.signals == ["memory_working_set_bytes", "memory_limit_bytes"]
    assert "alert 15:48" in chart.caption() and "onset 15:30" in chart.caption()
