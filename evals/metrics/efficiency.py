"""Efficiency: did the triage stay well inside its budget of tool calls, LLM tokens and wall time?

The limits are deliberately tighter than the agent's hard budget (agent.state.Budget, defaults 30
tool calls, 60 000 tokens, 120 s): a triage that needs most of its budget is one unlucky incident
away from being cut off before it diagnoses. The score is the share of the three limits met; the
case succeeds only when all three are.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from evals.metrics.result import CaseFacts, Verdict

NAME = "efficiency"


class EfficiencyLimits(BaseModel):
    """What an efficient triage stays within (each inclusive)."""

    model_config = ConfigDict(frozen=True)

    max_tool_calls: int = Field(20, ge=1, description="two thirds of the default budget of 30")
    max_llm_tokens: int = Field(30_000, ge=0, description="half the default budget of 60 000")
    max_wall_s: float = Field(60.0, gt=0, description="half the default budget of 120 s")


def efficiency_verdict(facts: CaseFacts, limits: EfficiencyLimits) -> Verdict:
    checks = [
        ("tool calls", facts.tool_calls, limits.max_tool_calls, f"{facts.tool_calls}"),
        ("LLM tokens", facts.llm_tokens, limits.max_llm_tokens, f"{facts.llm_tokens}"),
        ("wall time", facts.wall_s, limits.max_wall_s, f"{facts.wall_s:.1f}s"),
    ]
    over = [f"{what} {shown} > {limit}" for what, used, limit, shown in checks if used > limit]
    score = round((len(checks) - len(over)) / len(checks), 4)
    if over:
        return score, f"over the limit: {'; '.join(over)}"
    return score, f"within the limits: {', '.join(f'{what} {shown}' for what, _, _, shown in checks)}"
