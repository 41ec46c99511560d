"""The rules planner: its classifier on hand-made findings, and whole triages against real sandboxes of
every shipped scenario plus an inline topology with made-up names (nothing may be keyed to names)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import JsonValue

from agent.incident import Incident
from agent.planners import RulesPlanner
from agent.planners.classify import classify
from agent.planners.findings import Findings, add_callers_wait
from agent.state import Budget, PlannerView, Step, ToolCall, Usage
from tests.agent.triage_driver import run_triage, scenario_incident, shipped_triage
from tests.sandbox_fixture import SHIPPED, SandboxPool, tool_context

MAX_CALLS = 15


def _f(**kw: object) -> Findings:
    return Findings.model_validate({"entity": "svc-a", "service": "svc-a", "score": 50.0, **kw})


@pytest.mark.parametrize(
    ("findings", "kind"),
    [
        (
            _f(entity="node/n1", entity_kind="node", service=None, node_conditions=["MemoryPressure"]),
            "node_pressure",
        ),
        (_f(entity="pod/svc-a-1-x", entity_kind="pod", sigmas={"pod_error_ratio": 40}), "pod_failure"),
        (_f(crashlooping=True, restarts=9, revision_age_s=-60, config_error_logs=True), "crashloop"),
        (_f(oom_killed=True, restarts=3, memory_at_limit=True, sigmas={"latency_p99": 30}), "memory_leak"),
        (
            _f(throttled=True, cpu_at_limit=True, traffic_ratio=2.2, sigmas={"cpu_throttling": 200}),
            "traffic_surge",
        ),
        (_f(throttled=True, traffic_ratio=1.0, sigmas={"cpu_per_request": 30}), "cpu_hog"),
        (_f(revision_age_s=-120, sigmas={"error_ratio": 60, "callers_error_ratio": 50}), "bad_deploy"),
        (_f(sigmas={"callers_error_ratio": 200, "callers_latency_p99": 900}), "packet_loss"),
        (_f(has_workload=False, sigmas={"callers_latency_p99": 900}), "dependency_latency"),
    ],
)
def test_classifier_names_each_fault_kind(findings: Findings, kind: str) -> None:
    verdict = classify(findings)
    assert verdict.kind == kind
    assert 0.5 <= verdict.confidence <= 0.95 and verdict.because


def test_an_old_rollout_with_errors_is_not_called_a_bad_deploy_with_confidence() -> None:
    fresh = classify(_f(revision_age_s=-120, sigmas={"error_ratio": 60}))
    old = classify(_f(revision_age_s=-3 * 3600, sigmas={"error_ratio": 60}))
    assert fresh.kind == "bad_deploy" and old.confidence < fresh.confidence


def test_first_round_is_the_same_for_the_same_view_and_names_no_service_it_was_not_given() -> None:
    incident = Incident(
        id="x-1",
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
        source="alert",
        title="t",
        namespace="zz",
        services=["qq"],
    )
    view = PlannerView(incident=incident, steps=[], evidence={}, usage=Usage(), budget=Budget())
    first, again = RulesPlanner().plan(view), RulesPlanner().plan(view)
    assert first == again and not first.done
    assert {c.tool for c in first.calls} == {
        "golden_signals",
        "service_dependencies",
        "rank_root_causes",
        "firing_alerts",
    }
    assert all(c.args.get("service") in (None, "qq") for c in first.calls)


def test_no_ranking_means_no_diagnosis_rather_than_a_guess() -> None:
    incident = Incident(id="x-2", as_of=datetime(2026, 1, 1, tzinfo=UTC), source="alert", title="t")
    view = PlannerView(incident=incident, steps=[], evidence={}, usage=Usage(), budget=Budget())
    diagnosis = RulesPlanner().diagnose(view).diagnosis
    assert not diagnosis.healthy and diagnosis.hypotheses == []


def _check_triage(scenario_ref: str | Path, pool: SandboxPool) -> None:
    if isinstance(scenario_ref, str):
        scenario, triage = shipped_triage(scenario_ref, pool)
    else:
        scenario, info = pool.get(scenario_ref)
        with ExitStack() as stack:
            ctx = tool_context(info, scenario.end_utc, stack)
            triage = run_triage(RulesPlanner(), scenario_incident(scenario), ctx)
    diagnosis = triage.diagnosis
    assert triage.tool_calls <= MAX_CALLS
    print(f"{scenario.id}: {triage.tool_calls} calls, {triage.rounds} rounds, {triage.wall_s:.1f}s")
    expected = scenario.expect.root_cause
    if expected is None or expected.service is None:
        # an alert fires and nothing explains it: it looked further, then escalates with what it checked
        assert diagnosis.hypotheses == [] and not diagnosis.healthy, diagnosis.hypotheses
        assert diagnosis.summary.startswith("INCONCLUSIVE"), diagnosis.summary
        checked = {c.split(":", 1)[0] for c in diagnosis.checked}
        assert checked >= {"rank_root_causes", "kube_pods", "kube_events", "kube_nodes"}, checked
        return
    top = diagnosis.top
    assert top is not None, diagnosis
    assert expected.service in (top.entity, top.service), diagnosis.hypotheses
    assert top.fault_kind == expected.kind, diagnosis.hypotheses
    assert top.evidence and all(e in triage.view.evidence for e in top.evidence)
    assert top.label in ("LIKELY", "CONFIRMED")
    if expected.kind == "pod_failure":
        assert top.entity.startswith(f"pod/{expected.service}-") and top.entity_kind == "pod"
    # A harmless rollout within the hour (the events a cluster keeps) is checked and set aside, by name.
    for distractor in scenario.distractors:
        if (
            distractor.kind == "deploy"
            and distractor.start
            and scenario.at(distractor.start) >= scenario.at("-1h")
        ):
            assert any(distractor.target in note for note in top.ruled_out), top.ruled_out


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_triage_of_each_shipped_scenario(scenario_id: str, sandbox_pool: SandboxPool) -> None:
    _check_triage(scenario_id, sandbox_pool)


INLINE = """
id: {id}
title: made-up names, never seen by the planner
seed: 7
topology:
  namespace: orchard
  nodes: [worker-x, worker-y]
  services:
    portal:    {{calls: [basket, pricing], replicas: 2, entry: true, rps: 120}}
    basket:    {{calls: [jam-store]}}
    pricing:   {{calls: [fruit-db, weather-api], replicas: 2}}
    fruit-db:  {{kind: database, replicas: 1}}
    jam-store: {{kind: cache}}
    weather-api: {{kind: external}}
