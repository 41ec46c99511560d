"""The trace read tools: slow or failing traces of a service, one trace as a tree, the service dependency
graph with per-edge stats, and a trace's critical path. Windows end at `ctx.as_of` (DESIGN §3.2).

Every tool bounds its work by `TracesConfig.max_traces` and its summary by `ToolsConfig.summary_max_tokens`,
and says when it left something out.
"""

from __future__ import annotations

import difflib
from datetime import timedelta

import numpy as np
from pydantic import BaseModel, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import BackendError, UnknownEntity
from tools.summary import bounded_summary, fmt_number
from tools.traces.backend import Span, Trace, TraceBackend, TraceQuery
from tools.traces.critical_path import critical_path
from tools.traces.graph import dependency_graph
from tools.traces.render import span_row, trace_row, tree_lines

TRACE_ID = r"^[0-9a-fA-F]{1,32}$"


class FindTracesInput(BaseModel):
    service: str = Field(description="service name as it appears in traces (resource service.name)")
    lookback_minutes: int = Field(
        30, ge=1, le=1440, description="window length, ending at the investigation time"
    )
    min_duration_ms: float | None = Field(
        None, ge=0, description="only spans of the service at least this slow"
    )
    errors_only: bool = Field(False, description="only spans of the service with error status")
    operation: str | None = Field(None, description="only this span name, e.g. 'GET /cart'")
    limit: int = Field(10, ge=1, le=50, description="traces to list")


class TraceIdInput(BaseModel):
    trace_id: str = Field(pattern=TRACE_ID, description="hex trace id, as listed by find_traces")


class DependencyGraphInput(BaseModel):
    lookback_minutes: int = Field(
        15, ge=1, le=1440, description="window length, ending at the investigation time"
    )
    service: str | None = Field(None, description="only edges from or to this service")


def _backend(ctx: ToolContext) -> TraceBackend:
    if ctx.traces is None:
        raise BackendError(
            "no trace backend is configured (set MEDIC_TRACES_BACKEND: otlp-file, jaeger or tempo)"
        )
    return ctx.traces


def _check_service(backend: TraceBackend, service: str) -> None:
    known = backend.services()
    if service not in known:
        close = difflib.get_close_matches(service, known, n=3, cutoff=0.5)
        raise UnknownEntity(
            f"no spans from service {service!r} in the trace backend", closest=close or known[:5]
        )


def _window(ctx: ToolContext, minutes: int) -> tuple[TraceQuery, float]:
    start = ctx.as_of - timedelta(minutes=minutes)
    return TraceQuery(start=start, end=ctx.as_of, limit=ctx.config.traces.max_traces), minutes * 60.0


def _seen_at(traces: list[Trace], ctx: ToolContext) -> list[Trace]:
    return [t for t in (trace.seen_at(ctx.as_of) for trace in traces) if t is not None]


def _trace_evidence_id(tool_name: str, subject: str, ctx: ToolContext, *key: object) -> str:
    """A citeable id per observation: the tool, what it looked at (window, filters) and as_of are in the
    key, so two tools or two windows never share an id and a replay at the same as_of gets the same one."""
    return evidence_id("traces", tool_name, subject, *key, ctx.as_of.isoformat())


def _get(ctx: ToolContext, trace_id: str) -> Trace:
    found = _backend(ctx).get_trace(trace_id.lower().zfill(32))
    trace = found.seen_at(ctx.as_of) if found is not None else None
    if trace is None:
        raise UnknownEntity(f"trace {trace_id} not found (traces expire; list recent ones with find_traces)")
    return trace


