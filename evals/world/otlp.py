"""Write spans as OTLP JSON lines, the OpenTelemetry Collector file exporter's format.

The spans are created with the OpenTelemetry SDK (one TracerProvider and Resource per service, our
own trace and span ids, explicit start and end times), encoded with the OTLP protobuf encoder, and
written one ExportTraceServiceRequest per line with ids as lowercase hex, as the OTLP/JSON spec says.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from evals.world.model import SpanRecord

SPANS_PER_LINE = 1000
_KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL}
# The scope an instrumented HTTP service reports its spans under on a real cluster; never the simulator.
INSTRUMENTATION_SCOPE = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class _FixedIds(IdGenerator):
    """Hands the SDK the ids we already chose, so the file matches the simulated spans exactly."""

    def __init__(self) -> None:
        self.trace_id = 0
        self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


def sdk_spans(spans: Iterable[SpanRecord], namespace: str = "") -> list[ReadableSpan]:
    """The records as finished OpenTelemetry SDK spans."""
    exporter = InMemorySpanExporter()
    ids = _FixedIds()
    providers: dict[str, TracerProvider] = {}
    for record in spans:
        provider = providers.get(record.service)
        if provider is None:
            attributes = {
                "service.name": record.service,
                **({"k8s.namespace.name": namespace} if namespace else {}),
            }
            provider = TracerProvider(resource=Resource(attributes), id_generator=ids)
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            providers[record.service] = provider
        ids.trace_id, ids.span_id = record.trace_id, record.span_id
        context = None
        if record.parent_span_id is not None:
            parent = SpanContext(
                record.trace_id,
                record.parent_span_id,
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            context = trace.set_span_in_context(NonRecordingSpan(parent))
        tracer = provider.get_tracer(INSTRUMENTATION_SCOPE)
        span = tracer.start_span(
            record.name,
            context=context,
            kind=_KINDS[record.kind],
            attributes=record.attributes,
            start_time=record.start_ns,
        )
        if record.error:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=record.end_ns)
    for provider in providers.values():
        provider.shutdown()
    return list(exporter.get_finished_spans())


def write_otlp_json(spans: list[SpanRecord], path: Path, namespace: str = "") -> None:
    """Write `spans` to `path` as OTLP JSON lines (one ExportTraceServiceRequest per line)."""
    finished = sdk_spans(spans, namespace)
    with Path(path).open("w") as out:
        for begin in range(0, len(finished), SPANS_PER_LINE):
            request = encode_spans(finished[begin : begin + SPANS_PER_LINE])
            document = json_format.MessageToDict(request, use_integers_for_enums=True)
            _hex_ids(document)
            out.write(json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n")


def _hex_ids(node: Any) -> None:
    """protobuf's JSON mapping writes bytes as base64; OTLP/JSON wants trace and span ids as hex."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
