"""POST /v1/incidents/{id}/actions/{action_id}/approval: an approver's yes or no to exactly that action.

The approval is built here from the verified caller (subject, roles and groups of the token), names
the exact action the guard is waiting on, and expires. The guard decides whether it counts: this
route only refuses what can never count (no action waiting, another action, a resolved incident, a
second answer from the same person). Nothing is executed here: the worker resumes the thread.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policies.approvals import Approval
from server.deps import ApproverCaller, ServicesDep
from server.problems import Conflict

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
    record = svc.store.get(incident_id)
    if record.state == "resolved":
        raise Conflict("the incident is resolved: its symptom is gone and the pending approval was withdrawn")
    pending = record.pending
    if record.state != "awaiting_approval" or pending is None:
        raise Conflict(f"no action of incident {incident_id} waits for approval (state {record.state})")
    if pending.get("action_id") != action_id:
        raise Conflict(f"action {action_id} is not the one waiting for approval ({pending.get('action_id')})")
    now = datetime.now(UTC)
    approval = Approval.model_validate(
        {
            "approver": caller.subject,
            "roles": caller.roles,
            "groups": caller.groups,
            "verdict": body.verdict,
            "action": pending["exact"],
            "approved_at": now,
            "expires_at": now + timedelta(seconds=svc.approval_ttl_s),
            "channel": "api",
            "comment": body.comment,
        }
    )
    if not svc.store.add_approval(incident_id, approval):
        raise Conflict(f"{caller.subject} already answered action {action_id}")
    svc.store.add_event(
        incident_id,
        "approval",
        f"{caller.subject} {'approved' if body.verdict == 'approve' else 'refused'} action {action_id}",
        {"approver": caller.subject, "verdict": body.verdict, "action_id": action_id},
    )
    svc.queue.request(incident_id)
    svc.metrics.approvals.labels(body.verdict).inc()
    return ApprovalAccepted(
        incident_id=incident_id,
        action_id=action_id,
        approver=caller.subject,
        verdict=body.verdict,
        expires_at=approval.expires_at,
    )
