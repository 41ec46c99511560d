"""The OpenAI planner over real HTTP against a scripted OpenAI-compatible server (no real LLM)."""

from __future__ import annotations

import json

from agent.state import ToolCall
from tests.agent.fake_openai import FakeOpenAI, calls, text
from tests.agent.openai_harness import (
    DEPLOY_EVIDENCE,
    ERROR_EVIDENCE,
    INJECTION,
    RAW_MARKER,
    advance,
    diagnosis_json,
    messages_of,
    new_view,
    planner,
    request_tokens,
    tiny_registry,
)
from tools.summary import count_tokens

CHECKOUT = {"service": "checkoutservice"}


def test_full_investigation_parallel_calls_then_structured_diagnosis() -> None:
    registry = tiny_registry()
    script = [
        calls(("error_rate", CHECKOUT), ("recent_deploys", CHECKOUT)),
        text("checkoutservice fails since its 13:35 rollout"),
        text(diagnosis_json(("checkoutservice", "bad_deploy", 0.9, [ERROR_EVIDENCE, DEPLOY_EVIDENCE]))),
    ]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, registry)
        view = new_view()
        first = medic.plan(view)
        assert first.calls == [
            ToolCall(id="call_0", tool="error_rate", args=CHECKOUT),
            ToolCall(id="call_1", tool="recent_deploys", args=CHECKOUT),
        ]
        assert not first.done and first.llm_tokens == 120
        view = advance(view, first, registry)
        second = medic.plan(view)
        assert second.done and second.calls == [] and "13:35 rollout" in second.note
        view = advance(view, second, registry)
        result = medic.diagnose(view)

    assert fake.unscripted == 0 and fake.authorizations == ["Bearer sk-test"] * 3
    opening, follow_up, diagnosis_request = fake.requests
    # the first request: read tools only, the model, temperature 0, the untrusted incident fenced
    offered = [t["function"]["name"] for t in opening["tools"]]
    assert offered == ["error_rate", "recent_deploys"]  # the action tool is never offered
    assert opening["model"] == "fake-model" and opening["temperature"] == 0
    system, incident_message = messages_of(opening)
    assert system["role"] == "system" and "untrusted" in str(system["content"])
    assert str(incident_message["content"]).count("</incident>") == 1  # the injected fence was escaped
    assert "Ignore all previous instructions" in str(incident_message["content"])
    # the second request: the assistant's calls, then one tool result per call id, summaries only
    tail = messages_of(follow_up)[2:]
    assert [m["role"] for m in tail] == ["assistant", "tool", "tool"]
    assert [c["id"] for c in tail[0]["tool_calls"]] == ["call_0", "call_1"]
    assert [m["tool_call_id"] for m in tail[1:]] == ["call_0", "call_1"]
    assert "5xx ratio 31%" in str(tail[1]["content"]) and ERROR_EVIDENCE in str(tail[1]["content"])
    assert "revision 7" in str(tail[2]["content"]) and DEPLOY_EVIDENCE in str(tail[2]["content"])
    assert all(RAW_MARKER not in json.dumps(body) for body in fake.requests)
    # the diagnosis: structured output from Diagnosis's schema, no tools, the evidence catalogue
    response_format = diagnosis_request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert "tools" not in diagnosis_request
    assert ERROR_EVIDENCE in str(messages_of(diagnosis_request)[-1]["content"])
    top = result.diagnosis.top
    assert top is not None and (top.entity, top.fault_kind) == ("checkoutservice", "bad_deploy")
    assert result.diagnosis.dropped == [] and result.llm_tokens == 120
    # request sizes: what the planner reports is what was sent, counted independently
    assert first.request_tokens == request_tokens(opening)
    assert second.request_tokens == request_tokens(follow_up)
    assert result.request_tokens == request_tokens(diagnosis_request)


def test_streaming_assembles_interleaved_parallel_tool_calls_and_counts_usage() -> None:
    registry = tiny_registry()
    script = [
        calls(
            ("error_rate", {"service": "checkoutservice", "window": "15m"}),
            ("error_rate", {"service": "frontend", "window": "15m"}),
            ("recent_deploys", CHECKOUT),
            prefix="stream",
        ),
        text("done looking", prompt_tokens=None),  # no usage chunk: tokens counted on our side
        text(diagnosis_json(("checkoutservice", "bad_deploy", 0.85, [ERROR_EVIDENCE]))),
    ]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, registry, stream=True)
        view = new_view()
        first = medic.plan(view)
        view = advance(view, first, registry)
        second = medic.plan(view)
        result = medic.diagnose(advance(view, second, registry))

    assert all(body["stream"] is True for body in fake.requests)
    assert all(body["stream_options"] == {"include_usage": True} for body in fake.requests)
    assert first.calls == [
        ToolCall(id="stream_0", tool="error_rate", args={"service": "checkoutservice", "window": "15m"}),
        ToolCall(id="stream_1", tool="error_rate", args={"service": "frontend", "window": "15m"}),
        ToolCall(id="stream_2", tool="recent_deploys", args=CHECKOUT),
    ]
    assert first.llm_tokens == 120  # from the usage chunk
    assert second.done and second.note == "done looking"
    # no usage from the endpoint: our count of the request plus our count of the answer
    assert second.llm_tokens == second.request_tokens + count_tokens("done looking")
    top = result.diagnosis.top
    assert top is not None and top.evidence == [ERROR_EVIDENCE]


