"""What real span data does to the trace rows: idle services, skewed clocks, missing parents, roots
marked in several ways, huge traces, and OpenTelemetry spans that do carry kinds and status."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.tools.traces.otel_traces import SdkTraces, build_shop
from tests.tools.traces.signal_shop import GRID, MS, ONSET, STEP, T0, Hop, TraceBuilder, rows
from tools.anomaly.rank import rank_root_causes
from tools.traces.backend import Span, TraceQuery, ns_to_datetime
from tools.traces.otlp_file import OtlpFileBackend
from tools.traces.requests import trace_requests
from tools.traces.signals import trace_calls, trace_signals
from tools.traces.trace_rows import TraceSignalConfig


def _service(s: Span) -> str:
    return s.service


def test_an_idle_service_with_one_slow_call_does_not_explode() -> None:
    """Checkout calls payment once every 40 s (about 1.5 calls a minute); one charge takes 2 s."""
    builder = TraceBuilder()
    for i, t in enumerate(np.arange(T0, T0 + 1800, 40.0)):
        builder.checkout(float(t), Hop(pay_ms=2000.0 if i == 31 else 20.0))  # 20 min 40 s
    matrix = trace_signals(builder.spans, GRID, STEP)
    r = rows(matrix)
    # a p90 needs 10 requests and 5 minutes hold 7 or 8: never a percentile of two spans
    assert ("payment", "trace_latency_p90") not in r
    # the median of the latest 5 ignores the one slow call
    own = r["payment", "trace_self_time_p50"]
    assert np.nanmax(own) == pytest.approx(20.0, abs=0.5)
    assert np.isnan(own[:2]).all() and not np.isnan(own[2])  # 5 requests by the end of minute 3
    assert np.nansum(r["payment", "trace_requests"]) == 45  # every request is still counted
    ranking = rank_root_causes(matrix, ONSET, trace_calls(builder.spans))
    assert not ranking.anomalous, ranking.candidates[0]


def test_busy_services_keep_per_step_values_and_pools_expire() -> None:
    busy = TraceBuilder()
    for t in np.arange(T0, T0 + 1800, 1.0):
        minute = int((t - T0) // 60)
        busy.checkout(float(t), Hop(pay_ms=10.0 + minute))  # each minute its own charge time
    own = rows(trace_signals(busy.spans, GRID, STEP))["payment", "trace_self_time_p50"]
    assert own == pytest.approx(10.0 + np.arange(30))  # no smearing from earlier minutes
    sparse = TraceBuilder()
    for t in (T0 + 10, T0 + 20, T0 + 30, T0 + 900, T0 + 910):
        sparse.checkout(t, Hop())
    r = rows(trace_signals(sparse.spans, GRID, STEP))
    assert ("checkout", "trace_self_time_p50") not in r  # never 5 requests within 5 minutes
    assert np.nansum(r["checkout", "trace_requests"]) == 5
    longer = rows(trace_signals(sparse.spans, GRID, STEP, config=TraceSignalConfig(pool_s=1200.0)))
    assert np.flatnonzero(~np.isnan(longer["checkout", "trace_self_time_p50"])).tolist() == [15]


def test_clock_skew_between_pods_never_makes_self_time_negative() -> None:
    """No client spans: checkout's span parents payment's directly, and payment's clock runs 30 ms
    behind, so its span starts before and ends after its parent's."""
    base = T0 * 1_000_000_000

    def span(sid: str, parent: str | None, service: str, lo_ms: float, hi_ms: float) -> Span:
        return Span(
            trace_id="a" * 32,
            span_id=sid * 16,
            parent_span_id=parent * 16 if parent else None,
            service=service,
            name=f"{service} op",
            start_ns=base + int(lo_ms * MS),
            end_ns=base + int(hi_ms * MS),
        )

    spans = [
        span("1", None, "checkout", 0, 50),
        span("2", "1", "payment", -30, 70),  # skewed: covers all of its parent
        span("3", "2", "payment", -10, 60),
        span("4", "1", "ledger", 40, 30),  # ends before it starts: a duration of 0
    ]
    requests, _ = trace_requests(spans, _service)
    own = {r.service: r.self_ms for r in requests}
    # checkout: 50 ms minus a child of 100 ms would be -50; the child is clipped to the parent: 0
    assert own == {"checkout": 0.0, "payment": pytest.approx(100.0), "ledger": 0.0}
    assert all(r.latency_ms >= 0 for r in requests)


