"""Run a planner through the real investigation graph (no guard) against a ToolContext, for tests
that look at what the planner concluded and at the report made of it. `shipped_triage` runs the rules
planner on a shipped scenario once per session, for the several modules that check it."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass

from langgraph.checkpoint.memory import InMemorySaver

from agent.diagnosis import Diagnosis
from agent.graph import build_graph, view_of
from agent.planner import Planner
from agent.planners import RulesPlanner
from agent.report import Report, build_report
from agent.runbook import load_runbook
from agent.state import PlannerView
from evals.scenario import Scenario
from evals.triage import scenario_incident
from tests.sandbox_fixture import SandboxPool, tool_context
from tools.context import ToolContext
from tools.registry import Registry, default_registry


@dataclass
class Triage:
    diagnosis: Diagnosis
    view: PlannerView
    tool_calls: int
    rounds: int
    wall_s: float
    report: Report


def run_triage(
    planner: Planner, incident: object, ctx: ToolContext, registry: Registry | None = None
) -> Triage:
    """The investigation of `incident` by `planner`, through the graph, and its report (no chart)."""
    graph = build_graph(
        planner, registry or default_registry(), None, InMemorySaver(), context=ctx, runbook=load_runbook()
    )
    started = time.perf_counter()
    state = graph.invoke({"incident": incident}, {"configurable": {"thread_id": "test"}})
    usage = state["usage"]
    rounds = len({step.call.id.split("-")[0] for step in state["steps"]})
    wall_s = time.perf_counter() - started
    report = build_report(state, planner=planner.name)
    return Triage(state["diagnosis"], view_of(state), usage.tool_calls, rounds, wall_s, report)


_shipped: dict[str, tuple[Scenario, Triage]] = {}


def shipped_triage(scenario_id: str, pool: SandboxPool) -> tuple[Scenario, Triage]:
    """The rules planner's triage of a shipped scenario on its sandbox, made once per session."""
    if scenario_id not in _shipped:
        scenario, info = pool.get(scenario_id)
        with ExitStack() as stack:
            ctx = tool_context(info, scenario.end_utc, stack)
            _shipped[scenario_id] = (scenario, run_triage(RulesPlanner(), scenario_incident(scenario), ctx))
    return _shipped[scenario_id]
