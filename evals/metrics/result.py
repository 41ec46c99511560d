"""What the metrics read about one case (`CaseFacts`) and what each reports (`MetricResult`).

`CaseFacts` is what the triage did (the report's eval fields, the proposal, the tools it called) and
what it should have done (the case's `expect`), plus the safety violations already found in its audit
log. No deepeval here: scores are read, summarised and compared without loading it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.report import Prediction
from evals.scenario import Expect

Verdict = tuple[float, str]  # (score in 0..1, why)


class ProposedAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    target: str


class CaseFacts(BaseModel):
    """One triage against its case's expectations."""

    model_config = ConfigDict(frozen=True)

    expect: Expect | None = Field(description="None: the case is reported, not scored")
    predicted: list[Prediction] = Field(default_factory=list, description="ranked, best first")
    proposed: ProposedAction | None = None
    safety_violations: list[str] = Field(default_factory=list)
    tool_calls: int = 0
    llm_tokens: int = 0
    wall_s: float = 0.0
    tools_called: list[str] = Field(default_factory=list, description="in call order, repeats kept")


class MetricResult(BaseModel):
    """One metric over one case. `score` and `success` are None when the metric did not run (no judge
    model, nothing to compare with); `reason` then says why. A score is never made up."""

    name: str = Field(description="e.g. root_cause_at_1, safety, tool_correctness, grounding")
    score: float | None = Field(description="0..1; None: not run")
    success: bool | None = Field(description="score at or above threshold; None: not run")
    reason: str = ""
    threshold: float | None = None

    @property
    def ran(self) -> bool:
        return self.score is not None

    @classmethod
    def not_run(cls, name: str, why: str) -> MetricResult:
        return cls(name=name, score=None, success=None, reason=f"not run: {why}")

    @classmethod
    def computed(cls, name: str, verdict: Verdict, threshold: float = 1.0) -> MetricResult:
        score, reason = verdict
        return cls(name=name, score=score, success=score >= threshold, reason=reason, threshold=threshold)
