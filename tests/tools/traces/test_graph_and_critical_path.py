"""The dependency graph equals the call graph that generated the spans; the critical path finds the slow span."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.tools.traces.otel_traces import MS, SdkTraces, build_shop
from tools.traces.backend import Span, Trace, TraceQuery
from tools.traces.critical_path import critical_path, critical_segments
from tools.traces.graph import calls_in, dependency_graph
from tools.traces.otlp_file import OtlpFileBackend

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BASE_NS = int(BASE.timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def shop_traces(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Trace], dict[str, dict[str, int]]]:
    sdk = SdkTraces()
    expected = build_shop(sdk, BASE_NS, 50)
    path = sdk.write_collector_file(Path(tmp_path_factory.mktemp("shop")) / "t.jsonl")
    traces = OtlpFileBackend(path).search(TraceQuery(start=BASE, end=BASE + timedelta(minutes=5), limit=1000))
    return traces, expected


def test_graph_edges_calls_and_errors_match_the_generated_call_graph(
    shop_traces: tuple[list[Trace], dict[str, dict[str, int]]],
) -> None:
    traces, expected = shop_traces
    edges = {f"{e.caller}->{e.callee}": e for e in dependency_graph(traces, window_s=50.0)}
    assert edges.keys() == expected["calls"].keys()
    for name, edge in edges.items():
        assert edge.calls == expected["calls"][name], name
        assert edge.errors == expected["errors"][name], name
        assert edge.rate_per_s == pytest.approx(expected["calls"][name] / 50.0)
    # payment: 300 ms in 1 of 5 traces, 20 ms otherwise, as the caller's client span saw it (20 ms + 0 network)
    charge = edges["checkout->payment"]
    assert charge.p50_ms == pytest.approx(20.0)
    assert charge.p99_ms == pytest.approx(300.0)
    assert charge.error_ratio == pytest.approx(0.1)
    assert edges["cart->redis"].p50_ms == pytest.approx(2.0)  # a client span to an uninstrumented peer


def span(
    sid: str, parent: str | None, service: str, start_ms: int, end_ms: int, kind: str = "server"
) -> Span:
    return Span(
        trace_id="ab" * 16,
        span_id=sid.rjust(16, "0"),
        parent_span_id=parent.rjust(16, "0") if parent else None,
        service=service,
        name=f"op-{sid}",
        kind=kind,
        start_ns=start_ms * MS,
        end_ns=end_ms * MS,
        error=sid == "e",
    )


def test_parent_child_across_services_counts_once_without_client_spans() -> None:
    trace = Trace(
        trace_id="ab" * 16,
        spans=[
            span("1", None, "gateway", 0, 100),
            span("2", "1", "orders", 10, 60),  # server-to-server, no client span: latency is the child's
            span("3", "2", "orders", 12, 20, "internal"),
            span("e", "2", "stock", 20, 50),
            span("5", "1", "gateway", 61, 99, "client"),
            span("6", "5", "billing", 62, 98),
            span("7", "5", "billing", 62, 70),  # a retry answered by a second server span: still one call
        ],
    )
    calls = sorted((c.caller, c.callee, c.duration_ms, c.error) for c in calls_in(trace))
    assert calls == [
        ("gateway", "billing", 38.0, False),
        ("gateway", "orders", 50.0, False),
        ("orders", "stock", 30.0, True),
    ]


def test_critical_path_splits_the_root_exactly() -> None:
    trace = Trace(
        trace_id="ab" * 16,
        spans=[
            span("r", None, "api", 0, 100),
            span("a", "r", "api", 5, 30),  # overlaps b: only its part before b started is waited for
            span("b", "r", "db", 10, 90),
            span("c", "b", "db", 15, 85),  # the slow one
            span("d", "r", "cache", 92, 98),
            span("x", "r", "audit", 95, 140),  # async: outlives the root, clipped
        ],
    )
    segments = critical_segments(trace)
    assert [(s.span_id.lstrip("0"), s.start_ns // MS, s.end_ns // MS) for s in segments] == [
        ("r", 0, 5),
        ("a", 5, 10),
        ("b", 10, 15),
        ("c", 15, 85),
        ("b", 85, 90),
        ("r", 90, 92),
        ("d", 92, 95),
        ("x", 95, 100),
    ]
    steps = {s.span_id.lstrip("0"): s for s in critical_path(trace)}
    assert sum(s.critical_ms for s in steps.values()) == pytest.approx(100.0)
    assert max(steps.values(), key=lambda s: s.critical_ms).span_id.lstrip("0") == "c"
    assert steps["c"].share == pytest.approx(0.70)
    assert steps["c"].depth == 2


def test_critical_path_of_a_slow_shop_trace_is_held_by_payment(
    shop_traces: tuple[list[Trace], dict[str, dict[str, int]]],
) -> None:
    traces, _ = shop_traces
    slow = next(t for t in traces if t.root.start_ns == BASE_NS + 4 * 1000 * MS)
    top = max(critical_path(slow), key=lambda s: s.critical_ms)
    assert (top.service, top.name) == ("payment", "Charge")
    assert top.critical_ms == pytest.approx(299.0)  # 300 ms client span minus 2 x 0.5 ms network
    fast = next(t for t in traces if t.root.start_ns == BASE_NS)
    assert sum(s.critical_ms for s in critical_path(fast)) == pytest.approx(fast.root.duration_ms)