@pytest.mark.parametrize("root_parent", [None, "root", "", "0000000000000000"])
def test_roots_marked_in_any_way_and_missing_parents_still_give_requests(root_parent: str | None) -> None:
    builder = TraceBuilder()
    for t in np.arange(T0, T0 + 600, 5.0):
        builder.checkout(float(t), Hop(), root_parent=root_parent)
    # incomplete traces: checkout's spans arrived, the frontend's did not
    for t in np.arange(T0 + 600, T0 + 1800, 5.0):
        builder.checkout(float(t), Hop(), with_frontend=False, root_parent="feedfacefeedface")
    r = rows(trace_signals(builder.spans, GRID, STEP))
    assert np.all(r["checkout", "trace_requests"] == 12)
    assert np.nanmedian(r["checkout", "trace_latency_p90"]) == pytest.approx(32.0, abs=0.1)
    assert np.all(np.isnan(r["checkout", "trace_callers_latency_p90"][GRID >= T0 + 600 + 300]))
    assert np.nanmedian(r["payment", "trace_callers_latency_p90"]) == pytest.approx(22.0, abs=0.1)


def test_a_huge_trace_is_read_in_linear_time_with_bounded_patterns() -> None:
    base = T0 * 1_000_000_000
    spans = [
        Span(
            trace_id="b" * 32,
            span_id=f"{0:016x}",
            service="batch",
            name="run",
            start_ns=base,
            end_ns=base + 60_000 * MS,
        )
    ]
    for i in range(1, 10_000):
        spans.append(
            Span(
                trace_id="b" * 32,
                span_id=f"{i:016x}",
                parent_span_id=f"{(i - 1) // 2:016x}",  # a deep binary tree
                service="batch" if i % 7 else "store",
                name=f"step-{i % 500}-{i}",
                start_ns=base + i * MS,
                end_ns=base + (i + 2) * MS,
            )
        )
    started = time.perf_counter()
    requests, _ = trace_requests(spans, _service, max_items=24)
    assert time.perf_counter() - started < 5.0
    assert sum(r.service == "store" for r in requests) > 1000
    batch = next(r for r in requests if r.service == "batch" and r.latency_ms == 60_000)
    assert len(batch.pattern[1]) <= 24 and len(batch.pattern[2]) <= 24
    assert {name.split("-")[0] for name in batch.pattern[1]} == {"step"}  # ids folded: step-#-#


def test_otel_spans_with_kinds_and_status(tmp_path: Path) -> None:
    """The SDK shop: client spans with kinds, a redis call to an uninstrumented peer, errors on every
    10th charge; the traces go through the otlp-file backend as the tool would read them."""
    sdk = SdkTraces()
    build_shop(sdk, T0 * 1_000_000_000, 120)
    backend = OtlpFileBackend(sdk.write_collector_file(tmp_path / "t.jsonl"))
    query = TraceQuery(
        start=ns_to_datetime(T0 * 1_000_000_000), end=ns_to_datetime((T0 + 600) * 1_000_000_000), limit=500
    )
    spans = [s for t in backend.search(query) for s in t.spans]
    assert {s.kind for s in spans} >= {"client", "server"}
    r = rows(trace_signals(spans, GRID[:2], STEP))
    assert r["payment", "trace_error_ratio"][0] == pytest.approx(0.1)
    assert r["checkout", "trace_error_ratio"][0] == pytest.approx(0.1)
    assert r["cart", "trace_error_ratio"][0] == 0.0
    # payment's server span is 1 ms shorter than checkout's client span around it
    assert r["payment", "trace_callers_latency_p90"][0] - r["payment", "trace_latency_p90"][
        0
    ] == pytest.approx(1.0)
    # cart's HGET to redis has no instrumented child, so it is cart's own time (redis is no service
    # here): GetCart holds 4 ms (2 without it), EmptyCart 3 ms; their median
    assert r["cart", "trace_self_time_p50"][0] == pytest.approx(3.5)
    assert r["checkout", "trace_calls_to:payment"][0] == 1.0
    assert (
        r["cart", "trace_requests"][0] == 120
    )  # GetCart and EmptyCart: two requests per trace, 60 traces a minute
