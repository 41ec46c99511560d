"""The G-Eval rubrics of a report's grounding and clarity: "not run" without a judge model, scored by a
scripted OpenAI-compatible judge on 127.0.0.1 when one is configured, and "not run" again, with the
reason, when the judge fails or answers off the scale. Never a made-up score."""

from __future__ import annotations

import json

import pytest
from deepeval.test_case import LLMTestCase
from pydantic import SecretStr

from evals.metrics.case import deepeval_case
from evals.metrics.judge import RUBRICS, judge_report
from evals.metrics.judge_config import JudgeConfig, configured_judge
from server.settings import Settings
from tests.agent.fake_openai import FakeOpenAI, Reply, failure, text
from tests.evals.metrics.facts import facts

REPORT = "# CONFIRMED: bad deploy on payments (confidence 0.86)\nerrors began with revision 7 [prom:golden:payments]"
ASKED = "payments 5xx ratio above 5% (alertname=HighErrorRate, service=payments)"


def case() -> LLMTestCase:
    return deepeval_case(facts(None), input=ASKED, output=REPORT)


def judge(base_url: str) -> JudgeConfig:
    return JudgeConfig(model="judge-1", base_url=base_url, api_key=SecretStr("judge-key"), timeout_s=10)


def verdict(score: int, reason: str) -> Reply:
    return text(json.dumps({"reason": reason, "score": score}))


def test_without_a_judge_every_rubric_says_not_run_and_has_no_score() -> None:
    results = judge_report(case(), None)
    assert [r.name for r in results] == ["grounding", "clarity"]
    for result in results:
        assert (result.score, result.success) == (None, None)
        assert result.reason.startswith("not run: no judge model configured (MEDIC_EVAL_JUDGE_MODEL")


def test_a_configured_judge_scores_each_rubric_on_the_report() -> None:
    script = [verdict(8, "every claim cites evidence"), text('```json\n{"reason": "terse", "score": 4}\n```')]
    with FakeOpenAI(script) as fake:
        grounding, clarity = judge_report(case(), judge(fake.base_url))
    assert (grounding.name, grounding.score, grounding.success) == ("grounding", 0.8, True)
    assert grounding.reason == "every claim cites evidence"
    assert (clarity.score, clarity.success, clarity.reason) == (0.4, False, "terse")  # under the 0.5 bar
    assert fake.authorizations == ["Bearer judge-key", "Bearer judge-key"]
    assert [r["model"] for r in fake.requests] == ["judge-1", "judge-1"]
    for request, steps in zip(fake.requests, RUBRICS.values(), strict=True):
        prompt = request["messages"][0]["content"]
        assert REPORT in prompt and ASKED in prompt
        assert steps[0] in prompt  # the given steps, so no request is spent writing them


def test_a_failing_judge_leaves_its_rubric_not_run_with_the_reason() -> None:
    script = [failure(500), failure(500), text("I would rather not say")]  # one retry, then a non-answer
    with FakeOpenAI(script) as fake:
        grounding, clarity = judge_report(case(), judge(fake.base_url))
    assert (grounding.score, clarity.score) == (None, None)
    assert grounding.reason.startswith("not run: the judge failed: InternalServerError")
    assert clarity.reason.startswith("not run: the judge failed: ValueError")
    assert fake.remaining == 0


def test_a_score_off_the_scale_is_not_taken() -> None:
    with FakeOpenAI([verdict(42, "very good"), verdict(7, "clear")]) as fake:
        grounding, clarity = judge_report(case(), judge(fake.base_url))
    assert (grounding.score, grounding.success) == (None, None)
    assert grounding.reason == "not run: the judge answered 42 on a 0..10 scale"
    assert clarity.score == 0.7


def test_the_settings_name_the_judge_and_without_them_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_judge(None, None, None) is None
    with FakeOpenAI([verdict(6, "fair"), verdict(9, "clear")]) as fake:
        monkeypatch.setenv("MEDIC_EVAL_JUDGE_MODEL", "judge-2")
        monkeypatch.setenv("MEDIC_EVAL_JUDGE_BASE_URL", fake.base_url)
        s = Settings()
        config = configured_judge(s.eval_judge_model, s.eval_judge_base_url, s.eval_judge_api_key)
        assert config is not None
        results = judge_report(case(), config)
    assert [r.score for r in results] == [0.6, 0.9]
    assert fake.authorizations == ["Bearer none", "Bearer none"]  # no key set: a local judge needs none


def test_a_judge_model_without_its_endpoint_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_EVAL_JUDGE_MODEL", "judge-2")
    with pytest.raises(ValueError, match="MEDIC_EVAL_JUDGE_MODEL and MEDIC_EVAL_JUDGE_BASE_URL go together"):
        Settings()
