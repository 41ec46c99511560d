"""The otlp-file backend reads what the OpenTelemetry SDK + Collector file exporter write, faithfully."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind as OtelKind

from tests.tools.traces.otel_traces import MS, SdkTraces, build_shop
from tools.errors import BackendError
from tools.traces.backend import TraceQuery, ns_to_datetime
from tools.traces.otlp_file import OtlpFileBackend

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BASE_NS = int(BASE.timestamp()) * 1_000_000_000


@pytest.fixture()
def shop(tmp_path: Path) -> SdkTraces:
    traces = SdkTraces()
    build_shop(traces, BASE_NS, 20)
    return traces


@pytest.mark.parametrize(
    "collector", [True, False], ids=["collector-hex-int-enums", "protobuf-base64-enum-names"]
)
def test_every_sdk_span_is_read_back_exactly(shop: SdkTraces, tmp_path: Path, collector: bool) -> None:
    backend = OtlpFileBackend(shop.write_collector_file(tmp_path / "traces.jsonl", collector=collector))
    expected = {format(s.context.span_id, "016x"): s for s in shop.finished}
    read = {
        s.span_id: s
        for tid in {format(s.context.trace_id, "032x") for s in shop.finished}
        for s in (backend.get_trace(tid) or pytest.fail(f"trace {tid} missing")).spans
    }
    assert read.keys() == expected.keys()
    for span_id, sdk in expected.items():
        got = read[span_id]
        assert got.trace_id == format(sdk.context.trace_id, "032x")
        assert got.parent_span_id == (format(sdk.parent.span_id, "016x") if sdk.parent else None)
        assert got.service == sdk.resource.attributes["service.name"]
        assert (got.name, got.start_ns, got.end_ns) == (sdk.name, sdk.start_time, sdk.end_time)
        assert (
            got.kind
            == {OtelKind.SERVER: "server", OtelKind.CLIENT: "client", OtelKind.INTERNAL: "internal"}[sdk.kind]
        )
        assert got.error == (sdk.status.status_code.name == "ERROR")
        assert got.attributes == dict(sdk.attributes or {})
    assert backend.services() == ["cart", "checkout", "frontend", "payment"]


def test_search_filters_by_service_window_duration_and_error(shop: SdkTraces, tmp_path: Path) -> None:
    backend = OtlpFileBackend(shop.write_collector_file(tmp_path / "t.jsonl"))
    window = {"start": BASE, "end": BASE + timedelta(seconds=20), "limit": 100}
    assert len(backend.search(TraceQuery(service="payment", **window))) == 20
    # traces start one second apart: [5 s, 10 s) holds traces 5..9
    late = backend.search(
        TraceQuery(
            service="frontend", start=BASE + timedelta(seconds=5), end=BASE + timedelta(seconds=10), limit=100
        )
    )
    assert sorted(t.root.start_ns for t in late) == [BASE_NS + i * 1000 * MS for i in range(5, 10)]
    slow = backend.search(TraceQuery(service="payment", min_duration_ms=100, **window))
    assert sorted((t.root.start_ns - BASE_NS) // (1000 * MS) for t in slow) == [4, 9, 14, 19]
    # a slow trace contains slow frontend spans too, but cart's spans are never slow
    assert backend.search(TraceQuery(service="cart", min_duration_ms=100, **window)) == []
    failing = backend.search(TraceQuery(service="payment", errors_only=True, **window))
    assert sorted((t.root.start_ns - BASE_NS) // (1000 * MS) for t in failing) == [9, 19]
    newest = backend.search(TraceQuery(service="payment", **{**window, "limit": 3}))
    assert [(t.root.start_ns - BASE_NS) // (1000 * MS) for t in newest] == [19, 18, 17]


def test_reads_a_directory_and_sees_files_appear(shop: SdkTraces, tmp_path: Path) -> None:
    backend = OtlpFileBackend(tmp_path)
    assert backend.services() == []
    shop.write_collector_file(tmp_path / "a.json")
    assert "payment" in backend.services()
    later = SdkTraces()
    later.span("search", "GET /search", BASE_NS, BASE_NS + 5 * MS, kind=OtelKind.SERVER)
    later.write_collector_file(tmp_path / "b.jsonl")
    assert "search" in backend.services()


def test_a_half_written_last_line_is_skipped_but_garbage_is_reported(shop: SdkTraces, tmp_path: Path) -> None:
    path = shop.write_collector_file(tmp_path / "t.jsonl")
    complete = OtlpFileBackend(path).services()
    path.write_text(path.read_text() + '{"resourceSpans": [{"resour')
    assert OtlpFileBackend(path).services() == complete
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(BackendError, match=r"t\.jsonl:1"):
        OtlpFileBackend(path).services()
    bad_id = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "zz",
                                "spanId": "01",
                                "startTimeUnixNano": "1",
                                "endTimeUnixNano": "2",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    path.write_text(json.dumps(bad_id) + "\n")
    with pytest.raises(BackendError, match="neither hex nor base64"):
        OtlpFileBackend(path).services()
    with pytest.raises(BackendError, match="does not exist"):
        OtlpFileBackend(tmp_path / "missing").services()


def test_times_are_utc_nanoseconds(shop: SdkTraces, tmp_path: Path) -> None:
    backend = OtlpFileBackend(shop.write_collector_file(tmp_path / "t.jsonl"))
    first = min(
        (t for t in backend.search(TraceQuery(start=BASE, end=BASE + timedelta(minutes=1), limit=100))),
        key=lambda t: t.start_ns,
    )
    assert first.root.start == BASE == ns_to_datetime(BASE_NS)
    assert first.root.duration_ms == 60.0
