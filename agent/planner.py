"""The planner interface: the one place the rules planner and the OpenAI planner differ.

The graph asks a planner for the next tool calls until it says it is done (or a budget is hit),
then for a diagnosis. A planner never runs tools itself and never acts on the cluster: it returns
`ToolCall`s for the graph to run through the registry, and a `Diagnosis` the graph checks against
the evidence actually observed.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field, JsonValue

from agent.diagnosis import Diagnosis
from agent.state import PlannerView, ToolCall


class Plan(BaseModel):
    """The planner's next move: calls to run now (in parallel), or done."""

    calls: list[ToolCall] = Field(default_factory=list)
    done: bool = False
    note: str = Field("", description="why, for the live progress view")
    transcript: list[dict[str, JsonValue]] = Field(
        default_factory=list, description="messages to append to the thread's transcript (LLM planners)"
    )
    llm_tokens: int = 0
    request_tokens: int = Field(0, description="the largest single LLM request of this move, in tokens")


class DiagnosisResult(BaseModel):
    diagnosis: Diagnosis
    transcript: list[dict[str, JsonValue]] = Field(default_factory=list)
    llm_tokens: int = 0
    request_tokens: int = 0


class Planner(Protocol):
    """Chooses what to look at, and says what it concluded."""

    name: str

    def plan(self, view: PlannerView) -> Plan: ...

    def diagnose(self, view: PlannerView) -> DiagnosisResult: ...