@tool(effect="read")
def find_traces(ctx: ToolContext, args: FindTracesInput) -> ToolResult:
    """Find slow or failing traces of one service in the last `lookback_minutes` before the investigation
    time, slowest matching span first. Use it to get trace ids for get_trace and trace_critical_path."""
    backend = _backend(ctx)
    _check_service(backend, args.service)
    window, _ = _window(ctx, args.lookback_minutes)
    query = window.model_copy(
        update={
            "service": args.service,
            "operation": args.operation,
            "min_duration_ms": args.min_duration_ms,
            "errors_only": args.errors_only,
        }
    )
    traces = _seen_at(backend.search(query), ctx)
    filters = _describe_filters(args)
    where = f"{args.service}{filters} in the {args.lookback_minutes}m before {ctx.as_of:%Y-%m-%dT%H:%M:%SZ}"
    hits: list[tuple[Trace, Span]] = []
    for trace in traces:
        matched = [s for s in trace.spans if query.span_matches(s)]
        if matched:
            hits.append((trace, max(matched, key=lambda s: s.duration_ns)))
    if not hits:
        return ToolResult(
            status="no_data", summary=f"no traces of {where}", data={"query": query.model_dump(mode="json")}
        )
    hits.sort(key=lambda h: (-h[1].duration_ns, h[0].trace_id))
    durations = np.asarray([span.duration_ms for _, span in hits])
    p50, p99 = (float(v) for v in np.percentile(durations, [50, 99]))
    capped = len(traces) >= query.limit
    shown = hits[: args.limit]
    stats: dict[str, JsonValue] = {
        "traces": len(hits),
        "capped_at_max_traces": capped,
        "error_spans": sum(span.error for _, span in hits),
        "p50_ms": p50,
        "p99_ms": p99,
    }
    header = (
        f"{len(hits)}{'+' if capped else ''} traces of {where}; {args.service} span p50 {fmt_number(p50)}ms "
        f"p99 {fmt_number(p99)}ms, {stats['error_spans']} with errors. Slowest first:"
    )
    lines = [trace_row(trace, span) for trace, span in shown]
    summary, cut = bounded_summary(
        header, lines, max_tokens=ctx.config.summary_max_tokens, unit="traces", total=len(hits)
    )
    return ToolResult(
        status="ok",
        summary=summary,
        truncated=cut or capped,
        data={
            "query": query.model_dump(mode="json"),
            "stats": stats,
            "traces": [span_row(span, trace) for trace, span in shown],
        },
        evidence=[
            Evidence(
                id=_trace_evidence_id(
                    "find_traces", trace.trace_id, ctx, args.model_dump_json(), trace.trace_id
                ),
                source="traces",
                query=f"find_traces {args.model_dump_json(exclude_defaults=True)}",
                description=f"{args.service} {span.name} took {fmt_number(span.duration_ms)}ms"
                f"{' with error' if span.error else ''} in trace {trace.trace_id}",
            )
            for trace, span in shown
        ],
    )


def _describe_filters(args: FindTracesInput) -> str:
    parts = []
    if args.operation:
        parts.append(f"operation {args.operation!r}")
    if args.min_duration_ms is not None:
        parts.append(f">= {fmt_number(args.min_duration_ms)}ms")
    if args.errors_only:
        parts.append("errors only")
    return f" ({', '.join(parts)})" if parts else ""


@tool(effect="read")
def get_trace(ctx: ToolContext, args: TraceIdInput) -> ToolResult:
    """One trace as a compact tree: each span's service, operation, start offset, duration and errors."""
    trace = _get(ctx, args.trace_id)
    root = trace.root
    errors = [s for s in trace.spans if s.error]
    header = (
        f"trace {trace.trace_id}: {fmt_number(trace.duration_ms)}ms, {len(trace.spans)} spans, "
        f"services {', '.join(trace.services)}; {len(errors)} error spans"
        + (f" (first: {errors[0].service} {errors[0].name})" if errors else "")
        + (f"; incomplete: {len(trace.roots)} root spans" if len(trace.roots) > 1 else "")
    )
    lines, rows = tree_lines(trace)
    summary, cut = bounded_summary(header, lines, max_tokens=ctx.config.summary_max_tokens, unit="spans")
    max_rows = ctx.config.traces.max_traces
    return ToolResult(
        status="ok",
        summary=summary,
        truncated=cut or len(rows) > max_rows,
        data={
            "trace_id": trace.trace_id,
            "duration_ms": trace.duration_ms,
            "span_count": len(trace.spans),
            "services": list(trace.services),
            "error_spans": len(errors),
            "root": f"{root.service} {root.name}",
            "spans": rows[:max_rows],
        },
        evidence=[
            Evidence(
                id=_trace_evidence_id("get_trace", trace.trace_id, ctx, trace.trace_id),
                source="traces",
                query=f"get_trace {trace.trace_id}",
                description=header,
            )
        ],
    )


