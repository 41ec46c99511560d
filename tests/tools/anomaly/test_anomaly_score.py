"""anomaly_score over many series: every returned series is scored and the best ones are kept, whatever
order Prometheus returns them in. Prometheus is faked at its HTTP API on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.metrics.client import PrometheusBackend
from tools.registry import default_registry

AS_OF = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
N_SERIES = 30
ANOMALOUS_SHARD = N_SERIES - 1  # last in Prometheus's order
REGISTRY = default_registry()


def _matrix(start: float, end: float, step: float) -> list[dict[str, Any]]:
    """N_SERIES steady series; the last one jumps tenfold for its final 10 minutes."""
    times = np.arange(start, end + 1e-9, step)
    out = []
    for shard in range(N_SERIES):
        values = np.full(times.size, 100.0 + shard)
        if shard == ANOMALOUS_SHARD:
            values[times >= end - 600] += 900
        out.append(
            {
                "metric": {"__name__": "queue_depth", "shard": f"s{shard:02d}"},
                "values": [[float(t), f"{v:.3f}"] for t, v in zip(times, values, strict=True)],
            }
        )
    return out


class _RangeApi(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {
            k: v[0] for k, v in (parse_qs(url.query) | parse_qs(self.rfile.read(length).decode())).items()
        }
        if url.path != "/api/v1/query_range":
            self.send_error(404)
            return
        result = _matrix(float(form["start"]), float(form["end"]), float(form["step"]))
        payload = json.dumps(
            {"status": "success", "data": {"resultType": "matrix", "result": result}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def fake_prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RangeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def test_every_series_is_scored_and_the_best_are_kept() -> None:
    with fake_prometheus() as url:
        backend = PrometheusBackend(url, timeout_s=5)
        config = ToolsConfig(prometheus_url=url, max_series=5)
        try:
            result = REGISTRY.run(
                "anomaly_score",
                {"promql": "queue_depth", "range": "2h"},
                ToolContext(AS_OF, metrics=backend, config=config),
            )
        finally:
            backend.close()
    assert result.status == "ok", result.summary
    data: Any = result.data
    series = data["series"]
    assert len(series) == 5 and data["series_scored"] == N_SERIES
    assert series[0]["labels"]["shard"] == f"s{ANOMALOUS_SHARD:02d}"  # although Prometheus listed it last
    assert series[0]["max_score"] >= 0.5 and series[0]["onset"] is not None
    assert [s["max_score"] for s in series] == sorted((s["max_score"] for s in series), reverse=True)
    assert result.summary.startswith(f"scored {N_SERIES} series over 2h")
    assert "showing 5 highest first" in result.summary and result.truncated
    onset = datetime.fromisoformat(series[0]["onset"])
    assert abs((onset - AS_OF).total_seconds() + 600) <= 60, onset
