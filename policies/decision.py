"""The `Decision` (DESIGN §3.3): what the policy says about one action, and every reason why.

A denial is a Decision, not an exception: the guard records it in the audit log and tells the
human which rule said no. `outcome` is what happens now; `enforce_outcome` is what an enforcing
policy would have decided, so a team running in dry_run mode sees what enforcement would do.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from policies.model import EFFECT_RANK, ApprovalRequirement, Effect, Mode

Outcome = Effect


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleMatch(_Strict):
    """One check that took part: a rule, a guardrail, a freeze, an approval tally."""

    rule: str = Field(description="e.g. 'rules/restart-boutique', 'limits.scale', 'freezes/weekend'")
    effect: Effect = Field(description="what this check alone allows; 'allow' for a check that passed")
    why: str


class RejectedApproval(_Strict):
    approver: str
    why: str


class ApprovalStatus(_Strict):
    """How the submitted approvals measure up against one requirement (a rule's or a freeze's)."""

    source: str = Field(description="the rule or freeze that asks for approval")
    requirement: ApprovalRequirement
    approved_by: list[str] = Field(default_factory=list, description="distinct approvers that count")
    rejected: list[RejectedApproval] = Field(default_factory=list, description="approvals that do not count")
    vetoed_by: list[str] = Field(default_factory=list, description="qualified people who refused")

    @property
    def missing(self) -> int:
        return max(0, self.requirement.min_approvers - len(self.approved_by))

    @property
    def satisfied(self) -> bool:
        return self.missing == 0 and not self.vetoed_by


class Decision(_Strict):
    outcome: Outcome
    enforce_outcome: Outcome = Field(description="the outcome had the policy been in enforce mode")
    mode: Mode
    action_id: str
    policy_digest: str
    evaluated_at: AwareDatetime
    matched: list[RuleMatch] = Field(default_factory=list)
    approvals: list[ApprovalStatus] = Field(default_factory=list)

    @property
    def may_execute(self) -> bool:
        """True only for `allow`: the one outcome after which a real (non-dry-run) request may be sent."""
        return self.outcome == "allow"

    @property
    def reasons(self) -> list[str]:
        """The checks that tightened the outcome, in the order they were made."""
        return [f"{m.rule}: {m.why}" for m in self.matched if m.effect != "allow"]

    def headline(self) -> str:
        """The outcome, naming the mode once: 'deny (enforce mode)', or in dry_run mode what enforcing
        would change: 'dry_run_only (dry_run mode; in enforce mode: require_approval)'."""
        if self.mode == "dry_run" and self.enforce_outcome != self.outcome:
            return f"{self.outcome} (dry_run mode; in enforce mode: {self.enforce_outcome})"
        return f"{self.outcome} ({self.mode} mode)"

    def summary(self) -> str:
        lines = [self.headline()]
        lines += [f"- [{m.effect}] {m.rule}: {m.why}" for m in self.matched]
        for status in self.approvals:
            if not status.satisfied:
                who = ", ".join(status.requirement.roles + status.requirement.groups)
                lines.append(f"- needs {status.missing} more approval(s) from {who} ({status.source})")
        return "\n".join(lines)


def tighten(current: Effect, other: Effect) -> Effect:
    """The stricter of two effects (allow < require_approval < dry_run_only < deny)."""
    return current if EFFECT_RANK[current] >= EFFECT_RANK[other] else other
