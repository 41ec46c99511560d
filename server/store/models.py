"""What the incident store holds, as the API shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, JsonValue

from agent.incident import Incident

IncidentState = Literal[
    "queued",  # opened, waiting for a worker
    "investigating",
    "awaiting_approval",  # the guard waits for an approver
    "finished",  # investigated; the report stands (an action may have run)
    "resolved",  # every alert of its group resolved
    "failed",  # the investigation raised; the timeline says why
]
EventKind = Literal[
    "opened", "alert", "resolved", "plan", "tool", "diagnosis", "proposal", "guard", "approval",
    "message", "reply", "feedback", "error", "state", "note",
]  # fmt: skip


class TimelineEntry(BaseModel):
    seq: int
    at: AwareDatetime
    kind: EventKind
    text: str
    data: dict[str, JsonValue] = Field(default_factory=dict)


class IncidentRecord(BaseModel):
    id: str
    title: str
    source: Literal["alert", "question"]
    namespace: str | None
    state: IncidentState
    opened_by: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    incident: Incident
    report: dict[str, JsonValue] | None = Field(
        None, description="the investigation's report: verdict, hypotheses, evidence, proposal, guard"
    )
    pending: dict[str, JsonValue] | None = Field(None, description="the approval the guard waits for")


class AlertNote(BaseModel):
    """What one alert of a webhook did to its incident."""

    fingerprint: str
    outcome: Literal["new", "repeat", "resolved", "stale"]
