"""The incident operations every door shares: the HTTP API's routes and the Slack app call these, so
opening an incident, a chat message or an approval means the same thing whichever door it came by.

Callers pass a verified `Principal` (a token's, or a signed Slack request's mapped user): nothing
here reads roles from a request body or message text. Nothing here executes an action either: an
approval is recorded and the incident's work requested; the worker resumes the guard, which decides
whether the approval counts (roles, expiry, self-approval) and executes at most once per action id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import JsonValue

from agent.chat import ChatAnswer
from agent.incident import Incident
from agent.report import Report
from policies.approvals import Approval, Channel, Verdict, same_person
from server.auth import Principal
from server.deps import Services
from server.problems import Conflict
from server.store.models import IncidentRecord
from server.worker import enough_answers


def open_incident(
    svc: Services, incident: Incident, *, by: Principal, group_key: str | None = None
) -> tuple[IncidentRecord, bool]:
    """Open (queue) the incident, or return the one already open for its id; the second value says
    whether it was created now."""
    record, created = svc.store.open(incident, opened_by=by.subject, group_key=group_key)
    if not created:
        svc.store.add_event(record.id, "note", f"opened again by {by.subject}; the investigation stands")
    return record, created


def chat(svc: Services, incident_id: str, text: str, *, by: Principal) -> ChatAnswer:
    """A chat message about the incident, answered from its evidence; both go on its timeline."""
    record = svc.store.get(incident_id)
    svc.store.add_event(incident_id, "message", f"{by.subject}: {text}", {"by": by.subject})
    report = Report.model_validate(record.report) if record.report else None
    reply = svc.chat(text, report, record.state)
    svc.store.add_event(
        incident_id, "reply", reply.text, {"intent": reply.intent, "evidence": list(reply.evidence)}
    )
    return reply


def waiting_action(
    svc: Services, incident_id: str, action_id: str, by: Principal | None = None
) -> dict[str, JsonValue]:
    """The guard's approval request for exactly `action_id`; `Conflict` when an answer to it (from `by`)
    could no longer count: the incident is resolved, another action (or none) waits, `by` already
    answered, or it was already decided."""
    record = svc.store.get(incident_id)
    if record.state == "resolved":
        raise Conflict("the incident is resolved: its symptom is gone and the pending approval was withdrawn")
    pending = record.pending
    if record.state != "awaiting_approval" or pending is None:
        raise Conflict(f"no action of incident {incident_id} waits for approval (state {record.state})")
    if pending.get("action_id") != action_id:
        raise Conflict(f"action {action_id} is not the one waiting for approval ({pending.get('action_id')})")
    answers = svc.store.approvals_for(incident_id, action_id)
    if by is not None and any(same_person(a.approver, by.subject) for a in answers):
        raise Conflict(f"{by.subject} already answered action {action_id}")
    refused = [a.approver for a in answers if a.verdict == "reject"]
    if refused:
        raise Conflict(f"action {action_id} was already refused by {', '.join(refused)}")
    if enough_answers(pending, answers):
        approvers = ", ".join(a.approver for a in answers)
        raise Conflict(f"action {action_id} was already approved by {approvers}; the guard is executing it")
    return pending


def record_approval(
    svc: Services,
    incident_id: str,
    action_id: str,
    *,
    by: Principal,
    verdict: Verdict,
    channel: Channel,
    comment: str = "",
) -> Approval:
    """Record `by`'s answer to exactly the action waiting, and ask for the incident's work to resume."""
    pending = waiting_action(svc, incident_id, action_id, by)
    now = datetime.now(UTC)
    approval = Approval.model_validate(
        {
            "approver": by.subject,
            "roles": by.roles,
            "groups": by.groups,
            "verdict": verdict,
            "action": pending["exact"],
            "approved_at": now,
            "expires_at": now + timedelta(seconds=svc.approval_ttl_s),
            "channel": channel,
            "comment": comment,
        }
    )
    if not svc.store.add_approval(incident_id, approval):
        raise Conflict(f"{by.subject} already answered action {action_id}")
    svc.store.add_event(
        incident_id,
        "approval",
        f"{by.subject} {'approved' if verdict == 'approve' else 'refused'} action {action_id} via {channel}",
        {"approver": by.subject, "verdict": verdict, "action_id": action_id, "channel": channel},
    )
    svc.queue.request(incident_id)
    svc.metrics.approvals.labels(verdict).inc()
    return approval