end: "2026-04-01T09:00:00Z"
history: 2h
step: 15s
faults:
  - {{kind: {kind}, target: {target}, start: -20m}}
distractors:
  - {{kind: deploy, target: basket, start: -80m}}
alert:
  labels: {{alertname: PortalSlowOrFailing, severity: page, namespace: orchard, service: portal}}
  starts_at: -12m
expect:
  root_cause: {{service: {target}, kind: {kind}}}
  remediation: []
"""


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("kind", "target"), [("bad_deploy", "pricing"), ("dependency_latency", "weather-api")]
)
def test_triage_on_an_unseen_topology(
    kind: str, target: str, tmp_path: Path, sandbox_pool: SandboxPool
) -> None:
    path = tmp_path / f"orchard-{kind.replace('_', '-')}.yaml"
    path.write_text(INLINE.format(id=path.stem, kind=kind, target=target))
    _check_triage(path, sandbox_pool)


def _multi(signals: dict[str, tuple[str, str, float]], **kw: object) -> Findings:
    """Findings whose ranked signals came from traces or logs: name -> (source, kind, sigmas)."""
    return _f(
        sigmas={n: v for n, (_, _, v) in signals.items()},
        sources={n: src for n, (src, _, _) in signals.items()},
        kinds={n: k for n, (_, k, _) in signals.items()},
        **kw,
    )


NEW_ERROR = "log_new_errors|ERROR c.e.OrderService - <*> failed: NullPointerException"


def test_an_exception_burst_without_a_rollout_is_not_a_bad_deploy() -> None:
    burst = _multi({NEW_ERROR: ("logs", "errors", 40.0), "callers_error_ratio": ("metrics", "errors", 30.0)})
    verdict = classify(burst)
    assert verdict.kind is None and verdict.confidence >= 0.5
    assert any("NullPointerException" in b for b in verdict.because), verdict.because
    assert "no rollout before the onset" in verdict.because
    after_rollout = classify(burst.model_copy(update={"revision_age_s": -120.0}))
    assert after_rollout.kind == "bad_deploy"


def test_a_network_delay_shows_at_the_callers_not_in_the_service_itself() -> None:
    delayed = _multi({"trace_callers_latency_p90|waited for svc-a": ("traces", "latency", 60.0)})
    verdict = classify(delayed)
    assert verdict.kind == "dependency_latency" and verdict.confidence >= 0.5
    assert "callers wait longer on it" in verdict.because
    slow_itself = _multi(
        {
            "trace_callers_latency_p90|waited for svc-a": ("traces", "latency", 60.0),
            "trace_latency_p90|svc-a's own requests": ("traces", "latency", 55.0),
        }
    )
    assert "callers wait longer on it" not in classify(slow_itself).because


def test_errors_at_the_callers_are_a_delay_when_every_call_waits_past_the_old_tail_else_loss() -> None:
    """Loss fails some calls and leaves the rest fast; a callee slower than its callers' timeout fails
    them all after a wait: their median wait (traces) rises above their p99 before the onset (metrics)."""
    seen = {"sigmas": {"callers_error_ratio": 200, "callers_latency_p99": 900}}
    before = {"callers_latency_p99": 0.377}  # seconds, as the ranking reports it
    timed_out = classify(_f(**seen, baselines=before, callers_wait_ms=1000.0, has_workload=False))
    assert timed_out.kind == "dependency_latency" and "callers_wait" in timed_out.facts
    assert any("1000 ms" in b and "377 ms" in b for b in timed_out.because), timed_out.because
    lost = classify(_f(**seen, baselines=before, callers_wait_ms=24.0))
    assert lost.kind == "packet_loss"
    assert classify(_f(**seen, baselines=before)).kind == "packet_loss"  # no traces: loss, as before


def test_the_callers_wait_is_their_edges_medians_weighted_by_calls() -> None:
    def edge(caller: str, calls: int, p50_ms: float) -> dict[str, JsonValue]:
        return {"caller": caller, "callee": "svc-a", "calls": calls, "error_ratio": 0.5, "p50_ms": p50_ms}

    step = Step(
        call=ToolCall(
            id="r1-1-service_dependencies", tool="service_dependencies", args={"lookback_minutes": 15}
        ),
        status="ok",
        summary="edges",
        data={"edges": [edge("web", 30, 1000.0), edge("api", 10, 200.0), {"caller": "web", "callee": "b"}]},
        evidence=["traces:service_dependencies:web->svc-a:1", "traces:service_dependencies:web->b:2"],
    )
    incident = Incident(id="i", as_of=datetime(2026, 3, 1, tzinfo=UTC), source="question", title="t")
    view = PlannerView(incident=incident, steps=[step], evidence={}, usage=Usage(), budget=Budget())
    f = _f()
    add_callers_wait(f, view)
    assert f.callers_wait_ms == 800.0
    assert f.evidence["callers_wait"] == ["traces:service_dependencies:web->svc-a:1"]


def test_own_work_slowing_in_the_traces_is_a_cpu_fault_only_when_a_cpu_signal_says_so() -> None:
    """Slower own work with no resource signal at all answers slowly by itself (a lock, a slow disk):
    dependency latency by its definition; with CPU per request up but no pod at its limit the kind
    stays open; with a saturated pod it is a CPU fault."""
    slower = _multi({"trace_self_time_p90|own spans": ("traces", "resource", 35.0)})
    verdict = classify(slower)
    assert verdict.kind == "dependency_latency" and any("self time" in b for b in verdict.because)
    costlier = _multi(
        {
            "trace_self_time_p90|own spans": ("traces", "resource", 35.0),
            "cpu_per_request": ("metrics", "resource", 30.0),
        },
        traffic_ratio=1.0,
    )
    assert classify(costlier).kind is None
    with_cpu = _multi(
        {"trace_self_time_p90|own spans": ("traces", "resource", 35.0)},
        throttled=True,
        traffic_ratio=1.0,
    )
    assert classify(with_cpu).kind == "cpu_hog"


def test_a_cpu_row_without_a_saturated_pod_is_not_a_cpu_hog_to_restart() -> None:
    """A busy service's burst its baseline never saw raises CPU per request and throttling rows; with no
    pod at its CPU limit or throttled there is nothing a restart would fix."""
    bursty = _f(traffic_ratio=1.0, sigmas={"cpu_per_request": 40, "cpu_throttling": 25, "latency_p99": 15})
    verdict = classify(bursty)
    assert verdict.kind is None and "no pod of it is at its CPU limit or throttled" in verdict.because
    assert classify(bursty.model_copy(update={"cpu_at_limit": True})).kind == "cpu_hog"


def test_a_change_no_rule_names_is_not_called_a_latency_fault() -> None:
    """An idle pod's memory doubling far below its limit, with nothing else: no checklist rule names it,
    and the last rule's "its latency went up" would be a claim nothing supports."""
    memory = _multi({"memory_vs_limit": ("metrics", "resource", 21.0)})
    memory.changes["memory_vs_limit"] = "memory 2.3 % → 4.6 % of limit"
    verdict = classify(memory)
    assert verdict.kind is None and verdict.confidence < 0.5
    assert "memory 2.3 % → 4.6 % of limit" in verdict.because
    assert not any("latency" in b and "went up" in b for b in verdict.because), verdict.because
    slower = _multi(
        {"latency_p99": ("metrics", "latency", 8.0), "memory_vs_limit": ("metrics", "resource", 3.0)}
    )
    assert classify(slower).kind == "dependency_latency"
