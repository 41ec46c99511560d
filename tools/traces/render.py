"""Compact text and JSON renderings of traces for tool summaries and `data` (short: they cost tokens)."""

from __future__ import annotations

from pydantic import JsonValue

from tools.summary import fmt_number
from tools.traces.backend import Span, Trace


def trace_row(trace: Trace, span: Span) -> str:
    """One line per trace found: the matching span first, then the trace it belongs to."""
    root = trace.root
    return (
        f"{trace.trace_id} {span.start:%H:%M:%S} {span.name} {fmt_number(span.duration_ms)}ms"
        f"{' ERROR' if span.error else ''}; trace {fmt_number(trace.duration_ms)}ms from {root.service} "
        f"{root.name}, {len(trace.spans)} spans{', errors' if trace.error else ''}"
    )


def span_row(span: Span, trace: Trace) -> dict[str, JsonValue]:
    root = trace.root
    return {
        "trace_id": trace.trace_id,
        "span_id": span.span_id,
        "start": span.start.isoformat(),
        "operation": span.name,
        "duration_ms": span.duration_ms,
        "error": span.error,
        "trace_duration_ms": trace.duration_ms,
        "trace_error": trace.error,
        "root": f"{root.service} {root.name}",
        "span_count": len(trace.spans),
        "services": list(trace.services),
    }


def tree_lines(trace: Trace) -> tuple[list[str], list[dict[str, JsonValue]]]:
    """Depth-first lines, indented by depth: `+offset service operation duration [ERROR]`, and the rows."""
    origin = trace.start_ns
    lines: list[str] = []
    rows: list[dict[str, JsonValue]] = []
    seen: set[str] = set()
    stack: list[tuple[Span, int]] = [(r, 0) for r in reversed(trace.roots)]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        offset_ms = (span.start_ns - origin) / 1e6
        status = " ERROR" + _error_detail(span) if span.error else ""
        lines.append(
            f"{'  ' * depth}+{fmt_number(offset_ms)}ms {span.service} {span.name} "
            f"{fmt_number(span.duration_ms)}ms{'' if span.kind in ('unspecified', 'internal') else ' ' + span.kind}"
            f"{status}"
        )
        rows.append(
            {
                "span_id": span.span_id,
                "parent_span_id": span.parent_span_id,
                "depth": depth,
                "service": span.service,
                "operation": span.name,
                "kind": span.kind,
                "offset_ms": offset_ms,
                "duration_ms": span.duration_ms,
                "error": span.error,
            }
        )
        stack.extend((c, depth + 1) for c in reversed(trace.children.get(span.span_id, [])))
    return lines, rows


def _error_detail(span: Span) -> str:
    """The most telling error attribute, if the instrumentation recorded one."""
    for key in (
        "http.response.status_code",
        "http.status_code",
        "rpc.grpc.status_code",
        "exception.type",
        "error.type",
        "otel.status_description",
    ):
        if key in span.attributes:
            return f" ({key}={span.attributes[key]})"
    return ""
