"""A long investigation with the real tool declarations stays under the 8k request budget.

Every result here is as large as a tool may make it (400 tokens), four calls a round, twelve rounds:
in full that is ~19k tokens of results plus ~3.5k of tool declarations. The test counts each request
as the server received it, independently of the planner's own accounting.
"""

from __future__ import annotations

from agent.planner import Plan
from agent.state import PlannerView, Step
from tests.agent.fake_openai import FakeOpenAI, calls, text
from tests.agent.openai_harness import diagnosis_json, messages_of, new_view, planner, request_tokens
from tools.contract import Evidence
from tools.registry import default_registry
from tools.summary import count_tokens, truncate_to_tokens

ROUNDS, PARALLEL, MAX_REQUEST = 12, 4, 8000


def big_summary(service: str) -> str:
    lines = [
        f"{service} pod {service}-7f9c{k}: p99 {120 + k} ms (baseline 80 ms), 5xx {k / 10:.1f}%, "
        f"cpu {k * 3}% of limit, memory {200 + k} MiB, restarts {k % 3}"
        for k in range(60)
    ]
    summary = truncate_to_tokens(f"FULL-RESULT {service}\n" + "\n".join(lines), 400)
    assert count_tokens(summary) == 400
    return summary


def record(view: PlannerView, plan: Plan) -> PlannerView:
    """The graph's bookkeeping, with results as large as the tool contract allows."""
    steps, evidence = list(view.steps), dict(view.evidence)
    for call in plan.calls:
        service = str(call.args["service"])
        ids = [
            f"prom:golden_signals.{signal}:{service}:3f9a1c0b2d" for signal in ("errors", "latency", "rate")
        ]
        evidence |= {i: Evidence(id=i, source="prometheus", description=f"{i} above baseline") for i in ids}
        steps.append(Step(call=call, status="ok", summary=big_summary(service), evidence=ids))
    usage = view.usage.model_copy(
        update={
            "llm_tokens": view.usage.llm_tokens + plan.llm_tokens,
            "largest_request_tokens": max(view.usage.largest_request_tokens, plan.request_tokens),
        }
    )
    transcript = [*view.transcript, *plan.transcript]
    return view.model_copy(
        update={"steps": steps, "evidence": evidence, "usage": usage, "transcript": transcript}
    )


def test_long_investigation_stays_under_the_request_budget() -> None:
    round_calls = [
        calls(*[("golden_signals", {"service": f"svc-{r}-{i}"}) for i in range(PARALLEL)], prefix=f"r{r}")
        for r in range(ROUNDS)
    ]
    first_evidence = "prom:golden_signals.errors:svc-0-0:3f9a1c0b2d"
    script = [
        *round_calls,
        text("svc-0-0 is the origin"),
        text(diagnosis_json(("svc-0-0", "bad_deploy", 0.8, [first_evidence]))),
    ]
    with FakeOpenAI(script) as fake:
        medic = planner(fake.base_url, default_registry())
        view = new_view()
        for _ in range(ROUNDS):
            move = medic.plan(view)
            assert len(move.calls) == PARALLEL, move.note
            view = record(view, move)
        final = medic.plan(view)
        view = record(view, final)
        result = medic.diagnose(view)

    assert final.done and fake.unscripted == 0
    sizes = [request_tokens(body) for body in fake.requests]
    largest = max(sizes)
    print(f"\nrequest sizes (cl100k tokens): {sizes}; largest {largest} of {MAX_REQUEST}")
    assert largest <= MAX_REQUEST
    assert max(view.usage.largest_request_tokens, result.request_tokens) == largest
    assert sizes[ROUNDS - 1] > 7000  # compaction keeps the budget busy, it does not throw context away early

    last_plan_request = str(messages_of(fake.requests[ROUNDS])).replace("\\n", "\n")
    # the latest round is in full; older rounds are digests or summarised in a note, never dropped silently
    assert all(f"FULL-RESULT svc-{ROUNDS - 1}-{i}\n" in last_plan_request for i in range(PARALLEL))
    assert "FULL-RESULT svc-0-0\n" not in last_plan_request
    assert "digest]" in last_plan_request and "earlier round(s) were omitted" in last_plan_request

    # evidence from the first round, long since compacted, can still be cited in the diagnosis
    assert first_evidence in str(messages_of(fake.requests[-1])[-1]["content"])
    top = result.diagnosis.top
    assert top is not None and top.evidence == [first_evidence] and result.diagnosis.dropped == []


def test_a_prompt_that_cannot_fit_is_not_sent() -> None:
    """Tool declarations alone (~3.5k tokens) over a 2k budget: the move ends, nothing is sent."""
    with FakeOpenAI([text("unused")]) as fake:
        move = planner(fake.base_url, default_registry(), max_request_tokens=2000).plan(new_view())
    assert move.done and "over the 2000 budget" in move.note and fake.requests == []
