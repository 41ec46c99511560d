"""POST /v1/incidents/{id}/messages: chat about an incident, answered from its evidence.

The message and the answer both go on the incident's timeline, so every door (API, Slack threads,
MCP `ask`) sees the same conversation. A message never changes what the guard allows.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent.chat import ChatAnswer
from agent.report import Report
from server.deps import Responder, ServicesDep

router = APIRouter(prefix="/v1/incidents", tags=["chat"])


class Message(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


@router.post("/{incident_id}/messages", response_model=ChatAnswer)
def post_message(incident_id: str, body: Message, caller: Responder, svc: ServicesDep) -> ChatAnswer:
    record = svc.store.get(incident_id)
    svc.store.add_event(incident_id, "message", f"{caller.subject}: {body.text}", {"by": caller.subject})
    report = Report.model_validate(record.report) if record.report else None
    reply = svc.chat(body.text, report, record.state)
    svc.store.add_event(
        incident_id, "reply", reply.text, {"intent": reply.intent, "evidence": list(reply.evidence)}
    )
    return reply
