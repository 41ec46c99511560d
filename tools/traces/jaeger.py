"""The Jaeger backend: a client of the Jaeger query service's HTTP API (the one the Jaeger UI uses).

    GET /api/services                      {"data": ["frontend", ...]}
    GET /api/traces?service=&operation=&start=&end=&limit=&minDuration=&tags=
                                           {"data": [trace, ...]}
    GET /api/traces/{id}                   {"data": [trace]}, 404 when unknown

A trace is {"traceID", "spans": [{"traceID", "spanID", "operationName", "references", "startTime" (µs),
"duration" (µs), "tags": [{"key", "type", "value"}], "processID"}], "processes": {id: {"serviceName"}}}.
Jaeger requires `service` to search, so a search across all services asks each one in turn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx
from pydantic import JsonValue

from tools.errors import BackendError
from tools.traces.backend import AttributeValue, Span, SpanKind, Trace, TraceQuery, datetime_to_ns
from tools.traces.http import JsonHttp, as_list, as_object
from tools.traces.otlp_json import MalformedOtlp, normalize_id

_KINDS: dict[str, SpanKind] = {k: k for k in ("internal", "server", "client", "producer", "consumer")}


class JaegerBackend:
    def __init__(self, url: str, *, timeout_s: float, transport: httpx.BaseTransport | None = None) -> None:
        self._http = JsonHttp(url, name="jaeger", timeout_s=timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def services(self) -> list[str]:
        body = as_object(self._http.get("/api/services"), "jaeger /api/services")
        _raise_errors(body, "/api/services")
        return sorted(str(s) for s in as_list(body.get("data")))

    def search(self, query: TraceQuery) -> list[Trace]:
        services = [query.service] if query.service is not None else self.services()
        found: dict[str, Trace] = {}
        for service in services:
            for trace in self._search_one(service, query):
                if query.matches(trace):
                    found.setdefault(trace.trace_id, trace)
            if len(found) >= query.limit and query.service is None:
                break
        ordered = sorted(found.values(), key=lambda t: t.start_ns, reverse=True)
        return ordered[: query.limit]

    def _search_one(self, service: str, query: TraceQuery) -> list[Trace]:
        params: dict[str, str | int | float] = {
            "service": service,
            "start": datetime_to_ns(query.start) // 1000,
            "end": datetime_to_ns(query.end) // 1000,
            "limit": query.limit,
        }
        if query.operation is not None:
            params["operation"] = query.operation
        if query.min_duration_ms is not None:
            params["minDuration"] = f"{int(query.min_duration_ms * 1000)}us"
        if query.errors_only:
            params["tags"] = json.dumps({"error": "true"})
        body = as_object(self._http.get("/api/traces", params), "jaeger /api/traces")
        _raise_errors(body, "/api/traces")
        return [decode_trace(t) for t in as_list(body.get("data"))]

    def get_trace(self, trace_id: str) -> Trace | None:
        try:
            hex_id = normalize_id(trace_id, 16)
        except MalformedOtlp:
            return None  # not an id Jaeger could hold
        body = self._http.get(f"/api/traces/{hex_id}")
        if body is None:
            return None
        obj = as_object(body, "jaeger /api/traces/{id}")
        _raise_errors(obj, "/api/traces/{id}")
        traces = [decode_trace(t) for t in as_list(obj.get("data"))]
        return traces[0] if traces and traces[0].spans else None


def _raise_errors(body: Mapping[str, JsonValue], path: str) -> None:
    errors = body.get("errors")
    if errors:
        raise BackendError(f"jaeger {path}: {json.dumps(errors)[:300]}")


def decode_trace(raw: JsonValue) -> Trace:
    """One Jaeger trace (as in `data[]`) as a normalized Trace."""
    trace = as_object(raw, "jaeger trace")
    processes = trace.get("processes")
    services: dict[str, str] = {}
    if isinstance(processes, dict):
        for pid, process in processes.items():
            if isinstance(process, dict):
                services[pid] = str(process.get("serviceName", "unknown_service"))
    try:
        spans = [_span(as_object(s, "jaeger span"), services) for s in as_list(trace.get("spans"))]
        trace_id = normalize_id(trace.get("traceID") or (spans[0].trace_id if spans else ""), 16)
    except (MalformedOtlp, KeyError, TypeError, ValueError) as exc:
        raise BackendError(f"jaeger: malformed trace: {exc}") from exc
    return Trace(trace_id=trace_id, spans=spans)


def _span(raw: dict[str, JsonValue], services: Mapping[str, str]) -> Span:
    tags = _tags(raw.get("tags"))
    process = raw.get("process")
    if isinstance(process, dict) and "serviceName" in process:
        service = str(process["serviceName"])
    else:
        service = services.get(str(raw.get("processID")), "unknown_service")
    kind = _KINDS.get(str(tags.get("span.kind", "")).lower(), "unspecified")
    start_us = int(str(raw["startTime"]))
    error = tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR"
    return Span(
        trace_id=normalize_id(raw["traceID"], 16),
        span_id=normalize_id(raw["spanID"], 8),
        parent_span_id=_parent(raw),
        service=service,
        name=str(raw.get("operationName", "")),
        kind=kind,
        start_ns=start_us * 1000,
        end_ns=(start_us + int(str(raw.get("duration", 0)))) * 1000,
        error=error,
        attributes=tags,
    )


def _parent(raw: Mapping[str, JsonValue]) -> str | None:
    refs = [r for r in as_list(raw.get("references")) if isinstance(r, dict)]
    refs.sort(key=lambda r: r.get("refType") != "CHILD_OF")  # CHILD_OF first, then FOLLOWS_FROM
    for ref in refs:
        if ref.get("spanID"):
            return normalize_id(ref["spanID"], 8)
    legacy = raw.get("parentSpanID")
    return normalize_id(legacy, 8) if legacy and legacy != "0" else None


def _tags(raw: JsonValue | None) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for tag in as_list(raw):
        if isinstance(tag, dict) and "key" in tag:
            value = tag.get("value")
            out[str(tag["key"])] = value if isinstance(value, str | int | float | bool) else json.dumps(value)
    return out
