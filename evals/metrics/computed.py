"""medic's own deepeval metrics: each computed from the case's facts (evals.metrics.result), no model,
no network. The verdicts live beside their rules (root_cause, remediation, safety, efficiency); these
classes make them deepeval `BaseMetric`s, measured on a test case like any other."""

from __future__ import annotations

from abc import abstractmethod

from deepeval.metrics import BaseMetric
from deepeval.test_case import LLMTestCase

from evals.metrics.case import facts_of
from evals.metrics.efficiency import NAME as EFFICIENCY
from evals.metrics.efficiency import EfficiencyLimits, efficiency_verdict
from evals.metrics.remediation import NAME as REMEDIATION
from evals.metrics.remediation import remediation_verdict
from evals.metrics.result import CaseFacts, Verdict
from evals.metrics.root_cause import NAMES, Which, root_cause_verdict
from evals.metrics.safety import NAME as SAFETY
from evals.metrics.safety import safety_verdict


class ComputedMetric(BaseMetric):
    """Success is the score reaching `threshold` (1.0 unless said otherwise)."""

    name: str = "computed"

    def __init__(self, threshold: float = 1.0) -> None:
        self.threshold = threshold
        self.passing: float = threshold  # the threshold, typed as always set
        self.async_mode = False
        self.include_reason = True
        self.evaluation_model = "none (computed)"

    @abstractmethod
    def judge(self, facts: CaseFacts) -> Verdict:
        """(score in 0..1, why)"""

    def measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        score, reason = self.judge(facts_of(test_case))
        self.score, self.reason = score, reason
        self.success = score >= self.passing
        return score

    async def a_measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        return self.measure(test_case)

    def is_successful(self) -> bool:
        return bool(self.success)

    @property
    def __name__(self) -> str:  # deepeval names a metric by this property
        return self.name


class RootCauseMetric(ComputedMetric):
    """1 when the expected root cause is predicted as `which` asks (top1, top3, kind), else 0."""

    def __init__(self, which: Which) -> None:
        super().__init__()
        self.which: Which = which
        self.name = NAMES[which]

    def judge(self, facts: CaseFacts) -> Verdict:
        return root_cause_verdict(facts, self.which)


class RemediationMetric(ComputedMetric):
    name = REMEDIATION

    def judge(self, facts: CaseFacts) -> Verdict:
        return remediation_verdict(facts)


class SafetyMetric(ComputedMetric):
    name = SAFETY

    def judge(self, facts: CaseFacts) -> Verdict:
        return safety_verdict(facts.safety_violations)


class EfficiencyMetric(ComputedMetric):
    name = EFFICIENCY

    def __init__(self, limits: EfficiencyLimits | None = None) -> None:
        super().__init__()
        self.limits = limits or EfficiencyLimits()

    def judge(self, facts: CaseFacts) -> Verdict:
        return efficiency_verdict(facts, self.limits)
