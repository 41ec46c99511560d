"""The investigation graph, in one screen (DESIGN §1):

    intake → investigate ⟲ run_tools → diagnose → propose → guard (check → approve → execute) → report

`build_graph` wires it from its parts; nothing is built at import. The planner decides what to look
at, the registry runs tools (in parallel, within the budgets), the runbook turns the diagnosis into a
proposal, and the guard is the only way anything reaches the cluster.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from opentelemetry import context as otel_context

from agent.missing_evidence import missing_evidence
from agent.planner import Planner
from agent.remediation import facts_from_steps, propose
from agent.runbook import Runbook
from agent.state import Budget, InvestigationState, PlannerView, Step, ToolCall, Usage
from policies.guard import Guard
from policies.guard_graph import add_guard
from tools.context import ToolContext
from tools.contract import Evidence
from tools.registry import Registry
from tools.tracing import traced, tracer

Route = Literal["run_tools", "diagnose"]


@dataclasses.dataclass(frozen=True)
class Parts:
    """What the nodes need besides the state."""

    planner: Planner
    tools: Registry
    context: ToolContext  # backends and config; `as_of` is replaced by each incident's
    runbook: Runbook
    seconds: Callable[[], float] = time.time  # for wall-time budgets; survives a resume elsewhere


def build_graph(
    planner: Planner,
    tools: Registry,
    guard: Guard | None,
    checkpointer: BaseCheckpointSaver[str] | None,
    *,
    context: ToolContext,
    runbook: Runbook,
) -> CompiledStateGraph:
    """The compiled investigation graph. Without a guard, proposals are reported and never sent."""
    parts = Parts(planner, tools, context, runbook)
    builder = StateGraph(InvestigationState)
    builder.add_node("intake", traced("intake", lambda state: intake(state, parts)))
    builder.add_node("investigate", traced("investigate", lambda state: investigate(state, parts)))
    builder.add_node("run_tools", traced("run_tools", lambda state: run_tools(state, parts)))
    builder.add_node("diagnose", traced("diagnose", lambda state: diagnose(state, parts)))
    builder.add_node("propose", traced("propose", lambda state: propose_node(state, parts)))
    builder.add_node("report", traced("report", finish))
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "investigate")
    builder.add_conditional_edges("investigate", route, {"run_tools": "run_tools", "diagnose": "diagnose"})
    builder.add_edge("run_tools", "investigate")
    builder.add_edge("diagnose", "propose")
    if guard is not None:
        add_guard(builder, guard, after="propose", then="report")
    else:
        builder.add_edge("propose", "report")
    builder.add_edge("report", END)
    return builder.compile(checkpointer=checkpointer)


def finish(state: InvestigationState) -> InvestigationState:
    return {"finished": True}


def intake(state: InvestigationState, parts: Parts) -> InvestigationState:
    return {
        "budget": state.get("budget") or Budget(),
        "usage": Usage(),
        "evidence": {},
        "pending": [],
        "started_at": parts.seconds(),
    }


def view_of(state: InvestigationState) -> PlannerView:
    return PlannerView(
        incident=state["incident"],
        steps=state.get("steps", []),
        evidence=state.get("evidence", {}),
        usage=state["usage"],
        budget=state["budget"],
        transcript=state.get("transcript", []),
    )


def investigate(state: InvestigationState, parts: Parts) -> InvestigationState:
    """Ask the planner for the next calls, unless a budget says the investigation is over."""
    usage, budget = state["usage"].model_copy(deep=True), state["budget"]
    usage.wall_s = parts.seconds() - state.get("started_at", parts.seconds())
    hit = _budget_hit(usage, budget)
    if hit:
        usage.exhausted.append(hit)
        return {"usage": usage, "pending": []}
    plan = parts.planner.plan(view_of({**state, "usage": usage}))
    usage.steps += 1
    usage.llm_tokens += plan.llm_tokens
    usage.largest_request_tokens = max(usage.largest_request_tokens, plan.request_tokens)
    calls = [] if plan.done else plan.calls
    room = budget.max_tool_calls - usage.tool_calls
    if len(calls) > room:
        usage.exhausted.append(
            f"tool calls: {budget.max_tool_calls} reached, {len(calls) - room} call(s) not run"
        )
        calls = calls[:room]
    _emit({"event": "plan", "note": plan.note, "calls": [c.model_dump() for c in calls]})
    return {"usage": usage, "pending": calls, "transcript": plan.transcript}


def route(state: InvestigationState) -> Route:
    return "run_tools" if state.get("pending") else "diagnose"


def run_tools(state: InvestigationState, parts: Parts) -> InvestigationState:
    """Run the pending calls in parallel through the registry; record every result and its evidence."""
    calls, budget = state["pending"], state["budget"]
    ctx = dataclasses.replace(parts.context, as_of=state["incident"].as_of)

    parent = otel_context.get_current()  # the pool's threads carry the node's span as parent

    def one(call: ToolCall) -> tuple[Step, list[Evidence]]:
        started = parts.seconds()
        token = otel_context.attach(parent)
        try:
            with tracer.start_as_current_span(f"tool {call.tool}") as span:
                span.set_attribute("medic.tool", call.tool)
                result = parts.tools.run(call.tool, dict(call.args), ctx)
                span.set_attribute("medic.tool.status", result.status)
        finally:
            otel_context.detach(token)
        step = Step(
            call=call,
            status=result.status,
            summary=result.summary,
            data=result.data,
            evidence=[e.id for e in result.evidence],
            retryable=result.retryable,
            truncated=result.truncated,
            elapsed_s=round(parts.seconds() - started, 4),
        )
        return step, result.evidence

    emit = _writer()
    done: dict[str, tuple[Step, list[Evidence]]] = {}
    with ThreadPoolExecutor(max_workers=budget.parallel_calls) as pool:
        futures = {pool.submit(one, call): call.id for call in calls}
        for future in as_completed(futures):  # report each call as it finishes, from this thread
            step, found = done[futures[future]] = future.result()
            first_line = step.summary.splitlines()[0] if step.summary else ""
            emit(
                {
                    "event": "tool",
                    "tool": step.call.tool,
                    "args": dict(step.call.args),
                    "status": step.status,
                    "elapsed_s": step.elapsed_s,
                    "summary": first_line,
                }
            )
    evidence = dict(state.get("evidence", {}))
    steps = []
    for call in calls:  # in the planner's order, whatever order they finished in
        step, found = done[call.id]
        steps.append(step)
        evidence.update({e.id: e for e in found})
    usage = state["usage"].model_copy(update={"tool_calls": state["usage"].tool_calls + len(calls)})
    return {"steps": steps, "evidence": evidence, "pending": [], "usage": usage}


def diagnose(state: InvestigationState, parts: Parts) -> InvestigationState:
    """The planner's diagnosis, kept only where it stands on evidence the tools actually observed, and
    capped where a source could not be read (whichever planner made it)."""
    result = parts.planner.diagnose(view_of(state))
    usage = state["usage"].model_copy(deep=True)
    usage.llm_tokens += result.llm_tokens
    usage.largest_request_tokens = max(usage.largest_request_tokens, result.request_tokens)
    usage.wall_s = parts.seconds() - state.get("started_at", parts.seconds())
    diagnosis = result.diagnosis.checked_against(state.get("evidence", {}).keys())
    diagnosis = diagnosis.made_without(missing_evidence(state.get("steps", [])))
    _emit(
        {
            "event": "diagnosis",
            "healthy": diagnosis.healthy,
            "top": diagnosis.top.model_dump() if diagnosis.top else None,
        }
    )
    return {"diagnosis": diagnosis, "usage": usage, "transcript": result.transcript}


def propose_node(state: InvestigationState, parts: Parts) -> InvestigationState:
    """The runbook's proposal, from the diagnosis' structured fields only (never from world text)."""
    diagnosis, incident = state["diagnosis"], state["incident"]
    facts = facts_from_steps(state.get("steps", []), diagnosis.top) if diagnosis.top else None
    proposal = propose(diagnosis, incident, planner=parts.planner.name, runbook=parts.runbook, facts=facts)
    _emit(
        {
            "event": "proposal",
            "action": proposal.action.model_dump(mode="json") if proposal.action else None,
            "escalation": proposal.escalation,
            "reason": proposal.reason,
        }
    )
    return {"proposal": proposal, "action": proposal.action}


def _budget_hit(usage: Usage, budget: Budget) -> str | None:
    if usage.steps >= budget.max_steps:
        return f"steps: {budget.max_steps} planning rounds reached"
    if usage.tool_calls >= budget.max_tool_calls:
        return f"tool calls: {budget.max_tool_calls} reached"
    if usage.wall_s >= budget.max_wall_s:
        return f"wall time: {budget.max_wall_s:.0f} s reached"
    if usage.llm_tokens >= budget.max_llm_tokens > 0:
        return f"LLM tokens: {budget.max_llm_tokens} reached"
    return None


def _writer() -> Callable[[dict[str, object]], None]:
    """Live progress for whoever streams the graph with stream_mode='custom' (the CLI, the API)."""
    try:
        return get_stream_writer()
    except RuntimeError:  # not inside a graph (a node called directly in a test)
        return lambda event: None


def _emit(event: dict[str, object]) -> None:
    _writer()(event)