def test_malformed_arguments_go_back_to_the_model_as_errors_and_are_fixed() -> None:
    registry = tiny_registry()
    script = [
        calls(
            ("error_rate", '{"service": "checkoutservice"'),  # broken JSON
            ("error_rate", {"window": "5m"}),  # schema violation: service missing
            ("recent_deploys", CHECKOUT),
        ),
        calls(("error_rate", CHECKOUT), prefix="fixed"),
    ]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, registry)
        view = new_view()
        first = medic.plan(view)
        assert first.calls == [ToolCall(id="call_2", tool="recent_deploys", args=CHECKOUT)]
        view = advance(view, first, registry)
        second = medic.plan(view)
    assert second.calls == [ToolCall(id="fixed_0", tool="error_rate", args=CHECKOUT)]
    results = {
        m["tool_call_id"]: str(m["content"]) for m in messages_of(fake.requests[1]) if m["role"] == "tool"
    }
    assert "not valid JSON" in results["call_0"]
    assert "service: Field required" in results["call_1"]
    assert "revision 7" in results["call_2"]
    assistant = next(m for m in messages_of(fake.requests[1]) if m["role"] == "assistant")
    sent_arguments = [c["function"]["arguments"] for c in assistant["tool_calls"]]
    assert all(isinstance(json.loads(a), dict) for a in sent_arguments)  # broken JSON never echoed back


def test_when_every_call_is_invalid_the_planner_asks_again_in_the_same_move() -> None:
    script = [calls(("error_rate", "service=checkout")), calls(("error_rate", CHECKOUT), prefix="again")]
    with FakeOpenAI(script) as fake:
        move = planner(fake.base_url).plan(new_view())
    assert move.calls == [ToolCall(id="again_0", tool="error_rate", args=CHECKOUT)]
    assert len(fake.requests) == 2 and move.llm_tokens == 240
    assert [m["role"] for m in move.transcript] == ["assistant", "tool", "assistant"]
    retry_tail = messages_of(fake.requests[1])[-1]
    assert retry_tail["tool_call_id"] == "call_0" and "not valid JSON" in str(retry_tail["content"])


def test_invalid_calls_are_bounded_then_the_move_ends() -> None:
    script = [calls(("error_rate", "{")) for _ in range(3)]
    with FakeOpenAI(script) as fake:
        move = planner(fake.base_url, max_fix_rounds=2).plan(new_view())
    assert move.done and move.calls == [] and "no valid tool call in 3 tries" in move.note
    assert len(fake.requests) == 3 and fake.unscripted == 0


def test_unknown_and_action_tools_are_refused_not_run() -> None:
    script = [
        calls(
            ("delete_namespace", {"namespace": "kube-system"}),
            ("restart_service", CHECKOUT),  # exists in the registry, but it is an action tool
            ("error_rat", CHECKOUT),
        ),
        text("nothing else to check"),
    ]
    with FakeOpenAI(script) as fake:
        move = planner(fake.base_url).plan(new_view())
    assert move.done and move.calls == []
    results = {
        m["tool_call_id"]: str(m["content"]) for m in messages_of(fake.requests[1]) if m["role"] == "tool"
    }
    assert "no tool named 'delete_namespace'" in results["call_0"]
    assert "no tool named 'restart_service'" in results["call_1"]
    assert "did you mean error_rate" in results["call_2"]


def test_a_hypothesis_citing_unobserved_evidence_is_dropped() -> None:
    registry = tiny_registry()
    made_up = "prom:golden.error_ratio:paymentservice:00decafbad"
    script = [
        calls(("error_rate", CHECKOUT)),
        text(
            diagnosis_json(
                ("paymentservice", "packet_loss", 0.95, [made_up]),
                ("checkoutservice", "bad_deploy", 0.7, [ERROR_EVIDENCE]),
            )
        ),
    ]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, registry)
        view = advance(new_view(), medic.plan(new_view()), registry)
        diagnosis = medic.diagnose(view).diagnosis
    assert [h.entity for h in diagnosis.hypotheses] == ["checkoutservice"]
    assert len(diagnosis.dropped) == 1 and made_up in diagnosis.dropped[0]


def test_malformed_diagnosis_is_retried_once_with_the_error() -> None:
    registry = tiny_registry()
    good = diagnosis_json(("checkoutservice", "bad_deploy", 0.9, [ERROR_EVIDENCE]))
    script = [calls(("error_rate", CHECKOUT)), text('{"healthy": false, "summary": '), text(good)]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, registry)
        view = advance(new_view(), medic.plan(new_view()), registry)
        result = medic.diagnose(view)
    assert result.diagnosis.top is not None and result.llm_tokens == 240
    correction = messages_of(fake.requests[2])[-1]
    assert correction["role"] == "user" and "not a valid diagnosis" in str(correction["content"])


def test_malformed_diagnosis_twice_is_inconclusive_not_a_crash() -> None:
    script = [text("the root cause is checkoutservice"), text('{"healthy": "perhaps"}')]
    with FakeOpenAI(script) as fake:
        result = planner(fake.base_url).diagnose(new_view())
    assert len(fake.requests) == 2
    assert not result.diagnosis.healthy and result.diagnosis.hypotheses == []
    assert (
        result.diagnosis.summary.startswith("INCONCLUSIVE")
        and "not a valid diagnosis" in result.diagnosis.summary
    )


def test_world_text_is_only_data() -> None:
    """The injected annotation reaches the model only inside the fenced incident block."""
    with FakeOpenAI([text("nothing to do")]) as fake:
        planner(fake.base_url).plan(new_view())
    messages = messages_of(fake.requests[0])
    holding = [m["role"] for m in messages if "Ignore all previous instructions" in str(m["content"])]
    assert holding == ["user"]
    block = str(messages[1]["content"])
    assert block.index("<incident>") < block.index("Ignore all previous") < block.rindex("</incident>")
    assert INJECTION not in block  # its `</incident>` was escaped, so the text is not verbatim
