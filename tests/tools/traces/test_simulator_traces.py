"""The otlp-file backend reads what the sandbox writes (`evals.world.otlp.write_otlp_json`), and the trace
tools see in a simulated incident what the scenario put there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from evals.scenario import Scenario, load_scenario
from evals.world.model import SpanRecord
from evals.world.otlp import write_otlp_json
from evals.world.simulate import simulate
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.registry import Registry
from tools.traces.backend import TraceQuery
from tools.traces.config import TracesConfig
from tools.traces.factory import open_trace_backend
from tools.traces.graph import calls_in, dependency_graph
from tools.traces.otlp_file import OtlpFileBackend
from tools.traces.tools import TRACE_TOOLS

T0_NS = 1_772_456_400_000_000_000  # 2026-03-02T13:00:00Z


def test_span_records_round_trip_exactly(tmp_path: Path) -> None:
    trace_id = 0x0123456789ABCDEF0123456789ABCDEF
    records = [
        SpanRecord(
            trace_id,
            0x1,
            None,
            "frontend",
            "frontend-abc",
            "GET /cart",
            "server",
            T0_NS,
            T0_NS + 50_000_000,
            False,
            {"http.response.status_code": 200},
        ),
        SpanRecord(
            trace_id,
            0x2,
            0x1,
            "frontend",
            "frontend-abc",
            "GET /api/cart",
            "client",
            T0_NS + 1_000_000,
            T0_NS + 40_000_000,
            True,
            {"server.address": "cartservice"},
        ),
        SpanRecord(
            trace_id,
            0xFFFF_FFFF_FFFF_FFFF,
            0x2,
            "cartservice",
            "cartservice-x",
            "GET /api/cart",
            "server",
            T0_NS + 1_300_000,
            T0_NS + 39_700_000,
            True,
            {"http.response.status_code": 503},
        ),
    ]
    path = tmp_path / "traces.jsonl"
    write_otlp_json(records, path, namespace="boutique")
    trace = OtlpFileBackend(path).get_trace("0123456789abcdef0123456789abcdef")
    assert trace is not None
    got = {int(s.span_id, 16): s for s in trace.spans}
    for record in records:
        span = got[record.span_id]
        assert span.parent_span_id == (
            format(record.parent_span_id, "016x") if record.parent_span_id else None
        )
        assert (span.service, span.name, span.kind) == (record.service, record.name, record.kind)
        assert (span.start_ns, span.end_ns, span.error) == (record.start_ns, record.end_ns, record.error)
        assert span.attributes == record.attributes
    assert trace.root.span_id == "0000000000000001"
    assert [(c.caller, c.callee, c.error) for c in calls_in(trace)] == [("frontend", "cartservice", True)]


@pytest.fixture(scope="module")
def bad_deploy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Path]:
    scenario = load_scenario("checkout-bad-deploy")
    path = Path(tmp_path_factory.mktemp("world")) / "traces.jsonl"
    write_otlp_json(simulate(scenario).spans, path, namespace=scenario.topology.namespace)
    return scenario, path


def test_graph_of_a_simulated_world_is_its_topology_and_shows_the_fault(
    bad_deploy: tuple[Scenario, Path],
) -> None:
    scenario, path = bad_deploy
    backend = OtlpFileBackend(path)
    calls = {(caller, callee) for caller, spec in scenario.topology.services.items() for callee in spec.calls}

    def edges(start_min: int, end_min: int) -> dict[tuple[str, str], float]:
        query = TraceQuery(
            start=scenario.end + timedelta(minutes=start_min),
            end=scenario.end + timedelta(minutes=end_min),
            limit=10_000,
        )
        return {(e.caller, e.callee): e.error_ratio for e in dependency_graph(backend.search(query), 60.0)}

    before, during = edges(-60, -30), edges(-20, 0)
    assert set(before) == set(during) == calls
    assert all(ratio == 0 for ratio in before.values())
    # the bad deploy of checkoutservice fails 30% of its requests, seen by its caller only
    assert during[("frontend", "checkoutservice")] > 0.1
    assert {edge for edge, ratio in during.items() if ratio > 0} == {("frontend", "checkoutservice")}


def test_tools_point_at_checkoutservice_in_the_simulated_incident(bad_deploy: tuple[Scenario, Path]) -> None:
    scenario, path = bad_deploy
    config = TracesConfig(backend="otlp-file", dir=path.parent)
    ctx = ToolContext(
        as_of=scenario.end, traces=open_trace_backend(config), config=ToolsConfig(traces=config)
    )
    registry = Registry(TRACE_TOOLS)
    failing = registry.run(
        "find_traces", {"service": "checkoutservice", "errors_only": True, "lookback_minutes": 20}, ctx
    )
    assert failing.status == "ok", failing.summary
    rows = failing.data["traces"]
    assert isinstance(rows, list) and rows
    quiet = registry.run(
        "find_traces",
        {"service": "checkoutservice", "errors_only": True, "lookback_minutes": 20},
        ToolContext(as_of=scenario.end - timedelta(minutes=30), traces=ctx.traces, config=ctx.config),
    )
    assert quiet.status == "no_data"
    graph = registry.run("service_dependencies", {"lookback_minutes": 20}, ctx)
    assert graph.summary.splitlines()[1].startswith("frontend -> checkoutservice:")
