"""medic's own traces reach an OTLP/HTTP receiver named by the standard OTEL_* variables: one
investigation is a span tree (investigation → graph nodes → tool calls)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from evals.sandbox.sandbox import SandboxInfo
from evals.scenario import Scenario
from tests.server.serve_process import alert_body, service_env, start_serve, wait_state
from tests.server.service_fixture import auth


class Receiver:
    def __init__(self) -> None:
        self.spans: list[dict[str, object]] = []
        self.lock = threading.Lock()

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {
                            a.key: a.value.string_value or a.value.int_value for a in span.attributes
                        }
                        self.spans.append(
                            {
                                "name": span.name,
                                "id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "trace": span.trace_id.hex(),
                                "attributes": attributes,
                            }
                        )


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                found.take(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", found
    finally:
        server.shutdown()


def test_one_investigation_is_one_span_tree(
    own_sandbox: tuple[Scenario, SandboxInfo], tmp_path: Path, receiver: tuple[str, Receiver]
) -> None:
    scenario, info = own_sandbox
    endpoint, found = receiver
    env = service_env(
        info, tmp_path / "run", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="medic-test"
    )
    server = start_serve(env, tmp_path / "serve.log")
    try:
        opened = httpx.post(
            f"{server.url}/v1/incidents", json=alert_body(scenario), headers=auth("responder")
        )
        incident_id = opened.json()["id"]
        wait_state(server.url, incident_id, {"awaiting_approval", "finished"})
    finally:
        server.stop()  # a graceful stop flushes the spans

    roots = [s for s in found.spans if s["name"] == "investigation"]
    assert len(roots) == 1 and roots[0]["attributes"]["medic.incident_id"] == incident_id
    tree = [s for s in found.spans if s["trace"] == roots[0]["trace"]]
    by_id = {s["id"]: s for s in tree}
    nodes = [s for s in tree if str(s["name"]).startswith("node ")]
    tools = [s for s in tree if str(s["name"]).startswith("tool ")]
    assert {"node intake", "node investigate", "node run_tools", "node diagnose", "node propose"} <= {
        str(s["name"]) for s in nodes
    }
    assert "node guard_check" in {str(s["name"]) for s in nodes}
    assert all(by_id[str(s["parent"])]["name"] == "node run_tools" for s in tools)
    assert {"tool rank_root_causes", "tool golden_signals"} <= {str(s["name"]) for s in tools}
    assert all(s["attributes"]["medic.tool.status"] in ("ok", "no_data", "error") for s in tools)
    # every span of the tree hangs from the investigation
    for span in tree:
        node = span
        while node["parent"] and str(node["parent"]) in by_id:
            node = by_id[str(node["parent"])]
        assert node is roots[0], span["name"]
