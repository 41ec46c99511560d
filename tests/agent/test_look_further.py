"""Nothing clears the ranking's bar: the rules planner looks further before it says anything, and never
calls "nothing is wrong" while an alert fires (agent/planners/look_further.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import JsonValue

from agent.incident import Incident
from agent.planners import RulesPlanner
from agent.remediation import propose
from agent.report import Report
from agent.runbook import load_runbook
from agent.state import Budget, PlannerView, Step, ToolCall, Usage
from tools.contract import Evidence

AS_OF = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
NS = "shop"


def _step(
    call_id: str, tool: str, args: dict[str, JsonValue], data: dict[str, JsonValue], summary: str
) -> Step:
    return Step(
        call=ToolCall(id=call_id, tool=tool, args=args),
        status="ok",
        summary=summary,
        data=data,
        evidence=[f"{tool}:{call_id}"],
    )


def _quiet_ranking() -> Step:
    return _step(
        "r1-2-rank_root_causes",
        "rank_root_causes",
        {"namespace": NS},
        {
            "anomalous": False,
            "threshold": 10.0,
            "onset": AS_OF.isoformat(),
            "candidates": [
                {"entity": "web", "entity_kind": "service", "service": "web", "score": 2.1, "signals": []}
            ],
        },
        f"{NS} at 13:00: nothing anomalous (top score under 10σ): web (score 2σ)",
    )


def _pod(name: str, *, crashing: bool = False) -> dict[str, JsonValue]:
    return {
        "name": name,
        "labels": {"pod-template-hash": "5d9f"},
        "phase": "Running",
        "node": "node-1",
        "containers": [
            {
                "name": "app",
                "ready": not crashing,
                "restart_count": 7 if crashing else 0,
                "state": "waiting: CrashLoopBackOff" if crashing else "running",
                "last_termination_reason": "Error" if crashing else None,
            }
        ],
    }


def _survey(*pods: dict[str, JsonValue]) -> list[Step]:
    return [
        _step(
            "r2-0-kube_pods",
            "kube_pods",
            {"namespace": NS},
            {"pods": list(pods)},
            f"{len(pods)} pods in {NS}",
        ),
        _step(
            "r2-1-kube_events",
            "kube_events",
            {"namespace": NS, "lookback": "2h"},
            {"events": []},
            "no events",
        ),
        _step("r2-2-kube_nodes", "kube_nodes", {}, {"nodes": []}, "1 node, 0 with a bad condition"),
    ]


def _view(steps: list[Step], source: str = "alert") -> PlannerView:
    incident = Incident(
        id="inc-1",
        as_of=AS_OF,
        source=source,
        title="web latency",
        namespace=NS,
        services=["web"],  # type: ignore[arg-type]
    )
    evidence = {e: Evidence(id=e, source="test", description=e) for s in steps for e in s.evidence}
    return PlannerView(incident=incident, steps=steps, evidence=evidence, usage=Usage(), budget=Budget())


def test_a_quiet_ranking_leads_to_a_survey_not_to_a_verdict() -> None:
    plan = RulesPlanner().plan(_view([_quiet_ranking()]))
    assert not plan.done
    assert {c.tool for c in plan.calls} >= {"kube_pods", "kube_events", "kube_nodes"}
    assert all(c.args.get("namespace") in (None, NS) for c in plan.calls)


def test_an_alert_with_nothing_found_is_inconclusive_and_escalated_with_what_was_checked() -> None:
    view = _view([_quiet_ranking(), *_survey(_pod("web-5d9f-abcde"))])
    diagnosis = RulesPlanner().diagnose(view).diagnosis
    assert not diagnosis.healthy and diagnosis.hypotheses == []
    assert diagnosis.summary.startswith("INCONCLUSIVE")
    assert [c.split(":", 1)[0] for c in diagnosis.checked] == [
        "rank_root_causes",
        "kube_pods",
        "kube_events",
        "kube_nodes",
    ]
    proposal = propose(diagnosis, view.incident, planner="rules", runbook=load_runbook())
    assert proposal.action is None and proposal.escalation is not None
    assert "owner of web" in proposal.escalation and "kube_pods" in proposal.escalation
    # the eval counts an inconclusive verdict without a hypothesis as "no fault named"
    predicted = (
        Report.model_construct(diagnosis=diagnosis, proposal=None, usage=Usage()).eval_fields().predicted
    )
    assert [(p.service, p.kind) for p in predicted] == [(None, None)]


def test_a_crashing_pod_the_ranking_missed_is_named_below_confirmed() -> None:
    view = _view([_quiet_ranking(), *_survey(_pod("web-5d9f-abcde"), _pod("cart-5d9f-xyz12", crashing=True))])
    diagnosis = RulesPlanner().diagnose(view).diagnosis
    top = diagnosis.top
    assert top is not None and top.service == "cart", diagnosis
    assert top.label != "CONFIRMED" and top.evidence


def test_a_question_with_nothing_found_and_no_alert_firing_is_healthy_with_what_was_checked() -> None:
    quiet_alerts = _step("r1-3-firing_alerts", "firing_alerts", {}, {"alerts": []}, "no alerts firing")
    view = _view([_quiet_ranking(), quiet_alerts, *_survey(_pod("web-5d9f-abcde"))], source="question")
    diagnosis = RulesPlanner().diagnose(view).diagnosis
    assert diagnosis.healthy and diagnosis.hypotheses == []
    assert {c.split(":", 1)[0] for c in diagnosis.checked} >= {
        "rank_root_causes",
        "firing_alerts",
        "kube_pods",
    }


def _calls_from_web(*callees: str) -> Step:
    edges: list[JsonValue] = [
        {"caller": "web", "callee": c, "calls": 30, "error_ratio": 0.0, "p50_ms": 20.0} for c in callees
    ]
    return _step(
        "r1-1-service_dependencies",
        "service_dependencies",
        {"lookback_minutes": 15},
        {"edges": edges},
        "edges",
    )


def _saturation(workload: str, *flags: str) -> Step:
    pod: dict[str, JsonValue] = {"pod": f"{workload}-5d9f-abcde", "flags": list(flags)}
    return _step(
        f"r2-9-workload_saturation-{workload}",
        "workload_saturation",
        {"workload": workload, "namespace": NS},
        {"pods": [pod]},
        f"{workload}: 1 pod" + (f", {', '.join(flags)}" if flags else ""),
    )


def test_the_survey_reads_the_saturation_of_the_alerted_service_and_what_it_calls() -> None:
    plan = RulesPlanner().plan(_view([_quiet_ranking(), _calls_from_web("auction", "pricing")]))
    checked = [c.args["workload"] for c in plan.calls if c.tool == "workload_saturation"]
    assert checked == ["web", "auction", "pricing"]


def test_a_callee_at_its_cpu_limit_the_ranking_missed_is_a_cpu_fault_below_confirmed() -> None:
    """A slow creep that began before the ranking's window: its baseline already holds the creep, but the
    pods' own state says they are saturated."""
    steps = [_quiet_ranking(), _calls_from_web("auction"), *_survey(_pod("web-5d9f-abcde"))]
    hot = _view([*steps, _saturation("web"), _saturation("auction", "CPU at its limit", "CPU throttled")])
    top = RulesPlanner().diagnose(hot).diagnosis.top
    assert top is not None and (top.service, top.fault_kind) == ("auction", "cpu_hog"), top
    assert top.label != "CONFIRMED" and "workload_saturation:r2-9-workload_saturation-auction" in top.evidence
    calm = RulesPlanner().diagnose(_view([*steps, _saturation("web"), _saturation("auction")])).diagnosis
    assert calm.top is None and calm.summary.startswith("INCONCLUSIVE")
    assert any(c.startswith("workload_saturation:") for c in calm.checked)
