"""A door that may only propose (MCP): even an action the policy allows outright waits for a person,
and the approval that counts is a qualified one (role, not the proposer, current, this exact action)."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from policies.evaluate import evaluate
from policies.guard_graph import build_guard_graph
from policies.loader import parse_policy
from policies.model import ApprovalRequirement
from tests.evals.sandbox.kube_world import NS
from tests.policies.factories import INJECTIONS, NOW, approval, request, state
from tests.policies.guard_fixtures import World
from tests.policies.test_guard import approve, image

DOOR = ApprovalRequirement(roles=["approver"], min_approvers=1, allow_self_approval=False)
ALLOW_ALL = """
version: 1
mode: enforce
rules:
  - name: allow-everything
    kinds: ["*"]
    effect: allow
limits:
  per_target: {max_actions: 100, window: 1h}
"""
DRY_RUN = ALLOW_ALL.replace("mode: enforce", "mode: dry_run")
APPROVE_SCALES = """
version: 1
mode: enforce
rules:
  - name: scales
    kinds: [scale]
    effect: require_approval
    approval: {roles: [sre], min_approvers: 1}
"""
SCALE = request("scale", params={"replicas": 3}, requested_by="rick")


def test_an_allowed_action_from_a_door_waits_for_an_approver() -> None:
    policy = parse_policy(ALLOW_ALL, "allow.yaml")
    assert evaluate(SCALE, policy, state(), [], NOW).outcome == "allow"
    waiting = evaluate(SCALE, policy, state(), [], NOW, door_approval=DOOR)
    assert waiting.outcome == "require_approval"
    assert [m.rule for m in waiting.matched if m.effect == "require_approval"] == ["door"]
    assert [s.source for s in waiting.approvals] == ["door"]
    approver = approval(SCALE, approver="carol", roles=("approver",))
    assert evaluate(SCALE, policy, state(), [approver], NOW, door_approval=DOOR).outcome == "allow"


def test_the_proposer_or_someone_without_the_approver_role_does_not_count() -> None:
    policy = parse_policy(ALLOW_ALL, "allow.yaml")
    own = approval(SCALE, approver="rick", roles=("approver",))
    team_only = approval(SCALE, approver="dave", roles=("sre",))
    for given in ([own], [team_only], [own, team_only]):
        decision = evaluate(SCALE, policy, state(), given, NOW, door_approval=DOOR)
        assert decision.outcome == "require_approval", given
    refused = approval(SCALE, approver="carol", roles=("approver",), verdict="reject")
    assert evaluate(SCALE, policy, state(), [refused], NOW, door_approval=DOOR).outcome == "deny"


def test_the_door_only_tightens() -> None:
    protected = request("rollout_restart", "kube-system/deployment/coredns", requested_by="rick")
    denied = evaluate(protected, parse_policy(ALLOW_ALL, "a.yaml"), state(), [], NOW, door_approval=DOOR)
    assert denied.outcome == "deny" and all(m.rule != "door" for m in denied.matched)
    ruled = evaluate(SCALE, parse_policy(APPROVE_SCALES, "s.yaml"), state(), [], NOW, door_approval=DOOR)
    assert ruled.outcome == "require_approval" and [s.source for s in ruled.approvals] == ["rules/scales"]
    dry = evaluate(SCALE, parse_policy(DRY_RUN, "d.yaml"), state(), [], NOW, door_approval=DOOR)
    assert dry.outcome == "dry_run_only" and dry.enforce_outcome == "require_approval"
    for text in INJECTIONS:  # the proposer's words never reach the decision
        worded = SCALE.model_copy(update={"reason": text, "evidence": [text[:60]]})
        again = evaluate(worded, parse_policy(ALLOW_ALL, "a.yaml"), state(), [], NOW, door_approval=DOOR)
        assert (
            again.outcome == "require_approval"
            and again.matched
            == evaluate(
                SCALE, parse_policy(ALLOW_ALL, "a.yaml"), state(), [], NOW, door_approval=DOOR
            ).matched
        )


def test_the_guard_pauses_a_door_proposal_the_policy_allows_and_executes_it_once_approved(
    world: World,
) -> None:
    rollback = request("rollback", f"{NS}/deployment/checkout", requested_by="rick", incident_id="inc-door")
    graph = build_guard_graph(world.guard(parse_policy(ALLOW_ALL, "allow.yaml")), InMemorySaver())
    config = {"configurable": {"thread_id": "door"}}
    out = graph.invoke({"action": rollback, "door_approval": DOOR}, config)
    (pause,) = out["__interrupt__"]
    assert pause.value["decision"]["outcome"] == "require_approval"
    assert image(world) == "shop/checkout:v2", "nothing is sent before a person approves"
    out = graph.invoke(Command(resume=[approve(rollback, approver="rick", roles=("approver",))]), config)
    assert out["guard"].stage == "not_approved" and image(world) == "shop/checkout:v2"

    again = build_guard_graph(world.guard(parse_policy(ALLOW_ALL, "allow.yaml")), InMemorySaver())
    other = {"configurable": {"thread_id": "door-2"}}
    again.invoke({"action": rollback, "door_approval": DOOR}, other)
    out = again.invoke(Command(resume=[approve(rollback, approver="carol", roles=("approver",))]), other)
    assert out["guard"].stage == "executed" and image(world) == "shop/checkout:v1"
    sends = [
        r for r in world.audit().show(action_id=rollback.action_id) if r.payload.get("phase") == "sending"
    ]
    assert len(sends) == 1
