"""fetch_spans: what the ranking reads from the trace backend — the whole window covered in bounded
slices, nothing after as_of, and a backend that fails costs the trace rows, never the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.tools.traces.loopback import closed_port_url, serve
from tests.tools.traces.otel_traces import MS, SdkTraces, build_shop
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.traces.backend import Trace, TraceQuery
from tools.traces.config import TracesConfig
from tools.traces.factory import open_trace_backend
from tools.traces.otlp_file import OtlpFileBackend
from tools.traces.span_fetch import MAX_SEARCHES, fetch_spans

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def hour_of_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five shop traces at the start of every minute for an hour (300 traces)."""
    sdk = SdkTraces()
    for minute in range(60):
        build_shop(sdk, T0_NS + minute * 60_000 * MS, 5)
    return sdk.write_collector_file(Path(tmp_path_factory.mktemp("hour")) / "t.jsonl")


def context(backend: object, as_of: datetime, max_traces: int = 200) -> ToolContext:
    config = ToolsConfig(traces=TracesConfig(max_traces=max_traces))
    return ToolContext(as_of=as_of, traces=backend, config=config)  # type: ignore[arg-type]


class CountingBackend(OtlpFileBackend):
    """The file backend, counting the searches made of it."""

    searches = 0

    def search(self, query: TraceQuery) -> list[Trace]:
        self.searches += 1
        return super().search(query)


def test_the_whole_window_is_covered_in_slices_each_bounded_by_max_traces(hour_of_shop: Path) -> None:
    ctx = context(OtlpFileBackend(hour_of_shop), T0 + timedelta(minutes=9, seconds=30), max_traces=10)
    fetched = fetch_spans(ctx, T0)
    # two slices of 5 minutes, 25 traces each: both come back full, and are halved until every part
    # comes back with room to spare: all 50 traces, the earliest minutes as well as the latest
    assert fetched.traces == 50 and not fetched.capped and fetched.reason is None
    assert {(s.start_ns - T0_NS) // (60_000 * MS) for s in fetched.spans} == set(range(10))
    one_query = fetch_spans(ctx, T0, slice_s=3600.0, max_searches=1)
    assert one_query.traces == 10 and one_query.capped  # what one search gives: the last two minutes
    assert {(s.start_ns - T0_NS) // (60_000 * MS) for s in one_query.spans} == {8, 9}


def test_halving_stops_at_its_search_budget_and_says_the_counts_are_lower_bounds(hour_of_shop: Path) -> None:
    backend = CountingBackend(hour_of_shop)
    ctx = context(backend, T0 + timedelta(minutes=59, seconds=30), max_traces=2)
    fetched = fetch_spans(ctx, T0)
    assert backend.searches <= MAX_SEARCHES
    assert fetched.capped  # 300 traces in 5-s bursts cannot all be read two at a time in that budget
    assert 12 * 2 < fetched.traces < 300  # more than the 12 first slices alone gave, fewer than all
    minutes = {(s.start_ns - T0_NS) // (60_000 * MS) for s in fetched.spans}
    assert {m // 5 for m in minutes} == set(range(12))  # every part of the hour still has traces


def test_spans_after_as_of_are_not_read(hour_of_shop: Path) -> None:
    as_of = T0 + timedelta(minutes=10, seconds=2)
    fetched = fetch_spans(context(OtlpFileBackend(hour_of_shop), as_of), T0 + timedelta(minutes=5))
    cutoff = int(as_of.timestamp()) * 1_000_000_000
    assert fetched.spans and max(s.start_ns for s in fetched.spans) <= cutoff
    assert fetched.traces == 5 * 5 + 3  # minutes 5-9, and the traces of minute 10 begun by 12:10:02
    assert not fetched.capped
    # the trace that began exactly at as_of is known by its root span only: the rest began later
    at_cutoff = [
        s
        for s in fetched.spans
        if s.trace_id == next(x.trace_id for x in fetched.spans if x.start_ns == cutoff)
    ]
    assert [s.name for s in at_cutoff] == ["GET /checkout"]
    assert at_cutoff[0].end_ns > cutoff  # a span that had begun by as_of is kept whole


def test_only_traces_touching_the_services_asked_for(hour_of_shop: Path) -> None:
    ctx = context(OtlpFileBackend(hour_of_shop), T0 + timedelta(minutes=3))
    assert fetch_spans(ctx, T0, services={"payment"}).traces == 15
    assert fetch_spans(ctx, T0, services={"elsewhere"}).spans == []


def test_a_failing_backend_gives_no_spans_and_says_why(tmp_path: Path) -> None:
    as_of = T0 + timedelta(minutes=30)
    missing = fetch_spans(context(OtlpFileBackend(tmp_path / "nowhere"), as_of), T0)
    assert missing.spans == [] and missing.reason is not None and "does not exist" in missing.reason
    refused = open_trace_backend(TracesConfig(backend="jaeger", url=closed_port_url(), timeout_s=2))
    down = fetch_spans(context(refused, as_of), T0)
    assert down.spans == [] and down.reason is not None and down.reason.startswith("trace backend failed")
    with serve(lambda path, params, headers: (500, {"errors": [{"msg": "storage down"}]})) as (url, seen):
        broken = open_trace_backend(TracesConfig(backend="jaeger", url=url, timeout_s=2))
        failed = fetch_spans(context(broken, as_of), T0)
    assert failed.spans == [] and failed.reason is not None
    assert len(seen.requests) == 1  # the first failing slice ends the fetch
    absent = fetch_spans(context(None, as_of), T0)
    assert absent.spans == [] and absent.reason is not None and "no trace backend" in absent.reason
    assert fetch_spans(context(OtlpFileBackend(tmp_path), as_of), as_of).spans == []  # empty window
