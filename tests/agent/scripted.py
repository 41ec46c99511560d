"""A scripted planner and two tiny read tools, to drive the real graph deterministically."""

from __future__ import annotations

from pydantic import BaseModel

from agent.diagnosis import Diagnosis, Hypothesis
from agent.planner import DiagnosisResult, Plan
from agent.state import PlannerView, ToolCall
from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, tool


class ServiceArgs(BaseModel):
    service: str


@tool(effect="read")
def error_ratio(ctx: ToolContext, args: ServiceArgs) -> ToolResult:
    """The service's error ratio at as_of (a stand-in with a fixed answer)."""
    evidence = Evidence(id=f"test:errors:{args.service}", source="prometheus", description="5xx ratio 0.31")
    return ToolResult(
        status="ok",
        data={"ratio": 0.31, "as_of": ctx.as_of.isoformat()},
        summary=f"{args.service}: 5xx ratio 0.31",
        evidence=[evidence],
    )


@tool(effect="read")
def revisions(ctx: ToolContext, args: ServiceArgs) -> ToolResult:
    """The workload's revision history (a stand-in with a fixed answer)."""
    evidence = Evidence(
        id=f"test:rev:{args.service}", source="kubernetes", description="revision 2, 20 min ago"
    )
    return ToolResult(
        status="ok", summary=f"{args.service}: new revision 20 min before the alert", evidence=[evidence]
    )


class ScriptedPlanner:
    """Round 1: two calls in parallel; then done. Diagnoses a bad deploy of `service`, citing what it
    saw plus one id it never saw (which the graph must drop with its hypothesis)."""

    name = "scripted"

    def __init__(self, service: str = "checkout", rounds: int = 1, confidence: float = 0.9) -> None:
        self.service, self.rounds, self.confidence = service, rounds, confidence

    def plan(self, view: PlannerView) -> Plan:
        if view.usage.steps >= self.rounds:
            return Plan(done=True, note="enough")
        n = view.usage.steps
        return Plan(
            calls=[
                ToolCall(id=f"c{n}a", tool="error_ratio", args={"service": self.service}),
                ToolCall(id=f"c{n}b", tool="revisions", args={"service": self.service}),
            ],
            note="golden signals and changes",
        )

    def diagnose(self, view: PlannerView) -> DiagnosisResult:
        real = sorted(view.evidence)
        return DiagnosisResult(
            diagnosis=Diagnosis(
                hypotheses=[
                    Hypothesis(
                        entity="ghost",
                        service="ghost",
                        fault_kind="bad_deploy",
                        confidence=0.99,
                        label="CONFIRMED",
                        summary="made up",
                        evidence=["test:never-seen"],
                    ),
                    Hypothesis(
                        entity=self.service,
                        service=self.service,
                        fault_kind="bad_deploy",
                        confidence=self.confidence,
                        label="CONFIRMED",
                        summary="errors since the new revision",
                        evidence=real,
                    ),
                ]
            )
        )
