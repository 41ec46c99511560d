"""Building the configured trace backend (the one place that maps `TracesConfig.backend` to a class)."""

from __future__ import annotations

import httpx

from tools.traces.backend import TraceBackend
from tools.traces.config import TracesConfig
from tools.traces.jaeger import JaegerBackend
from tools.traces.otlp_file import OtlpFileBackend
from tools.traces.tempo import TempoBackend


def open_trace_backend(
    config: TracesConfig, transport: httpx.BaseTransport | None = None
) -> TraceBackend | None:
    """The backend `config` names, or None when traces are not configured."""
    if config.backend is None:
        return None
    if config.backend == "otlp-file":
        assert config.dir is not None  # the config validator guarantees it
        return OtlpFileBackend(config.dir)
    assert config.url is not None
    if config.backend == "jaeger":
        return JaegerBackend(config.url, timeout_s=config.timeout_s, transport=transport)
    return TempoBackend(config.url, timeout_s=config.timeout_s, tenant=config.tenant, transport=transport)
