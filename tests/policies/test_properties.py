"""Property-based tests: over random requests, policies, target states and approval sequences,
nothing is `allow` without a rule that allows it or a matching, current, qualified, non-self
approval; free text never changes a decision; missing facts never allow."""

from __future__ import annotations

import fnmatch
from datetime import timedelta
from typing import TypeVar

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from policies.approvals import Approval
from policies.evaluate import evaluate
from policies.model import ALWAYS_PROTECTED, ApprovalRequirement, Policy
from policies.target_state import RecentAction, Revision, TargetState
from tests.policies.factories import INJECTIONS, NOW
from tools.action_request import ACTION_KINDS, KIND_RESOURCE, ActionRequest

PEOPLE = ["alice", "bob", "carol", "Alice", "agent:rules"]
ROLES = ["sre", "oncall", "developer"]
NAMESPACES = ["boutique", "boutique", "shop-eu", "kube-system", "payments", "istio-system"]
T = TypeVar("T")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=40))


@st.composite
def requests(draw: st.DrawFn) -> ActionRequest:
    kind = draw(st.sampled_from(ACTION_KINDS))
    name = draw(st.sampled_from(["cart", "checkout", "db-0", "a"]))
    resource = KIND_RESOURCE[kind]
    target = (
        f"node/{name}" if resource == "node" else f"{draw(st.sampled_from(NAMESPACES))}/{resource}/{name}"
    )
    params: dict[str, int] = {}
    if kind == "scale":
        params = {"replicas": draw(st.integers(0, 40))}
    elif kind == "rollback" and draw(st.booleans()):
        params = {"to_revision": draw(st.integers(1, 5))}
    return ActionRequest(
        kind=kind,
        target=target,
        params=params,
        incident_id=draw(st.sampled_from(["inc-1", "inc-2"])),
        requested_by=draw(st.sampled_from(PEOPLE)),
        reason=draw(texts),
        evidence=draw(st.lists(texts, max_size=2)),
    )


requirements = st.fixed_dictionaries(
    {
        "roles": st.lists(st.sampled_from(ROLES), min_size=1, max_size=2),
        "min_approvers": st.integers(1, 2),
        "allow_self_approval": st.booleans(),
        "max_age": st.sampled_from(["10m", "1h", "1d"]),
    }
)


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict[str, object]:
    effect = draw(st.sampled_from(["allow", "require_approval", "require_approval", "dry_run_only", "deny"]))
    rule: dict[str, object] = {
        "name": f"r{index}",
        "kinds": draw(st.lists(st.sampled_from([*ACTION_KINDS, "*", "*", "*"]), min_size=1, max_size=3)),
        "effect": effect,
    }
    if effect == "require_approval":
        rule["approval"] = draw(requirements)
    if draw(st.booleans()):
        rule["namespaces"] = draw(
            st.lists(st.sampled_from(["*", "shop-*", "boutique", "kube-*"]), min_size=1)
        )
    if draw(st.booleans()):
        rule["selector"] = {"matchLabels": {"tier": draw(st.sampled_from(["web", "db"]))}}
    return rule


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    count = draw(st.integers(1, 4))
    freezes = []
    if draw(st.booleans()):
        start = NOW + timedelta(minutes=draw(st.integers(-120, 60)))
        freeze: dict[str, object] = {"name": "f", "start": start, "end": start + timedelta(hours=1)}
        if draw(st.booleans()):
            freeze |= {"effect": "require_approval", "approval": draw(requirements)}
        freezes.append(freeze)
    return Policy.model_validate(
        {
            "mode": draw(st.sampled_from(["dry_run", "enforce", "enforce"])),
            "protected_namespaces": draw(st.lists(st.sampled_from(["payments", "*-system"]), max_size=2)),
            "default": draw(st.sampled_from(["deny", "dry_run_only"])),
            "rules": [draw(rules(i)) for i in range(count)],
            "limits": {
                "scale": {"max_replicas": draw(st.integers(1, 40))},
                "per_target": {"max_actions": draw(st.integers(0, 4))},
            },
            "freezes": freezes,
        }
    )


@st.composite
def target_states(draw: st.DrawFn, req: ActionRequest) -> TargetState:
    def maybe(strategy: st.SearchStrategy[T]) -> T | None:  # mostly known: unknown facts deny early
        return None if draw(st.integers(0, 5)) == 0 else draw(strategy)

    recent = maybe(st.lists(st.builds(
        RecentAction, action_id=st.just("act-x"), kind=st.sampled_from(ACTION_KINDS), target=st.just(req.target),
        at=st.integers(-300, 10).map(lambda m: NOW + timedelta(minutes=m))), max_size=3))  # fmt: skip
    revisions = maybe(st.lists(st.builds(
        Revision, revision=st.integers(1, 6), template=st.sampled_from(["v1", "v2", "v3"]),
        became_current=st.one_of(st.none(), st.integers(-3000, 10).map(lambda m: NOW + timedelta(minutes=m)))),
        max_size=5, unique_by=lambda r: r.revision))  # fmt: skip
    return TargetState(
        labels=maybe(st.dictionaries(st.just("tier"), st.sampled_from(["web", "db"]))),
        replicas=maybe(st.integers(0, 30)),
        node_schedulable=maybe(st.booleans()),
        schedulable_nodes=maybe(st.integers(0, 5)),
        cordoned_nodes=maybe(st.integers(0, 3)),
        recent_actions=recent,
        revisions=revisions,
        action_template=maybe(st.sampled_from(["v1", "v2", "v3"])),
    )


