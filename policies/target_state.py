"""What the guard knows about the target when it asks the policy: the facts rules and limits need.

Every field is optional because the guard may not know it; a rule or a limit that needs a fact the
state lacks fails closed (deny), it never assumes the harmless value. The guard fills this from the
Kubernetes API (labels, replicas, node counts) and from the audit log (recent executions).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tools.action_request import ActionKind


class RecentAction(BaseModel):
    """An action executed for real (from the audit log), for rate limits and per-hour budgets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_id: str
    kind: ActionKind
    target: str
    at: AwareDatetime


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
