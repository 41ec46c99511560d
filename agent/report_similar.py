"""The similar past incidents a report cites: what `similar_incidents` returned, whichever planner asked."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.state import Step


class SimilarIncident(BaseModel):
    """A past incident `similar_incidents` found, as the report cites it."""

    incident_id: str
    similarity: float
    line: str = Field(description="the verdict of the time, a responder's correction first")
    evidence: str | None = Field(None, description="the evidence id that cites it")


def similar_of(steps: list[Step]) -> list[SimilarIncident]:
    """The past incidents the memory returned (the last call's), whichever planner asked."""
    found: list[SimilarIncident] = []
    for step in steps:
        matches = step.data.get("matches") if step.call.tool == "similar_incidents" else None
        if step.status != "ok" or not isinstance(matches, list):
            continue
        found = [
            SimilarIncident(
                incident_id=str(m.get("incident_id")),
                similarity=float(str(m.get("similarity") or 0)),
                line=str(m.get("line") or ""),
                evidence=step.evidence[i] if i < len(step.evidence) else None,
            )
            for i, m in enumerate(matches)
            if isinstance(m, dict)
        ]
    return found
