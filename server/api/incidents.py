"""/v1/incidents: open, list, read, follow (server-sent events), feedback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field, JsonValue, model_validator

from agent.incident import AlertmanagerAlert, incident_from_alert, incident_from_question
from server import operations
from server.deps import Responder, ServicesDep, Viewer
from server.feedback import FeedbackIn, record_feedback
from server.store.models import IncidentRecord, IncidentState, TimelineEntry

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])
FINAL: set[str] = {"finished", "resolved", "failed"}


class OpenIncident(BaseModel):
    """An incident from one alert (as Alertmanager sends it) or from a question."""

    alert: AlertmanagerAlert | None = None
    question: str | None = Field(None, min_length=3, max_length=2000)
    namespace: str | None = Field(None, max_length=253)
    services: list[str] = Field(
        default_factory=list, max_length=50, description="services the question may name"
    )
    as_of: AwareDatetime | None = Field(
        None, description="the instant to investigate; default: the alert's startsAt, or now for a question"
    )

    @model_validator(mode="after")
    def _one_of(self) -> OpenIncident:
        if (self.alert is None) == (self.question is None):
            raise ValueError("send exactly one of `alert` or `question`")
        return self


class IncidentView(BaseModel):
    incident: IncidentRecord
    timeline: list[TimelineEntry]


class IncidentPage(BaseModel):
    incidents: list[IncidentRecord]
    next: str | None = Field(None, description="pass as `before` for the next page")


@router.post("", status_code=202, response_model=IncidentRecord)
def open_incident(body: OpenIncident, caller: Responder, svc: ServicesDep) -> IncidentRecord:
    if body.alert is not None:
        incident = incident_from_alert(body.alert)
        if body.as_of is not None:  # a backtest or replay: investigate as of another instant
            incident = incident.model_copy(update={"as_of": body.as_of})
    else:
        incident = incident_from_question(
            body.question or "",
            as_of=body.as_of or datetime.now(UTC),
            namespace=body.namespace,
            known_services=body.services,
            asked_by=caller.subject,
        )
    record, _created = operations.open_incident(svc, incident, by=caller)
    return record


@router.get("", response_model=IncidentPage)
def list_incidents(
    _caller: Viewer,
    svc: ServicesDep,
    state: IncidentState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=128)] = None,
) -> IncidentPage:
    found = svc.store.page(state=state, limit=limit + 1, before=before)
    more = len(found) > limit
    found = found[:limit]
    return IncidentPage(incidents=found, next=found[-1].id if more and found else None)


@router.get("/{incident_id}", response_model=IncidentView)
def get_incident(incident_id: str, _caller: Viewer, svc: ServicesDep) -> IncidentView:
    return IncidentView(incident=svc.store.get(incident_id), timeline=svc.store.timeline(incident_id))


@router.get("/{incident_id}/events", response_class=StreamingResponse)
async def follow_incident(
    incident_id: str,
    request: Request,
    _caller: Viewer,
    svc: ServicesDep,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> StreamingResponse:
    """The timeline as server-sent events, from `Last-Event-ID` on; ends when the incident rests."""
    svc.store.get(incident_id)

    async def stream() -> AsyncIterator[str]:
        after = last_event_id or 0
        while not await request.is_disconnected():
            entries = await asyncio.to_thread(svc.store.timeline, incident_id, after=after)
            for entry in entries:
                after = entry.seq
                yield f"id: {entry.seq}\nevent: {entry.kind}\ndata: {entry.model_dump_json()}\n\n"
            record = await asyncio.to_thread(svc.store.get, incident_id)
            if not entries and record.state in FINAL | {"awaiting_approval"}:
                yield f"event: state\ndata: {json.dumps({'state': record.state})}\n\n"
                return
            await asyncio.sleep(0.25 if entries else 0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/{incident_id}/feedback", status_code=201, response_model=dict[str, JsonValue])
def give_feedback(
    incident_id: str, body: FeedbackIn, caller: Responder, svc: ServicesDep
) -> dict[str, JsonValue]:
    """Was the verdict right or wrong, the true cause (service and fault kind), what fixed it, notes:
    kept with the incident and recalled when a similar incident returns."""
    line = record_feedback(svc.store, incident_id, body, by=caller)
    return {"recorded": True, "timeline": line}
