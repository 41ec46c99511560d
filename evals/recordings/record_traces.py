"""Recording what the trace tools read: a TraceBackend that forwards every call and keeps the spans of
every trace it returned, written as OTLP JSON lines (the Collector file exporter's format).

Every trace a search returned is kept whole, so a replay's search over the recorded spans returns the
same traces: a recorded trace that matches a query was either among that query's answers or older
than all of them. Spans that started after `as_of` are left out (a replay must not read the future),
and string attributes go through `redact`: span attributes (URLs, statements) can carry credentials.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tools.redact import redact
from tools.traces.backend import AttributeValue, Span, Trace, TraceBackend, TraceQuery
from tools.traces.graph import calls_in

SPANS_PER_LINE = 1000
_KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS_ERROR = 2


@dataclass
class TraceCapture:
    spans: dict[str, dict[str, Span]] = field(default_factory=dict)  # trace id → span id → span
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, trace: Trace) -> None:
        with self._lock:  # tools run on several threads at once
            self.spans.setdefault(trace.trace_id, {}).update({s.span_id: s for s in trace.spans})

    def traces(self, as_of: datetime) -> list[Trace]:
        """The captured traces as known at `as_of`."""
        out = []
        for trace_id, spans in sorted(self.spans.items()):
            seen = Trace(trace_id=trace_id, spans=list(spans.values())).seen_at(as_of)
            if seen is not None:
                out.append(seen)
        return out


class RecordingTraces:
    """A TraceBackend that forwards to `inner` and keeps every trace it answered."""

    def __init__(self, inner: TraceBackend, capture: TraceCapture) -> None:
        self.inner = inner
        self.capture = capture

    def services(self) -> list[str]:
        return self.inner.services()

    def search(self, query: TraceQuery) -> list[Trace]:
        found = self.inner.search(query)
        for trace in found:
            self.capture.add(trace)
        return found

    def get_trace(self, trace_id: str) -> Trace | None:
        found = self.inner.get_trace(trace_id)
        if found is not None:
            self.capture.add(found)
        return found

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def call_graph(traces: list[Trace]) -> dict[str, set[str]]:
    """Caller → callees, from the cross-service calls in `traces` (tools/traces/graph.py's rules)."""
    calls: dict[str, set[str]] = defaultdict(set)
    for trace in traces:
        for call in calls_in(trace):
            calls[call.caller].add(call.callee)
    return dict(calls)


def _value(value: AttributeValue) -> dict[str, object]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64 is a string in OTLP JSON
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": redact(value)}


def _span(span: Span) -> dict[str, object]:
    out: dict[str, object] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": _KINDS[span.kind],
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": [{"key": k, "value": _value(v)} for k, v in sorted(span.attributes.items())],
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    if span.error:
        out["status"] = {"code": _STATUS_ERROR}
    return out


def _request(spans: list[Span]) -> dict[str, object]:
    """One ExportTraceServiceRequest: a resource (service.name) per service, one scope each."""
    by_service: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_service[span.service].append(span)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "medic.record"}, "spans": [_span(s) for s in group]}],
            }
            for service, group in sorted(by_service.items())
        ]
    }


def write_spans(traces: list[Trace], path: Path) -> int:
    """The spans of `traces` as OTLP JSON lines at `path`; returns how many spans were written."""
    spans = sorted((s for t in traces for s in t.spans), key=lambda s: (s.start_ns, s.trace_id, s.span_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for begin in range(0, len(spans), SPANS_PER_LINE):
            request = _request(spans[begin : begin + SPANS_PER_LINE])
            out.write(json.dumps(request, separators=(",", ":"), sort_keys=True) + "\n")
    return len(spans)
