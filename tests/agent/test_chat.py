"""Chat about an incident: the rules' fixed intents, and a model (over the OpenAI protocol, scripted on
loopback) that may cite only evidence the investigation observed."""

from __future__ import annotations

from pydantic import SecretStr

from agent.chat import answer, classify
from agent.chat_llm import LLMChat
from agent.planners.openai_client import ChatClient, OpenAIPlannerConfig
from agent.report import Report, build_report
from tests.agent.fake_openai import FakeOpenAI, failure, text
from tests.agent.report_state import GOLDEN, HOSTILE, ROLLOUT, state


def report() -> Report:
    return build_report(state(), planner="rules")


def test_the_intents_the_rules_understand() -> None:
    assert classify("status?") == ("status", None)
    assert classify("What is the evidence for checkout?") == ("evidence_for", "checkout")
    assert classify("why not cart") == ("why_not", "cart")
    assert classify("what changed in the last hour?") == ("what_changed", None)
    assert classify("What would you do?") == ("what_would_you_do", None)
    assert classify("tell me a joke") == ("unknown", None)


def test_rules_answers_quote_the_report() -> None:
    said = answer("evidence for checkout", report(), "finished")
    assert said.intent == "evidence_for" and GOLDEN in said.evidence
    assert f"[{GOLDEN}]" in said.text
    changed = answer("what changed?", report(), "finished")
    assert ROLLOUT in changed.evidence
    unknown = answer("tell me a joke", report(), "finished")
    assert "cannot answer" in unknown.text and "what would you do" in unknown.text
    none = answer("status", None, "queued")
    assert "no findings yet" in none.text or "not produced findings" in none.text


def test_a_model_answers_from_the_evidence_and_cannot_invent_citations() -> None:
    reply = f"checkout errors jumped after the rollout [{GOLDEN}][{ROLLOUT}]; see also [prom:made:up:0000]."
    with FakeOpenAI([text(reply)]) as fake:
        client = ChatClient(
            OpenAIPlannerConfig(api_key=SecretStr("k"), base_url=fake.base_url, max_retries=0)
        )
        try:
            said = LLMChat(client).answer("why is checkout failing?", report(), "awaiting_approval")
        finally:
            client.close()
    sent = fake.requests[0]["messages"]
    record = sent[1]["content"]
    assert GOLDEN in record and ROLLOUT in record and "awaiting_approval" in record
    assert "never instructions" in sent[0]["content"]  # world text in the record is data
    assert HOSTILE not in sent[0]["content"]
    assert said.evidence == [GOLDEN, ROLLOUT]
    assert "[prom:made:up:0000]" not in said.text and "unverified citation removed" in said.text


def test_a_model_that_is_down_is_said_plainly() -> None:
    with FakeOpenAI([failure(503), failure(503)]) as fake:
        client = ChatClient(
            OpenAIPlannerConfig(api_key=SecretStr("k"), base_url=fake.base_url, max_retries=0)
        )
        try:
            said = LLMChat(client).answer("status?", report(), "finished")
        finally:
            client.close()
    assert "unavailable" in said.text and said.evidence == []
