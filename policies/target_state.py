"""What the guard knows about the target when it asks the policy: the facts rules and limits need.

Every field is optional because the guard may not know it; a rule or a limit that needs a fact the
state lacks fails closed (deny), it never assumes the harmless value. The guard fills this from the
Kubernetes API (labels, replicas, node counts, rollout history) and from the audit log (recent
executions and whether their symptom receded).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tools.action_request import ActionKind


class RecentAction(BaseModel):
    """An action sent for real (from the audit log), for rate limits, budgets and follow-up approvals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_id: str
    kind: ActionKind
    target: str
    at: AwareDatetime
    applied: bool | None = Field(
        True, description="took effect (True), refused by the API server (False), no answer (None)"
    )
    recovered: bool | None = Field(
        None, description="its symptom receded (True) or not (False) when re-checked; None: not re-checked"
    )


class Revision(BaseModel):
    """One revision of a Deployment's rollout history (a rollback gives an old template a new number)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revision: int = Field(ge=1)
    template: str = Field(min_length=1, description="digest of its pod template, restart stamps left out")
    became_current: AwareDatetime | None = Field(None, description="None: unknown (a time that expired)")


class TargetState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: dict[str, str] | None = Field(None, description="the target's labels; None: unknown")
    replicas: int | None = Field(None, ge=0, description="a deployment's current spec.replicas")
    node_schedulable: bool | None = Field(None, description="a node target is not cordoned now")
    schedulable_nodes: int | None = Field(None, ge=0, description="schedulable nodes in the cluster now")
    cordoned_nodes: int | None = Field(None, ge=0, description="nodes cordoned now")
    recent_actions: list[RecentAction] | None = Field(
        None, description="executions across the cluster, any order; None: unknown (rate limits deny)"
    )
    revisions: list[Revision] | None = Field(
        None, description="a deployment's rollout history, any order; None: unknown (rollbacks deny)"
    )
    action_template: str | None = Field(
        None, description="digest of the pod template the action would leave; None: unknown"
    )
