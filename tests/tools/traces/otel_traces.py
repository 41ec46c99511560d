"""Spans made by the real OpenTelemetry SDK, exported the way real collectors and backends write them.

`SdkTraces` records spans of several services (one TracerProvider per service, as in a real fleet) with
explicit timestamps, then renders them as the OpenTelemetry Collector's file exporter writes them (one
ExportTraceServiceRequest per line, hex ids, enums as integers) or as Tempo answers (base64 ids).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

MS = 1_000_000
_ID_KEYS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


class SdkTraces:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self._providers: dict[str, TracerProvider] = {}

    def _tracer(self, service: str) -> otel_trace.Tracer:
        if service not in self._providers:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self._providers[service] = provider
        return self._providers[service].get_tracer("medic.tests")

    def span(
        self,
        service: str,
        name: str,
        start_ns: int,
        end_ns: int,
        *,
        parent: otel_trace.Span | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        error: bool = False,
        attributes: dict[str, str | int] | None = None,
    ) -> otel_trace.Span:
        context = otel_trace.set_span_in_context(parent) if parent is not None else Context()
        span = self._tracer(service).start_span(
            name, context=context, kind=kind, start_time=start_ns, attributes=attributes
        )
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=end_ns)
        return span

    def call(
        self,
        caller: otel_trace.Span,
        callee: str,
        name: str,
        start_ns: int,
        end_ns: int,
        *,
        error: bool = False,
    ) -> otel_trace.Span:
        """A client span in the caller's service and the callee's server span inside it (0.5 ms network)."""
        caller_service = str(caller.resource.attributes["service.name"])  # type: ignore[attr-defined]
        client = self._tracer(caller_service).start_span(
            f"{callee}/{name}",
            context=otel_trace.set_span_in_context(caller),
            kind=SpanKind.CLIENT,
            start_time=start_ns,
            attributes={"peer.service": callee},
        )
        server = self.span(
            callee,
            name,
            start_ns + MS // 2,
            end_ns - MS // 2,
            parent=client,
            kind=SpanKind.SERVER,
            error=error,
        )
        if error:
            client.set_status(Status(StatusCode.ERROR, "upstream failed"))
        client.end(end_time=end_ns)
        return server

    @property
    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def requests(self, *, collector: bool = True, batch: int = 50) -> Iterator[dict[str, object]]:
        """ExportTraceServiceRequests as JSON dicts, `batch` spans each (a collector batches too)."""
        spans = self.finished
        for i in range(0, len(spans), batch):
            doc = MessageToDict(encode_spans(spans[i : i + batch]), use_integers_for_enums=collector)
            yield dict(_hex_ids(doc)) if collector else doc  # type: ignore[call-overload]

    def write_collector_file(self, path: Path, *, collector: bool = True) -> Path:
        path.write_text("".join(json.dumps(r) + "\n" for r in self.requests(collector=collector)))
        return path


def _hex_ids(node: object) -> object:
    """The file exporter writes ids as hex; protobuf's JSON mapping writes bytes as base64."""
    if isinstance(node, dict):
        return {k: base64.b64decode(v).hex() if k in _ID_KEYS and v else _hex_ids(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def build_shop(traces: SdkTraces, base_ns: int, n: int) -> dict[str, dict[str, int]]:
    """`n` checkout traces one second apart through a small shop, and the calls they make.

    frontend -> cart (GetCart, cart -> redis), frontend -> checkout (PlaceOrder), checkout -> payment
    (Charge: 300 ms in every 5th trace, an error in every 10th), checkout -> cart (EmptyCart).
    Returns {"calls": {"caller->callee": n}, "errors": {"caller->callee": n}}.
    """
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}

    def note(edge: str, error: bool = False) -> None:
        calls[edge] = calls.get(edge, 0) + 1
        errors[edge] = errors.get(edge, 0) + error

    for i in range(n):
        t0 = base_ns + i * 1000 * MS
        slow, failed = i % 5 == 4, i % 10 == 9
        charge_ms = 300 if slow else 20
        total = 40 + charge_ms
        root = traces.span(
            "frontend", "GET /checkout", t0, t0 + total * MS, kind=SpanKind.SERVER, error=failed
        )
        cart = traces.call(root, "cart", "GetCart", t0 + 1 * MS, t0 + 6 * MS)
        note("frontend->cart")
        redis = traces.span(
            "cart",
            "HGET",
            t0 + 2 * MS,
            t0 + 4 * MS,
            parent=cart,
            kind=SpanKind.CLIENT,
            attributes={"db.system": "redis"},
        )
        assert redis is not None
        note("cart->redis")
        checkout = traces.call(
            root, "checkout", "PlaceOrder", t0 + 7 * MS, t0 + (total - 2) * MS, error=failed
        )
        note("frontend->checkout", failed)
        traces.call(checkout, "payment", "Charge", t0 + 8 * MS, t0 + (8 + charge_ms) * MS, error=failed)
        note("checkout->payment", failed)
        end = t0 + (8 + charge_ms) * MS
        traces.call(checkout, "cart", "EmptyCart", end + MS, end + 5 * MS)
        note("checkout->cart")
    return {"calls": calls, "errors": errors}
