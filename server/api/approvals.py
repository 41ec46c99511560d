"""POST /v1/incidents/{id}/actions/{action_id}/approval: an approver's yes or no to exactly that action.

The approval is built (`server.operations.record_approval`) from the verified caller (subject, roles and groups of the token), names
the exact action the guard is waiting on, and expires. The guard decides whether it counts: this
route only refuses what can never count (no action waiting, another action, a resolved incident, a
second answer from the same person, an action already decided). Nothing is executed here: the
worker resumes the thread. The Slack buttons record approvals through the same `record_approval`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import ApproverCaller, ServicesDep
from server.operations import record_approval

router = APIRouter(prefix="/v1/incidents", tags=["approvals"])


class ApprovalBody(BaseModel):
    verdict: Literal["approve", "reject"]
    comment: str = Field("", max_length=2000)


class ApprovalAccepted(BaseModel):
    incident_id: str
    action_id: str
    approver: str
    verdict: Literal["approve", "reject"]
    expires_at: datetime


@router.post("/{incident_id}/actions/{action_id}/approval", status_code=202, response_model=ApprovalAccepted)
def answer(
    incident_id: str, action_id: str, body: ApprovalBody, caller: ApproverCaller, svc: ServicesDep
) -> ApprovalAccepted:
    approval = record_approval(
        svc, incident_id, action_id, by=caller, verdict=body.verdict, channel="api", comment=body.comment
    )
    return ApprovalAccepted(
        incident_id=incident_id,
        action_id=action_id,
        approver=caller.subject,
        verdict=body.verdict,
        expires_at=approval.expires_at,
    )
