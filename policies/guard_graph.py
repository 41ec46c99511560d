"""The guard's nodes wired into a LangGraph graph: its own (for approvals handled on their own) or
the agent's (after the remediation proposal)."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from policies.guard import Guard, GuardState, route_after_check
from policies.guard_record import GuardRecord
from tools.tracing import traced

GUARD_MODELS = (GuardRecord,)


def add_guard(builder: StateGraph, guard: Guard, *, after: str, then: str) -> None:
    """check → (approve →) execute, between `after` and `then`; each node checkpointed."""
    builder.add_node("guard_check", traced("guard_check", guard.check))
    builder.add_node("guard_approve", traced("guard_approve", guard.approve))
    builder.add_node("guard_execute", traced("guard_execute", guard.execute))
    builder.add_edge(after, "guard_check")
    builder.add_conditional_edges(
        "guard_check",
        route_after_check,
        {"approve": "guard_approve", "execute": "guard_execute", "done": then},
    )
    builder.add_edge("guard_approve", "guard_execute")
    builder.add_edge("guard_execute", then)


def build_guard_graph(guard: Guard, checkpointer: BaseCheckpointSaver[str] | None) -> CompiledStateGraph:
    builder = StateGraph(GuardState)
    add_guard(builder, guard, after=START, then=END)
    return builder.compile(checkpointer=checkpointer)
