"""Missing evidence: which sources an investigation could not read, and what that does to its diagnosis
whoever made it (the graph applies it after the planner)."""

from __future__ import annotations

from datetime import UTC, datetime

from langgraph.checkpoint.memory import InMemorySaver

from agent.diagnosis import DEGRADED_CONFIDENCE_CAP, Diagnosis, Hypothesis
from agent.graph import build_graph
from agent.incident import Incident
from agent.missing_evidence import SOURCE_OF_TOOL, missing_evidence
from agent.planner import DiagnosisResult, Plan
from agent.runbook import load_runbook
from agent.state import PlannerView, Step, ToolCall
from tests.agent.scripted import revisions
from tests.tools.prom_fixture import free_port
from tools.context import ToolContext
from tools.metrics.client import PrometheusBackend
from tools.metrics.query import prom_query
from tools.registry import Registry, default_registry

AS_OF = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _step(tool: str, status: str, summary: str = "", retryable: bool = False) -> Step:
    return Step(
        call=ToolCall(id=f"x-{tool}-{status}", tool=tool),
        status=status,  # type: ignore[arg-type]
        summary=summary,
        retryable=retryable,
    )


def test_every_read_tool_has_a_source() -> None:
    reads = {spec.name for spec in default_registry().specs if spec.effect == "read"}
    assert reads <= set(SOURCE_OF_TOOL), f"add to SOURCE_OF_TOOL: {sorted(reads - set(SOURCE_OF_TOOL))}"


def test_backend_failures_are_grouped_by_source_with_the_first_reason() -> None:
    steps = [
        _step("golden_signals", "error", "Prometheus at http://p is unreachable: check MEDIC_PROMETHEUS_URL"),
        _step("prom_query", "error", "Prometheus refused the query: parse error", retryable=True),
        _step("rank_root_causes", "error", "Prometheus at http://p did not answer"),
        _step("kube_pods", "ok"),
        _step("service_dependencies", "no_data"),
    ]
    [metrics] = missing_evidence(steps)
    assert (metrics.source, metrics.failed_calls, metrics.calls) == ("metrics", 2, 3)
    assert metrics.line() == (
        "metrics: Prometheus at http://p is unreachable: check MEDIC_PROMETHEUS_URL (2 of 3 calls failed)"
    )
    assert missing_evidence(steps[1:2] + steps[3:]) == [], "a bad query is not missing evidence"


def _confirmed() -> Diagnosis:
    return Diagnosis(
        summary="most likely bad_deploy at checkout",
        hypotheses=[
            Hypothesis(entity="checkout", confidence=0.9, label="CONFIRMED", summary="s", evidence=["e1"]),
            Hypothesis(entity="cart", confidence=0.4, label="INCONCLUSIVE", summary="s", evidence=["e2"]),
        ],
    )


def test_a_diagnosis_made_without_a_source_is_degraded_and_never_confirmed() -> None:
    missing = missing_evidence([_step("kube_pods", "error", "Kubernetes API at https://k unreachable")])
    degraded = _confirmed().made_without(missing).checked_against({"e1", "e2"})
    assert degraded.degraded and [m.source for m in degraded.missing] == ["kubernetes"]
    assert [(h.confidence, h.label) for h in degraded.hypotheses] == [
        (DEGRADED_CONFIDENCE_CAP, "LIKELY"),
        (0.4, "INCONCLUSIVE"),
    ]
    assert _confirmed().made_without([]) == _confirmed()


class _CarelessPlanner:
    """Asks for a metrics query and a revision history, then says CONFIRMED on the history alone (as a
    careless model might)."""

    name = "scripted"

    def plan(self, view: PlannerView) -> Plan:
        if view.steps:
            return Plan(done=True)
        return Plan(
            calls=[
                ToolCall(id="c1", tool="prom_query", args={"promql": "up"}),
                ToolCall(id="c2", tool="revisions", args={"service": "checkout"}),
            ]
        )

    def diagnose(self, view: PlannerView) -> DiagnosisResult:
        hypothesis = Hypothesis(
            entity="checkout", confidence=0.9, label="CONFIRMED", summary="s", evidence=sorted(view.evidence)
        )
        return DiagnosisResult(diagnosis=Diagnosis(hypotheses=[hypothesis]))


def test_the_graph_caps_any_planner_when_a_backend_is_down() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = PrometheusBackend(url, timeout_s=1)
    incident = Incident(id="inc-1", as_of=AS_OF, source="alert", title="t", namespace="shop")
    graph = build_graph(
        _CarelessPlanner(),
        Registry([prom_query, revisions]),
        None,
        InMemorySaver(),
        context=ToolContext(as_of=AS_OF, metrics=backend),
        runbook=load_runbook(),
    )
    state = graph.invoke({"incident": incident}, {"configurable": {"thread_id": "t"}})
    backend.close()
    diagnosis = state["diagnosis"]
    assert diagnosis.degraded and diagnosis.missing[0].source == "metrics"
    assert url in diagnosis.missing[0].why and "MEDIC_PROMETHEUS_URL" in diagnosis.missing[0].why
    assert all(
        h.confidence <= DEGRADED_CONFIDENCE_CAP and h.label != "CONFIRMED" for h in diagnosis.hypotheses
    )
