"""The Tempo backend: a client of Grafana Tempo's HTTP API.

    GET /api/v2/search/tag/resource.service.name/values   {"tagValues": [{"type", "value"}]}
        (falls back to /api/search/tag/service.name/values {"tagValues": ["..."]} on older Tempo)
    GET /api/search?q=<TraceQL>&start=<s>&end=<s>&limit=   {"traces": [{"traceID", "rootServiceName",
                                                            "rootTraceName", "startTimeUnixNano", "durationMs"}]}
    GET /api/traces/{id}                                   OTLP JSON {"batches": [...]}, 404 when unknown
        (Tempo 2.x `/api/v2/traces/{id}` shape {"trace": {"resourceSpans": [...]}} is accepted too)

Search answers only summaries, so each hit is fetched whole (at most `limit` fetches) and checked
against the query again: the semantics stay those of `TraceQuery`, whatever Tempo's version does.
"""

from __future__ import annotations

import httpx
from pydantic import JsonValue

from tools.errors import BackendError
from tools.traces.backend import Trace, TraceQuery, datetime_to_ns
from tools.traces.http import JsonHttp, as_list, as_object
from tools.traces.otlp_json import MalformedOtlp, decode_request, normalize_id


class TempoBackend:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        tenant: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"X-Scope-OrgID": tenant} if tenant else None
        self._http = JsonHttp(url, name="tempo", timeout_s=timeout_s, headers=headers, transport=transport)

    def close(self) -> None:
        self._http.close()

    def services(self) -> list[str]:
        body = self._http.get("/api/v2/search/tag/resource.service.name/values")
        if body is None:
            body = self._http.get("/api/search/tag/service.name/values")
        values = as_list(as_object(body, "tempo tag values").get("tagValues"))
        names = [str(v.get("value")) if isinstance(v, dict) else str(v) for v in values]
        return sorted(set(names))

    def search(self, query: TraceQuery) -> list[Trace]:
        params: dict[str, str | int | float] = {
            "q": traceql(query),
            "start": datetime_to_ns(query.start) // 1_000_000_000,
            "end": -(-datetime_to_ns(query.end) // 1_000_000_000),  # rounded up: the window stays inside
            "limit": query.limit,
        }
        body = as_object(self._http.get("/api/search", params), "tempo /api/search")
        hits = [h for h in as_list(body.get("traces")) if isinstance(h, dict)]
        hits.sort(key=lambda h: int(str(h.get("startTimeUnixNano") or 0)), reverse=True)
        found: list[Trace] = []
        for hit in hits[: query.limit]:
            trace = self.get_trace(str(hit.get("traceID", "")))
            if trace is not None and query.matches(trace):
                found.append(trace)
        return found

    def get_trace(self, trace_id: str) -> Trace | None:
        try:
            hex_id = normalize_id(trace_id, 16)
        except MalformedOtlp:
            return None  # not an id Tempo could hold
        body = self._http.get(f"/api/traces/{hex_id}")
        if body is None:
            return None
        return decode_tempo_trace(body, hex_id)


def decode_tempo_trace(body: JsonValue, trace_id: str) -> Trace | None:
    """A Tempo trace-by-id answer (v1 `batches` or v2 `trace.resourceSpans`) as a Trace."""
    doc = as_object(body, "tempo /api/traces/{id}")
    inner = doc.get("trace")
    if isinstance(inner, dict):
        doc = inner
    try:
        spans = list(decode_request(doc))
    except MalformedOtlp as exc:
        raise BackendError(f"tempo: malformed trace {trace_id}: {exc}") from exc
    return Trace(trace_id=trace_id, spans=spans) if spans else None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def traceql(query: TraceQuery) -> str:
    """The TraceQL span selector with the same meaning as `query` (one span must satisfy all of it)."""
    conditions: list[str] = []
    if query.service is not None:
        conditions.append(f"resource.service.name = {_quote(query.service)}")
    if query.operation is not None:
        conditions.append(f"name = {_quote(query.operation)}")
    if query.min_duration_ms is not None:
        conditions.append(f"duration >= {int(query.min_duration_ms * 1000)}us")
    if query.errors_only:
        conditions.append("status = error")
    return "{ " + " && ".join(conditions) + " }" if conditions else "{}"
