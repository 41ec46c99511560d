"""The investigation report: what was concluded, on what evidence, what was proposed and what the guard
made of it, built from the final investigation state.

One `Report` model serves every reader: the chat API and `--json` get `model_dump`, Slack and the
CLI get Markdown (`agent.report_markdown`), the eval runner gets `eval_fields()` (DESIGN §3.8).
The guard's outcome arrives as a plain mapping (the guard lives in `policies/` and may grow fields);
`GuardOutcome` normalises the keys the report shows and keeps the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from agent.diagnosis import Diagnosis, FaultKind, Hypothesis
from agent.incident import Incident
from agent.planners.memory_signature import signature_after
from agent.report_chart import ChartInfo
from agent.report_markdown import render_markdown
from agent.report_similar import SimilarIncident, similar_of
from agent.report_symptom import symptom_of
from agent.state import Budget, InvestigationState, Proposal, Step, Usage
from policies.guard_record import GuardRecord
from tools.contract import Evidence, Status
from tools.memory.model import IncidentSignature

TIMELINE_SUMMARY_CHARS = 300
TIMELINE_DETAIL_LINES = 4


class TimelineEntry(BaseModel):
    """One tool call as it happened."""

    call_id: str
    tool: str
    args: dict[str, JsonValue] = Field(default_factory=dict)
    status: Status
    elapsed_s: float
    summary: str = Field("", description="the first line of the tool's summary, cut")
    details: list[str] = Field(
        default_factory=list, description="the summary's first lines after it: the key numbers, cut"
    )
    evidence: list[str] = Field(default_factory=list)
    retryable: bool = False
    truncated: bool = False

    @classmethod
    def of(cls, step: Step) -> TimelineEntry:
        lines = [line.strip() for line in step.summary.strip().splitlines() if line.strip()]
        # "… 6 more edges not shown" says how much was left out, not what was found
        details = [line for line in lines[1:] if not line.startswith("…")][:TIMELINE_DETAIL_LINES]
        return cls(
            call_id=step.call.id,
            tool=step.call.tool,
            args=dict(step.call.args),
            status=step.status,
            elapsed_s=round(step.elapsed_s, 3),
            summary=lines[0][:TIMELINE_SUMMARY_CHARS] if lines else "",
            details=[line[:TIMELINE_SUMMARY_CHARS] for line in details],
            evidence=list(step.evidence),
            retryable=step.retryable,
            truncated=step.truncated,
        )


def _text(value: object) -> str | None:
    """A guard field as one line: a string stays, a mapping (e.g. a Decision dump) gives its gist."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("outcome", "state", "status", "result", "message"):
            if isinstance(value.get(key), str):
                rest = {
                    k: v for k, v in value.items() if k != key and isinstance(v, str | int | float | bool)
                }
                extra = ", ".join(f"{k}={v}" for k, v in rest.items())
                return f"{value[key]}{f' ({extra})' if extra else ''}"
    return str(value)


def _lines(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, Mapping) and "rule" in item:
                effect = f" ({item['effect']})" if item.get("effect") else ""
                out.append(f"{item['rule']}{effect}: {item.get('why', '')}".rstrip(": "))
            else:
                out.append(str(item))
        return out
    return [str(value)]


