"""G-Eval rubrics of a report's grounding and clarity, scored by a judge model when one is configured
(MEDIC_EVAL_JUDGE_MODEL, …_BASE_URL, …_API_KEY; see server/settings.py). Without one each rubric is
reported "not run", never given a made-up score.

The judge is any OpenAI-compatible chat endpoint, reached through `JudgeModel` (the `openai` client,
a timeout, one retry), which deepeval's GEval treats as a custom model: no log-probabilities are asked
for, and the score comes from the JSON the judge writes. The evaluation steps are given, so each rubric
costs one request per case (GEval would otherwise ask the judge to write the steps first).
"""

from __future__ import annotations

import openai
from deepeval.metrics import GEval
from deepeval.models import DeepEvalBaseLLM
from deepeval.test_case import LLMTestCase, SingleTurnParams
from pydantic import BaseModel

from evals.metrics.case import result_of
from evals.metrics.judge_config import NOT_CONFIGURED, JudgeConfig
from evals.metrics.result import MetricResult

THRESHOLD = 0.5  # GEval's 0..10 scale, normalised to 0..1

RUBRICS: dict[str, list[str]] = {
    "grounding": [
        "Read the report (the actual output): its verdict, its ranked hypotheses, the evidence it lists "
        "and the tool calls of its timeline.",
        "Check that every claim about the cause, the affected service, the times and the numbers is backed "
        "by evidence or a tool result shown in the report itself.",
        "Penalise claims with no support in the report, evidence that contradicts the verdict, and a "
        "confidence stronger than the evidence allows.",
        "Judge only whether the report supports what it says, not whether its root cause is the true one.",
    ],
    "clarity": [
        "Check that the opening lines state the verdict in plain words: what is wrong, where, since when "
        "and how sure the report is.",
        "Check that the proposed action (or why there is none) and what was ruled out are easy to find.",
        "Penalise unexplained jargon, repetition, and raw data an on-call engineer would have to decode "
        "before acting.",
    ],
}


class JudgeModel(DeepEvalBaseLLM):
    """deepeval's view of the judge: one chat completion per prompt, the answer's text returned as is
    (GEval parses the JSON it asked for)."""

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config
        self.client = openai.OpenAI(
            api_key=config.api_key.get_secret_value(),
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=1,
        )
        super().__init__(config.model)

    def load_model(self) -> JudgeModel:
        return self

    def close(self) -> None:
        self.client.close()

    def generate(self, prompt: str, schema: type[BaseModel] | None = None) -> str:
        response = self.client.chat.completions.create(
            model=self.config.model, messages=[{"role": "user", "content": prompt}], temperature=0
        )
        return response.choices[0].message.content or ""

    async def a_generate(self, prompt: str, schema: type[BaseModel] | None = None) -> str:
        return self.generate(prompt, schema)

    def get_model_name(self) -> str:
        return self.config.model


def judge_report(test_case: LLMTestCase, config: JudgeConfig | None) -> list[MetricResult]:
    """Each rubric over the report (the test case's `actual_output`) of the incident (its `input`).
    A judge that fails (unreachable, unparsable answer) leaves its rubric not run, saying why."""
    if config is None:
        return [MetricResult.not_run(name, NOT_CONFIGURED) for name in RUBRICS]
    model = JudgeModel(config)
    results = []
    try:
        for name, steps in RUBRICS.items():
            metric = GEval(
                name=name,
                evaluation_params=[SingleTurnParams.INPUT, SingleTurnParams.ACTUAL_OUTPUT],
                evaluation_steps=steps,
                model=model,
                threshold=THRESHOLD,
                async_mode=False,
            )
            try:
                metric.measure(test_case, _show_indicator=False)
            except (openai.OpenAIError, ValueError, KeyError, TypeError) as exc:
                results.append(MetricResult.not_run(name, f"the judge failed: {type(exc).__name__}: {exc}"))
                continue
            result = result_of(metric, name)
            if result.score is not None and not 0 <= result.score <= 1:  # the judge left the 0..10 scale
                result = MetricResult.not_run(
                    name, f"the judge answered {result.score * 10:g} on a 0..10 scale"
                )
            results.append(result)
    finally:
        model.close()
    return results
