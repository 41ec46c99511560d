"""Distributed traces: one Protocol (`TraceBackend`) over the OTLP file, Jaeger and Tempo backends,
normalized span/trace models, and the trace read tools built on them."""

from tools.traces.backend import Span, SpanKind, Trace, TraceBackend, TraceQuery
from tools.traces.config import TracesConfig

__all__ = ["Span", "SpanKind", "Trace", "TraceBackend", "TraceQuery", "TracesConfig"]