@st.composite
def approval_lists(draw: st.DrawFn, req: ActionRequest) -> list[Approval]:
    out = []
    for _ in range(draw(st.integers(0, 5))):
        action = req if draw(st.integers(0, 4)) else draw(requests())
        at = NOW + timedelta(minutes=draw(st.integers(-90, 2)))
        out.append(
            Approval(
                approver=draw(st.sampled_from([*PEOPLE, req.requested_by])),
                roles=draw(st.lists(st.sampled_from(ROLES), max_size=2)),
                verdict=draw(st.sampled_from(["approve", "approve", "approve", "reject"])),
                action=action.exact(),
                approved_at=at,
                expires_at=at + timedelta(minutes=draw(st.integers(1, 180))),
                channel="slack",
                comment=draw(texts),
            )
        )
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ActionRequest, Policy, TargetState, list[Approval]]:
    req = draw(requests())
    return req, draw(policies()), draw(target_states(req)), draw(approval_lists(req))


@st.composite
def approval_scenarios(draw: st.DrawFn) -> tuple[ActionRequest, Policy, TargetState, list[Approval]]:
    """Where only the approvals decide: an enforcing require-approval policy and a harmless target."""
    req = draw(requests().filter(lambda r: r.namespace in (None, "boutique", "shop-eu")))
    policy = Policy.model_validate(
        {
            "mode": "enforce",
            "rules": [
                {"name": "all", "kinds": ["*"], "effect": "require_approval", "approval": draw(requirements)}
            ],
            "limits": {"scale": {"min_replicas": 0, "max_factor_down": 100, "max_factor_up": 100}},
        }
    )
    replicas = req.params.get("replicas")
    state = TargetState(
        labels={},
        replicas=max(1, replicas) if isinstance(replicas, int) else 3,
        recent_actions=[],
        schedulable_nodes=5,
        cordoned_nodes=0,
    )
    return req, policy, state, draw(approval_lists(req))


def approval_counts(a: Approval, req: ActionRequest, need: ApprovalRequirement) -> bool:
    """An independent statement of invariant 4, not the code under test."""
    return (
        a.verdict == "approve"
        and a.action.kind == req.kind
        and a.action.target == req.target
        and a.action.params == req.params
        and a.action.incident_id == req.incident_id
        and a.approved_at <= NOW < a.expires_at
        and NOW - a.approved_at <= need.max_age
        and bool(set(a.roles) & set(need.roles))
        and (need.allow_self_approval or a.approver.casefold() != req.requested_by.casefold())
    )


def satisfied(need: ApprovalRequirement, approvals: list[Approval], req: ActionRequest) -> bool:
    people = {a.approver.casefold() for a in approvals if approval_counts(a, req, need)}
    return len(people) >= need.min_approvers


@SETTINGS
@given(st.one_of(scenarios(), approval_scenarios()))
def test_allow_only_by_an_allow_rule_or_sufficient_approvals(
    case: tuple[ActionRequest, Policy, TargetState, list[Approval]],
) -> None:
    req, policy, target_state, approvals = case
    decision = evaluate(req, policy, target_state, approvals, NOW)
    if decision.outcome != "allow":
        return
    assert policy.mode == "enforce"
    namespace = req.target_ref.namespace
    assert namespace is None or not any(
        fnmatch.fnmatchcase(namespace, p) for p in (*ALWAYS_PROTECTED, *policy.protected_namespaces)
    )
    assert target_state.recent_actions is not None
    rule_names = [m.rule.removeprefix("rules/") for m in decision.matched if m.rule.startswith("rules/")]
    assert len(rule_names) == 1, decision.matched
    rule = next(r for r in policy.rules if r.name == rule_names[0])
    assert rule.effect in ("allow", "require_approval")
    needs = [rule.approval] if rule.approval is not None else []
    for freeze in policy.freezes:
        if freeze.applies_to(req.kind, namespace) and freeze.active_at(NOW):
            assert freeze.effect == "require_approval" and freeze.approval is not None
            needs.append(freeze.approval)
    assert all(satisfied(need, approvals, req) for need in needs)


@SETTINGS
@given(st.one_of(scenarios(), approval_scenarios()), st.sampled_from(INJECTIONS))
def test_free_text_never_changes_a_decision(
    case: tuple[ActionRequest, Policy, TargetState, list[Approval]], text: str
) -> None:
    req, policy, target_state, approvals = case
    before = evaluate(req, policy, target_state, approvals, NOW)
    injected = req.model_copy(update={"reason": text, "evidence": [text, f"ev:{text}"]})
    commented = [a.model_copy(update={"comment": text}) for a in approvals]
    assert evaluate(injected, policy, target_state, commented, NOW) == before


@SETTINGS
@given(scenarios())
def test_dry_run_never_allows_and_unknown_history_always_denies(
    case: tuple[ActionRequest, Policy, TargetState, list[Approval]],
) -> None:
    req, policy, target_state, approvals = case
    decision = evaluate(req, policy, target_state, approvals, NOW)
    if policy.mode == "dry_run":
        assert decision.outcome in ("deny", "dry_run_only")
    if target_state.recent_actions is None:
        assert decision.outcome == "deny"
    if req.kind == "rollback" and (target_state.revisions is None or target_state.action_template is None):
        assert decision.outcome == "deny"
    assert decision == evaluate(req, policy, target_state, approvals, NOW)  # pure: same inputs, same answer


def test_the_generators_reach_allow_through_approvals() -> None:
    """Guard against vacuous properties: the search space contains approval-granted executions."""

    def allowed_by_approval(case: tuple[ActionRequest, Policy, TargetState, list[Approval]]) -> bool:
        decision = evaluate(*case, now=NOW)
        return decision.outcome == "allow" and bool(decision.approvals)

    _, policy, _, approvals = find(
        approval_scenarios(),
        allowed_by_approval,
        settings=settings(max_examples=500, deadline=None, database=None, derandomize=True),
    )
    assert policy.mode == "enforce" and approvals
