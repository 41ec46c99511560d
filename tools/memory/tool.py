"""`similar_incidents`: past incidents that looked like this one, with their verdicts and corrections.

Results are hypotheses to check against today's evidence, never answers: the summary says so, and
the rules planner (agent/planners/memory_check.py) keeps a past cause only where today's evidence
supports it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import BackendError
from tools.memory.model import IncidentSignature, PastIncident
from tools.memory.similarity import MIN_SIMILARITY, similarity
from tools.metrics.templates import NAME_PATTERN
from tools.summary import bounded_summary

SCAN_LIMIT = 500  # the newest past incidents compared; older ones are rarely the ones that matter


class SimilarIncidentsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: list[str] = Field(
        min_length=1, max_length=20, description="affected services: the alerted ones and the suspects"
    )
    namespace: str | None = Field(None, pattern=NAME_PATTERN)
    symptoms: list[str] = Field(
        default_factory=list,
        max_length=60,
        description="signals that moved, as service:kind:up|down, e.g. checkout:errors:up",
    )
    fault_kind: str | None = Field(None, max_length=64, description="the suspected fault kind, if any")
    changes: list[str] = Field(
        default_factory=list, max_length=20, description="recent changes, e.g. rollout:checkout"
    )
    exclude_incident: str | None = Field(None, max_length=128, description="this incident's own id")
    limit: int = Field(3, ge=1, le=5)

    def signature(self) -> IncidentSignature:
        return IncidentSignature(
            namespace=self.namespace,
            services=self.services,
            symptoms=self.symptoms,
            fault_kind=self.fault_kind,
            changes=self.changes,
        )


def describe(past: PastIncident) -> str:
    """One line: the correction first ("a responder corrected it to …"), then the verdict."""
    when = past.at.strftime("%Y-%m-%d %H:%M UTC")
    said = f"the verdict was {past.cause.text()}" if past.cause else f"the verdict was: {past.verdict}"
    corrected = past.correction()
    if corrected is not None:
        to = corrected.cause.text() if corrected.cause else "another cause (not named)"
        fixed = f", fixed by {corrected.fixed_by}" if corrected.fixed_by else ""
        notes = f" ({corrected.notes})" if corrected.notes else ""
        return f"{past.incident_id} ({when}): {said}; a responder corrected it to {to}{fixed}{notes}"
    confirmed = [f for f in past.feedback if f.verdict == "right"]
    fixed = next((f.fixed_by for f in confirmed if f.fixed_by), "")
    tail = "; a responder confirmed it" + (f", fixed by {fixed}" if fixed else "") if confirmed else ""
    return f"{past.incident_id} ({when}): {said}{tail}"


def _row(past: PastIncident, score: float, shared: list[str]) -> dict[str, JsonValue]:
    corrected = past.correction()
    true_cause = past.true_cause()
    return {
        "incident_id": past.incident_id,
        "title": past.title,
        "at": past.at.isoformat(),
        "similarity": score,
        "shared": list(shared),
        "verdict": past.verdict,
        "cause": past.cause.model_dump(mode="json") if past.cause else None,
        "corrected": corrected is not None,
        "true_cause": true_cause.model_dump(mode="json") if true_cause else None,
        "fixed_by": corrected.fixed_by
        if corrected
        else next((f.fixed_by for f in past.feedback if f.fixed_by), ""),
        "feedback": [
            f.model_dump(mode="json") for f in sorted(past.feedback, key=lambda f: f.verdict != "wrong")
        ],
        "line": describe(past),
    }


@tool(effect="read")
def similar_incidents(ctx: ToolContext, args: SimilarIncidentsInput) -> ToolResult:
    """Past incidents with a similar signature (shared services, symptoms, fault kind, recent
    rollouts), best first, with the verdict medic gave and what responders said (corrections first).
    A past cause is a hypothesis to check against today's evidence, never an answer."""
    if ctx.memory is None:
        return ToolResult(
            status="no_data", summary="incident memory is not configured: no past incidents to compare"
        )
    try:
        remembered = ctx.memory.past_incidents(until=ctx.as_of, limit=SCAN_LIMIT)
    except (BackendError, OSError) as exc:
        # the past is not evidence: an unreadable memory leaves today's diagnosis whole, not degraded
        return ToolResult(
            status="no_data",
            summary=f"the incident memory could not be read ({exc}); no past incident compared",
        )
    today = args.signature()
    scored = []
    for past in remembered:
        if past.incident_id == args.exclude_incident:
            continue
        match = similarity(today, past.signature)
        if match.score >= MIN_SIMILARITY:
            scored.append((match.score, past, match.shared))
    scored.sort(key=lambda x: (-x[0], -x[1].at.timestamp(), x[1].incident_id))
    top = scored[: args.limit]
    if not top:
        return ToolResult(status="ok", data={"matches": []}, summary="no similar past incident")
    evidence = [
        Evidence(
            id=evidence_id(
                "memory", "similar", past.incident_id, past.incident_id, score, ctx.as_of.isoformat()
            ),
            source="memory",
            description=f"similar past incident (similarity {score:.2f}): {describe(past)}",
        )
        for score, past, _ in top
    ]
    summary, cut = bounded_summary(
        f"{len(top)} similar past incident(s); check each against today's evidence:",
        [f"similarity {score:.2f}: {describe(past)}" for score, past, _ in top],
        max_tokens=ctx.config.summary_max_tokens,
        unit="incidents",
    )
    return ToolResult(
        status="ok",
        data={"matches": [_row(past, score, shared) for score, past, shared in top]},
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )
