"""Retries, timeouts, refusals and the LLM token budget of the OpenAI planner, over real HTTP."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from agent.planners.openai_planner import OpenAIPlannerConfig
from agent.state import Budget, ToolCall, Usage
from tests.agent.fake_openai import FakeOpenAI, calls, failure, late, text
from tests.agent.openai_harness import new_view, planner

CHECKOUT = {"service": "checkoutservice"}


def test_429_then_500_are_retried_with_backoff_honouring_retry_after() -> None:
    script = [failure(429, retry_after="3"), failure(500), calls(("error_rate", CHECKOUT))]
    with FakeOpenAI(script) as fake:
        sleeps: list[float] = []
        move = planner(fake.base_url, sleeps=sleeps).plan(new_view())
    assert move.calls == [ToolCall(id="call_0", tool="error_rate", args=CHECKOUT)]
    assert len(fake.requests) == 3
    assert sleeps == [3.0, 2.0]  # Retry-After, then base x 2^1
    assert move.llm_tokens == 120  # failed attempts report no usage and cost nothing here


def test_retries_are_bounded_and_a_dead_endpoint_ends_the_move_not_the_process() -> None:
    with FakeOpenAI([failure(503)] * 3) as fake:
        sleeps: list[float] = []
        move = planner(fake.base_url, sleeps=sleeps, max_retries=2, backoff_max_s=1.5).plan(new_view())
    assert move.done and move.calls == [] and "failed 3 times" in move.note and "503" in move.note
    assert sleeps == [1.0, 1.5]  # doubled, then capped
    assert fake.unscripted == 0


def test_a_refused_request_is_not_retried() -> None:
    with FakeOpenAI([failure(401)]) as fake:
        sleeps: list[float] = []
        move = planner(fake.base_url, sleeps=sleeps).plan(new_view())
    assert move.done and "refused the request (401)" in move.note
    assert len(fake.requests) == 1 and sleeps == []


def test_a_timeout_is_retried() -> None:
    with FakeOpenAI([late(1.5), calls(("error_rate", CHECKOUT))]) as fake:
        sleeps: list[float] = []
        move = planner(fake.base_url, sleeps=sleeps, timeout_s=0.3).plan(new_view())
    assert [c.tool for c in move.calls] == ["error_rate"]
    assert sleeps == [1.0]
    assert len(fake.requests) == 2


def test_diagnosis_with_a_dead_endpoint_is_inconclusive() -> None:
    with FakeOpenAI([failure(500)] * 2) as fake:
        result = planner(fake.base_url, max_retries=1).diagnose(new_view())
    assert not result.diagnosis.healthy and result.diagnosis.hypotheses == []
    assert result.diagnosis.summary.startswith("INCONCLUSIVE") and "500" in result.diagnosis.summary
    assert len(fake.requests) == 2


def test_planner_stops_before_the_llm_budget_would_be_exceeded() -> None:
    budget = Budget(max_llm_tokens=20_000)
    with FakeOpenAI([calls(("error_rate", CHECKOUT))]) as fake:
        medic = planner(fake.base_url)
        exhausted = medic.plan(new_view(budget=budget, usage=Usage(llm_tokens=19_500)))
        # below the budget, but one more round plus the diagnosis would not fit in it either
        tight = medic.plan(new_view(budget=budget, usage=Usage(llm_tokens=16_000)))
        roomy = medic.plan(new_view(budget=budget, usage=Usage(llm_tokens=1_000)))
    assert exhausted.done and "token budget" in exhausted.note and exhausted.llm_tokens == 0
    assert tight.done and "token budget" in tight.note
    assert not roomy.done and len(fake.requests) == 1  # only the roomy move reached the endpoint


def test_diagnosis_is_not_asked_for_when_the_budget_is_spent() -> None:
    with FakeOpenAI([text("{}")]) as fake:
        view = new_view(budget=Budget(max_llm_tokens=5_000), usage=Usage(llm_tokens=5_000))
        result = planner(fake.base_url).diagnose(view)
    assert fake.requests == [] and "token budget" in result.diagnosis.summary


def test_config_refuses_unusable_values() -> None:
    with pytest.raises(ValidationError, match="api_key is empty"):
        OpenAIPlannerConfig(api_key=SecretStr(""))
    with pytest.raises(ValidationError, match="http"):
        OpenAIPlannerConfig(api_key=SecretStr("k"), base_url="api.openai.com")
    shown = repr(OpenAIPlannerConfig(api_key=SecretStr("sk-secret")))
    assert "sk-secret" not in shown
