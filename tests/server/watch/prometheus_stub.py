"""A loopback Prometheus that answers every instant query (`/api/v1/query`) with one series per service
of a namespace, labelled as both the golden-signal and the saturation queries group them, so every
signal of every service has a value. Values vary smoothly with the query's time, seen by no detector
as an anomaly until `fault` makes one service's jump. Queries are counted per time asked, so a test sees which steps a replica ran."""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class PrometheusStub:
    url: str
    namespace: str
    services: list[str]
    queries: Counter[str] = field(default_factory=Counter)
    fault: tuple[str, float] | None = None  # (service, from epoch seconds): its values jump fivefold

    def keys(self) -> list[str]:
        return [f"{self.namespace}/{s}" for s in self.services]


def _value(stub: PrometheusStub, i: int, name: str, at: float) -> float:
    value = 0.1 + 0.01 * math.sin(at / 600 + i)
    faulty = stub.fault is not None and stub.fault[0] == name and at >= stub.fault[1]
    return value * 5 if faulty else value


def _vector(stub: PrometheusStub, at: float) -> list[dict[str, object]]:
    return [
        {
            "metric": {"namespace": stub.namespace, "service": name, "pod": f"{name}-5d9c7f8b6d-x2x4z"},
            "value": [at, f"{_value(stub, i, name, at):.6f}"],
        }
        for i, name in enumerate(stub.services)
    ]


@contextlib.contextmanager
def prometheus_stub(namespace: str = "shop", services: int = 12) -> Iterator[PrometheusStub]:
    stub = PrometheusStub(url="", namespace=namespace, services=[f"svc-{i}" for i in range(services)])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a replica's steps reuse one connection ...
        wbufsize = 1 << 16  # ... and each answer leaves in one write (no wait on a delayed ACK)

        def _answer(self, params: dict[str, list[str]]) -> None:
            url = urlparse(self.path)
            if url.path != "/api/v1/query":
                self.send_error(404)
                return
            at = float(params.get("time", ["0"])[0])
            stub.queries[params.get("time", ["?"])[0]] += 1
            body = json.dumps(
                {"status": "success", "data": {"resultType": "vector", "result": _vector(stub, at)}}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def do_GET(self) -> None:
            self._answer(parse_qs(urlparse(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._answer(parse_qs(self.rfile.read(length).decode()) | parse_qs(urlparse(self.path).query))

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
