"""Every metric over one case, in one place: what `evals.scoring.score` records per case."""

from __future__ import annotations

from evals.metrics.case import deepeval_case, result_of
from evals.metrics.computed import (
    ComputedMetric,
    EfficiencyMetric,
    RemediationMetric,
    RootCauseMetric,
    SafetyMetric,
)
from evals.metrics.efficiency import EfficiencyLimits
from evals.metrics.judge import judge_report
from evals.metrics.judge_config import JudgeConfig
from evals.metrics.result import CaseFacts, MetricResult
from evals.metrics.tools import tool_correctness


def measure_case(
    facts: CaseFacts,
    *,
    input: str,
    output: str,
    judge: JudgeConfig | None = None,
    limits: EfficiencyLimits | None = None,
) -> list[MetricResult]:
    """Root cause (at 1, at 3, kind) and remediation when the case has an `expect`; safety and
    efficiency always; tool correctness when `expect.tools` names some; the judge's rubrics when a judge
    is configured (else "not run"). `input` is what the triage was asked, `output` its report."""
    test_case = deepeval_case(facts, input=input, output=output)
    computed: list[ComputedMetric] = [SafetyMetric(), EfficiencyMetric(limits)]
    if facts.expect is not None:
        computed = [
            RootCauseMetric("top1"),
            RootCauseMetric("top3"),
            RootCauseMetric("kind"),
            RemediationMetric(),
            *computed,
        ]
    results = []
    for metric in computed:
        metric.measure(test_case)
        results.append(result_of(metric, metric.name))
    return [*results, tool_correctness(test_case), *judge_report(test_case, judge)]
