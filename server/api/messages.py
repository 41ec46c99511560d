"""POST /v1/incidents/{id}/messages: chat about an incident, answered from its evidence.

The message and the answer both go on the incident's timeline, so every door (API, Slack threads,
MCP `ask`) sees the same conversation. A message never changes what the guard allows.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent.chat import ChatAnswer
from server.deps import Responder, ServicesDep
from server.operations import chat

router = APIRouter(prefix="/v1/incidents", tags=["chat"])


class Message(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


@router.post("/{incident_id}/messages", response_model=ChatAnswer)
def post_message(incident_id: str, body: Message, caller: Responder, svc: ServicesDep) -> ChatAnswer:
    return chat(svc, incident_id, body.text, by=caller)
