"""Run a planner through the real investigation graph (no guard) against a ToolContext, for tests
that look at what the planner concluded."""

from __future__ import annotations

import time
from dataclasses import dataclass

from langgraph.checkpoint.memory import InMemorySaver

from agent.diagnosis import Diagnosis
from agent.graph import build_graph, view_of
from agent.planner import Planner
from agent.runbook import load_runbook
from agent.state import PlannerView
from evals.triage import scenario_incident  # noqa: F401 (re-exported for the tests)
from tools.context import ToolContext
from tools.registry import Registry, default_registry


@dataclass
class Triage:
    diagnosis: Diagnosis
    view: PlannerView
    tool_calls: int
    rounds: int
    wall_s: float


def run_triage(
    planner: Planner, incident: object, ctx: ToolContext, registry: Registry | None = None
) -> Triage:
    graph = build_graph(
        planner, registry or default_registry(), None, InMemorySaver(), context=ctx, runbook=load_runbook()
    )
    started = time.perf_counter()
    state = graph.invoke({"incident": incident}, {"configurable": {"thread_id": "test"}})
    usage = state["usage"]
    rounds = len({step.call.id.split("-")[0] for step in state["steps"]})
    return Triage(state["diagnosis"], view_of(state), usage.tool_calls, rounds, time.perf_counter() - started)
