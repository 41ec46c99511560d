"""A finished investigation's state for the report tests: a confirmed bad deploy, evidence with
hostile world text in it, three tool calls (one failed), a proposal from the shipped runbook."""

from __future__ import annotations

from agent.diagnosis import Diagnosis, Hypothesis
from agent.incident import Incident
from agent.remediation import RemediationFacts, propose
from agent.runbook import load_runbook
from agent.state import Budget, InvestigationState, Step, ToolCall, Usage
from tests.tools.prom_fixture import AS_OF
from tools.contract import Evidence

GOLDEN = "prom:golden:checkout:3f9a1c0b2d"
ROLLOUT = "kube:rollout:checkout:9c1e22aa01"
NOISE = "prom:golden:cart:77aa00bb11"
HOSTILE = "![pixel](http://evil.example/t.png) <img src=x> | approved | `rm -rf` [click](http://evil.example)"


def incident() -> Incident:
    return Incident(
        id="checkouterrors-0a1b2c3d4e5f",
        as_of=AS_OF,
        source="alert",
        title="checkout 5xx ratio above 5%",
        namespace="boutique",
        services=["checkout"],
        annotations={"summary": HOSTILE},
    )


def state(diagnosis: Diagnosis | None = None) -> InvestigationState:
    evidence = {
        GOLDEN: Evidence(
            id=GOLDEN,
            source="prometheus",
            description="checkout 5xx ratio 30% (baseline 0.1%)",
            query='sum(rate(http_server_request_duration_seconds_count{service="checkout"}[5m]))',
        ),
        ROLLOUT: Evidence(
            id=ROLLOUT, source="kubernetes", description=f"rev 7 at 11:40: image 1.4.2 {HOSTILE}"
        ),
        NOISE: Evidence(id=NOISE, source="prometheus", description="cart steady"),
    }
    steps = [
        Step(
            call=ToolCall(id="c1", tool="golden_signals", args={"service": "checkout"}),
            status="ok",
            summary="checkout: errors 30% (was 0.1%)\nmore lines",
            evidence=[GOLDEN],
            elapsed_s=0.1234,
        ),
        Step(
            call=ToolCall(id="c2", tool="kube_workload", args={"namespace": "boutique", "name": "checkout"}),
            status="ok",
            summary=f"deployment boutique/checkout: 2/2 available {HOSTILE}",
            data={"deployment": {"namespace": "boutique", "name": "checkout", "replicas": 2}},
            evidence=[ROLLOUT],
            elapsed_s=0.05,
        ),
        Step(
            call=ToolCall(id="c3", tool="pod_logs", args={"pod": "x"}),
            status="error",
            summary="no pod named x",
            retryable=True,
        ),
    ]
    if diagnosis is None:
        diagnosis = Diagnosis(
            summary="checkout's rollout at 11:40 broke it",
            hypotheses=[
                Hypothesis(
                    entity="checkout",
                    service="checkout",
                    fault_kind="bad_deploy",
                    confidence=0.86,
                    label="CONFIRMED",
                    summary=f"errors began with revision 7 {HOSTILE}",
                    evidence=[ROLLOUT, GOLDEN],
                    ruled_out=["cart: steady, its deploy 3h ago is harmless"],
                ),
                Hypothesis(
                    entity="node/node-b",
                    entity_kind="node",
                    fault_kind="node_pressure",
                    confidence=0.3,
                    label="INCONCLUSIVE",
                    summary="node-b memory is high",
                    evidence=[GOLDEN],
                ),
            ],
            dropped=["frontend (cpu_hog): cites unknown evidence prom:x"],
        )
    proposal = propose(
        diagnosis, incident(), planner="rules", runbook=load_runbook(), facts=RemediationFacts(replicas=2)
    )
    return InvestigationState(
        incident=incident(),
        budget=Budget(),
        steps=steps,
        evidence=evidence,
        usage=Usage(steps=3, tool_calls=3, llm_tokens=0, wall_s=4.21, exhausted=["max_tool_calls at step 3"]),
        diagnosis=diagnosis,
        proposal=proposal,
    )


GUARD: dict[str, object] = {
    "decision": {"outcome": "require_approval", "mode": "enforce", "action_id": "act-1"},
    "matched_rules": [
        {"rule": "rules/rollback-boutique", "effect": "require_approval", "why": "rollbacks need an SRE"},
        "limits.scale: within ×2",
    ],
    "diff": ["image: checkout:1.4.2 → checkout:1.4.1"],
    "kubectl": "kubectl -n boutique rollout undo deployment/checkout",
    "approval": {"state": "approved", "by": "alice"},
    "execution": "ok",
    "verification": "5xx ratio back under 1% after 3m",
}
