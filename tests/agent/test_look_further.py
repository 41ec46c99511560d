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
    assert "moved beyond 10σ" in diagnosis.summary and "alert" not in diagnosis.summary  # none was raised
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


def _forecast(resource: str, share: float, seconds: float | None) -> Step:
    pod: dict[str, JsonValue] = {
        "pod": "web-5d9f-abcde",
        "share_of_limit": share,
        "seconds_to_limit": seconds,
        "model": "damped_trend" if seconds is not None else None,
    }
    return _step(
        f"r2-9-forecast_saturation-{resource}",
        "forecast_saturation",
        {"workload": "web", "namespace": NS, "resource": resource},
        {"workload": "web", "resource": resource, "pods": [pod]},
        f"web {resource} forecast",
    )


def _golden(rate_now: float, rate_before: float) -> Step:
    server: dict[str, JsonValue] = {"request_rate": {"now": rate_now, "before": rate_before}}
    return _step(
        "r1-0-golden_signals",
        "golden_signals",
        {"service": "web"},
        {"service": "web", "server": server},
        "web",
    )


def test_the_survey_forecasts_the_alerted_services_memory_and_cpu() -> None:
    plan = RulesPlanner().plan(_view([_quiet_ranking()]))
    forecasts = [
        (c.args["workload"], c.args["resource"]) for c in plan.calls if c.tool == "forecast_saturation"
    ]
    assert forecasts == [("web", "memory"), ("web", "cpu")]


def test_a_limit_forecast_within_the_horizon_is_a_likely_fault_with_the_runbooks_action_ahead_of_it() -> None:
    """Nothing failed yet; memory climbs to its limit: a leak in the making, and the restart is proposed
    for a person to approve (the guard checks it like any action)."""
    steps = [_quiet_ranking(), _golden(40, 40), *_survey(_pod("web-5d9f-abcde"))]
    view = _view([*steps, _forecast("memory", 0.79, 17 * 60), _forecast("cpu", 0.3, None)])
    diagnosis = RulesPlanner().diagnose(view).diagnosis
    top = diagnosis.top
    assert top is not None and (top.service, top.fault_kind, top.label) == ("web", "memory_leak", "LIKELY")
    assert top.evidence == ["forecast_saturation:r2-9-forecast_saturation-memory"]
    assert "~17 min" in top.summary and "79%" in top.summary
    proposal = propose(diagnosis, view.incident, planner="rules", runbook=load_runbook())
    assert proposal.action is not None
    assert (proposal.action.kind, proposal.action.target) == ("rollout_restart", f"{NS}/deployment/web")


def test_a_cpu_climb_reads_as_a_surge_only_when_the_request_rate_rose_with_it() -> None:
    steps = [_quiet_ranking(), *_survey(_pod("web-5d9f-abcde")), _forecast("cpu", 0.8, 30 * 60)]
    surge = RulesPlanner().diagnose(_view([*steps, _golden(90, 40)])).diagnosis.top
    assert surge is not None and surge.fault_kind == "traffic_surge"
    runaway = RulesPlanner().diagnose(_view([*steps, _golden(40, 40)])).diagnosis.top
    assert runaway is not None and runaway.fault_kind == "cpu_hog"


def test_a_forecast_beyond_the_horizon_or_from_a_pod_far_below_its_limit_says_nothing() -> None:
    steps = [_quiet_ranking(), _golden(40, 40), *_survey(_pod("web-5d9f-abcde"))]
    for share, seconds in ((0.8, 3 * 3600.0), (0.3, 600.0), (0.9, None)):
        diagnosis = RulesPlanner().diagnose(_view([*steps, _forecast("memory", share, seconds)])).diagnosis
        assert diagnosis.top is None and diagnosis.summary.startswith("INCONCLUSIVE"), (share, seconds)


def test_a_quiet_ranking_is_ranked_again_over_a_longer_window_and_what_it_finds_is_diagnosed() -> None:
    """A slow ramp that began hours ago sits in the first ranking's baseline; a longer window starts
    before it, and what that ranking names goes through the usual diagnosis."""
    plan = RulesPlanner().plan(_view([_quiet_ranking()]))
    longer = [c.args for c in plan.calls if c.tool == "rank_root_causes"]
    assert longer == [{"namespace": NS, "lookback": "6h"}]
    ramp = _step(
        "r2-5-rank_root_causes",
        "rank_root_causes",
        {"namespace": NS, "lookback": "6h"},
        {
            "anomalous": True,
            "threshold": 10.0,
            "onset": AS_OF.isoformat(),
            "candidates": [
                {
                    "entity": "ledger-db",
                    "entity_kind": "service",
                    "service": "ledger-db",
                    "score": 24.0,
                    "signals": [
                        {
                            "signal": "callers_latency_p99",
                            "source": "metrics",
                            "kind": "latency",
                            "sigmas": 24.0,
                        }
                    ],
                }
            ],
        },
        f"{NS} at 13:00: ledger-db (score 24σ)",
    )
    view = _view([_quiet_ranking(), *_survey(_pod("web-5d9f-abcde")), ramp])
    top = RulesPlanner().diagnose(view).diagnosis.top
    assert top is not None and (top.service, top.fault_kind) == ("ledger-db", "dependency_latency"), top
    assert "rank_root_causes:r2-5-rank_root_causes" in top.evidence
