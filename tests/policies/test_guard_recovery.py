"""After the post-condition holds, the guard watches the symptom recede, where metrics are at hand:
the error ratio comes from a loopback server speaking Prometheus's HTTP API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.assemble import recovery_check
from policies.guard import Guard
from policies.guard_graph import build_guard_graph
from tests.policies.factories import request
from tests.policies.guard_fixtures import World, clock, enforce_policy
from tests.policies.test_guard import approve
from tools.actions import Executor
from tools.config import ToolsConfig
from tools.kube.client import KubernetesReader
from tools.metrics.client import PrometheusBackend

SCALE = request("scale", "shop/deployment/checkout", params={"replicas": 3})


class ErrorRatio:
    """Answers every instant query with `before` for times before `switch_at`, `after` from then on."""

    def __init__(self, before: float, after: float) -> None:
        self.before, self.after = before, after
        self.switch_at: float = float("inf")

    def value(self, at: float) -> float:
        return self.before if at < self.switch_at else self.after


@pytest.fixture
def prometheus() -> Iterator[tuple[str, ErrorRatio]]:
    ratio = ErrorRatio(0.3, 0.3)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            at = float(query["time"][0])
            body = {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {}, "value": [at, str(ratio.value(at))]}],
                },
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ratio
    finally:
        server.shutdown()


def run(world: World, url: str, ratio: ErrorRatio) -> object:
    check = recovery_check(PrometheusBackend(url, 5), ToolsConfig().promql)

    def switching(req: object, executed_at: datetime, now: datetime) -> object:
        if ratio.switch_at == float("inf"):
            ratio.switch_at = executed_at.timestamp() + 0.001  # the symptom changes right after the action
        return check(req, executed_at, now)  # type: ignore[arg-type]

    guard = Guard(
        Executor(world.api),
        enforce_policy(),
        world.audit(),
        clock,
        kube=KubernetesReader(world.api, timeout_s=5),
        verify_within_s=5,
        recovery=switching,
        recovery_within_s=0.5,
    )  # type: ignore[arg-type]
    graph = build_guard_graph(guard, InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"action": SCALE}, config)
    return graph.invoke(Command(resume=[approve(SCALE)]), config)["guard"]


def test_receded_errors_verify(world: World, prometheus: tuple[str, ErrorRatio]) -> None:
    url, ratio = prometheus
    ratio.after = 0.01
    record = run(world, url, ratio)
    assert record.executed and record.verified  # type: ignore[attr-defined]
    assert "error ratio receded: 30.00% before, 1.00% now" in record.detail  # type: ignore[attr-defined]


def test_errors_that_stay_fail_verification(world: World, prometheus: tuple[str, ErrorRatio]) -> None:
    url, ratio = prometheus
    record = run(world, url, ratio)
    assert record.executed and record.verified is False  # type: ignore[attr-defined]
    assert "has not receded" in record.detail  # type: ignore[attr-defined]
    last = [r for r in world.audit().show(action_id=SCALE.action_id) if r.kind == "verification"][-1]
    assert last.payload["rollout"] is True and last.payload["recovered"] is False