@tool(effect="read")
def service_dependencies(ctx: ToolContext, args: DependencyGraphInput) -> ToolResult:
    """The service dependency graph seen in traces in the last `lookback_minutes`: for each caller→callee
    edge, calls per second, error ratio and latency p50/p99 as the caller saw it. Worst edges first."""
    backend = _backend(ctx)
    if args.service is not None:
        _check_service(backend, args.service)
    window, window_s = _window(ctx, args.lookback_minutes)
    traces = _seen_at(backend.search(window.model_copy(update={"service": args.service})), ctx)
    edges = dependency_graph(traces, window_s)
    if args.service is not None:
        edges = [e for e in edges if args.service in (e.caller, e.callee)]
    scope = f" touching {args.service}" if args.service else ""
    if not edges:
        return ToolResult(
            status="no_data",
            summary=f"no cross-service calls{scope} in {len(traces)} traces of the "
            f"{args.lookback_minutes}m before {ctx.as_of:%Y-%m-%dT%H:%M:%SZ}",
        )
    capped = len(traces) >= window.limit
    worst = sorted(edges, key=lambda e: (-e.error_ratio, -e.p99_ms))
    header = (
        f"{len(edges)} edges{scope} from {len(traces)} traces in the {args.lookback_minutes}m before "
        f"{ctx.as_of:%Y-%m-%dT%H:%M:%SZ}"
        + (f" (capped at {window.limit} traces: rates are lower bounds)" if capped else "")
        + "; worst first:"
    )
    lines = [
        f"{e.caller} -> {e.callee}: {e.calls} calls ({fmt_number(e.rate_per_s)}/s), errors {e.error_ratio:.1%}, "
        f"p50 {fmt_number(e.p50_ms)}ms p99 {fmt_number(e.p99_ms)}ms"
        for e in worst
    ]
    summary, cut = bounded_summary(header, lines, max_tokens=ctx.config.summary_max_tokens, unit="edges")
    return ToolResult(
        status="ok",
        summary=summary,
        truncated=cut or capped,
        data={
            "traces": len(traces),
            "capped_at_max_traces": capped,
            "window_s": window_s,
            "edges": [e.model_dump(mode="json") for e in edges],
        },
        evidence=[
            Evidence(
                id=_trace_evidence_id(
                    "service_dependencies",
                    f"{e.caller}->{e.callee}",
                    ctx,
                    args.lookback_minutes,
                    args.service,
                    e.caller,
                    e.callee,
                ),
                source="traces",
                description=line,
                query=f"service_dependencies {args.lookback_minutes}m",
            )
            for e, line in zip(worst, lines, strict=True)
            if e.error_ratio > 0
        ][:10],
    )


@tool(effect="read")
def trace_critical_path(ctx: ToolContext, args: TraceIdInput) -> ToolResult:
    """Which spans hold a trace's time: its critical path, with the time each span holds on it. The span
    holding the most is where the latency comes from."""
    trace = _get(ctx, args.trace_id)
    steps = critical_path(trace)
    root = trace.root
    if not steps:
        return ToolResult(
            status="no_data",
            summary=f"trace {trace.trace_id} has no critical path: its root span ({root.service} "
            f"{root.name}) lasted 0ms",
            data={"trace_id": trace.trace_id, "duration_ms": root.duration_ms, "path": []},
        )
    top = max(steps, key=lambda s: s.critical_ms)
    header = (
        f"critical path of trace {trace.trace_id} ({root.service} {root.name}, {fmt_number(root.duration_ms)}ms): "
        f"{top.service} {top.name} holds {fmt_number(top.critical_ms)}ms ({top.share:.0%})"
        + (
            f"; trace incomplete ({len(trace.roots)} roots), path from the earliest"
            if len(trace.roots) > 1
            else ""
        )
    )
    ranked = sorted(steps, key=lambda s: -s.critical_ms)
    lines = [
        f"{s.service} {s.name}: {fmt_number(s.critical_ms)}ms on the path ({s.share:.0%}) of "
        f"{fmt_number(s.duration_ms)}ms{' ERROR' if s.error else ''}"
        for s in ranked
    ]
    summary, cut = bounded_summary(header, lines, max_tokens=ctx.config.summary_max_tokens, unit="spans")
    return ToolResult(
        status="ok",
        summary=summary,
        truncated=cut,
        data={
            "trace_id": trace.trace_id,
            "duration_ms": root.duration_ms,
            "bottleneck": top.model_dump(mode="json"),
            "path": [s.model_dump(mode="json") for s in steps],
        },
        evidence=[
            Evidence(
                id=_trace_evidence_id("trace_critical_path", trace.trace_id, ctx, trace.trace_id),
                source="traces",
                description=header,
                query=f"trace_critical_path {trace.trace_id}",
            )
        ],
    )


TRACE_TOOLS = (find_traces, get_trace, service_dependencies, trace_critical_path)
