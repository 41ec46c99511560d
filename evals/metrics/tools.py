"""Tool correctness, by deepeval's own ToolCorrectnessMetric: did the triage call every tool the case
names in `expect.tools` (by name, in any order, extra calls allowed)? Only the computed part runs: no
list of available tools is given, so deepeval never asks a model to judge the selection."""

from __future__ import annotations

from deepeval.metrics import ToolCorrectnessMetric
from deepeval.test_case import LLMTestCase

from evals.metrics.case import facts_of, result_of
from evals.metrics.offline import OfflineModel
from evals.metrics.result import MetricResult

NAME = "tool_correctness"
THRESHOLD = 1.0  # every expected tool: they are the few a careful investigation cannot skip


def tool_correctness(test_case: LLMTestCase) -> MetricResult:
    facts = facts_of(test_case)
    if facts.expect is None or not facts.expect.tools:
        return MetricResult.not_run(NAME, "the case names no expected tools")
    metric = ToolCorrectnessMetric(
        threshold=THRESHOLD, model=OfflineModel(), eval_mode="llm", async_mode=False, include_reason=True
    )
    metric.measure(test_case, _show_indicator=False)
    # deepeval's own reason prints whole ToolCall objects; the names say the same in one line
    missing = [t for t in dict.fromkeys(facts.expect.tools) if t not in facts.tools_called]
    reason = f"missing {', '.join(missing)}" if missing else "every expected tool was called"
    return result_of(metric, NAME).model_copy(update={"reason": reason})
