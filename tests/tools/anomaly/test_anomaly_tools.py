"""The anomaly read tools against real sandboxes (simulator → Prometheus, Kubernetes emulator, traces).

The ranking must name each shipped scenario's true cause first (a service, one pod of it, or a node)
and stay under its "nothing anomalous" threshold on the healthy scenarios.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from evals.scenario import load_scenario
from tests.sandbox_fixture import SHIPPED, SandboxPool, tool_context
from tests.tools.traces.loopback import silent_server
from tools.config import ToolsConfig
from tools.contract import ToolResult
from tools.metrics.templates import duration_seconds, render
from tools.registry import default_registry
from tools.traces.config import TracesConfig
from tools.traces.factory import open_trace_backend

pytestmark = pytest.mark.sandbox

REGISTRY = default_registry()


def data_of(result: ToolResult) -> Any:
    """The result's JSON data, untyped: these tests index into it freely."""
    return result.data


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_ranking_puts_the_true_cause_first(scenario_id: str, sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get(scenario_id)
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        result = REGISTRY.run("rank_root_causes", {"namespace": scenario.topology.namespace}, ctx)

    assert result.status == "ok", result.summary
    data = data_of(result)
    candidates = data["candidates"]
    assert isinstance(candidates, list) and candidates
    top = candidates[0]
    expected = scenario.expect.root_cause.service if scenario.expect.root_cause else None
    if expected is None:
        assert data["anomalous"] is False, result.summary
        assert top["score"] < data["threshold"]
        return
    assert data["anomalous"] is True
    assert expected in (top["entity"], top["service"]), result.summary
    if scenario.faults[0].kind == "pod_failure":
        assert top["entity_kind"] == "pod" and str(top["entity"]).startswith(f"pod/{expected}-")
    # the onset is found at the fault's start (not at the later alert): measured +45 s to +165 s for the
    # step faults. A leak has no sharp start: its onset is where it first shows, by the first OOM kill.
    onset = datetime.fromisoformat(str(data["onset"]))
    fault = scenario.faults[0]
    fault_start = scenario.at(fault.start)
    late = (
        timedelta(seconds=duration_seconds(str(fault.params["time_to_oom"])))
        if fault.kind == "memory_leak"
        else timedelta(minutes=4)
    )
    assert timedelta(minutes=-1) <= onset - fault_start <= late, (onset, fault_start)
    assert any(f":rank:{top['entity']}:" in e.id for e in result.evidence)
    assert "σ" in result.summary and str(top["entity"]) in result.summary


def test_ranking_uses_the_trace_graph_and_names_the_strongest_signal(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("payments-dependency-latency")
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        result = REGISTRY.run("rank_root_causes", {"namespace": "payments", "top": 3}, ctx)
    assert data_of(result)["calls_from_traces"] is True
    assert "fx" in data_of(result)["calls"]["ledger"]
    # traces and logs joined the ranking as sources of their own
    assert set(data_of(result)["sources"]) == {"metrics", "traces", "logs"}, data_of(result)["sources"]
    top = data_of(result)["candidates"][0]
    assert top["entity"] == "fx"
    assert top["signals"][0]["signal"] == "callers_latency_p99"
    ledger = next(c for c in data_of(result)["candidates"] if c["entity"] == "ledger")
    assert ledger["explained_by"] == "fx" or ledger["score"] < top["score"]


def test_a_failing_trace_backend_leaves_a_metrics_only_ranking(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("payments-dependency-latency")
    with ExitStack() as stack, silent_server() as hung:
        ctx = tool_context(info, scenario.end_utc, stack)
        config = TracesConfig(backend="jaeger", url=hung, timeout_s=0.3)
        failing = replace(ctx, traces=open_trace_backend(config))
        result = REGISTRY.run("rank_root_causes", {"namespace": "payments", "top": 3}, failing)
    assert result.status == "ok", result.summary
    data = data_of(result)
    assert data["calls_from_traces"] is False and "traces" not in data["sources"]
    failed = [u for u in data["unavailable"] if u.startswith("traces:")]
    assert failed and "no answer within 0.3s" in failed[0], data["unavailable"]
    assert "no answer within 0.3s" in result.summary
    assert data["candidates"][0]["entity"] == "fx"  # the metrics call graph still names the cause


def test_unknown_namespace_is_a_retryable_no_data(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("checkout-bad-deploy")
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        result = REGISTRY.run("rank_root_causes", {"namespace": "no-such-namespace"}, ctx)
    assert result.status == "no_data" and result.retryable


def test_anomaly_score_finds_the_error_burst_and_its_onset(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("checkout-bad-deploy")
    promql = render(
        ToolsConfig().promql["error_ratio"], namespace="boutique", service="checkoutservice", window="2m"
    )
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        result = REGISTRY.run("anomaly_score", {"promql": promql, "range": "2h"}, ctx)
    assert result.status == "ok", result.summary
    series = data_of(result)["series"][0]
    assert series["max_score"] >= 0.5
    onset = datetime.fromisoformat(series["onset"])
    assert abs(onset - scenario.at(scenario.faults[0].start)) <= timedelta(minutes=5)
    assert all(0.0 <= p[2] <= 1.0 for p in series["points"])
    assert result.evidence and result.evidence[0].source == "anomaly"


def test_forecast_saturation_sees_the_leak_reach_its_limit(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("sock-shop-memory-leak")
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        leak = REGISTRY.run(
            "forecast_saturation",
            {"namespace": "sock-shop", "workload": "carts", "resource": "memory", "lookback": "10m"},
            ctx,
        )
        calm = REGISTRY.run(
            "forecast_saturation",
            {"namespace": "sock-shop", "workload": "catalogue", "resource": "memory", "horizon": "1h"},
            ctx,
        )
    assert leak.status == "ok", leak.summary
    soonest = data_of(leak)["pods"][0]
    time_to_oom = 20 * 60
    assert soonest["seconds_to_limit"] is not None and soonest["seconds_to_limit"] <= time_to_oom
    assert "reaches its limit in ~" in leak.summary
    assert all(p["seconds_to_limit"] is None for p in data_of(calm)["pods"])


def test_forecast_of_an_unknown_workload_names_the_problem(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("sock-shop-memory-leak")
    with ExitStack() as stack:
        ctx = tool_context(info, scenario.end_utc, stack)
        result = REGISTRY.run("forecast_saturation", {"namespace": "sock-shop", "workload": "nope"}, ctx)
    assert result.status == "no_data" and "nope" in result.summary
    assert load_scenario("sock-shop-memory-leak").id == scenario.id
