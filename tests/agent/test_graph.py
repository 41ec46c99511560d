"""The investigation graph with a scripted planner, real tools through the registry, and the guard
against the Kubernetes emulator: investigate → diagnose → propose → dry-run → approval → execute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.graph import build_graph
from agent.incident import Incident
from agent.runbook import load_runbook
from agent.state import Budget
from policies.approvals import Approval
from tests.agent.scripted import ScriptedPlanner, error_ratio, revisions
from tests.evals.sandbox.kube_world import NS
from tests.policies.guard_fixtures import World, clock, enforce_policy
from tools.context import ToolContext
from tools.registry import Registry

AS_OF = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
INCIDENT = Incident(
    id="inc-1", as_of=AS_OF, source="alert", title="checkout errors", namespace=NS, services=["checkout"]
)


def graph_for(world: World, planner: ScriptedPlanner, policy=None):
    guard = world.guard(policy or enforce_policy())
    return build_graph(
        planner,
        Registry([error_ratio, revisions]),
        guard,
        InMemorySaver(),
        context=ToolContext(as_of=AS_OF),
        runbook=load_runbook(),
    )


def test_full_investigation_pauses_for_approval_then_executes(world: World) -> None:
    graph = graph_for(world, ScriptedPlanner())
    config = {"configurable": {"thread_id": INCIDENT.id}}
    events = [
        e
        for mode, e in graph.stream({"incident": INCIDENT}, config, stream_mode=["custom", "updates"])
        if mode == "custom"
    ]
    assert sorted(e["tool"] for e in events if e["event"] == "tool") == ["error_ratio", "revisions"]
    state = graph.get_state(config)
    assert state.next == ("guard_approve",)
    values = state.values
    assert values["diagnosis"].top.entity == "checkout"
    assert any("test:never-seen" in d for d in values["diagnosis"].dropped), (
        "hallucinated evidence is dropped"
    )
    action = values["proposal"].action
    assert (action.kind, action.target) == ("rollback", f"{NS}/deployment/checkout")
    assert values["guard"].changes == ["container server image: shop/checkout:v2 → shop/checkout:v1"]

    now = clock()
    approval = Approval(
        approver="alice",
        roles=["sre"],
        action=action.exact(),
        approved_at=now,
        expires_at=now + timedelta(minutes=5),
        channel="cli",
    )
    final = graph.invoke(Command(resume=[approval.model_dump(mode="json")]), config)
    assert final["guard"].executed and final["guard"].verified
    image = world.apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image
    assert image == "shop/checkout:v1"
    assert final["usage"].tool_calls == 2 and final["usage"].steps == 2


def test_below_the_confidence_bar_nothing_is_proposed(world: World) -> None:
    graph = graph_for(world, ScriptedPlanner(confidence=0.3))
    final = graph.invoke({"incident": INCIDENT}, {"configurable": {"thread_id": "low"}})
    assert final["proposal"].action is None
    assert "below the runbook's threshold" in final["proposal"].reason
    assert final["guard"] is None
    assert final["finished"]


def test_budgets_are_enforced_and_reported(world: World) -> None:
    graph = graph_for(world, ScriptedPlanner(rounds=100))
    budget = Budget(max_steps=10, max_tool_calls=5)
    final = graph.invoke({"incident": INCIDENT, "budget": budget}, {"configurable": {"thread_id": "b"}})
    usage = final["usage"]
    assert usage.tool_calls == 5
    assert any(e.startswith("tool calls: 5") for e in usage.exhausted), usage.exhausted
    steps_budget = Budget(max_steps=2, max_tool_calls=50)
    final = graph.invoke({"incident": INCIDENT, "budget": steps_budget}, {"configurable": {"thread_id": "s"}})
    assert final["usage"].steps == 2
    assert any(e.startswith("steps: 2") for e in final["usage"].exhausted)


def test_a_redelivered_alert_does_not_start_a_second_investigation(world: World) -> None:
    from agent.assemble import Agent

    planner = ScriptedPlanner(confidence=0.3)
    agent = Agent(graph_for(world, planner), planner)
    events: list[dict] = []
    agent.investigate(INCIDENT, Budget(), events.append)
    first = agent.values(INCIDENT.id)
    agent.investigate(INCIDENT, Budget(), events.append)
    assert events[-1] == {"event": "already_investigated", "incident": INCIDENT.id}
    assert agent.values(INCIDENT.id)["steps"] == first["steps"], "no tool ran twice"


def test_an_investigation_handed_to_another_guard_is_judged_there_without_investigating_again(
    world: World,
) -> None:
    from agent.assemble import Agent
    from policies.loader import parse_policy
    from tests.policies.guard_fixtures import ENFORCE

    dry_run = parse_policy(ENFORCE.replace("mode: enforce", "mode: dry_run"), "dry-run.yaml")
    first_planner, second_planner = ScriptedPlanner(), ScriptedPlanner()
    first = Agent(graph_for(world, first_planner, dry_run), first_planner)
    first.investigate(INCIDENT, Budget(), lambda event: None)
    assert first.values(INCIDENT.id)["guard"].stage == "dry_run_only"
    handed = first.investigation(INCIDENT.id)
    assert handed is not None and handed.get("guard") is None, (
        "as the investigation left it, before the guard"
    )

    second = Agent(graph_for(world, second_planner), second_planner)
    events: list[dict] = []
    assert second.guard_investigation(handed, events.append) == INCIDENT
    assert not any(e["event"] == "tool" for e in events), "no tool ran again"
    assert second.pending_approval(INCIDENT.id) is not None, "the enforcing guard asks for approval"
    values = second.values(INCIDENT.id)
    assert values["steps"] == handed["steps"] and values["proposal"] == handed["proposal"]
    with pytest.raises(ValueError, match="already has an investigation"):
        second.guard_investigation(handed, events.append)
    with pytest.raises(ValueError, match="no proposal"):
        second.guard_investigation({"incident": INCIDENT}, events.append)
    assert Agent(graph_for(world, second_planner), second_planner).investigation("never-seen") is None