class GuardOutcome(BaseModel):
    """What the guard did with the proposal: decision, matched rules, diff, kubectl, approval, execution
    and verification. Every field is optional (the guard may stop early); unknown keys are kept."""

    model_config = ConfigDict(extra="allow")

    decision: str | None = Field(None, description="deny | dry_run_only | require_approval | allow")
    matched_rules: list[str] = Field(default_factory=list)
    diff: list[str] = Field(default_factory=list, description="what the action changes, e.g. replicas: 3 → 6")
    kubectl: list[str] = Field(default_factory=list, description="the equivalent kubectl command(s)")
    approval: str | None = None
    execution: str | None = None
    verification: str | None = None

    @field_validator("decision", "approval", "execution", "verification", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> str | None:
        return _text(value)

    @field_validator("matched_rules", "diff", "kubectl", mode="before")
    @classmethod
    def _as_lines(cls, value: object) -> list[str]:
        return _lines(value)


_EXECUTION = {
    "denied": "not executed: the policy denied it",
    "dry_run_failed": "not executed: the dry-run failed",
    "dry_run_only": "nothing was changed (the API server dry-ran it)",
    "awaiting_approval": "not executed yet: awaiting approval",
    "allowed": "allowed: not executed yet",
    "not_approved": "not executed: approvals missing, expired or refused",
    "executed": "executed",
    "failed": "failed: the request was sent and refused",
}


def _approval_state(record: GuardRecord) -> str | None:
    """Who approved or refused, or what is still missing."""
    given = [
        f"{'approved' if a.verdict == 'approve' else 'refused'} by {a.approver} via {a.channel}"
        for a in record.approvals
    ]
    missing = [
        f"needs {s.missing} more from {', '.join(s.requirement.roles + s.requirement.groups) or 'an approver'}"
        for s in record.decision.approvals
        if not s.satisfied
    ]
    given += [record.unanswered] if record.unanswered else []
    if given or missing:
        return "; ".join(given + missing)
    if record.decision.outcome == "require_approval":
        return "pending" if record.stage == "awaiting_approval" else "required"
    return "not required" if record.decision.outcome == "allow" else None


def guard_outcome_of(record: GuardRecord) -> GuardOutcome:
    """The guard's record in the report's words."""
    decision = record.decision
    execution = _EXECUTION.get(record.stage, record.stage)
    if record.detail and record.stage in ("dry_run_failed", "failed", "not_approved"):
        execution += f" ({record.detail})"
    verification = None  # what was verified and what was not: "verified" alone reads as "all is well"
    if record.verified is not None:
        verification = ("verified" if record.verified else "not verified") + (
            f": {record.detail}" if record.detail else ""
        )
    return GuardOutcome.model_validate(
        {
            "decision": decision.headline(),
            "matched_rules": [m.model_dump() for m in decision.matched],
            "diff": list(record.changes),
            "kubectl": [record.kubectl] if record.kubectl else [],
            "approval": _approval_state(record),
            "execution": execution,
            "verification": verification,
            "stage": record.stage,
            "action_id": record.action.action_id,
        }
    )


class Prediction(BaseModel):
    """One ranked root-cause prediction as the eval scores it. `service` is `node/<name>` for node faults;
    `service=None, kind=None` is the "no fault" prediction."""

    service: str | None
    kind: FaultKind | None
    confidence: float


class ScenarioEvalFields(BaseModel):
    """The per-scenario fields of the eval report (DESIGN §3.8) that come from the investigation itself;
    correctness is scored by the runner against the scenario's `expect`."""

    predicted: list[Prediction]
    tool_calls: int
    llm_tokens: int
    wall_s: float
    proposed_action: dict[str, JsonValue] | None = Field(None, description="kind and target, if any")
    tools_called: list[str] = Field(default_factory=list, description="tool names in call order, repeats too")


class MetricProfileUsed(BaseModel):
    """The request-metric convention the metric tools queried in (tools/metrics/profiles.py)."""

    name: str
    title: str = ""
    how: str = Field("", description="pinned | detected | fallback")
    why: str = ""

    def line(self) -> str:
        return f"{self.name} ({self.title}; {self.how}{': ' + self.why if self.why else ''})"


def metric_profile_of(steps: list[Step]) -> MetricProfileUsed | None:
    """The profile the first metric tool that says one used (one per investigation)."""
    for step in steps:
        found = step.data.get("metric_profile")
        if isinstance(found, dict) and isinstance(found.get("name"), str):
            return MetricProfileUsed.model_validate({k: v for k, v in found.items() if k != "scores"})
    return None


class Report(BaseModel):
    incident: Incident
    planner: str
    verdict: str
    symptom: str | None = Field(
        None, description="the alerting symptom in numbers, e.g. frontend 5xx 30 % (was 0 %) since 13:35 UTC"
    )
    diagnosis: Diagnosis | None = Field(None, description="None: the investigation ended before diagnosing")
    evidence: list[Evidence] = Field(default_factory=list, description="everything observed; cited first")
    cited: list[str] = Field(default_factory=list, description="evidence ids some hypothesis cites")
    timeline: list[TimelineEntry] = Field(default_factory=list)
    proposal: Proposal | None = None
    guard: GuardOutcome | None = None
    usage: Usage = Field(default_factory=Usage)
    budget: Budget | None = None
    metric_profile: MetricProfileUsed | None = Field(None, description="None: no metric tool ran")
    chart: ChartInfo = Field(default_factory=lambda: ChartInfo(note="no chart was rendered"))
    similar: list[SimilarIncident] = Field(default_factory=list, description="similar past incidents")
    signature: IncidentSignature | None = Field(
        None, description="what this incident looked like, for the memory of past incidents"
    )

    @property
    def top(self) -> Hypothesis | None:
        return self.diagnosis.top if self.diagnosis else None

    def eval_fields(self) -> ScenarioEvalFields:
        predicted: list[Prediction] = []
        diagnosis = self.diagnosis
        # No named cause (healthy, or inconclusive with no hypothesis) is the "no fault" prediction.
        if diagnosis is None or diagnosis.healthy or not diagnosis.hypotheses:
            best = max((h.confidence for h in diagnosis.hypotheses), default=0.0) if diagnosis else 0.0
            predicted.append(Prediction(service=None, kind=None, confidence=round(1 - best, 4)))
        for h in diagnosis.hypotheses if diagnosis else []:
            service = h.entity if h.entity_kind == "node" else (h.service or h.entity)
            predicted.append(Prediction(service=service, kind=h.fault_kind, confidence=h.confidence))
        action = self.proposal.action if self.proposal else None
        return ScenarioEvalFields(
            predicted=predicted,
            tool_calls=self.usage.tool_calls,
            llm_tokens=self.usage.llm_tokens,
            wall_s=round(self.usage.wall_s, 3),
            proposed_action={"kind": action.kind, "target": action.target} if action else None,
            tools_called=[entry.tool for entry in self.timeline],
        )

    def to_markdown(self, relative_to: Path | None = None) -> str:
        return render_markdown(self, relative_to=relative_to)


def verdict_of(diagnosis: Diagnosis | None) -> str:
    """The one line an on-call engineer reads first."""
    if diagnosis is None:
        return "No diagnosis: the investigation ended before one was made."
    top = diagnosis.top
    if top is None:
        why = f": {diagnosis.summary}" if diagnosis.summary else ""
        if diagnosis.healthy:
            return f"Healthy: no fault found{why}."
        return (
            f"{diagnosis.summary}."
            if diagnosis.summary.startswith("INCONCLUSIVE")
            else "No supported hypothesis."
        )
    return f"{top.label}: {top.kind_text} on {top.entity} (confidence {top.confidence:.2f})."


def _guard_outcome(data: GuardRecord | Mapping[str, object] | None) -> GuardOutcome | None:
    if data is None:
        return None
    if isinstance(data, GuardRecord):
        return guard_outcome_of(data)
    return GuardOutcome.model_validate(dict(data)) if data else None


def build_report(
    state: InvestigationState,
    *,
    planner: str,
    chart: ChartInfo | None = None,
    guard: GuardRecord | Mapping[str, object] | None = None,
) -> Report:
    """The report of a finished (or budget-stopped) investigation. `guard` (the guard's record, or a
    plain mapping of the `GuardOutcome` keys) overrides `state['guard']`."""
    diagnosis = state.get("diagnosis")
    observed = state.get("evidence", {})
    cited: list[str] = []
    for h in diagnosis.hypotheses if diagnosis else []:
        cited.extend(e for e in h.evidence if e not in cited)
    evidence = [observed[e] for e in cited if e in observed]
    evidence += [ev for key, ev in observed.items() if key not in cited]
    guard_data = guard if guard is not None else state.get("guard")
    return Report(
        incident=state["incident"],
        planner=planner,
        verdict=verdict_of(diagnosis),
        symptom=symptom_of(state["incident"], state.get("steps", [])),
        diagnosis=diagnosis,
        evidence=evidence,
        cited=cited,
        timeline=[TimelineEntry.of(s) for s in state.get("steps", [])],
        proposal=state.get("proposal"),
        guard=_guard_outcome(guard_data),
        usage=state.get("usage") or Usage(),
        budget=state.get("budget"),
        metric_profile=metric_profile_of(state.get("steps", [])),
        chart=chart or ChartInfo(note="no chart was rendered"),
        similar=similar_of(state.get("steps", [])),
        signature=signature_after(state["incident"], state.get("steps", []), diagnosis),
    )
