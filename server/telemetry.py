"""OpenTelemetry for medic itself: a tracer provider whose exporter the standard OTEL_* variables
choose (read by the settings). None configured: spans are made and dropped, nothing leaves."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TelemetryConfig(BaseModel):
    traces_exporter: str | None = Field(None, description="OTEL_TRACES_EXPORTER: otlp or none")
    otlp_endpoint: str | None = Field(
        None, description="OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://collector:4318"
    )
    otlp_traces_endpoint: str | None = Field(None, description="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    service_name: str = "medic"


_configured = False


def configure_tracing(config: TelemetryConfig) -> bool:
    """Install the global tracer provider once; True when spans are exported."""
    global _configured
    endpoint = config.otlp_traces_endpoint or (
        f"{config.otlp_endpoint.rstrip('/')}/v1/traces" if config.otlp_endpoint else None
    )
    if _configured or endpoint is None or (config.traces_exporter or "otlp").lower() == "none":
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=500)
    )
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def flush_tracing(timeout_ms: int = 5000) -> None:
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush(timeout_ms)
