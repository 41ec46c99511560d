"""Fixtures for the tool tests: one real Prometheus per session over the hand-made TSDB."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.tools.prom_fixture import AS_OF, RunningPrometheus, running_prometheus
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.contract import ToolResult
from tools.metrics.client import PrometheusBackend


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as running:
        yield running


@pytest.fixture
def prom_ctx(prometheus: RunningPrometheus) -> Iterator[ToolContext]:
    backend = PrometheusBackend(prometheus.url, timeout_s=5)
    yield ToolContext(as_of=AS_OF, metrics=backend, config=ToolsConfig(prometheus_url=prometheus.url))
    backend.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback TCP server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    listener.close()


def at(ctx: ToolContext, when: datetime) -> ToolContext:
    """The same backends, another instant."""
    return ToolContext(as_of=when, metrics=ctx.metrics, kube=ctx.kube, traces=ctx.traces, config=ctx.config)


def js(result: ToolResult) -> Any:
    """`result.data` untyped, so assertions can walk the JSON without a cast at every step."""
    return result.data
