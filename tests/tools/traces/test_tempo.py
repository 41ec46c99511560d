"""The Tempo client against a loopback server answering in Tempo's real JSON shapes: search summaries,
and trace-by-id as OTLP JSON `batches` with base64 ids (what Tempo's protobuf-to-JSON marshalling writes)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from tests.tools.traces.loopback import Route, closed_port_url, serve, silent_server
from tests.tools.traces.otel_traces import SdkTraces, build_shop
from tools.errors import BackendError, BackendTimeout
from tools.traces.backend import TraceQuery
from tools.traces.graph import dependency_graph
from tools.traces.tempo import TempoBackend, traceql

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000


def tempo_route(sdk: SdkTraces) -> Route:
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in sdk.finished:
        by_trace[span.context.trace_id].append(span)

    def route(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, object]:
        if path == "/api/v2/search/tag/resource.service.name/values":
            names = sorted({str(s.resource.attributes["service.name"]) for s in sdk.finished})
            return 200, {"tagValues": [{"type": "string", "value": n} for n in names], "metrics": {}}
        if path == "/api/search":
            start, end = int(params["start"]) * 10**9, int(params["end"]) * 10**9
            hits = []
            for tid, spans in by_trace.items():
                root = next(s for s in spans if s.parent is None)
                assert root.start_time is not None and root.end_time is not None
                if start <= root.start_time < end:
                    hits.append(
                        {
                            "traceID": format(tid, "x"),  # Tempo drops leading zeros here
                            "rootServiceName": root.resource.attributes["service.name"],
                            "rootTraceName": root.name,
                            "startTimeUnixNano": str(root.start_time),
                            "durationMs": (root.end_time - root.start_time) // 10**6,
                        }
                    )
            return 200, {
                "traces": hits[: int(params["limit"])],
                "metrics": {"inspectedTraces": len(by_trace)},
            }
        if path.startswith("/api/traces/"):
            found = by_trace.get(int(path.rsplit("/", 1)[1], 16))
            if found is None:
                return 404, {"error": "trace not found"}
            return 200, {"batches": MessageToDict(encode_spans(found))["resourceSpans"]}
        return 404, {}

    return route


@pytest.fixture(scope="module")
def shop() -> SdkTraces:
    sdk = SdkTraces()
    build_shop(sdk, T0_NS, 20)
    return sdk


def test_traceql_says_what_the_query_says() -> None:
    query = TraceQuery(
        service='we"ird', operation="Charge", start=T0, end=T0, min_duration_ms=250.5, errors_only=True
    )
    assert traceql(query) == (
        '{ resource.service.name = "we\\"ird" && name = "Charge" && duration >= 250500us && status = error }'
    )
    assert traceql(TraceQuery(start=T0, end=T0)) == "{}"


def test_search_fetches_whole_traces_and_keeps_query_semantics(shop: SdkTraces) -> None:
    with serve(tempo_route(shop)) as (url, recorded):
        backend = TempoBackend(url, timeout_s=5, tenant="team-a")
        assert backend.services() == ["cart", "checkout", "frontend", "payment"]
        slow = backend.search(
            TraceQuery(
                service="payment", start=T0, end=T0 + timedelta(minutes=1), min_duration_ms=100, limit=20
            )
        )
        search = next(r for r in recorded.requests if r[0] == "/api/search")
    assert sorted((t.root.start_ns - T0_NS) // 10**9 for t in slow) == [4, 9, 14, 19]
    assert search[1]["q"] == '{ resource.service.name = "payment" && duration >= 100000us }'
    assert (search[1]["start"], search[1]["end"]) == (str(T0_NS // 10**9), str(T0_NS // 10**9 + 60))
    assert all(headers["x-scope-orgid"] == "team-a" for _, _, headers in recorded.requests)
    # base64 ids decoded, the trace complete: the payment span's parent chain reaches the frontend root
    trace = slow[0]
    assert len(trace.trace_id) == 32 and trace.root.service == "frontend"
    assert {s.service for s in trace.spans} == {"frontend", "cart", "checkout", "payment"}


def test_graph_from_tempo_traces_matches_the_call_graph(shop: SdkTraces) -> None:
    with serve(tempo_route(shop)) as (url, _):
        traces = TempoBackend(url, timeout_s=5).search(
            TraceQuery(start=T0, end=T0 + timedelta(minutes=1), limit=50)
        )
    edges = {(e.caller, e.callee): (e.calls, e.errors) for e in dependency_graph(traces, 60)}
    assert edges == {
        ("frontend", "cart"): (20, 0),
        ("cart", "redis"): (20, 0),
        ("frontend", "checkout"): (20, 2),
        ("checkout", "payment"): (20, 2),
        ("checkout", "cart"): (20, 0),
    }


def test_unknown_trace_is_none_and_old_tempo_tag_endpoint_is_used(shop: SdkTraces) -> None:
    def old_tempo(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, object]:
        if path == "/api/search/tag/service.name/values":
            return 200, {"tagValues": ["cart", "frontend"]}
        return 404, {}

    with serve(old_tempo) as (url, _):
        backend = TempoBackend(url, timeout_s=5)
        assert backend.services() == ["cart", "frontend"]
        assert backend.get_trace("00" * 16) is None


def test_a_tempo_that_is_down_or_hung_fails_within_the_timeout() -> None:
    with pytest.raises(BackendError):
        TempoBackend(closed_port_url(), timeout_s=2).search(TraceQuery(start=T0, end=T0))
    with silent_server() as url:
        began = time.monotonic()
        with pytest.raises(BackendTimeout):
            TempoBackend(url, timeout_s=0.3).get_trace("ab" * 16)
        assert time.monotonic() - began < 2.0
