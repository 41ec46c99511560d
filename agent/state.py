"""The state of one investigation (one LangGraph thread), checkpointed after every step.

Everything here is a pydantic model or plain JSON so the checkpointer can serialise it and any
process can resume the thread. Planners read it through `PlannerView`, never mutate it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agent.diagnosis import Diagnosis
from agent.incident import Incident
from policies.approvals import Approval
from policies.guard_record import GuardRecord
from policies.model import ApprovalRequirement
from tools.action_request import ActionRequest
from tools.contract import Evidence, Status


class ToolCall(BaseModel):
    """A call a planner asks for; `id` is unique within the investigation."""

    model_config = ConfigDict(frozen=True)

    id: str
    tool: str
    args: dict[str, JsonValue] = Field(default_factory=dict)


class Step(BaseModel):
    """A call and what came back. `data` keeps the structure for code (rules planner, report)."""

    call: ToolCall
    status: Status
    summary: str
    data: dict[str, JsonValue] = Field(default_factory=dict)
    evidence: list[str] = Field(default_factory=list)
    retryable: bool = False
    truncated: bool = False
    elapsed_s: float = 0.0


class Budget(BaseModel):
    """Limits on one investigation; hitting one ends the investigation with what is known so far."""

    max_steps: int = Field(8, ge=1, description="planning rounds")
    max_tool_calls: int = Field(30, ge=1)
    max_wall_s: float = Field(120.0, gt=0)
    max_llm_tokens: int = Field(60_000, ge=0, description="prompt + completion tokens over all LLM calls")
    parallel_calls: int = Field(4, ge=1, le=16, description="tool calls run at once")


class Usage(BaseModel):
    steps: int = 0
    tool_calls: int = 0
    llm_tokens: int = 0
    largest_request_tokens: int = 0
    wall_s: float = 0.0
    exhausted: list[str] = Field(default_factory=list, description="budgets that were hit, and when")


class Proposal(BaseModel):
    """What the runbook made of the diagnosis: an action for the guard, or an escalation."""

    action: ActionRequest | None = None
    escalation: str | None = Field(None, description="who to call and why, when no action is safe")
    runbook_entry: str | None = None
    reason: str = ""


class PlannerView(BaseModel):
    """The read-only slice of the state a planner decides from."""

    incident: Incident
    steps: list[Step]
    evidence: dict[str, Evidence]
    usage: Usage
    budget: Budget
    transcript: list[dict[str, JsonValue]] = Field(default_factory=list)


Route = Literal["investigate", "diagnose"]


class InvestigationState(TypedDict, total=False):
    """The LangGraph state. `steps` and `transcript` only grow (reducers append)."""

    incident: Incident
    budget: Budget
    steps: Annotated[list[Step], operator.add]
    evidence: dict[str, Evidence]
    pending: list[ToolCall]
    transcript: Annotated[list[dict[str, JsonValue]], operator.add]
    usage: Usage
    finished: bool
    started_at: float  # unix seconds, for the wall-time budget
    diagnosis: Diagnosis
    proposal: Proposal
    # The guard's keys (policies.guard.GuardState): the action it was given, people's answers, the outcome.
    action: ActionRequest | None
    approvals: list[Approval]
    guard: GuardRecord | None
    door_approval: ApprovalRequirement | None  # an MCP proposal waits for a person even where allowed
