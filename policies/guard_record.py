"""What the guard did with one action: the record the graph carries, the report shows and the API returns,
and the messages exchanged with the people who approve (the interrupt payload and their answers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue, ValidationError

from policies.approvals import Approval
from policies.audit import AuditRecord
from policies.decision import Decision
from tools.action_request import ActionRequest

Stage = Literal[
    "denied",  # the policy said no
    "dry_run_failed",  # the API server refused the dry-run: nothing is sent for real
    "dry_run_only",  # dry_run mode (or a dry_run_only rule): the dry-run is all that happens
    "awaiting_approval",
    "allowed",  # may execute without approval
    "not_approved",  # approvals missing, expired, refused or unqualified at execution time
    "changed",  # the target moved between the approved dry-run and execution: not sent
    "executed",
    "failed",  # the real request was refused
    "in_doubt",  # sent, but no answer: a person must check the target; never re-sent
]
GuardRoute = Literal["approve", "execute", "done"]


class GuardRecord(BaseModel):
    """What the guard did with one action, for the report, the API and the next node."""

    action: ActionRequest
    stage: Stage
    decision: Decision
    changes: list[str] = Field(default_factory=list, description="the dry-run's diff, e.g. 'replicas: 3 → 6'")
    kubectl: str = ""
    detail: str = ""
    approvals: list[Approval] = Field(default_factory=list)
    unanswered: str = Field("", description="why nobody could be asked to approve (no approver available)")
    executed: bool = False
    verified: bool | None = None


def approval_request(record: GuardRecord) -> dict[str, JsonValue]:
    """The interrupt payload: everything an approver needs, and the exact action to name."""
    return {
        "action": record.action.model_dump(mode="json"),
        "exact": record.action.exact().model_dump(mode="json"),  # what an approval must name
        "action_id": record.action.action_id,
        "changes": list(record.changes),
        "kubectl": record.kubectl,
        "decision": record.decision.model_dump(mode="json"),
        "evidence": list(record.action.evidence),
        "needs": [s.model_dump(mode="json") for s in record.decision.approvals],
    }


class NoApprover(BaseModel):
    """The answer when nobody could be asked (no terminal to prompt on, no chat seat): the request
    stays unapproved and the audit log says that no approver was available, not that someone refused."""

    why: str = Field(min_length=1, max_length=500, description="e.g. 'no terminal to ask on'")
    channel: str = "cli"

    def resume_value(self) -> dict[str, JsonValue]:
        """The interrupt's resume value that carries this answer (see `no_approver`)."""
        return {"approvals": [], "no_approver": self.model_dump(mode="json")}


def no_approver(answer: object) -> NoApprover | None:
    """The `NoApprover` a resume value carries, if it carries one."""
    if not isinstance(answer, dict) or answer.get("no_approver") is None:
        return None
    try:
        return NoApprover.model_validate(answer["no_approver"])
    except ValidationError:
        return None


def parse_approvals(answer: object) -> list[Approval]:
    """The resume value: a list of approvals (JSON or models). Anything else counts as no approval."""
    items = answer.get("approvals", []) if isinstance(answer, dict) else answer
    if not isinstance(items, list):
        return []
    approvals = []
    for item in items:
        try:
            approvals.append(item if isinstance(item, Approval) else Approval.model_validate(item))
        except ValidationError:
            continue  # a malformed approval approves nothing
    return approvals


def already_settled(record: GuardRecord, previous: list[AuditRecord]) -> GuardRecord | None:
    """What an earlier attempt at this action id came to, from its audit records; None if there was
    none. Nothing is re-sent (DESIGN §3.4 invariant 7)."""
    phases = [str(r.payload.get("phase")) for r in previous if r.kind == "execution"]
    if not phases:
        return None
    verified = [r.payload.get("ok") for r in previous if r.kind == "verification"]
    outcome: dict[str, object] = {"executed": False, "verified": None}
    if "done" in phases:
        outcome = {"stage": "executed", "executed": True, "verified": bool(verified and verified[-1])}
        detail = "already executed for this action id; not sent again"
    elif "failed" in phases:
        outcome["stage"], detail = (
            "failed",
            "an earlier attempt was refused by the API server; not sent again",
        )
    else:
        outcome["stage"] = "in_doubt"
        detail = "an earlier attempt was sent but never confirmed: check the target; not sent again"
    return record.model_copy(update={**outcome, "detail": detail})
