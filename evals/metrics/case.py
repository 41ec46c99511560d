"""A case as deepeval sees it: `CaseFacts` in an `LLMTestCase`, and a measured metric's result.

The custom metrics read the facts from the test case's `metadata`; deepeval's own metrics read its
standard fields (`tools_called`, `expected_tools`, `input`, `actual_output`).
"""

from __future__ import annotations

from deepeval.metrics import BaseMetric
from deepeval.test_case import LLMTestCase, ToolCall

from evals.metrics import offline as _offline  # noqa: F401 (refuses a deepeval loaded with telemetry on)
from evals.metrics.result import CaseFacts, MetricResult

FACTS_KEY = "medic_case_facts"


def deepeval_case(facts: CaseFacts, *, input: str, output: str) -> LLMTestCase:
    """`input` is what the triage was asked (the alert or question), `output` what it answered (the
    report). Tools are compared by name only, each once."""
    expected = facts.expect.tools if facts.expect else []
    return LLMTestCase(
        input=input,
        actual_output=output,
        metadata={FACTS_KEY: facts},
        tools_called=[ToolCall(name=name) for name in dict.fromkeys(facts.tools_called)],
        expected_tools=[ToolCall(name=name) for name in dict.fromkeys(expected)],
    )


def facts_of(test_case: LLMTestCase) -> CaseFacts:
    facts = (test_case.metadata or {}).get(FACTS_KEY)
    if not isinstance(facts, CaseFacts):
        raise ValueError("this metric needs a test case made by evals.metrics.case.deepeval_case")
    return facts


def result_of(metric: BaseMetric, name: str) -> MetricResult:
    """The result a measured deepeval metric holds."""
    score = None if metric.score is None else round(float(metric.score), 4)
    return MetricResult(
        name=name,
        score=score,
        success=None if score is None else bool(metric.success),
        reason=str(metric.reason or metric.error or "").strip(),
        threshold=metric.threshold,
    )
