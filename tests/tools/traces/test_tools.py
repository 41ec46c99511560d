"""The trace tools through the registry, as a planner calls them: windows relative to as_of, filters,
unknown names, bounded summaries, backends that fail."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.tools.traces.loopback import silent_server
from tests.tools.traces.otel_traces import SdkTraces, build_shop
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.contract import ToolResult
from tools.registry import Registry
from tools.traces.backend import TraceQuery
from tools.traces.config import TracesConfig
from tools.traces.factory import open_trace_backend
from tools.traces.otlp_file import OtlpFileBackend
from tools.traces.tools import TRACE_TOOLS

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
REGISTRY = Registry(TRACE_TOOLS)


def data(result: ToolResult) -> Any:
    """`result.data` for reading in assertions (JSON, typed loosely on purpose)."""
    return result.data


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, int]]]:
    sdk = SdkTraces()
    expected = build_shop(sdk, T0_NS, 20)
    return sdk.write_collector_file(Path(tmp_path_factory.mktemp("shop")) / "t.jsonl"), expected


def ctx_at(path: Path, as_of: datetime, **config: int) -> ToolContext:
    traces_config = TracesConfig(
        backend="otlp-file", dir=path, **{k: v for k, v in config.items() if k == "max_traces"}
    )
    tools_config = ToolsConfig(traces=traces_config, **{k: v for k, v in config.items() if k != "max_traces"})
    return ToolContext(as_of=as_of, traces=open_trace_backend(traces_config), config=tools_config)


def test_find_traces_filters_relative_to_as_of(shop_file: tuple[Path, object]) -> None:
    ctx = ctx_at(shop_file[0], T0 + timedelta(seconds=30))
    slow = REGISTRY.run(
        "find_traces", {"service": "payment", "lookback_minutes": 1, "min_duration_ms": 100}, ctx
    )
    assert slow.status == "ok", slow.summary
    rows = data(slow)["traces"]
    assert isinstance(rows, list) and len(rows) == 4
    assert all(isinstance(r, dict) and r["operation"] == "Charge" and r["duration_ms"] == 299.0 for r in rows)
    assert slow.summary.startswith("4 traces of payment (>= 100ms) in the 1m before 2024-05-01T12:00:30Z")
    assert [e.id.rsplit(":", 1)[0] for e in slow.evidence] == [
        f"traces:find_traces:{r['trace_id']}" for r in rows
    ]
    assert len({e.id for e in slow.evidence}) == len(rows)

    failing = REGISTRY.run(
        "find_traces", {"service": "payment", "lookback_minutes": 1, "errors_only": True}, ctx
    )
    assert failing.status == "ok" and data(failing)["stats"]["error_spans"] == 2

    # as_of ten seconds in: only traces 0..9 are visible, the slowest (4 and 9) first
    early = REGISTRY.run(
        "find_traces",
        {"service": "payment", "lookback_minutes": 1, "limit": 3},
        ctx_at(shop_file[0], T0 + timedelta(seconds=10)),
    )
    assert data(early)["stats"]["traces"] == 10
    starts = sorted(r["start"] for r in data(early)["traces"][:2])
    assert starts == ["2024-05-01T12:00:04.008500+00:00", "2024-05-01T12:00:09.008500+00:00"]

    before = REGISTRY.run(
        "find_traces", {"service": "payment"}, ctx_at(shop_file[0], T0 - timedelta(hours=1))
    )
    assert before.status == "no_data" and "no traces of payment" in before.summary


def test_unknown_service_is_no_data_with_closest_names(shop_file: tuple[Path, object]) -> None:
    ctx = ctx_at(shop_file[0], T0 + timedelta(minutes=1))
    for tool, args in [
        ("find_traces", {"service": "paymnt"}),
        ("service_dependencies", {"service": "paymnt"}),
    ]:
        result = REGISTRY.run(tool, args, ctx)
        assert result.status == "no_data" and result.retryable
        assert data(result)["closest"] == ["payment"]
        assert "paymnt" in result.summary


def test_get_trace_and_critical_path_of_a_slow_trace(shop_file: tuple[Path, object]) -> None:
    ctx = ctx_at(shop_file[0], T0 + timedelta(minutes=1))
    found = REGISTRY.run("find_traces", {"service": "payment", "min_duration_ms": 100, "limit": 1}, ctx)
    trace_id = data(found)["traces"][0]["trace_id"]

    tree = REGISTRY.run("get_trace", {"trace_id": trace_id}, ctx)
    assert tree.status == "ok"
    lines = tree.summary.splitlines()
    assert lines[0].startswith(
        f"trace {trace_id}: 340ms, 10 spans, services cart, checkout, frontend, payment"
    )
    assert lines[1].startswith("+0ms frontend GET /checkout 340ms server")  # ERROR too in every 10th
    # depth 4: frontend root > its client span > checkout server > its client span > payment server
    assert any(line.startswith(" " * 8 + "+8.5ms payment Charge 299ms server") for line in lines)
    assert len(data(tree)["spans"]) == 10

    path = REGISTRY.run("trace_critical_path", {"trace_id": trace_id}, ctx)
    assert path.status == "ok"
    assert data(path)["bottleneck"]["service"] == "payment"
    assert "payment Charge holds 299ms (88%)" in path.summary
    assert path.evidence[0].id.startswith(f"traces:trace_critical_path:{trace_id}:")
    # one trace seen by three tools is three observations: three ids, none shared
    assert len({found.evidence[0].id, tree.evidence[0].id, path.evidence[0].id}) == 3
    # the same question at the same as_of keeps its id; at another as_of it is another observation
    assert REGISTRY.run("get_trace", {"trace_id": trace_id}, ctx).evidence[0].id == tree.evidence[0].id
    later = ctx_at(shop_file[0], T0 + timedelta(minutes=2))
    assert REGISTRY.run("get_trace", {"trace_id": trace_id}, later).evidence[0].id != tree.evidence[0].id

    missing = REGISTRY.run("get_trace", {"trace_id": "ab" * 16}, ctx)
    assert missing.status == "no_data" and "not found" in missing.summary
    invalid = REGISTRY.run("trace_critical_path", {"trace_id": "not-hex"}, ctx)
    assert invalid.status == "error" and invalid.retryable


def test_service_dependencies_reports_every_edge_worst_first(
    shop_file: tuple[Path, dict[str, dict[str, int]]],
) -> None:
    path, expected = shop_file
    result = REGISTRY.run(
        "service_dependencies", {"lookback_minutes": 1}, ctx_at(path, T0 + timedelta(seconds=30))
    )
    assert result.status == "ok", result.summary
    edges = {f"{e['caller']}->{e['callee']}": e for e in data(result)["edges"]}
    assert {k: e["calls"] for k, e in edges.items()} == expected["calls"]
    assert edges["checkout->payment"]["rate_per_s"] == pytest.approx(20 / 60)
    first_edge = result.summary.splitlines()[1]
    assert "errors 10.0%" in first_edge
    assert {e.id.rsplit(":", 1)[0] for e in result.evidence} == {
        "traces:service_dependencies:frontend->checkout",
        "traces:service_dependencies:checkout->payment",
    }
    # the same edge over another window, or at another as_of, is another observation
    wider = REGISTRY.run(
        "service_dependencies", {"lookback_minutes": 2}, ctx_at(path, T0 + timedelta(seconds=30))
    )
    later = REGISTRY.run(
        "service_dependencies", {"lookback_minutes": 1}, ctx_at(path, T0 + timedelta(seconds=31))
    )
    again = REGISTRY.run(
        "service_dependencies", {"lookback_minutes": 1}, ctx_at(path, T0 + timedelta(seconds=30))
    )
    ids = {e.id for e in result.evidence}
    assert ids.isdisjoint(e.id for e in wider.evidence) and ids.isdisjoint(e.id for e in later.evidence)
    assert {e.id for e in again.evidence} == ids

    focused = REGISTRY.run(
        "service_dependencies", {"service": "payment"}, ctx_at(path, T0 + timedelta(seconds=30))
    )
    assert [(e["caller"], e["callee"]) for e in data(focused)["edges"]] == [("checkout", "payment")]


def test_huge_results_are_capped_and_the_summary_says_so(tmp_path: Path) -> None:
    sdk = SdkTraces()
    build_shop(sdk, T0_NS, 150)
    path = sdk.write_collector_file(tmp_path / "t.jsonl")
    ctx = ctx_at(path, T0 + timedelta(minutes=5), max_traces=100, summary_max_tokens=150)
    result = REGISTRY.run("find_traces", {"service": "frontend", "limit": 50}, ctx)
    assert result.status == "ok" and result.truncated
    assert result.summary.startswith("100+ traces of frontend")
    assert "more traces not shown (100 in all)" in result.summary
    assert len(data(result)["traces"]) == 50
    graph = REGISTRY.run("service_dependencies", {"lookback_minutes": 10}, ctx)
    assert graph.truncated and "capped at 100 traces: rates are lower bounds" in graph.summary


def test_no_backend_and_a_hung_backend_are_errors_not_hangs() -> None:
    unconfigured = REGISTRY.run("find_traces", {"service": "x"}, ToolContext(as_of=T0))
    assert unconfigured.status == "error" and "no trace backend" in unconfigured.summary
    with silent_server() as url:
        config = TracesConfig(backend="jaeger", url=url, timeout_s=0.3)
        ctx = ToolContext(as_of=T0, traces=open_trace_backend(config), config=ToolsConfig(traces=config))
        began = time.monotonic()
        result = REGISTRY.run("service_dependencies", {}, ctx)
        assert time.monotonic() - began < 2.0
    assert result.status == "error" and not result.retryable and "no answer within 0.3s" in result.summary


def test_every_trace_tool_is_a_read_tool_with_a_schema() -> None:
    for spec in REGISTRY.specs:
        assert spec.effect == "read"
        schema: Any = spec.json_schema()["function"]
        assert schema["description"] and schema["parameters"]["type"] == "object"


def test_a_trace_is_shown_as_it_was_at_as_of(shop_file: tuple[Path, object]) -> None:
    backend = OtlpFileBackend(shop_file[0])
    first = next(t for t in backend.search(TraceQuery(start=T0, end=T0 + timedelta(seconds=1))))
    assert len(first.spans) == 10
    # 20 ms into the first trace the EmptyCart call (at 29 ms) had not started yet
    ctx = ctx_at(shop_file[0], T0 + timedelta(milliseconds=20))
    tree = REGISTRY.run("get_trace", {"trace_id": first.trace_id}, ctx)
    assert data(tree)["span_count"] == 8 and "EmptyCart" not in tree.summary
    before = REGISTRY.run(
        "get_trace", {"trace_id": first.trace_id}, ctx_at(shop_file[0], T0 - timedelta(seconds=1))
    )
    assert before.status == "no_data"


def test_critical_path_of_a_zero_duration_root_is_no_data(tmp_path: Path) -> None:
    sdk = SdkTraces()
    root = sdk.span("frontend", "GET /health", T0_NS, T0_NS)
    sdk.span("frontend", "check", T0_NS, T0_NS, parent=root)
    path = sdk.write_collector_file(tmp_path / "t.jsonl")
    trace_id = format(root.get_span_context().trace_id, "032x")
    result = REGISTRY.run(
        "trace_critical_path", {"trace_id": trace_id}, ctx_at(path, T0 + timedelta(seconds=1))
    )
    assert result.status == "no_data", result.summary
    assert "lasted 0ms" in result.summary and data(result)["path"] == []
