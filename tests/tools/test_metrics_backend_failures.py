"""A Prometheus that is down or never answers gives an `error` result within the configured timeout."""

from __future__ import annotations

import time

from tests.tools.prom_fixture import AS_OF, free_port
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.metrics.client import PrometheusBackend
from tools.registry import default_registry

TIMEOUT_S = 1.0
MARGIN_S = 1.5


def _run(url: str) -> tuple[str, str, float]:
    backend = PrometheusBackend(url, timeout_s=TIMEOUT_S)
    ctx = ToolContext(
        as_of=AS_OF, metrics=backend, config=ToolsConfig(prometheus_url=url, timeout_s=TIMEOUT_S)
    )
    started = time.monotonic()
    result = default_registry().run("prom_query", {"promql": "up"}, ctx)
    backend.close()
    return result.status, result.summary, time.monotonic() - started


def test_a_closed_port_is_an_error_quickly() -> None:
    status, summary, elapsed = _run(f"http://127.0.0.1:{free_port()}")
    assert status == "error" and "unreachable" in summary
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_server_that_never_answers_is_a_timeout_within_the_configured_bound(silent_server: str) -> None:
    status, summary, elapsed = _run(silent_server)
    assert status == "error" and f"within {TIMEOUT_S}s" in summary, summary
    assert TIMEOUT_S * 0.9 <= elapsed < TIMEOUT_S + MARGIN_S


def test_no_metrics_backend_configured_is_an_error_that_says_so() -> None:
    result = default_registry().run("golden_signals", {"service": "checkout"}, ToolContext(as_of=AS_OF))
    assert result.status == "error" and "no metrics backend" in result.summary and not result.retryable
