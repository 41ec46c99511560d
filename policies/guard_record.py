"""What the guard did with one action: the record the graph carries, the report shows and the API returns,
and the messages exchanged with the people who approve (the interrupt payload and their answers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue, ValidationError

from policies.approvals import Approval
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
