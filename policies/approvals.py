"""Approvals (DESIGN §3.4 invariant 4): a human's yes or no to one exact action, and whether it counts.

An approval names the exact action (kind, target, params and incident, hence its `action_id`), has
an expiry, and carries the approver's roles and groups. Those must come from the channel's verified
identity (a Slack user group lookup, the API's authenticated token), never from message text: the
server builds the `Approval`, a chat message cannot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from policies.decision import ApprovalStatus, RejectedApproval
from policies.model import ApprovalRequirement
from tools.action_request import ActionRequest, ExactAction

Channel = Literal["slack", "api", "cli", "web"]
Verdict = Literal["approve", "reject"]


def same_person(a: str, b: str) -> bool:
    """Identities compare case-insensitively and without surrounding blanks ("Alice " is alice)."""
    return a.strip().casefold() == b.strip().casefold()


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approver: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=list, description="from the verified identity, not from text")
    groups: list[str] = Field(default_factory=list, description="from the verified identity, not from text")
    verdict: Verdict = "approve"
    action: ExactAction = Field(description="the exact action approved: kind, target, params, incident")
    approved_at: AwareDatetime
    expires_at: AwareDatetime
    channel: Channel
    comment: str = Field("", max_length=2000, description="for humans; never read by policy")

    @model_validator(mode="after")
    def _expires_after_approval(self) -> Approval:
        if self.expires_at <= self.approved_at:
            raise ValueError("expires_at: must be after approved_at")
        return self

    @property
    def action_id(self) -> str:
        return self.action.action_id

    def holds_role_for(self, requirement: ApprovalRequirement) -> bool:
        return bool(set(self.roles) & set(requirement.roles)) or bool(
            set(self.groups) & set(requirement.groups)
        )


def why_not_counted(
    approval: Approval, request: ActionRequest, requirement: ApprovalRequirement, now: datetime
) -> str | None:
    """The reason an approval does not count toward `requirement`, or None when it does."""
    if approval.action_id != request.action_id:
        return f"names another action ({approval.action_id}, not {request.action_id})"
    if approval.approved_at > now:
        return f"approved_at {approval.approved_at.isoformat()} is in the future"
    if now >= approval.expires_at:
        return f"expired at {approval.expires_at.isoformat()}"
    if now - approval.approved_at > requirement.max_age:
        return f"older than the policy's max_age {requirement.max_age}"
    if not approval.holds_role_for(requirement):
        wanted = ", ".join(requirement.roles + requirement.groups)
        return f"does not hold an approver role or group ({wanted})"
    if same_person(approval.approver, request.requested_by) and not requirement.allow_self_approval:
        return "the requester cannot approve their own action"
    return None


def tally(
    source: str,
    requirement: ApprovalRequirement,
    approvals: Iterable[Approval],
    request: ActionRequest,
    now: datetime,
) -> ApprovalStatus:
    """Count distinct qualified approvers for `request`; a qualified refusal vetoes.

    A refusal counts when it names the action and is current, and comes from someone who could have
    approved or from the requester (who may always withdraw)."""
    approved: list[str] = []
    vetoed: list[str] = []
    rejected: list[RejectedApproval] = []
    for approval in approvals:
        problem = why_not_counted(approval, request, requirement, now)
        if approval.verdict == "reject":
            withdrawn = same_person(approval.approver, request.requested_by)
            names_it = (
                approval.action_id == request.action_id and approval.approved_at <= now < approval.expires_at
            )
            if problem is None or (withdrawn and names_it):
                vetoed.append(approval.approver)
            continue
        if problem is not None:
            rejected.append(RejectedApproval(approver=approval.approver, why=problem))
        elif any(same_person(approval.approver, seen) for seen in approved):
            rejected.append(
                RejectedApproval(approver=approval.approver, why="already counted (distinct approvers)")
            )
        else:
            approved.append(approval.approver)
    return ApprovalStatus(
        source=source, requirement=requirement, approved_by=approved, rejected=rejected, vetoed_by=vetoed
    )
